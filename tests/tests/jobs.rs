//! The job path end to end with exact token amounts: settle, delegators'
//! split and compounding, fail + reassign, fail to refund, expiry, every
//! payout delay, boosts with and without pool funds. Invariants (stake
//! vault, job escrows, node vaults) run after every transaction.
#![allow(deprecated)]

use solana_sdk::signer::Signer;
use verdict::errors::VerdictError;
use verdict::state::{FailReason, JobStatus, Node, RiskLevel, TrialStatus, WindowBucket};
use verdict_sdk::{instructions as ix, pda};
use verdict_tests::*;

const FEE: u64 = 10 * TOKEN;
const PRICE: u64 = 8 * TOKEN;

struct World {
    f: Fixture,
    committee: Vec<NodeHandle>,
    client: User,
}

async fn world() -> World {
    let mut f = Fixture::new().await;
    let committee = f.committee_of(5).await;
    let client = f.user(100 * FEE).await;
    World {
        f,
        committee,
        client,
    }
}

/// Puts a miner's window at `jobs` jobs with `successes` successes (SLA met,
/// latency score `latency_bps`) — a record without replaying it.
async fn set_record(
    f: &mut Fixture,
    miner: &anchor_lang::prelude::Pubkey,
    jobs: u16,
    successes: u16,
    latency_bps: u32,
) {
    f.patch::<Node>(miner, |n| {
        n.reputation.buckets = Default::default();
        n.reputation.buckets[0] = WindowBucket {
            jobs,
            successes,
            sla_met: successes,
            latency_score_sum: successes as u32 * latency_bps,
            response_ms_sum: successes as u32 * 25,
            ..Default::default()
        };
    })
    .await;
}

#[tokio::test]
async fn settle_then_claim_pays_the_miner_refunds_the_rest_and_close_credits_signers() {
    let World {
        mut f,
        committee,
        client,
    } = world().await;
    let params = f.config().await.params;
    let miner = f.warm_miner(&committee, params.min_miner_stake).await;

    let (r, job) = f.submit_job(&client, 1, RiskLevel::Low, FEE).await;
    r.unwrap();
    assert_eq!(f.token_balance(&pda::escrow(&job)).await, FEE);
    assert_eq!(f.token_balance(&client.tokens).await, 99 * FEE);
    // The escrow is recorded, so later instructions bind it by address.
    assert_eq!(f.job(&job).await.escrow, pda::escrow(&job));

    f.settle(&committee, &job, &miner.node, PRICE, good_report(7))
        .await
        .unwrap();
    let j = f.job(&job).await;
    assert_eq!(j.status(), JobStatus::Solved);
    assert_eq!(
        (j.price, j.miner, j.attempts, j.signer_count),
        (PRICE, miner.node, 1, 3)
    );
    assert_eq!(j.output_hash, [7; 32]);
    assert_eq!(
        j.release_at,
        j.solved_at + 2 * params.epoch_secs,
        "a new miner waits 2 epochs"
    );

    assert_verdict_error(
        &f.claim(&job, &miner).await,
        VerdictError::PayoutNotReleased,
    );
    f.advance(2 * params.epoch_secs).await;
    f.claim(&job, &miner).await.unwrap();
    assert_eq!(f.job(&job).await.status(), JobStatus::Paid);
    // The co-signers' fee stays in the escrow until the job closes; the
    // miner's part is credited to its node and withdrawn by its operator.
    let fee = PRICE * params.validator_fee_bps as u64 / 10_000;
    assert_eq!(f.node(&miner.node).await.owed, PRICE - fee);
    assert_eq!(f.token_balance(&miner.operator.tokens).await, 0);
    f.withdraw_owed(&miner).await.unwrap();
    assert_eq!(f.token_balance(&miner.operator.tokens).await, PRICE - fee);
    assert_verdict_error(&f.withdraw_owed(&miner).await, VerdictError::NothingOwed);
    assert_eq!(
        f.token_balance(&client.tokens).await,
        99 * FEE + (FEE - PRICE)
    );
    assert_eq!(f.token_balance(&pda::escrow(&job)).await, fee);
    assert_eq!(f.node(&miner.node).await.total_earned, PRICE - fee);
    assert_verdict_error(&f.claim(&job, &miner).await, VerdictError::InvalidJobState);

    let signers = f.job(&job).await.signers().to_vec();
    let rent = f.lamports(&job).await + f.lamports(&pda::escrow(&job)).await;
    let before = f.lamports(&client.pubkey()).await;
    f.close_job(&job).await.unwrap();
    for (i, s) in signers.iter().enumerate() {
        let share = fee / 3 + if i == 0 { fee % 3 } else { 0 };
        assert_eq!(
            f.node(s).await.owed,
            share,
            "co-signer {i} is paid its share of the fee"
        );
    }
    assert!(!f.exists(&job).await && !f.exists(&pda::escrow(&job)).await);
    assert_eq!(f.lamports(&client.pubkey()).await, before + rent);
    for s in &signers {
        let n = f.node(s).await;
        assert_eq!(
            (n.validator_score, n.attestations_signed),
            (params.initial_validator_score + 1, 1)
        );
    }
}

