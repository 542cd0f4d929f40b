//! Malformed, oversized and misaddressed requests get the right status and a JSON error, and the miner keeps serving.

mod common;

use std::time::Duration;

use common::{request, spawn_miner, try_spawn_miner, TEST_MODEL};
use ed25519_dalek::SigningKey;
use miner::api::{ErrorBody, MinerPubkey};
use verdict_wire::client::ClientError;

const TIMEOUT: Duration = Duration::from_secs(10);

async fn post_raw(url: &str, body: impl Into<reqwest::Body>) -> (u16, ErrorBody) {
    let response = reqwest::Client::builder()
        .no_proxy()
        .build()
        .unwrap()
        .post(format!("{url}/infer"))
        .header("content-type", "application/json")
        .body(body)
        .send()
        .await
        .expect("the miner answers");
    let status = response.status().as_u16();
    (
        status,
        response
            .json::<ErrorBody>()
            .await
            .expect("a JSON error body"),
    )
}

#[tokio::test]
async fn bad_requests_are_refused_and_the_miner_keeps_serving() {
    let miner = spawn_miner(&[
        "--models",
        TEST_MODEL,
        "--generate-key",
        "--max-body-bytes",
        "4096",
    ])
    .await;
    let client = miner.client(TIMEOUT);

    let oversized = serde_json::to_vec(&request(1, TEST_MODEL, &"a".repeat(10_000))).unwrap();
    let (status, body) = post_raw(&miner.url, oversized).await;
    assert_eq!((status, body.error.as_str()), (413, "payload_too_large"));

    let (status, body) = post_raw(&miner.url, "{\"job_id\": ").await;
    assert_eq!((status, body.error.as_str()), (400, "bad_request"));

    let (status, body) = post_raw(
        &miner.url,
        "{\"job_id\":\"zz\",\"model_id\":\"test-projection-v1\",\"input\":\"x\"}",
    )
    .await;
    assert_eq!(
        (status, body.error.as_str()),
        (400, "bad_request"),
        "{}",
        body.message
    );

    let error = client
        .infer(&request(1, "no-such-model", "x"))
        .await
        .unwrap_err();
    match error {
        ClientError::Refused { status: 404, body } => {
            assert_eq!(body.error, "unknown_model");
            assert!(body.message.contains(TEST_MODEL), "{}", body.message);
        }
        other => panic!("expected 404 unknown_model, got {other:?}"),
    }

    let mut mismatched = request(1, TEST_MODEL, "x");
    mismatched.input_hash = Some(miner::api::Digest32([0; 32]));
    assert!(matches!(
        client.infer(&mismatched).await,
        Err(ClientError::Refused { status: 400, .. })
    ));

    let mut expired = request(1, TEST_MODEL, "x");
    expired.deadline_unix_ms = Some(1);
    assert!(matches!(
        client.infer(&expired).await,
        Err(ClientError::Refused { status: 408, .. })
    ));

    // Still serving, on the same process.
    let answer = client
        .infer(&request(2, TEST_MODEL, "still here"))
        .await
        .expect("serves after bad input");
    answer.verify().unwrap();
    assert_eq!(answer.output.shape, vec![16]);
    let models = client.models().await.unwrap();
    assert_eq!(models.models.len(), 1);
    assert!(models.models[0].loaded);
}

#[tokio::test]
async fn the_node_key_comes_from_a_solana_keypair_file() {
    let key = SigningKey::from_bytes(&[11u8; 32]);
    let path = std::env::temp_dir().join(format!(
        "verdict-miner-key-{}-{}.json",
        std::process::id(),
        rand::random::<u64>()
    ));
    verdict_wire::keys::write_keypair(&path, &key).unwrap();
    let miner = spawn_miner(&["--models", TEST_MODEL, "--keypair", path.to_str().unwrap()]).await;
    let answer = miner
        .client(TIMEOUT)
        .infer(&request(3, TEST_MODEL, "signed by a known key"))
        .await
        .unwrap();
    std::fs::remove_file(&path).unwrap();
    assert_eq!(answer.miner_pubkey, MinerPubkey::from(&key));
    answer.verify().unwrap();
}

#[tokio::test]
async fn a_missing_model_stops_the_miner_with_the_fetch_instruction() {
    let empty = std::env::temp_dir().join(format!(
        "verdict-no-model-{}-{}",
        std::process::id(),
        rand::random::<u64>()
    ));
    std::fs::create_dir_all(&empty).unwrap();
    let outcome = try_spawn_miner(
        &["--models", common::MINILM, "--generate-key"],
        &[("VERDICT_MODEL_DIR", empty.to_str().unwrap())],
    )
    .await;
    std::fs::remove_dir_all(&empty).unwrap();
    let stderr = outcome
        .err()
        .expect("the miner must refuse to start without its model files")
        .to_string();
    assert!(
        stderr.contains("run `bash scripts/fetch-model.sh`"),
        "{stderr}"
    );
}
