//! The well-known Solana attack classes, one test each, with the program
//! refusing: missing signer, missing owner, account data matching, type
//! cosplay, re-initialization, arbitrary CPI, duplicate mutable accounts,
//! bump canonicalization, PDA sharing, closed-account reuse, sysvar spoofing.
#![allow(deprecated)]

use anchor_lang::error::ErrorCode;
use anchor_lang::prelude::Pubkey;
use solana_sdk::signer::Signer;
use verdict::constants::{NODE_SEED, ROLE_MINER};
use verdict::errors::VerdictError;
use verdict::state::RiskLevel;
use verdict_sdk::{instructions as ix, pda};
use verdict_tests::*;

const FEE: u64 = 10 * TOKEN;

#[tokio::test]
async fn missing_signer_check() {
    let mut f = Fixture::new().await;
    let min = f.config().await.params.min_miner_stake;
    let victim = f.staked_miner(min).await;
    // Unstake the victim's node without the victim's signature.
    let mut steal = ix::request_unstake(&victim.operator_pubkey(), 0, min);
    steal.accounts[0].is_signer = false;
    assert_anchor_error(&f.send(&[steal], &[]).await, ErrorCode::AccountNotSigner);
    assert_eq!(f.node(&victim.node).await.self_stake, min);
}

#[tokio::test]
async fn missing_owner_check() {
    let mut f = Fixture::new().await;
    let min = f.config().await.params.min_miner_stake;
    let miner = f.register(ROLE_MINER, min).await;
    // A look-alike "node" owned by the system program instead of Verdict.
    let fake = f.user(0).await;
    let stake = ix::replace_account(
        ix::stake(&miner.operator_pubkey(), &miner.operator.tokens, min),
        &miner.node,
        &fake.pubkey(),
    );
    let result = f.send(&[stake], &[&miner.operator.keypair]).await;
    assert_anchor_error(&result, ErrorCode::AccountOwnedByWrongProgram);
}

#[tokio::test]
async fn account_data_matching() {
    let mut f = Fixture::new().await;
    let committee = f.committee_of(5).await;
    let params = f.config().await.params;
    let miner = f.warm_miner(&committee, params.min_miner_stake).await;
    let client = f.user(2 * FEE).await;
    let (r, job) = f.submit_job(&client, 1, RiskLevel::Low, FEE).await;
    r.unwrap();
    f.settle(&committee, &job, &miner.node, FEE, good_report(1))
        .await
        .unwrap();
    f.advance(2 * params.epoch_secs).await;
    // Claim routing the client's refund to the attacker's account.
    let attacker = f.user(0).await;
    let claim = ix::claim_payout(&job, &miner.node, &attacker.tokens);
    assert_verdict_error(&f.send(&[claim], &[]).await, VerdictError::WrongDestination);
}

#[tokio::test]
async fn type_cosplay() {
    let mut f = Fixture::new().await;
    let min = f.config().await.params.min_miner_stake;
    let miner = f.staked_miner(min).await;
    let alice = f.user(TOKEN).await;
    f.delegate(&alice, &miner.node, TOKEN).await.unwrap();
    // A Delegation account (owned by Verdict) passed where a Node is expected.
    let delegation = pda::delegation(&miner.node, &alice.pubkey());
    let heartbeat = ix::heartbeat(&miner.operator_pubkey(), &delegation);
    let result = f.send(&[heartbeat], &[&miner.operator.keypair]).await;
    assert_anchor_error(&result, ErrorCode::AccountDiscriminatorMismatch);
}

#[tokio::test]
async fn re_initialization() {
    let mut f = Fixture::new().await;
    let miner = f.register(ROLE_MINER, 0).await;
    let again = ix::register_node(
        &miner.operator_pubkey(),
        &miner.signing_key.pubkey(),
        &f.mint,
        ROLE_MINER,
        vec![],
        0,
    );
    let result = f
        .send(&[again], &[&miner.operator.keypair, &miner.signing_key])
        .await;
    assert!(result.is_err(), "an existing node cannot be re-initialized");
    let client = f.user(2 * FEE).await;
    f.submit_job(&client, 7, RiskLevel::Low, FEE)
        .await
        .0
        .unwrap();
    assert!(
        f.submit_job(&client, 7, RiskLevel::Low, FEE)
            .await
            .0
            .is_err(),
        "nor a job"
    );
    assert_eq!(f.token_balance(&client.tokens).await, FEE);
}

#[tokio::test]
async fn arbitrary_cpi() {
    let mut f = Fixture::new().await;
    let min = f.config().await.params.min_miner_stake;
    let miner = f.register(ROLE_MINER, min).await;
    // A "token program" that is not SPL Token.
    let fake_token_program = Pubkey::new_unique();
    let stake = ix::replace_account(
        ix::stake(&miner.operator_pubkey(), &miner.operator.tokens, min),
        &anchor_spl::token::ID,
        &fake_token_program,
    );
    assert_anchor_error(
        &f.send(&[stake], &[&miner.operator.keypair]).await,
        ErrorCode::InvalidProgramId,
    );
}

#[tokio::test]
async fn duplicate_mutable_accounts() {
    let mut f = Fixture::new().await;
    let params = f.config().await.params;
    let miner = f.staked_miner(params.min_miner_stake).await;
    let (r, ticket) = f.request_unstake(&miner, params.min_miner_stake).await;
    r.unwrap();
    f.advance(params.unbonding_secs).await;
    // Withdraw "into" the stake vault itself: the same account twice, mutable.
    let op = miner.operator.keypair.insecure_clone();
    let withdraw = ix::withdraw_unbonded(&op.pubkey(), &miner.node, &ticket, &pda::stake_vault());
    let result = f.send(&[withdraw], &[&op]).await;
    assert_anchor_error(&result, ErrorCode::ConstraintDuplicateMutableAccount);
}

