//! Everything a command can refuse or fail at, each as the one line it prints,
//! and the exit code it maps to.

use anchor_lang::prelude::Pubkey;
use verdict_chain::ChainError;

/// Exit codes: 0 success, 1 the chain or the program said no (or the user
/// declined), 2 bad input caught before anything was sent.
pub const EXIT_FAILURE: i32 = 1;
pub const EXIT_BAD_INPUT: i32 = 2;

#[derive(Debug, thiserror::Error)]
pub enum CliError {
    /// Input that parsed but makes no sense (caught before sending).
    #[error("{0}")]
    Input(String),
    #[error("cannot read keypair {path}: {reason}")]
    Keypair { path: String, reason: String },
    #[error("no keypair at {path}: pass -k/--keypair or create one with `solana-keygen new`")]
    NoKeypair { path: String },
    #[error("cannot read {path}: {reason}")]
    File { path: String, reason: String },
    #[error("{what} {address} does not exist on {url}")]
    NotFound {
        what: &'static str,
        address: Pubkey,
        url: String,
    },
    #[error("{0}")]
    Refused(String),
    /// A keeper's answer did not check out against the chain: never printed as a result.
    #[error("the answer does not check out: {0}")]
    Unverified(String),
    /// The Verdict program (or another) refused the transaction: its own
    /// error name and message, never a bare code.
    #[error("the program refused: {0}")]
    Program(String),
    #[error("RPC request to {url} failed: {reason}")]
    Rpc { url: String, reason: String },
    #[error("{0}")]
    Chain(String),
    #[error("this command moves tokens: pass --yes to confirm (stdin is not a terminal, so there is nobody to ask)")]
    ConfirmationRequired,
    #[error("cancelled; nothing was sent")]
    Declined,
}

impl CliError {
    pub fn exit_code(&self) -> i32 {
        match self {
            CliError::Input(_)
            | CliError::Keypair { .. }
            | CliError::NoKeypair { .. }
            | CliError::File { .. }
            | CliError::ConfirmationRequired => EXIT_BAD_INPUT,
            _ => EXIT_FAILURE,
        }
    }

    /// Maps a chain error to one line, naming the cluster when it could not
    /// be reached.
    pub fn from_chain(error: ChainError, url: &str) -> Self {
        match error {
            ChainError::Program { failure, .. } => CliError::Program(match &failure.name {
                Some(name) => format!("{name}: {}", failure.message),
                None => one_line(&failure.message),
            }),
            ChainError::Rpc(reason) => CliError::Rpc {
                url: url.to_string(),
                reason: transport_reason(&reason),
            },
            ChainError::Timeout(reason) => CliError::Chain(format!(
                "not confirmed in time on {url}: {}",
                one_line(&reason)
            )),
            ChainError::Decode(reason) => {
                CliError::Chain(format!("cannot decode: {}", one_line(&reason)))
            }
        }
    }
}

/// The RPC client wraps a failed connection in whatever call it was making
/// (e.g. `AccountNotFound: pubkey=…: error sending request…`); keep the
/// part that says what happened.
fn transport_reason(reason: &str) -> String {
    let reason = one_line(reason);
    match reason.find("error sending request") {
        Some(at) => format!("cannot connect ({})", &reason[at..]),
        None => reason,
    }
}

/// Multi-line transport errors folded into one line.
pub fn one_line(text: &str) -> String {
    text.split_whitespace().collect::<Vec<_>>().join(" ")
}
