//! A node: one operator's miner and/or validator, its stake pools and the
//! key it signs attestations with.

use anchor_lang::prelude::*;

use super::{
    Activity, Config, DrawEntry, JobOutcome, ProtocolParams, Reputation, RiskLevel, SharePool,
    Standing,
};
use crate::constants::{MAX_MODELS_PER_NODE, MODEL_ID_LEN, ROLE_ALL, ROLE_MINER, ROLE_VALIDATOR};
use crate::errors::VerdictError;
use crate::math::{add, apply_bps, mul_div_floor};

/// A model name: printable ASCII, zero padded to 32 bytes.
pub type ModelId = [u8; MODEL_ID_LEN];

/// Turns a model name into its on-chain id, refusing names that do not fit.
pub fn model_id(name: &str) -> Result<ModelId> {
    let bytes = name.as_bytes();
    require!(
        !bytes.is_empty()
            && bytes.len() <= MODEL_ID_LEN
            && bytes.iter().all(|b| b.is_ascii_graphic()),
        VerdictError::InvalidModelId
    );
    let mut id = [0u8; MODEL_ID_LEN];
    id[..bytes.len()].copy_from_slice(bytes);
    Ok(id)
}

super::stored_as_byte! {
    #[derive(AnchorSerialize, AnchorDeserialize, Clone, Copy, Debug, Default, PartialEq, Eq)]
    pub enum NodeStatus {
        #[default]
        Active,
        /// Lost its whole stake in a dispute; can only be closed.
        Liquidated,
    }
}

/// A reward divided between operator and delegators.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct RewardSplit {
    pub operator: u64,
    pub delegators: u64,
}

/// Zero-copy: nearly every instruction loads a node, most of them to change
/// a few fields, and loading it in place costs nothing per byte (see
/// `docs/compute-units.md`). Widest fields first, no padding; the status
/// and the flags are bytes behind typed accessors.
#[account(zero_copy)]
#[derive(Debug, PartialEq, Eq)]
pub struct Node {
    pub operator: Pubkey,
    /// ed25519 key the node signs attestations and miner responses with.
    pub signing_key: Pubkey,
    /// The node's vault token account (created at registration, at
    /// `[b"node_vault", node]`): bound by this address, not re-derived.
    pub vault: Pubkey,
    /// The models it serves (the first `model_count`), zero padded ids.
    pub models: [ModelId; MAX_MODELS_PER_NODE],
    /// The operator's own active stake.
    pub self_stake: u64,
    /// Delegated tokens and delegators' shares.
    pub delegation: SharePool,
    /// Tokens waiting out the unbonding period (self stake and delegations
    /// alike); tickets hold shares so a slash reaches them too.
    pub unbonding: SharePool,
    pub next_ticket_id: u64,
    pub registered_at: i64,
    /// Delegators' share of claimed payouts, waiting in the node vault for
    /// `compound_rewards` to add it to the delegation pool.
    pub pending_delegator_rewards: u64,
    /// Reward boosts earned (owed by the reward pool, paid by `claim_boost`),
    /// and the delegators' part of it, split when earned so that a later
    /// delegator shares none of it.
    pub boost_owed: u64,
    pub delegator_boost_owed: u64,
    /// Tokens owed to the operator (bonds back, dispute rewards, validator
    /// fees, unresolved-dispute fees), held in the node vault until
    /// `withdraw_owed`.
    pub owed: u64,
    /// Prices of this miner's jobs not yet closed (their challenge window
    /// still open, or held); bounded by its slashable stake.
    pub exposure: u64,
    /// Part of a full liquidation's take kept back (in the stake vault,
    /// under `totals.disputes`) to refund the clients of this node's other
    /// jobs that a later dispute may still overturn. Never above `exposure`:
    /// what a falling exposure no longer needs goes to the reward pool.
    pub refund_reserve: u64,
    /// Payouts and boosts received over the node's life.
    pub total_earned: u64,
    /// Outcomes this validator co-signed, and deadlines it missed.
    pub attestations_signed: u64,
    pub attestations_missed: u64,
    /// When the node last became active (votes need it before a dispute opened).
    pub active_since: i64,
    /// Committee epoch of the last counted timeout report (how many were
    /// counted in it: `timeout_reports`).
    pub timeout_report_epoch: u64,
    /// Recent slashes (time, amount): the cap looks back one `epoch_secs`.
    pub recent_slashes: [RecentSlash; RECENT_SLASHES],
    /// Its entry in the committee draw (the weight frozen at entry).
    pub draw_entry: DrawEntry,
    /// Miner reputation (trust, window, tier inputs, trial, heartbeat).
    pub reputation: Reputation,
    /// Disputes this node is party to (miner, challenger) and votes not yet
    /// settled: the node cannot close while any is open.
    pub open_disputes: u32,
    pub commission_bps: u16,
    pub roles: u8,
    /// The `NodeStatus` discriminant; read it through `status()`.
    status: u8,
    pub bump: u8,
    pub model_count: u8,
    /// Validator score, 0..=100.
    pub validator_score: u8,
    pub timeout_reports: u8,
    /// How this node is counted in the Config's active counters right now
    /// (0/1); refreshed by [`Node::sync_activity`] whenever stake or roles
    /// move. Read through `counted_active()`/`counted_validator()`.
    counted_active: u8,
    counted_validator: u8,
    /// Has been Tier 1 (0/1): its first downtime offense is forgiven once.
    was_tier1: u8,
    downtime_grace_used: u8,
    reserved: [u8; 8],
}

