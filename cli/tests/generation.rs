//! Text generation through the CLI on the embedded chain: `job submit
//! --prompt` (checked before anything is escrowed), `--wait` and `job status
//! --keeper` printing the generated text once it checks out against the
//! chain, from a fake keeper serving a generation signed by the miner's key.

mod common;

use std::io::{Read, Write};
use std::net::TcpListener;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use anchor_lang::prelude::Pubkey;
use common::*;
use serde_json::{json, Value};
use sha2::{Digest, Sha256};
use solana_sdk::signer::Signer;
use verdict::state::{Job, JobStatus};
use verdict_cli::{CliError, OutputFormat};
use verdict_sdk::client::{GenerationInput, OutputTensor, SMOLLM2_ID};
use verdict_sdk::pda;

const TEXT: &str = "Hi there! \"Quoted\" — and 🦀.";
const TOKENS: [u32; 5] = [19556, 28, 1073, 314, 2];

/// A keeper that answers every request (POST /v1/jobs, GET /v1/jobs/<job>)
/// with the JobView it currently holds.
struct FakeKeeper {
    url: String,
    view: Arc<Mutex<Value>>,
}

impl FakeKeeper {
    fn start(view: Value) -> Self {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let url = format!("http://{}", listener.local_addr().unwrap());
        let view = Arc::new(Mutex::new(view));
        let served = view.clone();
        std::thread::spawn(move || {
            for stream in listener.incoming() {
                let Ok(mut stream) = stream else { continue };
                stream
                    .set_read_timeout(Some(Duration::from_millis(500)))
                    .ok();
                // Headers, then as much body as Content-Length says.
                let mut request = Vec::new();
                let mut buf = [0u8; 4096];
                while let Ok(n) = stream.read(&mut buf) {
                    if n == 0 {
                        break;
                    }
                    request.extend_from_slice(&buf[..n]);
                    let text = String::from_utf8_lossy(&request).to_string();
                    if let Some(end) = text.find("\r\n\r\n") {
                        let length = text[..end]
                            .lines()
                            .find_map(|l| {
                                l.to_ascii_lowercase()
                                    .strip_prefix("content-length:")
                                    .map(|v| v.trim().parse::<usize>().unwrap_or(0))
                            })
                            .unwrap_or(0);
                        if request.len() >= end + 4 + length {
                            break;
                        }
                    }
                }
                let body = served.lock().unwrap().to_string();
                let _ = write!(
                    stream,
                    "HTTP/1.1 200 OK\r\ncontent-type: application/json\r\ncontent-length: {}\r\nconnection: close\r\n\r\n{body}",
                    body.len()
                );
            }
        });
        FakeKeeper { url, view }
    }
}

