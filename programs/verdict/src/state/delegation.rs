//! One staker's delegation to one node: shares of the node's delegation pool.

use anchor_lang::prelude::*;

#[account]
#[derive(InitSpace, Debug)]
pub struct Delegation {
    pub node: Pubkey,
    pub staker: Pubkey,
    pub shares: u64,
    pub bump: u8,
}
