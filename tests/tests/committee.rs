//! Committee rotation: who may be drawn, how often, and the crank's refusals.
#![allow(deprecated)]

use anchor_lang::prelude::Pubkey;
use solana_sdk::signer::Signer;
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
    // Entry for the next draw opens at once; the request waits for the rotation.
    assert_eq!(c.draw.round, 2);
    for h in &committee {
        f.enter_draw(h).await.unwrap();
    }
    assert_verdict_error(
        &f.send(&[ix::request_committee_draw()], &[]).await,
        VerdictError::RotationNotDue,
    );
    f.advance(f.config().await.params.committee_rotation_secs)
        .await;
    let all: Vec<_> = committee.iter().map(|h| h.node).collect();
    let out = f.run_draw(&all).await.unwrap();
    assert!(out.events.iter().any(
        |e| matches!(e, VerdictEvent::CommitteeRotated(r) if r.epoch == 2 && r.members.len() == 5)
    ));
}

#[tokio::test]
async fn entering_needs_the_operator_or_signing_key_an_eligible_node_and_once_per_round() {
    let mut f = Fixture::new().await;
    let min = f.config().await.params.min_validator_stake;
    let h = f.register(ROLE_VALIDATOR, min).await;
    // Not staked yet: not eligible.
    assert_verdict_error(&f.enter_draw(&h).await, VerdictError::ValidatorNotEligible);
    f.stake(&h, min).await.unwrap();
    // A stranger cannot enter someone else's node.
    let stranger = f.user(0).await;
    let ix = ix::enter_committee_draw(&stranger.pubkey(), &h.node);
    assert_verdict_error(
        &f.send(&[ix], &[&stranger.keypair]).await,
        VerdictError::Unauthorized,
    );
    // A lookalike: a Node PDA that does not match its account's operator.
    let other = f.register(ROLE_VALIDATOR, min).await;
    f.stake(&other, min).await.unwrap();
    let mut ix = ix::enter_committee_draw(&h.operator_pubkey(), &h.node);
    ix.accounts[3].pubkey = other.node;
    assert_verdict_error(
        &f.send(&[ix], &[&h.operator.keypair]).await,
        VerdictError::Unauthorized,
    );
    // The operator may enter as well as the signing key; once per round.
    let ix = ix::enter_committee_draw(&h.operator_pubkey(), &h.node);
    let out = f.send(&[ix], &[&h.operator.keypair]).await.unwrap();
    assert!(out.events.iter().any(|e| matches!(
        e,
        VerdictEvent::CommitteeDrawEntered(d) if d.node == h.node && d.stake == min && d.entrants == 1
    )));
    assert_verdict_error(&f.enter_draw(&h).await, VerdictError::AlreadyEntered);
    // A miner is no validator.
    let miner = f
        .staked_miner(f.config().await.params.min_miner_stake)
        .await;
    assert_verdict_error(
        &f.enter_draw(&miner).await,
        VerdictError::ValidatorNotEligible,
    );
    assert_eq!(f.committee().await.draw.entrants, 1);
}

