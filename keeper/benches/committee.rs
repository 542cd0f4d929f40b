//! Committee benchmark: settle latency, from a job's submission on chain to
//! its outcome on chain, with five keepers co-signing 3-of-5 over loopback
//! HTTP, then with one keeper down (its jobs wait for the next member's
//! takeover). Embedded chain, real miner processes on the test model, the
//! test network's timings (takeover 2 s, poll 200 ms). Prints a table. Run:
//! `cargo build -p verdict-miner && VERDICT_MINER_BIN=$CARGO_TARGET_DIR/debug/verdict-miner cargo bench -p verdict-keeper --bench committee`.

#[path = "../tests/common/mod.rs"]
mod common;

use std::time::{Duration, Instant};

use common::*;
use verdict::state::{JobStatus, RiskLevel};

const JOBS: usize = 60;
const IN_FLIGHT: usize = 4;

fn percentile(sorted: &[f64], p: f64) -> f64 {
    sorted[((sorted.len() - 1) as f64 * p).round() as usize]
}

/// Submits `JOBS` jobs (low and medium risk, `IN_FLIGHT` at a time, inputs
/// handed to the live keepers in turn) and returns each job's settle latency in s.
async fn run(net: &mut Net, keepers: &Keepers, tag: &str) -> Vec<f64> {
    let live: Vec<usize> = (0..keepers.handles.len())
        .filter(|&i| keepers.handles[i].is_some())
        .collect();
    let mut latencies = Vec::new();
    for batch in 0..JOBS / IN_FLIGHT {
        let mut jobs = Vec::new();
        for k in 0..IN_FLIGHT {
            let i = batch * IN_FLIGHT + k;
            let risk = if i.is_multiple_of(2) {
                RiskLevel::Low
            } else {
                RiskLevel::Medium
            };
            let input = format!("{tag} {i}");
            let job = net.submit(&input, risk).await;
            let submitted = Instant::now();
            give_input(keepers.get(live[i % live.len()]), &job, &input).await;
            jobs.push((job, submitted));
        }
        // Every job of the batch is watched at once, so one slow job does
        // not inflate the others' figures.
        while !jobs.is_empty() {
            let mut pending = Vec::new();
            for (job, submitted) in jobs {
                if matches!(
                    net.job(&job).await.status(),
                    JobStatus::Solved | JobStatus::Paid
                ) {
                    latencies.push(submitted.elapsed().as_secs_f64());
                } else {
                    assert!(
                        submitted.elapsed() < Duration::from_secs(60),
                        "job {job} not settled"
                    );
                    pending.push((job, submitted));
                }
            }
            jobs = pending;
            tokio::time::sleep(Duration::from_millis(5)).await;
        }
    }
    latencies.sort_by(f64::total_cmp);
    latencies
}

fn row(case: &str, l: &[f64]) {
    println!(
        "| {case:<22} | {:>4} | {:>7.3} | {:>7.3} | {:>7.3} |",
        l.len(),
        percentile(l, 0.5),
        percentile(l, 0.99),
        l[l.len() - 1]
    );
}

#[tokio::main(flavor = "multi_thread", worker_threads = 2)]
async fn main() {
    let mut net = Net::new(&[
        spec(Behaviour::Honest, true, 10_000),
        spec(Behaviour::Honest, true, 9_500),
        spec(Behaviour::Honest, true, 9_000),
    ])
    .await;
    let mut keepers = Keepers::start(&net, |_, _| {}).await;
    let all_up = run(&mut net, &keepers, "all up").await;
    keepers.kill(2).await;
    let one_down = run(&mut net, &keepers, "one down").await;
    println!("settle latency, submission to on-chain outcome (s), {JOBS} jobs per case, {IN_FLIGHT} in flight");
    println!(
        "| {:<22} | {:>4} | {:>7} | {:>7} | {:>7} |",
        "case", "jobs", "p50", "p99", "max"
    );
    println!("|{:-<24}|{:->6}|{:->9}|{:->9}|{:->9}|", "", "", "", "", "");
    row("5 keepers up", &all_up);
    row("1 of 5 down", &one_down);
    keepers.shutdown().await;
}
