//! `complete_job`: a committee quorum attests the miner's response (output
//! hash, timings, SLA, latency score); the job moves ALLOCATED → SOLVED, the
//! miner's reputation is updated and the payout is held by its reputation.

use anchor_lang::prelude::*;

use crate::attestation::{self, AttestationKind, CompleteBody, CompletionReport, Signers};
use crate::constants::{COMMITTEE_ADDRESS, CONFIG_ADDRESS};
use crate::errors::VerdictError;
use crate::events::{emit_event, JobCompleted, ReputationChanged};
use crate::state::{Committee, Config, Job, JobOutcome, JobStatus, Node};

#[derive(Accounts)]
pub struct CompleteJob<'info> {
    #[account(address = CONFIG_ADDRESS)]
    pub config: AccountLoader<'info, Config>,
    #[account(address = COMMITTEE_ADDRESS)]
    pub committee: AccountLoader<'info, Committee>,
    #[account(mut)]
    pub job: AccountLoader<'info, Job>,
    #[account(mut, address = job.load()?.miner @ VerdictError::WrongMiner)]
    pub miner: AccountLoader<'info, Node>,
    /// CHECK: the instructions sysvar, checked by address in `verify_quorum`.
    pub instructions: UncheckedAccount<'info>,
}

impl CompleteJob<'_> {
    pub fn validate(&self, now: i64, report: &CompletionReport) -> Result<Signers> {
        let config = self.config.load()?;
        config.require_not_paused()?;
        let job = self.job.load()?;
        require!(
            job.status() == JobStatus::Allocated,
            VerdictError::InvalidJobState
        );
        require!(
            !job.is_expired(now, &config.params),
            VerdictError::InvalidJobState
        );
        require!(report.success, VerdictError::UnsuccessfulCompletion);
        let body = CompleteBody {
            miner: self.miner.key(),
            attempt: job.attempts,
            report: *report,
        };
        let committee = self.committee.load()?;
        let message = attestation::job_message(
            AttestationKind::Complete,
            committee.epoch,
            &self.job.key(),
            job.created_slot,
            &body,
        );
        attestation::verify_quorum(&self.instructions, &committee, &message)
    }
}

pub fn handler(ctx: Context<CompleteJob>, report: CompletionReport) -> Result<()> {
    let now = Clock::get()?.unix_timestamp;
    let signers = ctx.accounts.validate(now, &report)?;
    let committee = ctx.accounts.committee.load()?;
    solve(
        now,
        &*ctx.accounts.config.load()?,
        &committee,
        &ctx.accounts.job,
        &ctx.accounts.miner,
        &report,
        signers,
    )
}

/// Shared by `complete_job` and `settle_job`: records the success in the
/// miner's reputation and the outcome, signers and payout hold on the job.
pub fn solve(
    now: i64,
    config: &Config,
    committee: &Committee,
    job: &AccountLoader<Job>,
    miner: &AccountLoader<Node>,
    report: &CompletionReport,
    signers: Signers,
) -> Result<()> {
    let params = &config.params;
    // A member cannot attest its own work.
    require!(
        !signers.includes(committee, &miner.key()),
        VerdictError::DuplicateSigner
    );
    let mut node = miner.load_mut()?;
    let standing = node.record_outcome(
        JobOutcome::Success {
            sla_met: report.sla_met,
            latency_score_bps: report.latency_score_bps,
            response_ms: report.response_ms,
        },
        now,
        params,
    );
    let release_at = standing.payout_release_at(now, params)?;
    let mut solved = job.load_mut()?;
    solved.solve(report, committee, signers, now, release_at);
    emit_event(&JobCompleted {
        job: job.key(),
        miner: miner.key(),
        output_hash: report.output_hash,
        response_ms: report.response_ms,
        release_at,
        signers: solved.signer_count,
    });
    emit_event(&ReputationChanged::with(miner.key(), &node, &standing, now));
    Ok(())
}
