//! `reject_job`: a committee quorum attests that the request failed
//! preprocessing (unknown model, fee below any price, ...): SENT → INVALID,
//! the client is refunded.

use anchor_lang::prelude::*;
use anchor_spl::token::Token;

use crate::attestation::{self, AttestationKind, RejectBody};
use crate::constants::{COMMITTEE_ADDRESS, CONFIG_ADDRESS};
use crate::errors::VerdictError;
use crate::instructions::fail_job::refund;
use crate::state::{Committee, Config, Job, JobStatus};

#[derive(Accounts)]
pub struct RejectJob<'info> {
    #[account(address = CONFIG_ADDRESS)]
    pub config: AccountLoader<'info, Config>,
    #[account(address = COMMITTEE_ADDRESS)]
    pub committee: AccountLoader<'info, Committee>,
    #[account(mut)]
    pub job: AccountLoader<'info, Job>,
    /// The job's escrow (a token account `submit_job` created).
    /// CHECK: bound by the address its Job records (see `token_ops`).
    #[account(mut, address = job.load()?.escrow @ VerdictError::WrongVault)]
    pub escrow: UncheckedAccount<'info>,
    /// CHECK: the job's recorded refund account (a closed one keeps the refund claimable).
    #[account(mut, address = job.load()?.refund_account @ VerdictError::WrongDestination)]
    pub refund_account: UncheckedAccount<'info>,
    pub token_program: Program<'info, Token>,
    /// CHECK: the instructions sysvar, checked by address in `verify_quorum`.
    pub instructions: UncheckedAccount<'info>,
}

impl RejectJob<'_> {
    pub fn validate(&self, reason_code: u8) -> Result<()> {
        self.config.load()?.require_not_paused()?;
        let job = self.job.load()?;
        require!(
            job.status() == JobStatus::Sent,
            VerdictError::InvalidJobState
        );
        let body = RejectBody { reason_code };
        let committee = self.committee.load()?;
        let message = attestation::job_message(
            AttestationKind::Reject,
            committee.epoch,
            &self.job.key(),
            job.created_slot,
            &body,
        );
        attestation::verify_quorum(&self.instructions, &committee, &message)?;
        Ok(())
    }
}

pub fn handler(ctx: Context<RejectJob>, reason_code: u8) -> Result<()> {
    ctx.accounts.validate(reason_code)?;
    let a = &mut *ctx.accounts;
    let mint = a.config.load()?.stake_mint;
    refund(
        &a.job,
        &a.escrow,
        &a.refund_account,
        &a.token_program,
        &mint,
        JobStatus::Invalid,
    )
}
