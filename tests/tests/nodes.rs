//! Node registration, updates, key rotation and closing, with refusals.
#![allow(deprecated)]

use anchor_lang::error::ErrorCode;
use solana_sdk::signature::Keypair;
use solana_sdk::signer::Signer;
use verdict::constants::{ROLE_ALL, ROLE_MINER, ROLE_VALIDATOR};
use verdict::errors::VerdictError;
use verdict::state::{model_id, NodeStatus};
use verdict_sdk::events::VerdictEvent;
use verdict_sdk::{instructions as ix, pda};
use verdict_tests::*;

#[tokio::test]
async fn register_creates_an_inactive_node_with_its_key_and_models() {
    let mut f = Fixture::new().await;
    let operator = f.user(0).await;
    let signing = Keypair::new();
    let models = vec![model_id("all-minilm-l6-v2").unwrap(), test_model()];
    let reg = ix::register_node(
        &operator.pubkey(),
        &signing.pubkey(),
        &f.mint,
        ROLE_ALL,
        models.clone(),
        750,
    );
    let out = f
        .send(&[reg], &[&operator.keypair, &signing])
        .await
        .unwrap();
    assert!(out
        .events
        .iter()
        .any(|e| matches!(e, VerdictEvent::NodeRegistered(r) if r.roles == ROLE_ALL)));

    let node_key = pda::node(&operator.pubkey());
    let node = f.node(&node_key).await;
    assert_eq!(node.operator, operator.pubkey());
    assert_eq!(node.signing_key, signing.pubkey());
    // The vault created with it, recorded so later instructions bind it by address.
    assert_eq!(node.vault, pda::node_vault(&node_key));
    assert_eq!(node.roles, ROLE_ALL);
    assert_eq!(node.status(), NodeStatus::Active);
    assert_eq!(node.commission_bps, 750);
    assert!(node.serves_model(&models[0]) && node.serves_model(&models[1]));
    assert!(!node.counted_active(), "no stake yet");
    assert_eq!(
        node.validator_score,
        f.config().await.params.initial_validator_score
    );
    let cfg = f.config().await;
    assert_eq!((cfg.nodes_registered, cfg.active_nodes), (1, 0));
}

#[tokio::test]
async fn register_refuses_bad_roles_models_commission_and_duplicates() {
    let mut f = Fixture::new().await;
    let op = f.user(0).await;
    let me = op.pubkey();
    let mint = f.mint;
    let send = |ix| (ix, op.keypair.insecure_clone());
    let (bad_roles, k) = send(ix::register_node(&me, &me, &mint, 0, vec![], 0));
    assert_verdict_error(
        &f.send(&[bad_roles], &[&k]).await,
        VerdictError::InvalidRoles,
    );
    let (unknown_role, k) = send(ix::register_node(&me, &me, &mint, 4, vec![], 0));
    assert_verdict_error(
        &f.send(&[unknown_role], &[&k]).await,
        VerdictError::InvalidRoles,
    );
    let nine = (0..9)
        .map(|i| model_id(&format!("m{i}")).unwrap())
        .collect();
    let (too_many, k) = send(ix::register_node(&me, &me, &mint, ROLE_MINER, nine, 0));
    assert_verdict_error(
        &f.send(&[too_many], &[&k]).await,
        VerdictError::TooManyModels,
    );
    let mut garbage = [0u8; 32];
    garbage[0] = b' ';
    let (bad_model, k) = send(ix::register_node(
        &me,
        &me,
        &mint,
        ROLE_MINER,
        vec![garbage],
        0,
    ));
    assert_verdict_error(
        &f.send(&[bad_model], &[&k]).await,
        VerdictError::InvalidModelId,
    );
    let max = f.config().await.params.max_commission_bps;
    let (greedy, k) = send(ix::register_node(
        &me,
        &me,
        &mint,
        ROLE_MINER,
        vec![],
        max + 1,
    ));
    assert_verdict_error(
        &f.send(&[greedy], &[&k]).await,
        VerdictError::CommissionTooHigh,
    );

    let (ok, k) = send(ix::register_node(&me, &me, &mint, ROLE_MINER, vec![], max));
    f.send(&[ok], &[&k]).await.unwrap();
    let (again, k) = send(ix::register_node(
        &me,
        &me,
        &mint,
        ROLE_VALIDATOR,
        vec![],
        0,
    ));
    assert!(
        f.send(&[again], &[&k]).await.is_err(),
        "a second node for one operator must fail"
    );
    assert_eq!(f.config().await.nodes_registered, 1);
}

