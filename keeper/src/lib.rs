//! Verdict keeper: dispatches inference jobs to miners, validates their
//! answers, handles timeouts and failures, and posts outcomes signed by a
//! committee quorum, with durable state so a restart never loses or double
//! posts a job.
//!
//! Where to start: [`service`] builds the subsystems and starts them;
//! [`watcher`] reads the chain and publishes the [`context::View`] the
//! others act on, planning each round with the pure [`core::plan`];
//! [`dispatcher`] drives each job; [`poster`] sends what is decided;
//! [`member`], [`disputes`], [`trials`] and [`evidence`] run their own
//! rounds on each new view; [`miners`] is how any of them calls a miner.

pub mod api;
pub mod attester;
pub mod auctioneer;
pub mod clock;
pub mod config;
pub mod context;
pub mod core;
pub mod dispatcher;
pub mod disputes;
pub mod draw;
pub mod error;
pub mod evidence;
pub mod gateway;
pub mod gossip;
pub mod init;
pub mod local_ports;
pub mod member;
pub mod metrics;
pub mod miners;
pub mod peer;
pub mod peer_server;
pub mod poster;
pub mod serde_helpers;
pub mod service;
pub mod store;
pub mod trials;
pub mod watcher;

pub use error::KeeperError;
pub use service::{start, Deps, KeeperHandle, Signing};