#[tokio::test]
async fn delegators_share_the_payout_through_the_node_vault_and_compounding() {
    let World {
        mut f,
        committee,
        client,
    } = world().await;
    let params = f.config().await.params;
    let stake = params.min_miner_stake;
    let miner = f.warm_miner(&committee, stake).await;
    let alice = f.user(stake).await;
    f.delegate(&alice, &miner.node, stake).await.unwrap();

    let (r, job) = f.submit_job(&client, 1, RiskLevel::Low, FEE).await;
    r.unwrap();
    f.settle(&committee, &job, &miner.node, PRICE, good_report(1))
        .await
        .unwrap();
    f.advance(2 * params.epoch_secs).await;
    f.claim(&job, &miner).await.unwrap();
    // The co-signers' 10% aside, half the stake is delegated: it earned half
    // the rest, less a 10% commission.
    let earned = PRICE - PRICE * params.validator_fee_bps as u64 / 10_000;
    let delegators = earned / 2 - earned / 2 / 10;
    assert_eq!(f.node(&miner.node).await.owed, earned - delegators);
    assert_eq!(
        f.token_balance(&pda::node_vault(&miner.node)).await,
        earned,
        "both parts wait in the node vault"
    );
    assert_eq!(
        f.node(&miner.node).await.pending_delegator_rewards,
        delegators
    );

    f.send(&[ix::compound_rewards(&miner.node)], &[])
        .await
        .unwrap();
    let node = f.node(&miner.node).await;
    assert_eq!(node.pending_delegator_rewards, 0);
    assert_eq!(node.delegation.amount, stake + delegators);
    assert_eq!(
        node.delegation.value_of(stake).unwrap(),
        stake + delegators,
        "alice's shares gained it all"
    );
    assert_verdict_error(
        &f.send(&[ix::compound_rewards(&miner.node)], &[]).await,
        VerdictError::ZeroAmount,
    );
}

#[tokio::test]
async fn a_failed_attempt_penalizes_the_miner_and_the_job_completes_on_a_fallback() {
    let World {
        mut f,
        committee,
        client,
    } = world().await;
    let params = f.config().await.params;
    let bad = f.warm_miner(&committee, params.min_miner_stake).await;
    let good = f.warm_miner(&committee, params.min_miner_stake).await;
    let (r, job) = f.submit_job(&client, 1, RiskLevel::Low, FEE).await;
    r.unwrap();

    f.assign(&committee, &job, &bad.node, PRICE).await.unwrap();
    assert_eq!(f.job(&job).await.status(), JobStatus::Allocated);
    f.fail(&committee, &job, FailReason::InvalidOutput)
        .await
        .unwrap();
    let j = f.job(&job).await;
    assert_eq!(
        (j.status(), j.attempts, j.miner),
        (JobStatus::Sent, 1, Default::default())
    );
    let penalized = f.node(&bad.node).await.reputation;
    assert_eq!(
        penalized.trust_bps,
        params.trial_baseline_trust_bps * 8 / 10
    );
    assert_eq!(penalized.lifetime_failures, 1);
    assert_eq!(
        f.token_balance(&pda::escrow(&job)).await,
        FEE,
        "the escrow stays for the next miner"
    );

    f.assign(&committee, &job, &good.node, PRICE).await.unwrap();
    f.complete(&committee, &job, good_report(3)).await.unwrap();
    let j = f.job(&job).await;
    assert_eq!(
        (j.status(), j.attempts, j.miner),
        (JobStatus::Solved, 2, good.node)
    );
    f.advance(2 * params.epoch_secs).await;
    f.claim(&job, &good).await.unwrap();
    let fee = PRICE * params.validator_fee_bps as u64 / 10_000;
    assert_eq!(f.node(&good.node).await.owed, PRICE - fee);
    assert_eq!(f.node(&bad.node).await.owed, 0);
    assert_eq!(
        f.token_balance(&client.tokens).await,
        99 * FEE + FEE - PRICE
    );
}

