//! A miner answers at most `--max-concurrent` inference requests at once:
//! one more is refused at once with 503 `busy` (not queued), and it serves
//! again once a slot is free.

mod common;

use std::time::Duration;

use common::{request, spawn_miner, TEST_MODEL};
use verdict_wire::client::ClientError;

#[tokio::test]
async fn a_request_past_the_bound_is_refused_busy_and_the_miner_recovers() {
    let miner = spawn_miner(&[
        "--models",
        TEST_MODEL,
        "--generate-key",
        "--fault",
        "slow",
        "--slow-ms",
        "1500",
        "--max-concurrent",
        "1",
    ])
    .await;
    let client = miner.client(Duration::from_secs(10));
    let first = {
        let client = client.clone();
        tokio::spawn(async move { client.infer(&request(1, TEST_MODEL, "first")).await })
    };
    // The first is inside its slow answer by now.
    tokio::time::sleep(Duration::from_millis(400)).await;
    match client.infer(&request(2, TEST_MODEL, "second")).await {
        Err(ClientError::Refused { status, body }) => {
            assert_eq!((status, body.error.as_str()), (503, "busy"))
        }
        other => panic!("expected 503 busy, got {other:?}"),
    }
    first.await.unwrap().expect("the first request is answered");
    client
        .infer(&request(3, TEST_MODEL, "third"))
        .await
        .expect("a free slot serves again");
}
