//! `reveal_vote`: during the reveal phase, the voter opens its commitment
//! (result and salt); the result joins the dispute's tally.

use anchor_lang::prelude::*;

use crate::constants::{NODE_SEED, VOTE_SEED};
use crate::errors::VerdictError;
use crate::events::{emit_event, VoteRevealed};
use crate::state::{vote_commitment, Dispute, DisputeStatus, Node, Vote};

#[derive(Accounts)]
pub struct RevealVote<'info> {
    pub operator: Signer<'info>,
    #[account(
        seeds = [NODE_SEED, operator.key().as_ref()],
        bump = voter.bump,
        has_one = operator @ VerdictError::Unauthorized,
    )]
    pub voter: Box<Account<'info, Node>>,
    #[account(mut)]
    pub dispute: Box<Account<'info, Dispute>>,
    #[account(mut, seeds = [VOTE_SEED, dispute.key().as_ref(), voter.key().as_ref()], bump = vote.bump)]
    pub vote: Box<Account<'info, Vote>>,
}

impl RevealVote<'_> {
    pub fn validate(&self, result: &[u8; 32], salt: &[u8; 32]) -> Result<()> {
        let now = Clock::get()?.unix_timestamp;
        let d = &self.dispute;
        require!(
            d.status == DisputeStatus::Voting && now >= d.commit_end && now < d.reveal_end,
            VerdictError::NotRevealPhase
        );
        require!(!self.vote.revealed, VerdictError::AlreadyRevealed);
        require!(
            vote_commitment(result, salt, &self.voter.key()) == self.vote.commitment,
            VerdictError::RevealMismatch
        );
        Ok(())
    }
}

pub fn handler(ctx: Context<RevealVote>, result: [u8; 32], _salt: [u8; 32]) -> Result<()> {
    let a = &mut *ctx.accounts;
    a.vote.revealed = true;
    a.vote.result = result;
    a.dispute.count(result);
    emit_event(&VoteRevealed { dispute: a.dispute.key(), voter: a.voter.key(), result });
    Ok(())
}
