//! The auction end to end: miners that publish prices bid over HTTP, the
//! keeper clears each round and the chain records the winning bid as the
//! job's price; a winner that then fails the job is charged for it; a fee
//! below every bid is refused at intake with the quote, or failed with the
//! lowest bid when no other miner could take it; a bidder that is gone is
//! no longer waited for.

mod common;

use std::time::Duration;

use common::*;
use verdict::state::{JobStatus, RiskLevel};

const WAIT: Duration = Duration::from_secs(40);

fn priced(behaviour: Behaviour, price: u64) -> MinerSpec {
    MinerSpec {
        price: Some(price),
        ..spec(behaviour, true, 10_000)
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_cheapest_bid_wins_and_is_the_price_on_chain() {
    let mut net = Net::new(&[
        priced(Behaviour::Honest, FEE / 2),
        priced(Behaviour::Honest, FEE / 4),
        // Does not bid: placed only when no bidder wins.
        spec(Behaviour::Honest, true, 10_000),
    ])
    .await;
    let keeper = net.start_keeper(net.config(), None).await;

    // Low risk (answer first, settle with the bid) and medium (assign with it).
    for (input, risk) in [
        ("bid low", RiskLevel::Low),
        ("bid medium", RiskLevel::Medium),
    ] {
        let job = net.submit(input, risk).await;
        assert_eq!(give_input(&keeper, &job, input).await.status(), 202);
        let (code, body) = wait_outcome(&keeper, &job, WAIT).await;
        assert_eq!(code, 200, "{body}");
        let j = net.job(&job).await;
        let premium = if risk == RiskLevel::Medium { 5 } else { 4 };
        assert_eq!(
            (j.status(), j.miner, j.price),
            (
                JobStatus::Solved,
                net.miners[1].handle.node,
                FEE / 4 * premium / 4
            ),
            "the cheapest miner won and is paid its bid ({risk:?}: +25% at medium)"
        );
    }

    let metrics = keeper.ctx.metrics.render();
    for line in [
        "auction_jobs_total{result=\"awarded\"} 2",
        "routing_draws_total{share=\"auction\"} 2",
        // Both winning bids went on chain with their placements, where the
        // program checked them.
        "bid_priced_posts_total{bid=\"on_chain\"} 2",
    ] {
        assert!(metrics.contains(line), "{line} in\n{metrics}");
    }
    assert!(
        metrics.contains(&format!(
            "clearing_price{{model=\"{}\",risk=\"low\"}} {}",
            verdict_tests::TEST_MODEL,
            FEE / 4
        )),
        "{metrics}"
    );
    // The quote now carries what such jobs cleared at.
    let quote: serde_json::Value = http()
        .get(format!(
            "{}/v1/quote?model={}&risk=low",
            keeper.api_url(),
            verdict_tests::TEST_MODEL
        ))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(
        (&quote["clearing_median"], &quote["cleared"]),
        (&(FEE / 4).into(), &1.into()),
        "{quote}"
    );
    keeper.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_winner_that_does_not_honour_its_bid_is_charged_a_failure() {
    let mut net = Net::new(&[
        // Cheapest, then times out.
        priced(Behaviour::Slow, FEE / 10),
        priced(Behaviour::Honest, FEE / 2),
    ])
    .await;
    let keeper = net.start_keeper(net.config(), None).await;
    let job = net.submit("cheap talk", RiskLevel::Low).await;
    assert_eq!(give_input(&keeper, &job, "cheap talk").await.status(), 202);
    let (code, body) = wait_outcome(&keeper, &job, WAIT).await;
    assert_eq!(code, 200, "{body}");
    let j = net.job(&job).await;
    assert_eq!(
        (j.status(), j.attempts, j.miner, j.price),
        (JobStatus::Solved, 2, net.miners[1].handle.node, FEE / 2),
        "the next round went to the other bidder, at its own bid"
    );
    let reneged = net.node(&net.miners[0].handle.node).await;
    assert_eq!(
        reneged.reputation.lifetime_failures, 1,
        "the won job it timed out on is a failure on its record"
    );
    keeper.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_bidder_that_is_gone_stops_holding_jobs_back_at_its_first_unanswered_call() {
    let mut net = Net::new(&[
        priced(Behaviour::Honest, FEE / 4),
        // Does not bid: takes what the auction does not place.
        spec(Behaviour::Honest, true, 10_000),
    ])
    .await;
    let keeper = net.start_keeper(net.config(), None).await;
    let first = net.submit("while it bids", RiskLevel::Low).await;
    assert_eq!(
        give_input(&keeper, &first, "while it bids").await.status(),
        202
    );
    let (code, body) = wait_outcome(&keeper, &first, WAIT).await;
    assert_eq!(code, 200, "{body}");
    assert_eq!(net.job(&first).await.miner, net.miners[0].handle.node);

    // Its process dies between two reads of its prices.
    net.miners[0].process.take().unwrap().kill();
    let second = net.submit("after it died", RiskLevel::Low).await;
    assert_eq!(
        give_input(&keeper, &second, "after it died").await.status(),
        202
    );
    let (code, body) = wait_outcome(&keeper, &second, WAIT).await;
    assert_eq!(code, 200, "{body}");
    let j = net.job(&second).await;
    assert_eq!(
        (j.status(), j.miner),
        (JobStatus::Solved, net.miners[1].handle.node),
        "the miner that does not bid took it"
    );
    let metrics = keeper.ctx.metrics.render();
    assert!(
        metrics.contains("auction_bids_total{result=\"unreachable\"} 1"),
        "one refused connection was enough to stop asking it:\n{metrics}"
    );
    keeper.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_fee_below_every_bid_is_refused_at_intake_with_the_quote() {
    let mut net = Net::new(&[
        priced(Behaviour::Honest, 2 * FEE),
        priced(Behaviour::Honest, 3 * FEE),
    ])
    .await;
    let keeper = net.start_keeper(net.config(), None).await;
    let job = net.submit("too cheap", RiskLevel::Low).await;
    let refused = give_input(&keeper, &job, "too cheap").await;
    assert_eq!(refused.status(), 402);
    let body: serde_json::Value = refused.json().await.unwrap();
    assert_eq!(body["error"], "fee_below_market", "{body}");
    let message = body["message"].as_str().unwrap();
    assert!(
        message.contains(&format!("ask from {}", 2 * FEE)),
        "the refusal quotes the lowest price: {message}"
    );
    assert_eq!(
        net.job(&job).await.status(),
        JobStatus::Sent,
        "no miner was assigned or charged"
    );
    keeper.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_fee_below_every_bid_fails_with_the_lowest_bid_when_no_other_miner_can_take_it() {
    let mut net = Net::new(&[
        priced(Behaviour::Honest, 2 * FEE),
        // Takes jobs at the list price, but is down: intake accepts the
        // job for it, and once it failed only the bidder is left.
        spec(Behaviour::Down, true, 10_000),
    ])
    .await;
    let keeper = net.start_keeper(net.config(), None).await;
    let job = net.submit("priced out", RiskLevel::Low).await;
    assert_eq!(give_input(&keeper, &job, "priced out").await.status(), 202);
    let (code, body) = wait_outcome(&keeper, &job, WAIT).await;
    assert_eq!(code, 502, "{body}");
    assert_eq!(body["error"]["code"], "fee_below_market", "{body}");
    let message = body["error"]["message"].as_str().unwrap();
    assert!(
        message.contains(&format!("the lowest bid is {}", 2 * FEE)),
        "{message}"
    );
    let j = net.job(&job).await;
    assert_eq!(j.attempts, 1, "only the down miner was tried");
    assert_ne!(j.miner, net.miners[0].handle.node);
    keeper.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn jobs_beyond_the_bidders_capacity_wait_for_a_later_round_instead_of_failing() {
    // One job at a time, 700 ms each: the others find it full.
    let mut net = Net::new(&[MinerSpec {
        capacity: Some(1),
        ..priced(Behaviour::Sluggish, FEE / 2)
    }])
    .await;
    let keeper = net.start_keeper(net.config(), None).await;
    let mut jobs = Vec::new();
    for i in 0..3 {
        let input = format!("burst {i}");
        let job = net.submit(&input, RiskLevel::Low).await;
        jobs.push((job, input));
    }
    // Not real-time: a 700 ms miner is too slow for those once measured.
    for (job, input) in &jobs {
        let given = http()
            .post(format!("{}/v1/jobs", keeper.api_url()))
            .json(&serde_json::json!({ "job": job.to_string(), "input": input, "realtime": false }))
            .send()
            .await
            .unwrap();
        assert_eq!(given.status(), 202);
    }
    for (job, _) in &jobs {
        let (code, body) = wait_outcome(&keeper, job, WAIT).await;
        assert_eq!(code, 200, "{body}");
        let j = net.job(job).await;
        assert_eq!(
            (j.status(), j.attempts, j.price),
            (JobStatus::Solved, 1, FEE / 2),
            "placed once, at its bid, when the miner had room"
        );
    }
    let metrics = keeper.ctx.metrics.render();
    assert!(
        metrics.contains("auction_jobs_total{result=\"no_bids\"}"),
        "a round found the miner full:\n{metrics}"
    );
    assert_eq!(
        net.node(&net.miners[0].handle.node)
            .await
            .reputation
            .lifetime_failures,
        0,
        "waiting is nobody's failure"
    );
    keeper.shutdown().await;
}
