//! `assign_job`: a committee quorum attests preprocessing (the miner is
//! eligible for the job's risk tier and model, the price fits the fee) and
//! the job moves SENT → ALLOCATED. The job state admits one allocation.
//! An auctioned price also carries the miner's signed bid (`crate::bid`).

use anchor_lang::prelude::*;

use crate::attestation::{self, AssignBody, AttestationKind};
use crate::bid::Placement;
use crate::constants::{COMMITTEE_ADDRESS, CONFIG_ADDRESS};
use crate::errors::VerdictError;
use crate::events::{emit_event, JobAssigned};
use crate::state::{Committee, Config, Job, JobStatus, Node};

#[derive(Accounts)]
pub struct AssignJob<'info> {
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

impl AssignJob<'_> {
    /// Returns whether the price is the miner's signed bid.
    pub fn validate(&self, now: i64, price: u64) -> Result<bool> {
        let config = self.config.load()?;
        config.require_not_paused()?;
        let params = &config.params;
        let job = self.job.load()?;
        require!(
            job.status() == JobStatus::Sent,
            VerdictError::InvalidJobState
        );
        require!(!job.is_expired(now, params), VerdictError::InvalidJobState);
        require!(price <= job.max_fee, VerdictError::PriceAboveMaxFee);
        let miner = self.miner.load()?;
        require!(
            miner.can_take(job.risk(), &job.model, now, params),
            VerdictError::MinerNotEligible
        );
        let body = AssignBody {
            miner: self.miner.key(),
            price,
            attempt: job.attempts + 1,
        };
        let committee = self.committee.load()?;
        let message = attestation::job_message(
            AttestationKind::Assign,
            committee.epoch,
            &self.job.key(),
            job.created_slot,
            &body,
        );
        let (_, by_bid) = attestation::verify_priced_quorum(
            &self.instructions,
            &committee,
            &message,
            &Placement {
                job: &self.job.key(),
                signing_key: &miner.signing_key,
                price,
                placed_by: now,
            },
        )?;
        Ok(by_bid)
    }
}

pub fn handler(ctx: Context<AssignJob>, price: u64) -> Result<()> {
    let now = Clock::get()?.unix_timestamp;
    let by_bid = ctx.accounts.validate(now, price)?;
    let a = &mut *ctx.accounts;
    let mut job = a.job.load_mut()?;
    job.allocate(&a.miner, price, now, &a.config.load()?.params)?;
    emit_event(&JobAssigned {
        job: a.job.key(),
        miner: job.miner,
        price,
        attempt: job.attempts,
        by_bid,
    });
    Ok(())
}
