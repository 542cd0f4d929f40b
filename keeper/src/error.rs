//! The keeper's typed errors.

use verdict_chain::ChainError;

#[derive(Debug, thiserror::Error)]
pub enum KeeperError {
    #[error("configuration: {0}")]
    Config(String),
    #[error("database: {0}")]
    Store(#[from] crate::store::StoreError),
    #[error("chain: {0}")]
    Chain(#[from] ChainError),
    #[error("account: {0}")]
    Account(#[from] verdict_sdk::SdkError),
    #[error("attestation: {0}")]
    Attest(#[from] crate::attester::AttestError),
    #[error("posting {kind} for job {job}: {reason}")]
    Post {
        kind: &'static str,
        job: String,
        reason: String,
    },
    #[error("cannot bind {0}: {1}")]
    Bind(String, std::io::Error),
    #[error("the keeper is shutting down")]
    ShuttingDown,
}
