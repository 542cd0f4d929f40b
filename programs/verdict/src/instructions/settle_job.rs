//! `settle_job`: the optimistic path for low-risk jobs — one attestation
//! assigns and completes at once (SENT → SOLVED), so a job costs two
//! transactions (submit, settle) plus a claim. An auctioned price also
//! carries the miner's signed bid (`crate::bid`).

use anchor_lang::prelude::*;

use crate::attestation::{self, AttestationKind, CompletionReport, SettleBody, Signers};
use crate::bid::Placement;
use crate::constants::{COMMITTEE_ADDRESS, CONFIG_ADDRESS};
use crate::errors::VerdictError;
use crate::events::{emit_event, JobAssigned};
use crate::instructions::complete_job::solve;
use crate::state::{Committee, Config, Job, JobStatus, Node, RiskLevel};

#[derive(Accounts)]
pub struct SettleJob<'info> {
    #[account(address = CONFIG_ADDRESS)]
    pub config: AccountLoader<'info, Config>,
    #[account(address = COMMITTEE_ADDRESS)]
    pub committee: AccountLoader<'info, Committee>,
    #[account(mut)]
    pub job: AccountLoader<'info, Job>,
    #[account(mut)]
    pub miner: AccountLoader<'info, Node>,
    /// CHECK: the instructions sysvar, checked by address in `verify_quorum`.
    pub instructions: UncheckedAccount<'info>,
}

impl SettleJob<'_> {
    /// Returns the committee's signers and whether the price is the
    /// miner's signed bid.
    pub fn validate(
        &self,
        now: i64,
        price: u64,
        report: &CompletionReport,
    ) -> Result<(Signers, bool)> {
        let config = self.config.load()?;
        config.require_not_paused()?;
        let params = &config.params;
        let job = self.job.load()?;
        require!(
            job.status() == JobStatus::Sent,
            VerdictError::InvalidJobState
        );
        require!(
            job.risk() == RiskLevel::Low,
            VerdictError::SettleLowRiskOnly
        );
        require!(!job.is_expired(now, params), VerdictError::InvalidJobState);
        require!(price <= job.max_fee, VerdictError::PriceAboveMaxFee);
        require!(report.success, VerdictError::UnsuccessfulCompletion);
        let miner = self.miner.load()?;
        require!(
            miner.can_take(job.risk(), &job.model, now, params),
            VerdictError::MinerNotEligible
        );
        let body = SettleBody {
            miner: self.miner.key(),
            attempt: job.attempts + 1,
            price,
            report: *report,
        };
        let committee = self.committee.load()?;
        let message = attestation::job_message(
            AttestationKind::Settle,
            committee.epoch,
            &self.job.key(),
            job.created_slot,
            &body,
        );
        // The answer came before the settlement: the bid had to stand when
        // the job could last have been assigned, an allocated TTL ago.
        let (signers, by_bid) = attestation::verify_priced_quorum(
            &self.instructions,
            &committee,
            &message,
            &Placement {
                job: &self.job.key(),
                signing_key: &miner.signing_key,
                price,
                placed_by: now.saturating_sub(params.allocated_ttl_secs),
            },
        )?;
        Ok((signers, by_bid))
    }
}

pub fn handler(ctx: Context<SettleJob>, price: u64, report: CompletionReport) -> Result<()> {
    // One clock read for the whole instruction (each costs a syscall).
    let now = Clock::get()?.unix_timestamp;
    let (signers, by_bid) = ctx.accounts.validate(now, price, &report)?;
    let accounts = &mut *ctx.accounts;
    let config = accounts.config.load()?;
    {
        let mut job = accounts.job.load_mut()?;
        job.allocate(&accounts.miner, price, now, &config.params)?;
        emit_event(&JobAssigned {
            job: accounts.job.key(),
            miner: accounts.miner.key(),
            price,
            attempt: job.attempts,
            by_bid,
        });
    }
    let committee = accounts.committee.load()?;
    solve(
        now,
        &config,
        &committee,
        &accounts.job,
        &accounts.miner,
        &report,
        signers,
    )
}
