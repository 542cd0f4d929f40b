//! The keeper's side of the job lifecycle: the outcome transactions it means
//! to post (intents, recorded before sending), whether the chain still needs
//! one given the job's on-chain state (the idempotency rule that keeps a
//! restarted or retrying keeper from double posting), and the local mempool's
//! TTLs. Pure.

use anchor_lang::prelude::Pubkey;
use serde::{Deserialize, Serialize};
use verdict::attestation::CompletionReport;
use verdict::state::{FailReason, Job, JobStatus, Node, TrialStatus};
use verdict_sdk::attest;

use crate::serde_helpers::{b58, report_serde};

/// An outcome transaction the keeper is about to post.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum Intent {
    Assign {
        #[serde(with = "b58")]
        miner: Pubkey,
        attempt: u8,
        price: u64,
    },
    Complete {
        #[serde(with = "b58")]
        miner: Pubkey,
        attempt: u8,
        #[serde(with = "report_serde")]
        report: CompletionReport,
    },
    Settle {
        #[serde(with = "b58")]
        miner: Pubkey,
        attempt: u8,
        price: u64,
        #[serde(with = "report_serde")]
        report: CompletionReport,
    },
    Fail {
        #[serde(with = "b58")]
        miner: Pubkey,
        attempt: u8,
        reason: FailReasonRecord,
    },
    /// Permissionless refund of a job past its TTL.
    Expire,
}

/// `FailReason` in a form serde can store.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum FailReasonRecord {
    Timeout,
    InvalidOutput,
    Disconnect,
}

impl From<FailReason> for FailReasonRecord {
    fn from(r: FailReason) -> Self {
        match r {
            FailReason::Timeout => Self::Timeout,
            FailReason::InvalidOutput => Self::InvalidOutput,
            FailReason::Disconnect => Self::Disconnect,
        }
    }
}

impl From<FailReasonRecord> for FailReason {
    fn from(r: FailReasonRecord) -> Self {
        match r {
            FailReasonRecord::Timeout => Self::Timeout,
            FailReasonRecord::InvalidOutput => Self::InvalidOutput,
            FailReasonRecord::Disconnect => Self::Disconnect,
        }
    }
}

impl Intent {
    pub fn kind(&self) -> &'static str {
        match self {
            Intent::Assign { .. } => "assign",
            Intent::Complete { .. } => "complete",
            Intent::Settle { .. } => "settle",
            Intent::Fail { .. } => "fail",
            Intent::Expire => "expire",
        }
    }
}

/// The attestation message the committee signs for `intent` on `job` in
/// committee `epoch`; `None` for the permissionless expiry. `created_slot`
/// is the Job account's own (the message names the job instance, so a job
/// closed and recreated at the same address starts afresh): whoever builds
/// the message reads it from the chain, never from a peer's claim.
pub fn intent_message(
    epoch: u64,
    job: &Pubkey,
    created_slot: u64,
    intent: &Intent,
) -> Option<Vec<u8>> {
    Some(match intent {
        Intent::Assign {
            miner,
            attempt,
            price,
        } => attest::assign_message(epoch, job, created_slot, miner, *price, *attempt),
        Intent::Settle {
            miner,
            attempt,
            price,
            report,
        } => attest::settle_message(epoch, job, created_slot, miner, *attempt, *price, report),
        Intent::Complete {
            miner,
            attempt,
            report,
        } => attest::complete_message(epoch, job, created_slot, miner, *attempt, report),
        Intent::Fail {
            miner,
            attempt,
            reason,
        } => attest::fail_message(
            epoch,
            job,
            created_slot,
            miner,
            *attempt,
            FailReason::from(*reason),
        ),
        Intent::Expire => return None,
    })
}

impl Intent {
    /// The miner whose answer the intent attests as the job's outcome
    /// (settle, complete): that miner may not co-sign it.
    pub fn completing_miner(&self) -> Option<&Pubkey> {
        match self {
            Intent::Settle { miner, .. } | Intent::Complete { miner, .. } => Some(miner),
            _ => None,
        }
    }
}

/// What the chain says about an intent before (re)sending it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Applicability {
    /// The job is in the state this intent acts on: send it.
    Needed,
    /// The job already shows this intent's effect (an earlier send landed).
    AlreadyApplied,
    /// The job moved on some other way (another keeper, a TTL, a refund):
    /// sending would be refused, and must not be retried.
    Superseded,
}

