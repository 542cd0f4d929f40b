//! The keeper's client API: what a client posts with the input of a job it
//! submitted on chain (`POST /v1/jobs`), and the view of the job it polls
//! (`GET /v1/jobs/{job}`: 200 done, 202 queued or running, 502 failed, each
//! with a [`JobView`]); refusals carry an [`crate::ErrorBody`].

use serde::{Deserialize, Serialize};

use crate::miner::{Digest32, JobId, MinerReceipt, OutputTensor};

/// `POST /v1/jobs` body.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SubmitInput {
    /// The on-chain Job account (base58).
    pub job: JobId,
    /// The input; its sha256 must be the job's input hash.
    pub input: String,
    /// Real-time jobs avoid miners with a median latency over the limit.
    #[serde(default = "yes")]
    pub realtime: bool,
}

fn yes() -> bool {
    true
}

/// Where a job stands at the keeper.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum JobProgress {
    /// Waiting for a miner.
    Queued,
    /// A miner is on it, or its outcome is being attested.
    Running,
    /// The output is verified and its outcome on chain.
    Done,
    /// No output: see [`JobView::error`].
    Failed,
}

/// Why the client did not get an output.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct JobFailure {
    /// Stable machine-readable code, e.g. `all_miners_failed`.
    pub code: String,
    pub message: String,
}

/// A job as its client sees it at a keeper. A client trusts none of it
/// without checking: the output against the job's on-chain output hash, the
/// receipt's signature against the miner's on-chain signing key.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct JobView {
    pub job: JobId,
    pub status: JobProgress,
    /// The miner's Node account (base58), once done.
    pub miner: Option<String>,
    pub output: Option<OutputTensor>,
    pub output_hash: Option<Digest32>,
    pub response_ms: Option<u32>,
    /// The miner's signature over the output and what it signed with it.
    #[serde(default)]
    pub receipt: Option<MinerReceipt>,
    pub error: Option<JobFailure>,
    /// Miners that failed the job so far.
    pub miners_failed: usize,
}
