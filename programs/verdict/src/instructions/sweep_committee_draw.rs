//! `sweep_committee_draw`: permissionless, in batches. Each entrant passed
//! (remaining accounts, writable) is ranked by the seed and kept if among
//! the best so far; the ranking does not depend on who sweeps or in which
//! order. The batch that sweeps the last entrant seats the committee, so
//! no entrant can be left out. An entrant no longer eligible (unstaked,
//! liquidated, below the score) is swept but not ranked; its weight is the
//! smaller of its stake at entry and now.

use anchor_lang::prelude::*;

use crate::constants::{COMMITTEE_ADDRESS, CONFIG_ADDRESS};
use crate::errors::VerdictError;
use crate::events::{emit_event, CommitteeDrawAborted, CommitteeDrawSwept, CommitteeRotated};
use crate::state::{Candidate, Committee, Config, DrawPhase, Node};

#[derive(Accounts)]
pub struct SweepCommitteeDraw<'info> {
    #[account(address = CONFIG_ADDRESS)]
    pub config: AccountLoader<'info, Config>,
    #[account(mut, address = COMMITTEE_ADDRESS)]
    pub committee: AccountLoader<'info, Committee>,
}

impl SweepCommitteeDraw<'_> {
    pub fn validate(&self) -> Result<()> {
        require!(
            self.committee.load()?.draw.phase() == DrawPhase::Sweeping,
            VerdictError::WrongDrawPhase
        );
        Ok(())
    }
}

pub fn handler<'info>(ctx: Context<'info, SweepCommitteeDraw<'info>>) -> Result<()> {
    let config = ctx.accounts.config.load()?;
    let params = &config.params;
    let mut committee = ctx.accounts.committee.load_mut()?;
    let round = committee.draw.round;
    for info in ctx.remaining_accounts {
        require!(info.is_writable, VerdictError::NotEntered);
        let loader = AccountLoader::<Node>::try_from(info)?;
        // Written in place: the same entrant twice in one batch is refused.
        let mut node = loader.load_mut()?;
        require!(node.draw_entry.entered(round), VerdictError::NotEntered);
        require!(!node.draw_entry.swept(round), VerdictError::AlreadySwept);
        node.draw_entry.swept_round = round;
        if node.is_eligible_validator(params) {
            let mut entry = node.draw_entry;
            entry.stake = entry.stake.min(node.active_stake()?);
            committee.draw.consider(&Candidate {
                node: *info.key,
                signing_key: node.signing_key,
                entry,
            });
        }
        committee.draw.swept = committee
            .draw
            .swept
            .checked_add(1)
            .ok_or(VerdictError::MathOverflow)?;
    }
    emit_event(&CommitteeDrawSwept {
        round,
        swept: committee.draw.swept,
        entrants: committee.draw.entrants,
    });
    if !committee.draw.all_swept() {
        return Ok(());
    }
    let eligible = committee.draw.leader_count;
    if committee.seat_draw(Clock::get()?.unix_timestamp)? {
        emit_event(&CommitteeRotated {
            epoch: committee.epoch,
            members: committee.members().to_vec(),
            quorum: committee.quorum,
            strategy: committee.strategy(),
        });
    } else {
        emit_event(&CommitteeDrawAborted { round, eligible });
    }
    Ok(())
}
