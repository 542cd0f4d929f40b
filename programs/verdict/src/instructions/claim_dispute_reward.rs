//! `claim_dispute_reward`: once every liquidation of a decided dispute is
//! done, each correct voter claims its share of the pool, pro rata to its
//! vote weight (the last claim takes the rounding dust); the Vote account
//! closes and its rent goes back to the operator.

use anchor_lang::prelude::*;
use anchor_spl::token::Token;

use crate::constants::{CONFIG_ADDRESS, STAKE_VAULT_ADDRESS};
use crate::errors::VerdictError;
use crate::events::{emit_event, DisputeRewardClaimed};
use crate::math::sub;
use crate::state::{Config, Dispute, Node, Vote};
use crate::token_ops;

#[derive(Accounts)]
pub struct ClaimDisputeReward<'info> {
    #[account(mut)]
    pub operator: Signer<'info>,
    #[account(mut, address = CONFIG_ADDRESS)]
    pub config: AccountLoader<'info, Config>,
    /// The signer's own Node: `has_one` binds it (a Node exists only at its PDA).
    #[account(
        mut,
        has_one = operator @ VerdictError::Unauthorized,
    )]
    pub voter: AccountLoader<'info, Node>,
    #[account(mut)]
    pub dispute: AccountLoader<'info, Dispute>,
    #[account(
        mut,
        close = operator,
        constraint = vote.load()?.is_of(&dispute.key(), &voter.key()) @ VerdictError::WrongVote,
    )]
    pub vote: AccountLoader<'info, Vote>,
    /// The operator's token account of the stake mint.
    /// CHECK: its mint and owner read from its bytes (`token_ops`).
    #[account(
        mut,
        constraint = token_ops::owner_of(&operator_tokens)? == operator.key() @ VerdictError::WrongDestination,
        constraint = token_ops::mint_of(&operator_tokens)? == config.load()?.stake_mint @ VerdictError::WrongMint,
    )]
    pub operator_tokens: UncheckedAccount<'info>,
    /// The stake vault (a token account `initialize_config` created).
    /// CHECK: bound by its compile-time address (see `token_ops`).
    #[account(mut, address = STAKE_VAULT_ADDRESS @ VerdictError::WrongVault)]
    pub stake_vault: UncheckedAccount<'info>,
    pub token_program: Program<'info, Token>,
}

impl ClaimDisputeReward<'_> {
    pub fn validate(&self) -> Result<()> {
        self.config.load()?.require_not_paused()?;
        let d = self.dispute.load()?;
        require!(d.decided(), VerdictError::InvalidDisputeState);
        require!(
            d.pending_liquidations == 0,
            VerdictError::LiquidationsPending
        );
        let v = self.vote.load()?;
        require!(d.vote_rewarded(&v), VerdictError::NoRewardDue);
        Ok(())
    }
}

pub fn handler(ctx: Context<ClaimDisputeReward>) -> Result<()> {
    let a = &mut *ctx.accounts;
    let amount = {
        let mut dispute = a.dispute.load_mut()?;
        let amount = dispute.reward_for(a.vote.load()?.weight);
        dispute.claims += 1;
        dispute.pool = sub(dispute.pool, amount)?;
        amount
    };
    a.vote.load_mut()?.set_claimed();
    let mut voter = a.voter.load_mut()?;
    voter.count_open_disputes(-1);
    drop(voter);
    let mut config = a.config.load_mut()?;
    config.totals.disputes = sub(config.totals.disputes, amount)?;
    drop(config);
    token_ops::pay_from_stake_vault(
        &a.token_program,
        &a.stake_vault,
        &a.operator_tokens,
        &a.config,
        amount,
    )?;
    emit_event(&DisputeRewardClaimed {
        dispute: a.dispute.key(),
        voter: a.voter.key(),
        amount,
    });
    Ok(())
}
