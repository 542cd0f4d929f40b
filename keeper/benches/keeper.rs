//! Keeper benchmark: routing decision latency at 1k/10k/100k known miners,
//! and end-to-end dispatch + validation throughput against fast loopback
//! miners (in-process `verdict-miner` servers, honest, test model) with the
//! added latency versus calling a miner directly. Chain posting is excluded:
//! it is bounded by the cluster, not the keeper. Run with
//! `cargo bench -p verdict-keeper` (release).

use std::sync::Arc;
use std::time::{Duration, Instant};

use anchor_lang::prelude::Pubkey;
use keeper::core::latency::LatencyBook;
use keeper::core::routing::{MinerProfile, RouteRequest, RoutingSnapshot, RoutingWeights};
use keeper::miners::{call_and_validate, JobInput};
use miner::fault::FaultPlan;
use miner::server::{self, MinerState, DEFAULT_MAX_BODY_BYTES};
use sha2::{Digest, Sha256};
use verdict::state::{model_id, RiskLevel, TrialStatus};
use verdict_models::{ModelRegistry, TEST_PROJECTION_ID};
use verdict_wire::client::MinerClient;
use verdict_wire::miner::{InferRequest, JobId, ModelId};

fn percentile(sorted: &[f64], p: f64) -> f64 {
    sorted[((sorted.len() - 1) as f64 * p).round() as usize]
}

/// A deterministic pseudo-random population of miners.
fn population(n: usize) -> Vec<MinerProfile> {
    let model = model_id(TEST_PROJECTION_ID).unwrap();
    let mut x: u64 = 0x9E37_79B9_7F4A_7C15;
    let mut next = move || {
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        x
    };
    (0..n)
        .map(|i| {
            let r = next();
            let mut key = [0u8; 32];
            key[..8].copy_from_slice(&(i as u64).to_le_bytes());
            MinerProfile {
                node: Pubkey::new_from_array(key),
                signing_key: Pubkey::new_from_array(key),
                models: vec![model],
                trust: 0.5 + (r % 1000) as f64 / 500.0,
                success_rate: 0.8 + (r % 200) as f64 / 1000.0,
                stake: 1_000 + r % 100_000,
                tier: 1 + (r % 3) as u8,
                window_jobs: (r % 40) as u32,
                trial: if r % 50 == 0 {
                    TrialStatus::Pending
                } else {
                    TrialStatus::Passed
                },
                cooldown_until: 0,
                rate_limited: r % 40 == 0,
                last_heartbeat: (r % 3_600) as i64,
                active_miner: true,
                recent_mistake: r % 10 == 0,
                median_latency_ms: (r % 7 != 0).then_some(5.0 + (r % 800) as f64),
                tokens_per_second: Vec::new(),
                reachable: true,
            }
        })
        .collect()
}

fn bench_routing() {
    println!("\n## Routing decision latency (pick 3 candidates from a prebuilt snapshot)\n");
    println!("| known miners | snapshot build | decisions | p50 | p99 |");
    println!("|---:|---:|---:|---:|---:|");
    let weights = RoutingWeights::default();
    for n in [1_000usize, 10_000, 100_000] {
        let started = Instant::now();
        let snapshot = RoutingSnapshot::build(population(n), &weights, 3_600);
        let build = started.elapsed();
        let decisions = if n >= 100_000 { 300 } else { 2_000 };
        let mut samples = Vec::with_capacity(decisions);
        let model = model_id(TEST_PROJECTION_ID).unwrap();
        for i in 0..decisions {
            let risk = [RiskLevel::Low, RiskLevel::Medium, RiskLevel::High][i % 3];
            let exclude = [Pubkey::new_from_array([i as u8; 32])];
            let req = RouteRequest {
                risk,
                model,
                realtime: i % 2 == 0,
                now: 3_600,
                exclude: &exclude,
            };
            let t = Instant::now();
            let chosen = snapshot.route(&req, &weights, 3);
            samples.push(t.elapsed().as_secs_f64() * 1e6);
            assert!(!chosen.is_empty());
        }
        samples.sort_by(f64::total_cmp);
        println!(
            "| {n} | {:.1} ms | {decisions} | {:.0} µs | {:.0} µs |",
            build.as_secs_f64() * 1e3,
            percentile(&samples, 0.5),
            percentile(&samples, 0.99)
        );
    }
}

