//! Self stake: stake, request_unstake, withdraw_unbonded, with exact token
//! amounts and every refusal; invariants run after each transaction.
#![allow(deprecated)]

use anchor_lang::error::ErrorCode;
use solana_sdk::signer::Signer;
use verdict::constants::{ROLE_MINER, ROLE_VALIDATOR};
use verdict::errors::VerdictError;
use verdict::state::TicketKind;
use verdict_sdk::events::VerdictEvent;
use verdict_sdk::{instructions as ix, pda};
use verdict_tests::*;

#[tokio::test]
async fn stake_moves_tokens_into_the_vault_and_activates_the_node() {
    let mut f = Fixture::new().await;
    let min = f.config().await.params.min_validator_stake;
    let h = f.register(ROLE_VALIDATOR, 3 * min).await;
    let out = f.stake(&h, min).await.unwrap();
    assert!(out
        .events
        .iter()
        .any(|e| matches!(e, VerdictEvent::Staked(s) if s.amount == min && s.active)));
    f.stake(&h, min).await.unwrap();
    assert_eq!(f.token_balance(&h.operator.tokens).await, min);
    assert_eq!(f.token_balance(&pda::stake_vault()).await, 2 * min);
    let node = f.node(&h.node).await;
    assert_eq!(node.self_stake, 2 * min);
    let cfg = f.config().await;
    assert_eq!(
        (
            cfg.totals.self_stake,
            cfg.active_nodes,
            cfg.active_validators
        ),
        (2 * min, 1, 1)
    );
}

/// Every instruction binds the Config by its one address (no seeds to
/// re-derive): a look-alike, the real Config's bytes at another address
/// owned by the program with the stake minimum lowered, is refused.
#[tokio::test]
async fn stake_through_a_config_look_alike_is_refused() {
    let mut f = Fixture::new().await;
    let min = f.config().await.params.min_miner_stake;
    let h = f.register(ROLE_MINER, min).await;
    let look_alike = solana_sdk::pubkey::Pubkey::new_unique();
    {
        let mut real = f
            .chain
            .account(&pda::config())
            .await
            .unwrap()
            .expect("the Config exists");
        let mut config = f.config().await;
        config.params.min_miner_stake = 1;
        real.data.clear();
        anchor_lang::AccountSerialize::try_serialize(&config, &mut real.data).unwrap();
        f.chain
            .context()
            .await
            .set_account(&look_alike, &real.into());
    }
    let stake = ix::replace_account(
        ix::stake(&h.operator.pubkey(), &h.operator.tokens, 1),
        &pda::config(),
        &look_alike,
    );
    assert_anchor_error(
        &f.send(&[stake], &[&h.operator.keypair]).await,
        ErrorCode::ConstraintAddress,
    );
    assert_eq!(f.node(&h.node).await.self_stake, 0);
    assert_eq!(f.token_balance(&h.operator.tokens).await, min);
}

#[tokio::test]
async fn stake_below_the_role_minimum_is_refused() {
    let mut f = Fixture::new().await;
    let min = f.config().await.params.min_miner_stake;
    let h = f.register(ROLE_MINER, min).await;
    assert_verdict_error(&f.stake(&h, min - 1).await, VerdictError::StakeBelowMinimum);
    assert_verdict_error(&f.stake(&h, 0).await, VerdictError::ZeroAmount);
}

#[tokio::test]
async fn stake_more_than_held_is_refused_with_a_typed_error() {
    let mut f = Fixture::new().await;
    let min = f.config().await.params.min_miner_stake;
    let h = f.register(ROLE_MINER, min).await;
    assert_verdict_error(&f.stake(&h, min + 1).await, VerdictError::InsufficientFunds);
    assert_verdict_error(
        &f.stake(&h, u64::MAX).await,
        VerdictError::InsufficientFunds,
    );
}

