//! Slashing: the table's shares, who may slash, the sliding-window cap, the
//! Tier 1 grace, and that delegations and unbonding tickets lose pro rata.
#![allow(deprecated)]

use solana_sdk::signer::Signer;
use verdict::constants::ROLE_ALL;
use verdict::errors::VerdictError;
use verdict::instructions::slash_node::{downtime_evidence, verdict_epoch};
use verdict::state::{Node, Offense, ProtocolParams, WindowBucket};
use verdict_sdk::events::VerdictEvent;
use verdict_sdk::{instructions as ix, pda};
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
    let slash = ix::slash_node(
        &payer,
        Some(authority.pubkey()),
        &node.node,
        Offense::InvalidSignature,
        [1; 32],
    );
    let out = f.send(&[slash], &[&authority]).await.unwrap();
    let half = stake; // 50% of 2 × stake
    assert!(out
        .events
        .iter()
        .any(|e| matches!(e, VerdictEvent::NodeSlashed(s)
        if s.amount == half && s.from_self_stake == stake / 2 && s.from_delegation == stake / 2
            && s.delegation_pool_amount == stake / 2)));
    let n = f.node(&node.node).await;
    assert_eq!(n.self_stake, stake / 2);
    assert_eq!(
        n.delegation.value_of(stake).unwrap(),
        stake / 2,
        "alice's delegation lost half"
    );
    assert_eq!(n.validator_score, params.initial_validator_score - 20);
    assert_eq!(f.config().await.totals.reward_pool, half);
    assert_eq!(
        f.config().await.active_nodes,
        0,
        "below the validator minimum now"
    );
    // The same evidence cannot be used twice.
    let again = ix::slash_node(
        &payer,
        Some(authority.pubkey()),
        &node.node,
        Offense::InvalidSignature,
        [1; 32],
    );
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
    f.send(
        &[ix::slash_node(
            &payer,
            Some(authority.pubkey()),
            &miner.node,
            Offense::FrontRunning,
            [2; 32],
        )],
        &[&authority],
    )
    .await
    .unwrap();
    f.advance(params.unbonding_secs).await;
    let op = miner.operator.keypair.insecure_clone();
    f.send(
        &[ix::withdraw_unbonded(
            &op.pubkey(),
            &miner.node,
            &ticket,
            &miner.operator.tokens,
        )],
        &[&op],
    )
    .await
    .unwrap();
    assert_eq!(
        f.token_balance(&miner.operator.tokens).await,
        stake / 2,
        "the unbonding half lost 50% too"
    );
}

#[tokio::test]
async fn collusion_and_approve_invalid_are_refused_even_from_the_authority_or_a_committee() {
    let mut f = Fixture::new().await;
    let committee = f.committee_of(5).await;
    let params = f.config().await.params;
    let miner = f.warm_miner(&committee, params.min_miner_stake).await;
    let authority = f.authority.insecure_clone();
    let payer = f.chain.payer().await.pubkey();
    for (i, offense) in [Offense::Collusion, Offense::ApproveInvalid]
        .into_iter()
        .enumerate()
    {
        let evidence = [3 + i as u8; 32];
        // The governance authority cannot: only a dispute decides these.
        let slash = ix::slash_node(
            &payer,
            Some(authority.pubkey()),
            &miner.node,
            offense,
            evidence,
        );
        assert_verdict_error(
            &f.send(&[slash], &[&authority]).await,
            VerdictError::SlashNeedsEvidence,
        );
        // Nor anyone else, nor a full committee attesting to it (the
        // attestation path is gone: a signed message authorizes nothing).
        let slash = ix::slash_node(&payer, None, &miner.node, offense, evidence);
        assert_verdict_error(
            &f.send(std::slice::from_ref(&slash), &[]).await,
            VerdictError::SlashNeedsEvidence,
        );
        let all: Vec<&NodeHandle> = committee.iter().collect();
        let message = [b"verdict-slash".as_slice(), miner.node.as_ref(), &evidence].concat();
        assert_verdict_error(
            &f.attest(&all, &message, slash).await,
            VerdictError::SlashNeedsEvidence,
        );
    }
    // A committee attesting to an offense the authority may slash does not authorize it either.
    let all: Vec<&NodeHandle> = committee.iter().collect();
    let slash = ix::slash_node(
        &payer,
        None,
        &miner.node,
        Offense::InvalidSignature,
        [5; 32],
    );
    let message = [b"verdict-slash".as_slice(), miner.node.as_ref()].concat();
    assert_verdict_error(
        &f.attest(&all, &message, slash).await,
        VerdictError::SlashNotAuthorized,
    );
    // A stranger posing as the authority.
    let stranger = f.user(0).await;
    let slash = ix::slash_node(
        &payer,
        Some(stranger.pubkey()),
        &miner.node,
        Offense::FrontRunning,
        [6; 32],
    );
    assert_verdict_error(
        &f.send(&[slash], &[&stranger.keypair]).await,
        VerdictError::Unauthorized,
    );
    let n = f.node(&miner.node).await;
    assert_eq!(
        n.slashable_stake().unwrap(),
        params.min_miner_stake,
        "untouched"
    );
}

