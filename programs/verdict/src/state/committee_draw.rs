//! The committee draw in progress, kept inside the [`super::Committee`]
//! account: who entered, the future slot whose hash seeds it, and the best
//! candidates swept so far. Pure logic (ranks, the running top list, the
//! SlotHashes lookup) lives here so it is tested without a chain.
//!
//! Why four steps: a validator enters itself (nobody can leave it out), the
//! request fixes a slot that has not happened yet (nobody can pick the seed,
//! and entries close before it is known), anyone reveals that slot's hash,
//! and anyone sweeps the entrants in batches (no transaction has to name
//! them all). The committee is seated only when every entrant was swept.

use anchor_lang::prelude::*;
use solana_sha256_hasher::hashv;

use super::SelectionStrategy;
use crate::constants::MAX_COMMITTEE_SIZE;
use crate::errors::VerdictError;

/// Domain of the draw seed, so no other hash of the slot is reused.
pub const DRAW_SEED_DOMAIN: &[u8] = b"VERDICT-DRAW-1";

/// Entries the SlotHashes sysvar holds when full.
pub const SLOT_HASHES_CAPACITY: u64 = 512;

super::stored_as_byte! {
    #[derive(
        AnchorSerialize, AnchorDeserialize, Clone, Copy, Debug, Default, PartialEq, Eq, InitSpace,
    )]
    pub enum DrawPhase {
        /// Validators enter; `request_committee_draw` closes entry once the
        /// rotation is due.
        #[default]
        Entry,
        /// Waiting for `target_slot` to pass; `seed_committee_draw` reads it.
        Seeding,
        /// The seed is known; `sweep_committee_draw` ranks entrants in batches.
        Sweeping,
    }
}

/// What a node recorded when it entered a draw: its weight is frozen then,
/// so nobody can top up stake once the seed is known. Stored in the Node
/// (zero-copy), so laid out without padding.
#[zero_copy]
#[derive(Debug, Default, PartialEq, Eq)]
pub struct DrawEntry {
    /// The draw round it entered (0 = never).
    pub round: u64,
    /// The round in which it was swept (equal to `round` once swept).
    pub swept_round: u64,
    pub stake: u64,
    pub performance_bps: u16,
    pub score: u8,
    pub reserved: [u8; 5],
}

impl DrawEntry {
    pub fn entered(&self, round: u64) -> bool {
        self.round == round
    }

    pub fn swept(&self, round: u64) -> bool {
        self.swept_round == round
    }
}

/// Zero-copy (it lives inside the Committee, which the job path reads on
/// every attestation): integers and byte arrays only, laid out without
/// padding; the enums are stored as their one-byte discriminant behind
/// typed accessors.
#[zero_copy]
#[derive(Debug, PartialEq, Eq)]
pub struct CommitteeDraw {
    /// Increments whenever a draw ends (seated or aborted); entries name it.
    pub round: u64,
    /// The slot whose hash seeds the draw (set by the request).
    pub target_slot: u64,
    pub entrants: u32,
    pub swept: u32,
    pub seed: [u8; 32],
    /// The `DrawPhase` discriminant (0 Entry, 1 Seeding, 2 Sweeping); read
    /// it through `CommitteeDraw::phase`.
    phase: u8,
    /// The `SelectionStrategy` discriminant (as in the Committee), fixed by
    /// the request with the seats and quorum.
    strategy: u8,
    pub seats: u8,
    pub quorum: u8,
    /// The best `seats` candidates so far, best first.
    pub leader_count: u8,
    reserved: [u8; 3],
    pub leaders: [Pubkey; MAX_COMMITTEE_SIZE as usize],
    pub leader_keys: [Pubkey; MAX_COMMITTEE_SIZE as usize],
    /// Their ranks (u128, little endian: a u128 field would need 16-byte
    /// alignment, which account data does not have).
    leader_ranks: [[u8; 16]; MAX_COMMITTEE_SIZE as usize],
}

impl Default for CommitteeDraw {
    fn default() -> Self {
        bytemuck::Zeroable::zeroed()
    }
}

/// One entrant as the sweep sees it.
#[derive(Clone, Copy, Debug)]
pub struct Candidate {
    pub node: Pubkey,
    pub signing_key: Pubkey,
    pub entry: DrawEntry,
}

