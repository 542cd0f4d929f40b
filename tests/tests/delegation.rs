//! Delegation: shares of a node's pool, undelegation through unbonding
//! tickets, exact amounts and every refusal.
#![allow(deprecated)]

use anchor_lang::error::ErrorCode;
use verdict::constants::ROLE_MINER;
use verdict::errors::VerdictError;
use verdict::state::{Delegation, TicketKind, UnbondTicket};
use verdict_sdk::events::VerdictEvent;
use verdict_sdk::{instructions as ix, pda};
use verdict_tests::*;

#[tokio::test]
async fn delegators_get_shares_and_totals_follow() {
    let mut f = Fixture::new().await;
    let min = f.config().await.params.min_miner_stake;
    let h = f.staked_miner(min).await;
    let alice = f.user(300 * TOKEN).await;
    let bob = f.user(700 * TOKEN).await;
    let out = f.delegate(&alice, &h.node, 300 * TOKEN).await.unwrap();
    assert!(out
        .events
        .iter()
        .any(|e| matches!(e, VerdictEvent::Delegated(d) if d.shares == 300 * TOKEN)));
    f.delegate(&bob, &h.node, 700 * TOKEN).await.unwrap();

    let a: Delegation = f
        .fetch_account(&pda::delegation(&h.node, &alice.pubkey()))
        .await;
    assert_eq!(
        (a.node, a.staker, a.shares),
        (h.node, alice.pubkey(), 300 * TOKEN)
    );
    let node = f.node(&h.node).await;
    assert_eq!(
        (node.delegation.amount, node.delegation.shares),
        (1_000 * TOKEN, 1_000 * TOKEN)
    );
    assert_eq!(node.active_stake().unwrap(), min + 1_000 * TOKEN);
    assert_eq!(f.config().await.totals.delegated, 1_000 * TOKEN);
    assert_eq!(
        f.token_balance(&pda::stake_vault()).await,
        min + 1_000 * TOKEN
    );
}

#[tokio::test]
async fn delegating_twice_adds_to_the_same_account() {
    let mut f = Fixture::new().await;
    let h = f.register(ROLE_MINER, 0).await;
    let alice = f.user(10 * TOKEN).await;
    f.delegate(&alice, &h.node, 4 * TOKEN).await.unwrap();
    f.delegate(&alice, &h.node, 6 * TOKEN).await.unwrap();
    let a: Delegation = f
        .fetch_account(&pda::delegation(&h.node, &alice.pubkey()))
        .await;
    assert_eq!(a.shares, 10 * TOKEN);
}

#[tokio::test]
async fn delegate_refuses_zero_wrong_mint_wrong_owner_and_unknown_node() {
    let mut f = Fixture::new().await;
    let h = f.register(ROLE_MINER, 0).await;
    let alice = f.user(10 * TOKEN).await;
    assert_verdict_error(
        &f.delegate(&alice, &h.node, 0).await,
        VerdictError::ZeroAmount,
    );
    assert_verdict_error(
        &f.delegate(&alice, &h.node, 11 * TOKEN).await,
        VerdictError::InsufficientFunds,
    );

    let other_mint = f.create_mint().await;
    let foreign = f.token_account(&alice.pubkey(), &other_mint).await;
    let wrong_mint = ix::delegate(&alice.pubkey(), &h.node, &foreign, TOKEN);
    assert_verdict_error(
        &f.send(&[wrong_mint], &[&alice.keypair]).await,
        VerdictError::WrongMint,
    );

    let bob = f.user(10 * TOKEN).await;
    let bobs_tokens = ix::delegate(&alice.pubkey(), &h.node, &bob.tokens, TOKEN);
    assert_verdict_error(
        &f.send(&[bobs_tokens], &[&alice.keypair]).await,
        VerdictError::WrongTokenOwner,
    );

    let nowhere = pda::node(&alice.pubkey());
    // No Node there: the zero-copy loader checks the owner first (3007).
    assert_anchor_error(
        &f.delegate(&alice, &nowhere, TOKEN).await,
        ErrorCode::AccountOwnedByWrongProgram,
    );
    assert_eq!(f.token_balance(&alice.tokens).await, 10 * TOKEN);
}

#[tokio::test]
async fn delegation_at_a_wrong_pda_is_refused() {
    let mut f = Fixture::new().await;
    let h = f.register(ROLE_MINER, 0).await;
    let alice = f.user(10 * TOKEN).await;
    let bob = f.user(0).await;
    // Alice tries to book her tokens on Bob's delegation account.
    let d = ix::delegate(&alice.pubkey(), &h.node, &alice.tokens, TOKEN);
    let d = ix::replace_account(
        d,
        &pda::delegation(&h.node, &alice.pubkey()),
        &pda::delegation(&h.node, &bob.pubkey()),
    );
    assert_anchor_error(
        &f.send(&[d], &[&alice.keypair]).await,
        ErrorCode::ConstraintSeeds,
    );
}

