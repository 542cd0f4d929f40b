//! Does honesty pay? A miner that answers wrong on a share x of its low-
//! and medium-risk jobs saves the compute those answers cost; against that,
//! the keepers re-check a share a of solved jobs, and a re-check of a wrong
//! answer opens a dispute the honest validators win, which liquidates the
//! miner's stake and forfeits its held payouts.
//!
//! Under the first rules whether a job is audited is a public function of
//! the job, so an adaptive cheater cheats only where no audit will come and
//! is never caught. Under revision 2 the sample is a keeper's secret: each
//! wrong answer is caught with probability a.
//!
//! Each miner's record is the program's own `Reputation` (window, tier,
//! payout hold, Tier 1 boost); the dispute is decided by the program's
//! `Dispute::decide`. High-risk jobs are re-run by every co-signer, so a
//! cheater answers those honestly. A cheater and an honest miner are run on
//! the same job stream (common random numbers), so their difference has a
//! small variance.

use std::collections::VecDeque;

use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};
use verdict::constants::defaults::TOKEN;
use verdict::state::{JobOutcome, ProtocolParams, Reputation, TrialStatus, Verdict};

use crate::plot::{Figure, Series};
use crate::rules::open_dispute;
use crate::stats::Estimate;
use crate::{network, Report, RuleSet, SimConfig, SimError};

/// Cheat rates the report sweeps (bps of eligible jobs).
pub const CHEAT_RATES_BPS: [u16; 8] = [0, 100, 200, 500, 1_000, 2_000, 5_000, 10_000];
/// Audit rates the break-even search sweeps (bps of solved jobs).
pub const AUDIT_RATES_BPS: [u16; 10] = [0, 5, 10, 20, 50, 100, 200, 500, 1_000, 2_000];

/// Risk levels' shares of the jobs a Tier 1 or 2 miner is offered.
const LOW_BPS: u32 = 6_000;
const MEDIUM_BPS: u32 = 3_000;

#[derive(Clone, Debug)]
pub struct Findings {
    /// Yearly earnings of a cheater less an honest miner's (tokens), by
    /// cheat rate (bps), at the configured audit rate: one row per rule set.
    pub advantage: Vec<(RuleSet, Vec<(u16, Estimate)>)>,
    /// The share of cheaters caught within the year, by cheat rate.
    pub caught: Vec<(RuleSet, Vec<(u16, Estimate)>)>,
    /// Revision 2, cheating on 1%: the advantage by audit rate (bps), and
    /// the lowest audit rate at which cheating no longer pays.
    pub by_audit_rate: Vec<(u16, Estimate)>,
    pub break_even_audit_bps: Option<f64>,
    /// An honest miner's yearly earnings (tokens) under revision 2.
    pub honest_earnings: Estimate,
    /// Jobs simulated in all, and whether every token moved was accounted for.
    pub jobs_simulated: u64,
    pub conserved: bool,
}

/// What one simulated year cost and paid a miner.
#[derive(Clone, Copy, Debug, Default)]
struct Year {
    earnings: f64,
    jobs: u64,
    caught: bool,
    /// Whether the miner's books summed to zero.
    conserved: bool,
}

/// Token flows of a run, by purpose: what leaves one account enters
/// another, so the books sum to zero after every step.
#[derive(Clone, Copy, Debug, Default)]
pub struct Ledger {
    pub clients: i128,
    pub miners: i128,
    pub validators: i128,
    pub reward_pool: i128,
    pub dispute_pools: i128,
    pub compute: i128,
}

impl Ledger {
    fn sum(&self) -> i128 {
        self.clients
            + self.miners
            + self.validators
            + self.reward_pool
            + self.dispute_pools
            + self.compute
    }
}

/// The fixed numbers of a run under one rule set.
struct Setting {
    params: ProtocolParams,
    rules: RuleSet,
    price: u64,
    cost: u64,
    fee: u64,
    audit_bps: u16,
    /// Whether the honest validators' vote overturns a caught wrong answer.
    overturns: bool,
    jobs_per_miner: u64,
    secs_per_job: i64,
}

