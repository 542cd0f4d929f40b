//! Experiment `capture`: how often an attacker holding a share of the
//! validators seats a committee quorum, and what a captured committee gains.
//!
//! Model and assumptions. Every validator enters every draw; the committee
//! is seated by the program's own `CommitteeDraw::consider` over all
//! entrants, with a fresh slot hash per draw (through the program's
//! `draw_seed`). The attacker holds a share of the validators by count under
//! Random, Reputation and Performance (all scores equal), and by stake under
//! Weighted and Stake (its stake split evenly over the same number of
//! nodes). A capture is ≥ `committee_quorum` attacker seats. Under the first
//! rules a cranker can retry the draw (CPI revert, a slot hash it already
//! sees) k times at no cost and keep the first capture; under revision 2 the
//! seed is a future slot hash, so k = 1. The profit model is stated in
//! [`Profit`]: a captured committee routes one rotation's jobs to a
//! colluding miner that answers them without computing; each wrong answer
//! stays disputable for the challenge window and is caught if the keepers'
//! audit sample holds any of them; an overturn liquidates the miner.

use anchor_lang::prelude::Pubkey;
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};
use verdict::constants::defaults::TOKEN;
use verdict::state::{
    draw_seed, Candidate, CommitteeDraw, DrawEntry, ProtocolParams, SelectionStrategy,
    SlashingTable,
};

use crate::plot::{Figure, Series};
use crate::stats::Estimate;
use crate::{network, Report, RuleSet, SimConfig, SimError};

/// Attacker shares of the validators (count or stake, see the module doc).
pub const SHARES: [f64; 6] = [0.05, 0.10, 0.20, 0.30, 0.40, 0.50];
/// Retry counts reported under the first rules (k = 1: no retry).
pub const RETRIES: [u32; 3] = [1, 10, 100];
/// The retry count also simulated, to check 1 − (1 − p)^k.
pub const SIMULATED_RETRIES: u32 = 10;
/// Rotations drawn per trial (one network each): the draws, not the
/// simulated hours, set the precision, and a year of hourly draws per trial
/// would cost far more than the estimate needs.
pub const ROTATIONS_PER_TRIAL: u32 = 40;

const YEAR_SECS: f64 = 365.0 * 86_400.0;
/// Index of the 20% share in [`SHARES`] (the figures the tests assert).
const AT_20PCT: usize = 2;

/// Capture probabilities of one selection strategy, one row per share.
#[derive(Clone, Debug)]
pub struct Curve {
    pub strategy: SelectionStrategy,
    /// Whether the share is of stake (else of validator count).
    pub by_stake: bool,
    /// Attacker nodes at each share.
    pub attackers: Vec<usize>,
    /// Per rotation without retries (revision 2; the first rules at k = 1).
    pub per_rotation: Vec<Estimate>,
    /// The observed rate behind each estimate (Wilson's centre is not 0
    /// when no draw captured, so point figures use this).
    pub rate: Vec<f64>,
    /// At least one capture in a year of rotations.
    pub per_year: Vec<Estimate>,
    /// The exact value where the draw is uniform (Random): hypergeometric.
    pub exact: Vec<Option<f64>>,
    /// Per rotation with [`SIMULATED_RETRIES`] retries, simulated (primary
    /// strategy only).
    pub simulated_retry: Option<Vec<Estimate>>,
}

impl Curve {
    /// Per rotation with `k` retries: 1 − (1 − p)^k over p's interval.
    pub fn with_retries(&self, share: usize, k: u32) -> Estimate {
        map(self.per_rotation[share], |p| 1.0 - (1.0 - p).powi(k as i32))
    }

    /// The observed rate with `k` retries.
    pub fn rate_with_retries(&self, share: usize, k: u32) -> f64 {
        1.0 - (1.0 - self.rate[share]).powi(k as i32)
    }
}

/// What a captured committee makes in one rotation, in lamports. The
/// colluding miner holds the minimum miner stake; the jobs are low/medium
/// risk, so the co-signers are not accountable (the high-risk figure adds
/// their 30% loss); payouts are released at once (a reputable miner, the
/// best case for the attacker), the validator fee only at close.
#[derive(Clone, Debug)]
pub struct Profit {
    pub rules: RuleSet,
    /// Jobs routed to the colluding miner in one rotation: the jobs offered,
    /// capped by the miner's exposure limit (jobs stay open all window).
    pub jobs: u64,
    /// What the coalition keeps if no wrong answer is disputed: every
    /// price, less the compute of the jobs it must answer honestly.
    pub gain_if_unnoticed: f64,
    /// Chance an audit picks at least one wrong answer.
    pub p_caught: f64,
    /// Net if caught: the miner's released payouts, minus its whole stake
    /// (liquidated; it refunds the clients); validator fees are not paid.
    pub net_if_caught: f64,
    /// Expected profit per capture.
    pub per_capture: f64,
    /// The same if it settles high-risk jobs: the quorum's co-signers also
    /// lose `approve_invalid_bps` of their stake when caught.
    pub per_capture_high_risk: f64,
}

