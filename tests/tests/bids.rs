//! An auctioned price on chain: an assignment or settlement priced by the
//! miner's signed bid lands only if the bid is the assigned miner's, for
//! this job, at exactly the attested price, and still stood; every way to
//! fake one is refused with the job left untouched.
#![allow(deprecated)]

use anchor_lang::prelude::Pubkey;
use solana_sdk::instruction::Instruction;
use solana_sdk::signature::Keypair;
use verdict::bid::BidTerms;
use verdict::errors::VerdictError;
use verdict::state::{JobStatus, RiskLevel};
use verdict_sdk::attest::{self, ed25519_instruction, sign, SignedBid};
use verdict_sdk::attested;
use verdict_sdk::events::VerdictEvent;
use verdict_sdk::transaction::{fits_in_packet, PACKET_DATA_SIZE};
use verdict_tests::*;

const FEE: u64 = 10 * TOKEN;
const BID: u64 = 3 * TOKEN;

struct Case {
    f: Fixture,
    committee: Vec<NodeHandle>,
    miner: NodeHandle,
    client: User,
    job: Pubkey,
}

async fn case(risk: RiskLevel) -> Case {
    let mut f = Fixture::new().await;
    let committee = f.committee_of(5).await;
    let min = f.config().await.params.min_miner_stake;
    let miner = f.warm_miner(&committee, min).await;
    // Medium and high risk take Tier 1 or 2 miners.
    f.patch::<verdict::state::Node>(&miner.node, |n| {
        n.reputation.buckets[0] = tier_one_record();
    })
    .await;
    let client = f.user(10 * FEE).await;
    let (r, job) = f.submit_job(&client, 1, risk, FEE).await;
    r.unwrap();
    Case {
        f,
        committee,
        miner,
        client,
        job,
    }
}

impl Case {
    /// The miner's bid on this case's job at `price`, standing for a minute.
    fn terms(&self, price: u64) -> BidTerms {
        BidTerms {
            round: [9; 32],
            job: self.job,
            price,
            valid_until: self.f.now + 60,
            capacity: 1,
        }
    }

    fn bid(&self, terms: BidTerms) -> SignedBid {
        SignedBid::sign(&self.miner.signing_key, terms)
    }

    /// `[ed25519 over the settle message by a quorum, settle_job]` at `price`.
    async fn settle_ixs(&self, price: u64) -> Vec<Instruction> {
        let keys = self.quorum();
        attested::settle(
            &self.f,
            &keys,
            &self.job,
            &self.miner.node,
            price,
            good_report(1),
        )
        .await
        .unwrap()
    }

    /// `[ed25519 over the assign message by a quorum, assign_job]` at `price`.
    async fn assign_ixs(&self, price: u64) -> Vec<Instruction> {
        let keys = self.quorum();
        attested::assign(&self.f, &keys, &self.job, &self.miner.node, price)
            .await
            .unwrap()
    }

    fn quorum(&self) -> Vec<&Keypair> {
        self.committee[..3].iter().map(|h| &h.signing_key).collect()
    }

    async fn settle_with(&mut self, bid: &SignedBid, price: u64) -> TxResult {
        let ixs = attest::with_bid(bid, self.settle_ixs(price).await);
        self.f.send(&ixs, &[]).await
    }

    async fn assert_untouched(&mut self) {
        let job = self.f.job(&self.job).await;
        assert_eq!(job.status(), JobStatus::Sent);
        assert_eq!(job.attempts, 0);
    }
}

fn assigned_by_bid(outcome: &TxOutcome) -> Option<(u64, bool)> {
    outcome.events.iter().find_map(|e| match e {
        VerdictEvent::JobAssigned(a) => Some((a.price, a.by_bid)),
        _ => None,
    })
}