super::zero_copy_account!(Node);

/// Slashes the sliding cap remembers; more within one window are refused.
pub const RECENT_SLASHES: usize = 8;

#[zero_copy]
#[derive(Debug, Default, PartialEq, Eq)]
pub struct RecentSlash {
    pub at: i64,
    pub amount: u64,
}

/// Where a slash's tokens came from.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct SlashBreakdown {
    pub self_stake: u64,
    pub delegation: u64,
    pub unbonding: u64,
}

impl SlashBreakdown {
    pub fn total(&self) -> u64 {
        self.self_stake + self.delegation + self.unbonding
    }
}

impl Node {
    /// A newly registered node: active, staked nothing, no record yet.
    pub fn register(
        operator: Pubkey,
        signing_key: Pubkey,
        roles: u8,
        commission_bps: u16,
        bump: u8,
        vault: Pubkey,
        now: i64,
    ) -> Self {
        let mut node = Self {
            operator,
            signing_key,
            roles,
            commission_bps,
            bump,
            vault,
            registered_at: now,
            reputation: Reputation::new(now),
            ..Self::default()
        };
        node.set_status(NodeStatus::Active);
        node
    }

    pub fn status(&self) -> NodeStatus {
        NodeStatus::from_stored(self.status)
    }

    pub fn set_status(&mut self, status: NodeStatus) {
        self.status = status as u8;
    }

    /// Counted as active in the Config's counters.
    pub fn counted_active(&self) -> bool {
        self.counted_active != 0
    }

    /// Counted as an active validator in the Config's counters.
    pub fn counted_validator(&self) -> bool {
        self.counted_validator != 0
    }

    /// Has been Tier 1 at some point.
    pub fn was_tier1(&self) -> bool {
        self.was_tier1 != 0
    }

    pub fn set_was_tier1(&mut self, was: bool) {
        self.was_tier1 = was as u8;
    }

    /// Its one forgiven downtime offense is spent.
    pub fn downtime_grace_used(&self) -> bool {
        self.downtime_grace_used != 0
    }

    pub fn set_downtime_grace_used(&mut self, used: bool) {
        self.downtime_grace_used = used as u8;
    }

    /// `key` may act for the node's day-to-day duties: its operator, or the
    /// signing key its keeper holds.
    pub fn is_run_by(&self, key: &Pubkey) -> bool {
        *key == self.operator || *key == self.signing_key
    }

    pub fn validate_roles(roles: u8) -> Result<()> {
        require!(
            roles != 0 && roles & !ROLE_ALL == 0,
            VerdictError::InvalidRoles
        );
        Ok(())
    }