#[tokio::test]
async fn staking_the_whole_u64_supply_is_exact_and_one_more_overflows() {
    let mut f = Fixture::new().await;
    let h = f.register(ROLE_MINER, u64::MAX).await;
    f.stake(&h, u64::MAX).await.unwrap();
    assert_eq!(f.node(&h.node).await.self_stake, u64::MAX);
    assert_eq!(f.token_balance(&pda::stake_vault()).await, u64::MAX);
    // One more token would overflow the node's stake: refused before any
    // token moves (the mint could not create it anyway).
    assert_verdict_error(&f.stake(&h, 1).await, VerdictError::MathOverflow);
}

#[tokio::test]
async fn stake_refuses_wrong_mint_wrong_owner_and_wrong_vault() {
    let mut f = Fixture::new().await;
    let min = f.config().await.params.min_miner_stake;
    let h = f.register(ROLE_MINER, min).await;
    let op = h.operator.keypair.insecure_clone();

    let other_mint = f.create_mint().await;
    let foreign = f.token_account(&op.pubkey(), &other_mint).await;
    let wrong_mint = ix::stake(&op.pubkey(), &foreign, min);
    assert_verdict_error(
        &f.send(&[wrong_mint], &[&op]).await,
        VerdictError::WrongMint,
    );

    let victim = f.user(min).await;
    let not_mine = ix::stake(&op.pubkey(), &victim.tokens, min);
    assert_verdict_error(
        &f.send(&[not_mine], &[&op]).await,
        VerdictError::WrongTokenOwner,
    );

    // A token account of the right mint that is not the Config's vault.
    let decoy = f.token_account(&op.pubkey(), &f.mint.clone()).await;
    let wrong_vault = ix::replace_account(
        ix::stake(&op.pubkey(), &h.operator.tokens, min),
        &pda::stake_vault(),
        &decoy,
    );
    assert_verdict_error(
        &f.send(&[wrong_vault], &[&op]).await,
        VerdictError::WrongVault,
    );
    assert_eq!(
        f.token_balance(&h.operator.tokens).await,
        min,
        "nothing moved"
    );
}

#[tokio::test]
async fn stake_from_an_account_that_is_no_token_account_is_refused() {
    let mut f = Fixture::new().await;
    let min = f.config().await.params.min_miner_stake;
    let h = f.register(ROLE_MINER, min).await;
    let op = h.operator.keypair.insecure_clone();
    // The operator's wallet (a system account) and its Node (Verdict's):
    // owned by another program than SPL Token.
    for not_tokens in [op.pubkey(), h.node] {
        let stake = ix::stake(&op.pubkey(), &not_tokens, min);
        assert_anchor_error(
            &f.send(&[stake], &[&op]).await,
            ErrorCode::AccountOwnedByWrongProgram,
        );
    }
    // SPL Token's, but a mint, not a token account.
    let mint = f.mint;
    assert_anchor_error(
        &f.send(&[ix::stake(&op.pubkey(), &mint, min)], &[&op]).await,
        ErrorCode::AccountDidNotDeserialize,
    );
    assert_eq!(f.token_balance(&h.operator.tokens).await, min);
    assert_eq!(f.token_balance(&pda::stake_vault()).await, 0);
}

#[tokio::test]
async fn stake_for_an_unregistered_node_or_someone_elses_node_is_refused() {
    let mut f = Fixture::new().await;
    let min = f.config().await.params.min_miner_stake;
    let stranger = f.user(min).await;
    let unregistered = ix::stake(&stranger.pubkey(), &stranger.tokens, min);
    // No Node there: the zero-copy loader checks the owner first (3007).
    assert_anchor_error(
        &f.send(&[unregistered], &[&stranger.keypair]).await,
        ErrorCode::AccountOwnedByWrongProgram,
    );

    let h = f.register(ROLE_MINER, 0).await;
    let into_victim = ix::replace_account(
        ix::stake(&stranger.pubkey(), &stranger.tokens, min),
        &pda::node(&stranger.pubkey()),
        &h.node,
    );
    assert_verdict_error(
        &f.send(&[into_victim], &[&stranger.keypair]).await,
        VerdictError::Unauthorized,
    );
}

