//! Bids: a miner's signed offer to run one job at a price. A keeper asks
//! every eligible miner for bids on the jobs of an auction round; each bid
//! binds the miner to its price until its deadline, for at most `capacity`
//! jobs of the round, and names the round so it cannot be replayed into
//! another. The signed message:
//!
//! `"VERDICT-BID-V1" || round (32) || job (32) || price (u64 LE) ||
//!  valid_until (i64 LE, unix seconds) || capacity (u32 LE)`

use ed25519_dalek::{Signature, Signer, SigningKey, Verifier};
use serde::{Deserialize, Serialize};

use crate::miner::{Digest32, JobId, MinerPubkey, ModelId, SignatureHex, VerifyError};

/// Domain tag of a bid's signed message.
pub const BID_DOMAIN: &[u8] = b"VERDICT-BID-V1";

/// One job a round asks bids for: what a miner needs to price it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct BidJob {
    pub job: JobId,
    pub model_id: ModelId,
    /// 0 low, 1 medium, 2 high (the job's risk level on chain).
    pub risk: u8,
    /// The most the client pays (on chain): a bid above it cannot win.
    pub max_fee: u64,
}

/// A keeper's call for bids: the round's id (fresh per round, so a bid
/// answers this round only), its jobs, and when bids close.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct BidRequest {
    pub round: Digest32,
    pub jobs: Vec<BidJob>,
    /// Unix seconds after which the keeper takes no more bids.
    pub closes_at: i64,
}

/// A miner's answer to a [`BidRequest`]: one signed bid per job it wants
/// (none for a job it declines).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct BidResponse {
    pub bids: Vec<Bid>,
}

/// A miner's standing price for a model at a risk level (`GET /prices`):
/// what it bids when asked, before any adjustment for load.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct StandingPrice {
    pub model_id: ModelId,
    /// 0 low, 1 medium, 2 high.
    pub risk: u8,
    pub price: u64,
}

/// A miner's standing prices and how many jobs it takes at once.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PricesResponse {
    pub prices: Vec<StandingPrice>,
    pub capacity: u32,
}

/// A miner's signed offer to run `job` for `price`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Bid {
    pub round: Digest32,
    pub job: JobId,
    pub price: u64,
    /// Unix seconds until which the miner stands by the price.
    pub valid_until: i64,
    /// Most jobs of this round the miner takes at its prices.
    pub capacity: u32,
    pub miner_pubkey: MinerPubkey,
    pub signature: SignatureHex,
}

/// The bytes a bid's signature covers.
pub fn bid_message(
    round: &Digest32,
    job: &JobId,
    price: u64,
    valid_until: i64,
    capacity: u32,
) -> Vec<u8> {
    let mut message = Vec::with_capacity(BID_DOMAIN.len() + 32 + 32 + 8 + 8 + 4);
    message.extend_from_slice(BID_DOMAIN);
    message.extend_from_slice(&round.0);
    message.extend_from_slice(&job.0);
    message.extend_from_slice(&price.to_le_bytes());
    message.extend_from_slice(&valid_until.to_le_bytes());
    message.extend_from_slice(&capacity.to_le_bytes());
    message
}

impl Bid {
    /// Signs a bid with the miner's node signing key.
    pub fn sign(
        key: &SigningKey,
        round: Digest32,
        job: JobId,
        price: u64,
        valid_until: i64,
        capacity: u32,
    ) -> Bid {
        let message = bid_message(&round, &job, price, valid_until, capacity);
        Bid {
            round,
            job,
            price,
            valid_until,
            capacity,
            miner_pubkey: MinerPubkey(key.verifying_key().to_bytes()),
            signature: SignatureHex(key.sign(&message).to_bytes()),
        }
    }

    /// Checks that `miner_pubkey` signed exactly these fields.
    pub fn verify(&self) -> Result<(), VerifyError> {
        let key = self
            .miner_pubkey
            .verifying_key()
            .map_err(|_| VerifyError::InvalidPublicKey)?;
        let message = bid_message(
            &self.round,
            &self.job,
            self.price,
            self.valid_until,
            self.capacity,
        );
        key.verify(&message, &Signature::from_bytes(&self.signature.0))
            .map_err(|_| VerifyError::BadSignature)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn key(seed: u8) -> SigningKey {
        SigningKey::from_bytes(&[seed; 32])
    }

    #[test]
    fn a_signed_bid_verifies_and_any_changed_field_does_not() {
        let bid = Bid::sign(&key(1), Digest32([7; 32]), JobId([9; 32]), 500, 1_000, 3);
        assert_eq!(bid.verify(), Ok(()));
        let tampered = [
            Bid {
                price: 499,
                ..bid.clone()
            },
            Bid {
                round: Digest32([8; 32]),
                ..bid.clone()
            },
            Bid {
                job: JobId([1; 32]),
                ..bid.clone()
            },
            Bid {
                valid_until: 1_001,
                ..bid.clone()
            },
            Bid {
                capacity: 4,
                ..bid.clone()
            },
            Bid {
                miner_pubkey: MinerPubkey(key(2).verifying_key().to_bytes()),
                ..bid.clone()
            },
        ];
        for t in tampered {
            assert_eq!(t.verify(), Err(VerifyError::BadSignature), "{t:?}");
        }
    }

    #[test]
    fn a_bid_round_trips_as_json() {
        let bid = Bid::sign(&key(1), Digest32([7; 32]), JobId([9; 32]), 500, 1_000, 3);
        let back: Bid = serde_json::from_str(&serde_json::to_string(&bid).unwrap()).unwrap();
        assert_eq!(back, bid);
        assert_eq!(back.verify(), Ok(()));
    }
}
