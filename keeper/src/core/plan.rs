//! The watcher's planner: from one view of the chain and what this keeper
//! holds locally, the typed actions of a round — expire a job past its TTL,
//! resume the driver of a job this keeper holds, send a permissionless
//! crank — and which jobs showed progress. Pure; the watcher fires the
//! actions in order.

use std::collections::{HashMap, HashSet};

use anchor_lang::prelude::Pubkey;
use verdict::instructions::slash_node::verdict_epoch;
use verdict::state::{Job, JobStatus, Node, ProtocolParams};

use crate::core::cranks::{due, Crank};

/// One thing the watcher does in a round.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Action {
    /// The job outlived its TTL: post its expiry (the escrow is refunded).
    Expire(Pubkey),
    /// This keeper holds an unfinished record of the job: drive it.
    Resume(Pubkey),
    /// A permissionless crank that is due, sent at most once.
    Crank(Crank),
}

/// What a job looked like on chain, to tell progress from silence.
pub type Seen = HashMap<Pubkey, (JobStatus, u8)>;

/// What the planner reads: the chain view and this keeper's own state.
pub struct Inputs<'a> {
    pub jobs: &'a [(Pubkey, Job)],
    pub nodes: &'a [(Pubkey, Node)],
    pub params: &'a ProtocolParams,
    pub now: i64,
    /// The protocol is paused: cranks wait (expiries do not: refunds stay open).
    pub paused: bool,
    /// This keeper's validator node, if it sits in a committee (its co-signed jobs).
    pub me: Option<Pubkey>,
    /// Which cranks this keeper sends (expiries always): payouts and
    /// closes of its co-signed jobs, downtime slashes.
    pub crank_claims: bool,
    pub crank_downtime: bool,
    /// Jobs a driver is working on now: left alone.
    pub in_flight: &'a HashSet<Pubkey>,
    /// Jobs this keeper holds an unfinished record of.
    pub unfinished: &'a HashSet<Pubkey>,
    /// Each job's state at the last round.
    pub seen: &'a Seen,
    /// Cranks already sent.
    pub cranked: &'a HashSet<Crank>,
}

/// A round's plan.
#[derive(Debug, Default, PartialEq)]
pub struct Plan {
    pub actions: Vec<Action>,
    /// Jobs whose status or attempt changed since the last round (their
    /// failover clock restarts).
    pub progressed: Vec<Pubkey>,
    /// Each job's state now, for the next round.
    pub seen: Seen,
    /// The cranks sent that the chain still shows, to remember (closed
    /// jobs and past epochs are forgotten); this round's cranks are added.
    pub cranked: HashSet<Crank>,
}

/// Plans one round.
pub fn plan(i: &Inputs) -> Plan {
    let mut plan = Plan::default();
    for (key, job) in i.jobs {
        let state = (job.status(), job.attempts);
        if i.seen.get(key) != Some(&state) {
            plan.progressed.push(*key);
        }
        plan.seen.insert(*key, state);
        if i.in_flight.contains(key) {
            continue;
        }
        if job.is_expired(i.now, i.params) {
            plan.actions.push(Action::Expire(*key));
        } else if i.unfinished.contains(key) {
            plan.actions.push(Action::Resume(*key));
        }
    }
    let epoch = verdict_epoch(i.now, i.params.epoch_secs);
    plan.cranked = i
        .cranked
        .iter()
        .filter(|c| match c {
            Crank::ClaimPayout { job } | Crank::CloseJob { job } => {
                i.jobs.iter().any(|(k, _)| k == job)
            }
            Crank::Downtime { epoch: e, .. } => *e == epoch,
        })
        .copied()
        .collect();
    if !i.paused {
        let wanted = |c: &Crank| match c {
            Crank::ClaimPayout { .. } | Crank::CloseJob { .. } => i.crank_claims,
            Crank::Downtime { .. } => i.crank_downtime,
        };
        for crank in due(i.jobs, i.nodes, i.me, i.params, i.now) {
            if wanted(&crank) && plan.cranked.insert(crank) {
                plan.actions.push(Action::Crank(crank));
            }
        }
    }
    plan
}

#[cfg(test)]
mod tests {
    use super::*;

    fn job(status: JobStatus, created_at: i64) -> Job {
        let mut job = Job::default();
        job.set_status(status);
        job.created_at = created_at;
        job
    }