#[tokio::test]
async fn unstake_queues_a_ticket_that_stops_counting_at_once() {
    let mut f = Fixture::new().await;
    let params = f.config().await.params;
    let min = params.min_miner_stake;
    let h = f.staked_miner(3 * min).await;
    let (r, ticket) = f.request_unstake(&h, min).await;
    let out = r.unwrap();
    let release = f.now + params.unbonding_secs;
    assert!(out.events.iter().any(|e| matches!(e, VerdictEvent::UnbondingQueued(q) if q.amount == min && q.release_at == release)));

    let node = f.node(&h.node).await;
    assert_eq!(node.self_stake, 2 * min);
    assert_eq!(
        node.active_stake().unwrap(),
        2 * min,
        "unbonding no longer counts"
    );
    assert_eq!(
        node.slashable_stake().unwrap(),
        3 * min,
        "but stays slashable"
    );
    let t: verdict::state::UnbondTicket = f.fetch_account(&ticket).await;
    assert_eq!(
        (t.kind, t.owner, t.requested_amount, t.release_at),
        (TicketKind::SelfStake, h.operator_pubkey(), min, release)
    );
    let cfg = f.config().await;
    assert_eq!(
        (cfg.totals.self_stake, cfg.totals.unbonding),
        (2 * min, min)
    );
}

#[tokio::test]
async fn unstake_refuses_more_than_staked_and_a_remainder_below_minimum() {
    let mut f = Fixture::new().await;
    let min = f.config().await.params.min_miner_stake;
    let h = f.staked_miner(2 * min).await;
    assert_verdict_error(
        &f.request_unstake(&h, 2 * min + 1).await.0,
        VerdictError::UnstakeExceedsStake,
    );
    assert_verdict_error(
        &f.request_unstake(&h, min + 1).await.0,
        VerdictError::StakeBelowMinimum,
    );
    assert_verdict_error(&f.request_unstake(&h, 0).await.0, VerdictError::ZeroAmount);
    // Leaving exactly the minimum, or nothing, is fine.
    f.request_unstake(&h, min).await.0.unwrap();
    f.request_unstake(&h, min).await.0.unwrap();
    assert_eq!(f.config().await.active_nodes, 0);
}

#[tokio::test]
async fn unstake_by_another_signer_is_refused() {
    let mut f = Fixture::new().await;
    let min = f.config().await.params.min_miner_stake;
    let h = f.staked_miner(min).await;
    let thief = f.user(0).await;
    let ticket = pda::unbond_ticket(&h.node, 0);
    let steal = ix::request_unstake(&thief.pubkey(), 0, min);
    let steal = ix::replace_account(steal, &pda::node(&thief.pubkey()), &h.node);
    let steal = ix::replace_account(
        steal,
        &pda::unbond_ticket(&pda::node(&thief.pubkey()), 0),
        &ticket,
    );
    assert_verdict_error(
        &f.send(&[steal], &[&thief.keypair]).await,
        VerdictError::Unauthorized,
    );
}