/// The idempotency rule: checked against the freshly read job before every
/// send, so a send whose confirmation was lost is never repeated.
pub fn applicability(
    intent: &Intent,
    job: &Job,
    now: i64,
    sent_ttl_secs: i64,
    allocated_ttl_secs: i64,
) -> Applicability {
    use Applicability::*;
    let allocated_to = |miner: &Pubkey, attempt: u8| {
        job.status() == JobStatus::Allocated && job.miner == *miner && job.attempts == attempt
    };
    match intent {
        Intent::Assign { miner, attempt, .. } => {
            if job.status() == JobStatus::Sent && job.attempts + 1 == *attempt {
                Needed
            } else if job.attempts >= *attempt && job.miner == *miner && job.attempts == *attempt {
                AlreadyApplied
            } else {
                Superseded
            }
        }
        Intent::Settle { miner, attempt, .. } => {
            if job.status() == JobStatus::Sent && job.attempts + 1 == *attempt {
                Needed
            } else if job.attempts == *attempt
                && job.miner == *miner
                && matches!(job.status(), JobStatus::Solved | JobStatus::Paid)
            {
                AlreadyApplied
            } else {
                Superseded
            }
        }
        Intent::Complete { miner, attempt, .. } => {
            if allocated_to(miner, *attempt) {
                Needed
            } else if job.attempts == *attempt
                && job.miner == *miner
                && matches!(job.status(), JobStatus::Solved | JobStatus::Paid)
            {
                AlreadyApplied
            } else {
                Superseded
            }
        }
        Intent::Fail { miner, attempt, .. } => {
            if allocated_to(miner, *attempt) {
                Needed
            } else if job.attempts == *attempt
                && matches!(job.status(), JobStatus::Sent | JobStatus::Refunded)
            {
                // The fail landed: the job re-opened, or was refunded after its last attempt.
                AlreadyApplied
            } else {
                Superseded
            }
        }
        Intent::Expire => {
            let expired = match job.status() {
                JobStatus::Sent => now >= job.opened_at.saturating_add(sent_ttl_secs),
                JobStatus::Allocated => now >= job.allocated_at.saturating_add(allocated_ttl_secs),
                _ => false,
            };
            if expired {
                Needed
            } else if job.status() == JobStatus::Expired {
                AlreadyApplied
            } else {
                Superseded
            }
        }
    }
}

/// A trial verdict the keeper means to post for a new miner.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct TrialIntent {
    pub miner: Pubkey,
    pub passed: bool,
    /// The miner's failed trials so far + 1 (part of the signed message).
    pub trial: u8,
}

impl TrialIntent {
    pub fn for_node(miner: Pubkey, node: &Node, passed: bool) -> Self {
        TrialIntent {
            miner,
            passed,
            trial: node.reputation.trial_failures.saturating_add(1),
        }
    }

    /// Still due on chain: the node waits for exactly this trial.
    pub fn applicability(&self, node: &Node, now: i64) -> Applicability {
        let rep = &node.reputation;
        let due = rep.trial() == TrialStatus::Pending
            || (rep.trial() == TrialStatus::Failed && now >= rep.cooldown_until);
        if due && rep.trial_failures.saturating_add(1) == self.trial {
            Applicability::Needed
        } else if rep.trial_failures.saturating_add(1) > self.trial
            || rep.trial() == TrialStatus::Passed
        {
            Applicability::AlreadyApplied
        } else {
            Applicability::Superseded
        }
    }
}

/// How long the local mempool keeps a job in each phase (the protocol's
/// pending 10 min, preprocessing 15 min, completion 5 min).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct MempoolTtl {
    /// Input received, not dispatched yet.
    pub pending_secs: i64,
    /// Being dispatched and validated.
    pub preprocessing_secs: i64,
    /// Finished: the output stays fetchable this long, then it is purged.
    pub completion_secs: i64,
}

impl Default for MempoolTtl {
    fn default() -> Self {
        MempoolTtl {
            pending_secs: 600,
            preprocessing_secs: 900,
            completion_secs: 300,
        }
    }
}

/// A local job's phase, for TTL purposes.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum Phase {
    Queued,
    Running,
    Done,
    Failed,
}

impl Phase {
    pub fn is_finished(self) -> bool {
        matches!(self, Phase::Done | Phase::Failed)
    }
}

/// What the mempool sweeper should do with a local record.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Sweep {
    Keep,
    /// Stop working on it; the chain's own TTL refunds the client.
    GiveUp,
    /// Purge it from the database.
    Purge,
}

