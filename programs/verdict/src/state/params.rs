//! Governance parameters and the slashing table, stored in the Config.

use anchor_lang::prelude::*;

use crate::constants::{defaults::*, BPS_DENOMINATOR, MAX_COMMITTEE_SIZE};
use crate::errors::VerdictError;

super::stored_as_byte! {
    /// How the committee draw ranks its entrants.
    #[derive(
        AnchorSerialize, AnchorDeserialize, Clone, Copy, Debug, Default, PartialEq, Eq, InitSpace,
    )]
    pub enum SelectionStrategy {
        #[default]
        Random,
        Reputation,
        Stake,
        Performance,
        /// stake × reputation
        Weighted,
    }
}

impl SelectionStrategy {
    /// The strategy's name, as operators write it (CLI, simulator).
    pub const fn name(self) -> &'static str {
        match self {
            SelectionStrategy::Random => "random",
            SelectionStrategy::Reputation => "reputation",
            SelectionStrategy::Stake => "stake",
            SelectionStrategy::Performance => "performance",
            SelectionStrategy::Weighted => "weighted",
        }
    }

    /// The strategy named `name` (any case).
    pub fn from_name(name: &str) -> Option<Self> {
        Self::ALL
            .iter()
            .copied()
            .find(|s| s.name().eq_ignore_ascii_case(name))
    }
}

/// Every tunable number of the protocol. Times in seconds, ratios in basis
/// points, trust in basis points of 1.0 (10_000 == 1.0).
///
/// Stored in the zero-copy Config and passed as an instruction argument:
/// `repr(C)` with the widest fields first and no padding, so its Borsh
/// encoding and its in-account bytes are the same. The selection strategy
/// is its one-byte discriminant; read it through `strategy()`.
#[derive(
    AnchorSerialize,
    AnchorDeserialize,
    Clone,
    Copy,
    Debug,
    PartialEq,
    Eq,
    InitSpace,
    bytemuck::Pod,
    bytemuck::Zeroable,
)]
#[repr(C)]
pub struct ProtocolParams {
    // Staking.
    pub min_miner_stake: u64,
    pub min_validator_stake: u64,
    pub epoch_secs: i64,
    pub unbonding_secs: i64,
    // Committee.
    pub committee_rotation_secs: i64,
    // Jobs.
    pub min_job_fee: u64,
    pub sent_ttl_secs: i64,
    pub allocated_ttl_secs: i64,
    // Reputation.
    pub trial_cooldown_secs: i64,
    pub heartbeat_stale_secs: i64,
    // Disputes.
    pub vote_commit_secs: i64,
    pub vote_reveal_secs: i64,
    /// Least bond a challenger posts; the bond is max(min_bond, price × bond_multiple).
    pub min_bond: u64,
    /// Tokens of slashable stake per vote (a vote weighs stake / vote_unit, rounded down).
    pub vote_unit: u64,
    /// Posted with a commit, returned at reveal, forfeited if never revealed.
    pub vote_deposit: u64,
    pub trust_cap_bps: u32,
    pub trial_baseline_trust_bps: u32,
    /// Open exposure (prices of jobs not yet closed) a miner may carry, in bps of its slashable stake.
    pub exposure_multiple_bps: u32,
    pub max_commission_bps: u16,
    pub penalty_bps: u16,
    pub reward_bps: u16,
    pub reputation_window: u16,
    pub weight_success_bps: u16,
    pub weight_sla_bps: u16,
    pub weight_latency_bps: u16,
    pub tier1_min_bps: u16,
    pub tiered_min_success_bps: u16,
    pub slash_success_bps: u16,
    pub rate_limit_bps: u16,
    pub max_boost_bps: u16,
    pub decay_per_day_bps: u16,
    pub bond_multiple: u16,
    /// Share of the bond an unresolved dispute costs its challenger, paid to the miner.
    pub unresolved_fee_bps: u16,
    pub liquidation_multiplier: u16,
    pub liquidation_active_bps: u16,
    /// Revealed weight needed, in bps of the active weight, and distinct voters needed.
    pub dispute_quorum_bps: u16,
    pub dispute_min_voters: u16,
    /// Most a node loses to slashes within any window of `epoch_secs`.
    pub slash_epoch_cap_bps: u16,
    /// Share of each job's price paid to the outcome's co-signers.
    pub validator_fee_bps: u16,
    /// Slots between a committee draw request and the slot whose hash seeds it.
    pub draw_delay_slots: u16,
    pub committee_size: u8,
    pub committee_quorum: u8,
    /// The `SelectionStrategy` discriminant (`SelectionStrategy::X as u8`);
    /// read it through `strategy()`.
    pub selection_strategy: u8,
    pub min_validator_score: u8,
    pub initial_validator_score: u8,
    pub max_job_attempts: u8,
    pub challenge_window_epochs: u8,
    /// Timeout reports against one member counted per committee epoch.
    pub max_timeout_reports_per_epoch: u8,
}

