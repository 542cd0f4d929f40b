//! `resolve_dispute`: permissionless once the vote is over. R, the most
//! frequent revealed result with n votes, stands against the m other votes
//! when n > min(10·m, 66% of the active nodes at opening); otherwise the
//! dispute ends unresolved and nobody is liquidated.
//!
//! - Upheld (R = the job's output): the challenger's bond goes to the
//!   correct voters' pool; voters against R are to be liquidated.
//! - Overturned (R ≠ the job's output): the bond is returned; the miner, the
//!   outcome's signers and voters against R are to be liquidated; the client
//!   gets its fee back — at once from the held escrow, or from the miner's
//!   liquidated stake when the payout was already made.
//! - Unresolved: the bond is returned; the held payout is released normally.

use anchor_lang::prelude::*;
use anchor_spl::token::{Token, TokenAccount};

use crate::constants::{CONFIG_SEED, ESCROW_SEED};
use crate::errors::VerdictError;
use crate::events::{emit_event, DisputeResolved};
use crate::instructions::fail_job::refund;
use crate::math::{add, sub};
use crate::state::{Config, Dispute, DisputeStatus, Job, JobStatus, Verdict};
use crate::token_ops;

#[derive(Accounts)]
pub struct ResolveDispute<'info> {
    #[account(mut, seeds = [CONFIG_SEED], bump = config.bump)]
    pub config: Box<Account<'info, Config>>,
    #[account(mut)]
    pub dispute: Box<Account<'info, Dispute>>,
    #[account(mut, address = dispute.job @ VerdictError::InvalidDisputeState)]
    pub job: Box<Account<'info, Job>>,
    #[account(mut, seeds = [ESCROW_SEED, job.key().as_ref()], bump = job.escrow_bump)]
    pub escrow: Box<Account<'info, TokenAccount>>,
    #[account(mut, address = job.refund_account @ VerdictError::WrongDestination)]
    pub refund_account: Box<Account<'info, TokenAccount>>,
    #[account(
        mut,
        constraint = challenger_tokens.owner == dispute.challenger_operator @ VerdictError::WrongDestination,
        constraint = challenger_tokens.mint == config.stake_mint @ VerdictError::WrongMint,
    )]
    pub challenger_tokens: Box<Account<'info, TokenAccount>>,
    #[account(mut, address = config.stake_vault @ VerdictError::WrongVault)]
    pub stake_vault: Box<Account<'info, TokenAccount>>,
    pub token_program: Program<'info, Token>,
}

impl ResolveDispute<'_> {
    pub fn validate(&self) -> Result<()> {
        let now = Clock::get()?.unix_timestamp;
        require!(self.dispute.status == DisputeStatus::Voting, VerdictError::InvalidDisputeState);
        require!(now >= self.dispute.reveal_end, VerdictError::VoteNotOver);
        Ok(())
    }
}

pub fn handler(ctx: Context<ResolveDispute>) -> Result<()> {
    let a = &mut *ctx.accounts;
    let params = a.config.params.clone();
    let verdict = a.dispute.decide(params.liquidation_multiplier, params.liquidation_active_bps);
    let bond = a.dispute.bond;
    let return_bond = |a: &mut ResolveDispute<'_>| -> Result<()> {
        a.config.totals.disputes = sub(a.config.totals.disputes, bond)?;
        token_ops::pay_from_stake_vault(
            &a.token_program,
            &a.stake_vault,
            &a.challenger_tokens.to_account_info(),
            &a.config,
            bond,
        )
    };
    match verdict {
        Verdict::Unresolved { n, m } => {
            return_bond(a)?;
            let d = &mut a.dispute;
            (d.status, d.n, d.m) = (DisputeStatus::Unresolved, n, m);
        }
        Verdict::Stands { result, n, m } => {
            let upheld = result == a.dispute.original_output;
            let d = &mut a.dispute;
            (d.result, d.n, d.m) = (result, n, m);
            if upheld {
                d.status = DisputeStatus::Upheld;
                d.pool = add(d.pool, bond)?;
                d.pending_liquidations = m;
            } else {
                d.status = DisputeStatus::Overturned;
                d.pending_liquidations = m + 1 + d.signer_count as u32;
                match a.job.status {
                    // The payout is still held: the client's whole fee goes back now.
                    JobStatus::Solved => {
                        refund(&mut a.job, &a.escrow, &a.refund_account, &a.token_program, JobStatus::Refunded)?
                    }
                    // Already paid: refunded from the miner's liquidated stake.
                    _ => a.dispute.refund_owed = a.job.price,
                }
                return_bond(a)?;
            }
            if a.dispute.pending_liquidations == 0 {
                let dust = a.dispute.finalize_rewards();
                let totals = &mut a.config.totals;
                totals.disputes = sub(totals.disputes, dust)?;
                totals.reward_pool = add(totals.reward_pool, dust)?;
            }
        }
    }
    a.job.dispute_open = false;
    let d = &a.dispute;
    emit_event(&DisputeResolved {
        dispute: d.key(),
        status: d.status,
        result: d.result,
        n: d.n,
        m: d.m,
        pending_liquidations: d.pending_liquidations,
    });
    Ok(())
}
