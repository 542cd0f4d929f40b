//! The main job: a whole local Verdict network (embedded chain, keepers,
//! miners, clients) and its report; and the same network served for dApps
//! to integrate against ([`serve`]): latency
//! statistics as the seed's table, reputation trajectories and latency
//! distributions as PNG plots, and the summary written to a folder.

pub mod ledger;
pub mod network;
pub mod report;
pub mod serve;
pub mod stats;
