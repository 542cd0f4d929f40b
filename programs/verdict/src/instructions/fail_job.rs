//! `fail_job`: a committee quorum attests that the allocated miner failed
//! (timeout, invalid output, disconnect). The miner is penalized; the job
//! re-opens for another miner until it has used its attempts, then the
//! client gets its whole fee back.

use anchor_lang::prelude::*;
use anchor_spl::token::Token;

use crate::attestation::{self, AttestationKind, FailBody};
use crate::constants::{COMMITTEE_ADDRESS, CONFIG_ADDRESS};
use crate::errors::VerdictError;
use crate::events::{emit_event, JobFailed, JobRefunded, ReputationChanged};
use crate::state::{Committee, Config, FailReason, Job, JobOutcome, JobStatus, Node};
use crate::token_ops;

#[derive(Accounts)]
pub struct FailJob<'info> {
    /// Writable: a liquidated miner's refund reserve shrinks with its exposure.
    #[account(mut, address = CONFIG_ADDRESS)]
    pub config: AccountLoader<'info, Config>,
    #[account(address = COMMITTEE_ADDRESS)]
    pub committee: AccountLoader<'info, Committee>,
    #[account(mut)]
    pub job: AccountLoader<'info, Job>,
    #[account(mut, address = job.load()?.miner @ VerdictError::WrongMiner)]
    pub miner: AccountLoader<'info, Node>,
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

impl FailJob<'_> {
    pub fn validate(&self, reason: FailReason) -> Result<()> {
        self.config.load()?.require_not_paused()?;
        let job = self.job.load()?;
        require!(
            job.status() == JobStatus::Allocated,
            VerdictError::InvalidJobState
        );
        let body = FailBody {
            miner: self.miner.key(),
            attempt: job.attempts,
            reason,
        };
        let committee = self.committee.load()?;
        let message = attestation::job_message(
            AttestationKind::Fail,
            committee.epoch,
            &self.job.key(),
            job.created_slot,
            &body,
        );
        attestation::verify_quorum(&self.instructions, &committee, &message)?;
        Ok(())
    }
}

pub fn handler(ctx: Context<FailJob>, reason: FailReason) -> Result<()> {
    ctx.accounts.validate(reason)?;
    let now = Clock::get()?.unix_timestamp;
    let accounts = &mut *ctx.accounts;
    let mut config = accounts.config.load_mut()?;
    let params = &config.params;
    let outcome = if reason == FailReason::Timeout {
        JobOutcome::Timeout
    } else {
        JobOutcome::Failure
    };
    let mut miner = accounts.miner.load_mut()?;
    let standing = miner.record_outcome(outcome, now, params);
    emit_event(&ReputationChanged::with(
        accounts.miner.key(),
        &miner,
        &standing,
        now,
    ));

    let max_attempts = params.max_job_attempts;
    {
        let mut job = accounts.job.load_mut()?;
        job.release_exposure(&mut miner, &mut config.totals)?;
        let reopened = job.attempts < max_attempts;
        emit_event(&JobFailed {
            job: accounts.job.key(),
            miner: job.miner,
            reason,
            attempt: job.attempts,
            reopened,
        });
        drop(miner);
        if reopened {
            job.reopen(now);
            return Ok(());
        }
    }
    let mint = config.stake_mint;
    refund(
        &accounts.job,
        &accounts.escrow,
        &accounts.refund_account,
        &accounts.token_program,
        &mint,
        JobStatus::Refunded,
    )
}

/// Returns the whole escrow to the client (or keeps it claimable when the
/// recorded refund account is gone) and ends the job in `status`. Shared by
/// every path that refunds (fail, reject, expire, an overturned held job, a
/// liquidated miner's held payout).
pub fn refund<'info>(
    job: &AccountLoader<'info, Job>,
    escrow: &AccountInfo<'info>,
    refund_account: &AccountInfo<'info>,
    token_program: &Program<'info, Token>,
    mint: &Pubkey,
    status: JobStatus,
) -> Result<()> {
    let amount = job.load()?.max_fee;
    token_ops::refund_from_escrow(token_program, escrow, refund_account, job, mint, amount)?;
    let mut ended = job.load_mut()?;
    ended.set_status(status);
    emit_event(&JobRefunded {
        job: job.key(),
        client: ended.client,
        amount,
        status,
    });
    Ok(())
}
