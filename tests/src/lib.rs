//! The program's test suite and the test kit: the Verdict program inside a
//! real Solana bank (native processor, or the SBF build when `SBF_OUT_DIR`
//! names one) with the real SPL Token program; the network set-up every
//! suite and the main job share ([`network`]: wallets, nodes, stake, the
//! committee draw, trials, endpoints, over any chain); the fixture, which
//! checks the accounting invariants after every transaction and records
//! compute units per instruction; run-time key files ([`keys`]); and, for
//! the tests that run the off-chain services, the workspace's binaries and
//! the services' logs kept with a test's output.
#![allow(deprecated)]

pub mod bins;
pub mod compute_units;
pub mod errors;
pub mod fixture;
pub mod keys;
pub mod logs;
pub mod network;

pub use errors::*;
pub use fixture::*;
pub use network::{NodeHandle, Setup, User};
