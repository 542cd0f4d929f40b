//! Per-miner latency statistics (response, load, inference: min, max,
//! median, standard deviation) over a bounded window of recent calls, as
//! JSON for the API and as a text table for operators. Pure.

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

/// Recent timings of every miner the keeper called.
#[derive(Clone, Debug)]
pub struct LatencyBook {
    window: usize,
    samples: BTreeMap<Pubkey, VecDeque<Timing>>,
}

impl LatencyBook {
    pub fn new(window: usize) -> Self {
        LatencyBook {
            window: window.max(1),
            samples: BTreeMap::new(),
        }
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
}
