//! Security model revision 2, program side: each test performs an attack
//! the first rules allowed and shows it refused, or shows that nothing is
//! lost. (Dispute attacks are in `disputes.rs`, slashing in `slashing.rs`.)
#![allow(deprecated)]

use anchor_spl::token::spl_token;
use solana_sdk::signature::Keypair;
use solana_sdk::signer::Signer;
use verdict::errors::VerdictError;
use verdict::state::{JobStatus, RiskLevel};
use verdict_sdk::{attest, instructions as ix, pda};
use verdict_tests::*;

const FEE: u64 = 10 * TOKEN;
const PRICE: u64 = 8 * TOKEN;

#[tokio::test]
async fn a_rotated_signing_key_stops_signing_at_once_and_the_new_one_signs() {
    let mut f = Fixture::new().await;
    let mut committee = f.committee_of(5).await;
    let params = f.config().await.params;
    let miner = f.warm_miner(&committee, params.min_miner_stake).await;
    let client = f.user(10 * FEE).await;
    let (r, job) = f.submit_job(&client, 1, RiskLevel::Low, FEE).await;
    r.unwrap();
    // Member 0 rotates its key (say it leaked).
    let fresh = Keypair::new();
    let operator = committee[0].operator.keypair.insecure_clone();
    f.send(
        &[ix::rotate_signing_key(&operator.pubkey(), &fresh.pubkey())],
        &[&operator, &fresh],
    )
    .await
    .unwrap();
    assert_eq!(f.committee().await.signing_keys()[0], fresh.pubkey());
    // The old key signs nothing any more...
    assert_verdict_error(
        &f.settle(&committee, &job, &miner.node, PRICE, good_report(1))
            .await,
        VerdictError::NotCommitteeMember,
    );
    // ...and the new one is accepted in the same committee epoch.
    committee[0].signing_key = fresh;
    f.settle(&committee, &job, &miner.node, PRICE, good_report(1))
        .await
        .unwrap();
}

#[tokio::test]
async fn a_job_recreated_at_the_same_address_does_not_accept_the_old_instances_signatures() {
    let mut f = Fixture::new().await;
    let committee = f.committee_of(5).await;
    let params = f.config().await.params;
    let miner = f.warm_miner(&committee, params.min_miner_stake).await;
    let client = f.user(10 * FEE).await;
    let (r, job) = f.submit_job(&client, 1, RiskLevel::Low, FEE).await;
    r.unwrap();
    let old = f.job(&job).await;
    let epoch = f.committee().await.epoch;
    // The committee signed a settlement of the first instance that was never posted.
    let message = attest::settle_message(
        epoch,
        &job,
        old.created_slot,
        &miner.node,
        1,
        PRICE,
        &good_report(1),
    );
    let signatures: Vec<_> = committee[..3]
        .iter()
        .map(|v| attest::sign(&v.signing_key, &message))
        .collect();
    // The job is rejected, closed and created again at the same address.
    let reject = attest::reject_message(epoch, &job, old.created_slot, 1);
    let quorum = f.quorum(&committee).await;
    f.attest(&quorum, &reject, ix::reject_job(&job, &client.tokens, 1))
        .await
        .unwrap();
    f.close_job(&job).await.unwrap();
    f.next_slot().await;
    let (r, again) = f.submit_job(&client, 1, RiskLevel::Low, FEE).await;
    r.unwrap();
    assert_eq!(again, job);
    assert_ne!(f.job(&job).await.created_slot, old.created_slot);
    let replay = attest::attested(
        &signatures,
        &message,
        ix::settle_job(&job, &miner.node, PRICE, good_report(1)),
    );
    assert_verdict_error(
        &f.send(&replay, &[]).await,
        VerdictError::AttestationMismatch,
    );
    assert_eq!(f.job(&job).await.status(), JobStatus::Sent);
}

