//! Verdict: the on-chain half of a trust layer for decentralized AI
//! inference. This file only dispatches; see `instructions/` and `state/`.

use anchor_lang::prelude::*;

pub mod constants;
pub mod errors;
pub mod events;
pub mod instructions;
pub mod math;
pub mod state;
pub mod token_ops;

pub use instructions::*;
use state::{ProtocolParams, SlashingTable, TicketKind};

declare_id!("VerDWoueCcWruGZZUvEbmMip6iAZDAtK91L2nkps4Q8");

#[program]
pub mod verdict {
    use super::*;

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
    pub fn update_config(ctx: Context<UpdateConfig>, params: ProtocolParams, slashing: SlashingTable) -> Result<()> {
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
}