impl Setting {
    fn new(cfg: &SimConfig, rules: RuleSet, audit_bps: u16) -> Setting {
        let params = rules.params(&cfg.params);
        let miners = (cfg.nodes - cfg.validators).max(1) as u64;
        let jobs_per_miner = (cfg.hours as u64 * cfg.jobs_per_hour as u64 / miners).max(1);
        Setting {
            rules,
            price: cfg.price,
            cost: cfg.price * cfg.compute_cost_bps as u64 / 10_000,
            fee: cfg.price * params.validator_fee_bps as u64 / 10_000,
            audit_bps,
            overturns: wrong_answer_overturned(cfg, rules),
            jobs_per_miner,
            secs_per_job: (cfg.hours as i64 * 3_600 / jobs_per_miner as i64).max(1),
            params,
        }
    }
}

/// Decides, with the program's code, the dispute an audit opens against a
/// wrong answer: the validators that turn out vote the correct result; under
/// the first rules the miner votes for its own output.
fn wrong_answer_overturned(cfg: &SimConfig, rules: RuleSet) -> bool {
    let params = rules.params(&cfg.params);
    let mut rng = StdRng::seed_from_u64(cfg.seed ^ 0x5eed);
    let stakes = network::stakes(
        cfg,
        params.min_validator_stake,
        cfg.validators as usize,
        &mut rng,
    );
    let weights: Vec<u64> = stakes
        .iter()
        .map(|&s| rules.vote_weight(s, &params))
        .collect();
    let miner_weight = rules.vote_weight(params.min_miner_stake, &params);
    let (wrong, right) = ([1u8; 32], [2u8; 32]);
    let mut d = open_dispute(
        wrong,
        right,
        rules.bond(cfg.price, &cfg.params),
        weights.iter().sum::<u64>() + miner_weight,
    );
    let voting = (weights.len() as u64 * cfg.honest_turnout_bps as u64).div_ceil(10_000) as usize;
    for &w in weights.iter().take(voting) {
        d.count(right, w);
    }
    if rules.parties_vote() {
        d.count(wrong, miner_weight);
    }
    matches!(d.decide(&rules.dispute_rules(&params)), Verdict::Stands { result, .. } if result == right)
}

/// One miner's state through the year.
struct Miner {
    reputation: Reputation,
    stake: u64,
    /// Payouts not yet released: (release time, pay, co-signers' fee, boost).
    held: VecDeque<(i64, u64, u64, u64)>,
    cheat_bps: u16,
    caught: bool,
    jobs: u64,
    /// Every token this miner's jobs moved.
    books: Ledger,
}

impl Miner {
    fn new(params: &ProtocolParams, cheat_bps: u16) -> Miner {
        let mut reputation = Reputation::new(0);
        // Past its trial, as every miner routed work is.
        reputation.set_trial(TrialStatus::Passed);
        reputation.trust_bps = params.trial_baseline_trust_bps;
        Miner {
            reputation,
            stake: params.min_miner_stake,
            held: VecDeque::new(),
            cheat_bps,
            caught: false,
            jobs: 0,
            books: Ledger::default(),
        }
    }

    /// Serves one job at time `now` with the shared draws `u` (risk, audit,
    /// cheat), moving tokens in its books.
    fn serve(&mut self, s: &Setting, now: i64, u: [u32; 3]) {
        if self.caught {
            return;
        }
        self.release(now);
        let tier = self.reputation.tier(&s.params);
        // Tier 3 takes low-risk jobs only; high-risk answers are re-run by
        // every co-signer, so nobody cheats on those.
        let risky = tier < 3 && u[0] >= LOW_BPS + MEDIUM_BPS;
        let audited = u[1] < s.audit_bps as u32;
        let wants = !risky && u[2] < self.cheat_bps as u32;
        let cheat = wants && !(s.rules.audits_public() && audited);
        self.jobs += 1;
        if cheat && audited && s.overturns {
            self.liquidate();
            return;
        }
        if !cheat {
            self.books.miners -= s.cost as i128;
            self.books.compute += s.cost as i128;
        }
        self.reputation.record(
            JobOutcome::Success {
                sla_met: true,
                latency_score_bps: 9_000,
                response_ms: 100,
            },
            &s.params,
        );
        let boost = s.price * self.reputation.boost_bps(&s.params) as u64 / 10_000;
        // Released when the program would release it (the miner's standing now).
        let release_at = self
            .reputation
            .standing(&s.params)
            .payout_release_at(now, &s.params)
            .expect("simulated times stay far from overflow");
        // The client's price pays the miner and the co-signers; the boost
        // comes out of the reward pool. Both are held until released.
        self.held
            .push_back((release_at, s.price - s.fee, s.fee, boost));
    }

