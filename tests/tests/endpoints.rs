//! Where a node serves, recorded on chain for discovery: set and changed by
//! its operator or its signing key, validated, removed with the rent back
//! to the operator; refused to anyone else, for a liquidated node, for a
//! forged account, and for URLs that could leak a secret.
#![allow(deprecated)]

use anchor_lang::error::ErrorCode;
use anchor_lang::prelude::Pubkey;
use solana_sdk::instruction::AccountMeta;
use solana_sdk::signature::Keypair;
use solana_sdk::signer::Signer;
use verdict::errors::VerdictError;
use verdict::state::{Node, NodeEndpoint, NodeStatus};
use verdict_sdk::events::VerdictEvent;
use verdict_sdk::{instructions as ix, pda};
use verdict_tests::*;

async fn endpoint_of(f: &Fixture, node: &Pubkey) -> NodeEndpoint {
    f.fetch_account::<NodeEndpoint>(&pda::endpoint(node)).await
}

#[tokio::test]
async fn the_signing_key_or_the_operator_records_and_changes_the_endpoint() {
    let mut f = Fixture::new().await;
    let miner = f
        .staked_miner(f.config().await.params.min_miner_stake)
        .await;
    f.airdrop(&miner.signing_key.pubkey()).await;
    let key = miner.signing_key.insecure_clone();

    // The miner process holds only the signing key: it pays the rent.
    let set = ix::set_node_endpoint(&key.pubkey(), &miner.node, "http://10.0.0.7:8080");
    let out = f.send(&[set], &[&key]).await.unwrap();
    assert!(out.events.iter().any(|e| matches!(
        e,
        VerdictEvent::NodeEndpointSet(s) if s.node == miner.node && s.endpoint == "http://10.0.0.7:8080"
    )));
    let recorded = endpoint_of(&f, &miner.node).await;
    assert_eq!(
        (recorded.node, recorded.url()),
        (miner.node, "http://10.0.0.7:8080")
    );

    // The operator changes it; a shorter URL leaves no tail behind.
    let op = miner.operator.keypair.insecure_clone();
    let change = ix::set_node_endpoint(&op.pubkey(), &miner.node, "https://m.example");
    f.send(&[change], &[&op]).await.unwrap();
    assert_eq!(
        endpoint_of(&f, &miner.node).await.url(),
        "https://m.example"
    );
}

#[tokio::test]
async fn nobody_else_sets_an_endpoint_and_bad_urls_are_refused() {
    let mut f = Fixture::new().await;
    let miner = f
        .staked_miner(f.config().await.params.min_miner_stake)
        .await;
    let other = f.user(0).await;
    let op = miner.operator.keypair.insecure_clone();

    // Wrong signer: neither the operator nor the signing key.
    let stranger = ix::set_node_endpoint(&other.pubkey(), &miner.node, "http://evil:1");
    assert_verdict_error(
        &f.send(&[stranger], &[&other.keypair]).await,
        VerdictError::Unauthorized,
    );

    for bad in [
        "ftp://host",
        "http://user:pass@host",
        "http://host/?token=secret",
        "http://host/#x",
        "http://",
        &format!("http://{}", "a".repeat(200)),
    ] {
        let set = ix::set_node_endpoint(&op.pubkey(), &miner.node, bad);
        assert_verdict_error(&f.send(&[set], &[&op]).await, VerdictError::InvalidEndpoint);
    }
    assert!(!f.exists(&pda::endpoint(&miner.node)).await);

    // Wrong PDA: an endpoint account at another node's address.
    let second = f
        .staked_miner(f.config().await.params.min_miner_stake)
        .await;
    let mut wrong_pda = ix::set_node_endpoint(&op.pubkey(), &miner.node, "http://a:1");
    wrong_pda.accounts[2] = AccountMeta::new(pda::endpoint(&second.node), false);
    assert_anchor_error(
        &f.send(&[wrong_pda], &[&op]).await,
        ErrorCode::ConstraintSeeds,
    );

    // Wrong owner: a "node" that is not a program account.
    let mut forged = ix::set_node_endpoint(&op.pubkey(), &other.pubkey(), "http://a:1");
    forged.accounts[1] = AccountMeta::new_readonly(other.tokens, false);
    let forged_result = f.send(&[forged], &[&op]).await;
    assert!(
        matches!(
            custom_code(&forged_result),
            Some(c) if c == u32::from(ErrorCode::AccountOwnedByWrongProgram)
                || c == u32::from(ErrorCode::AccountDiscriminatorMismatch)
        ),
        "{forged_result:?}"
    );

    // A liquidated node advertises nothing.
    f.patch::<Node>(&miner.node, |n| n.set_status(NodeStatus::Liquidated))
        .await;
    let set = ix::set_node_endpoint(&op.pubkey(), &miner.node, "http://a:1");
    assert_verdict_error(&f.send(&[set], &[&op]).await, VerdictError::NodeNotActive);
}

#[tokio::test]
async fn closing_the_endpoint_returns_the_rent_to_the_operator_only() {
    let mut f = Fixture::new().await;
    let miner = f
        .staked_miner(f.config().await.params.min_miner_stake)
        .await;
    f.airdrop(&miner.signing_key.pubkey()).await;
    let key = miner.signing_key.insecure_clone();
    let operator = miner.operator.pubkey();
    f.send(
        &[ix::set_node_endpoint(
            &key.pubkey(),
            &miner.node,
            "http://10.0.0.7:8080",
        )],
        &[&key],
    )
    .await
    .unwrap();
    let rent = f.lamports(&pda::endpoint(&miner.node)).await;
    assert!(rent > 0);

    // The rent goes where the node says: a caller-chosen destination is refused.
    let thief = Keypair::new();
    let steal = ix::close_node_endpoint(&key.pubkey(), &miner.node, &thief.pubkey());
    assert_verdict_error(&f.send(&[steal], &[&key]).await, VerdictError::Unauthorized);

    let other = f.user(0).await;
    let stranger = ix::close_node_endpoint(&other.pubkey(), &miner.node, &operator);
    assert_verdict_error(
        &f.send(&[stranger], &[&other.keypair]).await,
        VerdictError::Unauthorized,
    );

    // Another node's endpoint under this node: it records its own node.
    let second = f
        .staked_miner(f.config().await.params.min_miner_stake)
        .await;
    let second_op = second.operator.keypair.insecure_clone();
    f.send(
        &[ix::set_node_endpoint(
            &second_op.pubkey(),
            &second.node,
            "http://10.0.0.8:8080",
        )],
        &[&second_op],
    )
    .await
    .unwrap();
    let swapped = ix::replace_account(
        ix::close_node_endpoint(&key.pubkey(), &miner.node, &operator),
        &pda::endpoint(&miner.node),
        &pda::endpoint(&second.node),
    );
    assert_verdict_error(&f.send(&[swapped], &[&key]).await, VerdictError::WrongNode);
    assert!(f.exists(&pda::endpoint(&second.node)).await);

    let before = f.lamports(&operator).await;
    let close = ix::close_node_endpoint(&key.pubkey(), &miner.node, &operator);
    let out = f.send(std::slice::from_ref(&close), &[&key]).await.unwrap();
    assert!(out
        .events
        .iter()
        .any(|e| matches!(e, VerdictEvent::NodeEndpointSet(s) if s.endpoint.is_empty())));
    assert_eq!(f.lamports(&operator).await, before + rent);
    assert!(!f.exists(&pda::endpoint(&miner.node)).await);
    // Replayed: nothing left to close.
    assert!(f.send(&[close], &[&key]).await.is_err());
}