impl CommitteeDraw {
    /// A draw of round 1 already seeded with `seed`, ready to consider
    /// candidates: what the simulator and the unit tests rank with.
    pub fn sweeping(strategy: SelectionStrategy, seats: u8, quorum: u8, seed: [u8; 32]) -> Self {
        let mut draw = CommitteeDraw {
            round: 1,
            seats,
            quorum,
            seed,
            ..Default::default()
        };
        draw.set_phase(DrawPhase::Sweeping);
        draw.set_strategy(strategy);
        draw
    }

    pub fn phase(&self) -> DrawPhase {
        DrawPhase::from_stored(self.phase)
    }

    pub fn set_phase(&mut self, phase: DrawPhase) {
        self.phase = phase as u8;
    }

    pub fn strategy(&self) -> SelectionStrategy {
        SelectionStrategy::from_stored(self.strategy)
    }

    pub fn set_strategy(&mut self, strategy: SelectionStrategy) {
        self.strategy = strategy as u8;
    }

    pub fn leader_rank(&self, i: usize) -> u128 {
        u128::from_le_bytes(self.leader_ranks[i])
    }

    pub fn leaders(&self) -> &[Pubkey] {
        &self.leaders[..self.leader_count as usize]
    }

    pub fn leader_keys(&self) -> &[Pubkey] {
        &self.leader_keys[..self.leader_count as usize]
    }

    pub fn all_swept(&self) -> bool {
        self.swept >= self.entrants
    }

    /// Ends this draw and opens entry for the next round.
    pub fn reset(&mut self) -> Result<()> {
        let round = self
            .round
            .checked_add(1)
            .ok_or(VerdictError::MathOverflow)?;
        *self = CommitteeDraw::default();
        self.round = round;
        Ok(())
    }

    /// Keeps `candidate` if it ranks among the best `seats` so far. The
    /// result does not depend on the order candidates are swept in.
    pub fn consider(&mut self, candidate: &Candidate) {
        let rank = rank(candidate, self.strategy(), &self.seed);
        let count = self.leader_count as usize;
        let key = (rank, candidate.node.to_bytes());
        let at = (0..count)
            .find(|&i| key < (self.leader_rank(i), self.leaders[i].to_bytes()))
            .unwrap_or(count);
        let seats = (self.seats as usize).min(MAX_COMMITTEE_SIZE as usize);
        if at >= seats {
            return;
        }
        let last = count.min(seats - 1);
        for i in (at..last).rev() {
            self.leaders[i + 1] = self.leaders[i];
            self.leader_keys[i + 1] = self.leader_keys[i];
            self.leader_ranks[i + 1] = self.leader_ranks[i];
        }
        self.leaders[at] = candidate.node;
        self.leader_keys[at] = candidate.signing_key;
        self.leader_ranks[at] = rank.to_le_bytes();
        self.leader_count = (count + 1).min(seats) as u8;
    }

    /// A leader re-keyed before the committee is seated keeps its new key.
    pub fn rekey(&mut self, node: &Pubkey, key: Pubkey) {
        if let Some(i) = self.leaders().iter().position(|l| l == node) {
            self.leader_keys[i] = key;
        }
    }
}

/// The seed of round `round` from the hash of its slot.
pub fn draw_seed(slot_hash: &[u8; 32], round: u64) -> [u8; 32] {
    hashv(&[DRAW_SEED_DOMAIN, slot_hash, &round.to_le_bytes()]).to_bytes()
}

/// A candidate's private lot: uniform, fixed by the seed and its address.
pub fn lot(seed: &[u8; 32], node: &Pubkey) -> u64 {
    let h = hashv(&[seed, node.as_ref()]).to_bytes();
    u64::from_le_bytes(h[..8].try_into().unwrap())
}

/// Sort key of a candidate (lower ranks first). Every strategy breaks ties
/// by the lot, so equal candidates are ordered by the seed, not by address.
pub fn rank(c: &Candidate, strategy: SelectionStrategy, seed: &[u8; 32]) -> u128 {
    let lot = lot(seed, &c.node);
    let by = |primary: u64| ((primary as u128) << 64) | lot as u128;
    match strategy {
        SelectionStrategy::Random => lot as u128,
        SelectionStrategy::Stake => by(u64::MAX - c.entry.stake),
        SelectionStrategy::Reputation => by(u8::MAX as u64 - c.entry.score as u64),
        SelectionStrategy::Performance => {
            by(10_000u64.saturating_sub(c.entry.performance_bps as u64))
        }
        SelectionStrategy::Weighted => {
            // An exponential race: each candidate's clock is -ln(U) / weight,
            // and the earliest clocks win. The first seat goes to each with
            // probability weight / total, the next among the rest, and so
            // on: a weighted draw without replacement, one pass, any order.
            let weight = (c.entry.stake as u128 * c.entry.score as u128).max(1);
            (neg_log2(lot) << 96) / weight
        }
    }
}

