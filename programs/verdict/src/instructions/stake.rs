//! `stake`: the operator adds to its node's self stake.

use anchor_lang::prelude::*;
use anchor_spl::token::Token;

use crate::constants::{CONFIG_ADDRESS, STAKE_VAULT_ADDRESS};
use crate::errors::VerdictError;
use crate::events::{emit_event, Staked};
use crate::math::add;
use crate::state::{Config, Node, NodeStatus};
use crate::token_ops;

#[derive(Accounts)]
pub struct Stake<'info> {
    pub operator: Signer<'info>,
    #[account(mut, address = CONFIG_ADDRESS)]
    pub config: AccountLoader<'info, Config>,
    /// The signer's own Node: `has_one` binds it (a Node exists only at its PDA).
    #[account(
        mut,
        has_one = operator @ VerdictError::Unauthorized,
    )]
    pub node: AccountLoader<'info, Node>,
    /// The operator's token account of the stake mint.
    /// CHECK: its mint and owner read from its bytes (`token_ops`).
    #[account(
        mut,
        constraint = token_ops::mint_of(&operator_tokens)? == config.load()?.stake_mint @ VerdictError::WrongMint,
        constraint = token_ops::owner_of(&operator_tokens)? == operator.key() @ VerdictError::WrongTokenOwner,
    )]
    pub operator_tokens: UncheckedAccount<'info>,
    /// The stake vault (a token account `initialize_config` created).
    /// CHECK: bound by its compile-time address (see `token_ops`).
    #[account(mut, address = STAKE_VAULT_ADDRESS @ VerdictError::WrongVault)]
    pub stake_vault: UncheckedAccount<'info>,
    pub token_program: Program<'info, Token>,
}

impl Stake<'_> {
    pub fn validate(&self, amount: u64) -> Result<()> {
        let config = self.config.load()?;
        config.require_not_paused()?;
        require!(amount > 0, VerdictError::ZeroAmount);
        let node = self.node.load()?;
        require!(
            node.status() == NodeStatus::Active,
            VerdictError::NodeNotActive
        );
        let after = add(node.self_stake, amount)?;
        require!(
            after >= config.params.min_stake_for_roles(node.roles),
            VerdictError::StakeBelowMinimum
        );
        Ok(())
    }
}

pub fn handler(ctx: Context<Stake>, amount: u64) -> Result<()> {
    let accounts = &mut *ctx.accounts;
    token_ops::deposit(
        &accounts.token_program,
        &accounts.operator_tokens,
        &accounts.stake_vault,
        &accounts.operator,
        amount,
    )?;
    let node_key = accounts.node.key();
    let mut node = accounts.node.load_mut()?;
    let mut config = accounts.config.load_mut()?;
    node.self_stake = add(node.self_stake, amount)?;
    config.totals.self_stake = add(config.totals.self_stake, amount)?;
    let activity = node.sync_activity(&mut config)?;
    emit_event(&Staked {
        node: node_key,
        amount,
        self_stake: node.self_stake,
        active: activity.active,
    });
    Ok(())
}
