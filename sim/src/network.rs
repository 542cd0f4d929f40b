//! The simulated network: stakes drawn from the configured distribution.

use rand::Rng;

use crate::SimConfig;

/// `n` stakes of at least `min`: `min` × a Pareto multiple (shape
/// `stake_pareto_alpha`), capped at `stake_max_multiple` × `min`.
pub fn stakes(cfg: &SimConfig, min: u64, n: usize, rng: &mut impl Rng) -> Vec<u64> {
    (0..n)
        .map(|_| {
            let u: f64 = rng.gen_range(f64::EPSILON..1.0);
            let multiple = u
                .powf(-1.0 / cfg.stake_pareto_alpha)
                .min(cfg.stake_max_multiple);
            (min as f64 * multiple) as u64
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use rand::SeedableRng;

    #[test]
    fn stakes_stay_between_the_minimum_and_the_cap() {
        let cfg = SimConfig::default();
        let mut rng = rand::rngs::StdRng::seed_from_u64(7);
        let s = stakes(&cfg, 1_000, 10_000, &mut rng);
        assert!(s.iter().all(|&x| (1_000..=50_000).contains(&x)));
        let median = {
            let mut v = s.clone();
            v.sort_unstable();
            v[v.len() / 2]
        };
        // Pareto(1.5): median 2^(1/1.5) ≈ 1.59 × the minimum.
        assert!((1_450..1_750).contains(&median), "{median}");
    }
}