    /// A model id is printable ASCII followed only by zero padding.
    pub fn check_model_id(id: &ModelId) -> Result<()> {
        let len = id.iter().position(|&b| b == 0).unwrap_or(MODEL_ID_LEN);
        require!(
            len > 0
                && id[..len].iter().all(|b| b.is_ascii_graphic())
                && id[len..].iter().all(|&b| b == 0),
            VerdictError::InvalidModelId
        );
        Ok(())
    }

    pub fn set_models(&mut self, models: &[ModelId]) -> Result<()> {
        require!(
            models.len() <= MAX_MODELS_PER_NODE,
            VerdictError::TooManyModels
        );
        for id in models {
            Self::check_model_id(id)?;
        }
        self.models = [[0; MODEL_ID_LEN]; MAX_MODELS_PER_NODE];
        self.models[..models.len()].copy_from_slice(models);
        self.model_count = models.len() as u8;
        Ok(())
    }

    pub fn serves_model(&self, model: &ModelId) -> bool {
        self.models[..self.model_count as usize].contains(model)
    }

    pub fn is_miner(&self) -> bool {
        self.roles & ROLE_MINER != 0
    }

    pub fn is_validator(&self) -> bool {
        self.roles & ROLE_VALIDATOR != 0
    }

    /// Active, non-unbonding stake behind this node (self + delegated); the
    /// figure eligibility and committee selection use.
    pub fn active_stake(&self) -> Result<u64> {
        add(self.self_stake, self.delegation.amount)
    }

    /// Everything a slash can reach: active stake and unbonding tokens.
    pub fn slashable_stake(&self) -> Result<u64> {
        add(self.active_stake()?, self.unbonding.amount)
    }

    /// Active when not liquidated and the self stake meets its roles' minimum.
    pub fn activity(&self, params: &ProtocolParams) -> Activity {
        Activity {
            active: self.status() == NodeStatus::Active
                && self.self_stake > 0
                && self.self_stake >= params.min_stake_for_roles(self.roles),
            validator: self.is_validator(),
        }
    }

    /// Recounts this node in the Config's active counters after a change.
    pub fn sync_activity(&mut self, config: &mut Config) -> Result<Activity> {
        let before = Activity {
            active: self.counted_active(),
            validator: self.counted_validator(),
        };
        let after = self.activity(&config.params);
        config.record_activity(before, after)?;
        if after.active && !before.active {
            self.active_since = Clock::get()?.unix_timestamp;
        }
        self.set_counted(after);
        Ok(after)
    }

    /// Records how the Config's counters count this node. Only
    /// [`Node::sync_activity`] calls it on chain, together with the
    /// counters; simulations use it to build a state.
    pub fn set_counted(&mut self, counted: Activity) {
        self.counted_active = counted.active as u8;
        self.counted_validator = counted.validator as u8;
    }

    /// Splits a reward the node earned between its operator and its
    /// delegation pool: delegators earn pro rata to their stake, less the
    /// operator's commission. Rounding goes to the operator.
    pub fn split_reward(&self, reward: u64) -> Result<RewardSplit> {
        let stake = self.active_stake()?;
        if stake == 0 || self.delegation.amount == 0 {
            return Ok(RewardSplit {
                operator: reward,
                delegators: 0,
            });
        }
        let earned_by_delegation = mul_div_floor(reward, self.delegation.amount, stake)?;
        let commission = apply_bps(earned_by_delegation, self.commission_bps)?;
        let delegators = earned_by_delegation - commission;
        Ok(RewardSplit {
            operator: reward - delegators,
            delegators,
        })
    }

    /// Validator score moves by `delta`, clamped to 0..=100.
    pub fn adjust_validator_score(&mut self, delta: i16) {
        self.validator_score = (self.validator_score as i16 + delta).clamp(0, 100) as u8;
    }

    /// Records a job outcome in the miner's reputation (decay first), and
    /// returns the standing it leaves.
    pub fn record_outcome(
        &mut self,
        outcome: JobOutcome,
        now: i64,
        params: &ProtocolParams,
    ) -> Standing {
        self.reputation.apply_decay(now, params);
        self.reputation.record(outcome, params);
        let standing = self.reputation.standing(params);
        if standing.tier == 1 {
            self.set_was_tier1(true);
        }
        standing
    }

