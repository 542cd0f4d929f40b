//! Per-miner latency statistics (response, load, inference: min, max,
//! median, standard deviation) over a bounded window of recent calls, as
//! JSON for the API and as a text table for operators; and, for generative
//! models, each miner's observed speed in tokens per second. Pure.
//!
//! Speed of a generation is not its response time: a job asking for 200
//! tokens takes twenty times one asking for 10. So generative answers stay
//! out of the latency window (whose medians rank embedding miners and gate
//! real-time jobs) and feed instead an exponentially weighted moving
//! average of tokens/s per (miner, model), updated with each answer's
//! `InferResponse::tokens_per_second()` (the miner's signed inference time
//! over its generated tokens): `ewma ← ewma + SPEED_EWMA_WEIGHT · (x − ewma)`,
//! the first answer taken as is. Routing ranks miners for a generative job
//! by it (`routing::RoutingSnapshot`). Answers with no token (an immediate
//! end of turn) say nothing of speed and are skipped.

use std::collections::{BTreeMap, VecDeque};

use anchor_lang::prelude::Pubkey;
use serde::Serialize;

use super::validation::Timing;

/// Summary of one series of samples, in milliseconds.
#[derive(Clone, Copy, Debug, Default, PartialEq, Serialize)]
pub struct Stat {
    pub count: usize,
    pub min: f64,
    pub max: f64,
    pub median: f64,
    pub std: f64,
}

impl Stat {
    pub fn of(values: &[f64]) -> Self {
        if values.is_empty() {
            return Stat::default();
        }
        let mut sorted = values.to_vec();
        sorted.sort_by(f64::total_cmp);
        let n = sorted.len();
        let median = if n % 2 == 1 {
            sorted[n / 2]
        } else {
            (sorted[n / 2 - 1] + sorted[n / 2]) / 2.0
        };
        let mean = sorted.iter().sum::<f64>() / n as f64;
        let var = sorted.iter().map(|v| (v - mean).powi(2)).sum::<f64>() / n as f64;
        Stat {
            count: n,
            min: sorted[0],
            max: sorted[n - 1],
            median,
            std: var.sqrt(),
        }
    }
}

/// One miner's latency summary.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct MinerLatency {
    pub miner: String,
    pub response_ms: Stat,
    pub load_ms: Stat,
    pub inference_ms: Stat,
}

/// Weight of the newest answer in a miner's tokens/s average: about the
/// last ten answers count.
pub const SPEED_EWMA_WEIGHT: f64 = 0.2;

/// One miner's observed speed on one generative model.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct MinerSpeed {
    pub miner: String,
    pub model: String,
    pub tokens_per_second: f64,
    pub answers: u64,
}

/// Recent timings of every miner the keeper called.
#[derive(Clone, Debug)]
pub struct LatencyBook {
    window: usize,
    samples: BTreeMap<Pubkey, VecDeque<Timing>>,
    /// (miner, generative model) -> (tokens/s EWMA, answers counted).
    speeds: BTreeMap<(Pubkey, String), (f64, u64)>,
}

impl LatencyBook {
    pub fn new(window: usize) -> Self {
        LatencyBook {
            window: window.max(1),
            samples: BTreeMap::new(),
            speeds: BTreeMap::new(),
        }
    }

    /// Counts one generative answer's speed; returns the miner's new average.
    pub fn record_speed(&mut self, miner: Pubkey, model: &str, tokens_per_second: f64) -> f64 {
        let entry = self.speeds.entry((miner, model.to_owned()));
        if !(tokens_per_second.is_finite() && tokens_per_second > 0.0) {
            return match entry {
                std::collections::btree_map::Entry::Occupied(e) => e.get().0,
                std::collections::btree_map::Entry::Vacant(_) => 0.0,
            };
        }
        let (average, answers) = entry.or_insert((tokens_per_second, 0));
        if *answers > 0 {
            *average += SPEED_EWMA_WEIGHT * (tokens_per_second - *average);
        }
        *answers += 1;
        *average
    }

    /// A miner's tokens/s average on a generative model, once it answered one.
    pub fn tokens_per_second(&self, miner: &Pubkey, model: &str) -> Option<f64> {
        self.speeds
            .get(&(*miner, model.to_owned()))
            .map(|(average, _)| *average)
    }

    /// Every (model, tokens/s) average of one miner.
    pub fn speeds_of(&self, miner: &Pubkey) -> Vec<(String, f64)> {
        self.speeds
            .iter()
            .filter(|((m, _), _)| m == miner)
            .map(|((_, model), (average, _))| (model.clone(), *average))
            .collect()
    }

    /// Every miner's speed on every generative model it answered.
    pub fn speeds(&self) -> Vec<MinerSpeed> {
        self.speeds
            .iter()
            .map(|((miner, model), (average, answers))| MinerSpeed {
                miner: miner.to_string(),
                model: model.clone(),
                tokens_per_second: *average,
                answers: *answers,
            })
            .collect()
    }

