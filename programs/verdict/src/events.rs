//! Events for every state change clients care about, and the one way to emit them.

use anchor_lang::prelude::*;

use crate::state::{ProtocolParams, SlashingTable, TicketKind};

/// Logs `event` as `Program data: <base64>`, the line Anchor clients parse.
/// On the host (native tests, the embedded chain) Anchor's `sol_log_data`
/// is a no-op and `msg!` prints to stdout, so the same line goes through the
/// runtime's syscall stubs into the transaction log: clients read one format
/// in both worlds.
pub fn emit_event<E: anchor_lang::Event>(event: &E) {
    let data = event.data();
    #[cfg(target_os = "solana")]
    anchor_lang::solana_program::log::sol_log_data(&[&data]);
    #[cfg(not(target_os = "solana"))]
    {
        use base64::Engine;
        let line = format!(
            "Program data: {}",
            base64::engine::general_purpose::STANDARD.encode(&data)
        );
        anchor_lang::compat::solana_sysvar::program_stubs::sol_log(&line);
    }
}

#[event]
#[derive(Debug, Clone, PartialEq)]
pub struct ConfigInitialized {
    pub authority: Pubkey,
    pub stake_mint: Pubkey,
    pub stake_vault: Pubkey,
}

#[event]
#[derive(Debug, Clone, PartialEq)]
pub struct ConfigUpdated {
    pub params: ProtocolParams,
    pub slashing: SlashingTable,
}

#[event]
#[derive(Debug, Clone, PartialEq)]
pub struct PausedSet {
    pub paused: bool,
}

#[event]
#[derive(Debug, Clone, PartialEq)]
pub struct AuthorityProposed {
    pub authority: Pubkey,
    pub proposed: Pubkey,
}

#[event]
#[derive(Debug, Clone, PartialEq)]
pub struct AuthorityAccepted {
    pub previous: Pubkey,
    pub authority: Pubkey,
}

#[event]
#[derive(Debug, Clone, PartialEq)]
pub struct NodeRegistered {
    pub node: Pubkey,
    pub operator: Pubkey,
    pub signing_key: Pubkey,
    pub roles: u8,
    pub commission_bps: u16,
}

#[event]
#[derive(Debug, Clone, PartialEq)]
pub struct NodeUpdated {
    pub node: Pubkey,
    pub roles: u8,
    pub commission_bps: u16,
    pub model_count: u8,
}

#[event]
#[derive(Debug, Clone, PartialEq)]
pub struct SigningKeyRotated {
    pub node: Pubkey,
    pub previous: Pubkey,
    pub signing_key: Pubkey,
}

#[event]
#[derive(Debug, Clone, PartialEq)]
pub struct Staked {
    pub node: Pubkey,
    pub amount: u64,
    pub self_stake: u64,
    pub active: bool,
}

#[event]
#[derive(Debug, Clone, PartialEq)]
pub struct UnbondingQueued {
    pub node: Pubkey,
    pub ticket: Pubkey,
    pub owner: Pubkey,
    pub kind: TicketKind,
    pub amount: u64,
    pub shares: u64,
    pub release_at: i64,
}

#[event]
#[derive(Debug, Clone, PartialEq)]
pub struct UnbondingWithdrawn {
    pub node: Pubkey,
    pub ticket: Pubkey,
    pub owner: Pubkey,
    pub kind: TicketKind,
    /// Tokens paid out (below the requested amount if slashed meanwhile).
    pub amount: u64,
}

#[event]
#[derive(Debug, Clone, PartialEq)]
pub struct Delegated {
    pub node: Pubkey,
    pub staker: Pubkey,
    pub amount: u64,
    pub shares: u64,
    pub pool_amount: u64,
    pub pool_shares: u64,
}

#[event]
#[derive(Debug, Clone, PartialEq)]
pub struct NodeClosed {
    pub node: Pubkey,
    pub operator: Pubkey,
}

#[event]
#[derive(Debug, Clone, PartialEq)]
pub struct CommitteeRotated {
    pub epoch: u64,
    pub members: Vec<Pubkey>,
    pub quorum: u8,
    pub strategy: crate::state::SelectionStrategy,
}

/// A validator entered the next committee draw, with its weight frozen.
#[event]
#[derive(Debug, Clone, PartialEq)]
pub struct CommitteeDrawEntered {
    pub round: u64,
    pub node: Pubkey,
    pub stake: u64,
    pub score: u8,
    pub entrants: u32,
}

/// Entry closed; the draw waits for `target_slot`'s hash (also emitted when
/// a seed was missed and the draw asks again).
#[event]
#[derive(Debug, Clone, PartialEq)]
pub struct CommitteeDrawRequested {
    pub round: u64,
    pub target_slot: u64,
    pub entrants: u32,
}