    fn release(&mut self, now: i64) {
        let books = &mut self.books;
        while self.held.front().is_some_and(|(at, ..)| *at <= now) {
            let (_, pay, fee, boost) = self.held.pop_front().expect("front");
            books.clients -= (pay + fee) as i128;
            books.validators += fee as i128;
            books.reward_pool -= boost as i128;
            books.miners += (pay + boost) as i128;
        }
    }

    /// The whole stake to the dispute pool; what is still held goes back
    /// (the escrows to their clients, the boosts to the reward pool), and
    /// the caught job's client was never charged.
    fn liquidate(&mut self) {
        self.books.miners -= self.stake as i128;
        self.books.dispute_pools += self.stake as i128;
        self.held.clear();
        self.caught = true;
    }

    /// At the year's end what is still held counts as earned (no later
    /// dispute is modelled for an honest answer).
    fn close(&mut self) -> Year {
        self.release(i64::MAX);
        Year {
            earnings: self.books.miners as f64 / TOKEN as f64,
            jobs: self.jobs,
            caught: self.caught,
            conserved: self.books.sum() == 0,
        }
    }
}

/// A job's three uniform draws in bps (risk, audit, cheat).
fn draws(rng: &mut StdRng) -> [u32; 3] {
    [
        rng.gen_range(0..10_000),
        rng.gen_range(0..10_000),
        rng.gen_range(0..10_000),
    ]
}

/// One year of a cheater (rate `cheat_bps`) and an honest miner on the same
/// job stream: (cheater, honest) yearly earnings in tokens, and the jobs run.
fn year_pair(s: &Setting, cheat_bps: u16, rng: &mut StdRng, conserved: &mut bool) -> (Year, Year) {
    let mut cheater = Miner::new(&s.params, cheat_bps);
    let mut honest = Miner::new(&s.params, 0);
    for j in 0..s.jobs_per_miner {
        let u = draws(rng);
        let now = j as i64 * s.secs_per_job;
        cheater.serve(s, now, u);
        honest.serve(s, now, u);
    }
    let (c, h) = (cheater.close(), honest.close());
    *conserved &= c.conserved && h.conserved;
    (c, h)
}

/// Mean yearly advantage of cheating at `cheat_bps` over `trials` years.
/// Also the honest miner's earnings and the share of cheaters caught.
fn advantage(
    cfg: &SimConfig,
    s: &Setting,
    cheat_bps: u16,
    stream: u64,
    jobs: &mut u64,
    conserved: &mut bool,
) -> (Estimate, Estimate, Estimate) {
    let mut rng = StdRng::seed_from_u64(cfg.seed.wrapping_mul(1_000_003) ^ stream);
    let (mut diff, mut honest, mut caught) = (Vec::new(), Vec::new(), 0u64);
    for _ in 0..cfg.trials {
        let (c, h) = year_pair(s, cheat_bps, &mut rng, conserved);
        *jobs += c.jobs + h.jobs;
        caught += c.caught as u64;
        diff.push(c.earnings - h.earnings);
        honest.push(h.earnings);
    }
    (
        Estimate::of(&diff),
        Estimate::of(&honest),
        Estimate::proportion(caught, cfg.trials as u64),
    )
}

