//! Governance parameters by name: `--set NAME=VALUE` for `config init` and
//! `config update`, and the same names in `config show`. One table lists
//! every field of `ProtocolParams` and `SlashingTable` with how its value is
//! written, so a new field is one line here.

use serde_json::{json, Map, Value};
use verdict::state::{ProtocolParams, SelectionStrategy, SlashingTable};

use crate::amount::{format_tokens, TokenAmount};

/// One `NAME=VALUE` from the command line, checked against the table when
/// parsed.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ParamSetting {
    pub name: String,
    pub value: String,
}

impl ParamSetting {
    pub fn parse(input: &str) -> Result<Self, String> {
        let (name, value) = input
            .split_once('=')
            .ok_or_else(|| format!("'{input}' is not NAME=VALUE (e.g. min_miner_stake=1000)"))?;
        let setting = ParamSetting {
            name: name.trim().to_string(),
            value: value.trim().to_string(),
        };
        // Applying it to the defaults checks the name and the value's form now,
        // before anything is read from or sent to the chain.
        setting.apply(
            &mut ProtocolParams::default(),
            &mut SlashingTable::default(),
        )?;
        Ok(setting)
    }

    pub fn apply(
        &self,
        params: &mut ProtocolParams,
        slashing: &mut SlashingTable,
    ) -> Result<(), String> {
        set(params, slashing, &self.name, &self.value)
    }
}

fn number<T: std::str::FromStr>(name: &str, value: &str) -> Result<T, String> {
    value
        .parse()
        .map_err(|_| format!("{name}: '{value}' is not a valid number for this parameter"))
}

fn tokens(name: &str, value: &str) -> Result<u64, String> {
    value
        .parse::<TokenAmount>()
        .map(|a| a.0)
        .map_err(|e| format!("{name}: {e}"))
}

fn strategy(name: &str, value: &str) -> Result<SelectionStrategy, String> {
    SelectionStrategy::from_name(value).ok_or_else(|| {
        format!("{name}: '{value}' is not one of random, reputation, stake, performance, weighted")
    })
}

macro_rules! parameter_table {
    (params { $($field:ident: $kind:ident),* $(,)? } slashing { $($offense:ident),* $(,)? }) => {
        fn set(params: &mut ProtocolParams, slashing: &mut SlashingTable, name: &str, value: &str) -> Result<(), String> {
            match name {
                $(stringify!($field) => params.$field = parameter_table!(@parse $kind, name, value)?,)*
                $(stringify!($offense) => slashing.$offense = number(name, value)?,)*
                _ => return Err(format!("unknown parameter '{name}' (the names are those `verdict config show` prints)")),
            }
            Ok(())
        }

        /// Parameters as JSON (token amounts in base units).
        pub fn params_json(params: &ProtocolParams) -> Value {
            let mut map = Map::new();
            $(map.insert(stringify!($field).to_string(), parameter_table!(@json $kind, params.$field));)*
            Value::Object(map)
        }

        pub fn slashing_json(slashing: &SlashingTable) -> Value {
            json!({ $(stringify!($offense): slashing.$offense),* })
        }

        /// `name: value` lines for people (token amounts in tokens).
        pub fn params_text(params: &ProtocolParams, slashing: &SlashingTable) -> Vec<(&'static str, String)> {
            vec![
                $((stringify!($field), parameter_table!(@text $kind, params.$field)),)*
                $((stringify!($offense), slashing.$offense.to_string()),)*
            ]
        }
    };
    (@parse tokens, $name:expr, $value:expr) => { tokens($name, $value) };
    (@parse number, $name:expr, $value:expr) => { number($name, $value) };
    (@parse strategy, $name:expr, $value:expr) => { strategy($name, $value).map(|s| s as u8) };
    (@json strategy, $v:expr) => { json!(SelectionStrategy::from_stored($v).name()) };
    (@json $kind:ident, $v:expr) => { json!($v) };
    (@text tokens, $v:expr) => { format_tokens($v) };
    (@text strategy, $v:expr) => { SelectionStrategy::from_stored($v).name().to_string() };
    (@text number, $v:expr) => { $v.to_string() };
}