#[event]
#[derive(Debug, Clone, PartialEq)]
pub struct CommitteeDrawSeeded {
    pub round: u64,
    pub seed: [u8; 32],
}

#[event]
#[derive(Debug, Clone, PartialEq)]
pub struct CommitteeDrawSwept {
    pub round: u64,
    pub swept: u32,
    pub entrants: u32,
}

/// Fewer entrants than the quorum were still eligible when swept: nobody is
/// seated, the old committee serves on, and entry reopens.
#[event]
#[derive(Debug, Clone, PartialEq)]
pub struct CommitteeDrawAborted {
    pub round: u64,
    pub eligible: u8,
}

#[event]
#[derive(Debug, Clone, PartialEq)]
pub struct JobSubmitted {
    pub job: Pubkey,
    pub client: Pubkey,
    pub job_id: u64,
    pub model: [u8; 32],
    pub input_hash: [u8; 32],
    pub risk: crate::state::RiskLevel,
    pub max_fee: u64,
}

#[event]
#[derive(Debug, Clone, PartialEq)]
pub struct JobAssigned {
    pub job: Pubkey,
    pub miner: Pubkey,
    pub price: u64,
    pub attempt: u8,
    /// The price is the miner's own signed bid (checked on chain); without
    /// one, only the committee vouches for it.
    pub by_bid: bool,
}

#[event]
#[derive(Debug, Clone, PartialEq)]
pub struct JobCompleted {
    pub job: Pubkey,
    pub miner: Pubkey,
    pub output_hash: [u8; 32],
    pub response_ms: u32,
    pub release_at: i64,
    pub signers: u8,
}

#[event]
#[derive(Debug, Clone, PartialEq)]
pub struct JobFailed {
    pub job: Pubkey,
    pub miner: Pubkey,
    pub reason: crate::state::FailReason,
    pub attempt: u8,
    /// True when the job went back to SENT for another miner; false when
    /// every attempt was used and the client was refunded.
    pub reopened: bool,
}

#[event]
#[derive(Debug, Clone, PartialEq)]
pub struct JobRefunded {
    pub job: Pubkey,
    pub client: Pubkey,
    pub amount: u64,
    pub status: crate::state::JobStatus,
}

#[event]
#[derive(Debug, Clone, PartialEq)]
pub struct PayoutClaimed {
    pub job: Pubkey,
    pub miner: Pubkey,
    pub operator_amount: u64,
    pub delegator_amount: u64,
    pub client_refund: u64,
    pub boost_owed: u64,
    /// Kept in the escrow for the co-signers, paid at close.
    pub validator_fee: u64,
}

#[event]
#[derive(Debug, Clone, PartialEq)]
pub struct JobClosed {
    pub job: Pubkey,
    pub signers_credited: u8,
    /// The co-signers' fee paid out, shared equally (rounding to the reward pool).
    pub validator_fee: u64,
}

/// A node's operator took what the node was owed.
#[event]
#[derive(Debug, Clone, PartialEq)]
pub struct OwedWithdrawn {
    pub node: Pubkey,
    pub operator: Pubkey,
    pub amount: u64,
}

/// Tokens credited to a node's `owed` balance, and why.
#[event]
#[derive(Debug, Clone, PartialEq)]
pub struct NodeCredited {
    pub node: Pubkey,
    pub amount: u64,
    pub reason: CreditReason,
}

#[derive(AnchorSerialize, AnchorDeserialize, Clone, Copy, Debug, PartialEq, Eq)]
pub enum CreditReason {
    ValidatorFee,
    BondReturned,
    UnresolvedDisputeFee,
}

/// A client took a refund its recorded account could not receive.
#[event]
#[derive(Debug, Clone, PartialEq)]
pub struct RefundClaimed {
    pub job: Pubkey,
    pub client: Pubkey,
    pub amount: u64,
}

/// A node's reputation after any change: what `reputation --history` reads.
#[event]
#[derive(Debug, Clone, PartialEq)]
pub struct ReputationChanged {
    pub node: Pubkey,
    pub trust_bps: u32,
    pub composite_bps: u16,
    pub success_bps: u16,
    pub sla_bps: u16,
    pub avg_response_ms: u32,
    pub tier: u8,
    pub window_jobs: u32,
    pub at: i64,
}

#[event]
#[derive(Debug, Clone, PartialEq)]
pub struct TrialRecorded {
    pub node: Pubkey,
    pub passed: bool,
    pub cooldown_until: i64,
}

#[event]
#[derive(Debug, Clone, PartialEq)]
pub struct NodeEndpointSet {
    pub node: Pubkey,
    /// Empty when the endpoint was removed.
    pub endpoint: String,
    pub at: i64,
}

#[event]
#[derive(Debug, Clone, PartialEq)]
pub struct HeartbeatRecorded {
    pub node: Pubkey,
    pub trust_bps: u32,
    pub at: i64,
}

