//! Verdict reference miner: serves reproducible, signed model inference over HTTP.
//!
//! - [`api`]: request/response types, the canonical signed message, verification.
//! - [`answer`]: THE function from (model, request, miner key) to output and probes, for the server and any validator.
//! - [`generation`]: the generation input and the seeded sampling rule (from `verdict-wire`).
//! - [`repro`]: fixed-point rounding, tensor hashing, probe selection, tolerances (from `verdict-wire`).
//! - the models (all-MiniLM-L6-v2, SmolLM2-135M-Instruct, the tiny `test-projection-v1`) and the probes are in `verdict-models`, shared with the keepers.
//! - [`server`]: the HTTP server (its typed client is `verdict_wire::client`).
//! - [`process`]: a `verdict-miner serve` child process (the main job and the tests run miners so).
//! - the node signing key's file (Solana keypair JSON, owner-only) is `verdict_wire::keys`.
//! - [`init`]: a first run's key and environment file.
//! - [`metrics`]: what `GET /metrics` shows.
//! - [`fault`]: deliberate misbehaviour for testing keepers.
//! - [`pricing`]: its standing prices and the signed bids it answers keepers' auctions with.
//! - [`upkeep`]: its duties on chain (endpoint, heartbeats), with its own key.

pub mod answer;
pub mod api;
pub mod fault;
pub mod init;
pub mod metrics;
pub mod pricing;
pub mod process;
pub mod server;
pub mod upkeep;

pub use verdict_wire::{generation, repro};