async fn bench_dispatch() {
    const MINERS: usize = 4;
    const JOBS: usize = 2_000;
    const CONCURRENCY: usize = 32;
    let model: ModelId = TEST_PROJECTION_ID.parse().unwrap();
    let mut profiles = Vec::new();
    let mut clients = Vec::new();
    for _ in 0..MINERS {
        let key = verdict_wire::keys::generate();
        let state = Arc::new(MinerState::new(
            ModelRegistry::new(std::slice::from_ref(&model)).unwrap(),
            key.clone(),
            FaultPlan::honest(),
            DEFAULT_MAX_BODY_BYTES,
        ));
        let (addr, _task) = server::spawn("127.0.0.1:0".parse().unwrap(), state)
            .await
            .unwrap();
        let node = Pubkey::new_unique();
        let mut p = population(1).remove(0);
        p.node = node;
        p.signing_key = Pubkey::new_from_array(key.verifying_key().to_bytes());
        p.trial = TrialStatus::Passed;
        p.rate_limited = false;
        p.tier = 1;
        p.cooldown_until = 0;
        // Unmeasured at first, like a fresh keeper (no real-time exclusion).
        p.median_latency_ms = None;
        profiles.push(p);
        clients.push(MinerClient::new(&format!("http://{addr}"), Duration::from_secs(3)).unwrap());
    }
    let weights = RoutingWeights::default();
    let snapshot = Arc::new(RoutingSnapshot::build(profiles.clone(), &weights, 0));
    let clients = Arc::new(clients);
    let profiles = Arc::new(profiles);
    let book = Arc::new(std::sync::Mutex::new(LatencyBook::new(1_000)));
    let input = |i: usize| {
        format!("benchmark input number {i}: the quick brown fox jumps over the lazy dog")
    };

    // Warm up every miner (model load).
    for c in clients.iter() {
        c.infer(&InferRequest::new(JobId([0; 32]), model.clone(), "warm"))
            .await
            .unwrap();
    }

    // One job through the keeper path: route, call, validate, record.
    let keeper_path = {
        let (snapshot, clients, profiles, book) = (
            snapshot.clone(),
            clients.clone(),
            profiles.clone(),
            book.clone(),
        );
        move |i: usize| {
            let (snapshot, clients, profiles, book) = (
                snapshot.clone(),
                clients.clone(),
                profiles.clone(),
                book.clone(),
            );
            async move {
                let text = input(i);
                let hash: [u8; 32] = Sha256::digest(text.as_bytes()).into();
                let mut job = [0u8; 32];
                job[..8].copy_from_slice(&(i as u64).to_le_bytes());
                let model_id_bytes = model_id(TEST_PROJECTION_ID).unwrap();
                let req = RouteRequest {
                    risk: RiskLevel::Medium,
                    model: model_id_bytes,
                    realtime: true,
                    now: 0,
                    exclude: &[],
                };
                // Spread load: rotate among the top candidates.
                let chosen = snapshot.route(&req, &RoutingWeights::default(), MINERS);
                let pick = chosen[i % chosen.len()].profile.node;
                let idx = profiles.iter().position(|p| p.node == pick).unwrap();
                let job = JobInput {
                    job: Pubkey::new_from_array(job),
                    model: TEST_PROJECTION_ID,
                    input: &text,
                    input_hash: hash,
                    sample_as: None,
                };
                let budget = keeper::core::validation::Budget {
                    timeout: Duration::from_secs(3),
                    sla_ms: 2_000,
                };
                let answer = call_and_validate(&clients[idx], &profiles[idx], &job, budget, 0)
                    .await
                    .map_err(|e| e.1)
                    .unwrap();
                book.lock().unwrap().record(pick, answer.timing);
            }
        }
    };

    // Sequential latency: direct miner call vs the keeper path.
    let mut direct = Vec::new();
    let mut via_keeper = Vec::new();
    for i in 0..300 {
        let t = Instant::now();
        let req = InferRequest::new(JobId([1; 32]), model.clone(), input(i));
        clients[i % MINERS].infer(&req).await.unwrap();
        direct.push(t.elapsed().as_secs_f64() * 1e3);
        let t = Instant::now();
        keeper_path(i).await;
        via_keeper.push(t.elapsed().as_secs_f64() * 1e3);
    }
    direct.sort_by(f64::total_cmp);
    via_keeper.sort_by(f64::total_cmp);

    // Throughput with CONCURRENCY jobs in flight.
    let started = Instant::now();
    let mut set = tokio::task::JoinSet::new();
    let mut next = 0;
    while next < JOBS || !set.is_empty() {
        while set.len() < CONCURRENCY && next < JOBS {
            set.spawn(keeper_path(next));
            next += 1;
        }
        set.join_next().await.unwrap().unwrap();
    }
    let elapsed = started.elapsed();

    println!("\n## Dispatch + validation with {MINERS} loopback miners (test-projection-v1; chain posting excluded)\n");
    println!("| measure | value |");
    println!("|---|---:|");
    println!("| jobs dispatched and validated | {JOBS} ({CONCURRENCY} in flight) |");
    println!(
        "| throughput | {:.0} jobs/s |",
        JOBS as f64 / elapsed.as_secs_f64()
    );
    println!(
        "| direct miner call p50 / p99 | {:.2} / {:.2} ms |",
        percentile(&direct, 0.5),
        percentile(&direct, 0.99)
    );
    println!(
        "| keeper path p50 / p99 | {:.2} / {:.2} ms |",
        percentile(&via_keeper, 0.5),
        percentile(&via_keeper, 0.99)
    );
    println!(
        "| added latency p50 | {:.3} ms (routing + signature/structure validation + stats) |",
        percentile(&via_keeper, 0.5) - percentile(&direct, 0.5)
    );
    println!(
        "\nLatency table from the keeper path:\n\n{}",
        book.lock().unwrap().table()
    );
}

fn main() {
    // `cargo test` runs benches in test mode with --bench absent: stay quick.
    if std::env::args().any(|a| a == "--test") || std::env::args().any(|a| a == "--list") {
        return;
    }
    bench_routing();
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .unwrap();
    runtime.block_on(bench_dispatch());
}
