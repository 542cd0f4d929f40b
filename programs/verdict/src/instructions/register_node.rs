//! `register_node`: an operator creates its node (roles, signing key, models).

use anchor_lang::prelude::*;

use crate::constants::{CONFIG_SEED, NODE_SEED};
use crate::errors::VerdictError;
use crate::events::{emit_event, NodeRegistered};
use crate::math::add;
use crate::state::{Config, ModelId, Node, NodeStatus, SharePool};

#[derive(AnchorSerialize, AnchorDeserialize, Clone, Debug)]
pub struct RegisterNodeArgs {
    pub roles: u8,
    pub models: Vec<ModelId>,
    pub commission_bps: u16,
}

#[derive(Accounts)]
pub struct RegisterNode<'info> {
    #[account(mut)]
    pub operator: Signer<'info>,
    /// The attestation key must sign, so nobody can bind a key they do not hold.
    pub signing_key: Signer<'info>,
    #[account(mut, seeds = [CONFIG_SEED], bump = config.bump)]
    pub config: Box<Account<'info, Config>>,
    #[account(
        init,
        payer = operator,
        space = 8 + Node::INIT_SPACE,
        seeds = [NODE_SEED, operator.key().as_ref()],
        bump,
    )]
    pub node: Box<Account<'info, Node>>,
    pub system_program: Program<'info, System>,
}

impl RegisterNode<'_> {
    pub fn validate(&self, args: &RegisterNodeArgs) -> Result<()> {
        self.config.require_not_paused()?;
        Node::validate_roles(args.roles)?;
        require!(args.commission_bps <= self.config.params.max_commission_bps, VerdictError::CommissionTooHigh);
        Ok(())
    }
}

pub fn handler(ctx: Context<RegisterNode>, args: RegisterNodeArgs) -> Result<()> {
    let now = Clock::get()?.unix_timestamp;
    let config = &mut ctx.accounts.config;
    let node = &mut ctx.accounts.node;
    node.set_inner(Node {
        operator: ctx.accounts.operator.key(),
        signing_key: ctx.accounts.signing_key.key(),
        roles: args.roles,
        status: NodeStatus::Active,
        bump: ctx.bumps.node,
        commission_bps: args.commission_bps,
        model_count: 0,
        models: Default::default(),
        self_stake: 0,
        delegation: SharePool::default(),
        unbonding: SharePool::default(),
        next_ticket_id: 0,
        registered_at: now,
        validator_score: config.params.initial_validator_score,
        counted_active: false,
        counted_validator: false,
    });
    node.set_models(&args.models)?;
    config.nodes_registered = add(config.nodes_registered, 1)?;
    emit_event(&NodeRegistered {
        node: node.key(),
        operator: node.operator,
        signing_key: node.signing_key,
        roles: node.roles,
        commission_bps: node.commission_bps,
    });
    Ok(())
}