impl Default for ProtocolParams {
    fn default() -> Self {
        Self {
            min_miner_stake: MIN_MINER_STAKE,
            min_validator_stake: MIN_VALIDATOR_STAKE,
            max_commission_bps: MAX_COMMISSION_BPS,
            epoch_secs: EPOCH_SECS,
            unbonding_secs: UNBONDING_SECS,
            committee_size: COMMITTEE_SIZE,
            committee_quorum: COMMITTEE_QUORUM,
            committee_rotation_secs: COMMITTEE_ROTATION_SECS,
            selection_strategy: SelectionStrategy::Random as u8,
            min_validator_score: MIN_VALIDATOR_SCORE,
            initial_validator_score: INITIAL_VALIDATOR_SCORE,
            min_job_fee: MIN_JOB_FEE,
            sent_ttl_secs: SENT_TTL_SECS,
            allocated_ttl_secs: ALLOCATED_TTL_SECS,
            max_job_attempts: MAX_JOB_ATTEMPTS,
            penalty_bps: PENALTY_BPS,
            reward_bps: REWARD_BPS,
            trust_cap_bps: TRUST_CAP_BPS,
            trial_baseline_trust_bps: TRIAL_BASELINE_TRUST_BPS,
            trial_cooldown_secs: TRIAL_COOLDOWN_SECS,
            reputation_window: REPUTATION_WINDOW,
            weight_success_bps: WEIGHT_SUCCESS_BPS,
            weight_sla_bps: WEIGHT_SLA_BPS,
            weight_latency_bps: WEIGHT_LATENCY_BPS,
            tier1_min_bps: TIER1_MIN_BPS,
            tiered_min_success_bps: TIERED_MIN_SUCCESS_BPS,
            slash_success_bps: SLASH_SUCCESS_BPS,
            rate_limit_bps: RATE_LIMIT_BPS,
            max_boost_bps: MAX_BOOST_BPS,
            heartbeat_stale_secs: HEARTBEAT_STALE_SECS,
            decay_per_day_bps: DECAY_PER_DAY_BPS,
            challenge_window_epochs: CHALLENGE_WINDOW_EPOCHS,
            vote_commit_secs: VOTE_COMMIT_SECS,
            vote_reveal_secs: VOTE_REVEAL_SECS,
            min_bond: MIN_BOND,
            bond_multiple: BOND_MULTIPLE,
            unresolved_fee_bps: UNRESOLVED_FEE_BPS,
            liquidation_multiplier: LIQUIDATION_MULTIPLIER,
            liquidation_active_bps: LIQUIDATION_ACTIVE_BPS,
            vote_unit: VOTE_UNIT,
            dispute_quorum_bps: DISPUTE_QUORUM_BPS,
            dispute_min_voters: DISPUTE_MIN_VOTERS,
            vote_deposit: VOTE_DEPOSIT,
            slash_epoch_cap_bps: SLASH_EPOCH_CAP_BPS,
            max_timeout_reports_per_epoch: MAX_TIMEOUT_REPORTS_PER_EPOCH,
            exposure_multiple_bps: EXPOSURE_MULTIPLE_BPS,
            validator_fee_bps: VALIDATOR_FEE_BPS,
            draw_delay_slots: DRAW_DELAY_SLOTS,
        }
    }
}

/// Longest payout hold, in epochs (reputation <= the rate-limit threshold).
pub const MAX_PAYOUT_DELAY_EPOCHS: i64 = 2;

impl ProtocolParams {
    /// How the committee draw ranks its entrants.
    pub fn strategy(&self) -> SelectionStrategy {
        SelectionStrategy::from_stored(self.selection_strategy)
    }

    /// How often a node heartbeats (off-chain schedule, kept here with the
    /// limit it serves): six times per staleness window, so a node that
    /// misses a few stays clear of decay (every 12 h at the 72 h default).
    pub fn heartbeat_interval_secs(&self) -> i64 {
        (self.heartbeat_stale_secs / 6).max(1)
    }

    /// The bond a challenge of a job priced `price` posts.
    pub fn dispute_bond(&self, price: u64) -> u64 {
        self.min_bond
            .max(price.saturating_mul(self.bond_multiple as u64))
    }

    /// Votes a node with `stake` of slashable stake casts.
    pub fn vote_weight(&self, stake: u64) -> u64 {
        stake / self.vote_unit.max(1)
    }

