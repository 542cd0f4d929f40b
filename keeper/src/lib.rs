//! Verdict keeper: dispatches inference jobs to miners, validates their
//! answers, handles timeouts and failures, and posts outcomes signed by a
//! committee quorum, with durable state so a restart never loses or double
//! posts a job.

pub mod api;
pub mod attester;
pub mod clock;
pub mod config;
pub mod core;
pub mod disputes;
pub mod draw;
pub mod engine;
pub mod error;
pub mod evidence;
pub mod gateway;
pub mod gossip;
pub mod init;
pub mod local_ports;
pub mod member;
pub mod metrics;
pub mod peer;
pub mod peer_server;
pub mod poster;
pub mod serde_helpers;
pub mod service;
pub mod store;

pub use error::KeeperError;
pub use service::{start, Deps, KeeperHandle, Signing};
