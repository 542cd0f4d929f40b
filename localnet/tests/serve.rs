//! A dApp integrating against `verdict-localnet --serve` from Rust, as a
//! developer would: over the served JSON-RPC endpoint and the keepers' HTTP
//! API only. Verified inference at every risk level, a refused submit, a
//! keeper down, a keeper that tampers with the output, a high-risk
//! generation checked by a shadow rerun, the job's events,
//! the Rust example, and the CLI's `job submit --wait` on the same path.

mod common;

use std::sync::Arc;
use std::time::Duration;

use axum::extract::{Path, State};
use axum::routing::{get, post};
use axum::{Json, Router};
use clap::Parser;
use solana_sdk::signature::read_keypair_file;
use solana_sdk::signer::Signer;
use verdict::state::{JobStatus, RiskLevel};
use verdict_chain::{Chain, RpcChain, RpcConfig};
use verdict_localnet::serve::{serve, Ready, ServeOptions};
use verdict_sdk::client::{
    infer, InferError, InferRequest, JobView, KeeperClient, VerificationError,
};
use verdict_sdk::events::{parse_logs, VerdictEvent};

const MODEL: &str = verdict_tests::TEST_MODEL;

/// How a tampering keeper changes the outputs it serves.
#[derive(Clone, Copy)]
enum Tamper {
    /// One value off, the hash left as it was.
    Value,
    /// One value off and the hash recomputed to match it.
    ValueAndHash,
}

/// A keeper in front of a real one that changes every output it serves.
async fn tampering_keeper(upstream: String, tamper: Tamper) -> String {
    #[derive(Clone)]
    struct Proxy {
        upstream: String,
        http: reqwest::Client,
        tamper: Tamper,
    }
    async fn submit(
        State(p): State<Proxy>,
        Json(body): Json<serde_json::Value>,
    ) -> (axum::http::StatusCode, Json<serde_json::Value>) {
        let r = p
            .http
            .post(format!("{}/v1/jobs", p.upstream))
            .json(&body)
            .send()
            .await
            .unwrap();
        let status = axum::http::StatusCode::from_u16(r.status().as_u16()).unwrap();
        (status, Json(r.json().await.unwrap()))
    }
    async fn job(
        State(p): State<Proxy>,
        Path(job): Path<String>,
    ) -> (axum::http::StatusCode, Json<JobView>) {
        let r = p
            .http
            .get(format!("{}/v1/jobs/{job}", p.upstream))
            .send()
            .await
            .unwrap();
        let status = axum::http::StatusCode::from_u16(r.status().as_u16()).unwrap();
        let mut view: JobView = r.json().await.unwrap();
        if let Some(output) = view.output.as_mut() {
            output.data[0] += 1;
            if matches!(p.tamper, Tamper::ValueAndHash) {
                view.output_hash = Some(output.hash());
            }
        }
        (status, Json(view))
    }
    let proxy = Proxy {
        upstream,
        http: reqwest::Client::builder().no_proxy().build().unwrap(),
        tamper,
    };
    let app = Router::new()
        .route("/v1/jobs", post(submit))
        .route("/v1/jobs/{job}", get(job))
        .with_state(proxy);
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}", listener.local_addr().unwrap());
    tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
    url
}

