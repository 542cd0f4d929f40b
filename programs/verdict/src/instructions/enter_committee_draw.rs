//! `enter_committee_draw`: a validator enters the next committee draw,
//! signed by its operator or its signing key (the keeper's hot key). Entry
//! is how the draw learns its candidates without any transaction naming
//! them all; only the validator itself can leave itself out. Its stake,
//! score and performance are frozen here, before the seed exists.

use anchor_lang::prelude::*;

use crate::constants::{COMMITTEE_ADDRESS, CONFIG_ADDRESS};
use crate::errors::VerdictError;
use crate::events::{emit_event, CommitteeDrawEntered};
use crate::math::add;
use crate::state::{Committee, Config, DrawEntry, DrawPhase, Node};

#[derive(Accounts)]
pub struct EnterCommitteeDraw<'info> {
    /// The node's operator or its signing key.
    pub signer: Signer<'info>,
    #[account(address = CONFIG_ADDRESS)]
    pub config: AccountLoader<'info, Config>,
    #[account(mut, address = COMMITTEE_ADDRESS)]
    pub committee: AccountLoader<'info, Committee>,
    /// Any Node: only `register_node` creates one, at its PDA, so the
    /// loader's owner and discriminator checks bind it (no seeds to derive).
    #[account(mut)]
    pub node: AccountLoader<'info, Node>,
}

impl EnterCommitteeDraw<'_> {
    pub fn validate(&self) -> Result<()> {
        let node = self.node.load()?;
        require!(
            node.is_run_by(&self.signer.key()),
            VerdictError::Unauthorized
        );
        let committee = self.committee.load()?;
        let draw = &committee.draw;
        require!(
            draw.phase() == DrawPhase::Entry,
            VerdictError::WrongDrawPhase
        );
        require!(
            !node.draw_entry.entered(draw.round),
            VerdictError::AlreadyEntered
        );
        require!(
            node.is_eligible_validator(&self.config.load()?.params),
            VerdictError::ValidatorNotEligible
        );
        Ok(())
    }
}

pub fn handler(ctx: Context<EnterCommitteeDraw>) -> Result<()> {
    let mut committee = ctx.accounts.committee.load_mut()?;
    let draw = &mut committee.draw;
    let node_key = ctx.accounts.node.key();
    let mut node = ctx.accounts.node.load_mut()?;
    node.draw_entry = DrawEntry {
        round: draw.round,
        swept_round: 0,
        stake: node.active_stake()?,
        score: node.validator_score,
        performance_bps: node.performance_bps(),
        ..Default::default()
    };
    draw.entrants = add(draw.entrants as u64, 1)? as u32;
    emit_event(&CommitteeDrawEntered {
        round: draw.round,
        node: node_key,
        stake: node.draw_entry.stake,
        score: node.draw_entry.score,
        entrants: draw.entrants,
    });
    Ok(())
}
