//! `verdict-sim`: an adversarial simulation of the Verdict protocol at its
//! Config defaults, on the program crate's own decision code (reputation,
//! tiers and payout holds, dispute tallying and decision, the committee
//! draw, liquidation sharing), under the first rules and under revision 2.
//!
//! Each experiment is a module with a `run` that writes its section and
//! plots into the [`Report`] and returns its key figures (`Findings`), which
//! the tests assert.

pub mod capture;
pub mod config;
pub mod griefing;
pub mod grinding;
pub mod miners;
pub mod network;
pub mod overturn;
pub mod plot;
pub mod report;
pub mod rules;
pub mod stats;

pub use config::SimConfig;
pub use report::Report;
pub use rules::RuleSet;

#[derive(Debug, thiserror::Error)]
pub enum SimError {
    #[error("configuration: {0}")]
    Config(String),
    #[error("plot: {0}")]
    Plot(String),
    #[error("{0}")]
    Io(String),
}

/// Every experiment's figures.
#[derive(Debug)]
pub struct Findings {
    pub miners: miners::Findings,
    pub overturn: overturn::Findings,
    pub capture: capture::Findings,
    pub griefing: griefing::Findings,
    pub grinding: grinding::Findings,
}

/// Runs every experiment under each of `rules` and writes the report.
pub fn run_all(
    cfg: &SimConfig,
    rules: &[RuleSet],
    report: &mut Report,
) -> Result<Findings, SimError> {
    let findings = Findings {
        miners: miners::run(cfg, rules, report)?,
        overturn: overturn::run(cfg, rules, report)?,
        capture: capture::run(cfg, rules, report)?,
        griefing: griefing::run(cfg, rules, report)?,
        grinding: grinding::run(cfg, rules, report)?,
    };
    report.section(
        "Settings",
        format!(
            "seed {}, {} trials per estimate, {} hours, {} nodes ({} validators), {} jobs per hour at {} lamports each, \
             compute cost {} bps of the price, audit rate {} bps, honest turnout {} bps.\n\n```text\n{}\n```",
            cfg.seed,
            cfg.trials,
            cfg.hours,
            cfg.nodes,
            cfg.validators,
            cfg.jobs_per_hour,
            cfg.price,
            cfg.compute_cost_bps,
            cfg.audit_bps,
            cfg.honest_turnout_bps,
            cfg.params_table()
        ),
    );
    Ok(findings)
}
