//! Verdict SDK: PDAs, instruction builders, account decoding, event parsing,
//! transaction assembly and the accounting invariants, all built on the
//! program crate's own types (no copies of seeds or layouts); with the
//! `client` feature, verified inference in one call ([`client::infer`]).

pub mod accounts;
pub mod attest;
pub mod attested;
#[cfg(feature = "client")]
pub mod client;
pub mod deploy;
pub mod draw;
pub mod events;
pub mod instructions;
pub mod invariants;
pub mod paths;
pub mod pda;
mod program_error;
#[cfg(feature = "rpc")]
pub mod rpc;
pub mod transaction;

pub use program_error::ProgramFailure;
pub use verdict;
pub use verdict::state;
pub use verdict::ID as PROGRAM_ID;

/// Errors of the SDK's own (decoding, fetching).
#[derive(Debug, thiserror::Error)]
pub enum SdkError {
    #[error("account {0} does not exist")]
    AccountNotFound(anchor_lang::prelude::Pubkey),
    #[error("account {address} is not a valid {kind}: {reason}")]
    Decode {
        address: anchor_lang::prelude::Pubkey,
        kind: &'static str,
        reason: String,
    },
    /// The program (or the runtime) refused the transaction.
    #[error("the program refused: {0}")]
    Refused(ProgramFailure),
    #[error("{0}")]
    Client(String),
}
