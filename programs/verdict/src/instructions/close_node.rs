//! `close_node`: an empty node (nothing staked, delegated or unbonding) is
//! closed and its rent returned to the operator.

use anchor_lang::prelude::*;

use crate::constants::{CONFIG_SEED, NODE_SEED};
use crate::errors::VerdictError;
use crate::events::{emit_event, NodeClosed};
use crate::math::sub;
use crate::state::{Config, Node};

#[derive(Accounts)]
pub struct CloseNode<'info> {
    #[account(mut)]
    pub operator: Signer<'info>,
    #[account(mut, seeds = [CONFIG_SEED], bump = config.bump)]
    pub config: Box<Account<'info, Config>>,
    #[account(
        mut,
        close = operator,
        seeds = [NODE_SEED, operator.key().as_ref()],
        bump = node.bump,
        has_one = operator @ VerdictError::Unauthorized,
    )]
    pub node: Box<Account<'info, Node>>,
}

impl CloseNode<'_> {
    pub fn validate(&self) -> Result<()> {
        require!(self.node.is_empty(), VerdictError::NodeNotEmpty);
        require!(self.node.can_close(), VerdictError::NodeBusy);
        Ok(())
    }
}

pub fn handler(ctx: Context<CloseNode>) -> Result<()> {
    let config = &mut ctx.accounts.config;
    let node = &mut ctx.accounts.node;
    node.sync_activity(config)?;
    config.nodes_registered = sub(config.nodes_registered, 1)?;
    emit_event(&NodeClosed {
        node: node.key(),
        operator: node.operator,
    });
    Ok(())
}
