//! The validator committee of the current committee epoch: who may sign
//! attestations, with the keys they sign with, snapshotted at rotation.

use anchor_lang::prelude::*;

use super::{CommitteeDraw, SelectionStrategy};
use crate::constants::MAX_COMMITTEE_SIZE;

/// Zero-copy: every attestation on the job path reads the committee, and
/// loading it in place costs nothing per byte (see `docs/compute-units.md`).
#[account(zero_copy)]
#[derive(Debug, PartialEq, Eq)]
pub struct Committee {
    /// Increments at every rotation; part of every signed message, so an
    /// attestation of one epoch is void in the next.
    pub epoch: u64,
    pub rotated_at: i64,
    /// Node accounts of the members, in selection order.
    pub members: [Pubkey; MAX_COMMITTEE_SIZE as usize],
    /// Their attestation keys at rotation time.
    pub signing_keys: [Pubkey; MAX_COMMITTEE_SIZE as usize],
    /// The seed the sitting committee was drawn with.
    pub seed: [u8; 32],
    pub size: u8,
    pub quorum: u8,
    /// The strategy it was drawn with, as a `SelectionStrategy` discriminant
    /// (0 Random, 1 Reputation, 2 Stake, 3 Performance, 4 Weighted); read it
    /// through `Committee::strategy`.
    strategy: u8,
    pub bump: u8,
    reserved: [u8; 4],
    /// The draw of the next committee, in progress.
    pub draw: CommitteeDraw,
}

super::zero_copy_account!(Committee);

impl Committee {
    pub fn strategy(&self) -> SelectionStrategy {
        SelectionStrategy::from_stored(self.strategy)
    }

    pub fn set_strategy(&mut self, strategy: SelectionStrategy) {
        self.strategy = strategy as u8;
    }

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
        let draw = self.draw;
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
        self.set_strategy(draw.strategy());
        self.seed = draw.seed;
        self.rotated_at = now;
        self.draw.reset()?;
        Ok(true)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::state::DrawPhase;

    /// The layout clients decode (Rust through bytemuck, TypeScript from
    /// the IDL field by field) has no padding and does not move silently.
    #[test]
    fn layout_is_fixed() {
        assert_eq!(std::mem::size_of::<CommitteeDraw>(), 704);
        assert_eq!(std::mem::size_of::<Committee>(), 1272);
        assert_eq!(std::mem::align_of::<Committee>(), 8);
        assert_eq!(std::mem::offset_of!(Committee, draw), 568);
    }

    #[test]
    fn enums_round_trip_through_their_stored_byte() {
        let mut committee = Committee::default();
        assert_eq!(committee.strategy(), SelectionStrategy::Random);
        for strategy in [
            SelectionStrategy::Random,
            SelectionStrategy::Reputation,
            SelectionStrategy::Stake,
            SelectionStrategy::Performance,
            SelectionStrategy::Weighted,
        ] {
            committee.set_strategy(strategy);
            committee.draw.set_strategy(strategy);
            assert_eq!(committee.strategy(), strategy);
            assert_eq!(committee.draw.strategy(), strategy);
        }
        for phase in [DrawPhase::Entry, DrawPhase::Seeding, DrawPhase::Sweeping] {
            committee.draw.set_phase(phase);
            assert_eq!(committee.draw.phase(), phase);
        }
    }
}
