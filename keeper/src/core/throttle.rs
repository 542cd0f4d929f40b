//! At most one action per key per interval: a timeout report per member,
//! a trial per miner, a round of asking the committee for a job's input.
//! Pure: the caller passes the time.

use std::collections::HashMap;
use std::hash::Hash;
use std::time::{Duration, Instant};

/// When each key last acted; keys quiet for a whole interval are dropped,
/// so it holds only the keys still held back.
#[derive(Debug)]
pub struct Throttle<K> {
    interval: Duration,
    last: HashMap<K, Instant>,
}

impl<K: Hash + Eq> Throttle<K> {
    pub fn new(interval: Duration) -> Self {
        Throttle {
            interval,
            last: HashMap::new(),
        }
    }

    /// Whether `key` may act at `now`: it has not in the last interval.
    pub fn allows(&mut self, key: &K, now: Instant) -> bool {
        let interval = self.interval;
        self.last
            .retain(|_, at| now.saturating_duration_since(*at) < interval);
        !self.last.contains_key(key)
    }

    /// Counts `key` as having acted at `now`.
    pub fn record(&mut self, key: K, now: Instant) {
        self.last.insert(key, now);
    }

    /// Whether `key` may act at `now`, counting it as acting if so.
    pub fn take(&mut self, key: K, now: Instant) -> bool {
        let allowed = self.allows(&key, now);
        if allowed {
            self.record(key, now);
        }
        allowed
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn one_action_per_key_per_interval() {
        let (t0, minute) = (Instant::now(), Duration::from_secs(60));
        let mut throttle = Throttle::new(minute);
        assert!(throttle.take("a", t0));
        assert!(!throttle.take("a", t0 + minute / 2), "within the interval");
        assert!(throttle.take("b", t0 + minute / 2), "keys are independent");
        assert!(throttle.take("a", t0 + minute), "a whole interval later");
        assert!(!throttle.allows(&"a", t0 + minute + minute / 2));
    }

    #[test]
    fn allows_looks_without_counting_and_quiet_keys_are_dropped() {
        let (t0, second) = (Instant::now(), Duration::from_secs(1));
        let mut throttle = Throttle::new(second);
        assert!(throttle.allows(&1, t0) && throttle.allows(&1, t0));
        throttle.record(1, t0);
        throttle.record(2, t0);
        assert!(!throttle.allows(&1, t0));
        assert!(throttle.allows(&3, t0 + second));
        assert!(throttle.last.is_empty(), "both quiet for a whole interval");
    }
}