#[tokio::test]
async fn the_per_epoch_cap_bounds_what_one_epoch_can_take() {
    let params = ProtocolParams {
        slash_epoch_cap_bps: 6_000,
        ..Default::default()
    };
    let mut f = Fixture::with_params(params).await;
    let miner = f.staked_miner(10 * params.min_miner_stake).await;
    let authority = f.authority.insecure_clone();
    let payer = f.chain.payer().await.pubkey();
    let slash = |evidence: u8| {
        ix::slash_node(
            &payer,
            Some(authority.pubkey()),
            &miner.node,
            Offense::InvalidSignature,
            [evidence; 32],
        )
    };
    let total = 10 * params.min_miner_stake;
    f.send(&[slash(1)], &[&authority]).await.unwrap(); // 50%
    f.send(&[slash(2)], &[&authority]).await.unwrap(); // clipped to the 60% cap: 10% more
    assert_eq!(
        f.node(&miner.node).await.slashable_stake().unwrap(),
        total * 4 / 10
    );
    assert_verdict_error(
        &f.send(&[slash(3)], &[&authority]).await,
        VerdictError::SlashCapReached,
    );
    f.advance(params.epoch_secs).await;
    f.send(&[slash(4)], &[&authority]).await.unwrap();
    assert_eq!(
        f.node(&miner.node).await.slashable_stake().unwrap(),
        total * 2 / 10
    );
}

#[tokio::test]
async fn the_cap_window_slides_and_does_not_reset_at_a_calendar_epoch_boundary() {
    let params = ProtocolParams::default();
    assert_eq!(params.slash_epoch_cap_bps, 5_000);
    let mut f = Fixture::with_params(params).await;
    let miner = f.staked_miner(10 * params.min_miner_stake).await;
    let authority = f.authority.insecure_clone();
    let payer = f.chain.payer().await.pubkey();
    let slash = |evidence: u8| {
        ix::slash_node(
            &payer,
            Some(authority.pubkey()),
            &miner.node,
            Offense::FrontRunning,
            [evidence; 32],
        )
    };
    let total = 10 * params.min_miner_stake;
    // One second before a calendar epoch ends.
    let epoch = verdict_epoch(f.now, params.epoch_secs);
    let t0 = (epoch as i64 + 1) * params.epoch_secs - 1;
    f.set_time(t0).await;
    f.send(&[slash(1)], &[&authority]).await.unwrap(); // 50%: the whole cap
    assert_eq!(
        f.node(&miner.node).await.slashable_stake().unwrap(),
        total / 2
    );
    // A new calendar epoch two seconds later: the window still holds the slash.
    f.advance(2).await;
    assert_eq!(verdict_epoch(f.now, params.epoch_secs), epoch + 1);
    assert_verdict_error(
        &f.send(&[slash(2)], &[&authority]).await,
        VerdictError::SlashCapReached,
    );
    f.set_time(t0 + params.epoch_secs - 1).await;
    assert_verdict_error(
        &f.send(&[slash(3)], &[&authority]).await,
        VerdictError::SlashCapReached,
    );
    // A full window after the first slash: allowed again.
    f.set_time(t0 + params.epoch_secs).await;
    f.send(&[slash(4)], &[&authority]).await.unwrap();
    assert_eq!(
        f.node(&miner.node).await.slashable_stake().unwrap(),
        total / 4
    );
}

#[tokio::test]
async fn downtime_is_crankable_by_anyone_below_seventy_percent_with_a_first_time_grace_for_tier_one(
) {
    let mut f = Fixture::new().await;
    let params = f.config().await.params;
    let miner = f.staked_miner(params.min_miner_stake).await;
    let payer = f.chain.payer().await.pubkey();
    let evidence = |now: i64| downtime_evidence(verdict_epoch(now, params.epoch_secs));
    let crank =
        |evidence: [u8; 32]| ix::slash_node(&payer, None, &miner.node, Offense::Downtime, evidence);
    assert_verdict_error(
        &f.send(&[crank(evidence(f.now))], &[]).await,
        VerdictError::SlashNotAuthorized,
    );
    let poor = WindowBucket {
        jobs: 100,
        successes: 60,
        sla_met: 60,
        latency_score_sum: 0,
        response_ms_sum: 0,
        ..Default::default()
    };
    f.patch::<Node>(&miner.node, |n| {
        n.reputation.buckets[0] = poor;
        n.set_was_tier1(true);
    })
    .await;
    // Only the current epoch's evidence: not arbitrary bytes, not another epoch's.
    assert_verdict_error(
        &f.send(&[crank([2; 32])], &[]).await,
        VerdictError::SlashNotAuthorized,
    );
    let stale = downtime_evidence(verdict_epoch(f.now, params.epoch_secs) - 1);
    assert_verdict_error(
        &f.send(&[crank(stale)], &[]).await,
        VerdictError::SlashNotAuthorized,
    );
    let out = f.send(&[crank(evidence(f.now))], &[]).await.unwrap();
    assert!(out
        .events
        .iter()
        .any(|e| matches!(e, VerdictEvent::SlashForgiven(_))));
    assert_eq!(
        f.node(&miner.node).await.self_stake,
        params.min_miner_stake,
        "first downtime forgiven"
    );
    // Once per epoch: the same evidence cannot be used again.
    assert!(f.send(&[crank(evidence(f.now))], &[]).await.is_err());
    f.advance(params.epoch_secs).await;
    f.patch::<Node>(&miner.node, |n| n.reputation.buckets[0] = poor)
        .await;
    f.send(&[crank(evidence(f.now))], &[]).await.unwrap();
    let n = f.node(&miner.node).await;
    assert_eq!(
        n.self_stake,
        params.min_miner_stake - params.min_miner_stake / 10,
        "10% for downtime"
    );
    assert_eq!(
        n.reputation.window(&params).jobs,
        0,
        "a slash resets the window"
    );
    f.advance(params.epoch_secs).await;
    assert_verdict_error(
        &f.send(&[crank(evidence(f.now))], &[]).await,
        VerdictError::SlashNotAuthorized,
    );
    let _ = pda::config();
}