    struct World {
        jobs: Vec<(Pubkey, Job)>,
        params: ProtocolParams,
        crank_claims: bool,
        in_flight: HashSet<Pubkey>,
        unfinished: HashSet<Pubkey>,
        seen: Seen,
        cranked: HashSet<Crank>,
        me: Option<Pubkey>,
    }

    impl World {
        fn new(jobs: Vec<(Pubkey, Job)>) -> Self {
            World {
                jobs,
                params: ProtocolParams::default(),
                crank_claims: true,
                in_flight: HashSet::new(),
                unfinished: HashSet::new(),
                seen: Seen::new(),
                cranked: HashSet::new(),
                me: None,
            }
        }

        fn plan(&self, now: i64, paused: bool) -> Plan {
            plan(&Inputs {
                jobs: &self.jobs,
                nodes: &[],
                params: &self.params,
                now,
                paused,
                me: self.me,
                crank_claims: self.crank_claims,
                crank_downtime: true,
                in_flight: &self.in_flight,
                unfinished: &self.unfinished,
                seen: &self.seen,
                cranked: &self.cranked,
            })
        }
    }

    #[test]
    fn a_job_past_its_ttl_expires_unless_a_driver_holds_it() {
        let key = Pubkey::new_unique();
        let mut world = World::new(vec![(key, job(JobStatus::Sent, 0))]);
        let late = world.params.sent_ttl_secs + 1;
        assert_eq!(world.plan(late, false).actions, vec![Action::Expire(key)]);
        // Paused: refunds stay open.
        assert_eq!(world.plan(late, true).actions, vec![Action::Expire(key)]);
        world.in_flight.insert(key);
        assert!(world.plan(late, false).actions.is_empty());
    }

    #[test]
    fn only_jobs_held_here_are_resumed() {
        let (held, other) = (Pubkey::new_unique(), Pubkey::new_unique());
        let mut world = World::new(vec![
            (held, job(JobStatus::Sent, 0)),
            (other, job(JobStatus::Sent, 0)),
        ]);
        world.unfinished.insert(held);
        assert_eq!(world.plan(1, false).actions, vec![Action::Resume(held)]);
        world.in_flight.insert(held);
        assert!(world.plan(1, false).actions.is_empty());
    }

    #[test]
    fn progress_is_a_change_of_status_or_attempt() {
        let key = Pubkey::new_unique();
        let mut world = World::new(vec![(key, job(JobStatus::Sent, 0))]);
        let first = world.plan(1, false);
        assert_eq!(first.progressed, vec![key]);
        world.seen = first.seen;
        assert!(world.plan(1, false).progressed.is_empty());
        world.jobs[0].1.attempts = 1;
        assert_eq!(world.plan(1, false).progressed, vec![key]);
    }

    fn solved_by(signer: Pubkey) -> Job {
        let mut solved = job(JobStatus::Solved, 0);
        solved.release_at = 10;
        solved.signers[0] = signer;
        solved.signer_count = 1;
        solved
    }

    #[test]
    fn a_crank_is_sent_once_and_forgotten_with_its_job() {
        let (key, me) = (Pubkey::new_unique(), Pubkey::new_unique());
        let mut world = World::new(vec![(key, solved_by(Pubkey::new_unique()))]);
        world.me = Some(me);
        // Not a co-signer: nothing of this job's to crank.
        assert!(world.plan(10, false).actions.is_empty());
        world.jobs = vec![(key, solved_by(me))];
        let first = world.plan(10, false);
        let claim = Crank::ClaimPayout { job: key };
        assert_eq!(first.actions, vec![Action::Crank(claim)]);
        assert!(first.cranked.contains(&claim));
        world.cranked = first.cranked;
        assert!(world.plan(10, false).actions.is_empty(), "sent once");
        // Paused: cranks wait.
        world.cranked.clear();
        assert!(world.plan(10, true).actions.is_empty());
        // Turned off in the configuration.
        world.crank_claims = false;
        assert!(world.plan(10, false).actions.is_empty());
        // Forgotten once the chain no longer shows the job.
        world.cranked.insert(claim);
        world.jobs.clear();
        assert!(world.plan(10, false).cranked.is_empty());
    }
}