#[derive(Clone, Debug)]
pub struct Findings {
    /// The Config's strategy, then Weighted if that is another one.
    pub curves: Vec<Curve>,
    pub profits: Vec<Profit>,
    pub rotations_per_year: f64,
    /// Config strategy, no retries (revision 2).
    pub per_rotation_at_20pct: Estimate,
    pub per_year_at_20pct: Estimate,
    /// First rules, k = 100 retries (from p).
    pub retry_per_rotation_at_20pct: Estimate,
    /// First rules, k = [`SIMULATED_RETRIES`]: simulated and from p.
    pub simulated_retry_at_20pct: Estimate,
    pub predicted_retry_at_20pct: Estimate,
    /// Weighted draw, attacker holding 20% of stake, no retries.
    pub weighted_per_rotation_at_20pct: Estimate,
    /// Expected profit per capture, lamports (it does not depend on the
    /// share; the share sets how often a capture happens).
    pub expected_profit_at_20pct_revision2: f64,
    pub expected_profit_at_20pct_first: f64,
}

pub fn run(cfg: &SimConfig, rules: &[RuleSet], report: &mut Report) -> Result<Findings, SimError> {
    let params = &cfg.params;
    let mut rng = StdRng::seed_from_u64(cfg.seed ^ 0xCA97_0E5E);
    let mut strategies = vec![params.strategy()];
    if params.strategy() != SelectionStrategy::Weighted {
        strategies.push(SelectionStrategy::Weighted);
    }
    let curves = strategies
        .iter()
        .enumerate()
        .map(|(i, &s)| {
            let retries = if i == 0 { SIMULATED_RETRIES } else { 1 };
            simulate(cfg, s, retries, &mut rng)
        })
        .collect::<Vec<_>>();
    let rotations_per_year = YEAR_SECS / params.committee_rotation_secs.max(1) as f64;
    let profits: Vec<Profit> = RuleSet::ALL.iter().map(|&r| profit(cfg, r)).collect();
    let main = &curves[0];
    let weighted = curves.last().expect("Weighted is always drawn");
    let per_capture = |r: RuleSet| profits.iter().find(|p| p.rules == r).unwrap().per_capture;
    let findings = Findings {
        per_rotation_at_20pct: main.per_rotation[AT_20PCT],
        per_year_at_20pct: main.per_year[AT_20PCT],
        retry_per_rotation_at_20pct: main.with_retries(AT_20PCT, 100),
        simulated_retry_at_20pct: main.simulated_retry.as_ref().unwrap()[AT_20PCT],
        predicted_retry_at_20pct: main.with_retries(AT_20PCT, SIMULATED_RETRIES),
        weighted_per_rotation_at_20pct: weighted.per_rotation[AT_20PCT],
        expected_profit_at_20pct_revision2: per_capture(RuleSet::Revision2),
        expected_profit_at_20pct_first: per_capture(RuleSet::First),
        rotations_per_year,
        curves,
        profits,
    };
    write_report(cfg, rules, &findings, report)?;
    Ok(findings)
}

