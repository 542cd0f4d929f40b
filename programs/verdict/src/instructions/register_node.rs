//! `register_node`: an operator creates its node (roles, signing key, models).

use anchor_lang::prelude::*;
// The IDL builder spells `ModelId` out as `[u8; MODEL_ID_LEN]` here.
#[cfg(feature = "idl-build")]
#[allow(unused_imports)]
use crate::constants::MODEL_ID_LEN;
use anchor_spl::token::{Token, TokenAccount};

use crate::constants::{CONFIG_ADDRESS, NODE_SEED, NODE_VAULT_SEED};
use crate::errors::VerdictError;
use crate::events::{emit_event, NodeRegistered};
use crate::math::add;
use crate::state::{Config, ModelId, Node};

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
    #[account(mut, address = CONFIG_ADDRESS)]
    pub config: AccountLoader<'info, Config>,
    #[account(
        init,
        payer = operator,
        space = Node::SPACE,
        seeds = [NODE_SEED, operator.key().as_ref()],
        bump,
    )]
    pub node: AccountLoader<'info, Node>,
    /// Holds the delegators' share of the node's payouts until compounded.
    #[account(
        init,
        payer = operator,
        seeds = [NODE_VAULT_SEED, node.key().as_ref()],
        bump,
        token::mint = stake_mint,
        token::authority = node,
    )]
    pub node_vault: Box<Account<'info, TokenAccount>>,
    /// The stake mint, handed to SPL Token's `InitializeAccount3`.
    /// CHECK: bound to the mint the Config records (`initialize_config`
    /// checked it is a mint); SPL Token checks it again as it initializes.
    #[account(address = config.load()?.stake_mint @ VerdictError::WrongMint)]
    pub stake_mint: UncheckedAccount<'info>,
    pub token_program: Program<'info, Token>,
    pub system_program: Program<'info, System>,
}

impl RegisterNode<'_> {
    pub fn validate(&self, args: &RegisterNodeArgs) -> Result<()> {
        let config = self.config.load()?;
        config.require_not_paused()?;
        Node::validate_roles(args.roles)?;
        require!(
            args.commission_bps <= config.params.max_commission_bps,
            VerdictError::CommissionTooHigh
        );
        Ok(())
    }
}

pub fn handler(ctx: Context<RegisterNode>, args: RegisterNodeArgs) -> Result<()> {
    let now = Clock::get()?.unix_timestamp;
    let mut config = ctx.accounts.config.load_mut()?;
    let mut node = ctx.accounts.node.load_init()?;
    *node = Node::register(
        ctx.accounts.operator.key(),
        ctx.accounts.signing_key.key(),
        args.roles,
        args.commission_bps,
        ctx.bumps.node,
        ctx.accounts.node_vault.key(),
        now,
    );
    node.validator_score = config.params.initial_validator_score;
    node.set_models(&args.models)?;
    config.nodes_registered = add(config.nodes_registered, 1)?;
    emit_event(&NodeRegistered {
        node: ctx.accounts.node.key(),
        operator: node.operator,
        signing_key: node.signing_key,
        roles: node.roles,
        commission_bps: node.commission_bps,
    });
    Ok(())
}
