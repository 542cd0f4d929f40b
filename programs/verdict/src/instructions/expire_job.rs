//! `expire_job`: permissionless. A job SENT past its TTL (10 min) or
//! ALLOCATED past its TTL (15 min) is refunded; an allocated miner is
//! charged a timeout.

use anchor_lang::prelude::*;
use anchor_spl::token::Token;

use crate::constants::CONFIG_ADDRESS;
use crate::errors::VerdictError;
use crate::events::{emit_event, ReputationChanged};
use crate::instructions::fail_job::refund;
use crate::state::{Config, Job, JobOutcome, JobStatus, Node};

#[derive(Accounts)]
pub struct ExpireJob<'info> {
    /// Writable: a liquidated miner's refund reserve shrinks with its exposure.
    #[account(mut, address = CONFIG_ADDRESS)]
    pub config: AccountLoader<'info, Config>,
    #[account(mut)]
    pub job: AccountLoader<'info, Job>,
    /// The allocated miner; required when the job is ALLOCATED.
    #[account(mut, address = job.load()?.miner @ VerdictError::WrongMiner)]
    pub miner: Option<AccountLoader<'info, Node>>,
    /// The job's escrow (a token account `submit_job` created).
    /// CHECK: bound by the address its Job records (see `token_ops`).
    #[account(mut, address = job.load()?.escrow @ VerdictError::WrongVault)]
    pub escrow: UncheckedAccount<'info>,
    /// CHECK: the job's recorded refund account (a closed one keeps the refund claimable).
    #[account(mut, address = job.load()?.refund_account @ VerdictError::WrongDestination)]
    pub refund_account: UncheckedAccount<'info>,
    pub token_program: Program<'info, Token>,
}

impl ExpireJob<'_> {
    pub fn validate(&self, now: i64) -> Result<()> {
        self.config.load()?.require_not_paused()?;
        let job = self.job.load()?;
        require!(
            matches!(job.status(), JobStatus::Sent | JobStatus::Allocated),
            VerdictError::InvalidJobState
        );
        require!(
            job.is_expired(now, &self.config.load()?.params),
            VerdictError::NotExpired
        );
        if job.status() == JobStatus::Allocated {
            require!(self.miner.is_some(), VerdictError::WrongMiner);
        }
        Ok(())
    }
}

pub fn handler(ctx: Context<ExpireJob>) -> Result<()> {
    let now = Clock::get()?.unix_timestamp;
    ctx.accounts.validate(now)?;
    let a = &mut *ctx.accounts;
    let mut config = a.config.load_mut()?;
    if a.job.load()?.status() == JobStatus::Allocated {
        if let Some(loader) = a.miner.as_ref() {
            let mut miner = loader.load_mut()?;
            a.job
                .load_mut()?
                .release_exposure(&mut miner, &mut config.totals)?;
            let params = &config.params;
            let standing = miner.record_outcome(JobOutcome::Timeout, now, params);
            emit_event(&ReputationChanged::with(
                loader.key(),
                &miner,
                &standing,
                now,
            ));
        }
    }
    let mint = config.stake_mint;
    refund(
        &a.job,
        &a.escrow,
        &a.refund_account,
        &a.token_program,
        &mint,
        JobStatus::Expired,
    )
}
