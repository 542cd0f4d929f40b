//! `compound_rewards`: permissionless. Moves the delegators' share of a
//! node's payouts from its node vault into the stake vault, raising the
//! delegation pool's value (no new shares: every delegator gains pro rata).

use anchor_lang::prelude::*;
use anchor_spl::token::{Token, TokenAccount};

use crate::constants::{CONFIG_SEED, NODE_SEED, NODE_VAULT_SEED};
use crate::errors::VerdictError;
use crate::events::{emit_event, RewardsCompounded};
use crate::math::add;
use crate::state::{Config, Node};
use crate::token_ops;

#[derive(Accounts)]
pub struct CompoundRewards<'info> {
    #[account(mut, seeds = [CONFIG_SEED], bump = config.bump)]
    pub config: Box<Account<'info, Config>>,
    #[account(mut, seeds = [NODE_SEED, node.operator.as_ref()], bump = node.bump)]
    pub node: Box<Account<'info, Node>>,
    #[account(mut, seeds = [NODE_VAULT_SEED, node.key().as_ref()], bump = node.vault_bump)]
    pub node_vault: Box<Account<'info, TokenAccount>>,
    #[account(mut, address = config.stake_vault @ VerdictError::WrongVault)]
    pub stake_vault: Box<Account<'info, TokenAccount>>,
    pub token_program: Program<'info, Token>,
}

pub fn handler(ctx: Context<CompoundRewards>) -> Result<()> {
    let a = &mut *ctx.accounts;
    a.config.require_not_paused()?;
    let amount = a.node.pending_delegator_rewards;
    require!(amount > 0, VerdictError::ZeroAmount);
    let (operator, bump) = (a.node.operator, a.node.bump);
    token_ops::pay_out(
        &a.token_program,
        &a.node_vault.to_account_info(),
        &a.stake_vault.to_account_info(),
        &a.node.to_account_info(),
        &[crate::constants::NODE_SEED, operator.as_ref(), &[bump]],
        amount,
    )?;
    let node = &mut a.node;
    node.pending_delegator_rewards = 0;
    let totals = &mut a.config.totals;
    if node.delegation.shares == 0 {
        // Every delegator left before compounding: nobody to credit.
        totals.reward_pool = add(totals.reward_pool, amount)?;
    } else {
        node.delegation.amount = add(node.delegation.amount, amount)?;
        totals.delegated = add(totals.delegated, amount)?;
    }
    emit_event(&RewardsCompounded { node: node.key(), amount, pool_amount: node.delegation.amount });
    Ok(())
}