/// Everything a dApp does against the served network, in order.
async fn integrate(ready: Ready) {
    let chain = Chain::Rpc(Arc::new(RpcChain::new(RpcConfig {
        urls: vec![ready.rpc_url.clone()],
        ..RpcConfig::default()
    })));
    let wallet = read_keypair_file(&ready.wallet).unwrap();
    let tokens = ready.token_account.parse().unwrap();
    let keepers = KeeperClient::new(ready.keepers.clone(), Duration::from_secs(5)).unwrap();
    let request = |risk, input: &str| {
        let mut r = InferRequest::new(MODEL, input, risk, ready.job_fee, tokens);
        r.timeout = Duration::from_secs(60);
        r
    };

    // Every risk level: submitted, answered, verified against the chain.
    let mut jobs = Vec::new();
    for (i, risk) in [RiskLevel::Low, RiskLevel::Medium, RiskLevel::High]
        .into_iter()
        .enumerate()
    {
        let done = infer(
            &chain,
            &keepers,
            &wallet,
            &request(risk, &format!("sentence {i}")),
        )
        .await
        .unwrap_or_else(|e| panic!("{risk:?}: {e}"));
        assert!(!done.verified.values().is_empty());
        assert!(matches!(
            done.verified.status,
            JobStatus::Solved | JobStatus::Paid
        ));
        jobs.push(done.submitted.job);
    }

    // A high-risk generation: a shadow miner regenerates it as the
    // answering miner (same seed, same probes) before the committee signs,
    // and the client checks the text against the hash on chain.
    let question =
        verdict_sdk::client::GenerationInput::greedy("What is the capital of France?", 16);
    let mut generation =
        InferRequest::generate(&question, RiskLevel::High, ready.job_fee, tokens).unwrap();
    generation.timeout = Duration::from_secs(90);
    let done = infer(&chain, &keepers, &wallet, &generation)
        .await
        .unwrap_or_else(|e| panic!("generation: {e}"));
    let text = done.verified.text().expect("a generation has text");
    assert!(text.contains("Paris"), "{text:?}");
    assert!(done
        .verified
        .tokens()
        .is_some_and(|t| !t.is_empty() && t.len() <= 16));

    // The job's history decodes into the program's events.
    let history = chain.history(&jobs[1]).await.unwrap();
    let events: Vec<VerdictEvent> = history.iter().flat_map(|l| parse_logs(&l.logs)).collect();
    assert!(
        events
            .iter()
            .any(|e| matches!(e, VerdictEvent::JobSubmitted(_))),
        "{events:?}"
    );
    assert!(
        events
            .iter()
            .any(|e| matches!(e, VerdictEvent::JobCompleted(_))),
        "{events:?}"
    );

    // A fee below the program's minimum: refused by the program, by name.
    let mut cheap = request(RiskLevel::Low, "too cheap");
    cheap.max_fee = ready.min_job_fee - 1;
    let refused = infer(&chain, &keepers, &wallet, &cheap).await.unwrap_err();
    assert_eq!(
        refused.program_error_name(),
        Some("FeeBelowMinimum"),
        "{refused}"
    );

    // A keeper down: the next one takes the input.
    let mut urls = vec!["http://127.0.0.1:1".to_string()];
    urls.extend(ready.keepers.iter().cloned());
    let failover = KeeperClient::new(urls, Duration::from_secs(5)).unwrap();
    let done = infer(
        &chain,
        &failover,
        &wallet,
        &request(RiskLevel::Low, "failover"),
    )
    .await
    .unwrap();
    assert_eq!(done.keeper, ready.keepers[0]);

    // A keeper that tampers with the output is caught, hash rewritten or not.
    for tamper in [Tamper::Value, Tamper::ValueAndHash] {
        let liar = tampering_keeper(ready.keepers[0].clone(), tamper).await;
        let liar = KeeperClient::new([liar], Duration::from_secs(5)).unwrap();
        let error = infer(&chain, &liar, &wallet, &request(RiskLevel::Low, "tampered"))
            .await
            .unwrap_err();
        assert!(
            matches!(
                error,
                InferError::Verification(VerificationError::OutputHash { .. })
            ),
            "{error}"
        );
    }

    // The Rust example (examples/rust) does the same, as its README says.
    let example = std::process::Command::new(verdict_tests::bins::workspace_bin(
        "infer",
        "verdict-example-infer",
    ))
    .env("VERDICT_RPC_URL", &ready.rpc_url)
    .env("VERDICT_KEEPERS", ready.keepers.join(","))
    .env("VERDICT_WALLET", &ready.wallet)
    .env("VERDICT_TOKEN_ACCOUNT", &ready.token_account)
    .env("VERDICT_MODEL", MODEL)
    .output()
    .unwrap();
    let stdout = String::from_utf8_lossy(&example.stdout);
    assert!(
        example.status.success() && stdout.contains("verified"),
        "{stdout}{}",
        String::from_utf8_lossy(&example.stderr)
    );

    // The CLI's `job submit --wait` prints only a verified output.
    let argv = [
        "verdict",
        "--yes",
        "--output",
        "json",
        "job",
        "submit",
        "--model",
        MODEL,
        "--input",
        "from the command line",
        "--risk",
        "medium",
        "--max-fee",
        "0.01",
        "--from",
        &ready.token_account,
        "--wait",
        "--keeper",
        &ready.keepers.join(","),
    ];
    let cli = verdict_cli::Cli::try_parse_from(argv).unwrap();
    let env = verdict_cli::Env::with_signer(
        chain.clone(),
        wallet.insecure_clone(),
        ready.rpc_url.clone(),
    );
    let out = verdict_cli::run(cli, &env).await.unwrap();
    assert_eq!(out.json["verified"], true, "{}", out.json);
    assert!(out.json["output"].as_array().is_some_and(|v| !v.is_empty()));
    assert_eq!(out.json["client"], wallet.pubkey().to_string());

    // `job quote`: what the miners ask, before a submit.
    let keepers = ready.keepers.join(",");
    let argv = [
        "verdict", "--output", "json", "job", "quote", "--model", MODEL, "--risk", "low",
        "--keeper", &keepers,
    ];
    let cli = verdict_cli::Cli::try_parse_from(argv).unwrap();
    let out = verdict_cli::run(cli, &env).await.unwrap();
    let price = verdict_localnet::network::STANDING_PRICE;
    assert_eq!(
        (out.json["lowest"].as_u64(), out.json["highest"].as_u64()),
        (Some(price), Some(price)),
        "{}",
        out.json
    );
    assert!(
        out.json["miners"].as_u64().is_some_and(|n| n > 0),
        "{}",
        out.json
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_dapp_gets_verified_inference_from_the_served_network() {
    verdict_tests::logs::keep_logs();
    let dir = tempfile::tempdir().unwrap();
    let opts = ServeOptions {
        model: MODEL.into(),
        generative_model: Some(verdict_wire::models::SMOLLM2_ID.into()),
        miner_bin: verdict_tests::bins::miner_bin(),
        dir: dir.path().to_path_buf(),
        tier3_reserved_bps: 0,
    };
    let (ready_tx, ready_rx) = tokio::sync::oneshot::channel::<Ready>();
    let (stop_tx, stop_rx) = tokio::sync::oneshot::channel::<()>();
    let network = serve(
        &opts,
        |ready| ready_tx.send(ready.clone()).unwrap(),
        async {
            let _ = stop_rx.await;
        },
    );
    let dapp = async {
        let ready = ready_rx.await.expect("the network serves");
        integrate(ready).await;
        stop_tx.send(()).unwrap();
    };
    let (served, ()) = tokio::join!(network, dapp);
    served.expect("the network stops cleanly");
}