#[tokio::test]
async fn a_closed_refund_account_keeps_the_refund_claimable_and_blocks_nothing() {
    let mut f = Fixture::new().await;
    let committee = f.committee_of(5).await;
    let params = f.config().await.params;
    let miner = f.warm_miner(&committee, params.min_miner_stake).await;
    let client = f.user(FEE).await;
    let (r, job) = f.submit_job(&client, 1, RiskLevel::Low, FEE).await;
    r.unwrap();
    f.settle(&committee, &job, &miner.node, PRICE, good_report(1))
        .await
        .unwrap();
    // The client empties and closes the account its refunds were recorded for.
    let close = spl_token::instruction::close_account(
        &spl_token::ID,
        &client.tokens,
        &client.pubkey(),
        &client.pubkey(),
        &[],
    )
    .unwrap();
    f.send(&[close], &[&client.keypair]).await.unwrap();
    assert!(!f.exists(&client.tokens).await);
    // The miner's payout is not blocked: the client's change stays in the escrow.
    f.advance(2 * params.epoch_secs).await;
    f.claim_raw(&job, &miner, &client.tokens).await.unwrap();
    let j = f.job(&job).await;
    assert_eq!((j.status(), j.client_owed), (JobStatus::Paid, FEE - PRICE));
    // Nobody else can take it; the client can, into a new account of its own.
    let thief = f.user(0).await;
    let steal = ix::claim_refund(&client.pubkey(), &job, &thief.tokens);
    assert_verdict_error(
        &f.send(&[steal], &[&client.keypair]).await,
        VerdictError::WrongDestination,
    );
    let fresh = f.token_account(&client.pubkey(), &f.mint.clone()).await;
    f.send(
        &[ix::claim_refund(&client.pubkey(), &job, &fresh)],
        &[&client.keypair],
    )
    .await
    .unwrap();
    assert_eq!(f.token_balance(&fresh).await, FEE - PRICE);
    assert_eq!(f.job(&job).await.client_owed, 0);
}

#[tokio::test]
async fn a_price_beyond_the_miners_stake_is_refused_so_liquidation_always_covers_the_damage() {
    let mut f = Fixture::new().await;
    let committee = f.committee_of(5).await;
    let params = f.config().await.params;
    let stake = params.min_miner_stake;
    let miner = f.warm_miner(&committee, stake).await;
    let client = f.user(4 * stake).await;
    let (r, big) = f.submit_job(&client, 1, RiskLevel::Low, 2 * stake).await;
    r.unwrap();
    assert_verdict_error(
        &f.assign(&committee, &big, &miner.node, stake + 1).await,
        VerdictError::ExposureLimit,
    );
    // Up to the stake it is taken, and counted until the job closes.
    f.assign(&committee, &big, &miner.node, stake)
        .await
        .unwrap();
    assert_eq!(f.node(&miner.node).await.exposure, stake);
    let (r, small) = f.submit_job(&client, 2, RiskLevel::Low, FEE).await;
    r.unwrap();
    assert_verdict_error(
        &f.settle(&committee, &small, &miner.node, PRICE, good_report(1))
            .await,
        VerdictError::ExposureLimit,
    );
    // A failed attempt gives the exposure back.
    f.fail(&committee, &big, verdict::state::FailReason::Timeout)
        .await
        .unwrap();
    assert_eq!(f.node(&miner.node).await.exposure, 0);
    f.settle(&committee, &small, &miner.node, PRICE, good_report(1))
        .await
        .unwrap();
}

#[tokio::test]
async fn a_just_in_time_delegator_shares_nothing_earned_before_it_joined() {
    let mut f = Fixture::new().await;
    let committee = f.committee_of(5).await;
    let params = f.config().await.params;
    let stake = params.min_miner_stake;
    let miner = f.warm_miner(&committee, stake).await;
    let alice = f.user(stake).await;
    f.delegate(&alice, &miner.node, stake).await.unwrap();
    let client = f.user(10 * FEE).await;
    let (r, job) = f.submit_job(&client, 1, RiskLevel::Low, FEE).await;
    r.unwrap();
    f.settle(&committee, &job, &miner.node, PRICE, good_report(1))
        .await
        .unwrap();
    f.advance(2 * params.epoch_secs).await;
    f.claim(&job, &miner).await.unwrap();
    let pending = f.node(&miner.node).await.pending_delegator_rewards;
    assert!(pending > 0);
    // Bob delegates right after the payout, before anyone compounds it.
    let bob = f.user(stake).await;
    f.delegate(&bob, &miner.node, stake).await.unwrap();
    let node = f.node(&miner.node).await;
    assert_eq!(
        node.pending_delegator_rewards, 0,
        "compounded before bob's shares were minted"
    );
    let bob_shares = f
        .fetch_account::<verdict::state::Delegation>(&pda::delegation(&miner.node, &bob.pubkey()))
        .await
        .shares;
    let alice_shares = f
        .fetch_account::<verdict::state::Delegation>(&pda::delegation(&miner.node, &alice.pubkey()))
        .await
        .shares;
    assert!(
        node.delegation.value_of(bob_shares).unwrap() <= stake,
        "bob's shares are worth what he paid"
    );
    assert!(
        node.delegation.value_of(alice_shares).unwrap() >= stake + pending - 1,
        "alice keeps all she earned"
    );
}