parameter_table! {
    params {
        min_miner_stake: tokens,
        min_validator_stake: tokens,
        max_commission_bps: number,
        epoch_secs: number,
        unbonding_secs: number,
        committee_size: number,
        committee_quorum: number,
        committee_rotation_secs: number,
        selection_strategy: strategy,
        min_validator_score: number,
        initial_validator_score: number,
        min_job_fee: tokens,
        sent_ttl_secs: number,
        allocated_ttl_secs: number,
        max_job_attempts: number,
        penalty_bps: number,
        reward_bps: number,
        trust_cap_bps: number,
        trial_baseline_trust_bps: number,
        trial_cooldown_secs: number,
        reputation_window: number,
        weight_success_bps: number,
        weight_sla_bps: number,
        weight_latency_bps: number,
        tier1_min_bps: number,
        tiered_min_success_bps: number,
        slash_success_bps: number,
        rate_limit_bps: number,
        max_boost_bps: number,
        heartbeat_stale_secs: number,
        decay_per_day_bps: number,
        challenge_window_epochs: number,
        vote_commit_secs: number,
        vote_reveal_secs: number,
        min_bond: tokens,
        bond_multiple: number,
        unresolved_fee_bps: number,
        liquidation_multiplier: number,
        liquidation_active_bps: number,
        vote_unit: tokens,
        dispute_quorum_bps: number,
        dispute_min_voters: number,
        vote_deposit: tokens,
        slash_epoch_cap_bps: number,
        max_timeout_reports_per_epoch: number,
        exposure_multiple_bps: number,
        validator_fee_bps: number,
        draw_delay_slots: number,
    }
    slashing {
        invalid_signature_bps,
        collusion_bps,
        approve_invalid_bps,
        downtime_bps,
        front_running_bps,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn settings_apply_by_name_with_their_units() {
        let (mut p, mut s) = (ProtocolParams::default(), SlashingTable::default());
        ParamSetting::parse("min_miner_stake=1500.5")
            .unwrap()
            .apply(&mut p, &mut s)
            .unwrap();
        assert_eq!(p.min_miner_stake, 1_500_500_000_000);
        ParamSetting::parse("epoch_secs=3600")
            .unwrap()
            .apply(&mut p, &mut s)
            .unwrap();
        assert_eq!(p.epoch_secs, 3_600);
        ParamSetting::parse("selection_strategy=Weighted")
            .unwrap()
            .apply(&mut p, &mut s)
            .unwrap();
        assert_eq!(p.strategy(), SelectionStrategy::Weighted);
        ParamSetting::parse("downtime_bps=500")
            .unwrap()
            .apply(&mut p, &mut s)
            .unwrap();
        assert_eq!(s.downtime_bps, 500);
    }

    #[test]
    fn bad_settings_are_refused_when_parsed() {
        assert!(ParamSetting::parse("nope=1")
            .unwrap_err()
            .contains("unknown parameter"));
        assert!(ParamSetting::parse("epoch_secs").is_err());
        assert!(ParamSetting::parse("committee_size=300").is_err());
        assert!(ParamSetting::parse("min_job_fee=0.0000000001")
            .unwrap_err()
            .contains("9"));
    }

    #[test]
    fn every_parameter_is_shown() {
        let json = params_json(&ProtocolParams::default());
        assert_eq!(json["epoch_secs"], 86_400);
        assert_eq!(json["selection_strategy"], "random");
        assert_eq!(json.as_object().unwrap().len(), 48);
        // Token amounts in base units, the rest as numbers.
        let defaults = ProtocolParams::default();
        assert_eq!(json["min_bond"], defaults.min_bond);
        assert_eq!(json["vote_unit"], defaults.vote_unit);
        assert_eq!(json["vote_deposit"], defaults.vote_deposit);
        assert_eq!(json["validator_fee_bps"], defaults.validator_fee_bps);
        assert!(
            json.get("dispute_bond").is_none(),
            "the bond is computed from the price now"
        );
    }

    #[test]
    fn the_revision_parameters_are_settable_by_name() {
        let (mut p, mut s) = (ProtocolParams::default(), SlashingTable::default());
        for setting in [
            "min_bond=250",
            "bond_multiple=12",
            "unresolved_fee_bps=500",
            "vote_unit=500",
            "dispute_quorum_bps=2500",
            "dispute_min_voters=4",
            "vote_deposit=2.5",
            "max_timeout_reports_per_epoch=2",
            "exposure_multiple_bps=20000",
            "validator_fee_bps=800",
            "draw_delay_slots=8",
        ] {
            ParamSetting::parse(setting)
                .unwrap()
                .apply(&mut p, &mut s)
                .unwrap();
        }
        assert_eq!(p.min_bond, 250_000_000_000);
        assert_eq!(p.bond_multiple, 12);
        assert_eq!(p.unresolved_fee_bps, 500);
        assert_eq!(p.vote_unit, 500_000_000_000);
        assert_eq!(p.dispute_quorum_bps, 2_500);
        assert_eq!(p.dispute_min_voters, 4);
        assert_eq!(p.vote_deposit, 2_500_000_000);
        assert_eq!(p.max_timeout_reports_per_epoch, 2);
        assert_eq!(p.exposure_multiple_bps, 20_000);
        assert_eq!(p.validator_fee_bps, 800);
        assert_eq!(p.draw_delay_slots, 8);
        assert!(ParamSetting::parse("dispute_bond=100")
            .unwrap_err()
            .contains("unknown parameter"));
    }
}