#[tokio::test]
async fn failing_every_attempt_refunds_the_whole_fee() {
    let World {
        mut f,
        committee,
        client,
    } = world().await;
    let params = f.config().await.params;
    let miner = f.warm_miner(&committee, params.min_miner_stake).await;
    let (r, job) = f.submit_job(&client, 1, RiskLevel::Low, FEE).await;
    r.unwrap();
    for attempt in 1..=params.max_job_attempts {
        f.assign(&committee, &job, &miner.node, PRICE)
            .await
            .unwrap();
        f.fail(&committee, &job, FailReason::Timeout).await.unwrap();
        let expected = if attempt < params.max_job_attempts {
            JobStatus::Sent
        } else {
            JobStatus::Refunded
        };
        assert_eq!(f.job(&job).await.status(), expected);
    }
    assert_eq!(f.token_balance(&client.tokens).await, 100 * FEE);
    assert_eq!(f.token_balance(&pda::escrow(&job)).await, 0);
    let rep = f.node(&miner.node).await.reputation;
    assert_eq!(rep.lifetime_failures, params.max_job_attempts as u64);
}

#[tokio::test]
async fn a_sent_job_expires_after_ten_minutes_and_is_refunded() {
    let World {
        mut f,
        committee: _,
        client,
    } = world().await;
    let params = f.config().await.params;
    let (r, job) = f.submit_job(&client, 1, RiskLevel::Low, FEE).await;
    r.unwrap();
    let expire = ix::expire_job(&job, None, &client.tokens);
    f.advance(params.sent_ttl_secs - 1).await;
    assert_verdict_error(
        &f.send(std::slice::from_ref(&expire), &[]).await,
        VerdictError::NotExpired,
    );
    f.advance(1).await;
    f.send(std::slice::from_ref(&expire), &[]).await.unwrap();
    assert_eq!(f.job(&job).await.status(), JobStatus::Expired);
    assert_eq!(f.token_balance(&client.tokens).await, 100 * FEE);
    assert_verdict_error(&f.send(&[expire], &[]).await, VerdictError::InvalidJobState);
}

#[tokio::test]
async fn an_allocated_job_expires_after_fifteen_minutes_and_charges_the_miner_a_timeout() {
    let World {
        mut f,
        committee,
        client,
    } = world().await;
    let params = f.config().await.params;
    let miner = f.warm_miner(&committee, params.min_miner_stake).await;
    let (r, job) = f.submit_job(&client, 1, RiskLevel::Low, FEE).await;
    r.unwrap();
    f.assign(&committee, &job, &miner.node, PRICE)
        .await
        .unwrap();
    f.advance(params.allocated_ttl_secs).await;
    // The allocated miner must be named.
    assert_verdict_error(
        &f.send(&[ix::expire_job(&job, None, &client.tokens)], &[])
            .await,
        VerdictError::WrongMiner,
    );
    f.send(
        &[ix::expire_job(&job, Some(miner.node), &client.tokens)],
        &[],
    )
    .await
    .unwrap();
    assert_eq!(f.job(&job).await.status(), JobStatus::Expired);
    assert_eq!(f.token_balance(&client.tokens).await, 100 * FEE);
    let rep = f.node(&miner.node).await.reputation;
    assert_eq!(
        (rep.lifetime_failures, rep.trust_bps),
        (1, params.trial_baseline_trust_bps * 8 / 10)
    );
    // Completing an expired allocation is refused.
    assert_verdict_error(
        &f.complete(&committee, &job, good_report(1)).await,
        VerdictError::InvalidJobState,
    );
}