#[tokio::test]
async fn a_settlement_at_the_miners_bid_lands_and_says_it_was_a_bid() {
    let mut c = case(RiskLevel::Low).await;
    let bid = c.bid(c.terms(BID));
    let outcome = c.settle_with(&bid, BID).await.unwrap();
    assert_eq!(assigned_by_bid(&outcome), Some((BID, true)));
    let job = c.f.job(&c.job).await;
    assert_eq!(job.status(), JobStatus::Solved);
    assert_eq!(job.price, BID);

    // Without a bid the committee alone vouches for the price, and the
    // event says so.
    let (r, other) = c.f.submit_job(&c.client, 2, RiskLevel::Low, FEE).await;
    r.unwrap();
    let outcome =
        c.f.settle(&c.committee, &other, &c.miner.node, FEE, good_report(1))
            .await
            .unwrap();
    assert_eq!(assigned_by_bid(&outcome), Some((FEE, false)));
}

#[tokio::test]
async fn an_assignment_at_the_miners_bid_lands() {
    let mut c = case(RiskLevel::Medium).await;
    let bid = c.bid(c.terms(BID));
    let ixs = attest::with_bid(&bid, c.assign_ixs(BID).await);
    let outcome = c.f.send(&ixs, &[]).await.unwrap();
    assert_eq!(assigned_by_bid(&outcome), Some((BID, true)));
    let job = c.f.job(&c.job).await;
    assert_eq!(job.status(), JobStatus::Allocated);
    assert_eq!((job.price, job.miner), (BID, c.miner.node));
}

#[tokio::test]
async fn a_bid_signed_by_any_key_but_the_miners_is_refused() {
    let mut c = case(RiskLevel::Low).await;
    let terms = c.terms(BID);
    // A stranger, a committee member, and the miner's own operator key
    // (the node's signing key is the one that bids).
    for key in [
        Keypair::new(),
        c.committee[0].signing_key.insecure_clone(),
        c.miner.operator.keypair.insecure_clone(),
    ] {
        let bid = SignedBid::sign(&key, terms);
        assert_verdict_error(&c.settle_with(&bid, BID).await, VerdictError::BidNotByMiner);
        c.assert_untouched().await;
    }
}

#[tokio::test]
async fn a_bid_for_another_job_or_price_is_refused() {
    let mut c = case(RiskLevel::Low).await;
    let (r, other) = c.f.submit_job(&c.client, 2, RiskLevel::Low, FEE).await;
    r.unwrap();
    let for_other_job = c.bid(BidTerms {
        job: other,
        ..c.terms(BID)
    });
    assert_verdict_error(
        &c.settle_with(&for_other_job, BID).await,
        VerdictError::BidMismatch,
    );
    // The committee attests a higher price than the miner bid, and a lower one.
    let bid = c.bid(c.terms(BID));
    for price in [BID + 1, BID - 1] {
        assert_verdict_error(&c.settle_with(&bid, price).await, VerdictError::BidMismatch);
    }
    c.assert_untouched().await;
}

#[tokio::test]
async fn a_bid_that_lapsed_before_the_placement_is_refused() {
    let mut c = case(RiskLevel::Medium).await;
    let now = c.f.now;
    let lapsed = c.bid(BidTerms {
        valid_until: now - 1,
        ..c.terms(BID)
    });
    let ixs = attest::with_bid(&lapsed, c.assign_ixs(BID).await);
    assert_verdict_error(&c.f.send(&ixs, &[]).await, VerdictError::BidExpired);
    c.assert_untouched().await;
    // Standing until this very second is enough.
    let standing = c.bid(BidTerms {
        valid_until: now,
        ..c.terms(BID)
    });
    let ixs = attest::with_bid(&standing, c.assign_ixs(BID).await);
    c.f.send(&ixs, &[]).await.unwrap();
}

#[tokio::test]
async fn a_settlement_needs_the_bid_to_have_stood_an_allocated_ttl_ago() {
    let mut c = case(RiskLevel::Low).await;
    let ttl = c.f.config().await.params.allocated_ttl_secs;
    let now = c.f.now;
    let too_old = c.bid(BidTerms {
        valid_until: now - ttl - 1,
        ..c.terms(BID)
    });
    assert_verdict_error(
        &c.settle_with(&too_old, BID).await,
        VerdictError::BidExpired,
    );
    c.assert_untouched().await;
    // The answer came first: a bid that stood when the job could last
    // have been assigned still prices it.
    let in_time = c.bid(BidTerms {
        valid_until: now - ttl,
        ..c.terms(BID)
    });
    c.settle_with(&in_time, BID).await.unwrap();
    assert_eq!(c.f.job(&c.job).await.status(), JobStatus::Solved);
}

