//! Test harness: the Verdict program inside a real Solana bank (native
//! processor, or the SBF build when `SBF_OUT_DIR` names one), with the real
//! SPL Token program, a fixture for common set-up, the accounting invariants
//! checked after every transaction, and compute units recorded per instruction;
//! and, for the tests that run the off-chain services, the workspace's
//! binaries and the services' logs kept with a test's output.
#![allow(deprecated)]

pub mod bins;
pub mod compute_units;
pub mod errors;
pub mod fixture;
pub mod logs;

pub use errors::*;
pub use fixture::*;
