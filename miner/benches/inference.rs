//! Benchmark: model load time and per-request latency (p50/p99), direct and over HTTP, for the real model and the test model.
//!
//! Run with `cargo bench --bench inference` (needs `bash scripts/fetch-model.sh`
//! for the MiniLM rows). `BENCH_ITERATIONS` overrides the sample count.

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::{Duration, Instant};

use miner::api::{InferRequest, JobId, ModelId};
use miner::fault::FaultPlan;
use miner::server::{self, MinerState, DEFAULT_MAX_BODY_BYTES};
use verdict_models::minilm::{self, MiniLm};
use verdict_models::projection::TestProjection;
use verdict_models::{ModelRegistry, MINILM_ID, TEST_PROJECTION_ID};
use verdict_wire::client::MinerClient;

const SHORT_INPUT: &str = "A man is eating a piece of bread.";
const WARMUP: usize = 5;

fn iterations() -> usize {
    std::env::var("BENCH_ITERATIONS")
        .ok()
        .and_then(|value| value.parse().ok())
        .unwrap_or(200)
}

/// A text that fills MiniLM's whole 256-token window.
fn long_input() -> String {
    "The keeper dispatches each inference job to a staked miner and checks the answer. ".repeat(20)
}

struct Row {
    model: &'static str,
    path: &'static str,
    input: String,
    samples: Vec<Duration>,
}

fn percentile(sorted: &[Duration], fraction: f64) -> Duration {
    // Nearest-rank percentile.
    let rank = ((fraction * sorted.len() as f64).ceil() as usize).clamp(1, sorted.len());
    sorted[rank - 1]
}

fn millis(duration: Duration) -> String {
    format!("{:.3}", duration.as_secs_f64() * 1e3)
}

fn time_runs(mut run: impl FnMut()) -> Vec<Duration> {
    for _ in 0..WARMUP {
        run();
    }
    (0..iterations())
        .map(|_| {
            let started = Instant::now();
            run();
            started.elapsed()
        })
        .collect()
}

async fn time_http(client: &MinerClient, model: &str, input: &str) -> Vec<Duration> {
    let model: ModelId = model.parse().expect("valid model id");
    let mut samples = Vec::new();
    for index in 0..WARMUP + iterations() {
        let mut job = [0u8; 32];
        job[..8].copy_from_slice(&(index as u64).to_le_bytes());
        let request = InferRequest::new(JobId(job), model.clone(), input);
        let started = Instant::now();
        client
            .infer(&request)
            .await
            .expect("benchmark request succeeds");
        if index >= WARMUP {
            samples.push(started.elapsed());
        }
    }
    samples
}

fn main() {
    let threads = std::thread::available_parallelism()
        .map(|count| count.get())
        .unwrap_or(1);
    let mut loads: Vec<(&str, Duration)> = Vec::new();
    let mut rows: Vec<Row> = Vec::new();

    let started = Instant::now();
    let projection = TestProjection::new();
    loads.push((TEST_PROJECTION_ID, started.elapsed()));
    rows.push(Row {
        model: TEST_PROJECTION_ID,
        path: "direct",
        input: "short sentence".into(),
        samples: time_runs(|| {
            projection.run(SHORT_INPUT);
        }),
    });

    let minilm_dir = minilm::locate_model_dir();
    match &minilm_dir {
        Ok(dir) => {
            let started = Instant::now();
            let model = MiniLm::load(dir).expect("load MiniLM");
            loads.push((MINILM_ID, started.elapsed()));
            let long = long_input();
            let long_tokens = model.run(&long).expect("embed").hidden.tokens;
            rows.push(Row {
                model: MINILM_ID,
                path: "direct",
                input: format!(
                    "short sentence ({} tokens)",
                    model.run(SHORT_INPUT).unwrap().hidden.tokens
                ),
                samples: time_runs(|| {
                    model.run(SHORT_INPUT).expect("embed");
                }),
            });
            rows.push(Row {
                model: MINILM_ID,
                path: "direct",
                input: format!("long text ({long_tokens} tokens)"),
                samples: time_runs(|| {
                    model.run(&long).expect("embed");
                }),
            });
        }
        Err(error) => eprintln!("skipping {MINILM_ID} rows: {error}"),
    }

    // End to end through the HTTP server and the typed client (signing and
    // verification included), on loopback.
    let runtime = tokio::runtime::Runtime::new().expect("tokio runtime");
    runtime.block_on(async {
        let mut ids: Vec<ModelId> = vec![TEST_PROJECTION_ID.parse().unwrap()];
        if minilm_dir.is_ok() {
            ids.push(MINILM_ID.parse().unwrap());
        }
        let registry = ModelRegistry::new(&ids).expect("registry");
        let state = Arc::new(MinerState::new(
            registry,
            verdict_wire::keys::generate(),
            FaultPlan::honest(),
            DEFAULT_MAX_BODY_BYTES,
        ));
        let bind: SocketAddr = "127.0.0.1:0".parse().unwrap();
        let (address, _server) = server::spawn(bind, state).await.expect("bind");
        let client =
            MinerClient::new(&format!("http://{address}"), Duration::from_secs(60)).unwrap();
        for id in &ids {
            let model: &'static str = if id.as_str() == MINILM_ID {
                MINILM_ID
            } else {
                TEST_PROJECTION_ID
            };
            rows.push(Row {
                model,
                path: "http",
                input: "short sentence".into(),
                samples: time_http(&client, model, SHORT_INPUT).await,
            });
        }
    });

    println!("verdict-miner inference benchmark ({threads} CPU threads, {} samples per row after {WARMUP} warm-up)", iterations());
    println!();
    println!("| model | cold load (ms) |");
    println!("|---|---:|");
    for (model, load) in &loads {
        println!("| {model} | {} |", millis(*load));
    }
    println!();
    println!("| model | path | input | p50 (ms) | p99 (ms) | mean (ms) |");
    println!("|---|---|---|---:|---:|---:|");
    for row in &mut rows {
        row.samples.sort();
        let mean = row.samples.iter().sum::<Duration>() / row.samples.len() as u32;
        println!(
            "| {} | {} | {} | {} | {} | {} |",
            row.model,
            row.path,
            row.input,
            millis(percentile(&row.samples, 0.50)),
            millis(percentile(&row.samples, 0.99)),
            millis(mean)
        );
    }
}
