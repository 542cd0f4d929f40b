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
    pub code: FailureCode,
    pub message: String,
}

/// The keeper's reason a job failed for its client: its JSON form (and its
/// `jobs_total` metric label) is the snake_case name, e.g.
/// `all_miners_failed`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum FailureCode {
    /// Every miner tried failed the job (or the chain refunded it after its
    /// last attempt).
    AllMinersFailed,
    /// No miner was eligible for the job before any was tried.
    NoMinerAvailable,
    /// No outcome within the keeper's end-to-end timeout.
    DeadlineExceeded,
    /// The job outlived the keeper's local mempool TTL before it was sent.
    MempoolTtl,
    /// Another committee member solved the job and no member could hand
    /// this keeper the verified output.
    SolvedElsewhere,
    /// The job's input is not a valid request for its model (the client's
    /// fault: no miner was called or charged).
    InvalidInput,
    /// The job's account no longer exists on chain.
    UnknownJob,
    /// Every miner that may take the job asks more than its maximum fee
    /// (the message gives the lowest bid): resubmit with a higher fee.
    FeeBelowMarket,
    /// A code this client does not know (a newer keeper's), or none given.
    #[serde(other)]
    Unknown,
}

impl FailureCode {
    pub const ALL: [FailureCode; 9] = [
        FailureCode::AllMinersFailed,
        FailureCode::NoMinerAvailable,
        FailureCode::DeadlineExceeded,
        FailureCode::MempoolTtl,
        FailureCode::SolvedElsewhere,
        FailureCode::InvalidInput,
        FailureCode::UnknownJob,
        FailureCode::FeeBelowMarket,
        FailureCode::Unknown,
    ];

    /// The code's wire name (its JSON string and metric label).
    pub fn as_str(self) -> &'static str {
        match self {
            FailureCode::AllMinersFailed => "all_miners_failed",
            FailureCode::NoMinerAvailable => "no_miner_available",
            FailureCode::DeadlineExceeded => "deadline_exceeded",
            FailureCode::MempoolTtl => "mempool_ttl",
            FailureCode::SolvedElsewhere => "solved_elsewhere",
            FailureCode::InvalidInput => "invalid_input",
            FailureCode::UnknownJob => "unknown_job",
            FailureCode::FeeBelowMarket => "fee_below_market",
            FailureCode::Unknown => "unknown",
        }
    }
}

impl std::fmt::Display for FailureCode {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn failure_codes_travel_as_their_names_and_unknown_ones_decode() {
        for code in FailureCode::ALL {
            let json = serde_json::to_string(&code).unwrap();
            assert_eq!(json, format!("\"{}\"", code.as_str()));
            assert_eq!(serde_json::from_str::<FailureCode>(&json).unwrap(), code);
        }
        assert_eq!(
            serde_json::from_str::<FailureCode>("\"a_newer_keepers_code\"").unwrap(),
            FailureCode::Unknown
        );
    }
}

/// `GET /v1/quote?model=<id>&risk=low|medium|high`: what the miners that
/// may take such a job ask for it now (their standing prices) and what
/// such jobs recently cleared at, so a client sets an informed maximum fee.
/// 404 `no_quote` when none of them prices it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct QuoteView {
    pub model_id: String,
    /// 0 low, 1 medium, 2 high.
    pub risk: u8,
    pub lowest: u64,
    pub median: u64,
    pub highest: u64,
    /// How many eligible miners price it.
    pub miners: usize,
    /// The median price such jobs won at in this keeper's recent auction
    /// rounds (none yet: `None`).
    #[serde(default)]
    pub clearing_median: Option<u64>,
    /// How many recent awards `clearing_median` is drawn from.
    #[serde(default)]
    pub cleared: usize,
}
