//! `request_committee_draw`: permissionless once the rotation is due. Closes
//! entry and names a slot `draw_delay_slots` ahead whose hash will seed the
//! draw: nobody, the cranker included, can know it when entries close.
//! Refused inside a CPI, so no program can wrap the request and revert it.

use anchor_lang::prelude::*;

use crate::constants::{COMMITTEE_ADDRESS, CONFIG_ADDRESS, MAX_COMMITTEE_SIZE};
use crate::errors::VerdictError;
use crate::events::{emit_event, CommitteeDrawRequested};
use crate::instructions_sysvar;
use crate::state::{Committee, Config, DrawPhase};

/// The SlotHashes sysvar (most recent slot first).
pub const SLOT_HASHES_ID: Pubkey = pubkey!("SysvarS1otHashes111111111111111111111111111");

#[derive(Accounts)]
pub struct RequestCommitteeDraw<'info> {
    #[account(address = CONFIG_ADDRESS)]
    pub config: AccountLoader<'info, Config>,
    #[account(mut, address = COMMITTEE_ADDRESS)]
    pub committee: AccountLoader<'info, Committee>,
    /// CHECK: the instructions sysvar, checked by address: the request must
    /// be the transaction's own instruction, not a CPI.
    #[account(address = anchor_lang::compat::solana_instructions_sysvar::ID @ VerdictError::WrongSysvar)]
    pub instructions: UncheckedAccount<'info>,
}

/// Refuses to run inside a CPI: a program calling the draw could revert
/// whenever the outcome does not suit it, and so grind the committee.
pub fn require_top_level(instructions: &AccountInfo) -> Result<()> {
    let sysvar = instructions.try_borrow_data()?;
    let current = instructions_sysvar::current_index(&sysvar)?;
    let top = instructions_sysvar::instruction_at(&sysvar, current)?;
    require!(
        top.program_id == crate::ID.as_ref(),
        VerdictError::CpiNotAllowed
    );
    Ok(())
}

impl RequestCommitteeDraw<'_> {
    pub fn validate(&self) -> Result<()> {
        require_top_level(&self.instructions)?;
        let config = self.config.load()?;
        let params = &config.params;
        let committee = self.committee.load()?;
        require!(
            committee.draw.phase() == DrawPhase::Entry,
            VerdictError::DrawPending
        );
        let now = Clock::get()?.unix_timestamp;
        require!(
            committee.rotation_due(now, params.committee_rotation_secs),
            VerdictError::RotationNotDue
        );
        require!(
            committee.draw.entrants >= params.committee_quorum as u32,
            VerdictError::NotEnoughValidators
        );
        Ok(())
    }
}

pub fn handler(ctx: Context<RequestCommitteeDraw>) -> Result<()> {
    let config = ctx.accounts.config.load()?;
    let params = &config.params;
    let mut committee = ctx.accounts.committee.load_mut()?;
    let draw = &mut committee.draw;
    draw.set_phase(DrawPhase::Seeding);
    draw.target_slot = target_slot(Clock::get()?.slot, params.draw_delay_slots)?;
    draw.set_strategy(params.strategy());
    draw.seats = params.committee_size.min(MAX_COMMITTEE_SIZE);
    draw.quorum = params.committee_quorum;
    emit_event(&CommitteeDrawRequested {
        round: draw.round,
        target_slot: draw.target_slot,
        entrants: draw.entrants,
    });
    Ok(())
}

/// The slot whose hash will seed a draw requested at `now`.
pub fn target_slot(now: u64, delay: u16) -> Result<u64> {
    now.checked_add(delay as u64)
        .ok_or_else(|| VerdictError::MathOverflow.into())
}