    /// Checks every bound governance must respect; `update_config` and
    /// `initialize_config` refuse parameters that fail it.
    pub fn validate(&self) -> Result<()> {
        let bps = BPS_DENOMINATOR as u16;
        let ok = self.min_miner_stake > 0
            && self.min_validator_stake > 0
            && self.max_commission_bps <= bps
            && self.epoch_secs >= 60
            && self.epoch_secs <= 30 * crate::constants::DAY_SECS
            && self.committee_size >= 1
            && self.committee_size <= MAX_COMMITTEE_SIZE
            && self.committee_quorum >= 1
            && self.committee_quorum <= self.committee_size
            // A quorum must be a majority, or two disjoint quorums could disagree.
            && 2 * (self.committee_quorum as u16) > self.committee_size as u16
            && self.committee_rotation_secs >= 60
            && self.min_validator_score <= 100
            && self.initial_validator_score <= 100
            && self.initial_validator_score >= self.min_validator_score
            && self.min_job_fee > 0
            && self.sent_ttl_secs > 0
            && self.allocated_ttl_secs > 0
            && self.max_job_attempts >= 1
            && self.penalty_bps > 0
            && self.penalty_bps < bps
            && self.reward_bps > bps
            && self.reward_bps <= 2 * bps
            && self.trust_cap_bps >= self.trial_baseline_trust_bps
            && self.trial_baseline_trust_bps > 0
            && self.trial_cooldown_secs >= 0
            && self.reputation_window >= 10
            && self.weight_success_bps as u32 + self.weight_sla_bps as u32 + self.weight_latency_bps as u32
                == BPS_DENOMINATOR as u32
            && self.tier1_min_bps <= bps
            && self.tiered_min_success_bps <= bps
            && self.slash_success_bps <= self.tiered_min_success_bps
            && self.rate_limit_bps < self.tier1_min_bps
            && self.max_boost_bps <= bps
            && self.heartbeat_stale_secs > 0
            && self.decay_per_day_bps <= bps
            && self.challenge_window_epochs >= 1
            && self.vote_commit_secs > 0
            && self.vote_reveal_secs > 0
            && self.min_bond > 0
            && self.bond_multiple >= 1
            && self.unresolved_fee_bps <= bps
            && self.liquidation_multiplier >= 1
            && self.liquidation_active_bps > 0
            && self.liquidation_active_bps <= bps
            // A vote unit above the miner minimum would leave minimum miners voteless.
            && self.vote_unit > 0
            && self.vote_unit <= self.min_miner_stake
            // Turnout: some, and at least three voters, so no lone or paired voter decides.
            && self.dispute_quorum_bps > 0
            && self.dispute_quorum_bps <= bps
            && self.dispute_min_voters >= 3
            && self.vote_deposit > 0
            && self.slash_epoch_cap_bps > 0
            && self.slash_epoch_cap_bps <= bps
            && self.max_timeout_reports_per_epoch >= 1
            && self.exposure_multiple_bps > 0
            && self.validator_fee_bps < bps
            // The draw's slot must be in the future yet still in SlotHashes (512 slots).
            && self.draw_delay_slots >= 1
            && self.draw_delay_slots <= 256
            && SelectionStrategy::ALL
                .iter()
                .any(|s| *s as u8 == self.selection_strategy);
        require!(ok, VerdictError::InvalidParameter);
        // No node may unstake its way out of a pending slash or liquidation.
        require!(
            self.unbonding_secs > self.min_unbonding_secs()?,
            VerdictError::UnbondingTooShort
        );
        Ok(())
    }

    /// Longest payout delay + challenge window + the whole dispute vote.
    pub fn min_unbonding_secs(&self) -> Result<i64> {
        let epochs = MAX_PAYOUT_DELAY_EPOCHS + self.challenge_window_epochs as i64;
        epochs
            .checked_mul(self.epoch_secs)
            .and_then(|s| s.checked_add(self.vote_commit_secs))
            .and_then(|s| s.checked_add(self.vote_reveal_secs))
            .ok_or_else(|| error!(VerdictError::MathOverflow))
    }

    /// Minimum self stake a node with `roles` needs to count as active.
    pub fn min_stake_for_roles(&self, roles: u8) -> u64 {
        let mut min = 0;
        if roles & crate::constants::ROLE_MINER != 0 {
            min = min.max(self.min_miner_stake);
        }
        if roles & crate::constants::ROLE_VALIDATOR != 0 {
            min = min.max(self.min_validator_stake);
        }
        min
    }
}

