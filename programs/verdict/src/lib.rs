//! Verdict: the on-chain half of a trust layer for decentralized AI
//! inference. This file only dispatches; see `instructions/` and `state/`.

use anchor_lang::prelude::*;

pub mod attestation;
pub mod bid;
pub mod constants;
pub mod errors;
pub mod events;
pub mod instructions;
pub mod instructions_sysvar;
pub mod math;
pub mod state;
pub mod token_ops;

use attestation::CompletionReport;
pub use instructions::*;
use state::{FailReason, Offense, ProtocolParams, SlashingTable, TicketKind};

declare_id!("VerDWoueCcWruGZZUvEbmMip6iAZDAtK91L2nkps4Q8");

#[program]
pub mod verdict {
    use super::*;

    // Jobs first, then stake: Anchor finds an instruction by comparing
    // its discriminator with each one's in the order written here, so the
    // most frequent instructions are tested first.

    pub fn settle_job(ctx: Context<SettleJob>, price: u64, report: CompletionReport) -> Result<()> {
        settle_job::handler(ctx, price, report)
    }

    #[access_control(ctx.accounts.validate(&args))]
    pub fn submit_job(ctx: Context<SubmitJob>, args: SubmitJobArgs) -> Result<()> {
        submit_job::handler(ctx, args)
    }

    #[access_control(ctx.accounts.validate())]
    pub fn claim_payout(ctx: Context<ClaimPayout>) -> Result<()> {
        claim_payout::handler(ctx)
    }

