//! Bids: a miner's signed offer to run one job at a price. A keeper asks
//! every eligible miner for bids on the jobs of an auction round; each bid
//! binds the miner to its price until its deadline, for at most `capacity`
//! jobs of the round, and names the round so it cannot be replayed into
//! another. The signed message is the program's (`verdict::bid`): the
//! winning bid goes on chain with the placement it prices.

use anchor_lang::prelude::Pubkey;
use ed25519_dalek::{Signature, Signer, SigningKey, Verifier};
use serde::{Deserialize, Serialize};
use verdict::bid::BidTerms;

use crate::miner::{Digest32, JobId, MinerPubkey, ModelId, SignatureHex, VerifyError};

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
        let mut bid = Bid {
            round,
            job,
            price,
            valid_until,
            capacity,
            miner_pubkey: MinerPubkey(key.verifying_key().to_bytes()),
            signature: SignatureHex([0; 64]),
        };
        bid.signature = SignatureHex(key.sign(&bid.terms().message()).to_bytes());
        bid
    }

    /// What the bid binds its miner to, as the program reads it.
    pub fn terms(&self) -> BidTerms {
        BidTerms {
            round: self.round.0,
            job: Pubkey::new_from_array(self.job.0),
            price: self.price,
            valid_until: self.valid_until,
            capacity: self.capacity,
        }
    }

    /// Checks that `miner_pubkey` signed exactly these fields.
    pub fn verify(&self) -> Result<(), VerifyError> {
        let key = self
            .miner_pubkey
            .verifying_key()
            .map_err(|_| VerifyError::InvalidPublicKey)?;
        key.verify(
            &self.terms().message(),
            &Signature::from_bytes(&self.signature.0),
        )
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
