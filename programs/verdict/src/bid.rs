//! A miner's signed bid, as the program checks it. A job priced by an
//! auction carries the assigned miner's signature over its winning bid in
//! an ed25519 instruction right before the committee's attestation; the
//! program checks the bid is the miner's, for this job, at exactly the
//! attested price and still standing. The miner that signs a bid and the
//! keepers that clear the auction build its bytes with
//! [`BidTerms::message`].
//!
//! Message = `"VERDICT-BID-V1"` ‖ round (32) ‖ job (32) ‖ price (u64 LE) ‖
//! valid_until (i64 LE, unix seconds) ‖ capacity (u32 LE). The round names
//! the keeper's auction round, so a bid answers that round only; capacity
//! is how many of the round's jobs the miner takes at its prices.

use anchor_lang::prelude::*;

use crate::attestation::{self, ED25519_PROGRAM_ID};
use crate::errors::VerdictError;
use crate::instructions_sysvar;

/// Domain tag of a bid's signed message.
pub const BID_DOMAIN: &[u8; 14] = b"VERDICT-BID-V1";
/// A bid message's length in bytes.
pub const BID_MESSAGE_LEN: usize = 14 + 32 + 32 + 8 + 8 + 4;

/// Everything a bid binds its miner to.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct BidTerms {
    pub round: [u8; 32],
    pub job: Pubkey,
    pub price: u64,
    /// Unix seconds until which the miner stands by the price.
    pub valid_until: i64,
    pub capacity: u32,
}

impl BidTerms {
    /// The exact bytes the miner signs.
    pub fn message(&self) -> [u8; BID_MESSAGE_LEN] {
        let mut m = [0u8; BID_MESSAGE_LEN];
        m[..14].copy_from_slice(BID_DOMAIN);
        m[14..46].copy_from_slice(&self.round);
        m[46..78].copy_from_slice(self.job.as_ref());
        m[78..86].copy_from_slice(&self.price.to_le_bytes());
        m[86..94].copy_from_slice(&self.valid_until.to_le_bytes());
        m[94..98].copy_from_slice(&self.capacity.to_le_bytes());
        m
    }

    /// The terms of a bid message, or `None` if the bytes are not one.
    pub fn parse(message: &[u8]) -> Option<BidTerms> {
        if message.len() != BID_MESSAGE_LEN || &message[..14] != BID_DOMAIN {
            return None;
        }
        let u64_at = |at: usize| {
            let mut b = [0u8; 8];
            b.copy_from_slice(&message[at..at + 8]);
            b
        };
        let mut round = [0u8; 32];
        round.copy_from_slice(&message[14..46]);
        let mut capacity = [0u8; 4];
        capacity.copy_from_slice(&message[94..98]);
        Some(BidTerms {
            round,
            job: Pubkey::try_from(&message[46..78]).ok()?,
            price: u64::from_le_bytes(u64_at(78)),
            valid_until: i64::from_le_bytes(u64_at(86)),
            capacity: u32::from_le_bytes(capacity),
        })
    }
}

/// What a bid must back: a placement of `job` with the miner whose node
/// signs with `signing_key`, at `price`, made no earlier than `placed_by`
/// (now for an assignment; for a settlement, whose answer came first, the
/// earliest time it could have been assigned).
pub struct Placement<'a> {
    pub job: &'a Pubkey,
    pub signing_key: &'a Pubkey,
    pub price: u64,
    pub placed_by: i64,
}

/// Whether the placement is priced by a bid, checked: a bid is the
/// ed25519 instruction right before the committee's attestation (at
/// `attestation_index` in the instructions `sysvar`). Without one the job
/// is placed at a price only the committee vouches for (never above the
/// client's max fee); with one, the bid must hold a single signature, by
/// the miner's signing key, over a bid for this job at exactly this price
/// that still stood.
pub(crate) fn check_bid(
    sysvar: &[u8],
    attestation_index: u16,
    placement: &Placement,
) -> Result<bool> {
    let Some(bid_index) = attestation_index.checked_sub(1) else {
        return Ok(false);
    };
    let bid = instructions_sysvar::instruction_at(sysvar, bid_index)?;
    if bid.program_id != ED25519_PROGRAM_ID.as_ref() {
        return Ok(false);
    }
    require!(bid.data.first() == Some(&1), VerdictError::BidMalformed);
    let signed = attestation::signed_entry(bid.data, bid_index, 0)?;
    require!(
        signed.key == placement.signing_key.as_ref(),
        VerdictError::BidNotByMiner
    );
    let terms = BidTerms::parse(signed.message).ok_or(VerdictError::BidMalformed)?;
    require!(
        terms.job == *placement.job && terms.price == placement.price,
        VerdictError::BidMismatch
    );
    require!(
        terms.valid_until >= placement.placed_by,
        VerdictError::BidExpired
    );
    Ok(true)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_bid_message_parses_back_to_its_terms_and_nothing_else_parses() {
        let terms = BidTerms {
            round: [7; 32],
            job: Pubkey::new_unique(),
            price: 1_234,
            valid_until: -5,
            capacity: 3,
        };
        let message = terms.message();
        assert_eq!(BidTerms::parse(&message), Some(terms));
        assert_eq!(BidTerms::parse(&message[..97]), None);
        let mut longer = message.to_vec();
        longer.push(0);
        assert_eq!(BidTerms::parse(&longer), None);
        let mut other_domain = message;
        other_domain[0] ^= 1;
        assert_eq!(BidTerms::parse(&other_domain), None);
    }
}
