//! Seeds, hard limits and the protocol's default parameters (see PROTOCOL.md).

/// PDA seed of the singleton [`crate::state::Config`].
pub const CONFIG_SEED: &[u8] = b"config";
/// PDA seed of the stake vault (token account owned by the Config PDA).
pub const STAKE_VAULT_SEED: &[u8] = b"stake_vault";
/// PDA seed of a [`crate::state::Node`]: `[NODE_SEED, operator]`.
pub const NODE_SEED: &[u8] = b"node";
/// PDA seed of a [`crate::state::Delegation`]: `[DELEGATION_SEED, node, staker]`.
pub const DELEGATION_SEED: &[u8] = b"delegation";
/// PDA seed of an [`crate::state::UnbondTicket`]: `[UNBOND_SEED, node, ticket id LE]`.
pub const UNBOND_SEED: &[u8] = b"unbond";

use anchor_lang::derive_program_address;
use anchor_lang::prelude::Pubkey;

const fn pda(seed: &[u8]) -> (Pubkey, u8) {
    let (address, bump) = derive_program_address(&[seed], &crate::ID_CONST.to_bytes());
    (Pubkey::new_from_array(address), bump)
}

/// The singletons' addresses, derived at compile time so the job path checks
/// them with a comparison instead of a runtime PDA derivation.
pub const CONFIG_ADDRESS: Pubkey = pda(CONFIG_SEED).0;
pub const COMMITTEE_ADDRESS: Pubkey = pda(COMMITTEE_SEED).0;
pub const STAKE_VAULT_ADDRESS: Pubkey = pda(STAKE_VAULT_SEED).0;
/// The Config PDA's bump, with which it signs the stake vault's transfers
/// (no read of the Config needed to sign).
pub const CONFIG_BUMP: u8 = pda(CONFIG_SEED).1;

/// Basis points in one whole (100%).
pub const BPS_DENOMINATOR: u64 = 10_000;

/// Most models one node may declare.
pub const MAX_MODELS_PER_NODE: usize = 8;
/// Model ids are ASCII names of at most this many bytes, zero padded.
pub const MODEL_ID_LEN: usize = 32;
/// Largest committee the Config can describe (bounds the Committee and the
/// signer list recorded on each Job).
pub const MAX_COMMITTEE_SIZE: u8 = 8;
/// Buckets of the rolling reputation window (window / buckets jobs each).
pub const REPUTATION_BUCKETS: usize = 10;
/// Jobs a miner's window needs before it can leave Tier 3.
pub const TIER_MIN_JOBS: u32 = 20;
/// PDA seed of the [`crate::state::Committee`].
pub const COMMITTEE_SEED: &[u8] = b"committee";
/// PDA seed of a [`crate::state::Job`]: `[JOB_SEED, client, job id LE]`.
pub const JOB_SEED: &[u8] = b"job";
/// PDA seed of a job's escrow token account: `[ESCROW_SEED, job]`.
pub const ESCROW_SEED: &[u8] = b"escrow";
/// PDA seed of a [`crate::state::TimeoutReport`]: `[TIMEOUT_REPORT_SEED, validator, job]`.
pub const TIMEOUT_REPORT_SEED: &[u8] = b"timeout";
/// PDA seed of a [`crate::state::Dispute`]: `[DISPUTE_SEED, job]`.
pub const DISPUTE_SEED: &[u8] = b"dispute";
/// PDA seed of a [`crate::state::Vote`]: `[VOTE_SEED, dispute, voter node]`.
pub const VOTE_SEED: &[u8] = b"vote";
/// PDA seed of a [`crate::state::SlashRecord`]: `[SLASH_SEED, node, evidence hash]`.
pub const SLASH_SEED: &[u8] = b"slash";
/// Validator score lost per slash, and per overturned outcome signed.
pub const SLASH_SCORE_PENALTY: i16 = -20;
pub const APPROVE_INVALID_SCORE_PENALTY: i16 = -2;
/// PDA seed of a [`crate::state::NodeEndpoint`]: `[ENDPOINT_SEED, node]`.
pub const ENDPOINT_SEED: &[u8] = b"endpoint";
/// Longest service endpoint a node can record, in bytes.
pub const MAX_ENDPOINT_LEN: usize = 128;
/// PDA seed of a node's reward vault (delegators' pending rewards): `[NODE_VAULT_SEED, node]`.
pub const NODE_VAULT_SEED: &[u8] = b"node_vault";

/// Node roles (bit flags).
pub const ROLE_MINER: u8 = 1;
pub const ROLE_VALIDATOR: u8 = 2;
pub const ROLE_ALL: u8 = ROLE_MINER | ROLE_VALIDATOR;

/// One hour and one day, in seconds.
pub const HOUR_SECS: i64 = 3_600;
pub const DAY_SECS: i64 = 86_400;

/// Defaults (PROTOCOL.md). Token amounts assume a mint with 9 decimals.
pub mod defaults {
    use super::*;