pub fn sweep(phase: Phase, phase_since: i64, now: i64, ttl: &MempoolTtl) -> Sweep {
    let age = now - phase_since;
    match phase {
        Phase::Queued if age >= ttl.pending_secs => Sweep::GiveUp,
        Phase::Running if age >= ttl.preprocessing_secs => Sweep::GiveUp,
        Phase::Done | Phase::Failed if age >= ttl.completion_secs => Sweep::Purge,
        _ => Sweep::Keep,
    }
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;
    pub(crate) fn job(status: JobStatus, attempts: u8, miner: Pubkey) -> Job {
        let mut job = Job::default();
        (job.job_id, job.max_fee, job.miner, job.attempts) = (1, 10, miner, attempts);
        job.set_status(status);
        job
    }

    const TTL: (i64, i64) = (600, 900);

    fn check(intent: &Intent, j: &Job) -> Applicability {
        applicability(intent, j, 10, TTL.0, TTL.1)
    }

    #[test]
    fn settle_is_sent_once() {
        let m = Pubkey::new_unique();
        let settle = Intent::Settle {
            miner: m,
            attempt: 1,
            price: 5,
            report: CompletionReport::default(),
        };
        assert_eq!(
            check(&settle, &job(JobStatus::Sent, 0, Pubkey::default())),
            Applicability::Needed
        );
        assert_eq!(
            check(&settle, &job(JobStatus::Solved, 1, m)),
            Applicability::AlreadyApplied
        );
        assert_eq!(
            check(&settle, &job(JobStatus::Solved, 1, Pubkey::new_unique())),
            Applicability::Superseded
        );
        assert_eq!(
            check(&settle, &job(JobStatus::Expired, 0, Pubkey::default())),
            Applicability::Superseded
        );
    }

    #[test]
    fn assign_complete_and_fail_follow_the_attempt_number() {
        let m = Pubkey::new_unique();
        let assign = Intent::Assign {
            miner: m,
            attempt: 2,
            price: 5,
        };
        assert_eq!(
            check(&assign, &job(JobStatus::Sent, 1, Pubkey::default())),
            Applicability::Needed
        );
        assert_eq!(
            check(&assign, &job(JobStatus::Allocated, 2, m)),
            Applicability::AlreadyApplied
        );
        assert_eq!(
            check(&assign, &job(JobStatus::Allocated, 2, Pubkey::new_unique())),
            Applicability::Superseded
        );

        let complete = Intent::Complete {
            miner: m,
            attempt: 2,
            report: CompletionReport::default(),
        };
        assert_eq!(
            check(&complete, &job(JobStatus::Allocated, 2, m)),
            Applicability::Needed
        );
        assert_eq!(
            check(&complete, &job(JobStatus::Solved, 2, m)),
            Applicability::AlreadyApplied
        );

        let fail = Intent::Fail {
            miner: m,
            attempt: 2,
            reason: FailReasonRecord::Timeout,
        };
        assert_eq!(
            check(&fail, &job(JobStatus::Allocated, 2, m)),
            Applicability::Needed
        );
        // Re-opened: the miner field is cleared, the attempt count stays.
        assert_eq!(
            check(&fail, &job(JobStatus::Sent, 2, Pubkey::default())),
            Applicability::AlreadyApplied
        );
        assert_eq!(
            check(&fail, &job(JobStatus::Refunded, 2, m)),
            Applicability::AlreadyApplied
        );
        assert_eq!(
            check(&fail, &job(JobStatus::Allocated, 3, m)),
            Applicability::Superseded
        );
    }

    #[test]
    fn expire_only_after_the_ttl() {
        let mut j = job(JobStatus::Sent, 0, Pubkey::default());
        assert_eq!(
            applicability(&Intent::Expire, &j, 599, TTL.0, TTL.1),
            Applicability::Superseded
        );
        assert_eq!(
            applicability(&Intent::Expire, &j, 600, TTL.0, TTL.1),
            Applicability::Needed
        );
        j.set_status(JobStatus::Expired);
        assert_eq!(
            applicability(&Intent::Expire, &j, 700, TTL.0, TTL.1),
            Applicability::AlreadyApplied
        );
    }

    #[test]
    fn mempool_ttls() {
        let t = MempoolTtl::default();
        assert_eq!(sweep(Phase::Queued, 0, 599, &t), Sweep::Keep);
        assert_eq!(sweep(Phase::Queued, 0, 600, &t), Sweep::GiveUp);
        assert_eq!(sweep(Phase::Running, 0, 900, &t), Sweep::GiveUp);
        assert_eq!(sweep(Phase::Done, 0, 299, &t), Sweep::Keep);
        assert_eq!(sweep(Phase::Failed, 0, 300, &t), Sweep::Purge);
    }

    #[test]
    fn intents_round_trip_through_json() {
        let i = Intent::Settle {
            miner: Pubkey::new_unique(),
            attempt: 1,
            price: 9,
            report: CompletionReport {
                response_ms: 7,
                success: true,
                ..Default::default()
            },
        };
        let text = serde_json::to_string(&i).unwrap();
        assert_eq!(serde_json::from_str::<Intent>(&text).unwrap(), i);
    }
}
