//! `record_trial`: a committee quorum attests a new miner's trial task
//! (a dummy job with a known output). Pass: "warm", baseline trust, may take
//! jobs. Fail: cooldown until a time, flagged; it may retry afterwards.

use anchor_lang::prelude::*;

use crate::attestation::{self, AttestationKind, TrialBody};
use crate::constants::{COMMITTEE_ADDRESS, CONFIG_ADDRESS};
use crate::errors::VerdictError;
use crate::events::{emit_event, ReputationChanged, TrialRecorded};
use crate::math::add_secs;
use crate::state::{Committee, Config, Node, TrialStatus};

#[derive(Accounts)]
pub struct RecordTrial<'info> {
    #[account(address = CONFIG_ADDRESS)]
    pub config: AccountLoader<'info, Config>,
    #[account(address = COMMITTEE_ADDRESS)]
    pub committee: AccountLoader<'info, Committee>,
    #[account(mut)]
    pub miner: AccountLoader<'info, Node>,
    /// CHECK: the instructions sysvar, checked by address in `verify_quorum`.
    pub instructions: UncheckedAccount<'info>,
}

impl RecordTrial<'_> {
    pub fn validate(&self, now: i64, passed: bool) -> Result<()> {
        let miner = self.miner.load()?;
        let rep = &miner.reputation;
        require!(miner.is_miner(), VerdictError::WrongRole);
        let due = rep.trial() == TrialStatus::Pending
            || (rep.trial() == TrialStatus::Failed && now >= rep.cooldown_until);
        require!(due, VerdictError::TrialNotDue);
        let body = TrialBody {
            passed,
            trial: rep.trial_failures.saturating_add(1),
        };
        let committee = self.committee.load()?;
        let message = attestation::message(
            AttestationKind::Trial,
            committee.epoch,
            &self.miner.key(),
            miner.registered_at as u64,
            &body,
        );
        attestation::verify_quorum(&self.instructions, &committee, &message)?;
        Ok(())
    }
}

pub fn handler(ctx: Context<RecordTrial>, passed: bool) -> Result<()> {
    let now = Clock::get()?.unix_timestamp;
    ctx.accounts.validate(now, passed)?;
    let config = ctx.accounts.config.load()?;
    let params = &config.params;
    let miner_key = ctx.accounts.miner.key();
    let mut miner = ctx.accounts.miner.load_mut()?;
    let rep = &mut miner.reputation;
    if passed {
        rep.set_trial(TrialStatus::Passed);
        rep.trust_bps = params.trial_baseline_trust_bps;
        rep.heartbeat(now, params);
    } else {
        rep.set_trial(TrialStatus::Failed);
        rep.trial_failures = rep.trial_failures.saturating_add(1);
        rep.cooldown_until = add_secs(now, params.trial_cooldown_secs)?;
    }
    emit_event(&TrialRecorded {
        node: miner_key,
        passed,
        cooldown_until: miner.reputation.cooldown_until,
    });
    emit_event(&ReputationChanged::of(miner_key, &miner, params, now));
    Ok(())
}
