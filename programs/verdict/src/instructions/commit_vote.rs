//! `commit_vote`: during the commit phase, an eligible node (active and
//! staked before the dispute opened, not a party to it, holding at least
//! one vote unit of slashable stake) commits to the hash of its result and
//! posts the vote deposit; its weight is its stake in vote units. One vote
//! per node and dispute (the Vote account's address).

use anchor_lang::prelude::*;
use anchor_spl::token::Token;

use crate::constants::{CONFIG_ADDRESS, STAKE_VAULT_ADDRESS, VOTE_SEED};
use crate::errors::VerdictError;
use crate::events::{emit_event, VoteCommitted};
use crate::math::add;
use crate::state::{Config, Dispute, DisputeStatus, Node, Vote};
use crate::token_ops;

#[derive(Accounts)]
pub struct CommitVote<'info> {
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
        init,
        payer = operator,
        space = Vote::SPACE,
        seeds = [VOTE_SEED, dispute.key().as_ref(), voter.key().as_ref()],
        bump,
    )]
    pub vote: AccountLoader<'info, Vote>,
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

impl CommitVote<'_> {
    /// The voter's weight, once every eligibility rule passed.
    pub fn validate(&self) -> Result<u64> {
        let now = Clock::get()?.unix_timestamp;
        let config = self.config.load()?;
        config.require_not_paused()?;
        let params = &config.params;
        let d = self.dispute.load()?;
        require!(
            d.status() == DisputeStatus::Voting && now < d.commit_end,
            VerdictError::NotCommitPhase
        );
        require!(
            !d.is_party(&self.voter.key()),
            VerdictError::PartyCannotVote
        );
        let v = self.voter.load()?;
        let eligible = v.activity(params).active
            && v.counted_active()
            && v.active_since < d.opened_at
            && v.registered_at < d.opened_at;
        require!(eligible, VerdictError::NotEligibleVoter);
        let weight = params.vote_weight(v.slashable_stake()?);
        require!(weight > 0, VerdictError::NotEligibleVoter);
        Ok(weight)
    }
}

pub fn handler(ctx: Context<CommitVote>, commitment: [u8; 32]) -> Result<()> {
    let weight = ctx.accounts.validate()?;
    let a = &mut *ctx.accounts;
    let deposit = a.config.load()?.params.vote_deposit;
    token_ops::deposit(
        &a.token_program,
        &a.operator_tokens,
        &a.stake_vault,
        &a.operator,
        deposit,
    )?;
    let mut config = a.config.load_mut()?;
    config.totals.disputes = add(config.totals.disputes, deposit)?;
    drop(config);
    {
        let mut dispute = a.dispute.load_mut()?;
        dispute.commits += 1;
        dispute.deposits_held = add(dispute.deposits_held, deposit)?;
    }
    let mut voter = a.voter.load_mut()?;
    voter.count_open_disputes(1);
    drop(voter);
    {
        let mut vote = a.vote.load_init()?;
        vote.dispute = a.dispute.key();
        vote.voter = a.voter.key();
        vote.commitment = commitment;
        vote.weight = weight;
        vote.deposit = deposit;
        vote.bump = ctx.bumps.vote;
    }
    emit_event(&VoteCommitted {
        dispute: a.dispute.key(),
        voter: a.voter.key(),
        weight,
        deposit,
    });
    Ok(())
}
