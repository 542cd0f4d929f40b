//! `claim_boost`: pays a node's earned reward boosts from the reward pool,
//! as far as the pool has funds (the rest stays owed). Split like a payout:
//! the operator's part to its token account, the delegators' part straight
//! into the delegation pool.

use anchor_lang::prelude::*;
use anchor_spl::token::{Token, TokenAccount};

use crate::constants::{CONFIG_SEED, NODE_SEED};
use crate::errors::VerdictError;
use crate::events::{emit_event, BoostClaimed};
use crate::math::{add, sub};
use crate::state::{Config, Node};
use crate::token_ops;

#[derive(Accounts)]
pub struct ClaimBoost<'info> {
    #[account(mut, seeds = [CONFIG_SEED], bump = config.bump)]
    pub config: Box<Account<'info, Config>>,
    #[account(mut, seeds = [NODE_SEED, node.operator.as_ref()], bump = node.bump)]
    pub node: Box<Account<'info, Node>>,
    #[account(
        mut,
        constraint = operator_tokens.owner == node.operator @ VerdictError::WrongDestination,
        constraint = operator_tokens.mint == config.stake_mint @ VerdictError::WrongMint,
    )]
    pub operator_tokens: Box<Account<'info, TokenAccount>>,
    #[account(mut, address = config.stake_vault @ VerdictError::WrongVault)]
    pub stake_vault: Box<Account<'info, TokenAccount>>,
    pub token_program: Program<'info, Token>,
}

pub fn handler(ctx: Context<ClaimBoost>) -> Result<()> {
    let a = &mut *ctx.accounts;
    a.config.require_not_paused()?;
    let paid = a.node.boost_owed.min(a.config.totals.reward_pool);
    require!(paid > 0, VerdictError::ZeroAmount);
    let split = if a.node.delegation.shares == 0 {
        crate::state::RewardSplit { operator: paid, delegators: 0 }
    } else {
        a.node.split_reward(paid)?
    };
    let config = &mut a.config;
    config.totals.reward_pool = sub(config.totals.reward_pool, paid)?;
    config.totals.delegated = add(config.totals.delegated, split.delegators)?;
    token_ops::pay_from_stake_vault(
        &a.token_program,
        &a.stake_vault,
        &a.operator_tokens.to_account_info(),
        config,
        split.operator,
    )?;
    let node = &mut a.node;
    node.delegation.amount = add(node.delegation.amount, split.delegators)?;
    node.boost_owed = sub(node.boost_owed, paid)?;
    node.total_earned = add(node.total_earned, paid)?;
    emit_event(&BoostClaimed { node: node.key(), paid, still_owed: node.boost_owed });
    Ok(())
}
