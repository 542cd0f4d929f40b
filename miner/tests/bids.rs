//! A miner started with prices answers keepers' calls for bids over HTTP:
//! its standing prices, one signed bid per job of a model it prices (above a
//! job's fee too), none for other models; a miner without prices refuses.

mod common;

use std::time::Duration;

use common::{job, spawn_miner, TEST_MODEL};
use verdict_wire::bid::{BidJob, BidRequest};
use verdict_wire::client::ClientError;
use verdict_wire::miner::Digest32;

const TIMEOUT: Duration = Duration::from_secs(10);

fn round(jobs: Vec<BidJob>) -> BidRequest {
    BidRequest {
        round: Digest32([4; 32]),
        jobs,
        closes_at: 1_000,
    }
}

fn lot(byte: u8, model: &str, risk: u8, max_fee: u64) -> BidJob {
    BidJob {
        job: job(byte),
        model_id: model.parse().unwrap(),
        risk,
        max_fee,
    }
}

#[tokio::test]
async fn a_pricing_miner_signs_a_bid_per_job_it_prices() {
    let miner = spawn_miner(&[
        "--models",
        TEST_MODEL,
        "--generate-key",
        "--price",
        &format!("{TEST_MODEL}=2000"),
        "--capacity",
        "3",
    ])
    .await;
    let client = miner.client(TIMEOUT);
    let standing = client.prices().await.expect("standing prices");
    assert_eq!(standing.capacity, 3);
    let prices: Vec<(u8, u64)> = standing.prices.iter().map(|p| (p.risk, p.price)).collect();
    assert_eq!(prices, vec![(0, 2_000), (1, 2_500), (2, 3_000)]);

    let key = client.health().await.unwrap().miner_pubkey;
    let answer = client
        .bids(&round(vec![
            lot(1, TEST_MODEL, 0, 5_000),
            lot(2, TEST_MODEL, 2, 100),
            lot(3, "all-minilm-l6-v2", 0, 5_000),
        ]))
        .await
        .expect("bids");
    assert_eq!(answer.bids.len(), 2, "none for a model it does not price");
    for bid in &answer.bids {
        assert_eq!(bid.verify(), Ok(()));
        assert_eq!(bid.miner_pubkey, key);
        assert_eq!(bid.round, Digest32([4; 32]));
        assert_eq!(bid.capacity, 3);
    }
    assert_eq!(answer.bids[0].price, 2_000);
    // Above the job's fee, still bid: the keeper learns the going rate.
    assert_eq!(answer.bids[1].price, 3_000);
}

#[tokio::test]
async fn a_miner_without_prices_does_not_bid() {
    let miner = spawn_miner(&["--models", TEST_MODEL, "--generate-key"]).await;
    let client = miner.client(TIMEOUT);
    for refused in [
        client.prices().await.map(|_| ()),
        client
            .bids(&round(vec![lot(1, TEST_MODEL, 0, 5_000)]))
            .await
            .map(|_| ()),
    ] {
        match refused {
            Err(ClientError::Refused { status, body }) => {
                assert_eq!((status, body.error.as_str()), (404, "not_bidding"))
            }
            other => panic!("{other:?}"),
        }
    }
}
