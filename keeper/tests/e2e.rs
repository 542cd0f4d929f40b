//! End to end on the embedded chain with real miner processes on loopback:
//! honest, slow, wrong (shadow rerun), garbage/drop and all-down miners, the
//! intake API's errors, health and metrics.

mod common;

use std::time::Duration;

use common::*;
use verdict::state::{JobStatus, RiskLevel};
use verdict_sdk::instructions as ix;
use verdict_tests::TEST_MODEL;

const WAIT: Duration = Duration::from_secs(40);

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn honest_miner_is_settled_and_paid_and_the_api_refuses_bad_requests() {
    let mut net = Net::new(&[spec(Behaviour::Honest, false, 10_000)]).await;
    let keeper = net.start_keeper(net.config(), None).await;
    let input = "the quick brown fox";
    let job = net.submit(input, RiskLevel::Low).await;

    // Intake errors first.
    let unknown = give_input(&keeper, &solana_sdk::pubkey::Pubkey::new_unique(), input).await;
    assert_eq!(unknown.status(), 404);
    let mismatch = give_input(&keeper, &job, "another text").await;
    assert_eq!(mismatch.status(), 422);
    assert_eq!(
        mismatch.json::<serde_json::Value>().await.unwrap()["error"],
        "input_hash_mismatch"
    );
    let huge = give_input(&keeper, &job, &"x".repeat(70 * 1024)).await;
    assert_eq!(huge.status(), 413);

    let accepted = give_input(&keeper, &job, input).await;
    assert_eq!(accepted.status(), 202);
    let (code, body) = wait_outcome(&keeper, &job, WAIT).await;
    assert_eq!(code, 200, "{body}");
    assert_eq!(body["status"], "done");
    assert_eq!(body["output"]["shape"][0], 16);
    let j = net.job(&job).await;
    assert_eq!(j.status(), JobStatus::Solved);
    assert_eq!(j.miner, net.miners[0].handle.node);
    assert_eq!(
        hex::encode(j.output_hash),
        body["output_hash"].as_str().unwrap()
    );
    assert_eq!(net.landed(&job), 2, "submit + settle, nothing else");

    // Paid once the payout is released (a new miner waits 2 epochs): the
    // operator's part is credited to the node, and the operator withdraws it.
    net.chain.advance_time(3 * 86_400).await;
    let miner = &net.miners[0];
    let before = net.balance(&operator_tokens(miner)).await;
    let claim = ix::claim_payout(&job, &miner.handle.node, &j.refund_account);
    net.chain
        .send(&[claim], &net.payer, &[])
        .await
        .expect("claim_payout");
    assert_eq!(net.job(&job).await.status(), JobStatus::Paid);
    let owed = net.node(&miner.handle.node).await.owed;
    assert!(
        owed > 0,
        "the miner's operator is owed its part of the price"
    );
    let withdraw = ix::withdraw_owed(&miner.handle.operator.pubkey(), &operator_tokens(miner));
    net.chain
        .send(&[withdraw], &net.payer, &[&miner.handle.operator.keypair])
        .await
        .expect("withdraw_owed");
    assert_eq!(net.balance(&operator_tokens(miner)).await, before + owed);
    assert_eq!(net.node(&miner.handle.node).await.owed, 0);

    // Health exercises the chain and the database; metrics and latency stats.
    let http = http();
    let health = http
        .get(format!("{}/health", keeper.api_url()))
        .send()
        .await
        .unwrap();
    assert_eq!(health.status(), 200);
    let metrics = http
        .get(format!("{}/metrics", keeper.api_url()))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    for name in [
        "validators_active 5",
        "validators_total 5",
        "validations_preprocessing_total",
        "validations_completion_total",
        "consensus_reached_total",
        "consensus_failed_total",
        "average_reputation",
        "dispatch_latency_seconds",
    ] {
        assert!(metrics.contains(name), "metrics lack {name}:\n{metrics}");
    }
    let table = http
        .get(format!("{}/v1/miners/latency.txt", keeper.api_url()))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(
        table.contains(&net.miners[0].handle.node.to_string()),
        "{table}"
    );
    let stats: serde_json::Value = http
        .get(format!("{}/v1/miners/latency", keeper.api_url()))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(stats[0]["response_ms"]["count"], 1);

    // A fee floor above the job's escrow refuses new jobs (402).
    keeper.shutdown().await;
    let cfg = keeper::config::KeeperConfig {
        fee_floor: FEE * 10,
        client_burst: 1,
        client_requests_per_sec: 0.001,
        ..net.config()
    };
    let keeper = net.start_keeper(cfg, None).await;
    let cheap = net.submit("cheap", RiskLevel::Low).await;
    assert_eq!(give_input(&keeper, &cheap, "cheap").await.status(), 402);
    assert_eq!(
        give_input(&keeper, &cheap, "cheap").await.status(),
        429,
        "burst of one per client"
    );
    keeper.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_slow_miner_times_out_and_the_job_completes_on_a_fallback() {
    let mut net = Net::new(&[
        spec(Behaviour::Slow, false, 30_000),
        spec(Behaviour::Honest, false, 10_000),
    ])
    .await;
    let keeper = net.start_keeper(net.config(), None).await;
    let job = net.submit("slow path", RiskLevel::Low).await;
    assert_eq!(give_input(&keeper, &job, "slow path").await.status(), 202);
    let (code, body) = wait_outcome(&keeper, &job, WAIT).await;
    assert_eq!(code, 200, "{body}");
    let j = net.job(&job).await;
    assert_eq!(
        (j.status(), j.attempts, j.miner),
        (JobStatus::Solved, 2, net.miners[1].handle.node)
    );
    let slow = net.node(&net.miners[0].handle.node).await;
    assert_eq!(
        slow.reputation.lifetime_failures, 1,
        "the slow miner was charged a timeout on chain"
    );
    let metrics = keeper.ctx.metrics.render();
    assert!(
        metrics.contains("timeouts_total{kind=\"shard\"} 1"),
        "{metrics}"
    );
    keeper.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_wrong_miner_fails_the_shadow_rerun_on_a_high_risk_job_and_is_penalized() {
    let mut net = Net::new(&[
        spec(Behaviour::Wrong, true, 50_000),
        spec(Behaviour::Honest, true, 20_000),
        spec(Behaviour::Honest, true, 10_000),
    ])
    .await;
    let keeper = net.start_keeper(net.config(), None).await;
    let job = net.submit("high stakes", RiskLevel::High).await;
    assert_eq!(give_input(&keeper, &job, "high stakes").await.status(), 202);
    let (code, body) = wait_outcome(&keeper, &job, WAIT).await;
    assert_eq!(code, 200, "{body}");
    let j = net.job(&job).await;
    assert_eq!((j.status(), j.attempts), (JobStatus::Solved, 2));
    assert_ne!(j.miner, net.miners[0].handle.node);
    let wrong = net.node(&net.miners[0].handle.node).await;
    assert_eq!(wrong.reputation.lifetime_failures, 1);
    assert_eq!(
        wrong.reputation.trust_bps, 40_000,
        "R' = R·Pen for the mistake"
    );
    keeper.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn garbage_and_dropping_miners_are_failed_and_an_honest_one_finishes() {
    let mut net = Net::new(&[
        spec(Behaviour::Garbage, false, 30_000),
        spec(Behaviour::Drop, false, 20_000),
        spec(Behaviour::Honest, false, 10_000),
    ])
    .await;
    let keeper = net.start_keeper(net.config(), None).await;
    let job = net.submit("noisy", RiskLevel::Low).await;
    assert_eq!(give_input(&keeper, &job, "noisy").await.status(), 202);
    let (code, body) = wait_outcome(&keeper, &job, WAIT).await;
    assert_eq!(code, 200, "{body}");
    let j = net.job(&job).await;
    assert_eq!(
        (j.status(), j.attempts, j.miner),
        (JobStatus::Solved, 3, net.miners[2].handle.node)
    );
    for m in &net.miners[..2] {
        assert_eq!(
            net.node(&m.handle.node).await.reputation.lifetime_failures,
            1
        );
    }
    keeper.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn all_miners_down_gives_a_structured_error_and_the_escrow_back() {
    let mut net = Net::new(&[
        spec(Behaviour::Down, false, 10_000),
        spec(Behaviour::Down, false, 10_000),
        spec(Behaviour::Down, false, 10_000),
    ])
    .await;
    let keeper = net.start_keeper(net.config(), None).await;
    let before = net.balance(&net.client.tokens).await;
    let job = net.submit("nobody home", RiskLevel::Low).await;
    assert_eq!(net.balance(&net.client.tokens).await, before - FEE);
    assert_eq!(give_input(&keeper, &job, "nobody home").await.status(), 202);
    let (code, body) = wait_outcome(&keeper, &job, WAIT).await;
    assert_eq!(code, 502, "{body}");
    assert_eq!(body["status"], "failed");
    assert_eq!(body["error"]["code"], "all_miners_failed");
    assert_eq!(body["miners_failed"], 3);
    let j = net.job(&job).await;
    assert_eq!(
        j.status(),
        JobStatus::Refunded,
        "the third failed attempt refunds"
    );
    assert_eq!(
        net.balance(&net.client.tokens).await,
        before,
        "the client has its escrow back"
    );
    keeper.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_quote_is_what_the_eligible_miners_ask() {
    let priced = |price| MinerSpec {
        price: Some(price),
        ..spec(Behaviour::Honest, true, 10_000)
    };
    let net = Net::new(&[
        priced(1_000),
        priced(3_000),
        spec(Behaviour::Honest, true, 10_000),
    ])
    .await;
    let keeper = net.start_keeper(net.config(), None).await;
    let quote = |model: &str, risk: &str| {
        let url = format!("{}/v1/quote?model={model}&risk={risk}", keeper.api_url());
        async move {
            let response = http().get(url).send().await.unwrap();
            let status = response.status().as_u16();
            (status, response.json::<serde_json::Value>().await.unwrap())
        }
    };
    // The two bidding miners; the third does not bid.
    let (status, low) = quote(TEST_MODEL, "low").await;
    assert_eq!(status, 200, "{low}");
    assert_eq!(
        (
            &low["lowest"],
            &low["median"],
            &low["highest"],
            &low["miners"]
        ),
        (&1_000.into(), &3_000.into(), &3_000.into(), &2.into())
    );
    // High risk: the +50% premium.
    let (status, high) = quote(TEST_MODEL, "high").await;
    assert_eq!((status, &high["lowest"]), (200, &1_500.into()), "{high}");
    let (status, none) = quote(GEN_MODEL, "low").await;
    assert_eq!((status, &none["error"]), (404, &"no_quote".into()));
    let (status, bad) = quote(TEST_MODEL, "extreme").await;
    assert_eq!((status, &bad["error"]), (400, &"bad_request".into()));
    keeper.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_client_whose_inputs_are_refused_is_throttled_sooner() {
    let mut net = Net::new(&[spec(Behaviour::Honest, false, 10_000)]).await;
    // The shipped limits (the other tests lift them).
    let defaults = keeper::config::KeeperConfig::default();
    let config = keeper::config::KeeperConfig {
        client_requests_per_sec: defaults.client_requests_per_sec,
        client_burst: defaults.client_burst,
        ..net.config()
    };
    let keeper = net.start_keeper(config, None).await;
    let job = net.submit("the right input", RiskLevel::Low).await;
    // A clean client may send `client_burst` (20) requests at once; one
    // whose inputs are refused sees its rating, and so its burst, shrink.
    let mut refused = 0;
    let mut throttled_at = None;
    for i in 0..20 {
        let response = give_input(&keeper, &job, &format!("a wrong input {i}")).await;
        match response.status().as_u16() {
            422 => refused += 1,
            429 => {
                throttled_at = Some(i);
                break;
            }
            other => panic!("unexpected {other}"),
        }
    }
    let at = throttled_at.expect("throttled before its plain burst of 20");
    assert!(
        at <= 12,
        "throttled after {refused} refusals, at request {at}"
    );
    // Throttled, the right input waits too.
    assert_eq!(
        give_input(&keeper, &job, "the right input").await.status(),
        429
    );
    keeper.shutdown().await;
}
