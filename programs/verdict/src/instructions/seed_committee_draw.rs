//! `seed_committee_draw`: permissionless once the target slot has passed.
//! Reads the hash of the first slot at or after the target (a skipped slot
//! falls through to the next) from SlotHashes. If that is no longer provable
//! (SlotHashes keeps 512 slots), the draw asks again for a new future slot:
//! a missed seed costs time, never a choice.

use anchor_lang::prelude::*;

use super::request_committee_draw::{target_slot, SLOT_HASHES_ID};
use crate::constants::{COMMITTEE_ADDRESS, CONFIG_ADDRESS};
use crate::errors::VerdictError;
use crate::events::{emit_event, CommitteeDrawRequested, CommitteeDrawSeeded};
use crate::state::{draw_seed, seed_slot, Committee, Config, DrawPhase, SeedSlot};

#[derive(Accounts)]
pub struct SeedCommitteeDraw<'info> {
    #[account(address = CONFIG_ADDRESS)]
    pub config: AccountLoader<'info, Config>,
    #[account(mut, address = COMMITTEE_ADDRESS)]
    pub committee: AccountLoader<'info, Committee>,
    /// CHECK: the SlotHashes sysvar, checked by address; read raw (it is large).
    #[account(address = SLOT_HASHES_ID @ VerdictError::WrongSysvar)]
    pub slot_hashes: UncheckedAccount<'info>,
}

impl SeedCommitteeDraw<'_> {
    pub fn validate(&self) -> Result<()> {
        let committee = self.committee.load()?;
        let draw = &committee.draw;
        require!(
            draw.phase() == DrawPhase::Seeding,
            VerdictError::WrongDrawPhase
        );
        require!(
            Clock::get()?.slot > draw.target_slot,
            VerdictError::DrawNotReady
        );
        Ok(())
    }
}

pub fn handler(ctx: Context<SeedCommitteeDraw>) -> Result<()> {
    let mut committee = ctx.accounts.committee.load_mut()?;
    let found = seed_slot(
        &ctx.accounts.slot_hashes.try_borrow_data()?,
        committee.draw.target_slot,
    )?;
    let draw = &mut committee.draw;
    match found {
        SeedSlot::Found(hash) => {
            draw.seed = draw_seed(&hash, draw.round);
            draw.set_phase(DrawPhase::Sweeping);
            emit_event(&CommitteeDrawSeeded {
                round: draw.round,
                seed: draw.seed,
            });
        }
        SeedSlot::NotYet => return err!(VerdictError::DrawNotReady),
        SeedSlot::Expired => {
            let delay = ctx.accounts.config.load()?.params.draw_delay_slots;
            draw.target_slot = target_slot(Clock::get()?.slot, delay)?;
            emit_event(&CommitteeDrawRequested {
                round: draw.round,
                target_slot: draw.target_slot,
                entrants: draw.entrants,
            });
        }
    }
    Ok(())
}
