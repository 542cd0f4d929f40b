//! Fault modes as a keeper sees them: slow, garbage and drop are distinct typed client errors; flaky is reproducible for a seed.

mod common;

use std::time::Duration;

use common::{request, spawn_miner, TEST_MODEL};
use verdict_wire::client::ClientError;

#[tokio::test]
async fn garbage_drop_and_slow_are_distinct_errors() {
    let (garbage, dropping, slow) = tokio::join!(
        spawn_miner(&[
            "--models",
            TEST_MODEL,
            "--generate-key",
            "--fault",
            "garbage"
        ]),
        spawn_miner(&["--models", TEST_MODEL, "--generate-key", "--fault", "drop"]),
        spawn_miner(&[
            "--models",
            TEST_MODEL,
            "--generate-key",
            "--fault",
            "slow",
            "--slow-ms",
            "3000"
        ]),
    );
    let job = request(1, TEST_MODEL, "hello");
    let timeout = Duration::from_millis(800);

    let error = garbage.client(timeout).infer(&job).await.unwrap_err();
    assert!(
        matches!(error, ClientError::MalformedResponse { status: 200, .. }),
        "{error:?}"
    );

    let error = dropping.client(timeout).infer(&job).await.unwrap_err();
    assert!(
        matches!(error, ClientError::ConnectionDropped(_)),
        "{error:?}"
    );

    let error = slow.client(timeout).infer(&job).await.unwrap_err();
    assert!(matches!(error, ClientError::Timeout(_)), "{error:?}");

    // With patience the slow miner's answer is a valid one.
    let answer = slow
        .client(Duration::from_secs(10))
        .infer(&job)
        .await
        .expect("slow but honest");
    answer.verify().unwrap();

    // Faulty miners still answer the other endpoints.
    for miner in [&garbage, &dropping, &slow] {
        miner
            .client(timeout)
            .health()
            .await
            .expect("health still served");
    }
}

#[tokio::test]
async fn nothing_listening_is_a_connect_error() {
    let unused = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap();
    let client =
        verdict_wire::client::MinerClient::new(&format!("http://{unused}"), Duration::from_secs(2))
            .unwrap();
    let error = client
        .infer(&request(1, TEST_MODEL, "x"))
        .await
        .unwrap_err();
    assert!(matches!(error, ClientError::Connect(_)), "{error:?}");
}

/// Outcome of one request, reduced to a label for comparison.
fn outcome(
    result: &Result<miner::api::InferResponse, ClientError>,
    honest_hash: &miner::api::Digest32,
) -> &'static str {
    match result {
        Ok(response) if &response.output_hash == honest_hash => "ok",
        Ok(_) => "wrong",
        Err(ClientError::MalformedResponse { .. }) => "garbage",
        Err(ClientError::ConnectionDropped(_)) => "drop",
        Err(ClientError::Timeout(_)) => "slow",
        Err(other) => panic!("unexpected error {other:?}"),
    }
}

#[tokio::test]
async fn flaky_miners_with_the_same_seed_fail_the_same_way() {
    let honest = spawn_miner(&["--models", TEST_MODEL, "--generate-key"]).await;
    let args = [
        "--models",
        TEST_MODEL,
        "--generate-key",
        "--fault",
        "flaky",
        "--flaky-rate",
        "0.5",
        "--seed",
        "42",
        "--slow-ms",
        "1500",
    ];
    let (first, second) = tokio::join!(spawn_miner(&args), spawn_miner(&args));
    let timeout = Duration::from_millis(500);

    let mut runs = Vec::new();
    for miner in [&first, &second] {
        let client = miner.client(timeout);
        let mut labels = Vec::new();
        for index in 0..16u8 {
            let job = request(index, TEST_MODEL, "flaky input");
            let honest_hash = honest
                .client(timeout)
                .infer(&job)
                .await
                .unwrap()
                .output_hash;
            labels.push(outcome(&client.infer(&job).await, &honest_hash));
        }
        runs.push(labels);
    }
    assert_eq!(runs[0], runs[1], "same seed, same faults");
    assert!(runs[0].contains(&"ok"), "{:?}", runs[0]);
    assert!(runs[0].iter().any(|label| *label != "ok"), "{:?}", runs[0]);
}
