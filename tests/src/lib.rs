//! Test harness: the Verdict program inside a real Solana bank (native
//! processor, or the SBF build when `SBF_OUT_DIR` names one), with the real
//! SPL Token program, a fixture for common set-up, the accounting invariants
//! checked after every transaction, and compute units recorded per instruction.
#![allow(deprecated)]

pub mod compute_units;
pub mod errors;
pub mod fixture;

pub use errors::*;
pub use fixture::*;
