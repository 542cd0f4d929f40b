//! Discovery from the chain: a miner that records its own endpoint over
//! JSON-RPC, a keeper whose configuration names no miner routing jobs to
//! it, the endpoint changing under a running keeper, and heartbeats landing
//! on the protocol's schedule as the chain clock moves.

mod common;

use std::time::{Duration, Instant};

use common::*;
use verdict::state::{JobStatus, Node, NodeEndpoint, RiskLevel};
use verdict_chain::bridge::RpcBridge;
use verdict_chain::Chain;
use verdict_sdk::accounts::AccountSource;
use verdict_sdk::pda;

/// Waits until `check` holds of the chain, polling.
async fn until<T>(what: &str, within: Duration, mut check: impl AsyncFnMut() -> Option<T>) -> T {
    let start = Instant::now();
    loop {
        if let Some(value) = check().await {
            return value;
        }
        assert!(start.elapsed() < within, "{what}: not within {within:?}");
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
}

async fn recorded_endpoint(net: &Net, node: &anchor_lang::prelude::Pubkey) -> Option<String> {
    Chain::Embedded(net.chain.clone())
        .fetch_optional::<NodeEndpoint>(&pda::endpoint(node))
        .await
        .unwrap()
        .map(|e| e.url().to_string())
}

/// A job through the keeper, which must end solved by `miner`.
async fn solved_by(
    net: &mut Net,
    keeper: &keeper::KeeperHandle,
    input: &str,
) -> anchor_lang::prelude::Pubkey {
    let job = net.submit(input, RiskLevel::Low).await;
    let response = give_input(keeper, &job, input).await;
    assert!(response.status().is_success(), "{}", response.status());
    let (code, body) = wait_outcome(keeper, &job, Duration::from_secs(20)).await;
    assert_eq!(code, 200, "{body}");
    let j = wait_chain(net, &job, Duration::from_secs(10), |j| {
        matches!(j.status(), JobStatus::Solved | JobStatus::Paid)
    })
    .await;
    j.miner
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_miner_found_on_chain_gets_jobs_and_keeps_its_record_by_itself() {
    let mut net = Net::new(&[on_its_own()]).await;
    let bridge = RpcBridge::start(net.chain.clone(), "127.0.0.1:0".parse().unwrap()).unwrap();
    let node = net.miners[0].handle.node;
    assert!(recorded_endpoint(&net, &node).await.is_none());

    // The miner records where it serves, by itself.
    let process = spawn_with_upkeep(&net.miners[0], &bridge.url());
    let first_url = process.url.clone();
    net.miners[0].process = Some(process);
    until(
        "the miner records its endpoint",
        Duration::from_secs(20),
        async || {
            (recorded_endpoint(&net, &node).await.as_deref() == Some(first_url.as_str()))
                .then_some(())
        },
    )
    .await;

    // A keeper configured with no miner at all finds it and routes to it.
    // It reads the chain once a minute, so it will call the miner's old
    // endpoint after the move below: what a keeper between two reads does.
    let config = keeper::config::KeeperConfig {
        poll_interval_ms: 60_000,
        ..net.config()
    };
    let keeper = net.start_keeper(config, None).await;
    assert_eq!(solved_by(&mut net, &keeper, "found on chain").await, node);
    let metrics = http()
        .get(format!("{}/metrics", keeper.api_url()))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(metrics.contains("miners_discovered 1"), "{metrics}");

    // The miner moves (a new process, another port): it records the new
    // endpoint, and the running keeper follows without being told, though
    // its last read of the chain still has the old one: the old endpoint
    // refuses the call, and the keeper reads where the miner is now.
    net.miners[0].process.take().unwrap().kill();
    let process = spawn_with_upkeep(&net.miners[0], &bridge.url());
    let second_url = process.url.clone();
    net.miners[0].process = Some(process);
    assert_ne!(first_url, second_url);
    until(
        "the new endpoint is recorded",
        Duration::from_secs(20),
        async || {
            (recorded_endpoint(&net, &node).await.as_deref() == Some(second_url.as_str()))
                .then_some(())
        },
    )
    .await;
    assert_eq!(solved_by(&mut net, &keeper, "after the move").await, node);

    // Heartbeats: none is due until the protocol's interval has passed on
    // the chain clock; then exactly one lands.
    let params = Chain::Embedded(net.chain.clone())
        .fetch::<verdict::state::Config>(&pda::config())
        .await
        .unwrap()
        .params;
    let before: Node = net.node(&node).await;
    tokio::time::sleep(Duration::from_secs(2)).await;
    assert_eq!(
        net.node(&node).await.reputation.last_heartbeat,
        before.reputation.last_heartbeat,
        "not due yet"
    );
    net.chain
        .advance_time(params.heartbeat_interval_secs())
        .await;
    let now = net.chain.unix_time().await.unwrap();
    let beat = until("a heartbeat lands", Duration::from_secs(20), async || {
        let last = net.node(&node).await.reputation.last_heartbeat;
        (last >= now).then_some(last)
    })
    .await;
    tokio::time::sleep(Duration::from_secs(3)).await;
    assert_eq!(
        net.node(&node).await.reputation.last_heartbeat,
        beat,
        "one heartbeat per interval, not one per round"
    );
    keeper.shutdown().await;
    bridge.stop();
}
