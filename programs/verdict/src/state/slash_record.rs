//! One record per (node, evidence): the audit trail of a slash, whose
//! address makes a replayed attestation fail.

use anchor_lang::prelude::*;

#[derive(AnchorSerialize, AnchorDeserialize, Clone, Copy, Debug, PartialEq, Eq, InitSpace)]
pub enum Offense {
    InvalidSignature,
    Collusion,
    ApproveInvalid,
    Downtime,
    FrontRunning,
}

#[account]
#[derive(InitSpace, Debug)]
pub struct SlashRecord {
    pub node: Pubkey,
    pub offense: Offense,
    pub evidence_hash: [u8; 32],
    pub amount: u64,
    pub at: i64,
    /// False when a Tier 1 node's first downtime offense was forgiven.
    pub applied: bool,
    pub bump: u8,
}