    pub const TOKEN: u64 = 1_000_000_000;

    pub const MIN_MINER_STAKE: u64 = 1_000 * TOKEN;
    pub const MIN_VALIDATOR_STAKE: u64 = 10_000 * TOKEN;
    pub const MAX_COMMISSION_BPS: u16 = 5_000;

    /// A Verdict epoch: the unit of payout delay and of the challenge window.
    pub const EPOCH_SECS: i64 = DAY_SECS;
    /// Must exceed the longest payout delay + challenge window + vote (checked).
    pub const UNBONDING_SECS: i64 = 7 * DAY_SECS;

    pub const COMMITTEE_SIZE: u8 = 5;
    pub const COMMITTEE_QUORUM: u8 = 3;
    pub const COMMITTEE_ROTATION_SECS: i64 = HOUR_SECS;
    pub const MIN_VALIDATOR_SCORE: u8 = 20;
    pub const INITIAL_VALIDATOR_SCORE: u8 = 50;

    pub const MIN_JOB_FEE: u64 = TOKEN / 1_000;
    pub const SENT_TTL_SECS: i64 = 10 * 60;
    pub const ALLOCATED_TTL_SECS: i64 = 15 * 60;
    pub const MAX_JOB_ATTEMPTS: u8 = 3;

    /// Trust is fixed point with 1.0 == `TRUST_ONE`.
    pub const PENALTY_BPS: u16 = 8_000;
    pub const REWARD_BPS: u16 = 10_100;
    pub const TRUST_CAP_BPS: u32 = 1_000_000;
    pub const TRIAL_BASELINE_TRUST_BPS: u32 = 10_000;
    pub const TRIAL_COOLDOWN_SECS: i64 = 6 * HOUR_SECS;

    pub const REPUTATION_WINDOW: u16 = 1_000;
    pub const WEIGHT_SUCCESS_BPS: u16 = 5_000;
    pub const WEIGHT_SLA_BPS: u16 = 3_000;
    pub const WEIGHT_LATENCY_BPS: u16 = 2_000;
    pub const TIER1_MIN_BPS: u16 = 9_500;
    pub const TIERED_MIN_SUCCESS_BPS: u16 = 8_500;
    pub const SLASH_SUCCESS_BPS: u16 = 7_000;
    pub const RATE_LIMIT_BPS: u16 = 7_000;
    pub const MAX_BOOST_BPS: u16 = 3_000;
    pub const HEARTBEAT_STALE_SECS: i64 = 72 * HOUR_SECS;
    /// Trust kept per day of staleness past the heartbeat limit.
    pub const DECAY_PER_DAY_BPS: u16 = 9_900;

    pub const CHALLENGE_WINDOW_EPOCHS: u8 = 2;
    pub const VOTE_COMMIT_SECS: i64 = 12 * HOUR_SECS;
    pub const VOTE_REVEAL_SECS: i64 = 12 * HOUR_SECS;
    pub const MIN_BOND: u64 = 100 * TOKEN;
    pub const BOND_MULTIPLE: u16 = 10;
    pub const UNRESOLVED_FEE_BPS: u16 = 1_000;
    pub const LIQUIDATION_MULTIPLIER: u16 = 10;
    pub const LIQUIDATION_ACTIVE_BPS: u16 = 6_600;
    /// One vote per minimum miner stake.
    pub const VOTE_UNIT: u64 = MIN_MINER_STAKE;
    pub const DISPUTE_QUORUM_BPS: u16 = 2_000;
    pub const DISPUTE_MIN_VOTERS: u16 = 3;
    pub const VOTE_DEPOSIT: u64 = 10 * TOKEN;
    pub const SLASH_EPOCH_CAP_BPS: u16 = 5_000;
    pub const MAX_TIMEOUT_REPORTS_PER_EPOCH: u8 = 3;
    pub const EXPOSURE_MULTIPLE_BPS: u32 = 10_000;
    pub const VALIDATOR_FEE_BPS: u16 = 1_000;
    pub const DRAW_DELAY_SLOTS: u16 = 4;

    pub const SLASH_INVALID_SIGNATURE_BPS: u16 = 5_000;
    pub const SLASH_COLLUSION_BPS: u16 = 10_000;
    pub const SLASH_APPROVE_INVALID_BPS: u16 = 3_000;
    pub const SLASH_DOWNTIME_BPS: u16 = 1_000;
    pub const SLASH_FRONT_RUNNING_BPS: u16 = 5_000;
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn compile_time_singletons_match_the_runtime_derivation() {
        let derive = |seed: &[u8]| Pubkey::find_program_address(&[seed], &crate::ID);
        assert_eq!((CONFIG_ADDRESS, CONFIG_BUMP), derive(CONFIG_SEED));
        assert_eq!(COMMITTEE_ADDRESS, derive(COMMITTEE_SEED).0);
        assert_eq!(STAKE_VAULT_ADDRESS, derive(STAKE_VAULT_SEED).0);
    }
}
