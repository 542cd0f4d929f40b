//! `compound_rewards`: permissionless. Adds what the delegators of a node
//! have earned to its delegation pool's value (no new shares: every
//! delegator gains pro rata): their share of payouts, waiting in the node
//! vault, and their part of the owed boosts, as far as the reward pool can
//! pay it. `delegate` and `request_undelegate` run the same step first, so
//! a delegator who joins shares nothing earned before it joined.

use anchor_lang::prelude::*;
use anchor_spl::token::Token;

use crate::constants::{CONFIG_ADDRESS, STAKE_VAULT_ADDRESS};
use crate::errors::VerdictError;
use crate::events::{emit_event, RewardsCompounded};
use crate::math::{add, sub};
use crate::state::{Config, Node};
use crate::token_ops;

#[derive(Accounts)]
pub struct CompoundRewards<'info> {
    #[account(mut, address = CONFIG_ADDRESS)]
    pub config: AccountLoader<'info, Config>,
    /// Any Node: only `register_node` creates one, at its PDA, so the
    /// loader's owner and discriminator checks bind it (no seeds to derive).
    #[account(mut)]
    pub node: AccountLoader<'info, Node>,
    /// The node's vault (a token account `register_node` created).
    /// CHECK: bound by the address its Node records (see `token_ops`).
    #[account(mut, address = node.load()?.vault @ VerdictError::WrongVault)]
    pub node_vault: UncheckedAccount<'info>,
    /// The stake vault (a token account `initialize_config` created).
    /// CHECK: bound by its compile-time address (see `token_ops`).
    #[account(mut, address = STAKE_VAULT_ADDRESS @ VerdictError::WrongVault)]
    pub stake_vault: UncheckedAccount<'info>,
    pub token_program: Program<'info, Token>,
}

impl CompoundRewards<'_> {
    pub fn validate(&self) -> Result<()> {
        self.config.load()?.require_not_paused()
    }
}

pub fn handler(ctx: Context<CompoundRewards>) -> Result<()> {
    let a = &mut *ctx.accounts;
    let added = settle_delegator_rewards(
        &mut *a.config.load_mut()?,
        &a.node,
        &a.node_vault,
        &a.stake_vault,
        &a.token_program,
    )?;
    require!(added > 0, VerdictError::ZeroAmount);
    Ok(())
}

/// Moves the delegators' pending payout share from the node vault into the
/// delegation pool, and their owed boost out of the reward pool as far as
/// it has funds. With no delegator left, the payout share goes to the
/// reward pool and the boost claim lapses. Returns what was added.
pub fn settle_delegator_rewards<'info>(
    config: &mut Config,
    loader: &AccountLoader<'info, Node>,
    node_vault: &AccountInfo<'info>,
    stake_vault: &AccountInfo<'info>,
    token_program: &Program<'info, Token>,
) -> Result<u64> {
    let pending = loader.load()?.pending_delegator_rewards;
    token_ops::pay_from_node_vault(token_program, node_vault, stake_vault, loader, pending)?;
    let mut node = loader.load_mut()?;
    node.pending_delegator_rewards = 0;
    let boost = node.delegator_boost_owed.min(config.totals.reward_pool);
    let totals = &mut config.totals;
    let added = if node.delegation.shares == 0 {
        // Every delegator left: nobody to credit.
        totals.reward_pool = add(totals.reward_pool, pending)?;
        node.boost_owed = sub(node.boost_owed, node.delegator_boost_owed)?;
        node.delegator_boost_owed = 0;
        0
    } else {
        totals.reward_pool = sub(totals.reward_pool, boost)?;
        node.boost_owed = sub(node.boost_owed, boost)?;
        node.delegator_boost_owed = sub(node.delegator_boost_owed, boost)?;
        let added = add(pending, boost)?;
        node.delegation.amount = add(node.delegation.amount, added)?;
        totals.delegated = add(totals.delegated, added)?;
        added
    };
    if pending > 0 || added > 0 {
        emit_event(&RewardsCompounded {
            node: loader.key(),
            amount: added,
            pool_amount: node.delegation.amount,
        });
    }
    Ok(added)
}
