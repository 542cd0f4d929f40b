//! A pending withdrawal: shares of a node's unbonding pool, released to its
//! owner after the unbonding period, slashable until then.

use anchor_lang::prelude::*;

use super::{Node, Redeemed};
use crate::errors::VerdictError;

#[derive(AnchorSerialize, AnchorDeserialize, Clone, Copy, Debug, PartialEq, Eq, InitSpace)]
pub enum TicketKind {
    /// The operator's own stake.
    SelfStake,
    /// A delegator's stake.
    Delegation,
}

#[account]
#[derive(InitSpace, Debug)]
pub struct UnbondTicket {
    pub node: Pubkey,
    pub owner: Pubkey,
    pub kind: TicketKind,
    pub id: u64,
    /// Shares of the node's unbonding pool.
    pub shares: u64,
    /// Tokens the ticket was worth when queued (before any slash).
    pub requested_amount: u64,
    pub release_at: i64,
    pub bump: u8,
}

impl UnbondTicket {
    /// Redeems the ticket from the node's unbonding pool once released.
    pub fn redeem(&self, node: &mut Node, kind: TicketKind, now: i64) -> Result<Redeemed> {
        require!(self.kind == kind, VerdictError::WrongTicketKind);
        require!(now >= self.release_at, VerdictError::UnbondingNotReleased);
        if self.shares == 0 {
            // Queued from a delegation slashed to nothing: only the rent is left.
            return Ok(Redeemed { value: 0, dust: 0 });
        }
        node.unbonding.redeem(self.shares)
    }
}
