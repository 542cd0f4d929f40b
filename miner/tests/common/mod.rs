//! Test helpers: spawn the built `verdict-miner` binary on port 0 and talk to it.

#![allow(dead_code)]

use std::path::PathBuf;
use std::process::Stdio;
use std::time::Duration;

use miner::api::{InferRequest, JobId};
use miner::client::MinerClient;
use tokio::io::{AsyncBufReadExt, BufReader};
use tokio::process::{Child, Command};

pub const MINILM: &str = "all-minilm-l6-v2";
pub const TEST_MODEL: &str = "test-projection-v1";

/// A running miner process, killed when dropped.
pub struct MinerProcess {
    child: Child,
    pub url: String,
    stderr_path: PathBuf,
}

impl MinerProcess {
    /// Starts `verdict-miner serve --bind 127.0.0.1:0 <args>` and waits for
    /// its `listening on` line. Panics with the miner's stderr if it exits
    /// first (e.g. the model files are missing).
    pub async fn spawn(args: &[&str]) -> MinerProcess {
        Self::try_spawn(args, &[])
            .await
            .unwrap_or_else(|stderr| panic!("verdict-miner exited before listening:\n{stderr}"))
    }

    /// Like [`MinerProcess::spawn`] with extra environment variables; returns
    /// the miner's stderr if it exits before listening.
    pub async fn try_spawn(args: &[&str], env: &[(&str, &str)]) -> Result<MinerProcess, String> {
        let stderr_path = std::env::temp_dir().join(format!(
            "verdict-miner-test-{}-{}.log",
            std::process::id(),
            rand::random::<u64>()
        ));
        let stderr_file = std::fs::File::create(&stderr_path).expect("create stderr log");
        let mut child = Command::new(env!("CARGO_BIN_EXE_verdict-miner"))
            .arg("serve")
            .args(["--bind", "127.0.0.1:0"])
            .args(args)
            .env("RUST_LOG", "info")
            .envs(env.iter().copied())
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(stderr_file)
            .kill_on_drop(true)
            .spawn()
            .expect("spawn verdict-miner");
        let stdout = child.stdout.take().expect("piped stdout");
        let mut lines = BufReader::new(stdout).lines();
        let first_line = tokio::time::timeout(Duration::from_secs(30), lines.next_line())
            .await
            .expect("miner printed nothing within 30 s")
            .expect("read miner stdout");
        let Some(line) = first_line else {
            let _ = child.wait().await;
            let stderr = std::fs::read_to_string(&stderr_path).unwrap_or_default();
            let _ = std::fs::remove_file(&stderr_path);
            return Err(stderr);
        };
        let url = line
            .strip_prefix("listening on ")
            .unwrap_or_else(|| panic!("unexpected first line {line:?}"))
            .to_owned();
        Ok(MinerProcess {
            child,
            url,
            stderr_path,
        })
    }

    pub fn client(&self, timeout: Duration) -> MinerClient {
        MinerClient::new(&self.url, timeout).expect("valid url")
    }

    pub fn stderr(&self) -> String {
        std::fs::read_to_string(&self.stderr_path).unwrap_or_default()
    }
}

impl Drop for MinerProcess {
    fn drop(&mut self) {
        let _ = self.child.start_kill();
        let _ = std::fs::remove_file(&self.stderr_path);
    }
}

/// Fails with the fetch-model.sh instruction when the real model is absent.
pub fn require_real_model() -> PathBuf {
    miner::models::minilm::locate_model_dir().unwrap_or_else(|error| panic!("{error}"))
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
    miner::models::smollm::locate_model_file().unwrap_or_else(|error| panic!("{error}"))
}