#[tokio::test]
async fn every_step_refuses_out_of_turn_and_the_committee_waits_for_every_entrant() {
    let mut f = Fixture::new().await;
    let min = f.config().await.params.min_validator_stake;
    let mut handles = Vec::new();
    for _ in 0..6 {
        let h = f.register(ROLE_VALIDATOR, min).await;
        f.stake(&h, min).await.unwrap();
        handles.push(h);
    }
    for h in &handles[..5] {
        f.enter_draw(h).await.unwrap();
    }
    let nodes: Vec<Pubkey> = handles.iter().map(|h| h.node).collect();
    // Nothing to seed or sweep before the request.
    assert_verdict_error(
        &f.send(&[ix::seed_committee_draw()], &[]).await,
        VerdictError::WrongDrawPhase,
    );
    assert_verdict_error(
        &f.send(&[ix::sweep_committee_draw(&nodes[..5])], &[]).await,
        VerdictError::WrongDrawPhase,
    );
    f.send(&[ix::request_committee_draw()], &[]).await.unwrap();
    let draw = f.committee().await.draw;
    assert_eq!(draw.target_slot, f.chain.slot().await.unwrap() + 4);
    // Entry closed before the seed exists; no second request.
    assert_verdict_error(
        &f.enter_draw(&handles[5]).await,
        VerdictError::WrongDrawPhase,
    );
    assert_verdict_error(
        &f.send(&[ix::request_committee_draw()], &[]).await,
        VerdictError::DrawPending,
    );
    // The seed slot has not passed.
    assert_verdict_error(
        &f.send(&[ix::seed_committee_draw()], &[]).await,
        VerdictError::DrawNotReady,
    );
    assert_verdict_error(
        &f.send(&[ix::sweep_committee_draw(&nodes[..5])], &[]).await,
        VerdictError::WrongDrawPhase,
    );
    f.seed_draw().await.unwrap();
    // A node that did not enter cannot be swept in, nor can an entrant twice.
    assert_verdict_error(
        &f.send(&[ix::sweep_committee_draw(&nodes[5..])], &[]).await,
        VerdictError::NotEntered,
    );
    assert_verdict_error(
        &f.send(&[ix::sweep_committee_draw(&[nodes[0], nodes[0]])], &[])
            .await,
        VerdictError::AlreadySwept,
    );
    // A read-only entrant is refused (its sweep mark could not be kept).
    let mut readonly = ix::sweep_committee_draw(&nodes[..1]);
    readonly.accounts[2].is_writable = false;
    assert_verdict_error(&f.send(&[readonly], &[]).await, VerdictError::NotEntered);
    // Four of five swept: nobody is seated yet.
    f.sweep_draw(&nodes[..4]).await.unwrap();
    assert_verdict_error(
        &f.send(&[ix::sweep_committee_draw(&nodes[..1])], &[]).await,
        VerdictError::AlreadySwept,
    );
    assert_eq!(f.committee().await.epoch, 0);
    let out = f.sweep_draw(&nodes[4..5]).await.unwrap();
    assert!(out
        .events
        .iter()
        .any(|e| matches!(e, VerdictEvent::CommitteeRotated(r) if r.epoch == 1)));
    let c = f.committee().await;
    assert_eq!(
        (c.epoch, c.size, c.draw.round, c.draw.entrants),
        (1, 5, 2, 0)
    );
    assert!(!c.is_member(&nodes[5]), "it never entered");
}

#[tokio::test]
async fn fewer_entrants_than_the_quorum_cannot_request_and_a_draw_left_short_is_aborted() {
    let mut f = Fixture::new().await;
    let min = f.config().await.params.min_validator_stake;
    let mut handles = Vec::new();
    for _ in 0..3 {
        let h = f.register(ROLE_VALIDATOR, min).await;
        f.stake(&h, min).await.unwrap();
        handles.push(h);
    }
    for h in &handles[..2] {
        f.enter_draw(h).await.unwrap();
    }
    assert_verdict_error(
        &f.send(&[ix::request_committee_draw()], &[]).await,
        VerdictError::NotEnoughValidators,
    );
    f.enter_draw(&handles[2]).await.unwrap();
    f.send(&[ix::request_committee_draw()], &[]).await.unwrap();
    f.seed_draw().await.unwrap();
    // One entrant unstakes before the sweep: two eligible, quorum three.
    f.request_unstake(&handles[0], min).await.0.unwrap();
    let nodes: Vec<Pubkey> = handles.iter().map(|h| h.node).collect();
    let out = f.sweep_draw(&nodes).await.unwrap();
    assert!(out.events.iter().any(
        |e| matches!(e, VerdictEvent::CommitteeDrawAborted(a) if a.round == 1 && a.eligible == 2)
    ));
    let c = f.committee().await;
    assert_eq!(
        (c.epoch, c.size, c.draw.round, c.draw.entrants),
        (0, 0, 2, 0)
    );
}

