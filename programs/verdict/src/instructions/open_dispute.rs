//! `open_dispute`: a staked node challenges a solved job within its
//! challenge window (held or already paid), naming the result it
//! recomputed and posting a bond of max(min_bond, price × bond_multiple).
//! The active vote weight and the time are snapshotted: only nodes active
//! before the dispute may vote. Commit phase, then reveal phase. One dispute
//! per job (its address). The parties (miner, challenger, the accountable
//! co-signers, passed as remaining accounts in the job's order) cannot close
//! their nodes until it is settled.

use anchor_lang::prelude::*;
use anchor_spl::token::Token;

use crate::constants::{CONFIG_ADDRESS, DISPUTE_SEED, STAKE_VAULT_ADDRESS};
use crate::errors::VerdictError;
use crate::events::{emit_event, DisputeOpened};
use crate::math::{add, add_secs};
use crate::state::{Config, Dispute, DisputeOpening, Job, JobStatus, Node};
use crate::token_ops;

#[derive(Accounts)]
pub struct OpenDispute<'info> {
    #[account(mut)]
    pub operator: Signer<'info>,
    #[account(mut, address = CONFIG_ADDRESS)]
    pub config: AccountLoader<'info, Config>,
    /// The signer's own Node: `has_one` binds it (a Node exists only at its PDA).
    #[account(
        mut,
        has_one = operator @ VerdictError::Unauthorized,
        constraint = challenger.key() != miner.key() @ VerdictError::PartyCannotVote,
    )]
    pub challenger: AccountLoader<'info, Node>,
    #[account(mut)]
    pub job: AccountLoader<'info, Job>,
    #[account(mut, address = job.load()?.miner @ VerdictError::WrongMiner)]
    pub miner: AccountLoader<'info, Node>,
    #[account(
        init,
        payer = operator,
        space = Dispute::SPACE,
        seeds = [DISPUTE_SEED, job.key().as_ref()],
        bump,
    )]
    pub dispute: AccountLoader<'info, Dispute>,
    /// The operator's token account of the stake mint.
    /// CHECK: its mint and owner read from its bytes (`token_ops`).
    #[account(
        mut,
        constraint = token_ops::mint_of(&operator_tokens)? == config.load()?.stake_mint @ VerdictError::WrongMint,
        constraint = token_ops::owner_of(&operator_tokens)? == operator.key() @ VerdictError::WrongTokenOwner,
    )]
    pub operator_tokens: UncheckedAccount<'info>,
    /// The stake vault (a token account `initialize_config` created).
    /// CHECK: bound by its compile-time address (see `token_ops`).
    #[account(mut, address = STAKE_VAULT_ADDRESS @ VerdictError::WrongVault)]
    pub stake_vault: UncheckedAccount<'info>,
    pub token_program: Program<'info, Token>,
    pub system_program: Program<'info, System>,
}

impl OpenDispute<'_> {
    pub fn validate(&self, now: i64, challenger_result: &[u8; 32]) -> Result<()> {
        let config = self.config.load()?;
        config.require_not_paused()?;
        let params = &config.params;
        require!(
            self.challenger.load()?.activity(params).active,
            VerdictError::ChallengerNotActive
        );
        let job = self.job.load()?;
        require!(
            matches!(job.status(), JobStatus::Solved | JobStatus::Paid),
            VerdictError::NotChallengeable
        );
        require!(
            !job.challenge_window_over(now, params),
            VerdictError::NotChallengeable
        );
        require!(
            *challenger_result != job.output_hash,
            VerdictError::SameResult
        );
        // A co-signer who answers for the outcome cannot challenge it either.
        let (signers, count) = job.accountable_signers();
        require!(
            !signers[..count as usize].contains(&self.challenger.key()),
            VerdictError::PartyCannotVote
        );
        Ok(())
    }
}

/// Moves each accountable signer's open-dispute count by `delta`; the
/// remaining accounts must be those signers, writable, in the recorded order.
pub fn count_signers<'info>(
    remaining: &'info [AccountInfo<'info>],
    signers: &[Pubkey],
    delta: i64,
) -> Result<()> {
    require!(remaining.len() == signers.len(), VerdictError::WrongSigners);
    for (info, expected) in remaining.iter().zip(signers) {
        require_keys_eq!(*info.key, *expected, VerdictError::WrongSigners);
        require!(info.is_writable, VerdictError::WrongSigners);
        let node = AccountLoader::<Node>::try_from(info)?;
        let mut node = node.load_mut()?;
        node.count_open_disputes(delta);
    }
    Ok(())
}

pub fn handler<'info>(
    ctx: Context<'info, OpenDispute<'info>>,
    challenger_result: [u8; 32],
) -> Result<()> {
    let clock = Clock::get()?;
    ctx.accounts
        .validate(clock.unix_timestamp, &challenger_result)?;
    let a = &mut *ctx.accounts;
    let mut config = a.config.load_mut()?;
    let params = &config.params;
    let bond = params.dispute_bond(a.job.load()?.price);
    let totals = &config.totals;
    let staked = add(add(totals.self_stake, totals.delegated)?, totals.unbonding)?;
    let active_weight = params.vote_weight(staked);
    let commit_end = add_secs(clock.unix_timestamp, params.vote_commit_secs)?;
    let reveal_end = add_secs(commit_end, params.vote_reveal_secs)?;
    token_ops::deposit(
        &a.token_program,
        &a.operator_tokens,
        &a.stake_vault,
        &a.operator,
        bond,
    )?;
    config.totals.disputes = add(config.totals.disputes, bond)?;
    drop(config);
    let job_key = a.job.key();
    let (miner, disputed_output, signers) = {
        let mut job = a.job.load_mut()?;
        job.set_dispute_open(true);
        (job.miner, job.output_hash, job.accountable_signers())
    };
    count_signers(ctx.remaining_accounts, &signers.0[..signers.1 as usize], 1)?;
    for party in [&a.challenger, &a.miner] {
        let mut node = party.load_mut()?;
        node.count_open_disputes(1);
    }
    let opening = DisputeOpening {
        job: job_key,
        challenger: a.challenger.key(),
        challenger_operator: a.operator.key(),
        bond,
        miner,
        disputed_output,
        challenger_result,
        active_weight,
        signers,
    };
    a.dispute.load_init()?.open(
        opening,
        (clock.unix_timestamp, clock.slot),
        (commit_end, reveal_end),
        ctx.bumps.dispute,
    );
    emit_event(&DisputeOpened {
        dispute: a.dispute.key(),
        job: job_key,
        challenger: a.challenger.key(),
        miner,
        bond,
        disputed_output,
        challenger_result,
        active_weight,
        commit_end,
        reveal_end,
    });
    Ok(())
}
