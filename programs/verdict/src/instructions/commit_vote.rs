//! `commit_vote`: during the commit phase, an eligible node (active and
//! staked before the dispute opened) commits to the hash of its result; one
//! vote per node and dispute (the Vote account's address).

use anchor_lang::prelude::*;

use crate::constants::{CONFIG_ADDRESS, NODE_SEED, VOTE_SEED};
use crate::errors::VerdictError;
use crate::events::{emit_event, VoteCommitted};
use crate::state::{Config, Dispute, DisputeStatus, Node, Vote};

#[derive(Accounts)]
pub struct CommitVote<'info> {
    #[account(mut)]
    pub operator: Signer<'info>,
    #[account(address = CONFIG_ADDRESS)]
    pub config: Box<Account<'info, Config>>,
    #[account(
        seeds = [NODE_SEED, operator.key().as_ref()],
        bump = voter.bump,
        has_one = operator @ VerdictError::Unauthorized,
    )]
    pub voter: Box<Account<'info, Node>>,
    #[account(mut)]
    pub dispute: Box<Account<'info, Dispute>>,
    #[account(
        init,
        payer = operator,
        space = 8 + Vote::INIT_SPACE,
        seeds = [VOTE_SEED, dispute.key().as_ref(), voter.key().as_ref()],
        bump,
    )]
    pub vote: Box<Account<'info, Vote>>,
    pub system_program: Program<'info, System>,
}

impl CommitVote<'_> {
    pub fn validate(&self) -> Result<()> {
        let now = Clock::get()?.unix_timestamp;
        let d = &self.dispute;
        require!(d.status == DisputeStatus::Voting && now < d.commit_end, VerdictError::NotCommitPhase);
        let v = &self.voter;
        let eligible = v.activity(&self.config.params).active
            && v.counted_active
            && v.active_since < d.opened_at
            && v.registered_at < d.opened_at;
        require!(eligible, VerdictError::NotEligibleVoter);
        Ok(())
    }
}

pub fn handler(ctx: Context<CommitVote>, commitment: [u8; 32]) -> Result<()> {
    let a = &mut *ctx.accounts;
    a.dispute.commits += 1;
    a.vote.set_inner(Vote {
        dispute: a.dispute.key(),
        voter: a.voter.key(),
        commitment,
        revealed: false,
        result: [0; 32],
        liquidated: false,
        claimed: false,
        bump: ctx.bumps.vote,
    });
    emit_event(&VoteCommitted { dispute: a.dispute.key(), voter: a.voter.key() });
    Ok(())
}
