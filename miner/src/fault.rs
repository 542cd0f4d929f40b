//! Deliberate misbehaviour for testing keepers: slow, wrong, garbage, dropped or randomly flaky answers, and four ways to cheat on a generation.
//!
//! # Generation faults, and what catches them
//!
//! Each answers well-formed and correctly signed, and differs from an honest
//! recheck (the same job run with `sample_as` = the faulty miner's key):
//!
//! | mode | what it does | tokens / output hash | probes |
//! |---|---|---|---|
//! | `gen-wrong-seed` | samples with another key's seed | differ on a sampled job; **identical on a greedy job** (greedy ignores the seed) | on a sampled job they sit on another sequence, so they differ; on a greedy job they are honest |
//! | `gen-wrong-k` | samples among [`wrong_top_k`] candidates | differ on a sampled job almost always (the same draw lands elsewhere in a different total weight); **identical on a greedy job** (temperature 0 or K = 1 stays greedy whatever K) — with temperature > 0 and K = 1 it samples among 2 and may differ | follow the tokens |
//! | `gen-cheap-model` | runs only the first 24 of 30 blocks | differ, greedy or not (a different model predicts other tokens) | the layers ≥ 24 differ whatever the tokens |
//! | `gen-copied-probes` | honest tokens, probes at another key's positions (as a miner copying someone else's answer would hold them) | identical | positions differ, so the probe digest differs — always caught, greedy or not |
//!
//! So on greedy jobs `gen-wrong-seed` and `gen-wrong-k` are undetectable,
//! and harmless: the answer is the correct one. A keeper catches the others
//! by comparing output hash **and** probe digest with its recheck; a
//! teacher-forced check of the tokens alone would miss `gen-copied-probes`.
//! `wrong` on a generative model replaces one token (see [`make_wrong_tokens`]).

use std::sync::Mutex;
use std::time::Duration;

use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};

use crate::answer::Tamper;

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
    /// Generations: sample with another key's seed.
    GenWrongSeed,
    /// Generations: sample among another K ([`wrong_top_k`]).
    GenWrongK,
    /// Generations: skip the last 6 of the 30 blocks (a cheaper model).
    GenCheapModel,
    /// Generations: honest tokens, probes at another key's positions.
    GenCopiedProbes,
}

/// What to do to one particular request.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Misbehaviour {
    Slow(Duration),
    Wrong,
    Garbage,
    Drop,
    /// A generation cheat ([`crate::answer::Tamper`]).
    Generation(crate::answer::Tamper),
}

/// The key whose seeds the generation faults use instead of the honest one:
/// sha256("VERDICT-FAULT-OTHER-KEY" ‖ own key), a stand-in for another miner.
pub fn other_key(own: &crate::api::MinerPubkey) -> crate::api::MinerPubkey {
    use sha2::{Digest, Sha256};
    crate::api::MinerPubkey(
        Sha256::new()
            .chain_update(b"VERDICT-FAULT-OTHER-KEY")
            .chain_update(own.0)
            .finalize()
            .into(),
    )
}

/// The K `gen-wrong-k` samples among instead of `top_k`: twice as many (at
/// least 2, at most the largest K allowed), or half when already at the largest.
pub fn wrong_top_k(top_k: u32) -> u32 {
    let max = crate::generation::MAX_TOP_K;
    if top_k >= max {
        max / 2
    } else {
        (top_k * 2).clamp(2, max)
    }
}

/// The `wrong` fault on a generation: one token, chosen by `seed`, replaced
/// by another id below `vocab` (an empty generation gains one token).
pub fn make_wrong_tokens(tokens: &[u32], vocab: usize, seed: &[u8; 32]) -> Vec<u32> {
    let vocab = vocab.max(2) as u64;
    let mut wrong = tokens.to_vec();
    if wrong.is_empty() {
        wrong.push((u64::from_le_bytes(seed[..8].try_into().expect("8 bytes")) % vocab) as u32);
        return wrong;
    }
    let at =
        (u64::from_le_bytes(seed[..8].try_into().expect("8 bytes")) % wrong.len() as u64) as usize;
    let shift = 1 + u64::from(u16::from_le_bytes([seed[8], seed[9]])) % (vocab - 1);
    wrong[at] = ((u64::from(wrong[at]) + shift) % vocab) as u32;
    wrong
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
            FaultMode::GenWrongSeed => Some(Misbehaviour::Generation(Tamper::WrongSeed)),
            FaultMode::GenWrongK => Some(Misbehaviour::Generation(Tamper::WrongTopK)),
            FaultMode::GenCheapModel => Some(Misbehaviour::Generation(Tamper::CheapModel)),
            FaultMode::GenCopiedProbes => Some(Misbehaviour::Generation(Tamper::CopiedProbes)),
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
    fn a_wrong_generation_changes_one_token_within_the_vocabulary() {
        let honest = vec![10, 20, 49_151];
        for byte in 0..32u8 {
            let wrong = make_wrong_tokens(&honest, 49_152, &[byte; 32]);
            assert_eq!(wrong.len(), 3);
            assert_eq!(wrong.iter().zip(&honest).filter(|(w, h)| w != h).count(), 1);
            assert!(wrong.iter().all(|&id| id < 49_152));
        }
        assert_eq!(make_wrong_tokens(&[], 49_152, &[1; 32]).len(), 1);
        assert_eq!(wrong_top_k(1), 2);
        assert_eq!(wrong_top_k(40), 80);
        assert_eq!(wrong_top_k(200), 100);
        let own = crate::api::MinerPubkey([9; 32]);
        assert_ne!(other_key(&own), own);
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
