//! `close_node`: an empty node (nothing staked, delegated or unbonding) is
//! closed and its rent returned to the operator. A node entered in a draw
//! still taking entries withdraws from it; once entries are closed it waits
//! for the draw to end, or the draw could never sweep every entrant.

use anchor_lang::prelude::*;

use crate::constants::{COMMITTEE_ADDRESS, CONFIG_ADDRESS};
use crate::errors::VerdictError;
use crate::events::{emit_event, NodeClosed};
use crate::math::sub;
use crate::state::{Committee, Config, DrawPhase, Node};

#[derive(Accounts)]
pub struct CloseNode<'info> {
    #[account(mut)]
    pub operator: Signer<'info>,
    #[account(mut, address = CONFIG_ADDRESS)]
    pub config: AccountLoader<'info, Config>,
    /// The signer's own Node: `has_one` binds it (a Node exists only at its PDA).
    #[account(
        mut,
        close = operator,
        has_one = operator @ VerdictError::Unauthorized,
    )]
    pub node: AccountLoader<'info, Node>,
    #[account(mut, address = COMMITTEE_ADDRESS)]
    pub committee: AccountLoader<'info, Committee>,
}

impl CloseNode<'_> {
    pub fn validate(&self) -> Result<()> {
        let node = self.node.load()?;
        require!(node.is_empty(), VerdictError::NodeNotEmpty);
        require!(node.can_close(), VerdictError::NodeBusy);
        let committee = self.committee.load()?;
        let draw = &committee.draw;
        require!(
            !node.draw_entry.entered(draw.round) || draw.phase() == DrawPhase::Entry,
            VerdictError::DrawPending
        );
        Ok(())
    }
}

pub fn handler(ctx: Context<CloseNode>) -> Result<()> {
    let mut config = ctx.accounts.config.load_mut()?;
    let mut node = ctx.accounts.node.load_mut()?;
    node.sync_activity(&mut config)?;
    let mut committee = ctx.accounts.committee.load_mut()?;
    let draw = &mut committee.draw;
    if node.draw_entry.entered(draw.round) {
        draw.entrants = sub(draw.entrants as u64, 1)? as u32;
    }
    config.nodes_registered = sub(config.nodes_registered, 1)?;
    emit_event(&NodeClosed {
        node: ctx.accounts.node.key(),
        operator: node.operator,
    });
    Ok(())
}
