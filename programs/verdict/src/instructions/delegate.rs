//! `delegate`: a staker buys shares of a node's delegation pool, after the
//! delegators' earnings so far are added to the pool's value, and at a share
//! price that counts a boost owed to them but not paid yet (so the new
//! shares buy none of what was earned before they joined).

use anchor_lang::prelude::*;
use anchor_spl::token::Token;

use crate::constants::{CONFIG_ADDRESS, DELEGATION_SEED, STAKE_VAULT_ADDRESS};
use crate::errors::VerdictError;
use crate::events::{emit_event, Delegated};
use crate::instructions::compound_rewards::settle_delegator_rewards;
use crate::math::add;
use crate::state::{Config, Delegation, Node, NodeStatus};
use crate::token_ops;

#[derive(Accounts)]
pub struct Delegate<'info> {
    #[account(mut)]
    pub staker: Signer<'info>,
    #[account(mut, address = CONFIG_ADDRESS)]
    pub config: AccountLoader<'info, Config>,
    /// Any Node: only `register_node` creates one, at its PDA, so the
    /// loader's owner and discriminator checks bind it (no seeds to derive).
    #[account(mut)]
    pub node: AccountLoader<'info, Node>,
    #[account(
        init_if_needed,
        payer = staker,
        space = 8 + Delegation::INIT_SPACE,
        seeds = [DELEGATION_SEED, node.key().as_ref(), staker.key().as_ref()],
        bump,
    )]
    pub delegation: Box<Account<'info, Delegation>>,
    /// The staker's token account of the stake mint.
    /// CHECK: its mint and owner read from its bytes (`token_ops`).
    #[account(
        mut,
        constraint = token_ops::mint_of(&staker_tokens)? == config.load()?.stake_mint @ VerdictError::WrongMint,
        constraint = token_ops::owner_of(&staker_tokens)? == staker.key() @ VerdictError::WrongTokenOwner,
    )]
    pub staker_tokens: UncheckedAccount<'info>,
    /// The stake vault (a token account `initialize_config` created).
    /// CHECK: bound by its compile-time address (see `token_ops`).
    #[account(mut, address = STAKE_VAULT_ADDRESS @ VerdictError::WrongVault)]
    pub stake_vault: UncheckedAccount<'info>,
    /// The node's vault (a token account `register_node` created).
    /// CHECK: bound by the address its Node records (see `token_ops`).
    #[account(mut, address = node.load()?.vault @ VerdictError::WrongVault)]
    pub node_vault: UncheckedAccount<'info>,
    pub token_program: Program<'info, Token>,
    pub system_program: Program<'info, System>,
}

impl Delegate<'_> {
    pub fn validate(&self, amount: u64) -> Result<()> {
        self.config.load()?.require_not_paused()?;
        require!(amount > 0, VerdictError::ZeroAmount);
        require!(
            self.node.load()?.status() == NodeStatus::Active,
            VerdictError::NodeNotActive
        );
        Ok(())
    }
}

pub fn handler(ctx: Context<Delegate>, amount: u64) -> Result<()> {
    let accounts = &mut *ctx.accounts;
    let mut config = accounts.config.load_mut()?;
    settle_delegator_rewards(
        &mut config,
        &accounts.node,
        &accounts.node_vault,
        &accounts.stake_vault,
        &accounts.token_program,
    )?;
    token_ops::deposit(
        &accounts.token_program,
        &accounts.staker_tokens,
        &accounts.stake_vault,
        &accounts.staker,
        amount,
    )?;
    let node_key = accounts.node.key();
    let mut node = accounts.node.load_mut()?;
    // A boost owed to the delegators that the reward pool could not pay yet
    // (settled above as far as it could) is theirs: the price counts it.
    let owed_boost = node.delegator_boost_owed;
    let shares = node
        .delegation
        .deposit_with_receivable(amount, owed_boost)?;
    let delegation = &mut accounts.delegation;
    if delegation.node == Pubkey::default() {
        delegation.node = node_key;
        delegation.staker = accounts.staker.key();
        delegation.bump = ctx.bumps.delegation;
    }
    delegation.shares = add(delegation.shares, shares)?;
    config.totals.delegated = add(config.totals.delegated, amount)?;
    emit_event(&Delegated {
        node: node_key,
        staker: delegation.staker,
        amount,
        shares,
        pool_amount: node.delegation.amount,
        pool_shares: node.delegation.shares,
    });
    Ok(())
}
