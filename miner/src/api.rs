//! The miner's wire protocol (from `verdict-wire`), and what only a party
//! that runs the model adds to it: the probes a miner takes from its hidden
//! states, and a validator's comparison of an answer with its own run
//! (from `verdict-models`).

pub use verdict_models::probes::{check_against, probes_for, Agreement, Disagreement};
pub use verdict_wire::miner::*;