/// What a miner signs (wire::miner::response_message, version 2), written
/// out here.
fn message(
    job: &Pubkey,
    input_hash: &[u8; 32],
    output_hash: &[u8; 32],
    probe_digest: &[u8; 32],
    sampled_as: &Pubkey,
    inference_time_us: u32,
) -> Vec<u8> {
    let mut m = b"VERDICT-MINER-RESPONSE-V2".to_vec();
    m.extend_from_slice(job.as_ref());
    m.push(SMOLLM2_ID.len() as u8);
    m.extend_from_slice(SMOLLM2_ID.as_bytes());
    m.extend_from_slice(input_hash);
    m.extend_from_slice(output_hash);
    m.extend_from_slice(probe_digest);
    m.extend_from_slice(sampled_as.as_ref());
    m.extend_from_slice(&0u32.to_le_bytes());
    m.extend_from_slice(&inference_time_us.to_le_bytes());
    m
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// The done JobView of a generation of `input` by `miner` (its Node
/// account, signed by `signing_key`), and the output hash to settle with.
fn generation_view(
    job: &Pubkey,
    input: &str,
    miner: &Pubkey,
    signing_key: &solana_sdk::signature::Keypair,
    text: &str,
) -> (Value, [u8; 32]) {
    let output = OutputTensor::from_tokens(&TOKENS, text.to_string());
    let output_hash = output.hash().0;
    let input_hash: [u8; 32] = Sha256::digest(input.as_bytes()).into();
    // No probes: sha256("VERDICT-PROBES-V1" || u32 LE 0).
    let probe_digest: [u8; 32] = Sha256::new()
        .chain_update(b"VERDICT-PROBES-V1")
        .chain_update(0u32.to_le_bytes())
        .finalize()
        .into();
    let key = signing_key.pubkey();
    let signature = signing_key.sign_message(&message(
        job,
        &input_hash,
        &output_hash,
        &probe_digest,
        &key,
        500_000,
    ));
    let view = json!({
        "job": job.to_string(),
        "status": "done",
        "miner": miner.to_string(),
        "output": output,
        "output_hash": hex(&output_hash),
        "response_ms": 600,
        "receipt": {
            "model_id": SMOLLM2_ID,
            "input_hash": hex(&input_hash),
            "load_time_ms": 0,
            "inference_time_us": 500_000,
            "miner_pubkey": key.to_string(),
            "signature": hex(signature.as_ref()),
            "probe_digest": hex(&probe_digest),
            "sampled_as": key.to_string(),
        },
        "error": null,
        "miners_failed": 0,
    });
    (view, output_hash)
}

fn submit_args<'a>(model: &'a str, job_id: &'a str, extra: &[&'a str]) -> Vec<&'a str> {
    let mut args = vec![
        "job",
        "submit",
        "--model",
        model,
        "--max-fee",
        "1",
        "--job-id",
        job_id,
    ];
    args.extend_from_slice(extra);
    args
}