/// Fractional bits of [`neg_log2`].
const LOG_FRACTION_BITS: u32 = 20;

/// −log2(x / 2^64) in fixed point with [`LOG_FRACTION_BITS`] fraction bits,
/// integers only (the program runs no floats). Below 2^27 for any x.
pub fn neg_log2(x: u64) -> u128 {
    let x = x.max(1);
    let msb = 63 - x.leading_zeros();
    // Normalise x into [2^62, 2^63): a mantissa in [1, 2) with 62 fraction bits.
    let mut y: u128 = if msb <= 62 {
        (x as u128) << (62 - msb)
    } else {
        (x as u128) >> (msb - 62)
    };
    let mut fraction: u128 = 0;
    for bit in (0..LOG_FRACTION_BITS).rev() {
        y = (y * y) >> 62;
        if y >= 1u128 << 63 {
            y >>= 1;
            fraction |= 1 << bit;
        }
    }
    let log2 = ((msb as u128) << LOG_FRACTION_BITS) | fraction;
    (64u128 << LOG_FRACTION_BITS) - log2
}

/// Where the seed slot stands in the SlotHashes sysvar.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum SeedSlot {
    /// The hash of the first slot at or after the target.
    Found([u8; 32]),
    /// No slot at or after the target has been hashed yet.
    NotYet,
    /// The sysvar no longer shows which slot came first after the target.
    Expired,
}

