//! The keeper's wall clock: its own timestamps (mempool TTLs, input shares,
//! peer requests), as opposed to the chain's clock, which the gateway reads.

use std::time::{SystemTime, UNIX_EPOCH};

/// Unix seconds on the keeper's clock (0 if the clock is before 1970).
pub fn wall_secs() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_secs() as i64)
        .unwrap_or(0)
}
