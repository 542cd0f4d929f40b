//! `close_vote`: once a dispute is decided, a voter with nothing left to
//! claim or answer for (never revealed and so forfeited its deposit, voted
//! in an unresolved dispute, or was already liquidated) closes its Vote
//! account, takes the rent back, and frees its node to close. A correct
//! voter closes through `claim_dispute_reward`.

use anchor_lang::prelude::*;

use crate::errors::VerdictError;
use crate::state::{Dispute, Node, Vote};

#[derive(Accounts)]
pub struct CloseVote<'info> {
    #[account(mut)]
    pub operator: Signer<'info>,
    /// The signer's own Node: `has_one` binds it (a Node exists only at its PDA).
    #[account(
        mut,
        has_one = operator @ VerdictError::Unauthorized,
    )]
    pub voter: AccountLoader<'info, Node>,
    pub dispute: AccountLoader<'info, Dispute>,
    #[account(
        mut,
        close = operator,
        constraint = vote.load()?.is_of(&dispute.key(), &voter.key()) @ VerdictError::WrongVote,
    )]
    pub vote: AccountLoader<'info, Vote>,
}

impl CloseVote<'_> {
    pub fn validate(&self) -> Result<()> {
        let (d, v) = (self.dispute.load()?, self.vote.load()?);
        require!(d.vote_settled(&v), VerdictError::VoteNotSettled);
        Ok(())
    }
}

pub fn handler(ctx: Context<CloseVote>) -> Result<()> {
    // A liquidation already released the node's count.
    if !ctx.accounts.vote.load()?.liquidated() {
        let mut voter = ctx.accounts.voter.load_mut()?;
        voter.count_open_disputes(-1);
    }
    Ok(())
}
