//! Committee rotation: who may be drawn, how often, and the crank's refusals.
#![allow(deprecated)]

use verdict::constants::ROLE_VALIDATOR;
use verdict::errors::VerdictError;
use verdict::state::{Node, ProtocolParams, SelectionStrategy};
use verdict_sdk::attest;
use verdict_sdk::events::VerdictEvent;
use verdict_sdk::{instructions as ix, pda};
use verdict_tests::*;

#[tokio::test]
async fn five_validators_form_the_committee_and_rotation_waits_an_hour() {
    let mut f = Fixture::new().await;
    let committee = f.committee_of(5).await;
    let c = f.committee().await;
    assert_eq!((c.epoch, c.size, c.quorum), (1, 5, 3));
    for h in &committee[..5] {
        assert!(c.is_member(&h.node));
        assert_eq!(
            c.signing_keys()[c.members().iter().position(|m| *m == h.node).unwrap()],
            solana_sdk::signer::Signer::pubkey(&h.signing_key)
        );
    }
    let all: Vec<_> = committee.iter().map(|h| h.node).collect();
    assert_verdict_error(&f.rotate(&all).await, VerdictError::RotationNotDue);
    f.advance(f.config().await.params.committee_rotation_secs)
        .await;
    let out = f.rotate(&all).await.unwrap();
    assert!(out.events.iter().any(
        |e| matches!(e, VerdictEvent::CommitteeRotated(r) if r.epoch == 2 && r.members.len() == 5)
    ));
}

#[tokio::test]
async fn leaving_out_an_active_validator_or_repeating_one_is_refused() {
    let mut f = Fixture::new().await;
    let min = f.config().await.params.min_validator_stake;
    let mut nodes = Vec::new();
    for _ in 0..6 {
        let h = f.register(ROLE_VALIDATOR, min).await;
        f.stake(&h, min).await.unwrap();
        nodes.push(h.node);
    }
    assert_verdict_error(
        &f.rotate(&nodes[..5]).await,
        VerdictError::IncompleteCandidates,
    );
    let mut twice = nodes.clone();
    twice.push(nodes[0]);
    assert_verdict_error(&f.rotate(&twice).await, VerdictError::IncompleteCandidates);
    f.rotate(&nodes).await.unwrap();
}

#[tokio::test]
async fn fewer_eligible_validators_than_the_quorum_cannot_form_a_committee() {
    let mut f = Fixture::new().await;
    let min = f.config().await.params.min_validator_stake;
    let mut nodes = Vec::new();
    for _ in 0..2 {
        let h = f.register(ROLE_VALIDATOR, min).await;
        f.stake(&h, min).await.unwrap();
        nodes.push(h.node);
    }
    assert_verdict_error(&f.rotate(&nodes).await, VerdictError::NotEnoughValidators);
    // A registered but unstaked validator does not count.
    let idle = f.register(ROLE_VALIDATOR, 0).await;
    nodes.push(idle.node);
    assert_verdict_error(&f.rotate(&nodes).await, VerdictError::NotEnoughValidators);
}

#[tokio::test]
async fn validators_below_score_twenty_or_unbonding_are_never_chosen() {
    let mut f = Fixture::new().await;
    let min = f.config().await.params.min_validator_stake;
    let mut handles = Vec::new();
    for _ in 0..7 {
        let h = f.register(ROLE_VALIDATOR, 2 * min).await;
        f.stake(&h, 2 * min).await.unwrap();
        handles.push(h);
    }
    // One with a low score, one whose stake is all unbonding.
    f.patch::<Node>(&handles[0].node, |n| n.validator_score = 19)
        .await;
    f.request_unstake(&handles[1], 2 * min).await.0.unwrap();
    let all: Vec<_> = handles.iter().map(|h| h.node).collect();
    f.rotate(&all).await.unwrap();
    let c = f.committee().await;
    assert_eq!(c.size, 5);
    assert!(!c.is_member(&handles[0].node), "score 19 < 20");
    assert!(
        !c.is_member(&handles[1].node),
        "unbonding stake does not count"
    );
}

