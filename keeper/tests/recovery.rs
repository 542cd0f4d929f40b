//! A keeper killed mid-job and restarted on the same database, injected
//! chain faults (sends that fail, sends that land but report a timeout), and
//! trial tasks for new miners: every job ends exactly once on chain.

mod common;

use std::sync::atomic::{AtomicU32, Ordering};
use std::sync::Arc;
use std::time::Duration;

use common::*;
use keeper::gateway::{FaultAction, SendFaults};
use solana_sdk::instruction::Instruction;
use verdict::state::{JobStatus, RiskLevel, TrialStatus};

const WAIT: Duration = Duration::from_secs(60);

/// Transactions a finished job should have landed: submit + settle (low),
/// submit + assign + complete (medium/high), when nothing failed.
fn expected_landed(risk: RiskLevel) -> usize {
    if risk == RiskLevel::Low {
        2
    } else {
        3
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_keeper_killed_mid_job_resumes_and_every_job_ends_exactly_once() {
    let mut net = Net::new(&[spec(Behaviour::Sluggish, true, 10_000)]).await;
    let mut jobs = Vec::new();
    let mut unfinished_at_crash = 0;
    // Crash at several points of the pipeline: before the first post, while
    // the miner computes, around the outcome post.
    for (round, crash_after_ms) in [50u64, 300, 750, 900].into_iter().enumerate() {
        let keeper = net.start_keeper(net.config(), None).await;
        let mut these = Vec::new();
        for (i, risk) in [RiskLevel::Low, RiskLevel::Medium].into_iter().enumerate() {
            let input = format!("crash round {round} job {i}");
            let job = net.submit(&input, risk).await;
            assert_eq!(give_input(&keeper, &job, &input).await.status(), 202);
            these.push((job, risk));
        }
        tokio::time::sleep(Duration::from_millis(crash_after_ms)).await;
        keeper.crash().await;
        for (job, _) in &these {
            if net.job(job).await.status() != JobStatus::Solved {
                unfinished_at_crash += 1;
            }
        }
        jobs.extend(these);
    }
    assert!(
        unfinished_at_crash > 0,
        "the crashes must interrupt jobs in flight"
    );
    // A fresh keeper on the same database finishes everything.
    let keeper = net.start_keeper(net.config(), None).await;
    for (job, risk) in &jobs {
        let (code, body) = wait_outcome(&keeper, job, WAIT).await;
        assert_eq!(code, 200, "{job}: {body}");
        let j = net.job(job).await;
        assert_eq!((j.status(), j.attempts), (JobStatus::Solved, 1), "{job}");
        assert_eq!(
            net.landed(job),
            expected_landed(*risk),
            "{job} ({risk:?}) landed exactly once per step"
        );
    }
    let metrics = keeper.ctx.metrics.render();
    assert!(
        !metrics.contains("result=\"refused\""),
        "no post was refused:\n{metrics}"
    );
    keeper.shutdown().await;
}

/// Every 2nd send lands but reports a lost confirmation; every 3rd fails
/// before reaching the chain.
struct Flaky(AtomicU32);

impl SendFaults for Flaky {
    fn next(&self, _: &[Instruction]) -> FaultAction {
        match self.0.fetch_add(1, Ordering::SeqCst) % 6 {
            1 | 3 | 5 => FaultAction::LandThenTimeout,
            2 => FaultAction::FailBeforeSend,
            _ => FaultAction::Proceed,
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn injected_chain_faults_are_survived_without_double_posting() {
    let mut net = Net::new(&[spec(Behaviour::Honest, true, 10_000)]).await;
    let faults: Arc<dyn SendFaults> = Arc::new(Flaky(AtomicU32::new(0)));
    let keeper = net.start_keeper(net.config(), Some(faults)).await;
    let mut jobs = Vec::new();
    for (i, risk) in [
        RiskLevel::Low,
        RiskLevel::Medium,
        RiskLevel::High,
        RiskLevel::Low,
        RiskLevel::Medium,
    ]
    .into_iter()
    .enumerate()
    {
        let input = format!("faulty chain {i}");
        let job = net.submit(&input, risk).await;
        assert_eq!(give_input(&keeper, &job, &input).await.status(), 202);
        jobs.push((job, risk));
    }
    for (job, risk) in &jobs {
        let (code, body) = wait_outcome(&keeper, job, WAIT).await;
        assert_eq!(code, 200, "{job}: {body}");
        let j = net.job(job).await;
        assert_eq!((j.status(), j.attempts), (JobStatus::Solved, 1));
        assert_eq!(net.landed(job), expected_landed(*risk), "{job} ({risk:?})");
    }
    let metrics = keeper.ctx.metrics.render();
    assert!(
        metrics.contains("result=\"already_applied\""),
        "lost confirmations were detected, not resent:\n{metrics}"
    );
    assert!(
        metrics.contains("retries_total{reason=\"chain_send\"}"),
        "{metrics}"
    );
    keeper.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn new_miners_get_a_trial_task_before_real_work() {
    let net = Net::new(&[cold(Behaviour::Honest), cold(Behaviour::Wrong)]).await;
    let keeper = net.start_keeper(net.config(), None).await;
    let start = std::time::Instant::now();
    loop {
        let honest = net
            .node(&net.miners[0].handle.node)
            .await
            .reputation
            .trial();
        let wrong = net
            .node(&net.miners[1].handle.node)
            .await
            .reputation
            .trial();
        if honest == TrialStatus::Passed && wrong == TrialStatus::Failed {
            break;
        }
        assert!(
            start.elapsed() < WAIT,
            "trials not recorded: {honest:?} {wrong:?}"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let wrong = net.node(&net.miners[1].handle.node).await;
    assert!(
        wrong.reputation.cooldown_until > 0,
        "a failed trial cools the miner down"
    );
    keeper.shutdown().await;
}
