//! What a simulation run is: the network, the workload, the Monte Carlo
//! settings and every protocol parameter, from a TOML file and `--set`
//! overrides on top of the program's defaults.

use std::path::Path;

use serde::Deserialize;
use verdict::constants::defaults::TOKEN;
use verdict::state::{ProtocolParams, SelectionStrategy};

use crate::SimError;

/// A simulation's settings. Every field has a default; a TOML file names
/// only what it changes (`[params]` holds protocol parameters by their
/// Config names).
#[derive(Clone, Debug)]
pub struct SimConfig {
    /// Seed of every random draw (the same seed, the same report).
    pub seed: u64,
    /// Monte Carlo runs behind each estimated figure.
    pub trials: u32,
    /// Simulated time, in hours (one committee rotation each at the defaults).
    pub hours: u32,
    /// Nodes in the network, and how many of them are validators.
    pub nodes: u32,
    pub validators: u32,
    /// Stakes, as multiples of the role's minimum: Pareto with this shape,
    /// capped at `stake_max_multiple`.
    pub stake_pareto_alpha: f64,
    pub stake_max_multiple: f64,
    /// Jobs the whole network serves per hour, and each job's price.
    pub jobs_per_hour: u32,
    pub price: u64,
    /// What computing an answer honestly costs a miner, as a share of the price.
    pub compute_cost_bps: u16,
    /// Share of solved jobs the keepers re-check (`recheck_bps`).
    pub audit_bps: u16,
    /// Share of active weight that turns out to vote in a dispute.
    pub honest_turnout_bps: u16,
    pub params: ProtocolParams,
}

impl Default for SimConfig {
    fn default() -> Self {
        SimConfig {
            seed: 1,
            trials: 200,
            hours: 24 * 365,
            nodes: 1_000,
            validators: 100,
            stake_pareto_alpha: 1.5,
            stake_max_multiple: 50.0,
            jobs_per_hour: 1_000,
            price: TOKEN,
            compute_cost_bps: 5_000,
            audit_bps: 1_000,
            honest_turnout_bps: 7_000,
            params: ProtocolParams::default(),
        }
    }
}

/// The file's shape: the run's settings, then `[params]`.
#[derive(Deserialize, Default)]
#[serde(deny_unknown_fields)]
struct File {
    seed: Option<u64>,
    trials: Option<u32>,
    hours: Option<u32>,
    nodes: Option<u32>,
    validators: Option<u32>,
    stake_pareto_alpha: Option<f64>,
    stake_max_multiple: Option<f64>,
    jobs_per_hour: Option<u32>,
    price: Option<u64>,
    compute_cost_bps: Option<u16>,
    audit_bps: Option<u16>,
    honest_turnout_bps: Option<u16>,
    #[serde(default)]
    params: toml::Table,
}

impl SimConfig {
    /// A small run for tests and `--quick`: 100 nodes, a month, 40 trials.
    pub fn quick() -> Self {
        SimConfig {
            trials: 40,
            hours: 24 * 30,
            nodes: 100,
            validators: 20,
            jobs_per_hour: 200,
            ..SimConfig::default()
        }
    }

    /// Reads a TOML file over `self`.
    pub fn load(self, path: &Path) -> Result<Self, SimError> {
        let text = std::fs::read_to_string(path)
            .map_err(|e| SimError::Config(format!("{}: {e}", path.display())))?;
        let file: File = toml::from_str(&text)
            .map_err(|e| SimError::Config(format!("{}: {e}", path.display())))?;
        self.apply(file)?.check()
    }

    /// Applies `name=value` overrides: a run setting or a protocol
    /// parameter (the value in TOML syntax), each read as a one-line file.
    pub fn set(mut self, assignments: &[String]) -> Result<Self, SimError> {
        for a in assignments {
            let (name, value) = a
                .split_once('=')
                .ok_or_else(|| SimError::Config(format!("`{a}`: expected name=value")))?;
            let (name, value) = (name.trim(), value.trim());
            let section = if is_param(name) { "[params]\n" } else { "" };
            let file: File = toml::from_str(&format!("{section}{name} = {value}"))
                .map_err(|e| SimError::Config(format!("`{a}`: {e}")))?;
            self = self.apply(file)?;
        }
        self.check()
    }

    /// A file's run settings, then its protocol parameters.
    fn apply(self, mut file: File) -> Result<Self, SimError> {
        let params = std::mem::take(&mut file.params);
        let mut merged = self.merge(file);
        for (name, value) in params {
            set_param(&mut merged.params, &name, value)?;
        }
        Ok(merged)
    }

    fn merge(mut self, file: File) -> Self {
        macro_rules! take {
            ($($field:ident),*) => { $(if let Some(v) = file.$field { self.$field = v; })* };
        }
        take!(
            seed,
            trials,
            hours,
            nodes,
            validators,
            stake_pareto_alpha,
            stake_max_multiple,
            jobs_per_hour,
            price,
            compute_cost_bps,
            audit_bps,
            honest_turnout_bps
        );
        self
    }