#[tokio::test]
async fn bump_canonicalization() {
    let mut f = Fixture::new().await;
    let operator = f.user(0).await;
    // Find a valid but non-canonical bump for the operator's node address.
    let canonical = pda::node(&operator.pubkey());
    let other = (0..=254u8).rev().find_map(|bump| {
        Pubkey::create_program_address(
            &[NODE_SEED, operator.pubkey().as_ref(), &[bump]],
            &verdict::ID,
        )
        .ok()
        .filter(|k| *k != canonical)
    });
    let Some(non_canonical) = other else { return };
    let reg = ix::register_node(
        &operator.pubkey(),
        &operator.pubkey(),
        &f.mint,
        ROLE_MINER,
        vec![],
        0,
    );
    let reg = ix::replace_account(reg, &canonical, &non_canonical);
    assert_anchor_error(
        &f.send(&[reg], &[&operator.keypair]).await,
        ErrorCode::ConstraintSeeds,
    );
}

#[tokio::test]
async fn pda_sharing() {
    let mut f = Fixture::new().await;
    let committee = f.committee_of(5).await;
    let params = f.config().await.params;
    let miner = f.warm_miner(&committee, params.min_miner_stake).await;
    let client = f.user(2 * FEE).await;
    let (r, rich) = f.submit_job(&client, 1, RiskLevel::Low, FEE).await;
    r.unwrap();
    let (r, cheap) = f.submit_job(&client, 2, RiskLevel::Low, FEE).await;
    r.unwrap();
    f.settle(&committee, &cheap, &miner.node, FEE, good_report(1))
        .await
        .unwrap();
    f.advance(2 * params.epoch_secs).await;
    // Claim job 2's payout out of job 1's escrow.
    let claim = ix::replace_account(
        ix::claim_payout(&cheap, &miner.node, &client.tokens),
        &pda::escrow(&cheap),
        &pda::escrow(&rich),
    );
    assert_anchor_error(&f.send(&[claim], &[]).await, ErrorCode::ConstraintSeeds);
    assert_eq!(f.token_balance(&pda::escrow(&rich)).await, FEE);
}

#[tokio::test]
async fn closed_accounts_stay_closed() {
    let mut f = Fixture::new().await;
    let committee = f.committee_of(5).await;
    let params = f.config().await.params;
    let miner = f.warm_miner(&committee, params.min_miner_stake).await;
    let client = f.user(FEE).await;
    let (r, job) = f.submit_job(&client, 1, RiskLevel::Low, FEE).await;
    r.unwrap();
    f.settle(&committee, &job, &miner.node, FEE, good_report(1))
        .await
        .unwrap();
    f.advance(2 * params.epoch_secs).await;
    f.claim(&job, &miner).await.unwrap();
    let before = f.job(&job).await;
    f.send(&[ix::close_job(&job, &before)], &[]).await.unwrap();
    // Neither a second close (double credit) nor a claim can touch it again.
    assert_anchor_error(
        &f.send(&[ix::close_job(&job, &before)], &[]).await,
        ErrorCode::AccountNotInitialized,
    );
    assert_anchor_error(
        &f.claim_raw(&job, &miner, &client.tokens).await,
        ErrorCode::AccountNotInitialized,
    );
}

#[tokio::test]
async fn sysvar_address_checking() {
    let mut f = Fixture::new().await;
    let committee = f.committee_of(5).await;
    let params = f.config().await.params;
    let miner = f.warm_miner(&committee, params.min_miner_stake).await;
    let client = f.user(FEE).await;
    let (r, job) = f.submit_job(&client, 1, RiskLevel::Low, FEE).await;
    r.unwrap();
    // A fake "instructions sysvar" account.
    let fake = f.user(0).await.pubkey();
    let epoch = f.committee().await.epoch;
    let created_slot = f.job(&job).await.created_slot;
    let message = verdict_sdk::attest::settle_message(
        epoch,
        &job,
        created_slot,
        &miner.node,
        1,
        FEE,
        &good_report(1),
    );
    let settle = ix::replace_account(
        ix::settle_job(&job, &miner.node, FEE, good_report(1)),
        &solana_sdk::sysvar::instructions::ID,
        &fake,
    );
    let quorum: Vec<&NodeHandle> = committee[..3].iter().collect();
    assert_verdict_error(
        &f.attest(&quorum, &message, settle).await,
        VerdictError::WrongSysvar,
    );
    // A fake SlotHashes for the committee draw's seed.
    f.advance(params.committee_rotation_secs).await;
    for h in &committee {
        f.enter_draw(h).await.unwrap();
    }
    f.send(&[ix::request_committee_draw()], &[]).await.unwrap();
    for _ in 0..3 {
        f.next_slot().await;
    }
    let seed = ix::replace_account(
        ix::seed_committee_draw(),
        &verdict::instructions::request_committee_draw::SLOT_HASHES_ID,
        &fake,
    );
    assert_verdict_error(&f.send(&[seed], &[]).await, VerdictError::WrongSysvar);
    // And a fake instructions sysvar for the request (the CPI guard).
    let request = ix::replace_account(
        ix::request_committee_draw(),
        &solana_sdk::sysvar::instructions::ID,
        &fake,
    );
    assert_verdict_error(&f.send(&[request], &[]).await, VerdictError::WrongSysvar);
}