#[tokio::test]
async fn generation_jobs_submit_wait_and_show_their_text() {
    let h = Harness::new().await;
    let committee = h.committee(3).await;
    let miner = h.node("miner", 1_000).await;
    h.cli(
        &miner.operator.keypair,
        &["node", "update", "--model", MODEL, "--model", SMOLLM2_ID],
    )
    .await
    .expect("the miner serves the generative model too");
    h.trial(&committee, &miner.node, true).await;
    let client = h.wallet(10).await;

    // Refused before anything is sent: nothing escrowed, no job.
    for (args, expected) in [
        (
            submit_args(MODEL, "1", &["--prompt", "Say hi"]),
            "needs a generative model",
        ),
        (
            submit_args(
                SMOLLM2_ID,
                "1",
                &["--prompt", "Say hi", "--max-tokens", "0"],
            ),
            "max_tokens must be 1 to 256",
        ),
        (
            submit_args(
                SMOLLM2_ID,
                "1",
                &["--prompt", "Say hi", "--temperature", "2.5"],
            ),
            "temperature_milli must be at most 2000",
        ),
        (
            submit_args(SMOLLM2_ID, "1", &["--prompt", "   "]),
            "the prompt is empty",
        ),
        (
            submit_args(SMOLLM2_ID, "1", &["--input", "Say hi"]),
            "pass --prompt",
        ),
    ] {
        let err = h.cli(&client, &args).await.unwrap_err();
        assert!(matches!(err, CliError::Input(_)), "{args:?}: {err}");
        assert!(err.to_string().contains(expected), "{args:?}: {err}");
    }
    assert!(!h.exists(&pda::job(&client.pubkey(), 1)).await);
    assert_eq!(h.balance(&client.pubkey()).await, 10 * TOKEN);

    // Submitted: the input hash binds the prompt and the sampling parameters.
    let generation = GenerationInput {
        prompt: "Say \"hi\"\nin one line".into(),
        max_tokens: 5,
        top_k: 1,
        temperature_milli: 250,
    };
    let submitted = h
        .cli(
            &client,
            &submit_args(
                SMOLLM2_ID,
                "2",
                &[
                    "--prompt",
                    &generation.prompt,
                    "--max-tokens",
                    "5",
                    "--top-k",
                    "1",
                    "--temperature",
                    "0.25",
                ],
            ),
        )
        .await
        .unwrap();
    let job2 = pda::job(&client.pubkey(), 2);
    assert_eq!(s(&submitted, "model"), SMOLLM2_ID);
    let on_chain: Job = h.fetch(&job2).await;
    assert_eq!(
        on_chain.input_hash,
        <[u8; 32]>::from(Sha256::digest(generation.to_input().as_bytes()))
    );

    // job status --keeper: the text once it checks out; not before it is solved.
    let (view, output_hash) = generation_view(
        &job2,
        &generation.to_input(),
        &miner.node,
        &miner.signing_key,
        TEXT,
    );
    let keeper = FakeKeeper::start(view);
    let unsolved = h
        .cli(
            &client,
            &["job", "status", &job2.to_string(), "--keeper", &keeper.url],
        )
        .await
        .unwrap();
    assert_eq!(unsolved["verified"], false);
    let mut report = good_report(0, 600);
    report.output_hash = output_hash;
    h.settle(&committee, &job2, &miner.node, TOKEN / 2, report)
        .await;
    let shown = h
        .cli(
            &client,
            &["job", "show", &job2.to_string(), "--keeper", &keeper.url],
        )
        .await
        .unwrap();
    assert_eq!(s(&shown, "text"), TEXT);
    assert_eq!(shown["tokens"], json!(TOKENS));
    assert_eq!(shown["tokens_per_second"], json!(10.0));
    assert_eq!(shown["verified"], true);
    let text = h
        .run_argv(
            &client,
            &[
                "verdict",
                "job",
                "status",
                &job2.to_string(),
                "--keeper",
                &keeper.url,
            ],
            OutputFormat::Text,
        )
        .await
        .unwrap();
    assert!(text.contains(TEXT), "{text}");
    assert!(text.contains("5 tokens, 10.0 tokens/s"), "{text}");

    // A keeper that rewrites the text (same token ids) is not believed.
    let (lying, _) = generation_view(
        &job2,
        &generation.to_input(),
        &miner.node,
        &miner.signing_key,
        "Send your tokens to me",
    );
    let mut lying = lying;
    lying["output_hash"] = json!(hex(&output_hash));
    *keeper.view.lock().unwrap() = lying;
    let err = h
        .cli(
            &client,
            &["job", "status", &job2.to_string(), "--keeper", &keeper.url],
        )
        .await
        .unwrap_err();
    assert!(matches!(err, CliError::Unverified(_)), "{err}");

    // --wait: the input goes to the keeper, the text comes back verified
    // once the committee settles the job on chain.
    let job3 = pda::job(&client.pubkey(), 3);
    let prompt = "Write a haiku about proofs";
    let waited = GenerationInput::new(prompt);
    let (view, output_hash) = generation_view(
        &job3,
        &waited.to_input(),
        &miner.node,
        &miner.signing_key,
        TEXT,
    );
    *keeper.view.lock().unwrap() = view;
    let args = submit_args(
        SMOLLM2_ID,
        "3",
        &["--prompt", prompt, "--wait", "--keeper", &keeper.url],
    );
    let settle = async {
        while !h.exists(&job3).await {
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
        let mut report = good_report(0, 600);
        report.output_hash = output_hash;
        h.settle(&committee, &job3, &miner.node, TOKEN / 2, report)
            .await;
    };
    let (waited_out, ()) = tokio::join!(h.cli(&client, &args), settle);
    let waited_out = waited_out.unwrap();
    assert_eq!(s(&waited_out, "text"), TEXT);
    assert_eq!(waited_out["verified"], true);
    assert_eq!(h.fetch::<Job>(&job3).await.status(), JobStatus::Solved);
}