#[tokio::test]
async fn undelegate_part_then_all_and_withdraw_exact_amounts() {
    let mut f = Fixture::new().await;
    let params = f.config().await.params;
    let h = f.register(ROLE_MINER, 0).await;
    let alice = f.user(10 * TOKEN).await;
    f.delegate(&alice, &h.node, 10 * TOKEN).await.unwrap();
    let delegation = pda::delegation(&h.node, &alice.pubkey());

    let (r, first) = f.request_undelegate(&alice, &h.node, 4 * TOKEN).await;
    let out = r.unwrap();
    assert!(out.events.iter().any(|e| matches!(e, VerdictEvent::UnbondingQueued(q) if q.kind == TicketKind::Delegation && q.amount == 4 * TOKEN)));
    let d: Delegation = f.fetch_account(&delegation).await;
    assert_eq!(d.shares, 6 * TOKEN);
    let (r, second) = f.request_undelegate(&alice, &h.node, 6 * TOKEN).await;
    r.unwrap();
    assert!(
        !f.exists(&delegation).await,
        "an emptied delegation is closed"
    );
    let node = f.node(&h.node).await;
    assert_eq!(
        (node.delegation.amount, node.unbonding.amount),
        (0, 10 * TOKEN)
    );
    let t: UnbondTicket = f.fetch_account(&second).await;
    assert_eq!(
        (t.owner, t.kind, t.requested_amount),
        (alice.pubkey(), TicketKind::Delegation, 6 * TOKEN)
    );

    let w1 = ix::withdraw_undelegated(&alice.pubkey(), &h.node, &first, &alice.tokens);
    assert_verdict_error(
        &f.send(std::slice::from_ref(&w1), &[&alice.keypair]).await,
        VerdictError::UnbondingNotReleased,
    );
    f.advance(params.unbonding_secs).await;
    f.send(std::slice::from_ref(&w1), &[&alice.keypair])
        .await
        .unwrap();
    assert_eq!(f.token_balance(&alice.tokens).await, 4 * TOKEN);
    assert_anchor_error(
        &f.send(&[w1], &[&alice.keypair]).await,
        ErrorCode::AccountNotInitialized,
    );
    let w2 = ix::withdraw_undelegated(&alice.pubkey(), &h.node, &second, &alice.tokens);
    let wrong_kind = ix::withdraw_unbonded(&alice.pubkey(), &h.node, &second, &alice.tokens);
    assert_verdict_error(
        &f.send(&[wrong_kind], &[&alice.keypair]).await,
        VerdictError::WrongTicketKind,
    );
    f.send(&[w2], &[&alice.keypair]).await.unwrap();
    assert_eq!(f.token_balance(&alice.tokens).await, 10 * TOKEN);
    assert_eq!(f.token_balance(&pda::stake_vault()).await, 0);
    assert!(f.node(&h.node).await.is_empty());
}

#[tokio::test]
async fn undelegate_more_than_owned_or_someone_elses_is_refused() {
    let mut f = Fixture::new().await;
    let h = f.register(ROLE_MINER, 0).await;
    let alice = f.user(10 * TOKEN).await;
    let bob = f.user(10 * TOKEN).await;
    f.delegate(&alice, &h.node, 10 * TOKEN).await.unwrap();
    f.delegate(&bob, &h.node, 10 * TOKEN).await.unwrap();
    assert_verdict_error(
        &f.request_undelegate(&alice, &h.node, 10 * TOKEN + 1)
            .await
            .0,
        VerdictError::UndelegateExceedsOwned,
    );
    assert_verdict_error(
        &f.request_undelegate(&alice, &h.node, 0).await.0,
        VerdictError::ZeroAmount,
    );

    // Alice presents Bob's delegation: it records Bob as its staker.
    let ticket_id = f.node(&h.node).await.next_ticket_id;
    let steal = ix::request_undelegate(&alice.pubkey(), &h.node, ticket_id, TOKEN);
    let steal = ix::replace_account(
        steal,
        &pda::delegation(&h.node, &alice.pubkey()),
        &pda::delegation(&h.node, &bob.pubkey()),
    );
    assert_verdict_error(
        &f.send(&[steal], &[&alice.keypair]).await,
        VerdictError::Unauthorized,
    );

    // A non-delegator has nothing to undelegate.
    let carol = f.user(0).await;
    assert_anchor_error(
        &f.request_undelegate(&carol, &h.node, 1).await.0,
        ErrorCode::AccountNotInitialized,
    );
}

#[tokio::test]
async fn a_ticket_id_other_than_the_next_one_is_refused() {
    let mut f = Fixture::new().await;
    let h = f.register(ROLE_MINER, 0).await;
    let alice = f.user(10 * TOKEN).await;
    f.delegate(&alice, &h.node, 10 * TOKEN).await.unwrap();
    let skip = ix::request_undelegate(&alice.pubkey(), &h.node, 7, TOKEN);
    assert_anchor_error(
        &f.send(&[skip], &[&alice.keypair]).await,
        ErrorCode::ConstraintSeeds,
    );
}

#[tokio::test]
async fn operator_commission_is_bounded_and_rewards_split_by_it() {
    let mut f = Fixture::new().await;
    let h = f.register(ROLE_MINER, 0).await;
    let mut node = f.node(&h.node).await;
    node.commission_bps = 1_000;
    node.self_stake = 100;
    node.delegation.amount = 300;
    // 1_000 tokens earned: 75% of them by delegated stake, 10% of that to the operator.
    let split = node.split_reward(1_000).unwrap();
    assert_eq!((split.operator, split.delegators), (325, 675));
    node.delegation.amount = 0;
    assert_eq!(node.split_reward(1_000).unwrap().operator, 1_000);
}
