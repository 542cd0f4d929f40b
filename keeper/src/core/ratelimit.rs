//! Spam protection at intake: a token bucket per client (refilled over
//! time, with a burst), scaled by the client's rating — its record of
//! inputs this keeper took against those it refused on their merits (a
//! wrong input hash, an invalid input, a fee below the floor or the
//! market) — so a client that mostly sends refused work is throttled
//! harder. Pure: the caller passes the time.

use std::collections::HashMap;
use std::hash::Hash;

/// A client's record at this keeper.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct ClientRecord {
    /// Inputs taken.
    pub taken: u32,
    /// Inputs refused on their merits.
    pub refused: u32,
}

impl ClientRecord {
    /// In (0, 1]: `(taken + 1) / (taken + refused + 1)`. A new client
    /// rates 1; one with ten refusals and nothing taken, 1/11.
    pub fn rating(&self) -> f64 {
        (f64::from(self.taken) + 1.0) / (f64::from(self.taken) + f64::from(self.refused) + 1.0)
    }
}

/// Token buckets keyed by client, each refilled at `per_second` × the
/// client's rating and holding at most `burst` × its rating (at least one).
#[derive(Debug)]
pub struct RateLimiter<K> {
    per_second: f64,
    burst: f64,
    buckets: HashMap<K, (f64, f64)>,
    records: HashMap<K, ClientRecord>,
    /// When idle buckets were last dropped.
    swept_at: f64,
}

impl<K: Hash + Eq + Clone> RateLimiter<K> {
    pub fn new(per_second: f64, burst: u32) -> Self {
        RateLimiter {
            per_second,
            burst: burst.max(1) as f64,
            buckets: HashMap::new(),
            records: HashMap::new(),
            swept_at: 0.0,
        }
    }

    /// The client's record so far.
    pub fn record_of(&self, client: &K) -> ClientRecord {
        self.records.get(client).copied().unwrap_or_default()
    }

    /// Counts an input of `client` as taken or refused on its merits.
    pub fn record(&mut self, client: &K, taken: bool) {
        let record = self.records.entry(client.clone()).or_default();
        if taken {
            record.taken = record.taken.saturating_add(1);
        } else {
            record.refused = record.refused.saturating_add(1);
        }
    }

    /// Takes one token for `client` at time `now` (seconds); false when
    /// empty. Drops idle buckets once a minute (bounded memory).
    pub fn allow(&mut self, client: &K, now: f64) -> bool {
        if now - self.swept_at >= 60.0 {
            self.forget_idle(now);
        }
        let rating = self.record_of(client).rating();
        let burst = (self.burst * rating).max(1.0);
        let rate = self.per_second * rating;
        let (tokens, last) = self.buckets.entry(client.clone()).or_insert((burst, now));
        *tokens = (*tokens + (now - *last).max(0.0) * rate).min(burst);
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
        self.swept_at = now;
        let refill = if self.per_second > 0.0 {
            self.burst / self.per_second
        } else {
            f64::INFINITY
        };
        self.buckets.retain(|_, (_, last)| now - *last < refill);
        // A clean record rates like no record.
        self.records.retain(|_, r| r.refused > 0);
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

    #[test]
    fn a_client_whose_inputs_are_refused_is_throttled_harder() {
        let mut rl = RateLimiter::new(1.0, 10);
        for _ in 0..9 {
            rl.record(&"spammer", false);
        }
        rl.record(&"good", true);
        assert_eq!(rl.record_of(&"spammer").rating(), 0.1);
        assert_eq!(rl.record_of(&"good").rating(), 1.0);
        // The spammer's burst is 10 × 0.1 = 1, refilled at 0.1 per second.
        assert!(rl.allow(&"spammer", 0.0));
        assert!(!rl.allow(&"spammer", 5.0));
        assert!(rl.allow(&"spammer", 10.0));
        // The good client keeps the whole burst.
        assert!((0..10).all(|_| rl.allow(&"good", 0.0)));
        assert!(!rl.allow(&"good", 0.0));
        // Taken inputs mend a record.
        for _ in 0..90 {
            rl.record(&"spammer", true);
        }
        assert!(rl.record_of(&"spammer").rating() > 0.9);
        rl.forget_idle(1_000.0);
        assert_eq!(rl.record_of(&"good"), ClientRecord::default());
        assert_eq!(
            rl.record_of(&"spammer").refused,
            9,
            "a record with refusals is kept"
        );
    }
}