/// Draws the committee `ROTATIONS_PER_TRIAL` times on each of `cfg.trials`
/// networks, `retries` draws per rotation (the first is the no-retry draw).
fn simulate(cfg: &SimConfig, strategy: SelectionStrategy, retries: u32, rng: &mut StdRng) -> Curve {
    let p = &cfg.params;
    let n = cfg.validators as usize;
    let by_stake = matches!(
        strategy,
        SelectionStrategy::Weighted | SelectionStrategy::Stake
    );
    let attackers: Vec<usize> = SHARES
        .iter()
        .map(|s| ((s * n as f64).round() as usize).clamp(1, n))
        .collect();
    let (mut hits, mut retry_hits) = (vec![0u64; SHARES.len()], vec![0u64; SHARES.len()]);
    let mut rotations = 0u64;
    for _ in 0..cfg.trials {
        let stakes = network::stakes(cfg, p.min_validator_stake, n, rng);
        // Node i carries its index in its first bytes (to count attacker
        // seats) and random bytes after (its lot differs every trial).
        let nodes: Vec<Pubkey> = (0..n)
            .map(|i| {
                let mut b: [u8; 32] = rng.gen();
                b[..4].copy_from_slice(&(i as u32).to_le_bytes());
                Pubkey::new_from_array(b)
            })
            .collect();
        let entrants = |stake_of: &dyn Fn(usize) -> u64| -> Vec<Candidate> {
            (0..n)
                .map(|i| Candidate {
                    node: nodes[i],
                    signing_key: nodes[i],
                    entry: DrawEntry {
                        round: 1,
                        swept_round: 0,
                        stake: stake_of(i),
                        score: p.initial_validator_score,
                        performance_bps: 10_000,
                        ..Default::default()
                    },
                })
                .collect()
        };
        // By count the attackers of every share are validators 0..k, so one
        // draw serves all shares. By stake each share has its own stakes:
        // the attacker's k nodes split s / (1 − s) of the others' total.
        let lists: Vec<Vec<Candidate>> = if by_stake {
            attackers
                .iter()
                .zip(SHARES)
                .map(|(&k, s)| {
                    let honest: u64 = stakes[k..].iter().sum();
                    let each = (honest as f64 * s / (1.0 - s) / k as f64) as u64;
                    let each = each.max(p.min_validator_stake);
                    entrants(&|i| if i < k { each } else { stakes[i] })
                })
                .collect()
        } else {
            vec![entrants(&|i| stakes[i])]
        };
        for rotation in 0..ROTATIONS_PER_TRIAL {
            let mut any = vec![false; SHARES.len()];
            for attempt in 0..retries {
                let seed = draw_seed(&rng.gen(), u64::from(rotation) + 1);
                for (j, list) in lists.iter().enumerate() {
                    let d = draw(p, strategy, seed, list);
                    let shares = if by_stake { j..j + 1 } else { 0..SHARES.len() };
                    for si in shares {
                        let captured =
                            seated_attackers(&d, attackers[si]) >= p.committee_quorum as usize;
                        if captured && attempt == 0 {
                            hits[si] += 1;
                        }
                        any[si] |= captured;
                    }
                }
            }
            for (h, a) in retry_hits.iter_mut().zip(&any) {
                *h += u64::from(*a);
            }
            rotations += 1;
        }
    }
    let rotations_per_year = YEAR_SECS / p.committee_rotation_secs.max(1) as f64;
    let per_rotation: Vec<Estimate> = hits
        .iter()
        .map(|&h| Estimate::proportion(h, rotations))
        .collect();
    Curve {
        strategy,
        by_stake,
        per_year: per_rotation
            .iter()
            .map(|&e| map(e, |p| 1.0 - (1.0 - p).powf(rotations_per_year)))
            .collect(),
        exact: attackers
            .iter()
            .map(|&k| {
                (strategy == SelectionStrategy::Random).then(|| {
                    hypergeometric_tail(
                        n,
                        k,
                        p.committee_size as usize,
                        p.committee_quorum as usize,
                    )
                })
            })
            .collect(),
        simulated_retry: (retries > 1).then(|| {
            retry_hits
                .iter()
                .map(|&h| Estimate::proportion(h, rotations))
                .collect()
        }),
        rate: hits
            .iter()
            .map(|&h| h as f64 / rotations.max(1) as f64)
            .collect(),
        attackers,
        per_rotation,
    }
}

/// One seated draw, by the program's code: every entrant considered.
fn draw(
    p: &ProtocolParams,
    strategy: SelectionStrategy,
    seed: [u8; 32],
    entrants: &[Candidate],
) -> CommitteeDraw {
    let mut d = CommitteeDraw::sweeping(strategy, p.committee_size, p.committee_quorum, seed);
    entrants.iter().for_each(|c| d.consider(c));
    d
}

/// Seats held by validators 0..k.
fn seated_attackers(d: &CommitteeDraw, k: usize) -> usize {
    d.leaders()
        .iter()
        .filter(|l| (u32::from_le_bytes(l.to_bytes()[..4].try_into().unwrap()) as usize) < k)
        .count()
}

