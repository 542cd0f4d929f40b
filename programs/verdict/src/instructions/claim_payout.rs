//! `claim_payout`: permissionless once the payout's hold is over. The price,
//! less the co-signers' fee (kept in the escrow until the job closes), is
//! split between the miner's operator (credited to the node's `owed`) and
//! its delegators (their part waits in the node vault for
//! `compound_rewards`); the rest of the max fee goes back to the client; a
//! Tier 1 miner's boost is credited to the node (paid by `claim_boost` from
//! the reward pool, so this path never locks the shared stake vault). A
//! liquidated miner forfeits the payout: the client gets its whole fee back.

use anchor_lang::prelude::*;
use anchor_spl::token::Token;

use crate::constants::CONFIG_ADDRESS;
use crate::errors::VerdictError;
use crate::events::{emit_event, PayoutClaimed};
use crate::instructions::fail_job::refund;
use crate::math::{add, apply_bps, sub};
use crate::state::{Config, Job, JobStatus, Node, NodeStatus};
use crate::token_ops;

#[derive(Accounts)]
pub struct ClaimPayout<'info> {
    #[account(address = CONFIG_ADDRESS)]
    pub config: AccountLoader<'info, Config>,
    #[account(mut)]
    pub job: AccountLoader<'info, Job>,
    #[account(mut, address = job.load()?.miner @ VerdictError::WrongMiner)]
    pub miner: AccountLoader<'info, Node>,
    /// The job's escrow (a token account `submit_job` created).
    /// CHECK: bound by the address its Job records (see `token_ops`).
    #[account(mut, address = job.load()?.escrow @ VerdictError::WrongVault)]
    pub escrow: UncheckedAccount<'info>,
    /// The node's vault (a token account `register_node` created).
    /// CHECK: bound by the address its Node records (see `token_ops`).
    #[account(mut, address = miner.load()?.vault @ VerdictError::WrongVault)]
    pub node_vault: UncheckedAccount<'info>,
    /// CHECK: the job's recorded refund account (a closed one keeps the refund claimable).
    #[account(mut, address = job.load()?.refund_account @ VerdictError::WrongDestination)]
    pub refund_account: UncheckedAccount<'info>,
    pub token_program: Program<'info, Token>,
}

impl ClaimPayout<'_> {
    pub fn validate(&self) -> Result<()> {
        let now = Clock::get()?.unix_timestamp;
        self.config.load()?.require_not_paused()?;
        let job = self.job.load()?;
        require!(
            job.status() == JobStatus::Solved,
            VerdictError::InvalidJobState
        );
        require!(!job.dispute_open(), VerdictError::DisputeOpen);
        require!(now >= job.release_at, VerdictError::PayoutNotReleased);
        Ok(())
    }
}

pub fn handler(ctx: Context<ClaimPayout>) -> Result<()> {
    let a = &mut *ctx.accounts;
    let config = a.config.load()?;
    let (params, mint) = (&config.params, config.stake_mint);
    if a.miner.load()?.status() == NodeStatus::Liquidated {
        return refund(
            &a.job,
            &a.escrow,
            &a.refund_account,
            &a.token_program,
            &mint,
            JobStatus::Refunded,
        );
    }
    let (price, max_fee, signed, seeds) = {
        let job = a.job.load()?;
        (job.price, job.max_fee, job.signer_count > 0, job.seeds())
    };
    let client_refund = sub(max_fee, price)?;
    let validator_fee = if signed {
        apply_bps(price, params.validator_fee_bps)?
    } else {
        0
    };
    let earned = sub(price, validator_fee)?;
    let (split, boost, boost_split) = {
        let miner = a.miner.load()?;
        let boost = apply_bps(price, miner.reputation.boost_bps(params))?;
        (
            miner.split_reward(earned)?,
            boost,
            miner.split_reward(boost)?,
        )
    };

    let escrow = a.escrow.to_account_info();
    let job_info = a.job.to_account_info();
    token_ops::pay_from_escrow(
        &a.token_program,
        &escrow,
        &a.node_vault,
        &job_info,
        &seeds,
        earned,
    )?;
    token_ops::refund_from_escrow(
        &a.token_program,
        &escrow,
        &a.refund_account,
        &a.job,
        &mint,
        client_refund,
    )?;

    let mut miner = a.miner.load_mut()?;
    miner.owed = add(miner.owed, split.operator)?;
    miner.pending_delegator_rewards = add(miner.pending_delegator_rewards, split.delegators)?;
    miner.boost_owed = add(miner.boost_owed, boost)?;
    miner.delegator_boost_owed = add(miner.delegator_boost_owed, boost_split.delegators)?;
    miner.total_earned = add(miner.total_earned, earned)?;
    let mut job = a.job.load_mut()?;
    job.fee_held = validator_fee;
    job.set_status(JobStatus::Paid);
    emit_event(&PayoutClaimed {
        job: a.job.key(),
        miner: a.miner.key(),
        operator_amount: split.operator,
        delegator_amount: split.delegators,
        client_refund,
        boost_owed: boost,
        validator_fee,
    });
    Ok(())
}
