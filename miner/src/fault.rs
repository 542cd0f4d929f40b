//! Deliberate misbehaviour for testing keepers: slow, wrong, garbage, dropped or randomly flaky answers.

use std::sync::Mutex;
use std::time::Duration;

use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};

/// The `--fault` modes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum FaultMode {
    /// Answer correctly, but only after `slow_delay` (beyond a keeper's shard timeout).
    Slow,
    /// Perturb the output: a different hash, still well-formed and correctly signed.
    Wrong,
    /// Answer 200 with a body that is not a valid response.
    Garbage,
    /// Close the connection without answering.
    Drop,
    /// Per request, with probability `flaky_rate`, behave as one of the four above.
    Flaky,
}

/// What to do to one particular request.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Misbehaviour {
    Slow(Duration),
    Wrong,
    Garbage,
    Drop,
}

/// Decides, request by request, whether and how to misbehave.
pub struct FaultPlan {
    mode: Option<FaultMode>,
    slow_delay: Duration,
    flaky_rate: f64,
    // Seeded so a test that fixes `--seed` sees the same sequence every run.
    rng: Mutex<StdRng>,
}

impl FaultPlan {
    pub fn honest() -> Self {
        Self::new(None, Duration::ZERO, 0.0, 0)
    }

    pub fn new(mode: Option<FaultMode>, slow_delay: Duration, flaky_rate: f64, seed: u64) -> Self {
        FaultPlan {
            mode,
            slow_delay,
            flaky_rate: flaky_rate.clamp(0.0, 1.0),
            rng: Mutex::new(StdRng::seed_from_u64(seed)),
        }
    }

    pub fn mode(&self) -> Option<FaultMode> {
        self.mode
    }

    /// The misbehaviour for the next request, if any.
    pub fn next(&self) -> Option<Misbehaviour> {
        match self.mode? {
            FaultMode::Slow => Some(Misbehaviour::Slow(self.slow_delay)),
            FaultMode::Wrong => Some(Misbehaviour::Wrong),
            FaultMode::Garbage => Some(Misbehaviour::Garbage),
            FaultMode::Drop => Some(Misbehaviour::Drop),
            FaultMode::Flaky => {
                let mut rng = self
                    .rng
                    .lock()
                    .unwrap_or_else(|poisoned| poisoned.into_inner());
                if !rng.gen_bool(self.flaky_rate) {
                    return None;
                }
                Some(match rng.gen_range(0..4) {
                    0 => Misbehaviour::Slow(self.slow_delay),
                    1 => Misbehaviour::Wrong,
                    2 => Misbehaviour::Garbage,
                    _ => Misbehaviour::Drop,
                })
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn flaky_is_reproducible_for_a_seed_and_respects_the_rate() {
        let draw = |seed| {
            let plan = FaultPlan::new(Some(FaultMode::Flaky), Duration::from_millis(5), 0.3, seed);
            (0..200).map(|_| plan.next()).collect::<Vec<_>>()
        };
        let first = draw(7);
        assert_eq!(first, draw(7));
        assert_ne!(first, draw(8));
        let faulty = first.iter().filter(|choice| choice.is_some()).count();
        assert!(
            (30..=90).contains(&faulty),
            "{faulty} faults in 200 draws at rate 0.3"
        );
        assert_eq!(FaultPlan::honest().next(), None);
    }
}
