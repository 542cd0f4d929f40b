//! `fund_reward_pool`: anyone (a treasury, a sponsor) adds tokens to the
//! reward pool that pays Tier 1 boosts. Slashes and forfeits also land there.

use anchor_lang::prelude::*;
use anchor_spl::token::Token;

use crate::constants::{CONFIG_ADDRESS, STAKE_VAULT_ADDRESS};
use crate::errors::VerdictError;
use crate::events::{emit_event, RewardPoolFunded};
use crate::math::add;
use crate::state::Config;
use crate::token_ops;

#[derive(Accounts)]
pub struct FundRewardPool<'info> {
    pub funder: Signer<'info>,
    #[account(mut, address = CONFIG_ADDRESS)]
    pub config: AccountLoader<'info, Config>,
    /// The funder's token account of the stake mint.
    /// CHECK: its mint and owner read from its bytes (`token_ops`).
    #[account(
        mut,
        constraint = token_ops::mint_of(&funder_tokens)? == config.load()?.stake_mint @ VerdictError::WrongMint,
        constraint = token_ops::owner_of(&funder_tokens)? == funder.key() @ VerdictError::WrongTokenOwner,
    )]
    pub funder_tokens: UncheckedAccount<'info>,
    /// The stake vault (a token account `initialize_config` created).
    /// CHECK: bound by its compile-time address (see `token_ops`).
    #[account(mut, address = STAKE_VAULT_ADDRESS @ VerdictError::WrongVault)]
    pub stake_vault: UncheckedAccount<'info>,
    pub token_program: Program<'info, Token>,
}

impl FundRewardPool<'_> {
    pub fn validate(&self, amount: u64) -> Result<()> {
        self.config.load()?.require_not_paused()?;
        require!(amount > 0, VerdictError::ZeroAmount);
        Ok(())
    }
}

pub fn handler(ctx: Context<FundRewardPool>, amount: u64) -> Result<()> {
    let a = &mut *ctx.accounts;
    token_ops::deposit(
        &a.token_program,
        &a.funder_tokens,
        &a.stake_vault,
        &a.funder,
        amount,
    )?;
    let mut config = a.config.load_mut()?;
    config.totals.reward_pool = add(config.totals.reward_pool, amount)?;
    drop(config);
    emit_event(&RewardPoolFunded {
        funder: a.funder.key(),
        amount,
        reward_pool: a.config.load()?.totals.reward_pool,
    });
    Ok(())
}
