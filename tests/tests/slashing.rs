//! Slashing: the table's shares, who may slash, the per-epoch cap, the
//! Tier 1 grace, and that delegations and unbonding tickets lose pro rata.
#![allow(deprecated)]

use solana_sdk::signer::Signer;
use verdict::constants::ROLE_ALL;
use verdict::errors::VerdictError;
use verdict::instructions::slash_node::verdict_epoch;
use verdict::state::{Node, Offense, ProtocolParams, WindowBucket};
use verdict_sdk::events::VerdictEvent;
use verdict_sdk::{attest, instructions as ix, pda};
use verdict_tests::*;

#[tokio::test]
async fn governance_slash_takes_the_share_from_stake_and_delegations_alike() {
    let mut f = Fixture::new().await;
    let params = f.config().await.params;
    let stake = params.min_validator_stake;
    let node = f.register(ROLE_ALL, stake).await;
    f.stake(&node, stake).await.unwrap();
    let alice = f.user(stake).await;
    f.delegate(&alice, &node.node, stake).await.unwrap();
    let authority = f.authority.insecure_clone();
    let payer = f.chain.payer().await.pubkey();
    let slash = ix::slash_node(&payer, Some(authority.pubkey()), &node.node, Offense::InvalidSignature, [1; 32]);
    let out = f.send(&[slash], &[&authority]).await.unwrap();
    let half = stake; // 50% of 2 × stake
    assert!(out.events.iter().any(|e| matches!(e, VerdictEvent::NodeSlashed(s)
        if s.amount == half && s.from_self_stake == stake / 2 && s.from_delegation == stake / 2
            && s.delegation_pool_amount == stake / 2)));
    let n = f.node(&node.node).await;
    assert_eq!(n.self_stake, stake / 2);
    assert_eq!(n.delegation.value_of(stake).unwrap(), stake / 2, "alice's delegation lost half");
    assert_eq!(n.validator_score, params.initial_validator_score - 20);
    assert_eq!(f.config().await.totals.reward_pool, half);
    assert_eq!(f.config().await.active_nodes, 0, "below the validator minimum now");
    // The same evidence cannot be used twice.
    let again = ix::slash_node(&payer, Some(authority.pubkey()), &node.node, Offense::InvalidSignature, [1; 32]);
    assert!(f.send(&[again], &[&authority]).await.is_err());
}

#[tokio::test]
async fn a_slash_reaches_pending_unbonding_tickets() {
    let mut f = Fixture::new().await;
    let params = f.config().await.params;
    let stake = params.min_miner_stake;
    let miner = f.staked_miner(2 * stake).await;
    let (r, ticket) = f.request_unstake(&miner, stake).await;
    r.unwrap();
    let authority = f.authority.insecure_clone();
    let payer = f.chain.payer().await.pubkey();
    f.send(&[ix::slash_node(&payer, Some(authority.pubkey()), &miner.node, Offense::FrontRunning, [2; 32])], &[&authority])
        .await
        .unwrap();
    f.advance(params.unbonding_secs).await;
    let op = miner.operator.keypair.insecure_clone();
    f.send(&[ix::withdraw_unbonded(&op.pubkey(), &miner.node, &ticket, &miner.operator.tokens)], &[&op]).await.unwrap();
    assert_eq!(f.token_balance(&miner.operator.tokens).await, stake / 2, "the unbonding half lost 50% too");
}

