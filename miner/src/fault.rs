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

/// The least the `wrong` fault moves an output element: far outside the
/// validators' tolerance, so the answer is unambiguously wrong.
pub const WRONG_OUTPUT_SHIFT_QUANTA: i32 = 500;

/// The `wrong` fault's answer: one element, chosen by `seed` (per job and
/// miner), moved by [`WRONG_OUTPUT_SHIFT_QUANTA`] plus up to 4,095 quanta
/// more, also chosen by `seed` (two miners collide with odds of one in
/// 4,096 × the output's length; the value stays a plausible embedding entry). A miner gives the same wrong
/// answer every time it is asked the same job, but two broken miners are
/// wrong differently, as independent faults are: their answers never agree
/// with each other, so a keeper that needs two agreeing reruns is not fooled
/// into contradicting an honest miner.
pub fn make_wrong(values: &mut [i32], seed: &[u8; 32]) {
    if values.is_empty() {
        return;
    }
    let at = u64::from_le_bytes(seed[..8].try_into().expect("8 bytes")) % values.len() as u64;
    let extra = (u16::from_le_bytes([seed[8], seed[9]]) % 4_096) as i32;
    let value = &mut values[at as usize];
    *value = value.saturating_add(WRONG_OUTPUT_SHIFT_QUANTA + extra);
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
    fn a_wrong_answer_is_stable_per_job_and_miner_and_differs_between_miners() {
        let honest: Vec<i32> = (0..384).collect();
        let wrong_for = |seed: u8| {
            let mut values = honest.clone();
            make_wrong(
                &mut values,
                &crate::repro::probe_seed(&[1; 32], &[seed; 32]),
            );
            values
        };
        assert_eq!(wrong_for(7), wrong_for(7));
        assert_ne!(wrong_for(7), honest);
        let moved = wrong_for(7)
            .iter()
            .zip(&honest)
            .filter(|(w, h)| w != h)
            .count();
        assert_eq!(moved, 1);
        let distinct: std::collections::BTreeSet<Vec<i32>> = (0..16).map(wrong_for).collect();
        assert_eq!(
            distinct.len(),
            16,
            "sixteen broken miners, sixteen different wrong answers"
        );
        make_wrong(&mut [], &[0; 32]);
    }

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