#[tokio::test]
async fn register_requires_the_signing_key_to_sign() {
    let mut f = Fixture::new().await;
    let op = f.user(0).await;
    let someone_elses_key = Keypair::new().pubkey();
    let mut reg = ix::register_node(
        &op.pubkey(),
        &someone_elses_key,
        &f.mint,
        ROLE_MINER,
        vec![],
        0,
    );
    reg.accounts[1].is_signer = false;
    assert_anchor_error(
        &f.send(&[reg], &[&op.keypair]).await,
        ErrorCode::AccountNotSigner,
    );
}

#[tokio::test]
async fn register_at_a_wrong_pda_is_refused() {
    let mut f = Fixture::new().await;
    let op = f.user(0).await;
    let other = Keypair::new().pubkey();
    let reg = ix::register_node(&op.pubkey(), &op.pubkey(), &f.mint, ROLE_MINER, vec![], 0);
    let reg = ix::replace_account(reg, &pda::node(&op.pubkey()), &pda::node(&other));
    assert_anchor_error(
        &f.send(&[reg], &[&op.keypair]).await,
        ErrorCode::ConstraintSeeds,
    );
}

#[tokio::test]
async fn update_node_changes_roles_models_commission_and_recounts_activity() {
    let mut f = Fixture::new().await;
    let params = f.config().await.params;
    // Staked enough for a miner, not for a validator.
    let h = f.staked_miner(params.min_miner_stake).await;
    assert_eq!(f.config().await.active_nodes, 1);
    let op = h.operator.keypair.insecure_clone();
    let models = vec![model_id("all-minilm-l6-v2").unwrap()];
    let upd = ix::update_node(&op.pubkey(), ROLE_ALL, models.clone(), 0);
    let out = f.send(&[upd], &[&op]).await.unwrap();
    assert!(out
        .events
        .iter()
        .any(|e| matches!(e, VerdictEvent::NodeUpdated(_))));
    let node = f.node(&h.node).await;
    assert_eq!(node.roles, ROLE_ALL);
    assert!(node.serves_model(&models[0]));
    assert!(!node.serves_model(&model_id("test-projection-v1").unwrap()));
    assert!(
        !node.counted_active(),
        "a validator needs the validator minimum"
    );
    assert_eq!(f.config().await.active_nodes, 0);

    // Back to miner only: active again.
    f.send(
        &[ix::update_node(&op.pubkey(), ROLE_MINER, models, 0)],
        &[&op],
    )
    .await
    .unwrap();
    assert_eq!(f.config().await.active_nodes, 1);
}

#[tokio::test]
async fn update_node_refuses_other_signers_and_bad_values() {
    let mut f = Fixture::new().await;
    let h = f.register(ROLE_MINER, 0).await;
    let intruder = f.user(0).await;
    // The intruder's own node PDA does not exist; pointing at the victim's
    // node fails `has_one = operator`, pointing at its own fails as not a node.
    let upd = ix::update_node(&intruder.pubkey(), ROLE_MINER, vec![], 0);
    let upd = ix::replace_account(upd, &pda::node(&intruder.pubkey()), &h.node);
    assert_verdict_error(
        &f.send(&[upd], &[&intruder.keypair]).await,
        VerdictError::Unauthorized,
    );
    let upd = ix::update_node(&intruder.pubkey(), ROLE_MINER, vec![], 0);
    // No Node there: the zero-copy loader checks the owner first (3007).
    assert_anchor_error(
        &f.send(&[upd], &[&intruder.keypair]).await,
        ErrorCode::AccountOwnedByWrongProgram,
    );

    let op = h.operator.keypair.insecure_clone();
    assert_verdict_error(
        &f.send(&[ix::update_node(&op.pubkey(), 0, vec![], 0)], &[&op])
            .await,
        VerdictError::InvalidRoles,
    );
    assert_verdict_error(
        &f.send(
            &[ix::update_node(&op.pubkey(), ROLE_MINER, vec![], 10_001)],
            &[&op],
        )
        .await,
        VerdictError::CommissionTooHigh,
    );
}

