//! Every way the job instructions refuse: bad fees, wrong accounts, wrong
//! states, ineligible miners, early claims and closes.
#![allow(deprecated)]

use anchor_lang::error::ErrorCode;
use solana_sdk::signer::Signer;
use verdict::errors::VerdictError;
use verdict::state::{model_id, FailReason, JobStatus, RiskLevel};
use verdict_sdk::{attest, instructions as ix, pda};
use verdict_tests::*;

const FEE: u64 = 10 * TOKEN;
const PRICE: u64 = 8 * TOKEN;

#[tokio::test]
async fn submit_refuses_low_fees_foreign_tokens_bad_models_duplicates_and_pause() {
    let mut f = Fixture::new().await;
    let client = f.user(10 * FEE).await;
    let min_fee = f.config().await.params.min_job_fee;
    assert_verdict_error(
        &f.submit_job(&client, 1, RiskLevel::Low, min_fee - 1)
            .await
            .0,
        VerdictError::FeeBelowMinimum,
    );
    assert_verdict_error(
        &f.submit_job(&client, 1, RiskLevel::Low, 11 * FEE).await.0,
        VerdictError::InsufficientFunds,
    );

    let other = f.user(FEE).await;
    let foreign = ix::submit_job(
        &client.pubkey(),
        &other.tokens,
        &f.mint,
        1,
        test_model(),
        [0; 32],
        RiskLevel::Low,
        FEE,
    );
    assert_verdict_error(
        &f.send(&[foreign], &[&client.keypair]).await,
        VerdictError::WrongTokenOwner,
    );
    let mut bad_model = [0u8; 32];
    bad_model[3] = b'x';
    let bad = ix::submit_job(
        &client.pubkey(),
        &client.tokens,
        &f.mint,
        1,
        bad_model,
        [0; 32],
        RiskLevel::Low,
        FEE,
    );
    assert_verdict_error(
        &f.send(&[bad], &[&client.keypair]).await,
        VerdictError::InvalidModelId,
    );

    f.submit_job(&client, 1, RiskLevel::Low, FEE)
        .await
        .0
        .unwrap();
    assert!(
        f.submit_job(&client, 1, RiskLevel::Low, FEE)
            .await
            .0
            .is_err(),
        "a job id is used once"
    );
    assert_eq!(f.token_balance(&client.tokens).await, 9 * FEE);

    let authority = f.authority.insecure_clone();
    f.send(&[ix::set_paused(&authority.pubkey(), true)], &[&authority])
        .await
        .unwrap();
    assert_verdict_error(
        &f.submit_job(&client, 2, RiskLevel::Low, FEE).await.0,
        VerdictError::Paused,
    );
}

#[tokio::test]
async fn assign_refuses_ineligible_miners_high_prices_and_wrong_states() {
    let mut f = Fixture::new().await;
    let committee = f.committee_of(5).await;
    let params = f.config().await.params;
    let miner = f.warm_miner(&committee, params.min_miner_stake).await;
    let client = f.user(10 * FEE).await;
    let (r, job) = f.submit_job(&client, 1, RiskLevel::Low, FEE).await;
    r.unwrap();

    assert_verdict_error(
        &f.assign(&committee, &job, &miner.node, FEE + 1).await,
        VerdictError::PriceAboveMaxFee,
    );
    // A validator is no miner.
    assert_verdict_error(
        &f.assign(&committee, &job, &committee[0].node, PRICE).await,
        VerdictError::MinerNotEligible,
    );
    // A miner not serving the job's model.
    let op = miner.operator.keypair.insecure_clone();
    let other_model = vec![model_id("all-minilm-l6-v2").unwrap()];
    f.send(&[ix::update_node(&op.pubkey(), 1, other_model, 0)], &[&op])
        .await
        .unwrap();
    assert_verdict_error(
        &f.assign(&committee, &job, &miner.node, PRICE).await,
        VerdictError::MinerNotEligible,
    );
    f.send(
        &[ix::update_node(&op.pubkey(), 1, vec![test_model()], 0)],
        &[&op],
    )
    .await
    .unwrap();

    // A new (Tier 3) miner cannot take medium or high risk jobs.
    for (id, risk) in [(2, RiskLevel::Medium), (3, RiskLevel::High)] {
        let (r, risky) = f.submit_job(&client, id, risk, FEE).await;
        r.unwrap();
        assert_verdict_error(
            &f.assign(&committee, &risky, &miner.node, PRICE).await,
            VerdictError::MinerNotEligible,
        );
    }

    f.assign(&committee, &job, &miner.node, PRICE)
        .await
        .unwrap();
    assert_verdict_error(
        &f.assign(&committee, &job, &miner.node, PRICE).await,
        VerdictError::InvalidJobState,
    );

    // A SENT job past its TTL can no longer be assigned.
    let (r, late) = f.submit_job(&client, 4, RiskLevel::Low, FEE).await;
    r.unwrap();
    f.advance(params.sent_ttl_secs).await;
    assert_verdict_error(
        &f.assign(&committee, &late, &miner.node, PRICE).await,
        VerdictError::InvalidJobState,
    );
}