    /// Takes `amount` from self stake, the delegation pool and the unbonding
    /// pool in proportion to each (delegators and pending tickets lose pro
    /// rata through their share price). `amount` ≤ the slashable stake.
    pub fn take_stake(&mut self, amount: u64) -> Result<SlashBreakdown> {
        let total = self.slashable_stake()?;
        require!(amount <= total, VerdictError::MathOverflow);
        if amount == 0 {
            return Ok(SlashBreakdown::default());
        }
        let mut delegation = mul_div_floor(amount, self.delegation.amount, total)?;
        let mut unbonding = mul_div_floor(amount, self.unbonding.amount, total)?;
        let mut self_stake = (amount - delegation - unbonding).min(self.self_stake);
        // Rounding leftovers come from whichever pool still has tokens.
        let mut rest = amount - delegation - unbonding - self_stake;
        let extra = rest.min(self.delegation.amount - delegation);
        delegation += extra;
        rest -= extra;
        let extra = rest.min(self.unbonding.amount - unbonding);
        unbonding += extra;
        rest -= extra;
        self_stake += rest.min(self.self_stake - self_stake);
        self.self_stake -= self_stake;
        self.delegation.take(delegation)?;
        self.unbonding.take(unbonding)?;
        Ok(SlashBreakdown {
            self_stake,
            delegation,
            unbonding,
        })
    }

    /// Applies the sliding cap: of `wanted`, how much may still be taken at
    /// `now` so that slashes within the last `window` seconds stay under
    /// `cap_bps` of the stake the node had before them; books it.
    pub fn capped_slash(
        &mut self,
        wanted: u64,
        now: i64,
        window: i64,
        cap_bps: u16,
    ) -> Result<u64> {
        let since = now.saturating_sub(window);
        let mut recent = 0u64;
        let mut free_slot = None;
        for (i, s) in self.recent_slashes.iter().enumerate() {
            if s.amount > 0 && s.at > since {
                recent = add(recent, s.amount)?;
            } else if free_slot.is_none() {
                free_slot = Some(i);
            }
        }
        // Every slot holds a slash of this window: the cap counts as reached.
        let Some(slot) = free_slot else { return Ok(0) };
        let base = add(self.slashable_stake()?, recent)?;
        let cap = apply_bps(base, cap_bps)?;
        let allowed = wanted.min(cap.saturating_sub(recent));
        if allowed > 0 {
            self.recent_slashes[slot] = RecentSlash {
                at: now,
                amount: allowed,
            };
        }
        Ok(allowed)
    }

    /// Counts one timeout report in committee epoch `epoch`; false once
    /// `max` were counted in it.
    pub fn count_timeout_report(&mut self, epoch: u64, max: u8) -> bool {
        if self.timeout_report_epoch != epoch {
            self.timeout_report_epoch = epoch;
            self.timeout_reports = 0;
        }
        if self.timeout_reports >= max {
            return false;
        }
        self.timeout_reports += 1;
        true
    }

    /// Most exposure this miner may carry: its slashable stake × the multiple.
    pub fn exposure_limit(&self, params: &ProtocolParams) -> Result<u64> {
        mul_div_floor(
            self.slashable_stake()?,
            params.exposure_multiple_bps as u64,
            crate::constants::BPS_DENOMINATOR,
        )
    }

    /// Books `price` of a newly assigned job against the exposure limit.
    pub fn add_exposure(&mut self, price: u64, params: &ProtocolParams) -> Result<()> {
        let exposure = add(self.exposure, price)?;
        require!(
            exposure <= self.exposure_limit(params)?,
            VerdictError::ExposureLimit
        );
        self.exposure = exposure;
        Ok(())
    }

    /// Releases a job's exposure (failed, expired, closed, or its dispute's
    /// miner liquidation cranked). Returns the refund reserve the remaining
    /// exposure no longer needs: the caller moves it to the reward pool.
    #[must_use]
    pub fn release_exposure(&mut self, amount: u64) -> u64 {
        self.exposure = self.exposure.saturating_sub(amount);
        let freed = self.refund_reserve.saturating_sub(self.exposure);
        self.refund_reserve -= freed;
        freed
    }