#[tokio::test]
async fn the_payout_is_held_zero_one_or_two_epochs_by_reputation() {
    let World {
        mut f,
        committee,
        client,
    } = world().await;
    let params = f.config().await.params;
    let miner = f.warm_miner(&committee, params.min_miner_stake).await;
    let cases = [
        // (jobs, successes, latency score) -> epochs held
        (100, 100, 10_000, 0),
        (100, 90, 9_000, 1),
        (100, 70, 9_000, 2),
        (5, 5, 10_000, 2),
    ];
    for (i, (jobs, ok, latency, epochs)) in cases.into_iter().enumerate() {
        set_record(&mut f, &miner.node, jobs, ok, latency).await;
        let (r, job) = f.submit_job(&client, i as u64, RiskLevel::Low, FEE).await;
        r.unwrap();
        f.settle(&committee, &job, &miner.node, PRICE, good_report(1))
            .await
            .unwrap();
        let j = f.job(&job).await;
        assert_eq!(
            j.release_at - j.solved_at,
            epochs * params.epoch_secs,
            "record {jobs}/{ok}"
        );
        if epochs == 0 {
            f.claim(&job, &miner).await.unwrap();
        } else {
            assert_verdict_error(
                &f.claim(&job, &miner).await,
                VerdictError::PayoutNotReleased,
            );
            f.advance(epochs * params.epoch_secs).await;
            f.claim(&job, &miner).await.unwrap();
        }
    }
}

#[tokio::test]
async fn tier_one_boost_is_paid_from_the_pool_while_it_has_funds() {
    let World {
        mut f,
        committee,
        client,
    } = world().await;
    let params = f.config().await.params;
    let miner = f.warm_miner(&committee, params.min_miner_stake).await;
    set_record(&mut f, &miner.node, 100, 100, 10_000).await;
    let (r, job) = f.submit_job(&client, 1, RiskLevel::Low, FEE).await;
    r.unwrap();
    f.settle(&committee, &job, &miner.node, FEE, good_report(1))
        .await
        .unwrap();
    f.claim(&job, &miner).await.unwrap();
    let node = f.node(&miner.node).await;
    let boost_bps = node.reputation.boost_bps(&params);
    assert!(
        boost_bps > 2_900 && boost_bps <= params.max_boost_bps,
        "a near-perfect record earns almost +30%: {boost_bps}"
    );
    let boost = FEE * boost_bps as u64 / 10_000;
    assert_eq!(node.boost_owed, boost);
    assert_eq!(
        node.owed,
        FEE - FEE * params.validator_fee_bps as u64 / 10_000
    );

    let claim_boost = ix::claim_boost(&miner.node, &miner.operator.tokens);
    assert_verdict_error(
        &f.send(std::slice::from_ref(&claim_boost), &[]).await,
        VerdictError::ZeroAmount,
    );

    let sponsor = f.user(10 * TOKEN).await;
    let fund = |amount| ix::fund_reward_pool(&sponsor.pubkey(), &sponsor.tokens, amount);
    f.send(&[fund(TOKEN)], &[&sponsor.keypair]).await.unwrap();
    f.send(std::slice::from_ref(&claim_boost), &[])
        .await
        .unwrap();
    assert_eq!(f.token_balance(&miner.operator.tokens).await, TOKEN);
    assert_eq!(f.node(&miner.node).await.boost_owed, boost - TOKEN);
    assert_eq!(f.config().await.totals.reward_pool, 0);

    f.send(&[fund(5 * TOKEN)], &[&sponsor.keypair])
        .await
        .unwrap();
    f.send(std::slice::from_ref(&claim_boost), &[])
        .await
        .unwrap();
    assert_eq!(f.token_balance(&miner.operator.tokens).await, boost);
    assert_eq!(f.node(&miner.node).await.boost_owed, 0);
    assert_eq!(f.config().await.totals.reward_pool, 6 * TOKEN - boost);
    assert_verdict_error(&f.send(&[claim_boost], &[]).await, VerdictError::ZeroAmount);
}

