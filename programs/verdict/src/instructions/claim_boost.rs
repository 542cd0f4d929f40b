//! `claim_boost`: pays a node's earned reward boosts from the reward pool,
//! as far as the pool has funds (the rest stays owed): the delegators' part
//! (split off when the boost was earned) straight into the delegation pool,
//! the operator's part to its token account.

use anchor_lang::prelude::*;
use anchor_spl::token::Token;

use crate::constants::{CONFIG_ADDRESS, STAKE_VAULT_ADDRESS};
use crate::errors::VerdictError;
use crate::events::{emit_event, BoostClaimed};
use crate::math::{add, sub};
use crate::state::{Config, Node};
use crate::token_ops;

#[derive(Accounts)]
pub struct ClaimBoost<'info> {
    #[account(mut, address = CONFIG_ADDRESS)]
    pub config: AccountLoader<'info, Config>,
    /// Any Node: only `register_node` creates one, at its PDA, so the
    /// loader's owner and discriminator checks bind it (no seeds to derive).
    #[account(mut)]
    pub node: AccountLoader<'info, Node>,
    /// The operator's token account of the stake mint.
    /// CHECK: its mint and owner read from its bytes (`token_ops`).
    #[account(
        mut,
        constraint = token_ops::owner_of(&operator_tokens)? == node.load()?.operator @ VerdictError::WrongDestination,
        constraint = token_ops::mint_of(&operator_tokens)? == config.load()?.stake_mint @ VerdictError::WrongMint,
    )]
    pub operator_tokens: UncheckedAccount<'info>,
    /// The stake vault (a token account `initialize_config` created).
    /// CHECK: bound by its compile-time address (see `token_ops`).
    #[account(mut, address = STAKE_VAULT_ADDRESS @ VerdictError::WrongVault)]
    pub stake_vault: UncheckedAccount<'info>,
    pub token_program: Program<'info, Token>,
}

impl ClaimBoost<'_> {
    pub fn validate(&self) -> Result<()> {
        self.config.load()?.require_not_paused()?;
        require!(self.node.load()?.boost_owed > 0, VerdictError::ZeroAmount);
        Ok(())
    }
}

pub fn handler(ctx: Context<ClaimBoost>) -> Result<()> {
    let a = &mut *ctx.accounts;
    let mut config = a.config.load_mut()?;
    // The delegators' part was split off when earned: it joins their pool
    // (bookkeeping inside the stake vault), the operator's part is paid out.
    let pool = config.totals.reward_pool;
    let (boost_owed, delegator_boost_owed, has_delegators) = {
        let node = a.node.load()?;
        (
            node.boost_owed,
            node.delegator_boost_owed,
            node.delegation.shares > 0,
        )
    };
    let to_delegators = if has_delegators {
        delegator_boost_owed.min(pool)
    } else {
        0
    };
    let operator_owed = sub(boost_owed, delegator_boost_owed)?;
    let to_operator = operator_owed.min(pool - to_delegators);
    let paid = add(to_delegators, to_operator)?;
    require!(paid > 0, VerdictError::ZeroAmount);
    config.totals.reward_pool = sub(config.totals.reward_pool, paid)?;
    config.totals.delegated = add(config.totals.delegated, to_delegators)?;
    // The Config signs the transfer: unborrowed during the CPI.
    drop(config);
    token_ops::pay_from_stake_vault(
        &a.token_program,
        &a.stake_vault,
        &a.operator_tokens,
        &a.config,
        to_operator,
    )?;
    let mut node = a.node.load_mut()?;
    node.delegation.amount = add(node.delegation.amount, to_delegators)?;
    node.delegator_boost_owed = sub(node.delegator_boost_owed, to_delegators)?;
    node.boost_owed = sub(node.boost_owed, paid)?;
    node.total_earned = add(node.total_earned, paid)?;
    emit_event(&BoostClaimed {
        node: a.node.key(),
        paid,
        still_owed: node.boost_owed,
    });
    Ok(())
}