#[tokio::test]
async fn complete_and_settle_refuse_failures_wrong_miners_and_risky_jobs() {
    let mut f = Fixture::new().await;
    let committee = f.committee_of(5).await;
    let params = f.config().await.params;
    let miner = f.warm_miner(&committee, params.min_miner_stake).await;
    let other = f.warm_miner(&committee, params.min_miner_stake).await;
    let client = f.user(10 * FEE).await;
    let (r, job) = f.submit_job(&client, 1, RiskLevel::Low, FEE).await;
    r.unwrap();

    // Unassigned: the job's miner is the default key, no Node at all.
    assert_anchor_error(
        &f.complete(&committee, &job, good_report(1)).await,
        ErrorCode::AccountOwnedByWrongProgram,
    );
    f.assign(&committee, &job, &miner.node, PRICE)
        .await
        .unwrap();
    let mut failed = good_report(1);
    failed.success = false;
    assert_verdict_error(
        &f.complete(&committee, &job, failed).await,
        VerdictError::UnsuccessfulCompletion,
    );
    // The completion names another miner than the allocated one.
    let epoch = f.committee().await.epoch;
    let message = attest::complete_message(
        epoch,
        &job,
        f.job(&job).await.created_slot,
        &other.node,
        1,
        &good_report(1),
    );
    let quorum = f.quorum(&committee).await;
    let wrong = ix::complete_job(&job, &other.node, good_report(1));
    assert_verdict_error(
        &f.attest(&quorum, &message, wrong).await,
        VerdictError::WrongMiner,
    );

    let (r, medium) = f.submit_job(&client, 2, RiskLevel::Medium, FEE).await;
    r.unwrap();
    assert_verdict_error(
        &f.settle(&committee, &medium, &miner.node, PRICE, good_report(1))
            .await,
        VerdictError::SettleLowRiskOnly,
    );
    // Settling an already allocated job is refused.
    assert_verdict_error(
        &f.settle(&committee, &job, &miner.node, PRICE, good_report(1))
            .await,
        VerdictError::InvalidJobState,
    );
}

#[tokio::test]
async fn fail_refuses_a_job_that_is_not_allocated() {
    let mut f = Fixture::new().await;
    let committee = f.committee_of(5).await;
    let client = f.user(10 * FEE).await;
    let (r, job) = f.submit_job(&client, 1, RiskLevel::Low, FEE).await;
    r.unwrap();
    let epoch = f.committee().await.epoch;
    let message = attest::fail_message(
        epoch,
        &job,
        f.job(&job).await.created_slot,
        &Default::default(),
        0,
        FailReason::Timeout,
    );
    let quorum = f.quorum(&committee).await;
    let fail = ix::fail_job(
        &job,
        &Default::default(),
        &client.tokens,
        FailReason::Timeout,
    );
    assert!(
        f.attest(&quorum, &message, fail).await.is_err(),
        "no miner to fail"
    );
    assert_eq!(f.job(&job).await.status(), JobStatus::Sent);
}