#[tokio::test]
async fn reject_refunds_an_invalid_request() {
    let World {
        mut f,
        committee,
        client,
    } = world().await;
    let (r, job) = f.submit_job(&client, 1, RiskLevel::Low, FEE).await;
    r.unwrap();
    let epoch = f.committee().await.epoch;
    let message =
        verdict_sdk::attest::reject_message(epoch, &job, f.job(&job).await.created_slot, 3);
    let quorum = f.quorum(&committee).await;
    f.attest(&quorum, &message, ix::reject_job(&job, &client.tokens, 3))
        .await
        .unwrap();
    assert_eq!(f.job(&job).await.status(), JobStatus::Invalid);
    assert_eq!(f.token_balance(&client.tokens).await, 100 * FEE);
    // Nothing owed: closable at once, no signers to credit.
    f.close_job(&job).await.unwrap();
    assert!(!f.exists(&job).await);
}

#[tokio::test]
async fn trial_gates_new_miners_with_a_cooldown_on_failure() {
    let World {
        mut f,
        committee,
        client,
    } = world().await;
    let params = f.config().await.params;
    let miner = f.staked_miner(params.min_miner_stake).await;
    let (r, job) = f.submit_job(&client, 1, RiskLevel::Low, FEE).await;
    r.unwrap();
    assert_verdict_error(
        &f.assign(&committee, &job, &miner.node, PRICE).await,
        VerdictError::MinerNotEligible,
    );

    f.record_trial(&committee, &miner.node, false)
        .await
        .unwrap();
    let rep = f.node(&miner.node).await.reputation;
    assert_eq!(
        (rep.trial(), rep.trial_failures, rep.cooldown_until),
        (TrialStatus::Failed, 1, f.now + params.trial_cooldown_secs)
    );
    assert_verdict_error(
        &f.record_trial(&committee, &miner.node, true).await,
        VerdictError::TrialNotDue,
    );
    f.advance(params.trial_cooldown_secs).await;
    f.record_trial(&committee, &miner.node, true).await.unwrap();
    let rep = f.node(&miner.node).await.reputation;
    assert_eq!(
        (rep.trial(), rep.trust_bps),
        (TrialStatus::Passed, params.trial_baseline_trust_bps)
    );
    assert_verdict_error(
        &f.record_trial(&committee, &miner.node, true).await,
        VerdictError::TrialNotDue,
    );
    // The job it could not take expired meanwhile; a fresh one is assigned.
    let (r, job) = f.submit_job(&client, 2, RiskLevel::Low, FEE).await;
    r.unwrap();
    f.assign(&committee, &job, &miner.node, PRICE)
        .await
        .unwrap();
}

#[tokio::test]
async fn heartbeat_stops_decay_and_only_the_node_may_send_it() {
    let World {
        mut f,
        committee,
        client: _,
    } = world().await;
    let params = f.config().await.params;
    let miner = f.warm_miner(&committee, params.min_miner_stake).await;
    let op = miner.operator.keypair.insecure_clone();
    f.advance(params.heartbeat_stale_secs + 5 * 86_400).await;
    f.send(&[ix::heartbeat(&op.pubkey(), &miner.node)], &[&op])
        .await
        .unwrap();
    let decayed = f.node(&miner.node).await.reputation.trust_bps;
    assert_eq!(
        decayed, 9_509,
        "five stale days at 0.99/day: 10000 × 0.99^5 = 9509.9, rounded down once"
    );
    let key = miner.signing_key.insecure_clone();
    f.advance(86_400).await;
    f.send(&[ix::heartbeat(&key.pubkey(), &miner.node)], &[&key])
        .await
        .unwrap();
    assert_eq!(
        f.node(&miner.node).await.reputation.trust_bps,
        decayed,
        "fresh heartbeat, no decay"
    );
    let stranger = f.user(0).await;
    let forged = ix::heartbeat(&stranger.pubkey(), &miner.node);
    assert_verdict_error(
        &f.send(&[forged], &[&stranger.keypair]).await,
        VerdictError::Unauthorized,
    );
}