#[tokio::test]
async fn a_forged_bid_signature_fails_in_the_precompile() {
    let mut c = case(RiskLevel::Low).await;
    let mut bid = c.bid(c.terms(BID));
    bid.signature[0] ^= 0xff;
    assert_bad_signature(&c.settle_with(&bid, BID).await);
    c.assert_untouched().await;
}

#[tokio::test]
async fn a_bid_instruction_that_is_not_one_bid_is_refused() {
    let mut c = case(RiskLevel::Low).await;
    let terms = c.terms(BID);
    let attested = c.settle_ixs(BID).await;
    let with_first = |first: Instruction| {
        let mut ixs = vec![first];
        ixs.extend(attested.iter().cloned());
        ixs
    };
    // Two signatures over the bid (the miner's and another's).
    let two = ed25519_instruction(
        &[
            sign(&c.miner.signing_key, &terms.message()),
            sign(&Keypair::new(), &terms.message()),
        ],
        &terms.message(),
    );
    assert_verdict_error(
        &c.f.send(&with_first(two), &[]).await,
        VerdictError::BidMalformed,
    );
    // The miner's signature over something that is not a bid: the
    // committee's own settle message.
    let settle_message = attested[0].data[2 + 3 * 14 + 3 * 96..].to_vec();
    let not_a_bid = ed25519_instruction(
        &[sign(&c.miner.signing_key, &settle_message)],
        &settle_message,
    );
    assert_verdict_error(
        &c.f.send(&with_first(not_a_bid), &[]).await,
        VerdictError::BidMalformed,
    );
    // A valid signature whose message the precompile reads from another
    // instruction (a copy appended to the attestation's data): the
    // program reads only its own, so it refuses.
    let bid = c.bid(terms);
    let mut ixs = attest::with_bid(&bid, attested.clone());
    let copy_at = ixs[1].data.len() as u16;
    ixs[1].data.extend_from_slice(&terms.message());
    // Offsets entry: sig_off, sig_ix, pk_off, pk_ix, msg_off, msg_len, msg_ix.
    ixs[0].data[2 + 8..2 + 10].copy_from_slice(&copy_at.to_le_bytes());
    ixs[0].data[2 + 12..2 + 14].copy_from_slice(&1u16.to_le_bytes());
    assert_verdict_error(
        &c.f.send(&ixs, &[]).await,
        VerdictError::AttestationOutsideInstruction,
    );
    c.assert_untouched().await;
}

#[tokio::test]
async fn a_bid_priced_settlement_with_three_signatures_fits_in_a_packet() {
    let c = case(RiskLevel::Low).await;
    let bid = c.bid(c.terms(BID));
    let ixs = attest::with_bid(&bid, c.settle_ixs(BID).await);
    let size = transaction_size(&ixs, true, c.f.chain.context().await.last_blockhash);
    println!("bid-priced settle transaction with 3 signatures and a priority fee: {size} bytes");
    assert!(size <= PACKET_DATA_SIZE, "{size} bytes exceeds the packet");
    assert!(fits_in_packet(&ixs));

    // A fourth signature (a committee whose quorum is 4) no longer fits:
    // keepers then post the price on the committee's word alone.
    let mut four = ixs.clone();
    let extra = c.committee[3].signing_key.insecure_clone();
    let at = four.len() - 1;
    let message = four[1].data[2 + 3 * 14 + 3 * 96..].to_vec();
    let mut keys: Vec<&Keypair> = c.committee[..3].iter().map(|h| &h.signing_key).collect();
    keys.push(&extra);
    four.splice(1.., attest::attest_with(&keys, &message, four[at].clone()));
    assert!(!fits_in_packet(&four));
}
