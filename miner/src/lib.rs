//! Verdict reference miner: serves reproducible, signed model inference over HTTP, plus the typed client keepers use to call it.
//!
//! - [`api`]: request/response types, the canonical signed message, verification.
//! - [`answer`]: THE function from (model, request, miner key) to output and probes, for the server and any validator.
//! - [`generation`]: the generation input and the seeded sampling rule (from `verdict-wire`).
//! - [`repro`]: fixed-point rounding, tensor hashing, probe selection, tolerances (from `verdict-wire`).
//! - [`models`]: all-MiniLM-L6-v2 and SmolLM2-135M-Instruct (candle), and the tiny `test-projection-v1`.
//! - [`server`] / [`client`]: the HTTP server and its client.
//! - [`process`]: a `verdict-miner serve` child process (the main job and the tests run miners so).
//! - [`keys`]: the node signing key in Solana keypair JSON (owner-only files).
//! - [`init`]: a first run's key and environment file.
//! - [`metrics`]: what `GET /metrics` shows.
//! - [`fault`]: deliberate misbehaviour for testing keepers.
//! - [`upkeep`]: its duties on chain (endpoint, heartbeats), with its own key.

pub mod answer;
pub mod api;
pub mod client;
pub mod fault;
pub mod init;
pub mod keys;
pub mod metrics;
pub mod models;
pub mod process;
pub mod server;
pub mod upkeep;

pub use verdict_wire::{generation, repro};
