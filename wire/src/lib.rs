//! Verdict's off-chain wire protocol, shared by everyone who speaks it: the
//! miner's HTTP API and the one message a miner signs ([`miner`]), the
//! reproducibility rules its answers follow ([`repro`]: rounding, the
//! canonical tensor hash, probe positions), the models the network knows
//! ([`models`]), reproducible generation ([`generation`]: the job input and
//! the seeded sampling rule), a miner's signed bids ([`bid`]), the keeper's
//! client API ([`keeper`]), a node
//! signing key's file ([`keys`]) and, with the `client` feature, the typed
//! HTTP client of a miner ([`client`]). Light on purpose: the miner, the
//! keeper and dApp clients (through the SDK) depend on it without pulling
//! in a model runtime or the miner's server.

pub mod bid;
#[cfg(feature = "client")]
pub mod client;
pub mod generation;
pub mod keeper;
pub mod keys;
pub mod miner;
pub mod models;
pub mod repro;

use serde::{Deserialize, Serialize};

/// JSON body of every non-2xx answer of a miner or a keeper.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ErrorBody {
    /// Machine-readable code, e.g. "unknown_model".
    pub error: String,
    pub message: String,
}
