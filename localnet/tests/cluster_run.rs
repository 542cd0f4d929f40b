//! The network on a "cluster": the embedded chain served over JSON-RPC by
//! the bridge, its clock running on its own (5× the wall clock, to keep the
//! minute-long phases short). The run funds everything from one payer,
//! initializes the Config with the cluster phases, waits time out instead of
//! warping it, and its report agrees with what the RPC node serves.

mod common;

use std::sync::Arc;

use solana_sdk::signature::Keypair;
use solana_sdk::signer::Signer;
use verdict::state::{Committee, Config};
use verdict_chain::bridge::{BridgeClock, RpcBridge};
use verdict_chain::EmbeddedChain;
use verdict_localnet::network::{cluster_params, run, Options, Target};
use verdict_sdk::accounts::AccountSource;
use verdict_sdk::pda;

const SOL: u64 = 1_000_000_000;

fn options(url: String, payer: Keypair, out: &std::path::Path) -> Options {
    Options {
        target: Target::Cluster {
            urls: vec![url],
            payer: Box::new(payer),
        },
        jobs: 8,
        model: verdict_tests::TEST_MODEL.into(),
        generative_model: None,
        out: out.to_path_buf(),
        miner_bin: verdict_tests::bins::miner_bin(),
        concurrency: 8,
        show_progress: false,
        tier3_reserved_bps: 2_000,
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_run_on_a_cluster_waits_time_out_and_reports_what_the_node_serves() {
    verdict_tests::logs::keep_logs();
    let embedded = Arc::new(EmbeddedChain::start().await);
    let payer = Keypair::new();
    embedded.airdrop(&payer.pubkey(), 20 * SOL).await.unwrap();
    let bridge = RpcBridge::start_with(
        embedded.clone(),
        "127.0.0.1:0".parse().unwrap(),
        BridgeClock::Running { speed: 5 },
    )
    .unwrap();
    let started_at = embedded.unix_time().await.unwrap();
    let out = tempfile::tempdir().unwrap();

    let done = run(&options(bridge.url(), payer.insecure_clone(), out.path()))
        .await
        .expect("the network runs on the cluster");

    common::assert_report_agrees_with_chain(&done, out.path(), 8, &cluster_params()).await;

    // Read back over RPC (the run's chain is the RPC client), as a user would.
    let chain = done.chain.clone();
    let config: Config = chain.fetch(&pda::config()).await.unwrap();
    assert_eq!(
        config.authority,
        payer.pubkey(),
        "the payer initialized the Config"
    );
    assert_eq!(config.params, cluster_params());
    let params = cluster_params();
    // Time was waited out, not warped: the rotation fell due and the keepers cranked it.
    let committee: Committee = chain.fetch(&pda::committee()).await.unwrap();
    assert!(committee.epoch >= 2, "rotated: epoch {}", committee.epoch);
    assert!(chain.unix_time().await.unwrap() >= started_at + params.committee_rotation_secs);
    // The payer paid for everything and got back what the wallets kept.
    assert!(
        done.lamports_spent > 0 && done.lamports_spent < 2 * SOL,
        "spent {}",
        done.lamports_spent
    );

    // A second run on the same deployment is refused before it spends anything.
    let before = embedded.lamports(&payer.pubkey()).await.unwrap();
    let again = run(&options(bridge.url(), payer.insecure_clone(), out.path())).await;
    let error = again.err().expect("a second run is refused").to_string();
    assert!(error.contains("Config already exists"), "{error}");
    assert_eq!(embedded.lamports(&payer.pubkey()).await.unwrap(), before);
}