#[tokio::test]
async fn low_scores_and_unbonding_stake_cannot_enter_or_be_seated() {
    let mut f = Fixture::new().await;
    let min = f.config().await.params.min_validator_stake;
    let mut handles = Vec::new();
    for _ in 0..7 {
        let h = f.register(ROLE_VALIDATOR, 2 * min).await;
        f.stake(&h, 2 * min).await.unwrap();
        handles.push(h);
    }
    f.patch::<Node>(&handles[0].node, |n| n.validator_score = 19)
        .await;
    assert_verdict_error(
        &f.enter_draw(&handles[0]).await,
        VerdictError::ValidatorNotEligible,
    );
    f.request_unstake(&handles[1], 2 * min).await.0.unwrap();
    assert_verdict_error(
        &f.enter_draw(&handles[1]).await,
        VerdictError::ValidatorNotEligible,
    );
    // One more drops below the score after entering: swept, not seated.
    for h in &handles[2..] {
        f.enter_draw(h).await.unwrap();
    }
    f.patch::<Node>(&handles[2].node, |n| n.validator_score = 19)
        .await;
    let nodes: Vec<Pubkey> = handles[2..].iter().map(|h| h.node).collect();
    f.run_draw(&nodes).await.unwrap();
    let c = f.committee().await;
    assert_eq!(c.size, 4);
    for (i, h) in handles.iter().enumerate() {
        assert_eq!(c.is_member(&h.node), i >= 3, "validator {i}");
    }
}

#[tokio::test]
async fn the_stake_strategy_seats_the_largest_stakes_frozen_at_entry() {
    let params = ProtocolParams {
        selection_strategy: SelectionStrategy::Stake as u8,
        ..Default::default()
    };
    let mut f = Fixture::with_params(params).await;
    let mut handles = Vec::new();
    for i in 0..7u64 {
        let stake = params.min_validator_stake + i * TOKEN;
        let h = f.register(ROLE_VALIDATOR, stake + 100 * TOKEN).await;
        f.stake(&h, stake).await.unwrap();
        f.enter_draw(&h).await.unwrap();
        handles.push(h);
    }
    f.send(&[ix::request_committee_draw()], &[]).await.unwrap();
    f.seed_draw().await.unwrap();
    // The smallest validator tops up once the seed is known: too late.
    f.stake(&handles[0], 100 * TOKEN).await.unwrap();
    let all: Vec<_> = handles.iter().map(|h| h.node).collect();
    f.sweep_draw(&all).await.unwrap();
    let c = f.committee().await;
    let expected: Vec<_> = handles.iter().rev().take(5).map(|h| h.node).collect();
    assert_eq!(c.members(), expected.as_slice());
}

#[tokio::test]
async fn a_leader_that_rotates_its_key_mid_draw_is_seated_with_the_new_key() {
    let mut f = Fixture::new().await;
    let handles = f.entered_validators(3).await;
    f.send(&[ix::request_committee_draw()], &[]).await.unwrap();
    f.seed_draw().await.unwrap();
    let nodes: Vec<_> = handles.iter().map(|h| h.node).collect();
    f.sweep_draw(&nodes[..2]).await.unwrap();
    let fresh = solana_sdk::signature::Keypair::new();
    let op = handles[0].operator.keypair.insecure_clone();
    f.send(
        &[ix::rotate_signing_key(&op.pubkey(), &fresh.pubkey())],
        &[&op, &fresh],
    )
    .await
    .unwrap();
    f.sweep_draw(&nodes[2..]).await.unwrap();
    let c = f.committee().await;
    let at = c.members().iter().position(|m| *m == nodes[0]).unwrap();
    assert_eq!(c.signing_keys()[at], fresh.pubkey());
    assert!(c.index_of_key(&handles[0].signing_key.pubkey()).is_none());
}

#[tokio::test]
async fn an_entrant_closes_only_while_entry_is_open_and_then_leaves_the_draw() {
    let mut f = Fixture::new().await;
    let params = f.config().await.params;
    let min = params.min_validator_stake;
    let handles = f.entered_validators(4).await;
    // Handle 3 leaves during entry: unstake, wait, withdraw, close.
    empty(&mut f, &handles[3], min).await;
    let close = ix::close_node(&handles[3].operator_pubkey());
    f.send(&[close], &[&handles[3].operator.keypair])
        .await
        .unwrap();
    assert_eq!(f.committee().await.draw.entrants, 3);
    // Handle 2 tries once entry has closed: it must wait for the draw.
    f.send(&[ix::request_committee_draw()], &[]).await.unwrap();
    f.seed_draw().await.unwrap();
    empty(&mut f, &handles[2], min).await;
    let close = ix::close_node(&handles[2].operator_pubkey());
    assert_verdict_error(
        &f.send(
            std::slice::from_ref(&close),
            &[&handles[2].operator.keypair],
        )
        .await,
        VerdictError::DrawPending,
    );
    let nodes: Vec<_> = handles[..3].iter().map(|h| h.node).collect();
    f.sweep_draw(&nodes).await.unwrap();
    let c = f.committee().await;
    assert_eq!(
        (c.epoch, c.size),
        (0, 0),
        "two eligible, quorum three: aborted"
    );
    f.send(&[close], &[&handles[2].operator.keypair])
        .await
        .unwrap();
}

