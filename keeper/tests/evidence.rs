//! Rule 9, evidence stays available: keepers keep a job's input past the old
//! drop time until its challenge window and any dispute over it have ended;
//! they serve it to active nodes only, over authenticated requests; a keeper
//! that never saw a job fetches its input (checked against the job's input
//! hash) and votes in a dispute opened late.

mod common;

use std::time::{Duration, Instant};

use axum::routing::post;
use axum::{Json, Router};
use common::*;
use keeper::evidence::EvidenceError;
use keeper::peer::auth::PeerHeaders;
use keeper::peer::{EvidenceReply, EvidenceRequest, EVIDENCE_PATH};
use keeper::KeeperHandle;
use solana_sdk::signature::Keypair;
use solana_sdk::signer::Signer;
use verdict::state::{DisputeStatus, JobStatus, NodeStatus, RiskLevel, Vote};
use verdict_chain::Chain;
use verdict_sdk::accounts::AccountSource;
use verdict_sdk::{instructions as ix, pda};

const WAIT: Duration = Duration::from_secs(60);

fn solved(j: &verdict::state::Job) -> bool {
    matches!(j.status(), JobStatus::Solved | JobStatus::Paid)
}

/// Polls `check` until it holds, or fails the test with `what`.
async fn until(what: &str, mut check: impl AsyncFnMut() -> bool) {
    let start = Instant::now();
    while !check().await {
        assert!(start.elapsed() < WAIT, "timed out waiting: {what}");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

/// An evidence request for `job` to `url`, signed by `key`; `edit` may
/// tamper with the headers.
async fn ask(
    url: &str,
    key: &Keypair,
    job: &anchor_lang::prelude::Pubkey,
    time: i64,
    nonce: u64,
    edit: impl Fn(PeerHeaders) -> PeerHeaders,
) -> (u16, serde_json::Value) {
    let body = serde_json::to_vec(&EvidenceRequest { job: *job }).unwrap();
    let headers = edit(PeerHeaders::sign(key, EVIDENCE_PATH, &body, time, nonce));
    let mut request = http()
        .post(format!("{url}{EVIDENCE_PATH}"))
        .header("content-type", "application/json");
    for (name, value) in headers.to_pairs() {
        request = request.header(name, value);
    }
    let response = request.body(body).send().await.unwrap();
    (
        response.status().as_u16(),
        response.json().await.unwrap_or_default(),
    )
}

fn same(h: PeerHeaders) -> PeerHeaders {
    h
}

fn input_of(keeper: &KeeperHandle, job: &anchor_lang::prelude::Pubkey) -> Option<String> {
    keeper.ctx.store.input(job).unwrap()
}

/// A keeper that answers every evidence request with `input` for `job`.
async fn lying_keeper(job: anchor_lang::prelude::Pubkey, input: &'static str) -> String {
    let app = Router::new().route(
        EVIDENCE_PATH,
        post(move || async move {
            Json(EvidenceReply {
                job,
                input: input.into(),
            })
        }),
    );
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}", listener.local_addr().unwrap());
    tokio::spawn(async move { axum::serve(listener, app).await });
    url
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_keeper_that_never_saw_a_job_fetches_its_input_and_votes_in_a_late_dispute_and_inputs_are_pruned_after_the_window(
) {
    const OUTSIDER: usize = 4;
    let mut net = Net::new(&[spec(Behaviour::Wrong, true, 10_000)]).await;
    // Votes count from nodes active before the dispute opened: let a minute pass.
    net.chain.advance_time(60).await;
    let outsider = net.committee[OUTSIDER].node;
    let keepers = Keepers::start(&net, |i, c| {
        // The old drop time, shortened: the mempool purges finished jobs after 1 s.
        c.mempool.completion_secs = 1;
        if i != OUTSIDER {
            // Nobody shares inputs with keeper 4 or asks it to co-sign: it never sees the jobs.
            c.committee.peers.retain(|p| p.node != outsider);
        }
    })
    .await;
    let chain = Chain::Embedded(net.chain.clone());
    let (disputed_input, quiet_input) = ("a job disputed a day later", "a job nobody disputes");
    let disputed = net.submit(disputed_input, RiskLevel::Low).await;
    let quiet = net.submit(quiet_input, RiskLevel::Low).await;
    assert_eq!(
        give_input(keepers.get(0), &disputed, disputed_input)
            .await
            .status(),
        202
    );
    assert_eq!(
        give_input(keepers.get(1), &quiet, quiet_input)
            .await
            .status(),
        202
    );
    let solved_at = wait_chain(&net, &disputed, WAIT, solved).await.solved_at;
    let quiet_solved_at = wait_chain(&net, &quiet, WAIT, solved).await.solved_at;

    // Past the old drop time: the mempool records are gone, the inputs stay.
    until("keeper 0 purges its mempool record", async || {
        keepers.get(0).ctx.store.get(&disputed).unwrap().is_none()
    })
    .await;
    until("keeper 1 purges its mempool record", async || {
        keepers.get(1).ctx.store.get(&quiet).unwrap().is_none()
    })
    .await;
    for i in 0..OUTSIDER {
        assert_eq!(
            input_of(keepers.get(i), &disputed).as_deref(),
            Some(disputed_input),
            "keeper {i} keeps the input"
        );
        assert_eq!(
            input_of(keepers.get(i), &quiet).as_deref(),
            Some(quiet_input),
            "keeper {i} keeps the input"
        );
    }
    assert_eq!(
        input_of(keepers.get(OUTSIDER), &disputed),
        None,
        "keeper 4 never saw the job"
    );

    // What keeper 4 receives is checked against the job's input hash.
    let job = net.job(&disputed).await;
    let liar = lying_keeper(disputed, "not the input").await;
    let refused = keepers
        .get(OUTSIDER)
        .evidence
        .input_from(&liar, &disputed, &job)
        .await;
    assert!(
        matches!(refused, Err(EvidenceError::HashMismatch)),
        "{refused:?}"
    );
    let other_job = lying_keeper(quiet, quiet_input).await;
    let refused = keepers
        .get(OUTSIDER)
        .evidence
        .input_from(&other_job, &disputed, &job)
        .await;
    assert!(
        matches!(refused, Err(EvidenceError::WrongJob(_))),
        "{refused:?}"
    );
    assert_eq!(
        input_of(keepers.get(OUTSIDER), &disputed),
        None,
        "nothing unverified is kept"
    );

    // A day later, inside the two-day window, a validator challenges the job.
    net.chain.advance_time(86_400).await;
    let challenger = &net.committee[0].operator;
    // It names the correct output (the keepers' own reference run) against the wrong miner's.
    let right = keepers
        .get(0)
        .miners
        .reference_hash(verdict_tests::TEST_MODEL, disputed_input)
        .expect("the test model runs locally");
    assert_ne!(right, job.output_hash);
    let open = ix::open_dispute(
        &challenger.pubkey(),
        &challenger.tokens,
        &disputed,
        &job,
        right,
    );
    net.chain
        .send(&[open], &net.payer, &[&challenger.keypair])
        .await
        .expect("open_dispute");
    let dispute_key = pda::dispute(&disputed);
    // Every keeper but the challenger's (a party) votes, keeper 4 with the
    // input it fetched from a peer.
    let d = wait_dispute(&chain, &dispute_key, WAIT, |d| d.commits == 4).await;
    assert_eq!(
        input_of(keepers.get(OUTSIDER), &disputed).as_deref(),
        Some(disputed_input),
        "fetched, checked and kept"
    );
    assert_eq!(
        input_of(keepers.get(OUTSIDER), &quiet),
        None,
        "only what it needed"
    );
    let metrics = keepers.get(OUTSIDER).ctx.metrics.render();
    assert!(
        metrics.contains("inputs_fetched_total{result=\"ok\"} 1"),
        "{metrics}"
    );
    assert!(
        metrics.contains("inputs_fetched_total{result=\"hash_mismatch\"} 2"),
        "{metrics}"
    );
    let served: usize = (0..OUTSIDER)
        .map(|i| {
            keepers
                .get(i)
                .ctx
                .metrics
                .render()
                .matches("inputs_served_total{result=\"served\"}")
                .count()
        })
        .sum();
    assert!(served >= 1, "a peer served it");
    net.chain.set_time(d.commit_end + 1).await;
    let d = wait_dispute(&chain, &dispute_key, WAIT, |d| d.voters_revealed == 4).await;

    // Half a day before the window ends, nothing is pruned yet.
    let window = 2 * 86_400;
    assert!(net.chain.unix_time().await.unwrap() < quiet_solved_at + window);
    until(
        "keeper 1 schedules the quiet job's input for the end of its window",
        async || {
            let now = net.chain.unix_time().await.unwrap();
            !keepers
                .get(1)
                .ctx
                .store
                .inputs_due(now)
                .unwrap()
                .iter()
                .any(|(k, _)| *k == quiet)
        },
    )
    .await;
    for i in 0..OUTSIDER {
        assert_eq!(
            input_of(keepers.get(i), &quiet).as_deref(),
            Some(quiet_input),
            "keeper {i} still keeps it"
        );
    }

    net.chain.set_time(d.reveal_end + 1).await;
    let d = wait_dispute(&chain, &dispute_key, WAIT, |d| {
        d.status() != DisputeStatus::Voting
    })
    .await;
    assert_eq!(
        d.status(),
        DisputeStatus::Overturned,
        "the wrong output is overturned"
    );
    let vote = chain
        .fetch::<Vote>(&pda::vote(&dispute_key, &net.committee[OUTSIDER].node))
        .await
        .unwrap();
    assert_eq!(
        vote.result, d.result,
        "keeper 4 voted for the correct output"
    );
    assert!(net.chain.unix_time().await.unwrap() >= solved_at.max(quiet_solved_at) + window);
    // The window and the dispute are over: every keeper prunes both inputs.
    for i in 0..=OUTSIDER {
        until("the inputs are pruned", async || {
            input_of(keepers.get(i), &disputed).is_none()
                && input_of(keepers.get(i), &quiet).is_none()
        })
        .await;
    }
    assert!(keepers
        .get(0)
        .ctx
        .metrics
        .render()
        .contains("inputs_pruned_total 2"));

    // The miner lost its stake: it is no longer an active node, and may not ask.
    until("the wrong miner is liquidated", async || {
        net.node(&net.miners[0].handle.node).await.status() == NodeStatus::Liquidated
    })
    .await;
    let url = keepers.get(0).api_url();
    let miner_key = &net.miners[0].handle.signing_key;
    let mut nonce = 1;
    until("a liquidated node is refused", async || {
        nonce += 1;
        let (status, body) = ask(
            &url,
            miner_key,
            &disputed,
            keeper::clock::wall_secs(),
            nonce,
            same,
        )
        .await;
        status == 401 && body["error"] == "not_an_active_node"
    })
    .await;
    keepers.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn inputs_are_served_only_to_active_nodes_on_fresh_authentic_requests() {
    let mut net = Net::new(&[spec(Behaviour::Honest, true, 10_000)]).await;
    let keeper = net.start_keeper(net.config(), None).await;
    let input = "served as evidence";
    let job = net.submit(input, RiskLevel::Low).await;
    let unknown = net.submit("never handed in", RiskLevel::Low).await;
    assert_eq!(give_input(&keeper, &job, input).await.status(), 202);
    wait_outcome(&keeper, &job, WAIT).await;
    let url = keeper.api_url();
    let now = keeper::clock::wall_secs();
    let validator = &net.committee[1].signing_key;

    // An active node's key: a validator, or a miner.
    let (status, body) = ask(&url, validator, &job, now, 1, same).await;
    assert_eq!(
        (status, body["input"].as_str()),
        (200, Some(input)),
        "{body}"
    );
    let (status, body) = ask(&url, &net.miners[0].handle.signing_key, &job, now, 1, same).await;
    assert_eq!(status, 200, "{body}");
    // Replayed, stale, not a node's key, or signed by another key.
    let refused = |(status, body): (u16, serde_json::Value)| {
        (
            status,
            body["error"].as_str().unwrap_or_default().to_string(),
        )
    };
    assert_eq!(
        refused(ask(&url, validator, &job, now, 1, same).await),
        (401, "replayed_peer_request".into())
    );
    assert_eq!(
        refused(ask(&url, validator, &job, now - 600, 2, same).await),
        (401, "stale_peer_request".into())
    );
    let stranger = Keypair::new();
    assert_eq!(
        refused(ask(&url, &stranger, &job, now, 3, same).await),
        (401, "not_an_active_node".into())
    );
    let spoofed = ask(&url, &stranger, &job, now, 4, |mut h| {
        h.key = validator.pubkey();
        h
    });
    assert_eq!(refused(spoofed.await), (401, "bad_peer_signature".into()));
    // A job it keeps nothing for; an input that no longer matches the job.
    assert_eq!(
        refused(ask(&url, validator, &unknown, now, 5, same).await),
        (404, "unknown_input".into())
    );
    keeper.ctx.store.put_input(&unknown, "tampered").unwrap();
    assert_eq!(
        refused(ask(&url, validator, &unknown, now, 6, same).await),
        (409, "input_hash_mismatch".into())
    );
    let metrics = keeper.ctx.metrics.render();
    assert!(
        metrics.contains("inputs_served_total{result=\"served\"} 2"),
        "{metrics}"
    );
    assert!(
        metrics.contains("inputs_served_total{result=\"refused\"} 4"),
        "{metrics}"
    );
    keeper.shutdown().await;
}