/// P(at least `quorum` of `seats` drawn without replacement from `n` are
/// among the `k` attackers): what a uniform draw gives.
pub fn hypergeometric_tail(n: usize, k: usize, seats: usize, quorum: usize) -> f64 {
    let choose = |a: usize, b: usize| -> f64 {
        if b > a {
            return 0.0;
        }
        (0..b).fold(1.0, |acc, i| acc * (a - i) as f64 / (i + 1) as f64)
    };
    let seats = seats.min(n);
    // A fold from +0.0: an empty f64 sum is −0.0.
    (quorum..=seats.min(k)).fold(0.0, |acc, x| acc + choose(k, x) * choose(n - k, seats - x))
        / choose(n, seats)
}

/// A probability's interval through a monotone map (centre and half-width
/// of the mapped interval, as Wilson's estimate is reported).
fn map(e: Estimate, f: impl Fn(f64) -> f64) -> Estimate {
    let (lo, hi) = (f(e.low().clamp(0.0, 1.0)), f(e.high().clamp(0.0, 1.0)));
    Estimate {
        mean: (lo + hi) / 2.0,
        half_width: (hi - lo) / 2.0,
    }
}

/// The profit model of one captured rotation under `rules` (see [`Profit`]).
pub fn profit(cfg: &SimConfig, rules: RuleSet) -> Profit {
    let p = rules.params(&cfg.params);
    let price = cfg.price as f64;
    let offered = (cfg.jobs_per_hour as f64 * p.committee_rotation_secs as f64 / 3_600.0) as u64;
    let miner_stake = p.min_miner_stake;
    let cap =
        miner_stake as u128 * p.exposure_multiple_bps as u128 / 10_000 / cfg.price.max(1) as u128;
    let jobs = offered.min(cap.min(u64::MAX as u128) as u64);
    let (a, c) = (
        cfg.audit_bps as f64 / 1e4,
        cfg.compute_cost_bps as f64 / 1e4,
    );
    let fee = p.validator_fee_bps as f64 / 1e4;
    let total = jobs as f64 * price;
    let (gain_if_unnoticed, p_caught) = if rules.audits_public() {
        // The miner knows which jobs the keepers will re-check and answers
        // exactly those honestly: never caught, it pays their compute.
        (total - a * jobs as f64 * c * price, 0.0)
    } else {
        // A secret sample: each wrong answer is audited with chance a.
        (total, 1.0 - (1.0 - a).powf(jobs as f64))
    };
    let net_if_caught = total * (1.0 - fee) - miner_stake as f64;
    let co_signers =
        p.committee_quorum as f64 * SlashingTable::default().approve_invalid_bps as f64 / 1e4
            * p.min_validator_stake as f64;
    let expected = |caught: f64| (1.0 - p_caught) * gain_if_unnoticed + p_caught * caught;
    Profit {
        rules,
        jobs,
        gain_if_unnoticed,
        p_caught,
        net_if_caught,
        per_capture: expected(net_if_caught),
        per_capture_high_risk: expected(net_if_caught - co_signers),
    }
}

fn pct(e: Estimate) -> String {
    format!("{:.3}% ± {:.3}%", 100.0 * e.mean, 100.0 * e.half_width)
}

fn tokens(x: f64) -> String {
    // + 0.0 turns −0.0 (no capture × a loss) into 0.0.
    format!("{:.1}", x / TOKEN as f64 + 0.0)
}

fn strategy_name(s: SelectionStrategy, by_stake: bool) -> String {
    format!(
        "{s:?} (share by {})",
        if by_stake { "stake" } else { "count" }
    )
}

