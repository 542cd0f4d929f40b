//! The validator committee of the current committee epoch: who may sign
//! attestations, with the keys they sign with, snapshotted at rotation.

use anchor_lang::prelude::*;

use super::SelectionStrategy;
use crate::constants::MAX_COMMITTEE_SIZE;

#[account]
#[derive(InitSpace, Debug)]
pub struct Committee {
    /// Increments at every rotation; part of every signed message, so an
    /// attestation of one epoch is void in the next.
    pub epoch: u64,
    pub size: u8,
    pub quorum: u8,
    /// Node accounts of the members, in selection order.
    pub members: [Pubkey; MAX_COMMITTEE_SIZE as usize],
    /// Their attestation keys at rotation time.
    pub signing_keys: [Pubkey; MAX_COMMITTEE_SIZE as usize],
    pub rotated_at: i64,
    pub strategy: SelectionStrategy,
    /// The slot hash the selection drew from.
    pub seed: [u8; 32],
    pub bump: u8,
}

impl Committee {
    pub fn members(&self) -> &[Pubkey] {
        &self.members[..self.size as usize]
    }

    pub fn signing_keys(&self) -> &[Pubkey] {
        &self.signing_keys[..self.size as usize]
    }

    /// Position of the member signing with `key`.
    pub fn index_of_key(&self, key: &Pubkey) -> Option<usize> {
        self.signing_keys().iter().position(|k| k == key)
    }

    pub fn is_member(&self, node: &Pubkey) -> bool {
        self.members().contains(node)
    }

    pub fn rotation_due(&self, now: i64, rotation_secs: i64) -> bool {
        self.epoch == 0 || now >= self.rotated_at.saturating_add(rotation_secs)
    }
}
