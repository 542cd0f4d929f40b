//! `claim_payout`: permissionless once the payout's hold is over. The price
//! is split between the miner's operator and its delegators (their part
//! waits in the node vault for `compound_rewards`); the rest of the max fee
//! goes back to the client; a Tier 1 miner's boost is credited to the node
//! (paid by `claim_boost` from the reward pool, so this path never locks the
//! shared stake vault).

use anchor_lang::prelude::*;
use anchor_spl::token::{Token, TokenAccount};

use crate::constants::{CONFIG_ADDRESS, ESCROW_SEED, NODE_VAULT_SEED};
use crate::errors::VerdictError;
use crate::events::{emit_event, PayoutClaimed};
use crate::math::{add, apply_bps, sub};
use crate::state::{Config, Job, JobStatus, Node};
use crate::token_ops;

#[derive(Accounts)]
pub struct ClaimPayout<'info> {
    #[account(address = CONFIG_ADDRESS)]
    pub config: Box<Account<'info, Config>>,
    #[account(mut)]
    pub job: Box<Account<'info, Job>>,
    #[account(mut, address = job.miner @ VerdictError::WrongMiner)]
    pub miner: Box<Account<'info, Node>>,
    #[account(mut, seeds = [ESCROW_SEED, job.key().as_ref()], bump = job.escrow_bump)]
    pub escrow: Box<Account<'info, TokenAccount>>,
    #[account(
        mut,
        constraint = operator_tokens.owner == miner.operator @ VerdictError::WrongDestination,
        constraint = operator_tokens.mint == config.stake_mint @ VerdictError::WrongMint,
    )]
    pub operator_tokens: Box<Account<'info, TokenAccount>>,
    #[account(mut, seeds = [NODE_VAULT_SEED, miner.key().as_ref()], bump = miner.vault_bump)]
    pub node_vault: Box<Account<'info, TokenAccount>>,
    #[account(mut, address = job.refund_account @ VerdictError::WrongDestination)]
    pub refund_account: Box<Account<'info, TokenAccount>>,
    pub token_program: Program<'info, Token>,
}

impl ClaimPayout<'_> {
    pub fn validate(&self) -> Result<()> {
        let now = Clock::get()?.unix_timestamp;
        self.config.require_not_paused()?;
        require!(self.job.status == JobStatus::Solved, VerdictError::InvalidJobState);
        require!(!self.job.dispute_open, VerdictError::DisputeOpen);
        require!(now >= self.job.release_at, VerdictError::PayoutNotReleased);
        Ok(())
    }
}

pub fn handler(ctx: Context<ClaimPayout>) -> Result<()> {
    let a = &mut *ctx.accounts;
    let params = &a.config.params;
    let price = a.job.price;
    let refund = sub(a.job.max_fee, price)?;
    let split = a.miner.split_reward(price)?;
    let boost = apply_bps(price, a.miner.reputation.boost_bps(params))?;

    let escrow = a.escrow.to_account_info();
    let job_info = a.job.to_account_info();
    for (to, amount) in [
        (a.operator_tokens.to_account_info(), split.operator),
        (a.node_vault.to_account_info(), split.delegators),
        (a.refund_account.to_account_info(), refund),
    ] {
        token_ops::pay_from_escrow(&a.token_program, &escrow, &to, &job_info, &a.job, amount)?;
    }

    let miner = &mut a.miner;
    miner.pending_delegator_rewards = add(miner.pending_delegator_rewards, split.delegators)?;
    miner.boost_owed = add(miner.boost_owed, boost)?;
    miner.total_earned = add(miner.total_earned, price)?;
    a.job.status = JobStatus::Paid;
    emit_event(&PayoutClaimed {
        job: a.job.key(),
        miner: miner.key(),
        operator_amount: split.operator,
        delegator_amount: split.delegators,
        client_refund: refund,
        boost_owed: boost,
    });
    Ok(())
}
