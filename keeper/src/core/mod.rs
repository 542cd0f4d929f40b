//! The keeper's decisions, free of I/O so they are tested directly:
//! routing, validation, the lifecycle's idempotency rules and TTLs, latency
//! statistics, intake rate limits and per-key throttles, the dispute work's rules, the watcher's
//! plan of each round, and the auction that prices jobs.

pub mod auction;
pub mod cosign;
pub mod cranks;
pub mod discovery;
pub mod disputes;
pub mod evidence;
pub mod latency;
pub mod leader;
pub mod lifecycle;
pub mod plan;
pub mod ratelimit;
pub mod routing;
pub mod throttle;
pub mod validation;

/// A model id as its name (the id is the name, zero-padded).
pub fn model_name(id: &verdict::state::ModelId) -> String {
    let len = id.iter().position(|&b| b == 0).unwrap_or(id.len());
    String::from_utf8_lossy(&id[..len]).into_owned()
}
