//! Wash trading through routing: a client submits jobs hoping they are
//! routed to its own Tier 1 miner, which collects the payout and the Tier 1
//! boost (paid by the reward pool, that is, by everyone else).
//!
//! Under the first rules routing was a public function of the job id, so
//! the client grinds ids until each job lands on its miner (q = 1). Under
//! revision 2 the keeper draws among the best `spread` miners with its own
//! secret, so at best the client's miner gets q = 1 / spread of its jobs
//! (its miner always among the best, equal scores), and every job routed
//! elsewhere costs the client the whole price for work it did not want.
//! The boost comes from the program's `Reputation::boost_bps` on a
//! flawless record, the co-signers' fee from the parameters.

use verdict::constants::defaults::TOKEN;
use verdict::state::{JobOutcome, Reputation, TrialStatus};

use crate::{Report, RuleSet, SimConfig, SimError};

/// The keepers' routing spread (their `routing.spread` default): a job goes
/// to one of the best three eligible miners.
pub const ROUTING_SPREAD: u32 = 3;

#[derive(Clone, Debug)]
pub struct Row {
    pub rules: RuleSet,
    /// Share of the client's jobs its own miner gets.
    pub own_share: f64,
    /// Expected gain of the client and its miner together per submitted
    /// job, in tokens (negative: a loss).
    pub gain_per_job: f64,
    /// What the reward pool pays out per submitted job.
    pub pool_drain_per_job: f64,
}

#[derive(Clone, Debug)]
pub struct Findings {
    pub rows: Vec<Row>,
    /// The own-miner share at which wash trading breaks even under revision 2.
    pub break_even_share: f64,
}

/// The boost a flawless Tier 1 miner earns, in bps of the price.
fn flawless_boost_bps(cfg: &SimConfig, rules: RuleSet) -> u16 {
    let params = rules.params(&cfg.params);
    let mut r = Reputation::new(0);
    r.set_trial(TrialStatus::Passed);
    r.trust_bps = params.trial_baseline_trust_bps;
    for _ in 0..params.reputation_window {
        r.record(
            JobOutcome::Success {
                sla_met: true,
                latency_score_bps: 10_000,
                response_ms: 1,
            },
            &params,
        );
    }
    r.boost_bps(&params)
}

pub fn run(cfg: &SimConfig, rules: &[RuleSet], report: &mut Report) -> Result<Findings, SimError> {
    let price = cfg.price as f64 / TOKEN as f64;
    let mut rows = Vec::new();
    let mut break_even_share = f64::NAN;
    for &r in rules {
        let params = r.params(&cfg.params);
        let boost = flawless_boost_bps(cfg, r) as f64 / 10_000.0 * price;
        let fee = params.validator_fee_bps as f64 / 10_000.0 * price;
        // Own miner: the price comes back less the co-signers' fee, plus the
        // boost. Any other miner: the whole price is gone.
        let own_gain = boost - fee;
        let q = if r.audits_public() {
            1.0
        } else {
            1.0 / ROUTING_SPREAD as f64
        };
        if r == RuleSet::Revision2 {
            break_even_share = price / (price + own_gain);
        }
        rows.push(Row {
            rules: r,
            own_share: q,
            gain_per_job: q * own_gain - (1.0 - q) * price,
            pool_drain_per_job: q * boost,
        });
    }
    let mut body = format!(
        "A client washes jobs through its own flawless Tier 1 miner. On its own miner a job \
         returns the price less the co-signers' fee, plus the Tier 1 boost from the reward pool; \
         routed to anyone else it costs the whole price. Under the first rules routing was a \
         public function of the job id, so the client grinds ids until every job lands on its \
         miner; under revision 2 a keeper secret draws among the best {ROUTING_SPREAD} miners, \
         so at best a third of its jobs do. Price {price:.3} tokens.\n\n\
         | rules | own miner's share | gain per job (tokens) | reward pool drained per job |\n\
         |---|---|---|---|\n"
    );
    for row in &rows {
        body += &format!(
            "| {} | {:.2} | {:.4} | {:.4} |\n",
            row.rules.name(),
            row.own_share,
            row.gain_per_job,
            row.pool_drain_per_job
        );
    }
    if break_even_share.is_finite() {
        body += &format!(
            "\nUnder revision 2 washing would pay only if the client's miner got {:.0}% of its \
             jobs; routing gives it at most {:.0}%.\n",
            break_even_share * 100.0,
            100.0 / ROUTING_SPREAD as f64
        );
    }
    report.section("Grinding job ids to route work", body);
    Ok(Findings {
        rows,
        break_even_share,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn grinding_paid_under_the_first_rules_and_washing_loses_under_revision_2() {
        let dir = tempfile::tempdir().unwrap();
        let mut report = Report::new(dir.path()).unwrap();
        let f = run(&SimConfig::quick(), &RuleSet::ALL, &mut report).unwrap();
        let row = |r: RuleSet| f.rows.iter().find(|x| x.rules == r).unwrap();
        assert!(row(RuleSet::First).gain_per_job > 0.0);
        assert!(row(RuleSet::Revision2).gain_per_job < 0.0);
        assert!(f.break_even_share > row(RuleSet::Revision2).own_share);
    }
}