/// Runs the sweep under each rule set and writes the section and plots.
pub fn run(cfg: &SimConfig, rules: &[RuleSet], report: &mut Report) -> Result<Findings, SimError> {
    let mut jobs = 0u64;
    let mut conserved = true;
    let (mut rows, mut caught) = (Vec::new(), Vec::new());
    let mut honest_earnings = Estimate::of(&[]);
    for (i, &r) in rules.iter().enumerate() {
        let s = Setting::new(cfg, r, cfg.audit_bps);
        let (mut by_rate, mut caught_by_rate) = (Vec::new(), Vec::new());
        for (k, &x) in CHEAT_RATES_BPS.iter().enumerate() {
            let (adv, honest, got) =
                advantage(cfg, &s, x, (i * 100 + k) as u64, &mut jobs, &mut conserved);
            if r == RuleSet::Revision2 && x == 0 {
                honest_earnings = honest;
            }
            by_rate.push((x, adv));
            caught_by_rate.push((x, got));
        }
        rows.push((r, by_rate));
        caught.push((r, caught_by_rate));
    }
    // Revision 2, cheating on 1% of jobs: where does the advantage turn negative?
    let mut by_audit_rate = Vec::new();
    for (k, &a) in AUDIT_RATES_BPS.iter().enumerate() {
        let s = Setting::new(cfg, RuleSet::Revision2, a);
        let (adv, ..) = advantage(cfg, &s, 100, 10_000 + k as u64, &mut jobs, &mut conserved);
        by_audit_rate.push((a, adv));
    }
    let break_even_audit_bps = break_even(&by_audit_rate);

    let mut body = String::new();
    body.push_str(&format!(
        "A miner with the minimum stake ({} tokens) serves {} jobs a year at a price of {} tokens; computing an answer \
         honestly costs {:.0}% of the price. The cheater answers wrong (for free) on a share x of its low- and medium-risk \
         jobs. The keepers re-check {:.1}% of solved jobs. Under the first rules the audited jobs are known in advance, \
         so the cheater skips them; under revision 2 it cannot tell. A caught wrong answer is disputed, and the \
         validators' vote (turnout {:.0}%) decides it with the program's code: {}.\n\n",
        cfg.params.min_miner_stake / TOKEN,
        Setting::new(cfg, RuleSet::Revision2, cfg.audit_bps).jobs_per_miner,
        cfg.price as f64 / TOKEN as f64,
        cfg.compute_cost_bps as f64 / 100.0,
        cfg.audit_bps as f64 / 100.0,
        cfg.honest_turnout_bps as f64 / 100.0,
        rules
            .iter()
            .map(|&r| format!("{} {}", r.name(), if wrong_answer_overturned(cfg, r) { "overturns it" } else { "does not overturn it" }))
            .collect::<Vec<_>>()
            .join(", ")
    ));
    body.push_str(&format!(
        "An honest miner earns {} tokens a year (revision 2). Cheater's yearly earnings less the honest miner's (tokens, 95% interval):\n\n",
        honest_earnings
    ));
    body.push_str("| cheat rate |");
    for (r, _) in &rows {
        body.push_str(&format!(" {0} | {0}: caught |", r.name()));
    }
    body.push_str("\n|---|");
    body.push_str(&"---|---|".repeat(rows.len()));
    body.push('\n');
    for (k, x) in CHEAT_RATES_BPS.iter().enumerate() {
        body.push_str(&format!("| {:.0}% |", *x as f64 / 100.0));
        for ((_, by_rate), (_, got)) in rows.iter().zip(&caught) {
            body.push_str(&format!(
                " {} | {:.1}% |",
                by_rate[k].1,
                got[k].1.mean * 100.0
            ));
        }
        body.push('\n');
    }
    body.push('\n');
    body.push_str(
        &report.plot(
            "cheating.png",
            &Figure {
                title: "Cheater's yearly earnings less an honest miner's",
                x_label: "cheat rate (% of low- and medium-risk jobs)",
                y_label: "tokens",
                series: rows
                    .iter()
                    .map(|(r, by_rate)| Series {
                        label: r.name().into(),
                        points: by_rate
                            .iter()
                            .map(|(x, e)| (*x as f64 / 100.0, e.mean))
                            .collect(),
                    })
                    .collect(),
                marks: vec![],
                baseline: Some(0.0),
                log_y: false,
            },
        )?,
    );
    body.push_str(&format!(
        "\nRevision 2, cheating on 1%, by audit rate: {}. Break-even audit rate: {}.\n\n",
        by_audit_rate
            .iter()
            .map(|(a, e)| format!("{:.2}% → {:.2}", *a as f64 / 100.0, e.mean))
            .collect::<Vec<_>>()
            .join(", "),
        break_even_audit_bps.map_or("none in the range".into(), |a| format!("{:.3}%", a / 100.0))
    ));
    body.push_str(
        &report.plot(
            "audit_rate.png",
            &Figure {
                title: "Cheating on 1% of jobs (revision 2): advantage by audit rate",
                x_label: "audit rate (% of solved jobs)",
                y_label: "cheater less honest (tokens a year)",
                series: vec![Series {
                    label: "revision 2, x = 1%".into(),
                    points: by_audit_rate
                        .iter()
                        .map(|(a, e)| (*a as f64 / 100.0, e.mean))
                        .collect(),
                }],
                marks: break_even_audit_bps
                    .map(|a| vec![(a / 100.0, format!("break-even {:.3}%", a / 100.0))])
                    .unwrap_or_default(),
                baseline: Some(0.0),
                log_y: false,
            },
        )?,
    );
    body.push_str(&format!(
        "\nToken conservation: {} over {jobs} simulated jobs (every payout, fee, boost, refund, cost and liquidation moved between accounts that sum to zero).\n",
        if conserved { "every token accounted for" } else { "VIOLATED" }
    ));
    report.section("Does honesty pay?", body);
    Ok(Findings {
        advantage: rows,
        caught,
        by_audit_rate,
        break_even_audit_bps,
        honest_earnings,
        jobs_simulated: jobs,
        conserved,
    })
}