    fn check(self) -> Result<Self, SimError> {
        let bad = |what: &str| Err(SimError::Config(what.into()));
        if self.trials == 0 || self.hours == 0 || self.nodes == 0 {
            return bad("trials, hours and nodes must be positive");
        }
        if self.validators == 0 || self.validators >= self.nodes {
            return bad("validators must be between 1 and nodes - 1");
        }
        let positive = self.stake_pareto_alpha.is_finite() && self.stake_pareto_alpha > 0.0;
        if !positive || self.stake_max_multiple.is_nan() || self.stake_max_multiple < 1.0 {
            return bad("stake_pareto_alpha must be > 0 and stake_max_multiple ≥ 1");
        }
        if self.compute_cost_bps > 10_000
            || self.audit_bps > 10_000
            || self.honest_turnout_bps > 10_000
        {
            return bad("shares are basis points, at most 10,000");
        }
        Ok(self)
    }

    /// Every protocol parameter as `name = value`, for the report.
    pub fn params_table(&self) -> String {
        format!("{:#?}", self.params)
    }
}

/// Sets Config parameter `name` (its name in `ProtocolParams`).
macro_rules! params {
    ($($field:ident),* $(,)?) => {
        const PARAM_NAMES: &[&str] = &[$(stringify!($field)),*];

        fn set_param(p: &mut ProtocolParams, name: &str, value: toml::Value) -> Result<(), SimError> {
            let bad = |e: String| SimError::Config(format!("params.{name}: {e}"));
            match name {
                $(stringify!($field) => p.$field = value.try_into().map_err(|e: toml::de::Error| bad(e.to_string()))?,)*
                "selection_strategy" => {
                    p.selection_strategy = value
                        .as_str()
                        .and_then(SelectionStrategy::from_name)
                        .ok_or_else(|| bad("one of random, reputation, stake, performance, weighted".into()))?
                        as u8
                }
                _ => return Err(SimError::Config(format!("no protocol parameter `{name}`"))),
            }
            Ok(())
        }
    };
}

params!(
    min_miner_stake,
    min_validator_stake,
    max_commission_bps,
    epoch_secs,
    unbonding_secs,
    committee_size,
    committee_quorum,
    committee_rotation_secs,
    min_validator_score,
    initial_validator_score,
    min_job_fee,
    sent_ttl_secs,
    allocated_ttl_secs,
    max_job_attempts,
    penalty_bps,
    reward_bps,
    trust_cap_bps,
    trial_baseline_trust_bps,
    trial_cooldown_secs,
    reputation_window,
    weight_success_bps,
    weight_sla_bps,
    weight_latency_bps,
    tier1_min_bps,
    tiered_min_success_bps,
    slash_success_bps,
    rate_limit_bps,
    max_boost_bps,
    heartbeat_stale_secs,
    decay_per_day_bps,
    challenge_window_epochs,
    vote_commit_secs,
    vote_reveal_secs,
    min_bond,
    bond_multiple,
    unresolved_fee_bps,
    liquidation_multiplier,
    liquidation_active_bps,
    vote_unit,
    dispute_quorum_bps,
    dispute_min_voters,
    vote_deposit,
    slash_epoch_cap_bps,
    max_timeout_reports_per_epoch,
    exposure_multiple_bps,
    validator_fee_bps,
    draw_delay_slots,
);

fn is_param(name: &str) -> bool {
    name == "selection_strategy" || PARAM_NAMES.contains(&name)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_file_and_overrides_set_run_settings_and_protocol_parameters() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("sim.toml");
        std::fs::write(
            &path,
            "trials = 7\naudit_bps = 500\n[params]\nmin_bond = 5\nselection_strategy = \"stake\"\n",
        )
        .unwrap();
        let cfg = SimConfig::default()
            .load(&path)
            .unwrap()
            .set(&["hours=48".into(), "bond_multiple = 3".into()])
            .unwrap();
        assert_eq!((cfg.trials, cfg.audit_bps, cfg.hours), (7, 500, 48));
        assert_eq!((cfg.params.min_bond, cfg.params.bond_multiple), (5, 3));
        assert_eq!(cfg.params.strategy(), SelectionStrategy::Stake);
    }

    #[test]
    fn unknown_names_and_bad_values_are_refused() {
        assert!(SimConfig::default().set(&["no_such=1".into()]).is_err());
        assert!(SimConfig::default()
            .set(&["min_bond=\"x\"".into()])
            .is_err());
        assert!(SimConfig::default().set(&["validators=0".into()]).is_err());
        assert!(SimConfig::default()
            .set(&["audit_bps=20000".into()])
            .is_err());
    }
}
