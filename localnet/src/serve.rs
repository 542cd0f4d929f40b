//! `verdict-localnet --serve`: a Verdict network to integrate a dApp
//! against, what `solana-test-validator` is to a Solana developer. The
//! embedded chain behind a Solana JSON-RPC endpoint (the bridge), the
//! committee of 5 keepers, honest miners, and a funded wallet; it runs
//! until interrupted.
//!
//! Its genesis differs from the main job's in one way, stated in the
//! ready line's output: the miners start with an earned record (20
//! successful jobs, trial passed), so jobs of every risk level are served
//! from the first one instead of after a warm-up of low-risk jobs.

use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use serde::Serialize;
use verdict::state::{JobOutcome, Node};
use verdict_chain::bridge::RpcBridge;
use verdict_chain::EmbeddedChain;
use verdict_tests::keys;

use crate::network::{
    build, spinner, Bidding, MinerPlan, NetworkError, Target, JOB_FEE, SECOND_MODEL, TOKEN,
};

/// The miners a served network runs: honest ones only.
const SERVED_MINERS: [MinerPlan; 3] = [
    MinerPlan::new("honest", None, Bidding::Standing),
    MinerPlan::new("honest", None, Bidding::Standing),
    MinerPlan::new("honest", None, Bidding::Standing),
];

/// Jobs each served miner's record starts with: enough to leave Tier 3.
const EARNED_JOBS: usize = verdict::constants::TIER_MIN_JOBS as usize;

/// Jobs the wallet can pay rent and fees for.
const WALLET_JOBS: u64 = 10_000;

#[derive(Debug)]
pub struct ServeOptions {
    pub model: String,
    /// A generative model the miners serve too, if any.
    pub generative_model: Option<String>,
    pub miner_bin: PathBuf,
    /// Where the wallet's keypair file goes.
    pub dir: PathBuf,
    pub tier3_reserved_bps: u16,
}

/// What a dApp needs to talk to the served network: printed as one JSON
/// line (`ready {…}`) once everything is up.
#[derive(Debug, Clone, Serialize)]
pub struct Ready {
    pub rpc_url: String,
    pub keepers: Vec<String>,
    pub program_id: String,
    /// A Solana keypair file (JSON array of 64 bytes), readable by the owner only.
    pub wallet: PathBuf,
    /// The wallet's token account of the stake mint, funded.
    pub token_account: String,
    pub mint: String,
    pub model: String,
    /// The generative model the miners serve, if any.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub generative_model: Option<String>,
    pub min_job_fee: u64,
    /// A maximum fee every keeper takes.
    pub job_fee: u64,
}

/// Starts the network, calls `ready` once it serves, and runs until `stop`
/// resolves; then stops the keepers and the miners.
pub async fn serve(
    opts: &ServeOptions,
    ready: impl FnOnce(&Ready),
    stop: impl std::future::Future<Output = ()>,
) -> Result<(), NetworkError> {
    let progress = spinner(true);
    let mut models = vec![opts.model.as_str(), SECOND_MODEL];
    models.extend(opts.generative_model.as_deref());
    let (mut net, _) = build(
        &Target::Embedded,
        &models,
        &opts.miner_bin,
        opts.tier3_reserved_bps,
        &SERVED_MINERS,
        &progress,
    )
    .await?;
    let embedded = net
        .embedded
        .clone()
        .expect("a served network runs on the embedded chain");
    progress.set_message("giving the miners their earned record");
    for miner in &net.miners {
        earn_record(&embedded, &miner.keys.node, &net.params).await?;
    }
    // A network that keeps running: its keepers claim and close the jobs
    // they co-signed, as on a cluster.
    net.keepers_claim = true;
    progress.set_message("starting 5 keepers");
    let mut keepers = Vec::new();
    for i in 0..net.validators.len() {
        keepers.push(net.start_keeper(i).await?);
    }
    progress.set_message("funding the wallet");
    let wallet = net
        .wallet(1_000_000 * TOKEN, WALLET_JOBS * net.job_cost().await?)
        .await?;
    let wallet_path = opts.dir.join("wallet.json");
    keys::write_keypair(&wallet_path, &wallet.keypair)?;
    let bridge = RpcBridge::start(embedded.clone(), "127.0.0.1:0".parse().unwrap())
        .map_err(|e| NetworkError::Other(format!("the JSON-RPC bridge: {e}")))?;
    let clock = tokio::spawn(follow_wall_clock(embedded.clone()));
    progress.finish_and_clear();

    ready(&Ready {
        rpc_url: bridge.url(),
        keepers: keepers.iter().map(|k| k.api_url()).collect(),
        program_id: verdict::ID.to_string(),
        wallet: wallet_path,
        token_account: wallet.tokens.to_string(),
        mint: net.mint.to_string(),
        model: opts.model.clone(),
        generative_model: opts.generative_model.clone(),
        min_job_fee: net.params.min_job_fee,
        job_fee: JOB_FEE.max(net.params.min_job_fee),
    });
    stop.await;

    clock.abort();
    for k in keepers {
        k.shutdown().await;
    }
    bridge.stop();
    let _ = std::fs::remove_dir_all(&net.work);
    Ok(())
}

/// Writes the miner's Node as if it had answered [`EARNED_JOBS`] jobs well.
async fn earn_record(
    chain: &EmbeddedChain,
    node: &anchor_lang::prelude::Pubkey,
    params: &verdict::state::ProtocolParams,
) -> Result<(), NetworkError> {
    let ok = JobOutcome::Success {
        sla_met: true,
        latency_score_bps: 10_000,
        response_ms: 20,
    };
    chain
        .patch::<Node>(node, |n| {
            for _ in 0..EARNED_JOBS {
                n.reputation.record(ok, params);
            }
        })
        .await?;
    Ok(())
}

/// Time passes on the served chain as on a cluster: a slot every 400 ms,
/// the clock following the wall clock (so TTLs, payout holds and the
/// committee's rotation fall due by themselves).
async fn follow_wall_clock(chain: Arc<EmbeddedChain>) {
    let Ok(start) = chain.unix_time().await else {
        return;
    };
    let started = std::time::Instant::now();
    let mut tick = tokio::time::interval(Duration::from_millis(400));
    loop {
        tick.tick().await;
        chain.next_slot().await;
        let now = start + started.elapsed().as_secs() as i64;
        if chain.unix_time().await.is_ok_and(|t| t < now) {
            chain.set_time(now).await;
        }
    }
}
