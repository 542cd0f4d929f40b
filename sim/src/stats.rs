//! Estimates with their 95% confidence intervals.

/// A mean over Monte Carlo trials and the half-width of its 95% interval.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Estimate {
    pub mean: f64,
    pub half_width: f64,
}

impl Estimate {
    /// Mean and normal-approximation interval of `samples`.
    pub fn of(samples: &[f64]) -> Estimate {
        let n = samples.len().max(1) as f64;
        let mean = samples.iter().sum::<f64>() / n;
        let var = if samples.len() > 1 {
            samples.iter().map(|x| (x - mean).powi(2)).sum::<f64>() / (n - 1.0)
        } else {
            0.0
        };
        Estimate {
            mean,
            half_width: 1.96 * (var / n).sqrt(),
        }
    }

    /// A proportion: `hits` of `n`, the observed share with the wider side
    /// of Wilson's interval (sound near 0 and 1) as its half-width.
    pub fn proportion(hits: u64, n: u64) -> Estimate {
        let n = n.max(1) as f64;
        let p = hits as f64 / n;
        let z = 1.96f64;
        let denom = 1.0 + z * z / n;
        let centre = (p + z * z / (2.0 * n)) / denom;
        let half = z * (p * (1.0 - p) / n + z * z / (4.0 * n * n)).sqrt() / denom;
        Estimate {
            mean: p,
            half_width: (centre + half - p).max(p - (centre - half)),
        }
    }

    pub fn low(&self) -> f64 {
        self.mean - self.half_width
    }

    pub fn high(&self) -> f64 {
        self.mean + self.half_width
    }
}

impl std::fmt::Display for Estimate {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{:.4} ± {:.4}", self.mean, self.half_width)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn intervals_cover_what_they_should() {
        let e = Estimate::of(&[1.0, 2.0, 3.0]);
        assert_eq!(e.mean, 2.0);
        assert!(e.half_width > 0.0);
        let p = Estimate::proportion(0, 100);
        assert_eq!(p.mean, 0.0);
        assert!(p.high() > 0.0 && p.high() < 0.05);
    }
}