    /// Keeps up to `available` of a full liquidation's take back for the
    /// clients of the node's open jobs (up to its exposure). Returns what
    /// was kept.
    pub fn reserve_for_refunds(&mut self, available: u64) -> u64 {
        let kept = available.min(self.exposure.saturating_sub(self.refund_reserve));
        self.refund_reserve += kept;
        kept
    }

    /// Takes up to `wanted` out of the refund reserve (an overturned job's
    /// client). Returns what was taken.
    pub fn take_refund_reserve(&mut self, wanted: u64) -> u64 {
        let taken = wanted.min(self.refund_reserve);
        self.refund_reserve -= taken;
        taken
    }

    /// Takes every claim the node has on the reward pool (a liquidated node
    /// forfeits its owed boosts).
    pub fn forfeit_boosts(&mut self) {
        self.boost_owed = 0;
        self.delegator_boost_owed = 0;
    }

    /// May be assigned a job of `risk` for `model` now.
    pub fn can_take(
        &self,
        risk: RiskLevel,
        model: &ModelId,
        now: i64,
        params: &ProtocolParams,
    ) -> bool {
        self.is_miner()
            && self.activity(params).active
            && self.reputation.is_warm(now)
            && self.serves_model(model)
            && self.reputation.tier(params) <= risk.max_tier()
    }

    /// May sit on the committee: an active validator scored at the minimum.
    pub fn is_eligible_validator(&self, params: &ProtocolParams) -> bool {
        self.is_validator()
            && self.status() == NodeStatus::Active
            && self.activity(params).active
            && self.validator_score >= params.min_validator_score
    }

    /// Share of its committee duties it met, in bps (all, before any duty).
    pub fn performance_bps(&self) -> u16 {
        let duties = self
            .attestations_signed
            .saturating_add(self.attestations_missed);
        if duties == 0 {
            return 10_000;
        }
        (self.attestations_signed as u128 * 10_000 / duties as u128) as u16
    }

    /// True when nothing is staked, delegated or unbonding.
    pub fn is_empty(&self) -> bool {
        self.self_stake == 0 && self.delegation.is_empty() && self.unbonding.is_empty()
    }

    /// Empty, owed nothing, exposed to no job and party to no dispute or
    /// vote: the node may close without leaving anything stuck.
    pub fn can_close(&self) -> bool {
        self.is_empty()
            && self.owed == 0
            && self.pending_delegator_rewards == 0
            && self.exposure == 0
            && self.refund_reserve == 0
            && self.open_disputes == 0
    }

    /// Moves the count of open disputes and votes by `delta`, never below
    /// zero.
    pub fn count_open_disputes(&mut self, delta: i64) {
        self.open_disputes = (self.open_disputes as i64 + delta).clamp(0, u32::MAX as i64) as u32;
    }

    /// The last seed of the next unbonding ticket's PDA,
    /// `[UNBOND_SEED, node, next_ticket_id as u64 LE]`. A call rather than a
    /// field path in the seeds constraint: Anchor's IDL builder would read
    /// `node.load()?.next_ticket_id` as the node's key and describe a wrong
    /// PDA; a call leaves the ticket's PDA out of the IDL instead.
    pub fn next_ticket_seed(node: &AccountLoader<Node>) -> Result<[u8; 8]> {
        Ok(node.load()?.next_ticket_id.to_le_bytes())
    }