/// The audit rate (bps) where the advantage crosses zero, interpolated.
fn break_even(points: &[(u16, Estimate)]) -> Option<f64> {
    points.windows(2).find_map(|w| {
        let ((a0, e0), (a1, e1)) = (w[0], w[1]);
        (e0.mean >= 0.0 && e1.mean < 0.0)
            .then(|| a0 as f64 + (a1 as f64 - a0 as f64) * e0.mean / (e0.mean - e1.mean))
    })
}

/// A whole network for `cfg.hours`: every miner (a share `cheaters_bps` of
/// them cheating on 1%) serves its jobs; returns the jobs simulated. What
/// the throughput benchmark times.
pub fn simulate_network(cfg: &SimConfig, rules: RuleSet, cheaters_bps: u16) -> u64 {
    let s = Setting::new(cfg, rules, cfg.audit_bps);
    let miners = (cfg.nodes - cfg.validators) as usize;
    let mut rng = StdRng::seed_from_u64(cfg.seed);
    let mut all: Vec<Miner> = (0..miners)
        .map(|i| {
            let cheat = if (i as u64 * 10_000) < miners as u64 * cheaters_bps as u64 {
                100
            } else {
                0
            };
            Miner::new(&s.params, cheat)
        })
        .collect();
    for j in 0..s.jobs_per_miner {
        let now = j as i64 * s.secs_per_job;
        for m in all.iter_mut() {
            m.serve(&s, now, draws(&mut rng));
        }
    }
    all.iter_mut().map(|m| m.close().jobs).sum()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn findings() -> Findings {
        let dir = tempfile::tempdir().unwrap();
        let mut report = Report::new(dir.path()).unwrap();
        let cfg = SimConfig {
            trials: 20,
            ..SimConfig::quick()
        };
        run(&cfg, &RuleSet::ALL, &mut report).unwrap()
    }

    #[test]
    fn honesty_pays_under_revision_2_and_cheating_paid_under_the_first_rules() {
        let f = findings();
        assert!(f.conserved);
        let rows = |r: RuleSet| f.advantage.iter().find(|(x, _)| *x == r).unwrap().1.clone();
        for (x, e) in rows(RuleSet::Revision2) {
            if x >= 100 {
                assert!(e.high() < 0.0, "revision 2, cheating on {x} bps: {e}");
            }
        }
        // Predictable audits: the adaptive cheater is never caught and
        // saves the compute it skipped.
        for (x, e) in rows(RuleSet::First) {
            if x >= 100 {
                assert!(e.low() > 0.0, "first rules, cheating on {x} bps: {e}");
            }
        }
        assert!(f.honest_earnings.mean > 0.0);
    }

    #[test]
    fn without_audits_cheating_pays_and_the_break_even_rate_is_found() {
        let f = findings();
        let (a0, e0) = f.by_audit_rate[0];
        assert_eq!(a0, 0);
        assert!(e0.mean > 0.0, "no audits: {e0}");
        let b = f.break_even_audit_bps.expect("a break-even audit rate");
        assert!(b > 0.0 && b < 1_000.0, "{b}");
    }
}