    pub fn record(&mut self, miner: Pubkey, timing: Timing) {
        let series = self.samples.entry(miner).or_default();
        if series.len() == self.window {
            series.pop_front();
        }
        series.push_back(timing);
    }

    pub fn median_response_ms(&self, miner: &Pubkey) -> Option<f64> {
        let series = self.samples.get(miner)?;
        let values: Vec<f64> = series.iter().map(|t| t.response_ms as f64).collect();
        (!values.is_empty()).then(|| Stat::of(&values).median)
    }

    /// Every measured miner's median response time.
    pub fn medians(&self) -> Vec<f64> {
        self.samples
            .keys()
            .filter_map(|k| self.median_response_ms(k))
            .collect()
    }

    pub fn summary(&self, miner: &Pubkey) -> Option<MinerLatency> {
        let series = self.samples.get(miner)?;
        let pick =
            |f: fn(&Timing) -> u32| -> Vec<f64> { series.iter().map(|t| f(t) as f64).collect() };
        Some(MinerLatency {
            miner: miner.to_string(),
            response_ms: Stat::of(&pick(|t| t.response_ms)),
            load_ms: Stat::of(&pick(|t| t.load_ms)),
            inference_ms: Stat::of(&pick(|t| t.inference_ms)),
        })
    }

    pub fn summaries(&self) -> Vec<MinerLatency> {
        self.samples
            .keys()
            .filter_map(|k| self.summary(k))
            .collect()
    }

    /// The operator's table: one row per miner and series.
    pub fn table(&self) -> String {
        let mut out = format!(
            "{:<44} {:<10} {:>6} {:>9} {:>9} {:>9} {:>9}\n",
            "miner", "series", "n", "min ms", "max ms", "median", "std"
        );
        for s in self.summaries() {
            for (name, stat) in [
                ("response", s.response_ms),
                ("load", s.load_ms),
                ("inference", s.inference_ms),
            ] {
                out.push_str(&format!(
                    "{:<44} {:<10} {:>6} {:>9.1} {:>9.1} {:>9.1} {:>9.1}\n",
                    s.miner, name, stat.count, stat.min, stat.max, stat.median, stat.std
                ));
            }
        }
        for s in self.speeds() {
            out.push_str(&format!(
                "{:<44} {:<10} {:>6} tokens/s (EWMA) {:.1} on {}\n",
                s.miner, "speed", s.answers, s.tokens_per_second, s.model
            ));
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn stats_are_exact() {
        let s = Stat::of(&[1.0, 2.0, 3.0, 4.0]);
        assert_eq!((s.count, s.min, s.max, s.median), (4, 1.0, 4.0, 2.5));
        assert!((s.std - 1.118_033_988_7).abs() < 1e-9);
        assert_eq!(Stat::of(&[]), Stat::default());
    }

    #[test]
    fn the_window_keeps_only_recent_samples_and_the_table_lists_every_series() {
        let mut book = LatencyBook::new(3);
        let m = Pubkey::new_unique();
        for ms in [100, 1, 2, 3] {
            book.record(
                m,
                Timing {
                    response_ms: ms,
                    load_ms: 0,
                    inference_ms: ms / 2,
                },
            );
        }
        assert_eq!(book.median_response_ms(&m), Some(2.0));
        let table = book.table();
        assert!(
            table.contains("response")
                && table.contains("inference")
                && table.contains(&m.to_string())
        );
        assert_eq!(book.summaries()[0].response_ms.max, 3.0);
    }

    #[test]
    fn speed_is_an_ewma_per_miner_and_model() {
        let mut book = LatencyBook::new(3);
        let (a, b) = (Pubkey::new_unique(), Pubkey::new_unique());
        assert_eq!(book.tokens_per_second(&a, "gen"), None);
        assert_eq!(book.record_speed(a, "gen", 100.0), 100.0);
        let second = book.record_speed(a, "gen", 50.0);
        assert!((second - (100.0 - SPEED_EWMA_WEIGHT * 50.0)).abs() < 1e-9);
        // Nothing generated says nothing of speed.
        assert_eq!(book.record_speed(a, "gen", 0.0), second);
        assert_eq!(book.record_speed(b, "gen", 0.0), 0.0);
        assert_eq!(book.tokens_per_second(&b, "gen"), None);
        book.record_speed(a, "other", 7.0);
        assert_eq!(book.tokens_per_second(&a, "other"), Some(7.0));
        assert_eq!(book.speeds_of(&a).len(), 2);
        assert_eq!(book.speeds().iter().map(|s| s.answers).sum::<u64>(), 3);
        // Speeds stay out of the latency window.
        assert!(book.medians().is_empty());
        assert!(book.table().contains("tokens/s"));
    }
}