fn write_report(
    cfg: &SimConfig,
    rules: &[RuleSet],
    f: &Findings,
    report: &mut Report,
) -> Result<(), SimError> {
    let p = &cfg.params;
    let first = rules.contains(&RuleSet::First);
    let mut body = format!(
        "{} validators enter every draw; committee of {} seated by the program's `CommitteeDraw::consider`, \
         captured when the attacker holds ≥ {} seats. {} networks × {} rotations per estimate (95% intervals); \
         {:.0} rotations a year. Per year = 1 − (1 − p)^{:.0}; with k retries (first rules only: CPI revert or a \
         seen slot hash) p_k = 1 − (1 − p)^k, checked by simulating k = {SIMULATED_RETRIES}. Under revision 2 the \
         seed is a future slot hash and the request is refused inside a CPI, so k = 1. \
         Intervals are Wilson's (not 0 when no draw captured, e.g. fewer attacker nodes than the quorum); \
         captures a year, profits and the plot use the observed rate.\n\n",
        cfg.validators,
        p.committee_size,
        p.committee_quorum,
        cfg.trials,
        ROTATIONS_PER_TRIAL,
        f.rotations_per_year,
        f.rotations_per_year
    );
    for curve in &f.curves {
        body += &format!("**{}**\n\n", strategy_name(curve.strategy, curve.by_stake));
        body += "| share | attacker nodes | per rotation (k = 1) | exact | per year (k = 1) | captures a year (k = 1) |";
        if first {
            body += &format!(" first rules k = {SIMULATED_RETRIES} (simulated) | k = 10 (formula) | k = 100 | k = 100, per year |");
        }
        body += "\n|---|---|---|---|---|---|";
        if first {
            body += "---|---|---|---|";
        }
        body += "\n";
        for (i, share) in SHARES.iter().enumerate() {
            body += &format!(
                "| {:.0}% | {} | {} | {} | {} | {:.1} |",
                share * 100.0,
                curve.attackers[i],
                pct(curve.per_rotation[i]),
                curve.exact[i].map_or("–".into(), |x| format!("{:.3}%", 100.0 * x)),
                pct(curve.per_year[i]),
                curve.rate[i] * f.rotations_per_year,
            );
            if first {
                let k100 = curve.with_retries(i, 100);
                body += &format!(
                    " {} | {} | {} | {} |",
                    curve
                        .simulated_retry
                        .as_ref()
                        .map_or("–".into(), |s| pct(s[i])),
                    pct(curve.with_retries(i, 10)),
                    pct(k100),
                    pct(map(k100, |q| 1.0 - (1.0 - q).powf(f.rotations_per_year))),
                );
            }
            body += "\n";
        }
        body += "\n";
    }

    body += &format!(
        "**Profit of a captured committee** (tokens). In one rotation it routes up to {} jobs/h × {} h to a \
         colluding miner staking the minimum ({} tokens), which answers without computing (clients pay for the \
         jobs, so the take is payouts for work not done). The exposure limit caps those jobs at the miner's stake × \
         `exposure_multiple_bps`. Each wrong answer stays disputable for {} epochs of {} h; keepers audit {:.1}% of \
         solved jobs. Under the first rules the sample is public: the miner answers the audited jobs honestly \
         (paying {:.0}% of the price to compute them) and is never caught. Under revision 2 it is secret: caught \
         with chance 1 − (1 − a)^J; an overturn liquidates the miner's whole stake (which refunds the clients) and \
         withholds the validator fee; the miner keeps payouts already released (best case: no hold). For high-risk \
         jobs the {} co-signers also lose {}% of a minimum validator stake each. Disputes are decided by all \
         validators' stake-weighted votes, not by the committee, and under revision 2 no attestation can slash, so \
         a captured committee cannot protect its miner or punish the auditors.\n\n\
         | rules | jobs J | gain if unnoticed | P(caught) | net if caught | expected per capture | same, high-risk jobs |\n\
         |---|---|---|---|---|---|---|\n",
        cfg.jobs_per_hour,
        p.committee_rotation_secs as f64 / 3_600.0,
        tokens(p.min_miner_stake as f64),
        p.challenge_window_epochs,
        p.epoch_secs / 3_600,
        cfg.audit_bps as f64 / 100.0,
        cfg.compute_cost_bps as f64 / 100.0,
        p.committee_quorum,
        SlashingTable::default().approve_invalid_bps as f64 / 100.0,
    );
    for pr in f.profits.iter().filter(|pr| rules.contains(&pr.rules)) {
        body += &format!(
            "| {} | {} | {} | {:.4} | {} | **{}** | {} |\n",
            pr.rules.name(),
            pr.jobs,
            tokens(pr.gain_if_unnoticed),
            pr.p_caught,
            if pr.p_caught > 0.0 {
                tokens(pr.net_if_caught)
            } else {
                "never caught".into()
            },
            tokens(pr.per_capture),
            tokens(pr.per_capture_high_risk),
        );
    }
    let main = &f.curves[0];
    body += &format!(
        "\nExpected profit per year ({:?} draw) = rotations a year × capture probability per rotation × expected \
         profit per capture (first rules with k = 100 retries, revision 2 without). A negative figure is what \
         cheating at every capture would cost; a rational attacker under revision 2 does not cheat, so it takes \
         nothing from clients:\n\n| share |",
        main.strategy
    );
    let shown: Vec<&Profit> = f
        .profits
        .iter()
        .filter(|pr| rules.contains(&pr.rules))
        .collect();
    for pr in &shown {
        body += &format!(" {} |", pr.rules.name());
    }
    body += "\n|---|";
    body += &"---|".repeat(shown.len());
    body += "\n";
    for (i, share) in SHARES.iter().enumerate() {
        body += &format!("| {:.0}% |", share * 100.0);
        for pr in &shown {
            let k = if pr.rules.draw_retryable() { 100 } else { 1 };
            let q = main.rate_with_retries(i, k);
            body += &format!(" {} |", tokens(f.rotations_per_year * q * pr.per_capture));
        }
        body += "\n";
    }

    let mut series = Vec::new();
    let points = |c: &Curve, k: u32| -> Vec<(f64, f64)> {
        (0..SHARES.len())
            .map(|i| (SHARES[i] * 100.0, c.rate_with_retries(i, k)))
            .collect()
    };
    series.push(Series {
        label: format!("{:?}, k = 1 (revision 2)", main.strategy),
        points: points(main, 1),
    });
    if first {
        for k in [10, 100] {
            series.push(Series {
                label: format!("{:?}, first rules, k = {k}", main.strategy),
                points: points(main, k),
            });
        }
    }
    for c in &f.curves[1..] {
        series.push(Series {
            label: format!("{:?} by stake, k = 1", c.strategy),
            points: points(c, 1),
        });
    }
    let plot = report.plot(
        "capture.png",
        &Figure {
            title: "Committee capture per rotation",
            x_label: "attacker share of validators (%)",
            y_label: "P(attacker holds a quorum)",
            series,
            marks: vec![],
            baseline: None,
            log_y: true,
        },
    )?;
    body += &format!("\n{plot}");
    report.section("Committee capture", body);
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn quick() -> (Findings, tempfile::TempDir) {
        let dir = tempfile::tempdir().unwrap();
        let mut report = Report::new(dir.path()).unwrap();
        let cfg = SimConfig::quick();
        let f = run(&cfg, &RuleSet::ALL, &mut report).unwrap();
        report.write("test").unwrap();
        (f, dir)
    }

    #[test]
    fn capture_findings_at_the_quick_settings() {
        let (f, dir) = quick();
        let main = &f.curves[0];
        // A captured committee loses money under revision 2, not under the first rules.
        assert!(f.expected_profit_at_20pct_revision2 < 0.0, "{f:?}");
        assert!(f.expected_profit_at_20pct_first > 0.0, "{f:?}");
        // Retries lift the per-rotation capture far above revision 2's.
        assert!(
            f.retry_per_rotation_at_20pct.low() > 5.0 * f.per_rotation_at_20pct.high(),
            "{f:?}"
        );
        // More share, more captures.
        for c in &f.curves {
            let m: Vec<f64> = c.per_rotation.iter().map(|e| e.mean).collect();
            assert!(m.windows(2).all(|w| w[0] <= w[1]), "{m:?}");
            assert!(
                m[0] < m[AT_20PCT] && m[AT_20PCT] < m[SHARES.len() - 1],
                "{m:?}"
            );
        }
        // The simulated retries agree with 1 − (1 − p)^k.
        let (sim, pred) = (f.simulated_retry_at_20pct, f.predicted_retry_at_20pct);
        assert!(
            (sim.mean - pred.mean).abs() <= sim.half_width + pred.half_width,
            "{sim} vs {pred}"
        );
        // The program's Random draw is uniform: the simulated rate is near
        // the exact one (1.5 half-widths: six intervals checked at once).
        for (e, x) in main.per_rotation.iter().zip(&main.exact) {
            let x = x.expect("Random draw");
            assert!((e.mean - x).abs() <= 1.5 * e.half_width, "{e} vs {x}");
        }
        assert!(dir.path().join("capture.png").exists());
        let summary = std::fs::read_to_string(dir.path().join("summary.md")).unwrap();
        assert!(summary.contains("## Committee capture") && summary.contains("capture.png"));
    }

    #[test]
    fn the_hypergeometric_tail_matches_a_hand_count() {
        // 4 of 20 attackers, 3 of 5 seats: (C(4,3)·C(16,2) + C(4,4)·C(16,1)) / C(20,5).
        let x = hypergeometric_tail(20, 4, 5, 3);
        assert!((x - 496.0 / 15_504.0).abs() < 1e-12, "{x}");
        assert_eq!(hypergeometric_tail(20, 2, 5, 3), 0.0);
    }
}
