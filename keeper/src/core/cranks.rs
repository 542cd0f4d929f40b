//! Which permissionless cranks are due, as the chain view shows them: the
//! payout and the close of the jobs this keeper's node co-signed (the close
//! pays the co-signers' fee to the node), and a downtime slash of any miner
//! whose success rate fell below the slashing threshold (once per epoch).
//! Pure; the planner ([`super::plan`]) has each sent at most once.

use anchor_lang::prelude::Pubkey;
use verdict::instructions::slash_node::verdict_epoch;
use verdict::state::{Job, JobStatus, Node, NodeStatus, ProtocolParams};

/// One crank, and what makes it unique (sent at most once per keeper).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Crank {
    /// Release a solved job's payout (the co-signers' fee waits in escrow).
    ClaimPayout { job: Pubkey },
    /// Close a paid job past its challenge window: the co-signers' fee goes
    /// to their nodes' owed balances, the rent back to the client.
    CloseJob { job: Pubkey },
    /// Slash a miner for downtime in a Verdict epoch.
    Downtime { node: Pubkey, epoch: u64 },
}

impl Crank {
    /// The metric label.
    pub fn kind(&self) -> &'static str {
        match self {
            Crank::ClaimPayout { .. } => "claim_payout",
            Crank::CloseJob { .. } => "close_job",
            Crank::Downtime { .. } => "slash_downtime",
        }
    }
}

/// The cranks due at `now`; `me` is this keeper's node (its co-signed jobs).
pub fn due(
    jobs: &[(Pubkey, Job)],
    nodes: &[(Pubkey, Node)],
    me: Option<Pubkey>,
    params: &ProtocolParams,
    now: i64,
) -> Vec<Crank> {
    let mut cranks = Vec::new();
    if let Some(me) = me {
        for (key, job) in jobs {
            if job.dispute_open() || !job.signers().contains(&me) {
                continue;
            }
            match job.status() {
                JobStatus::Solved if now >= job.release_at => {
                    cranks.push(Crank::ClaimPayout { job: *key })
                }
                JobStatus::Paid
                    if job.client_owed == 0 && job.challenge_window_over(now, params) =>
                {
                    cranks.push(Crank::CloseJob { job: *key })
                }
                _ => {}
            }
        }
    }
    let epoch = verdict_epoch(now, params.epoch_secs);
    for (key, node) in nodes {
        if node.is_miner()
            && node.status() == NodeStatus::Active
            && node.reputation.below_slash_threshold(params)
        {
            cranks.push(Crank::Downtime { node: *key, epoch });
        }
    }
    cranks
}

#[cfg(test)]
mod tests {
    use verdict::constants::ROLE_MINER;
    use verdict::state::{JobOutcome, TrialStatus};

    use super::*;

    #[test]
    fn payouts_and_closes_of_co_signed_jobs_when_due() {
        let p = ProtocolParams::default();
        let me = Pubkey::new_unique();
        let mut solved = Job::default();
        solved.set_status(JobStatus::Solved);
        solved.release_at = 100;
        solved.signers[0] = me;
        solved.signer_count = 1;
        let mut paid = solved;
        paid.set_status(JobStatus::Paid);
        paid.solved_at = 0;
        let mut disputed = solved;
        disputed.set_dispute_open(true);
        let mut not_mine = solved;
        not_mine.signers[0] = Pubkey::new_unique();
        let (a, b, c, d) = (
            Pubkey::new_unique(),
            Pubkey::new_unique(),
            Pubkey::new_unique(),
            Pubkey::new_unique(),
        );
        let jobs = vec![(a, solved), (b, paid), (c, disputed), (d, not_mine)];
        assert!(
            due(&jobs, &[], Some(me), &p, 99).is_empty(),
            "nothing released yet"
        );
        assert_eq!(
            due(&jobs, &[], Some(me), &p, 100),
            vec![Crank::ClaimPayout { job: a }],
            "the paid job's challenge window is still open"
        );
        let window = p.challenge_window_epochs as i64 * p.epoch_secs;
        assert_eq!(
            due(&jobs, &[], Some(me), &p, window),
            vec![Crank::ClaimPayout { job: a }, Crank::CloseJob { job: b }]
        );
        assert!(
            due(&jobs, &[], None, &p, window).is_empty(),
            "no node, no fee to collect"
        );
    }

    #[test]
    fn downtime_slashes_once_the_success_rate_is_below_the_threshold() {
        let p = ProtocolParams::default();
        let mut node = Node::default();
        node.roles = ROLE_MINER;
        node.reputation.set_trial(TrialStatus::Passed);
        for i in 0..20 {
            let outcome = if i % 2 == 0 {
                JobOutcome::Failure
            } else {
                JobOutcome::Success {
                    sla_met: true,
                    latency_score_bps: 10_000,
                    response_ms: 5,
                }
            };
            node.reputation.record(outcome, &p);
        }
        let key = Pubkey::new_unique();
        let now = 3 * p.epoch_secs + 5;
        assert_eq!(
            due(&[], &[(key, node)], None, &p, now),
            vec![Crank::Downtime {
                node: key,
                epoch: 3
            }]
        );
        node.set_status(NodeStatus::Liquidated);
        assert!(due(&[], &[(key, node)], None, &p, now).is_empty());
    }
}
