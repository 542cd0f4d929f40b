//! `reveal_vote`: during the reveal phase, the voter opens its commitment
//! (result and salt); the result joins the tally with the voter's weight
//! (its weight at commit, lowered if its stake has fallen since), and the
//! deposit goes back to the operator.

use anchor_lang::prelude::*;
use anchor_spl::token::Token;

use crate::constants::{CONFIG_ADDRESS, STAKE_VAULT_ADDRESS};
use crate::errors::VerdictError;
use crate::events::{emit_event, VoteRevealed};
use crate::math::sub;
use crate::state::{vote_commitment, Config, Dispute, DisputeStatus, Node, Vote};
use crate::token_ops;

#[derive(Accounts)]
pub struct RevealVote<'info> {
    pub operator: Signer<'info>,
    #[account(mut, address = CONFIG_ADDRESS)]
    pub config: AccountLoader<'info, Config>,
    /// The signer's own Node: `has_one` binds it (a Node exists only at its PDA).
    #[account(
        has_one = operator @ VerdictError::Unauthorized,
    )]
    pub voter: AccountLoader<'info, Node>,
    #[account(mut)]
    pub dispute: AccountLoader<'info, Dispute>,
    #[account(mut, constraint = vote.load()?.is_of(&dispute.key(), &voter.key()) @ VerdictError::WrongVote)]
    pub vote: AccountLoader<'info, Vote>,
    /// The operator's token account of the stake mint.
    /// CHECK: its mint and owner read from its bytes (`token_ops`).
    #[account(
        mut,
        constraint = token_ops::mint_of(&operator_tokens)? == config.load()?.stake_mint @ VerdictError::WrongMint,
        constraint = token_ops::owner_of(&operator_tokens)? == operator.key() @ VerdictError::WrongDestination,
    )]
    pub operator_tokens: UncheckedAccount<'info>,
    /// The stake vault (a token account `initialize_config` created).
    /// CHECK: bound by its compile-time address (see `token_ops`).
    #[account(mut, address = STAKE_VAULT_ADDRESS @ VerdictError::WrongVault)]
    pub stake_vault: UncheckedAccount<'info>,
    pub token_program: Program<'info, Token>,
}

impl RevealVote<'_> {
    pub fn validate(&self, result: &[u8; 32], salt: &[u8; 32]) -> Result<()> {
        let now = Clock::get()?.unix_timestamp;
        self.config.load()?.require_not_paused()?;
        let d = self.dispute.load()?;
        require!(
            d.status() == DisputeStatus::Voting && now >= d.commit_end && now < d.reveal_end,
            VerdictError::NotRevealPhase
        );
        let vote = self.vote.load()?;
        require!(!vote.revealed(), VerdictError::AlreadyRevealed);
        require!(
            vote_commitment(result, salt, &self.voter.key()) == vote.commitment,
            VerdictError::RevealMismatch
        );
        Ok(())
    }
}

pub fn handler(ctx: Context<RevealVote>, result: [u8; 32], _salt: [u8; 32]) -> Result<()> {
    let a = &mut *ctx.accounts;
    let mut vote = a.vote.load_mut()?;
    let weight = vote.weight.min(
        a.config
            .load()?
            .params
            .vote_weight(a.voter.load()?.slashable_stake()?),
    );
    vote.set_revealed();
    vote.result = result;
    vote.weight = weight;
    let deposit = vote.deposit;
    drop(vote);
    {
        let mut dispute = a.dispute.load_mut()?;
        // A voter slashed below one unit since its commit no longer counts.
        if weight > 0 {
            dispute.count(result, weight);
        }
        dispute.deposits_held = sub(dispute.deposits_held, deposit)?;
    }
    let mut config = a.config.load_mut()?;
    config.totals.disputes = sub(config.totals.disputes, deposit)?;
    drop(config);
    token_ops::pay_from_stake_vault(
        &a.token_program,
        &a.stake_vault,
        &a.operator_tokens,
        &a.config,
        deposit,
    )?;
    emit_event(&VoteRevealed {
        dispute: a.dispute.key(),
        voter: a.voter.key(),
        result,
        weight,
    });
    Ok(())
}
