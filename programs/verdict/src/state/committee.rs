//! The validator committee of the current committee epoch: who may sign
//! attestations, with the keys they sign with, snapshotted at rotation.

use anchor_lang::prelude::*;

use super::{CommitteeDraw, SelectionStrategy};
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
    /// The seed the sitting committee was drawn with.
    pub seed: [u8; 32],
    pub bump: u8,
    /// The draw of the next committee, in progress.
    pub draw: CommitteeDraw,
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

    /// Seats the draw's leaders as the next committee and opens the next
    /// draw. Returns false (seating nobody) when fewer than the quorum were
    /// eligible; the sitting committee then serves on.
    pub fn seat_draw(&mut self, now: i64) -> Result<bool> {
        let draw = &self.draw;
        if draw.leader_count < draw.quorum.max(1) {
            self.draw.reset()?;
            return Ok(false);
        }
        self.epoch = self
            .epoch
            .checked_add(1)
            .ok_or(crate::errors::VerdictError::MathOverflow)?;
        self.size = draw.leader_count;
        self.quorum = draw.quorum;
        self.members = draw.leaders;
        self.signing_keys = draw.leader_keys;
        self.strategy = draw.strategy;
        self.seed = draw.seed;
        self.rotated_at = now;
        self.draw.reset()?;
        Ok(true)
    }
}