/// Looks up the first slot at or after `target` in SlotHashes data (newest
/// first: u64 count, then (slot u64, hash [u8; 32]) entries). A skipped
/// target slot falls through to the next produced one; the entry before it
/// (older than the target) proves nothing came in between.
pub fn seed_slot(data: &[u8], target: u64) -> Result<SeedSlot> {
    let count = data
        .get(0..8)
        .map(|b| u64::from_le_bytes(b.try_into().unwrap()))
        .ok_or(VerdictError::WrongSysvar)?;
    let mut found = None;
    let mut oldest = None;
    for i in 0..count as usize {
        let at = 8 + i * 40;
        let bytes = data.get(at..at + 40).ok_or(VerdictError::WrongSysvar)?;
        let slot = u64::from_le_bytes(bytes[..8].try_into().unwrap());
        if slot < target {
            return Ok(found.map_or(SeedSlot::NotYet, SeedSlot::Found));
        }
        found = Some(bytes[8..].try_into().unwrap());
        oldest = Some(slot);
    }
    // Every entry is at or after the target. The oldest is provably the
    // first unless older entries have dropped out of a full sysvar.
    Ok(match (found, oldest) {
        (None, _) => SeedSlot::NotYet,
        (Some(hash), Some(slot)) if count < SLOT_HASHES_CAPACITY || slot == target => {
            SeedSlot::Found(hash)
        }
        _ => SeedSlot::Expired,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn candidate(i: u16, stake: u64, score: u8) -> Candidate {
        let mut bytes = [0u8; 32];
        bytes[..2].copy_from_slice(&i.to_le_bytes());
        Candidate {
            node: Pubkey::new_from_array(bytes),
            signing_key: Pubkey::new_from_array([7; 32]),
            entry: DrawEntry {
                round: 1,
                swept_round: 0,
                stake,
                score,
                performance_bps: 10_000 - i,
                ..Default::default()
            },
        }
    }

    fn draw(strategy: SelectionStrategy, seats: u8, seed: [u8; 32]) -> CommitteeDraw {
        CommitteeDraw::sweeping(strategy, seats, seats, seed)
    }

    fn seated(d: &CommitteeDraw) -> Vec<u16> {
        d.leaders()
            .iter()
            .map(|k| u16::from_le_bytes(k.to_bytes()[..2].try_into().unwrap()))
            .collect()
    }

    #[test]
    fn neg_log2_matches_the_real_logarithm() {
        for (x, expected) in [
            (1u64 << 63, 1.0f64),
            (1 << 62, 2.0),
            (1, 64.0),
            (u64::MAX, 0.0),
        ] {
            let got = neg_log2(x) as f64 / (1u64 << LOG_FRACTION_BITS) as f64;
            assert!((got - expected).abs() < 1e-5, "{x}: {got} vs {expected}");
        }
        let x = 3u64 << 61; // 0.375 · 2^64
        let got = neg_log2(x) as f64 / (1u64 << LOG_FRACTION_BITS) as f64;
        assert!((got - -(0.375f64).log2()).abs() < 1e-5, "{got}");
    }

    #[test]
    fn the_outcome_does_not_depend_on_sweep_order() {
        for strategy in [
            SelectionStrategy::Random,
            SelectionStrategy::Weighted,
            SelectionStrategy::Stake,
            SelectionStrategy::Reputation,
            SelectionStrategy::Performance,
        ] {
            let all: Vec<_> = (0..40)
                .map(|i| candidate(i, 1_000 + (i as u64 % 7) * 100, 50 + (i % 5) as u8))
                .collect();
            let mut forward = draw(strategy, 5, [3; 32]);
            all.iter().for_each(|c| forward.consider(c));
            let mut backward = draw(strategy, 5, [3; 32]);
            all.iter().rev().for_each(|c| backward.consider(c));
            assert_eq!(seated(&forward), seated(&backward), "{strategy:?}");
            assert_eq!(forward.leader_count, 5);
            let mut distinct = seated(&forward);
            distinct.sort();
            distinct.dedup();
            assert_eq!(distinct.len(), 5);
        }
    }

    #[test]
    fn ordered_strategies_pick_by_their_criterion() {
        let all: Vec<_> = (0..10)
            .map(|i| candidate(i, 1_000 * (i as u64 + 1), 100 - i as u8 * 5))
            .collect();
        let pick = |s| {
            let mut d = draw(s, 3, [9; 32]);
            all.iter().for_each(|c| d.consider(c));
            seated(&d)
        };
        assert_eq!(pick(SelectionStrategy::Stake), vec![9, 8, 7]);
        assert_eq!(pick(SelectionStrategy::Reputation), vec![0, 1, 2]);
        assert_eq!(pick(SelectionStrategy::Performance), vec![0, 1, 2]);
    }

    #[test]
    fn the_weighted_draw_is_proportional_to_weight() {
        // Weights 1 : 2 : 3 : 4; the first seat should follow them.
        let all: Vec<_> = (0..4)
            .map(|i| candidate(i, 1_000 * (i as u64 + 1), 100))
            .collect();
        let mut first = [0u32; 4];
        let rounds = 4_000u32;
        for s in 0..rounds {
            let seed = hashv(&[&s.to_le_bytes()]).to_bytes();
            let mut d = draw(SelectionStrategy::Weighted, 1, seed);
            all.iter().for_each(|c| d.consider(c));
            first[seated(&d)[0] as usize] += 1;
        }
        for (i, hits) in first.iter().enumerate() {
            let expected = rounds as f64 * (i + 1) as f64 / 10.0;
            assert!(
                (*hits as f64 - expected).abs() < expected * 0.15,
                "{first:?}"
            );
        }
    }

    fn slot_hashes(slots: &[u64]) -> Vec<u8> {
        let mut data = (slots.len() as u64).to_le_bytes().to_vec();
        for &s in slots {
            data.extend_from_slice(&s.to_le_bytes());
            data.extend_from_slice(&[s as u8; 32]);
        }
        data
    }

    #[test]
    fn the_seed_slot_is_the_first_at_or_after_the_target() {
        use SeedSlot::*;
        // Newest first; slot 12 was skipped.
        let data = slot_hashes(&[15, 14, 13, 11, 10]);
        assert_eq!(seed_slot(&data, 13).unwrap(), Found([13; 32]));
        assert_eq!(
            seed_slot(&data, 12).unwrap(),
            Found([13; 32]),
            "skipped slot"
        );
        assert_eq!(seed_slot(&data, 16).unwrap(), NotYet);
        assert_eq!(
            seed_slot(&data, 2).unwrap(),
            Found([10; 32]),
            "history starts later"
        );
        let full: Vec<u64> = (0..SLOT_HASHES_CAPACITY).map(|i| 1_000 - i).collect();
        let full = slot_hashes(&full);
        assert_eq!(seed_slot(&full, 400).unwrap(), Expired, "dropped out");
        assert_eq!(
            seed_slot(&full, 489).unwrap(),
            Found([489u64 as u8; 32]),
            "oldest entry"
        );
        assert_eq!(seed_slot(&full, 600).unwrap(), Found([600u64 as u8; 32]));
        assert!(seed_slot(&[1, 0], 1).is_err());
    }
}
