//! The main job: a whole local Verdict network (embedded chain, keepers,
//! miners, clients) and its report; and the same network served for dApps
//! to integrate against ([`serve`]). [`network`] sets the network up,
//! [`scenario`] runs the main job on it, [`judging`] reads the outcome back
//! from the chain and judges every accepted answer, [`report`] writes the
//! summary, the latency table and the PNG plots, [`market`] the prices
//! paid and each miner's share.

pub mod judging;
pub mod ledger;
pub mod market;
pub mod network;
pub mod report;
pub mod scenario;
pub mod serve;
pub mod stats;
