//! `open_dispute`: a staked node challenges a solved job within its
//! challenge window (held or already paid), posting a bond. The number of
//! active nodes and the time are snapshotted: only nodes active before the
//! dispute may vote. Commit phase, then reveal phase.

use anchor_lang::prelude::*;
use anchor_spl::token::{Token, TokenAccount};

use crate::constants::{CONFIG_SEED, DISPUTE_SEED, NODE_SEED};
use crate::errors::VerdictError;
use crate::events::{emit_event, DisputeOpened};
use crate::math::{add, add_secs};
use crate::state::{Config, Dispute, Job, JobStatus, Node};
use crate::token_ops;

#[derive(Accounts)]
pub struct OpenDispute<'info> {
    #[account(mut)]
    pub operator: Signer<'info>,
    #[account(mut, seeds = [CONFIG_SEED], bump = config.bump)]
    pub config: Box<Account<'info, Config>>,
    #[account(
        seeds = [NODE_SEED, operator.key().as_ref()],
        bump = challenger.bump,
        has_one = operator @ VerdictError::Unauthorized,
    )]
    pub challenger: Box<Account<'info, Node>>,
    #[account(mut)]
    pub job: Box<Account<'info, Job>>,
    #[account(
        init,
        payer = operator,
        space = 8 + Dispute::INIT_SPACE,
        seeds = [DISPUTE_SEED, job.key().as_ref()],
        bump,
    )]
    pub dispute: Box<Account<'info, Dispute>>,
    #[account(
        mut,
        constraint = operator_tokens.mint == config.stake_mint @ VerdictError::WrongMint,
        constraint = operator_tokens.owner == operator.key() @ VerdictError::WrongTokenOwner,
    )]
    pub operator_tokens: Box<Account<'info, TokenAccount>>,
    #[account(mut, address = config.stake_vault @ VerdictError::WrongVault)]
    pub stake_vault: Box<Account<'info, TokenAccount>>,
    pub token_program: Program<'info, Token>,
    pub system_program: Program<'info, System>,
}

impl OpenDispute<'_> {
    pub fn validate(&self) -> Result<()> {
        let now = Clock::get()?.unix_timestamp;
        let params = &self.config.params;
        self.config.require_not_paused()?;
        require!(self.challenger.activity(params).active, VerdictError::ChallengerNotActive);
        let job = &self.job;
        require!(matches!(job.status, JobStatus::Solved | JobStatus::Paid), VerdictError::NotChallengeable);
        let window = (params.challenge_window_epochs as i64)
            .checked_mul(params.epoch_secs)
            .ok_or(VerdictError::MathOverflow)?;
        require!(now < job.solved_at.saturating_add(window), VerdictError::NotChallengeable);
        Ok(())
    }
}

pub fn handler(ctx: Context<OpenDispute>) -> Result<()> {
    let clock = Clock::get()?;
    let a = &mut *ctx.accounts;
    let bond = a.config.params.dispute_bond;
    token_ops::deposit(&a.token_program, &a.operator_tokens, &a.stake_vault.to_account_info(), &a.operator, bond)?;
    let config = &mut a.config;
    config.totals.disputes = add(config.totals.disputes, bond)?;
    let commit_end = add_secs(clock.unix_timestamp, config.params.vote_commit_secs)?;
    let reveal_end = add_secs(commit_end, config.params.vote_reveal_secs)?;
    let job = &mut a.job;
    job.dispute_open = true;
    a.dispute.set_inner(Dispute::open(
        job.key(),
        a.challenger.key(),
        a.operator.key(),
        bond,
        job.miner,
        job.output_hash,
        (clock.unix_timestamp, clock.slot),
        (commit_end, reveal_end),
        config.active_nodes,
        job.accountable_signers(),
        ctx.bumps.dispute,
    ));
    emit_event(&DisputeOpened {
        dispute: a.dispute.key(),
        job: job.key(),
        challenger: a.challenger.key(),
        bond,
        active_snapshot: config.active_nodes,
        commit_end,
        reveal_end,
    });
    Ok(())
}