#[tokio::test]
async fn a_committee_quorum_may_slash_and_fewer_may_not() {
    let mut f = Fixture::new().await;
    let committee = f.committee_of(5).await;
    let params = f.config().await.params;
    let miner = f.warm_miner(&committee, params.min_miner_stake).await;
    let payer = f.chain.payer().await.pubkey();
    let c = f.committee().await;
    let epoch = verdict_epoch(f.now, params.epoch_secs);
    let message = attest::slash_message(c.epoch, &miner.node, Offense::Collusion, [3; 32], epoch);
    let slash = ix::slash_node(&payer, None, &miner.node, Offense::Collusion, [3; 32]);
    let two: Vec<&NodeHandle> = committee[..2].iter().collect();
    assert_verdict_error(&f.attest(&two, &message, slash.clone()).await, VerdictError::SlashNotAuthorized);
    assert_verdict_error(&f.send(&[slash.clone()], &[]).await, VerdictError::SlashNotAuthorized);
    // A message for another epoch does not authorize this one.
    let stale = attest::slash_message(c.epoch, &miner.node, Offense::Collusion, [3; 32], epoch - 1);
    let three: Vec<&NodeHandle> = committee[..3].iter().collect();
    assert_verdict_error(&f.attest(&three, &stale, slash.clone()).await, VerdictError::SlashNotAuthorized);
    f.attest(&three, &message, slash).await.unwrap();
    let n = f.node(&miner.node).await;
    assert_eq!(n.slashable_stake().unwrap(), 0, "collusion takes 100%");
    assert_eq!(n.reputation.window(&params).jobs, 0);
}

#[tokio::test]
async fn the_per_epoch_cap_bounds_what_one_epoch_can_take() {
    let mut params = ProtocolParams::default();
    params.slash_epoch_cap_bps = 6_000;
    let mut f = Fixture::with_params(params.clone()).await;
    let miner = f.staked_miner(10 * params.min_miner_stake).await;
    let authority = f.authority.insecure_clone();
    let payer = f.chain.payer().await.pubkey();
    let slash = |evidence: u8| ix::slash_node(&payer, Some(authority.pubkey()), &miner.node, Offense::InvalidSignature, [evidence; 32]);
    let total = 10 * params.min_miner_stake;
    f.send(&[slash(1)], &[&authority]).await.unwrap(); // 50%
    f.send(&[slash(2)], &[&authority]).await.unwrap(); // clipped to the 60% cap: 10% more
    assert_eq!(f.node(&miner.node).await.slashable_stake().unwrap(), total * 4 / 10);
    assert_verdict_error(&f.send(&[slash(3)], &[&authority]).await, VerdictError::SlashCapReached);
    f.advance(params.epoch_secs).await;
    f.send(&[slash(4)], &[&authority]).await.unwrap();
    assert_eq!(f.node(&miner.node).await.slashable_stake().unwrap(), total * 2 / 10);
}

#[tokio::test]
async fn downtime_is_crankable_by_anyone_below_seventy_percent_with_a_first_time_grace_for_tier_one() {
    let mut f = Fixture::new().await;
    let params = f.config().await.params;
    let miner = f.staked_miner(params.min_miner_stake).await;
    let payer = f.chain.payer().await.pubkey();
    let crank = |evidence: u8| ix::slash_node(&payer, None, &miner.node, Offense::Downtime, [evidence; 32]);
    assert_verdict_error(&f.send(&[crank(1)], &[]).await, VerdictError::SlashNotAuthorized);
    let poor = WindowBucket { jobs: 100, successes: 60, sla_met: 60, latency_score_sum: 0, response_ms_sum: 0 };
    f.patch::<Node>(&miner.node, |n| {
        n.reputation.buckets[0] = poor;
        n.was_tier1 = true;
    })
    .await;
    let out = f.send(&[crank(2)], &[]).await.unwrap();
    assert!(out.events.iter().any(|e| matches!(e, VerdictEvent::SlashForgiven(_))));
    assert_eq!(f.node(&miner.node).await.self_stake, params.min_miner_stake, "first downtime forgiven");
    f.send(&[crank(3)], &[]).await.unwrap();
    let n = f.node(&miner.node).await;
    assert_eq!(n.self_stake, params.min_miner_stake - params.min_miner_stake / 10, "10% for downtime");
    assert_eq!(n.reputation.window(&params).jobs, 0, "a slash resets the window");
    assert_verdict_error(&f.send(&[crank(4)], &[]).await, VerdictError::SlashNotAuthorized);
    let _ = pda::config();
}
