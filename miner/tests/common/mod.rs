//! Test helpers: spawn the built `verdict-miner` binary on port 0 and talk to it.

#![allow(dead_code)]

use std::path::{Path, PathBuf};
use std::time::Duration;

use miner::api::{InferRequest, JobId};
pub use miner::process::{MinerProcess, SpawnError};

pub const MINILM: &str = "all-minilm-l6-v2";
pub const TEST_MODEL: &str = "test-projection-v1";

/// `verdict-miner serve <args>` from this package's build, logging at
/// info to a temporary file; panics with that log if it exits first (e.g.
/// the model files are missing).
pub async fn spawn_miner(args: &[&str]) -> MinerProcess {
    try_spawn_miner(args, &[])
        .await
        .unwrap_or_else(|error| panic!("{error}"))
}

/// Like [`spawn_miner`] with extra environment variables. The start (and
/// a `--preload`) blocks a thread of its own, so miners joined together
/// start in parallel.
pub async fn try_spawn_miner(
    args: &[&str],
    env: &[(&str, &str)],
) -> Result<MinerProcess, SpawnError> {
    let log = std::env::temp_dir().join(format!(
        "verdict-miner-test-{}-{}.log",
        std::process::id(),
        rand::random::<u64>()
    ));
    let args: Vec<String> = args.iter().map(|a| a.to_string()).collect();
    let env: Vec<(String, String)> = [("RUST_LOG", "info")]
        .iter()
        .chain(env)
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect();
    tokio::task::spawn_blocking(move || {
        let env: Vec<(&str, &str)> = env.iter().map(|(k, v)| (k.as_str(), v.as_str())).collect();
        MinerProcess::spawn(
            Path::new(env!("CARGO_BIN_EXE_verdict-miner")),
            &args,
            &env,
            Some(&log),
            // As before this helper was shared: a test miner prints its
            // address within 30 s or the test fails.
            Duration::from_secs(30),
        )
    })
    .await
    .expect("the spawning thread")
}

/// Fails with the fetch-model.sh instruction when the real model is absent.
pub fn require_real_model() -> PathBuf {
    verdict_models::minilm::locate_model_dir().unwrap_or_else(|error| panic!("{error}"))
}

pub fn job(byte: u8) -> JobId {
    JobId([byte; 32])
}

pub fn request(job_byte: u8, model: &str, input: &str) -> InferRequest {
    InferRequest::new(job(job_byte), model.parse().expect("valid model id"), input)
}

pub const SMOLLM2: &str = "smollm2-135m-instruct-q4";

/// Fails with the fetch-model.sh instruction when the SmolLM2 GGUF is absent.
pub fn require_smollm2() -> PathBuf {
    verdict_models::smollm::locate_model_file().unwrap_or_else(|error| panic!("{error}"))
}
