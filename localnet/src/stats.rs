//! Latency statistics as the seed reports them: max, min, median, standard deviation.

use serde::Serialize;

#[derive(Clone, Copy, Debug, Default, PartialEq, Serialize)]
pub struct Stats {
    pub count: usize,
    pub max: f64,
    pub min: f64,
    pub median: f64,
    pub std_dev: f64,
}

/// Summary of `values` (population standard deviation); zeros when empty.
pub fn stats(values: &[f64]) -> Stats {
    if values.is_empty() {
        return Stats::default();
    }
    let mut sorted = values.to_vec();
    sorted.sort_by(|a, b| a.total_cmp(b));
    let n = sorted.len();
    let median = if n % 2 == 1 {
        sorted[n / 2]
    } else {
        (sorted[n / 2 - 1] + sorted[n / 2]) / 2.0
    };
    let mean = sorted.iter().sum::<f64>() / n as f64;
    let var = sorted.iter().map(|v| (v - mean).powi(2)).sum::<f64>() / n as f64;
    Stats {
        count: n,
        max: sorted[n - 1],
        min: sorted[0],
        median,
        std_dev: var.sqrt(),
    }
}

/// One miner response's timings, in milliseconds.
#[derive(Clone, Copy, Debug, PartialEq, Serialize)]
pub struct Timing {
    pub response_ms: f64,
    pub load_ms: f64,
    pub inference_ms: f64,
}

/// The seed's table: Response / Loading / Inference time × Max, Min, Median, Std Dev.
pub fn latency_table(timings: &[Timing]) -> String {
    let column = |f: fn(&Timing) -> f64| stats(&timings.iter().map(f).collect::<Vec<_>>());
    let rows = [
        ("Response Time", column(|t| t.response_ms)),
        ("Loading Time", column(|t| t.load_ms)),
        ("Inference Time", column(|t| t.inference_ms)),
    ];
    let mut out = format!("Latency statistics ({} responses, ms)\n", timings.len());
    out += &format!(
        "{:<16} {:>10} {:>10} {:>10} {:>10}\n",
        "Metric", "Max", "Min", "Median", "Std Dev"
    );
    for (name, s) in rows {
        out += &format!(
            "{:<16} {:>10.2} {:>10.2} {:>10.2} {:>10.2}\n",
            name, s.max, s.min, s.median, s.std_dev
        );
    }
    out
}

/// One miner's generative answers: how many, how many tokens, and the
/// speed of each (tokens over the inference time the committee recorded).
#[derive(Clone, Debug, Default, PartialEq, Serialize)]
pub struct GenerationRow {
    pub miner: String,
    pub jobs: usize,
    pub tokens: u64,
    /// Tokens per second of each answer.
    pub tokens_per_second: Vec<f64>,
}

/// The generation table: per miner, jobs, tokens and tokens/s (median, min, max).
pub fn generation_table(rows: &[GenerationRow]) -> String {
    let jobs: usize = rows.iter().map(|r| r.jobs).sum();
    let mut out = format!(
        "\nGeneration ({jobs} answers accepted on chain, tokens per second of inference)\n"
    );
    if rows.is_empty() {
        return out + "  none\n";
    }
    out += &format!(
        "{:<16} {:>6} {:>8} {:>10} {:>10} {:>10}\n",
        "miner", "jobs", "tokens", "Median", "Min", "Max"
    );
    for row in rows {
        let s = stats(&row.tokens_per_second);
        out += &format!(
            "{:<16} {:>6} {:>8} {:>10.1} {:>10.1} {:>10.1}\n",
            row.miner, row.jobs, row.tokens, s.median, s.min, s.max
        );
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn stats_of_a_known_sample() {
        let s = stats(&[2.0, 4.0, 4.0, 4.0, 5.0, 5.0, 7.0, 9.0]);
        assert_eq!((s.count, s.max, s.min, s.median), (8, 9.0, 2.0, 4.5));
        assert!((s.std_dev - 2.0).abs() < 1e-12);
        assert_eq!(stats(&[]), Stats::default());
        assert_eq!(stats(&[3.0, 1.0, 2.0]).median, 2.0);
    }

    #[test]
    fn the_table_has_the_seeds_rows_and_columns() {
        let t = latency_table(&[
            Timing {
                response_ms: 24.0,
                load_ms: 21.6,
                inference_ms: 0.36,
            },
            Timing {
                response_ms: 30.0,
                load_ms: 2.7,
                inference_ms: 1.0,
            },
        ]);
        for word in [
            "Response Time",
            "Loading Time",
            "Inference Time",
            "Max",
            "Min",
            "Median",
            "Std Dev",
        ] {
            assert!(t.contains(word), "{t}");
        }
        assert!(t.contains("27.00"), "median of 24 and 30: {t}");
    }
}
