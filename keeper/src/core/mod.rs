//! The keeper's decisions, free of I/O so they are tested directly:
//! routing, validation, the lifecycle's idempotency rules and TTLs, latency
//! statistics, and intake rate limits.

pub mod latency;
pub mod lifecycle;
pub mod ratelimit;
pub mod routing;
pub mod validation;
