//! `report_validator_timeout`: a committee quorum reports a member that
//! missed its deadline on a job (−5 score). One report per (member, job):
//! the report account's address makes a replay fail.

use anchor_lang::prelude::*;

use crate::attestation::{self, AttestationKind, ValidatorTimeoutBody};
use crate::constants::{COMMITTEE_ADDRESS, TIMEOUT_REPORT_SEED};
use crate::errors::VerdictError;
use crate::events::{emit_event, ValidatorScoreChanged};
use crate::math::add;
use crate::state::{Committee, Node, TimeoutReport};

/// Score a validator loses for a missed deadline.
pub const TIMEOUT_PENALTY: i16 = -5;

#[derive(Accounts)]
#[instruction(job: Pubkey)]
pub struct ReportValidatorTimeout<'info> {
    #[account(mut)]
    pub payer: Signer<'info>,
    #[account(address = COMMITTEE_ADDRESS)]
    pub committee: Box<Account<'info, Committee>>,
    #[account(mut)]
    pub validator: Box<Account<'info, Node>>,
    #[account(
        init,
        payer = payer,
        space = 8 + TimeoutReport::INIT_SPACE,
        seeds = [TIMEOUT_REPORT_SEED, validator.key().as_ref(), job.as_ref()],
        bump,
    )]
    pub report: Box<Account<'info, TimeoutReport>>,
    /// CHECK: the instructions sysvar, checked by address in `verify_quorum`.
    pub instructions: UncheckedAccount<'info>,
    pub system_program: Program<'info, System>,
}

impl ReportValidatorTimeout<'_> {
    pub fn validate(&self, job: Pubkey) -> Result<()> {
        require!(self.committee.is_member(&self.validator.key()), VerdictError::NotAMember);
        let body = ValidatorTimeoutBody { job };
        let message =
            attestation::message(AttestationKind::ValidatorTimeout, self.committee.epoch, &self.validator.key(), &body);
        attestation::verify_quorum(&self.instructions, &self.committee, &message)?;
        Ok(())
    }
}

pub fn handler(ctx: Context<ReportValidatorTimeout>, job: Pubkey) -> Result<()> {
    ctx.accounts.validate(job)?;
    let now = Clock::get()?.unix_timestamp;
    let validator = &mut ctx.accounts.validator;
    validator.adjust_validator_score(TIMEOUT_PENALTY);
    validator.attestations_missed = add(validator.attestations_missed, 1)?;
    ctx.accounts.report.set_inner(TimeoutReport {
        validator: validator.key(),
        job,
        epoch: ctx.accounts.committee.epoch,
        reported_at: now,
        bump: ctx.bumps.report,
    });
    emit_event(&ValidatorScoreChanged { node: validator.key(), score: validator.validator_score, delta: TIMEOUT_PENALTY });
    Ok(())
}