/// Share of stake taken per offense, in basis points.
/// Stored in the zero-copy Config and passed as an instruction argument
/// (five `u16`s: no padding).
#[derive(
    AnchorSerialize,
    AnchorDeserialize,
    Clone,
    Copy,
    Debug,
    PartialEq,
    Eq,
    InitSpace,
    bytemuck::Pod,
    bytemuck::Zeroable,
)]
#[repr(C)]
pub struct SlashingTable {
    pub invalid_signature_bps: u16,
    pub collusion_bps: u16,
    pub approve_invalid_bps: u16,
    pub downtime_bps: u16,
    pub front_running_bps: u16,
}

impl Default for SlashingTable {
    fn default() -> Self {
        Self {
            invalid_signature_bps: SLASH_INVALID_SIGNATURE_BPS,
            collusion_bps: SLASH_COLLUSION_BPS,
            approve_invalid_bps: SLASH_APPROVE_INVALID_BPS,
            downtime_bps: SLASH_DOWNTIME_BPS,
            front_running_bps: SLASH_FRONT_RUNNING_BPS,
        }
    }
}

impl SlashingTable {
    pub fn validate(&self) -> Result<()> {
        let bps = BPS_DENOMINATOR as u16;
        let all = [
            self.invalid_signature_bps,
            self.collusion_bps,
            self.approve_invalid_bps,
            self.downtime_bps,
            self.front_running_bps,
        ];
        require!(
            all.iter().all(|&b| b > 0 && b <= bps),
            VerdictError::InvalidParameter
        );
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_strategy_is_found_by_its_name_in_any_case() {
        for strategy in SelectionStrategy::ALL {
            assert_eq!(
                SelectionStrategy::from_name(strategy.name()),
                Some(*strategy)
            );
            let upper = strategy.name().to_ascii_uppercase();
            assert_eq!(SelectionStrategy::from_name(&upper), Some(*strategy));
        }
        assert_eq!(SelectionStrategy::from_name("fifo"), None);
    }

    #[test]
    fn defaults_are_valid() {
        ProtocolParams::default().validate().unwrap();
        SlashingTable::default().validate().unwrap();
    }

    #[test]
    fn unbonding_must_outlast_payout_delay_and_dispute() {
        let mut p = ProtocolParams::default();
        p.unbonding_secs = p.min_unbonding_secs().unwrap();
        assert!(p.validate().is_err());
        p.unbonding_secs += 1;
        assert!(p.validate().is_ok());
    }

    #[test]
    fn quorum_must_be_a_majority() {
        let mut p = ProtocolParams {
            committee_quorum: 2,
            ..Default::default()
        };
        assert!(p.validate().is_err());
        p.committee_quorum = 6;
        assert!(p.validate().is_err());
    }

    #[test]
    fn the_bond_grows_with_the_price_above_its_floor() {
        let p = ProtocolParams::default();
        assert_eq!(p.dispute_bond(0), p.min_bond);
        let big = p.min_bond; // price × multiple far above the floor
        assert_eq!(p.dispute_bond(big), big * p.bond_multiple as u64);
        assert_eq!(
            p.dispute_bond(u64::MAX),
            u64::MAX,
            "saturates instead of wrapping"
        );
    }

    #[test]
    fn votes_are_stake_in_units_rounded_down() {
        let p = ProtocolParams::default();
        assert_eq!(p.vote_weight(p.vote_unit - 1), 0);
        assert_eq!(p.vote_weight(20 * p.vote_unit + 7), 20);
    }

    #[test]
    fn dispute_rules_cannot_be_switched_off() {
        for edit in [
            |p: &mut ProtocolParams| p.dispute_min_voters = 2,
            |p: &mut ProtocolParams| p.dispute_quorum_bps = 0,
            |p: &mut ProtocolParams| p.vote_deposit = 0,
            |p: &mut ProtocolParams| p.vote_unit = p.min_miner_stake + 1,
            |p: &mut ProtocolParams| p.bond_multiple = 0,
            |p: &mut ProtocolParams| p.unresolved_fee_bps = 10_001,
            |p: &mut ProtocolParams| p.draw_delay_slots = 0,
            |p: &mut ProtocolParams| p.draw_delay_slots = 300,
            |p: &mut ProtocolParams| p.validator_fee_bps = 10_000,
            |p: &mut ProtocolParams| p.max_timeout_reports_per_epoch = 0,
        ] {
            let mut p = ProtocolParams::default();
            edit(&mut p);
            assert!(p.validate().is_err(), "{p:?}");
        }
    }

    #[test]
    fn overflowing_durations_are_refused() {
        let p = ProtocolParams {
            epoch_secs: i64::MAX,
            ..Default::default()
        };
        assert!(p.validate().is_err());
        let p = ProtocolParams {
            vote_reveal_secs: i64::MAX,
            ..Default::default()
        };
        assert!(p.validate().is_err());
    }
}
