//! Proof that a validator's missed deadline on a job was already counted.

use anchor_lang::prelude::*;

#[account]
#[derive(InitSpace, Debug)]
pub struct TimeoutReport {
    pub validator: Pubkey,
    pub job: Pubkey,
    pub epoch: u64,
    pub reported_at: i64,
    pub bump: u8,
}