    pub fn close_job<'info>(ctx: Context<'info, CloseJob<'info>>) -> Result<()> {
        close_job::handler(ctx)
    }

    pub fn assign_job(ctx: Context<AssignJob>, price: u64) -> Result<()> {
        assign_job::handler(ctx, price)
    }

    pub fn complete_job(ctx: Context<CompleteJob>, report: CompletionReport) -> Result<()> {
        complete_job::handler(ctx, report)
    }

    pub fn fail_job(ctx: Context<FailJob>, reason: FailReason) -> Result<()> {
        fail_job::handler(ctx, reason)
    }

    pub fn expire_job(ctx: Context<ExpireJob>) -> Result<()> {
        expire_job::handler(ctx)
    }

    pub fn reject_job(ctx: Context<RejectJob>, reason_code: u8) -> Result<()> {
        reject_job::handler(ctx, reason_code)
    }

    #[access_control(ctx.accounts.validate())]
    pub fn claim_refund(ctx: Context<ClaimRefund>) -> Result<()> {
        claim_refund::handler(ctx)
    }

    // Self stake.

    #[access_control(ctx.accounts.validate(amount))]
    pub fn stake(ctx: Context<Stake>, amount: u64) -> Result<()> {
        stake::handler(ctx, amount)
    }

    #[access_control(ctx.accounts.validate(amount))]
    pub fn request_unstake(ctx: Context<RequestUnstake>, amount: u64) -> Result<()> {
        request_unstake::handler(ctx, amount)
    }

    #[access_control(ctx.accounts.validate())]
    pub fn withdraw_unbonded(ctx: Context<WithdrawUnbonded>) -> Result<()> {
        withdraw_unbonded::handler(ctx, TicketKind::SelfStake)
    }

    // Delegation.

    #[access_control(ctx.accounts.validate(amount))]
    pub fn delegate(ctx: Context<Delegate>, amount: u64) -> Result<()> {
        delegate::handler(ctx, amount)
    }

    #[access_control(ctx.accounts.validate(shares))]
    pub fn request_undelegate(ctx: Context<RequestUndelegate>, shares: u64) -> Result<()> {
        request_undelegate::handler(ctx, shares)
    }

    #[access_control(ctx.accounts.validate())]
    pub fn withdraw_undelegated(ctx: Context<WithdrawUnbonded>) -> Result<()> {
        withdraw_unbonded::handler(ctx, TicketKind::Delegation)
    }

    // Governance.

    #[access_control(ctx.accounts.validate(&params, &slashing))]
    pub fn initialize_config(
        ctx: Context<InitializeConfig>,
        params: ProtocolParams,
        slashing: SlashingTable,
    ) -> Result<()> {
        initialize_config::handler(ctx, params, slashing)
    }

    #[access_control(ctx.accounts.validate(&params, &slashing))]
    pub fn update_config(
        ctx: Context<UpdateConfig>,
        params: ProtocolParams,
        slashing: SlashingTable,
    ) -> Result<()> {
        update_config::handler(ctx, params, slashing)
    }

    pub fn set_paused(ctx: Context<SetPaused>, paused: bool) -> Result<()> {
        set_paused::handler(ctx, paused)
    }

    pub fn propose_authority(ctx: Context<ProposeAuthority>, proposed: Pubkey) -> Result<()> {
        propose_authority::handler(ctx, proposed)
    }

    pub fn accept_authority(ctx: Context<AcceptAuthority>) -> Result<()> {
        accept_authority::handler(ctx)
    }

    // Nodes.

    #[access_control(ctx.accounts.validate(&args))]
    pub fn register_node(ctx: Context<RegisterNode>, args: RegisterNodeArgs) -> Result<()> {
        register_node::handler(ctx, args)
    }

    #[access_control(ctx.accounts.validate(&args))]
    pub fn update_node(ctx: Context<UpdateNode>, args: UpdateNodeArgs) -> Result<()> {
        update_node::handler(ctx, args)
    }

    #[access_control(ctx.accounts.validate())]
    pub fn rotate_signing_key(ctx: Context<RotateSigningKey>) -> Result<()> {
        rotate_signing_key::handler(ctx)
    }

    #[access_control(ctx.accounts.validate())]
    pub fn close_node(ctx: Context<CloseNode>) -> Result<()> {
        close_node::handler(ctx)
    }

    // Committee.

    #[access_control(ctx.accounts.validate())]
    pub fn enter_committee_draw(ctx: Context<EnterCommitteeDraw>) -> Result<()> {
        enter_committee_draw::handler(ctx)
    }

    #[access_control(ctx.accounts.validate())]
    pub fn request_committee_draw(ctx: Context<RequestCommitteeDraw>) -> Result<()> {
        request_committee_draw::handler(ctx)
    }

    #[access_control(ctx.accounts.validate())]
    pub fn seed_committee_draw(ctx: Context<SeedCommitteeDraw>) -> Result<()> {
        seed_committee_draw::handler(ctx)
    }

    #[access_control(ctx.accounts.validate())]
    pub fn sweep_committee_draw<'info>(
        ctx: Context<'info, SweepCommitteeDraw<'info>>,
    ) -> Result<()> {
        sweep_committee_draw::handler(ctx)
    }

    pub fn report_validator_timeout(ctx: Context<ReportValidatorTimeout>) -> Result<()> {
        report_validator_timeout::handler(ctx)
    }

    // Reputation and rewards.

    pub fn record_trial(ctx: Context<RecordTrial>, passed: bool) -> Result<()> {
        record_trial::handler(ctx, passed)
    }

    pub fn heartbeat(ctx: Context<Heartbeat>) -> Result<()> {
        heartbeat::handler(ctx)
    }

    #[access_control(ctx.accounts.validate())]
    pub fn set_node_endpoint(ctx: Context<SetNodeEndpoint>, url: String) -> Result<()> {
        set_node_endpoint::handler(ctx, url)
    }

    pub fn close_node_endpoint(ctx: Context<CloseNodeEndpoint>) -> Result<()> {
        close_node_endpoint::handler(ctx)
    }

    #[access_control(ctx.accounts.validate())]
    pub fn compound_rewards(ctx: Context<CompoundRewards>) -> Result<()> {
        compound_rewards::handler(ctx)
    }

    #[access_control(ctx.accounts.validate())]
    pub fn claim_boost(ctx: Context<ClaimBoost>) -> Result<()> {
        claim_boost::handler(ctx)
    }

    #[access_control(ctx.accounts.validate())]
    pub fn withdraw_owed(ctx: Context<WithdrawOwed>) -> Result<()> {
        withdraw_owed::handler(ctx)
    }

    #[access_control(ctx.accounts.validate(amount))]
    pub fn fund_reward_pool(ctx: Context<FundRewardPool>, amount: u64) -> Result<()> {
        fund_reward_pool::handler(ctx, amount)
    }

    // Slashing and disputes.

    pub fn slash_node(
        ctx: Context<SlashNode>,
        offense: Offense,
        evidence_hash: [u8; 32],
    ) -> Result<()> {
        slash_node::handler(ctx, offense, evidence_hash)
    }

    pub fn open_dispute<'info>(
        ctx: Context<'info, OpenDispute<'info>>,
        challenger_result: [u8; 32],
    ) -> Result<()> {
        open_dispute::handler(ctx, challenger_result)
    }

    pub fn commit_vote(ctx: Context<CommitVote>, commitment: [u8; 32]) -> Result<()> {
        commit_vote::handler(ctx, commitment)
    }

    #[access_control(ctx.accounts.validate(&result, &salt))]
    pub fn reveal_vote(ctx: Context<RevealVote>, result: [u8; 32], salt: [u8; 32]) -> Result<()> {
        reveal_vote::handler(ctx, result, salt)
    }

    #[access_control(ctx.accounts.validate())]
    pub fn resolve_dispute<'info>(ctx: Context<'info, ResolveDispute<'info>>) -> Result<()> {
        resolve_dispute::handler(ctx)
    }

    pub fn liquidate(ctx: Context<Liquidate>, target: LiquidationTarget) -> Result<()> {
        liquidate::handler(ctx, target)
    }

    #[access_control(ctx.accounts.validate())]
    pub fn claim_dispute_reward(ctx: Context<ClaimDisputeReward>) -> Result<()> {
        claim_dispute_reward::handler(ctx)
    }

    #[access_control(ctx.accounts.validate())]
    pub fn close_vote(ctx: Context<CloseVote>) -> Result<()> {
        close_vote::handler(ctx)
    }
}
