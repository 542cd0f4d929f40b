//! The keeper's typed errors. This module depends on no other keeper
//! module: the errors are defined here, the modules that raise them use
//! them (and re-export their own).

use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::Json;
use verdict_chain::ChainError;
use verdict_wire::ErrorBody;

#[derive(Debug, thiserror::Error)]
pub enum KeeperError {
    #[error("configuration: {0}")]
    Config(String),
    #[error("database: {0}")]
    Store(#[from] StoreError),
    #[error("chain: {0}")]
    Chain(#[from] ChainError),
    #[error("account: {0}")]
    Account(#[from] verdict_sdk::SdkError),
    #[error("attestation: {0}")]
    Attest(#[from] AttestError),
    #[error("posting {kind} for job {job}: {reason}")]
    Post {
        kind: &'static str,
        job: String,
        reason: String,
    },
    #[error("cannot bind {0}: {1}")]
    Bind(String, std::io::Error),
    #[error("gossip on {listen}: {reason}")]
    Gossip { listen: String, reason: String },
    #[error("the keeper is shutting down")]
    ShuttingDown,
}

/// The keeper's embedded database failed, or holds a record it cannot read.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    #[error("{0}")]
    Db(String),
    #[error("record of job {0} is corrupt: {1}")]
    Corrupt(String, String),
}

/// The committee did not give the signatures a claim needs.
#[derive(Debug, Clone, thiserror::Error, PartialEq, Eq)]
pub enum AttestError {
    #[error("only {have} of the {need} committee signatures needed (epoch {epoch}); {refused} refused, {unreachable} unreachable{}", detail(.reasons))]
    NoQuorum {
        have: usize,
        need: usize,
        epoch: u64,
        refused: usize,
        unreachable: usize,
        reasons: Vec<String>,
    },
}

fn detail(reasons: &[String]) -> String {
    if reasons.is_empty() {
        String::new()
    } else {
        format!(": {}", reasons.join("; "))
    }
}

impl AttestError {
    /// Members refused on the merits (as opposed to being unreachable): the
    /// claim itself should change, not merely be retried.
    pub fn refused_on_merits(&self) -> bool {
        let AttestError::NoQuorum {
            have,
            need,
            refused,
            ..
        } = self;
        have + refused >= *need && *refused > 0
    }
}

/// Every 4xx/5xx answer: its status and a [`ErrorBody`] (a stable code and a sentence).
#[derive(Debug)]
pub struct ApiError {
    status: StatusCode,
    body: ErrorBody,
    /// The client's own fault (what it sent was wrong or underpaid): it
    /// counts against the client's rating at intake.
    client_fault: bool,
}

impl ApiError {
    pub fn new(status: StatusCode, error: &str, message: impl Into<String>) -> Self {
        ApiError {
            status,
            body: ErrorBody {
                error: error.into(),
                message: message.into(),
            },
            client_fault: false,
        }
    }

    /// A refusal on the merits of what the client sent (not a race, such as
    /// a job no longer open, nor the keeper's own trouble).
    pub fn client_fault(status: StatusCode, error: &str, message: impl Into<String>) -> Self {
        ApiError {
            client_fault: true,
            ..ApiError::new(status, error, message)
        }
    }

    pub fn is_client_fault(&self) -> bool {
        self.client_fault
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        (self.status, Json(self.body)).into_response()
    }
}

impl From<StoreError> for ApiError {
    fn from(e: StoreError) -> Self {
        ApiError::new(
            StatusCode::SERVICE_UNAVAILABLE,
            "database_unavailable",
            e.to_string(),
        )
    }
}

impl From<KeeperError> for ApiError {
    fn from(e: KeeperError) -> Self {
        ApiError::new(
            StatusCode::SERVICE_UNAVAILABLE,
            "keeper_unavailable",
            e.to_string(),
        )
    }
}