#[tokio::test]
async fn the_stake_strategy_seats_the_largest_stakes() {
    let mut params = ProtocolParams::default();
    params.selection_strategy = SelectionStrategy::Stake;
    let mut f = Fixture::with_params(params.clone()).await;
    let mut handles = Vec::new();
    for i in 0..7u64 {
        let stake = params.min_validator_stake + i * TOKEN;
        let h = f.register(ROLE_VALIDATOR, stake).await;
        f.stake(&h, stake).await.unwrap();
        handles.push(h);
    }
    let all: Vec<_> = handles.iter().map(|h| h.node).collect();
    f.rotate(&all).await.unwrap();
    let c = f.committee().await;
    let expected: Vec<_> = handles.iter().rev().take(5).map(|h| h.node).collect();
    assert_eq!(c.members(), expected.as_slice());
}

#[tokio::test]
async fn a_member_reported_for_a_timeout_loses_five_once() {
    let mut f = Fixture::new().await;
    let committee = f.committee_of(5).await;
    let late = committee[4].node;
    let payer = solana_sdk::signer::Signer::pubkey(&f.chain.payer().await);
    let quorum: Vec<&NodeHandle> = committee[..3].iter().collect();
    let epoch = f.committee().await.epoch;
    // A report must name a job that exists: an invented one is refused.
    let invented = pda::job(&late, 42);
    let message = attest::validator_timeout_message(epoch, &late, &invented, 0);
    let result = f
        .attest(
            &quorum,
            &message,
            ix::report_validator_timeout(&payer, &late, &invented),
        )
        .await;
    assert_anchor_error(
        &result,
        anchor_lang::error::ErrorCode::AccountNotInitialized,
    );
    let client = f.user(100 * TOKEN).await;
    let (r, job) = f
        .submit_job(&client, 42, verdict::state::RiskLevel::Low, TOKEN)
        .await;
    r.unwrap();
    let created_slot = f.job(&job).await.created_slot;
    let message = attest::validator_timeout_message(epoch, &late, &job, created_slot);
    f.attest(
        &quorum,
        &message,
        ix::report_validator_timeout(&payer, &late, &job),
    )
    .await
    .unwrap();
    let n = f.node(&late).await;
    assert_eq!(
        (n.validator_score, n.attestations_missed),
        (f.config().await.params.initial_validator_score - 5, 1)
    );
    // Replaying the same report is refused: the report account exists.
    let replay = f
        .attest(
            &quorum,
            &message,
            ix::report_validator_timeout(&payer, &late, &job),
        )
        .await;
    assert!(replay.is_err());
    assert_eq!(f.node(&late).await.attestations_missed, 1);
    // A non-member cannot be reported.
    let outsider = f.register(ROLE_VALIDATOR, 0).await;
    let message = attest::validator_timeout_message(epoch, &outsider.node, &job, created_slot);
    let result = f
        .attest(
            &quorum,
            &message,
            ix::report_validator_timeout(&payer, &outsider.node, &job),
        )
        .await;
    assert_verdict_error(&result, VerdictError::NotAMember);
}

#[tokio::test]
async fn timeout_reports_against_one_member_are_capped_per_committee_epoch() {
    let mut f = Fixture::new().await;
    let committee = f.committee_of(5).await;
    let late = committee[4].node;
    let payer = solana_sdk::signer::Signer::pubkey(&f.chain.payer().await);
    let quorum: Vec<&NodeHandle> = committee[..3].iter().collect();
    let epoch = f.committee().await.epoch;
    let max = f.config().await.params.max_timeout_reports_per_epoch as u64;
    let client = f.user(100 * TOKEN).await;
    let mut results = Vec::new();
    for id in 0..=max {
        let (r, job) = f
            .submit_job(&client, id, verdict::state::RiskLevel::Low, TOKEN)
            .await;
        r.unwrap();
        let message =
            attest::validator_timeout_message(epoch, &late, &job, f.job(&job).await.created_slot);
        results.push(
            f.attest(
                &quorum,
                &message,
                ix::report_validator_timeout(&payer, &late, &job),
            )
            .await,
        );
    }
    let (last, counted) = results.split_last().unwrap();
    assert!(counted.iter().all(|r| r.is_ok()));
    assert_verdict_error(last, VerdictError::TimeoutReportLimit);
    let n = f.node(&late).await;
    assert_eq!(
        n.attestations_missed, max,
        "a captured quorum cannot grind a member's score to zero in one epoch"
    );
}
