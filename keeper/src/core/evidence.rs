//! How long a keeper keeps a job's input as evidence (rule 9): until the
//! job's challenge window and any dispute over it have ended, read from the
//! chain, so an honest keeper can re-run the job and vote in a dispute
//! however late it was opened. Pure: the chain's accounts and clock in, a
//! decision out.

use verdict::state::{Dispute, DisputeStatus, Job, JobStatus};

/// What to do with a stored input.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Retention {
    /// Keep it. `until`: the chain time before which nothing can change
    /// that (look again then); `None`: look again next round (the job is
    /// still open, or a dispute over it is voting).
    Keep { until: Option<i64> },
    /// Nothing can ask for it any more: prune it.
    Prune,
}

/// The retention of the input of `job` (`None`: no such account, i.e. the
/// job was closed, which the program allows only once its challenge window
/// is over and no dispute is open), given every dispute over it,
/// `window_secs` (challenge_window_epochs × epoch_secs) and the chain's `now`.
pub fn input_retention(
    job: Option<&Job>,
    disputes: &[&Dispute],
    window_secs: i64,
    now: i64,
) -> Retention {
    if disputes.iter().any(|d| d.status() == DisputeStatus::Voting) {
        // Resolution may come late; a voter still needs the input until then.
        return Retention::Keep { until: None };
    }
    let Some(job) = job else {
        return Retention::Prune;
    };
    if matches!(job.status(), JobStatus::Sent | JobStatus::Allocated) {
        return Retention::Keep { until: None };
    }
    if job.solved_at == 0 {
        // Refunded, expired or invalid without ever being solved: nothing to challenge.
        return Retention::Prune;
    }
    // A dispute can only open inside the window; the last one's vote may end after it.
    let votes_end = disputes
        .iter()
        .map(|d| d.reveal_end)
        .max()
        .unwrap_or(i64::MIN);
    let until = job.solved_at.saturating_add(window_secs).max(votes_end);
    if now >= until {
        Retention::Prune
    } else {
        Retention::Keep { until: Some(until) }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::core::lifecycle::tests::job;
    use anchor_lang::prelude::Pubkey;

    const WINDOW: i64 = 2 * 86_400;

    fn solved(at: i64) -> Job {
        let mut j = job(JobStatus::Paid, 1, Pubkey::new_unique());
        j.solved_at = at;
        j
    }

    /// A Dispute with every field zero, then set.
    fn dispute(status: DisputeStatus, reveal_end: i64) -> Dispute {
        let mut d = Dispute::default();
        d.set_status(status);
        d.reveal_end = reveal_end;
        d
    }

    #[test]
    fn a_solved_job_keeps_its_input_through_the_challenge_window() {
        let j = solved(1_000);
        let end = 1_000 + WINDOW;
        assert_eq!(
            input_retention(Some(&j), &[], WINDOW, 1_300),
            Retention::Keep { until: Some(end) },
            "past the old 5-minute drop"
        );
        assert_eq!(
            input_retention(Some(&j), &[], WINDOW, end - 1),
            Retention::Keep { until: Some(end) }
        );
        assert_eq!(
            input_retention(Some(&j), &[], WINDOW, end),
            Retention::Prune
        );
    }

    #[test]
    fn a_dispute_keeps_it_while_voting_and_until_its_reveal_end() {
        let j = solved(1_000);
        let late = 1_000 + WINDOW - 10;
        let voting = dispute(DisputeStatus::Voting, late + 86_400);
        let far = late + 10 * 86_400;
        assert_eq!(
            input_retention(Some(&j), &[&voting], WINDOW, far),
            Retention::Keep { until: None },
            "unresolved: kept"
        );
        let resolved = dispute(DisputeStatus::Overturned, late + 86_400);
        assert_eq!(
            input_retention(Some(&j), &[&resolved], WINDOW, late + 100),
            Retention::Keep {
                until: Some(late + 86_400)
            }
        );
        assert_eq!(
            input_retention(Some(&j), &[&resolved], WINDOW, late + 86_400),
            Retention::Prune
        );
        // The job closed after its dispute: nothing left to vote on.
        assert_eq!(
            input_retention(None, &[&resolved], WINDOW, late + 86_400),
            Retention::Prune
        );
        assert_eq!(
            input_retention(None, &[&voting], WINDOW, far),
            Retention::Keep { until: None }
        );
    }

    #[test]
    fn open_jobs_are_kept_and_never_solved_or_closed_jobs_are_pruned() {
        for status in [JobStatus::Sent, JobStatus::Allocated] {
            assert_eq!(
                input_retention(Some(&job(status, 0, Pubkey::default())), &[], WINDOW, 5),
                Retention::Keep { until: None }
            );
        }
        for status in [JobStatus::Refunded, JobStatus::Expired, JobStatus::Invalid] {
            assert_eq!(
                input_retention(Some(&job(status, 1, Pubkey::default())), &[], WINDOW, 5),
                Retention::Prune
            );
        }
        assert_eq!(input_retention(None, &[], WINDOW, 5), Retention::Prune);
    }
}