#[tokio::test]
async fn claim_refuses_wrong_destinations_and_unsolved_jobs() {
    let mut f = Fixture::new().await;
    let committee = f.committee_of(5).await;
    let params = f.config().await.params;
    let miner = f.warm_miner(&committee, params.min_miner_stake).await;
    let client = f.user(10 * FEE).await;
    let thief = f.user(0).await;
    let (r, job) = f.submit_job(&client, 1, RiskLevel::Low, FEE).await;
    r.unwrap();
    // Unassigned, the job names no miner yet.
    assert_verdict_error(&f.claim(&job, &miner).await, VerdictError::WrongMiner);
    f.settle(&committee, &job, &miner.node, PRICE, good_report(1))
        .await
        .unwrap();
    f.advance(2 * params.epoch_secs).await;

    // The miner's part has no destination to pick: it is credited to its node.
    let refund_to_thief = ix::claim_payout(&job, &miner.node, &thief.tokens);
    assert_verdict_error(
        &f.send(&[refund_to_thief], &[]).await,
        VerdictError::WrongDestination,
    );
    let other = f.warm_miner(&committee, params.min_miner_stake).await;
    let wrong_miner = ix::claim_payout(&job, &other.node, &client.tokens);
    assert_verdict_error(&f.send(&[wrong_miner], &[]).await, VerdictError::WrongMiner);
    // Someone else's node vault.
    let vault_swap = ix::replace_account(
        ix::claim_payout(&job, &miner.node, &client.tokens),
        &pda::node_vault(&miner.node),
        &pda::node_vault(&other.node),
    );
    assert_verdict_error(&f.send(&[vault_swap], &[]).await, VerdictError::WrongVault);
    f.claim(&job, &miner).await.unwrap();
    assert_eq!(f.token_balance(&thief.tokens).await, 0);
}

#[tokio::test]
async fn close_waits_for_the_end_of_the_challenge_window_and_the_right_signers() {
    let mut f = Fixture::new().await;
    let committee = f.committee_of(5).await;
    let mut params = f.config().await.params;
    let miner = f.warm_miner(&committee, params.min_miner_stake).await;
    // A Tier 1 record: paid at once, yet still challengeable for 2 epochs.
    f.patch::<verdict::state::Node>(&miner.node, |n| {
        n.reputation.buckets[0] = tier_one_record();
    })
    .await;
    let client = f.user(10 * FEE).await;
    let (r, job) = f.submit_job(&client, 1, RiskLevel::Low, FEE).await;
    r.unwrap();
    assert_verdict_error(&f.close_job(&job).await, VerdictError::JobNotFinished);
    f.settle(&committee, &job, &miner.node, PRICE, good_report(1))
        .await
        .unwrap();
    f.claim(&job, &miner).await.unwrap();
    let paid = f.job(&job).await;
    let signers = paid.signers().to_vec();
    assert_verdict_error(&f.close_job(&job).await, VerdictError::JobNotFinished);
    params = f.config().await.params;
    f.advance(params.challenge_window_epochs as i64 * params.epoch_secs)
        .await;
    // The signers' accounts (nodes, then vaults) close the list.
    let full = ix::close_job(&job, &paid);
    let first_signer = full.accounts.len() - 2 * signers.len();
    let mut short = full.clone();
    short.accounts.truncate(full.accounts.len() - 2);
    assert_verdict_error(&f.send(&[short], &[]).await, VerdictError::WrongSigners);
    if !signers.contains(&committee[4].node) {
        let mut swapped = full.clone();
        swapped.accounts[first_signer].pubkey = committee[4].node;
        assert_verdict_error(&f.send(&[swapped], &[]).await, VerdictError::WrongSigners);
        // A signer's node with another node's vault cannot take its fee.
        let mut wrong_vault = full.clone();
        wrong_vault.accounts[first_signer + signers.len()].pubkey =
            pda::node_vault(&committee[4].node);
        assert_verdict_error(
            &f.send(&[wrong_vault], &[]).await,
            VerdictError::WrongSigners,
        );
    }
    f.send(&[full], &[]).await.unwrap();
}