#[tokio::test]
async fn rotate_signing_key_needs_operator_and_new_key() {
    let mut f = Fixture::new().await;
    let h = f.register(ROLE_VALIDATOR, 0).await;
    let op = h.operator.keypair.insecure_clone();
    let new_key = Keypair::new();

    // Same key again is refused.
    let same = ix::rotate_signing_key(&op.pubkey(), &h.signing_key.pubkey());
    assert_verdict_error(
        &f.send(&[same], &[&op, &h.signing_key]).await,
        VerdictError::InvalidSigningKey,
    );
    // The new key must sign.
    let mut unsigned = ix::rotate_signing_key(&op.pubkey(), &new_key.pubkey());
    unsigned.accounts[1].is_signer = false;
    assert_anchor_error(
        &f.send(&[unsigned], &[&op]).await,
        ErrorCode::AccountNotSigner,
    );

    let out = f
        .send(
            &[ix::rotate_signing_key(&op.pubkey(), &new_key.pubkey())],
            &[&op, &new_key],
        )
        .await
        .unwrap();
    assert!(out.events.iter().any(
        |e| matches!(e, VerdictEvent::SigningKeyRotated(r) if r.signing_key == new_key.pubkey())
    ));
    assert_eq!(f.node(&h.node).await.signing_key, new_key.pubkey());
}

#[tokio::test]
async fn close_node_returns_rent_only_when_empty() {
    let mut f = Fixture::new().await;
    let min = f.config().await.params.min_miner_stake;
    let h = f.staked_miner(min).await;
    let op = h.operator.keypair.insecure_clone();

    // With stake in it.
    assert_verdict_error(
        &f.send(&[ix::close_node(&op.pubkey())], &[&op]).await,
        VerdictError::NodeNotEmpty,
    );
    // With the stake unbonding.
    let (r, ticket) = f.request_unstake(&h, min).await;
    r.unwrap();
    assert_verdict_error(
        &f.send(&[ix::close_node(&op.pubkey())], &[&op]).await,
        VerdictError::NodeNotEmpty,
    );
    // With a delegation in it.
    let staker = f.user(5 * TOKEN).await;
    f.delegate(&staker, &h.node, 5 * TOKEN).await.unwrap();
    let days = f.config().await.params.unbonding_secs;
    f.advance(days).await;
    let w = ix::withdraw_unbonded(&op.pubkey(), &h.node, &ticket, &h.operator.tokens);
    f.send(&[w], &[&op]).await.unwrap();
    assert_verdict_error(
        &f.send(&[ix::close_node(&op.pubkey())], &[&op]).await,
        VerdictError::NodeNotEmpty,
    );
    let (r, ticket) = f.request_undelegate(&staker, &h.node, 5 * TOKEN).await;
    r.unwrap();
    f.advance(days).await;
    let w = ix::withdraw_undelegated(&staker.pubkey(), &h.node, &ticket, &staker.tokens);
    f.send(&[w], &[&staker.keypair]).await.unwrap();

    // Empty now: another signer cannot close it, the operator can.
    let intruder = f.user(0).await;
    let steal = ix::replace_account(
        ix::close_node(&intruder.pubkey()),
        &pda::node(&intruder.pubkey()),
        &h.node,
    );
    assert_verdict_error(
        &f.send(&[steal], &[&intruder.keypair]).await,
        VerdictError::Unauthorized,
    );
    let rent = f.lamports(&h.node).await;
    let before = f.lamports(&op.pubkey()).await;
    let out = f
        .send(&[ix::close_node(&op.pubkey())], &[&op])
        .await
        .unwrap();
    assert!(out
        .events
        .iter()
        .any(|e| matches!(e, VerdictEvent::NodeClosed(_))));
    assert!(!f.exists(&h.node).await);
    assert_eq!(f.lamports(&op.pubkey()).await, before + rent);
    assert_eq!(f.config().await.nodes_registered, 0);
    assert_eq!(f.token_balance(&h.operator.tokens).await, min);
    assert_eq!(f.token_balance(&staker.tokens).await, 5 * TOKEN);
}
