//! Spam protection at intake: a token bucket per client (refilled over
//! time, with a burst) and the minimum fee a job must escrow. Pure: the
//! caller passes the time.

use std::collections::HashMap;
use std::hash::Hash;

/// Token buckets keyed by client.
#[derive(Debug)]
pub struct RateLimiter<K> {
    per_second: f64,
    burst: f64,
    buckets: HashMap<K, (f64, f64)>,
}

impl<K: Hash + Eq + Clone> RateLimiter<K> {
    pub fn new(per_second: f64, burst: u32) -> Self {
        RateLimiter {
            per_second,
            burst: burst.max(1) as f64,
            buckets: HashMap::new(),
        }
    }

    /// Takes one token for `client` at time `now` (seconds); false when empty.
    pub fn allow(&mut self, client: &K, now: f64) -> bool {
        let (tokens, last) = self
            .buckets
            .entry(client.clone())
            .or_insert((self.burst, now));
        *tokens = (*tokens + (now - *last).max(0.0) * self.per_second).min(self.burst);
        *last = now;
        if *tokens >= 1.0 {
            *tokens -= 1.0;
            true
        } else {
            false
        }
    }

    /// Drops buckets idle long enough to be full again (bounded memory).
    pub fn forget_idle(&mut self, now: f64) {
        let refill = if self.per_second > 0.0 {
            self.burst / self.per_second
        } else {
            f64::INFINITY
        };
        self.buckets.retain(|_, (_, last)| now - *last < refill);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn burst_then_refill_per_client() {
        let mut rl = RateLimiter::new(1.0, 2);
        assert!(rl.allow(&"a", 0.0));
        assert!(rl.allow(&"a", 0.0));
        assert!(!rl.allow(&"a", 0.1));
        assert!(rl.allow(&"b", 0.1), "clients are limited independently");
        assert!(rl.allow(&"a", 1.2));
        rl.forget_idle(100.0);
        assert!(rl.buckets.is_empty());
    }
}
