//! `report_validator_timeout`: a committee quorum reports a member that
//! missed its deadline on a job (−5 score). The job must exist and be one
//! the current committee handles (open, or solved in this committee epoch);
//! one report per (member, job) — the report account's address makes a
//! replay fail — and at most `max_timeout_reports_per_epoch` counted
//! against one member per committee epoch.

use anchor_lang::prelude::*;

use crate::attestation::{self, AttestationKind, ValidatorTimeoutBody};
use crate::constants::{COMMITTEE_ADDRESS, CONFIG_ADDRESS, TIMEOUT_REPORT_SEED};
use crate::errors::VerdictError;
use crate::events::{emit_event, ValidatorScoreChanged};
use crate::math::add;
use crate::state::{Committee, Config, Job, JobStatus, Node, TimeoutReport};

/// Score a validator loses for a missed deadline.
pub const TIMEOUT_PENALTY: i16 = -5;

#[derive(Accounts)]
pub struct ReportValidatorTimeout<'info> {
    #[account(mut)]
    pub payer: Signer<'info>,
    #[account(address = CONFIG_ADDRESS)]
    pub config: AccountLoader<'info, Config>,
    #[account(address = COMMITTEE_ADDRESS)]
    pub committee: AccountLoader<'info, Committee>,
    #[account(mut)]
    pub validator: AccountLoader<'info, Node>,
    pub job: AccountLoader<'info, Job>,
    #[account(
        init,
        payer = payer,
        space = 8 + TimeoutReport::INIT_SPACE,
        seeds = [TIMEOUT_REPORT_SEED, validator.key().as_ref(), job.key().as_ref()],
        bump,
    )]
    pub report: Box<Account<'info, TimeoutReport>>,
    /// CHECK: the instructions sysvar, checked by address in `verify_quorum`.
    pub instructions: UncheckedAccount<'info>,
    pub system_program: Program<'info, System>,
}

impl ReportValidatorTimeout<'_> {
    pub fn validate(&self) -> Result<()> {
        let committee = self.committee.load()?;
        require!(
            committee.is_member(&self.validator.key()),
            VerdictError::NotAMember
        );
        let job = self.job.load()?;
        let handled_now = matches!(job.status(), JobStatus::Sent | JobStatus::Allocated)
            || (job.status() != JobStatus::Invalid
                && job.committee_epoch == committee.epoch
                && job.signer_count > 0);
        require!(handled_now, VerdictError::JobNotInCommittee);
        let body = ValidatorTimeoutBody {
            job: self.job.key(),
        };
        let message = attestation::message(
            AttestationKind::ValidatorTimeout,
            committee.epoch,
            &self.validator.key(),
            job.created_slot,
            &body,
        );
        attestation::verify_quorum(&self.instructions, &committee, &message)?;
        Ok(())
    }
}

pub fn handler(ctx: Context<ReportValidatorTimeout>) -> Result<()> {
    ctx.accounts.validate()?;
    let now = Clock::get()?.unix_timestamp;
    let epoch = ctx.accounts.committee.load()?.epoch;
    let max = ctx
        .accounts
        .config
        .load()?
        .params
        .max_timeout_reports_per_epoch;
    let validator_key = ctx.accounts.validator.key();
    let mut validator = ctx.accounts.validator.load_mut()?;
    require!(
        validator.count_timeout_report(epoch, max),
        VerdictError::TimeoutReportLimit
    );
    validator.adjust_validator_score(TIMEOUT_PENALTY);
    validator.attestations_missed = add(validator.attestations_missed, 1)?;
    ctx.accounts.report.set_inner(TimeoutReport {
        validator: validator_key,
        job: ctx.accounts.job.key(),
        epoch,
        reported_at: now,
        bump: ctx.bumps.report,
    });
    emit_event(&ValidatorScoreChanged {
        node: validator_key,
        score: validator.validator_score,
        delta: TIMEOUT_PENALTY,
    });
    Ok(())
}