#[event]
#[derive(Debug, Clone, PartialEq)]
pub struct ValidatorScoreChanged {
    pub node: Pubkey,
    pub score: u8,
    pub delta: i16,
}

#[event]
#[derive(Debug, Clone, PartialEq)]
pub struct RewardsCompounded {
    pub node: Pubkey,
    pub amount: u64,
    pub pool_amount: u64,
}

#[event]
#[derive(Debug, Clone, PartialEq)]
pub struct BoostClaimed {
    pub node: Pubkey,
    pub paid: u64,
    pub still_owed: u64,
}

impl ReputationChanged {
    pub fn of(
        node_key: Pubkey,
        node: &crate::state::Node,
        params: &ProtocolParams,
        at: i64,
    ) -> Self {
        Self::with(node_key, node, &node.reputation.standing(params), at)
    }

    /// The event for a standing already computed.
    pub fn with(
        node_key: Pubkey,
        node: &crate::state::Node,
        standing: &crate::state::Standing,
        at: i64,
    ) -> Self {
        let w = &standing.window;
        Self {
            node: node_key,
            trust_bps: node.reputation.trust_bps,
            composite_bps: w.composite_bps,
            success_bps: w.success_bps,
            sla_bps: w.sla_bps,
            avg_response_ms: w.avg_response_ms,
            tier: standing.tier,
            window_jobs: w.jobs,
            at,
        }
    }
}

#[event]
#[derive(Debug, Clone, PartialEq)]
pub struct RewardPoolFunded {
    pub funder: Pubkey,
    pub amount: u64,
    pub reward_pool: u64,
}

/// Enough for delegators to see the drop: what each pool lost and its
/// value afterwards.
#[event]
#[derive(Debug, Clone, PartialEq)]
pub struct NodeSlashed {
    pub node: Pubkey,
    pub offense: crate::state::Offense,
    pub amount: u64,
    pub from_self_stake: u64,
    pub from_delegation: u64,
    pub from_unbonding: u64,
    pub delegation_pool_amount: u64,
    pub delegation_pool_shares: u64,
    pub validator_score: u8,
}

#[event]
#[derive(Debug, Clone, PartialEq)]
pub struct SlashForgiven {
    pub node: Pubkey,
    pub offense: crate::state::Offense,
}

#[event]
#[derive(Debug, Clone, PartialEq)]
pub struct DisputeOpened {
    pub dispute: Pubkey,
    pub job: Pubkey,
    pub challenger: Pubkey,
    pub miner: Pubkey,
    pub bond: u64,
    pub disputed_output: [u8; 32],
    pub challenger_result: [u8; 32],
    pub active_weight: u64,
    pub commit_end: i64,
    pub reveal_end: i64,
}

#[event]
#[derive(Debug, Clone, PartialEq)]
pub struct VoteCommitted {
    pub dispute: Pubkey,
    pub voter: Pubkey,
    pub weight: u64,
    pub deposit: u64,
}

#[event]
#[derive(Debug, Clone, PartialEq)]
pub struct VoteRevealed {
    pub dispute: Pubkey,
    pub voter: Pubkey,
    pub result: [u8; 32],
    pub weight: u64,
}

#[event]
#[derive(Debug, Clone, PartialEq)]
pub struct DisputeResolved {
    pub dispute: Pubkey,
    pub status: crate::state::DisputeStatus,
    pub result: [u8; 32],
    pub n: u64,
    pub m: u64,
    /// Revealed voter weight (turnout) against the active weight at opening.
    pub turnout: u64,
    pub active_weight: u64,
    pub pending_liquidations: u32,
    /// What the challenger got back of its bond, what the miner got for an
    /// unresolved dispute, and unrevealed deposits forfeited.
    pub bond_returned: u64,
    pub unresolved_fee: u64,
    pub deposits_forfeited: u64,
}

#[event]
#[derive(Debug, Clone, PartialEq)]
pub struct NodeLiquidated {
    pub dispute: Pubkey,
    pub node: Pubkey,
    pub amount: u64,
    /// Paid to the client out of the pool by this crank (whoever's stake filled it).
    pub client_refund: u64,
    /// Kept back as the node's refund reserve for its other open jobs.
    pub reserved: u64,
    /// Taken from the node's refund reserve (it was liquidated before) for
    /// this dispute's client.
    pub from_reserve: u64,
    /// A dissenting voter's stake beyond what the client was owed: to the
    /// reward pool, not to the voters who outvoted it.
    pub to_reward_pool: u64,
}

#[event]
#[derive(Debug, Clone, PartialEq)]
pub struct DisputeRewardClaimed {
    pub dispute: Pubkey,
    pub voter: Pubkey,
    pub amount: u64,
}