    /// The next unbonding ticket id, advancing the counter.
    pub fn take_ticket_id(&mut self) -> Result<u64> {
        let id = self.next_ticket_id;
        self.next_ticket_id = add(id, 1)?;
        Ok(id)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::state::TrialStatus;

    #[test]
    fn model_ids_are_padded_ascii() {
        let id = model_id("all-minilm-l6-v2").unwrap();
        assert_eq!(&id[..16], b"all-minilm-l6-v2");
        assert!(id[16..].iter().all(|&b| b == 0));
        assert!(model_id("").is_err());
        assert!(model_id("has space").is_err());
        assert!(model_id(&"x".repeat(33)).is_err());
    }

    #[test]
    fn layout_is_fixed() {
        assert_eq!(std::mem::size_of::<Node>(), 888);
        assert_eq!(std::mem::align_of::<Node>(), 8);
        assert_eq!(std::mem::offset_of!(Node, vault), 64);
        assert_eq!(std::mem::offset_of!(Node, self_stake), 352);
        assert_eq!(std::mem::offset_of!(Node, draw_entry), 624);
        assert_eq!(std::mem::offset_of!(Node, reputation), 656);
        assert_eq!(std::mem::offset_of!(Node, open_disputes), 864);
        assert_eq!(Node::SPACE, 896);
    }

    #[test]
    fn status_and_flags_round_trip_through_their_stored_byte() {
        let mut node = Node::default();
        assert_eq!(node.status(), NodeStatus::Active);
        for &status in NodeStatus::ALL {
            node.set_status(status);
            assert_eq!(node.status(), status);
        }
        for (active, validator) in [(true, false), (true, true), (false, false)] {
            node.set_counted(Activity { active, validator });
            assert_eq!(
                (node.counted_active(), node.counted_validator()),
                (active, validator)
            );
        }
        node.set_was_tier1(true);
        node.set_downtime_grace_used(true);
        assert!(node.was_tier1() && node.downtime_grace_used());
        let mut reputation = Reputation::new(0);
        assert_eq!(reputation.trial(), TrialStatus::Pending);
        for &trial in TrialStatus::ALL {
            reputation.set_trial(trial);
            assert_eq!(reputation.trial(), trial);
        }
    }

    fn node_with_stake(stake: u64) -> Node {
        Node {
            self_stake: stake,
            ..Node::default()
        }
    }

    #[test]
    fn the_slash_cap_slides_instead_of_resetting_at_epoch_boundaries() {
        let day = 86_400;
        let mut n = node_with_stake(1_000);
        // 40% at the very end of one calendar day...
        assert_eq!(n.capped_slash(400, day - 1, day, 5_000).unwrap(), 400);
        n.self_stake -= 400;
        // ...leaves only 10% of the original 1,000 right after midnight.
        assert_eq!(n.capped_slash(400, day + 1, day, 5_000).unwrap(), 100);
        n.self_stake -= 100;
        assert_eq!(n.capped_slash(400, day + 2, day, 5_000).unwrap(), 0);
        // A whole window after the first slash, its share is free again.
        assert_eq!(n.capped_slash(400, 2 * day, day, 5_000).unwrap(), 200);
    }

    #[test]
    fn the_refund_reserve_follows_the_exposure_it_covers() {
        let mut n = node_with_stake(0);
        n.exposure = 700;
        assert_eq!(
            n.reserve_for_refunds(1_000),
            700,
            "no more than the exposure"
        );
        assert_eq!(n.reserve_for_refunds(50), 0);
        assert_eq!(n.take_refund_reserve(300), 300);
        assert_eq!(
            n.release_exposure(300),
            0,
            "the taken part's job is released"
        );
        assert_eq!((n.exposure, n.refund_reserve), (400, 400));
        assert_eq!(n.release_exposure(100), 100, "a closed job frees its part");
        assert_eq!((n.exposure, n.refund_reserve), (300, 300));
    }

    #[test]
    fn exposure_is_bounded_by_slashable_stake() {
        let params = ProtocolParams::default();
        let mut n = node_with_stake(1_000);
        n.add_exposure(600, &params).unwrap();
        assert!(n.add_exposure(401, &params).is_err());
        n.add_exposure(400, &params).unwrap();
        assert_eq!(n.release_exposure(600), 0);
        assert_eq!(n.exposure, 400);
    }

    #[test]
    fn timeout_reports_are_capped_per_committee_epoch() {
        let mut n = node_with_stake(0);
        assert!(n.count_timeout_report(1, 2));
        assert!(n.count_timeout_report(1, 2));
        assert!(!n.count_timeout_report(1, 2));
        assert!(n.count_timeout_report(2, 2));
    }

    #[test]
    fn roles_must_be_known_bits() {
        assert!(Node::validate_roles(0).is_err());
        assert!(Node::validate_roles(4).is_err());
        assert!(Node::validate_roles(ROLE_MINER).is_ok());
        assert!(Node::validate_roles(ROLE_ALL).is_ok());
    }
}