#[tokio::test]
async fn withdraw_waits_for_release_then_pays_exactly_once() {
    let mut f = Fixture::new().await;
    let params = f.config().await.params;
    let min = params.min_miner_stake;
    let h = f.staked_miner(min).await;
    let op = h.operator.keypair.insecure_clone();
    let (r, ticket) = f.request_unstake(&h, min).await;
    r.unwrap();
    let withdraw = ix::withdraw_unbonded(&op.pubkey(), &h.node, &ticket, &h.operator.tokens);

    f.advance(params.unbonding_secs - 1).await;
    assert_verdict_error(
        &f.send(std::slice::from_ref(&withdraw), &[&op]).await,
        VerdictError::UnbondingNotReleased,
    );
    f.advance(1).await;
    let rent = f.lamports(&ticket).await;
    let lamports = f.lamports(&op.pubkey()).await;
    let out = f
        .send(std::slice::from_ref(&withdraw), &[&op])
        .await
        .unwrap();
    assert!(out
        .events
        .iter()
        .any(|e| matches!(e, VerdictEvent::UnbondingWithdrawn(w) if w.amount == min)));
    assert_eq!(f.token_balance(&h.operator.tokens).await, min);
    assert_eq!(f.token_balance(&pda::stake_vault()).await, 0);
    assert_eq!(
        f.lamports(&op.pubkey()).await,
        lamports + rent,
        "ticket rent returned"
    );
    assert!(!f.exists(&ticket).await);

    // Double withdraw: the ticket is gone.
    assert_anchor_error(
        &f.send(&[withdraw], &[&op]).await,
        ErrorCode::AccountNotInitialized,
    );
}

#[tokio::test]
async fn withdraw_refuses_another_owner_another_kind_and_wrong_destination_mint() {
    let mut f = Fixture::new().await;
    let params = f.config().await.params;
    let min = params.min_miner_stake;
    let h = f.staked_miner(min).await;
    let op = h.operator.keypair.insecure_clone();
    let (r, ticket) = f.request_unstake(&h, min).await;
    r.unwrap();
    f.advance(params.unbonding_secs).await;

    let thief = f.user(0).await;
    let steal = ix::withdraw_unbonded(&thief.pubkey(), &h.node, &ticket, &thief.tokens);
    assert_verdict_error(
        &f.send(&[steal], &[&thief.keypair]).await,
        VerdictError::Unauthorized,
    );

    let wrong_kind = ix::withdraw_undelegated(&op.pubkey(), &h.node, &ticket, &h.operator.tokens);
    assert_verdict_error(
        &f.send(&[wrong_kind], &[&op]).await,
        VerdictError::WrongTicketKind,
    );

    let other_mint = f.create_mint().await;
    let foreign = f.token_account(&op.pubkey(), &other_mint).await;
    let wrong_mint = ix::withdraw_unbonded(&op.pubkey(), &h.node, &ticket, &foreign);
    assert_verdict_error(
        &f.send(&[wrong_mint], &[&op]).await,
        VerdictError::WrongMint,
    );

    // A ticket presented with another node.
    let other = f.staked_miner(min).await;
    let mismatched = ix::withdraw_unbonded(&op.pubkey(), &other.node, &ticket, &h.operator.tokens);
    assert_verdict_error(
        &f.send(&[mismatched], &[&op]).await,
        VerdictError::WrongNode,
    );
    assert_eq!(f.token_balance(&h.operator.tokens).await, 0);
}

#[tokio::test]
async fn withdraw_while_paused_is_refused_and_works_after() {
    let mut f = Fixture::new().await;
    let params = f.config().await.params;
    let min = params.min_miner_stake;
    let h = f.staked_miner(min).await;
    let op = h.operator.keypair.insecure_clone();
    let (r, ticket) = f.request_unstake(&h, min).await;
    r.unwrap();
    f.advance(params.unbonding_secs).await;
    let authority = f.authority.insecure_clone();
    f.send(&[ix::set_paused(&authority.pubkey(), true)], &[&authority])
        .await
        .unwrap();
    let withdraw = ix::withdraw_unbonded(&op.pubkey(), &h.node, &ticket, &h.operator.tokens);
    assert_verdict_error(
        &f.send(std::slice::from_ref(&withdraw), &[&op]).await,
        VerdictError::Paused,
    );
    assert_verdict_error(&f.request_unstake(&h, 1).await.0, VerdictError::Paused);
    f.send(&[ix::set_paused(&authority.pubkey(), false)], &[&authority])
        .await
        .unwrap();
    f.send(&[withdraw], &[&op]).await.unwrap();
}