/// Unstakes all of `h`'s `stake` and withdraws it after the unbonding period.
async fn empty(f: &mut Fixture, h: &NodeHandle, stake: u64) {
    let (r, ticket) = f.request_unstake(h, stake).await;
    r.unwrap();
    f.advance(f.config().await.params.unbonding_secs).await;
    let op = h.operator.keypair.insecure_clone();
    let withdraw = ix::withdraw_unbonded(&op.pubkey(), &h.node, &ticket, &h.operator.tokens);
    f.send(&[withdraw], &[&op]).await.unwrap();
}

#[tokio::test]
async fn a_seed_slot_that_left_slot_hashes_is_asked_for_again() {
    let mut f = Fixture::new().await;
    let nodes: Vec<Pubkey> = f
        .entered_validators(3)
        .await
        .iter()
        .map(|h| h.node)
        .collect();
    f.send(&[ix::request_committee_draw()], &[]).await.unwrap();
    let first_target = f.committee().await.draw.target_slot;
    // Nobody seeds while SlotHashes fills past the target (512 entries).
    f.check_each_transaction = false;
    while f.chain.slot().await.unwrap() < first_target + 2 * 520 {
        f.next_slot().await;
    }
    let out = f.send(&[ix::seed_committee_draw()], &[]).await.unwrap();
    let draw = f.committee().await.draw;
    assert!(out.events.iter().any(|e| matches!(
        e,
        VerdictEvent::CommitteeDrawRequested(r) if r.target_slot == draw.target_slot
    )));
    assert!(draw.target_slot > first_target + 1_000);
    assert_eq!(draw.phase(), verdict::state::DrawPhase::Seeding);
    f.seed_draw().await.unwrap();
    f.sweep_draw(&nodes).await.unwrap();
    assert_eq!(f.committee().await.epoch, 1);
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
    // (The job loads zero-copy: an address no program account lives at
    // is the system program's, refused before a byte is read.)
    assert_anchor_error(
        &result,
        anchor_lang::error::ErrorCode::AccountOwnedByWrongProgram,
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

/// A program that calls `request_committee_draw` through CPI, as a grinder
/// would (to revert whenever the outcome does not suit it).
fn grinder(
    _program_id: &Pubkey,
    accounts: &[anchor_lang::prelude::AccountInfo],
    _data: &[u8],
) -> anchor_lang::solana_program::entrypoint::ProgramResult {
    let request = ix::request_committee_draw();
    anchor_lang::solana_program::program::invoke(&request, accounts)
}

#[tokio::test]
async fn the_draw_cannot_be_requested_through_a_cpi() {
    let grinder_id = Pubkey::new_unique();
    let mut program_test = verdict_chain::embedded::program_test();
    // The grinder runs natively even when Verdict runs its SBF build.
    let sbf =
        std::env::var_os("SBF_OUT_DIR").is_some() || std::env::var_os("BPF_OUT_DIR").is_some();
    program_test.prefer_bpf(false);
    program_test.add_program(
        "grinder",
        grinder_id,
        solana_program_test::processor!(grinder),
    );
    program_test.prefer_bpf(sbf);
    let mut f = Fixture::on(verdict_chain::EmbeddedChain::start_with(program_test).await).await;
    f.entered_validators(3).await;
    let direct = ix::request_committee_draw();
    let mut wrapped = solana_sdk::instruction::Instruction {
        program_id: grinder_id,
        accounts: direct.accounts.clone(),
        data: vec![],
    };
    wrapped
        .accounts
        .push(solana_sdk::instruction::AccountMeta::new_readonly(
            verdict::ID,
            false,
        ));
    assert_verdict_error(&f.send(&[wrapped], &[]).await, VerdictError::CpiNotAllowed);
    assert_eq!(
        f.committee().await.draw.phase(),
        verdict::state::DrawPhase::Entry
    );
    f.send(&[direct], &[]).await.unwrap();
}
