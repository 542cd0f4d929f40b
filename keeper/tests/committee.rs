//! A committee of five keepers on the embedded chain, each signing with its
//! own validator key and co-signing the others' claims over authenticated
//! HTTP: 3-of-5 outcomes, keepers killed (two: jobs still settle; three:
//! jobs wait and settle when one returns), a leader killed mid-job, spoofed
//! peer requests, gossip of miner health, and a dishonest keeper outvoted
//! in a dispute and liquidated while the honest voters are paid.

mod common;

use std::time::{Duration, Instant};

use common::*;
use keeper::core::cosign::{Claim, CosignRequest, Evidence};
use keeper::core::lifecycle::Intent;
use keeper::peer::auth::PeerHeaders;
use keeper::peer::COSIGN_PATH;
use solana_sdk::signature::Keypair;
use verdict::state::{DisputeStatus, JobStatus, NodeStatus, ProtocolParams, RiskLevel};
use verdict_chain::Chain;
use verdict_sdk::accounts::AccountSource;
use verdict_sdk::events::{parse_logs, VerdictEvent};
use verdict_sdk::pda;

const WAIT: Duration = Duration::from_secs(60);

fn solved(j: &verdict::state::Job) -> bool {
    matches!(j.status(), JobStatus::Solved | JobStatus::Paid)
}

/// Transactions a job lands when nothing fails: submit + settle (low), or
/// submit + assign + complete.
fn expected_landed(risk: RiskLevel) -> usize {
    if risk == RiskLevel::Low {
        2
    } else {
        3
    }
}

fn percentile(sorted: &[f64], p: f64) -> f64 {
    sorted[((sorted.len() as f64 - 1.0) * p).round() as usize]
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn five_keepers_settle_every_risk_with_three_of_five_member_signatures() {
    let mut net = Net::new(&[
        spec(Behaviour::Honest, true, 10_000),
        spec(Behaviour::Honest, true, 9_000),
    ])
    .await;
    let keepers = Keepers::start(&net, |_, _| {}).await;
    let mut jobs = Vec::new();
    for (i, risk) in [
        RiskLevel::Low,
        RiskLevel::Medium,
        RiskLevel::High,
        RiskLevel::Low,
        RiskLevel::Medium,
        RiskLevel::High,
    ]
    .into_iter()
    .enumerate()
    {
        let input = format!("committee job {i}");
        let job = net.submit(&input, risk).await;
        // Any member takes the input; it shares it with the others.
        let entry = i % 5;
        assert_eq!(
            give_input(keepers.get(entry), &job, &input).await.status(),
            202
        );
        jobs.push((job, risk, entry, Instant::now()));
    }
    let mut latencies = Vec::new();
    for (job, risk, entry, submitted) in &jobs {
        let j = wait_chain(&net, job, WAIT, solved).await;
        latencies.push(submitted.elapsed().as_secs_f64());
        assert_eq!(j.attempts, 1, "{job}");
        assert_eq!(
            net.landed(job),
            expected_landed(*risk),
            "{job} ({risk:?}) landed once per step"
        );
        let signers = &j.signers[..j.signer_count as usize];
        assert_eq!(signers.len(), 3, "exactly a quorum signed");
        assert!(
            signers
                .iter()
                .all(|s| net.committee.iter().any(|m| m.node == *s)),
            "signers are members"
        );
        let mut distinct = signers.to_vec();
        distinct.sort();
        distinct.dedup();
        assert_eq!(distinct.len(), 3, "distinct signers");
        // The keeper the client used serves the verified output, whoever led.
        let (code, body) = wait_outcome(keepers.get(*entry), job, WAIT).await;
        assert_eq!(code, 200, "{body}");
        assert_eq!(
            body["output_hash"].as_str().unwrap(),
            hex::encode(j.output_hash)
        );
    }
    let leaders: std::collections::HashSet<usize> = {
        let mut l = std::collections::HashSet::new();
        for (job, ..) in &jobs {
            l.insert(keepers.leader_of(&net, job).await);
        }
        l
    };
    assert!(
        leaders.len() > 1,
        "leadership is spread over members: {leaders:?}"
    );
    let signed: usize = (0..5)
        .map(|i| {
            keepers
                .get(i)
                .ctx
                .metrics
                .render()
                .matches("verdict=\"signed\"")
                .count()
        })
        .sum();
    assert!(signed > 0, "members co-signed each other's claims");
    latencies.sort_by(f64::total_cmp);
    println!(
        "settle latency, 5 keepers: p50 {:.3} s, max {:.3} s over {} jobs",
        percentile(&latencies, 0.5),
        latencies[latencies.len() - 1],
        latencies.len()
    );
    keepers.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_keepers_down_jobs_settle_three_down_jobs_wait_until_one_returns() {
    let mut net = Net::new(&[spec(Behaviour::Honest, true, 10_000)]).await;
    let mut keepers =
        Keepers::start(&net, |_, c| c.committee.timeout_report_interval_secs = 0).await;
    keepers.kill(3).await;
    keepers.kill(4).await;
    let mut jobs = Vec::new();
    for (i, risk) in [
        RiskLevel::Low,
        RiskLevel::Medium,
        RiskLevel::Low,
        RiskLevel::Medium,
    ]
    .into_iter()
    .enumerate()
    {
        let input = format!("two down {i}");
        let job = net.submit(&input, risk).await;
        assert_eq!(
            give_input(keepers.get(i % 3), &job, &input).await.status(),
            202
        );
        jobs.push((job, risk));
    }
    for (job, risk) in &jobs {
        let j = wait_chain(&net, job, WAIT, solved).await;
        assert_eq!(j.attempts, 1);
        assert_eq!(net.landed(job), expected_landed(*risk), "{job}");
    }
    // The live members reported the dead ones' missed deadlines (−5).
    let start = Instant::now();
    while net.node(&net.committee[3].node).await.attestations_missed == 0 {
        assert!(
            start.elapsed() < WAIT,
            "keeper 3's missed deadline was never reported"
        );
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    assert!(
        net.node(&net.committee[3].node).await.validator_score
            < net.node(&net.committee[0].node).await.validator_score
    );

    // Three down: no quorum, so jobs wait; none is lost when a keeper returns.
    keepers.kill(2).await;
    let mut waiting = Vec::new();
    for (i, risk) in [RiskLevel::Low, RiskLevel::Medium].into_iter().enumerate() {
        let input = format!("three down {i}");
        let job = net.submit(&input, risk).await;
        assert_eq!(give_input(keepers.get(i), &job, &input).await.status(), 202);
        waiting.push((job, risk));
    }
    tokio::time::sleep(Duration::from_secs(5)).await;
    for (job, _) in &waiting {
        assert_eq!(
            net.job(job).await.status(),
            JobStatus::Sent,
            "no quorum: the job waits"
        );
    }
    keepers.restart(&net, 3).await;
    for (job, risk) in &waiting {
        let j = wait_chain(&net, job, WAIT, solved).await;
        assert_eq!(j.attempts, 1);
        assert_eq!(
            net.landed(job),
            expected_landed(*risk),
            "{job} ({risk:?}) landed exactly once per step"
        );
    }
    keepers.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_next_member_finishes_a_job_whose_leader_dies_mid_job() {
    let mut net = Net::new(&[spec(Behaviour::Sluggish, true, 10_000)]).await;
    // The sluggish miner's 700 ms median must not bar it from real-time jobs here.
    let mut keepers = Keepers::start(&net, |_, c| c.routing.realtime_max_median_ms = 2_000.0).await;
    // Medium: the leader assigns, then dies while the miner computes.
    let input = "leader dies after assigning";
    let job = net.submit(input, RiskLevel::Medium).await;
    let leader = keepers.leader_of(&net, &job).await;
    let entry = (leader + 1) % 5;
    assert_eq!(
        give_input(keepers.get(entry), &job, input).await.status(),
        202
    );
    wait_chain(&net, &job, WAIT, |j| j.status() == JobStatus::Allocated).await;
    keepers.kill(leader).await;
    let j = wait_chain(&net, &job, WAIT, solved).await;
    assert_eq!(j.attempts, 1, "the same assignment was completed");
    assert_eq!(
        net.landed(&job),
        3,
        "submit, assign, complete: nothing doubled"
    );
    assert!(
        !j.signers[..j.signer_count as usize].contains(&net.committee[leader].node),
        "the dead leader did not sign the completion"
    );

    // Low: the leader dies while the miner computes, before anything lands.
    let input = "leader dies before settling";
    let job = net.submit(input, RiskLevel::Low).await;
    let leader = keepers.leader_of(&net, &job).await;
    if keepers.handles[leader].is_none() {
        keepers.restart(&net, leader).await;
    }
    let entry = (leader + 2) % 5;
    let entry = if keepers.handles[entry].is_none() {
        (entry + 1) % 5
    } else {
        entry
    };
    assert_eq!(
        give_input(keepers.get(entry), &job, input).await.status(),
        202
    );
    tokio::time::sleep(Duration::from_millis(300)).await;
    keepers.kill(leader).await;
    let j = wait_chain(&net, &job, WAIT, solved).await;
    assert_eq!(net.landed(&job), 2, "submit + one settle");
    assert_eq!(j.attempts, 1);
    keepers.shutdown().await;
}

/// A co-sign request to `url` signed by `key`; `edit` may tamper with the headers.
fn signed_request(
    url: &str,
    key: &Keypair,
    body: &[u8],
    time: i64,
    nonce: u64,
    edit: impl Fn(PeerHeaders) -> PeerHeaders,
) -> reqwest::RequestBuilder {
    let headers = edit(PeerHeaders::sign(key, COSIGN_PATH, body, time, nonce));
    let mut request = http()
        .post(format!("{url}{COSIGN_PATH}"))
        .header("content-type", "application/json");
    for (name, value) in headers.to_pairs() {
        request = request.header(name, value);
    }
    request.body(body.to_vec())
}

fn same(h: PeerHeaders) -> PeerHeaders {
    h
}

/// A member's signed co-sign request for `claim` in `epoch`, sent.
async fn ask_cosign(
    url: &str,
    member: &Keypair,
    epoch: u64,
    claim: Claim,
    now: i64,
    nonce: u64,
) -> reqwest::Response {
    let body = serde_json::to_vec(&CosignRequest { epoch, claim }).unwrap();
    signed_request(url, member, &body, now, nonce, same)
        .send()
        .await
        .unwrap()
}

async fn error_code(response: reqwest::Response) -> (u16, String) {
    let status = response.status().as_u16();
    let body: serde_json::Value = response.json().await.unwrap();
    (
        status,
        body["error"].as_str().unwrap_or_default().to_string(),
    )
}

#[tokio::test(flavor = "current_thread")]
async fn spoofed_replayed_stale_and_forged_peer_requests_are_refused() {
    let mut net = Net::new(&[spec(Behaviour::Honest, true, 10_000)]).await;
    let keepers = Keepers::start(&net, |_, _| {}).await;
    let url = keepers.get(0).api_url();
    let job = net.submit("spoof target", RiskLevel::Low).await;
    let member = &net.committee[1].signing_key;
    let committee = Chain::Embedded(net.chain.clone())
        .fetch::<verdict::state::Committee>(&pda::committee())
        .await
        .unwrap();
    let miner = net.miners[0].handle.node;
    let intent = Intent::Assign {
        miner,
        attempt: 1,
        price: FEE,
    };
    let claim = Claim::Job {
        job,
        intent,
        evidence: Evidence::default(),
    };
    let body = serde_json::to_vec(&CosignRequest {
        epoch: committee.epoch,
        claim: claim.clone(),
    })
    .unwrap();
    let now = keeper::clock::wall_secs();

    // A genuine member request is signed, once.
    let ok = signed_request(&url, member, &body, now, 1, same)
        .send()
        .await
        .unwrap();
    assert_eq!(ok.status(), 200, "{:?}", ok.text().await);
    assert_eq!(
        error_code(
            signed_request(&url, member, &body, now, 1, same)
                .send()
                .await
                .unwrap()
        )
        .await,
        (401, "replayed_peer_request".into())
    );
    // Not a member.
    let outsider = Keypair::new();
    assert_eq!(
        error_code(
            signed_request(&url, &outsider, &body, now, 2, same)
                .send()
                .await
                .unwrap()
        )
        .await,
        (401, "not_a_committee_member".into())
    );
    // A member's key claimed, someone else's signature.
    let spoofed = signed_request(&url, &outsider, &body, now, 3, |mut h| {
        h.key = solana_sdk::signer::Signer::pubkey(member);
        h
    });
    assert_eq!(
        error_code(spoofed.send().await.unwrap()).await,
        (401, "bad_peer_signature".into())
    );
    // A body changed after signing.
    let signed_for_other = PeerHeaders::sign(member, COSIGN_PATH, b"{}", now, 4);
    let mut tampered = http()
        .post(format!("{url}{COSIGN_PATH}"))
        .header("content-type", "application/json");
    for (name, value) in signed_for_other.to_pairs() {
        tampered = tampered.header(name, value);
    }
    assert_eq!(
        error_code(tampered.body(body.clone()).send().await.unwrap()).await,
        (401, "bad_peer_signature".into())
    );
    // Stale: replayed minutes later with a fresh nonce but its old time.
    assert_eq!(
        error_code(
            signed_request(&url, member, &body, now - 600, 5, same)
                .send()
                .await
                .unwrap()
        )
        .await,
        (401, "stale_peer_request".into())
    );
    // No authentication at all.
    let bare = http()
        .post(format!("{url}{COSIGN_PATH}"))
        .body(body.clone())
        .send()
        .await
        .unwrap();
    assert_eq!(
        error_code(bare).await,
        (401, "malformed_peer_request".into())
    );

    // Authenticated but wrong: an old epoch, a price over the fee, a
    // completion whose "miner answer" is signed by someone else.
    let old = serde_json::to_vec(&CosignRequest {
        epoch: committee.epoch - 1,
        claim: claim.clone(),
    })
    .unwrap();
    let r = signed_request(&url, member, &old, now, 6, same)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 409);
    assert!(r.text().await.unwrap().contains("WrongEpoch"));
    let greedy = Claim::Job {
        job,
        intent: Intent::Assign {
            miner,
            attempt: 1,
            price: FEE * 10,
        },
        evidence: Evidence::default(),
    };
    let r = ask_cosign(&url, member, committee.epoch, greedy, now, 7).await;
    assert_eq!(r.status(), 409);
    assert!(r.text().await.unwrap().contains("PriceTooHigh"));
    // A price "backed" by a bid the miner never signed.
    let impostor = ed25519_dalek::SigningKey::from_bytes(&[9; 32]);
    let fake_bid = verdict_wire::bid::Bid::sign(
        &impostor,
        verdict_wire::miner::Digest32([1; 32]),
        verdict_wire::miner::JobId(job.to_bytes()),
        FEE / 2,
        now + 60,
        1,
    );
    let unbacked = Claim::Job {
        job,
        intent: Intent::Assign {
            miner,
            attempt: 1,
            price: FEE / 2,
        },
        evidence: Evidence {
            bid: Some(Box::new(fake_bid)),
            ..Evidence::default()
        },
    };
    let r = ask_cosign(&url, member, committee.epoch, unbacked, now, 9).await;
    assert_eq!(r.status(), 409);
    let text = r.text().await.unwrap();
    assert!(text.contains("OtherMiner"), "{text}");
    let forged = forged_settle(&job, &net).await;
    let r = ask_cosign(&url, member, committee.epoch, forged, now, 8).await;
    assert_eq!(r.status(), 409);
    let text = r.text().await.unwrap();
    assert!(text.contains("WrongSigner"), "{text}");
    assert!(keepers
        .get(0)
        .ctx
        .metrics
        .render()
        .contains("verdict=\"refused\""));
    keepers.shutdown().await;
}

/// A settle claim whose "miner answer" is signed by a key that is not the
/// miner's.
async fn forged_settle(job: &anchor_lang::prelude::Pubkey, net: &Net) -> Claim {
    use verdict_wire::miner::{JobId, UnsignedResponse};
    let j = net.job(job).await;
    let impostor = ed25519_dalek::SigningKey::from_bytes(&[9; 32]);
    let output = verdict_wire::miner::OutputTensor::from_f32(&vec![
        0.5;
        verdict_models::ModelKind::from_id(TEST_MODEL_ID)
            .unwrap()
            .output_dim()
            as usize
    ])
    .unwrap();
    let response = UnsignedResponse {
        job_id: JobId(job.to_bytes()),
        model_id: TEST_MODEL_ID.parse().unwrap(),
        input_hash: verdict_wire::miner::Digest32(j.input_hash),
        output,
        probes: vec![],
        sampled_as: verdict_wire::miner::MinerPubkey::from(&impostor),
        load_time_ms: 0,
        inference_time_us: 1_000,
    }
    .sign(&impostor);
    let report = verdict::attestation::CompletionReport {
        output_hash: response.output_hash.0,
        response_ms: 5,
        load_ms: 0,
        inference_ms: 1,
        success: true,
        sla_met: true,
        latency_score_bps: 5_000,
    };
    let intent = Intent::Settle {
        miner: net.miners[0].handle.node,
        attempt: 1,
        price: FEE,
        report,
    };
    Claim::Job {
        job: *job,
        intent,
        evidence: Evidence {
            input: Some("spoof target".into()),
            response: Some(response),
            response_ms: 5,
            bid: None,
        },
    }
}

const TEST_MODEL_ID: &str = verdict_tests::TEST_MODEL;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_committee_co_signs_auctioned_prices_backed_by_the_winning_bid() {
    let priced = |price| MinerSpec {
        price: Some(price),
        ..spec(Behaviour::Honest, true, 10_000)
    };
    let mut net = Net::new(&[priced(FEE / 2), priced(FEE / 4)]).await;
    let keepers = Keepers::start(&net, |_, _| {}).await;
    let mut jobs = Vec::new();
    for (i, risk) in [RiskLevel::Low, RiskLevel::Medium, RiskLevel::High]
        .into_iter()
        .enumerate()
    {
        let input = format!("auctioned {i}");
        let job = net.submit(&input, risk).await;
        assert_eq!(give_input(keepers.get(i), &job, &input).await.status(), 202);
        jobs.push((job, risk));
    }
    for (job, risk) in jobs {
        let j = wait_chain(&net, &job, WAIT, solved).await;
        // The standing price +0/25/50% by risk.
        let premium = [4, 5, 6][risk as usize];
        assert_eq!(
            (j.attempts, j.miner, j.price),
            (1, net.miners[1].handle.node, FEE / 4 * premium / 4),
            "{risk:?}: the cheapest bid won, and three members signed its price"
        );
        assert_eq!(net.landed(&job), expected_landed(risk), "{risk:?}");
        assert_eq!(
            assigned_by_bid(&net, &job),
            vec![true],
            "{risk:?}: the winning bid went on chain, where the program checked it"
        );
    }
    keepers.shutdown().await;
}

/// Each `JobAssigned` of `job` on chain: whether its price was a checked bid.
fn assigned_by_bid(net: &Net, job: &anchor_lang::prelude::Pubkey) -> Vec<bool> {
    net.chain
        .history(job)
        .iter()
        .flat_map(|l| parse_logs(&l.logs))
        .filter_map(|e| match e {
            VerdictEvent::JobAssigned(a) if a.job == *job => Some(a.by_bid),
            _ => None,
        })
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn past_a_quorum_of_three_an_auctioned_price_lands_on_the_committees_word_alone() {
    // Four signatures and a bid outgrow one packet: the bid stays off chain.
    let params = ProtocolParams {
        committee_quorum: 4,
        ..ProtocolParams::default()
    };
    let priced = MinerSpec {
        price: Some(FEE / 4),
        ..spec(Behaviour::Honest, true, 10_000)
    };
    let mut net = Net::with_params(&[priced], params).await;
    let keepers = Keepers::start(&net, |_, _| {}).await;
    let job = net.submit("four signatures", RiskLevel::Low).await;
    assert_eq!(
        give_input(keepers.get(0), &job, "four signatures")
            .await
            .status(),
        202
    );
    let j = wait_chain(&net, &job, WAIT, solved).await;
    assert_eq!(
        (j.miner, j.price),
        (net.miners[0].handle.node, FEE / 4),
        "four members signed the bid's price"
    );
    assert_eq!(assigned_by_bid(&net, &job), vec![false]);
    let posted_without: usize = (0..5)
        .map(|i| keepers.get(i).ctx.metrics.render())
        .filter(|m| m.contains("bid_priced_posts_total{bid=\"too_large\"} 1"))
        .count();
    assert_eq!(posted_without, 1, "the leader counted it");
    keepers.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_miner_one_keeper_saw_failing_is_deprioritized_by_every_keeper() {
    let net = Net::new(&[
        spec(Behaviour::Honest, true, 10_000),
        spec(Behaviour::Honest, true, 10_000),
    ])
    .await;
    let keepers = Keepers::start(&net, |_, _| {}).await;
    let first = keepers
        .get(3)
        .ctx
        .snapshot()
        .route(&route_low(), &keepers.configs[3].routing, 2)
        .iter()
        .map(|m| m.profile.node)
        .collect::<Vec<_>>();
    let favourite = first[0];
    // Keeper 0 sees the favourite fail and says so on the gossip.
    keepers
        .get(0)
        .miners
        .gossip
        .as_ref()
        .expect("gossip is on")
        .report_failure(&favourite)
        .await;
    let start = Instant::now();
    loop {
        let view = &keepers.get(3).ctx;
        let flagged = view
            .snapshot()
            .get(&favourite)
            .is_some_and(|m| m.profile.recent_mistake);
        if flagged {
            let order: Vec<_> = view
                .snapshot()
                .route(&route_low(), &keepers.configs[3].routing, 2)
                .iter()
                .map(|m| m.profile.node)
                .collect();
            assert_eq!(
                order[1], favourite,
                "keeper 3 now routes the other miner first"
            );
            break;
        }
        assert!(
            start.elapsed() < WAIT,
            "keeper 3 never heard of the failure"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let start = Instant::now();
    while keepers
        .get(3)
        .miners
        .gossip
        .as_ref()
        .unwrap()
        .live_peers()
        .await
        < 5
    {
        assert!(
            start.elapsed() < WAIT,
            "keeper 3 does not hear all four others"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    keepers.shutdown().await;
}

fn route_low() -> keeper::core::routing::RouteRequest<'static> {
    keeper::core::routing::RouteRequest {
        risk: RiskLevel::Low,
        model: verdict::state::model_id(verdict_tests::TEST_MODEL).unwrap(),
        realtime: false,
        now: keeper::clock::wall_secs(),
        exclude: &[],
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_dishonest_keeper_is_outvoted_in_a_dispute_and_liquidated_and_honest_voters_are_paid() {
    const DISHONEST: usize = 4;
    // A vote weighs the voter's stake in vote units (the minimum miner
    // stake), and a result stands only if n > min(10·m, 66% of all staked
    // weight). The challenger may not vote, so three honest voters face the
    // dishonest one: at equal stakes (10 units each) they could clear
    // neither bar (31 against 11, of 51 staked). The honest members stake 4×
    // the validator minimum: 3 × 40 + 1 = 121 > 10 × (10 + 1).
    let params = ProtocolParams::default();
    let extra = |i: usize| {
        if i == DISHONEST {
            0
        } else {
            3 * params.min_validator_stake
        }
    };
    let mut net =
        Net::with_member_stake(&[spec(Behaviour::Wrong, true, 10_000)], params, extra).await;
    // Votes count from nodes active before the dispute opened: let a minute pass.
    net.chain.advance_time(60).await;
    let keepers = Keepers::start(&net, |i, c| {
        c.committee.recheck_bps = 10_000;
        c.committee.dishonest = i == DISHONEST;
    })
    .await;
    let chain = Chain::Embedded(net.chain.clone());
    // A low-risk job goes to the wrong miner; its signed answer checks out
    // for the co-signers (low risk is not re-run before signing).
    let input = "a job the wrong miner answers";
    let job = net.submit(input, RiskLevel::Low).await;
    assert_eq!(give_input(keepers.get(0), &job, input).await.status(), 202);
    wait_chain(&net, &job, WAIT, solved).await;
    // An honest keeper's re-check contradicts it and opens a dispute.
    let dispute_key = pda::dispute(&job);
    // Every member but the challenger commits (the miner is no member).
    let d = wait_dispute(&chain, &dispute_key, WAIT, |d| d.commits == 4).await;
    let challenger = net
        .committee
        .iter()
        .position(|m| m.node == d.challenger)
        .expect("a member challenged");
    assert_ne!(
        challenger, DISHONEST,
        "only an honest keeper's rerun contradicts the output"
    );
    assert_ne!(
        d.challenger_result, d.disputed_output,
        "the challenger names the result it recomputed"
    );
    let honest: Vec<usize> = (0..5)
        .filter(|&i| i != DISHONEST && i != challenger)
        .collect();
    let balances_before: Vec<u64> = {
        let mut b = Vec::new();
        for i in 0..5 {
            b.push(net.balance(&net.committee[i].operator.tokens).await);
        }
        b
    };
    net.chain.set_time(d.commit_end + 1).await;
    let d = wait_dispute(&chain, &dispute_key, WAIT, |d| d.voters_revealed == 4).await;
    net.chain.set_time(d.reveal_end + 1).await;
    let d = wait_dispute(&chain, &dispute_key, WAIT, |d| {
        d.status() != DisputeStatus::Voting && d.pending_liquidations == 0 && d.claims == 3
    })
    .await;
    assert_eq!(
        d.status(),
        DisputeStatus::Overturned,
        "the wrong output is overturned"
    );
    let (honest_weight, liar_weight) = (
        params.vote_weight(4 * params.min_validator_stake),
        params.vote_weight(params.min_validator_stake),
    );
    assert_eq!(
        (d.n, d.m),
        (3 * honest_weight + 1, liar_weight + 1),
        "weights, each candidate with its own unit"
    );
    assert_eq!((d.voters_challenger, d.voters_disputed), (3, 1));
    let liar = net.committee[DISHONEST].node;
    assert_eq!(
        net.node(&liar).await.status(),
        NodeStatus::Liquidated,
        "the dishonest voter is liquidated"
    );
    assert_eq!(
        net.node(&net.miners[0].handle.node).await.status(),
        NodeStatus::Liquidated,
        "the wrong miner is liquidated"
    );
    // The liar revealed the signed output; once liquidated, its keeper closes its settled vote.
    let liar_vote = pda::vote(&dispute_key, &liar);
    let revealed: Vec<[u8; 32]> = net
        .chain
        .history(&liar_vote)
        .iter()
        .flat_map(|l| parse_logs(&l.logs))
        .filter_map(|e| match e {
            VerdictEvent::VoteRevealed(r) if r.voter == liar => Some(r.result),
            _ => None,
        })
        .collect();
    assert_eq!(
        revealed,
        vec![d.disputed_output],
        "the dishonest keeper voted for the signed output"
    );
    wait_until(
        || async { net.chain.account_data(&liar_vote).await.unwrap().is_none() },
        "the liquidated vote is closed",
    )
    .await;
    // Each honest voter got its deposit back and a share of the pool pro
    // rata to its weight (equal weights: equal shares, the dust to the last
    // claimer); claiming closed its vote.
    assert!(d.reward_total > 0);
    assert_eq!(d.reward_weight, 3 * honest_weight);
    let share = d.reward_total / 3;
    let mut paid = 0;
    for &i in &honest {
        let vote = pda::vote(&dispute_key, &net.committee[i].node);
        assert!(
            chain.account_data(&vote).await.unwrap().is_none(),
            "honest voter {i} claimed (its vote is closed)"
        );
        let reward = net.balance(&net.committee[i].operator.tokens).await
            - balances_before[i]
            - params.vote_deposit;
        assert!(
            (share..=share + 2).contains(&reward),
            "honest voter {i} was paid its share: {reward} (share {share})"
        );
        paid += reward;
    }
    assert_eq!(
        paid, d.reward_total,
        "the pool is paid out to the last token"
    );
    // The challenger's bond is credited back to its node; its keeper withdraws it.
    let tokens = net.committee[challenger].operator.tokens;
    let expected = balances_before[challenger] + d.bond;
    wait_until(
        || async { net.balance(&tokens).await == expected },
        "the challenger's bond came back",
    )
    .await;
    assert_eq!(net.node(&d.challenger).await.owed, 0);
    keepers.shutdown().await;
}

/// Polls `done` until it holds (within `WAIT`).
async fn wait_until<F: std::future::Future<Output = bool>>(done: impl Fn() -> F, what: &str) {
    let start = Instant::now();
    while !done().await {
        assert!(start.elapsed() < WAIT, "{what}: not within {WAIT:?}");
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn new_miners_trials_are_run_by_one_member_and_co_signed_by_the_committee() {
    let net = Net::new(&[cold(Behaviour::Honest), cold(Behaviour::Wrong)]).await;
    let (honest, wrong) = (net.miners[0].handle.node, net.miners[1].handle.node);
    let before = (net.landed(&honest), net.landed(&wrong));
    let keepers = Keepers::start(&net, |_, _| {}).await;
    let start = Instant::now();
    loop {
        let (h, w) = (
            net.node(&honest).await.reputation.trial(),
            net.node(&wrong).await.reputation.trial(),
        );
        if h == verdict::state::TrialStatus::Passed && w == verdict::state::TrialStatus::Failed {
            break;
        }
        assert!(start.elapsed() < WAIT, "trials not recorded: {h:?} {w:?}");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert_eq!(
        (net.landed(&honest), net.landed(&wrong)),
        (before.0 + 1, before.1 + 1),
        "one trial verdict each"
    );
    let signed: usize = (0..5)
        .map(|i| {
            keepers
                .get(i)
                .ctx
                .metrics
                .render()
                .matches("kind=\"trial\",verdict=\"signed\"")
                .count()
        })
        .sum();
    assert!(signed >= 2, "members co-signed the trial verdicts");
    keepers.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn keepers_crank_the_committee_rotation_and_jobs_in_flight_settle_across_it() {
    let params = verdict::state::ProtocolParams {
        committee_rotation_secs: 120,
        ..Default::default()
    };
    let mut net = Net::with_params(&[spec(Behaviour::Sluggish, true, 10_000)], params).await;
    let keepers = Keepers::start(&net, |_, c| c.routing.realtime_max_median_ms = 2_000.0).await;
    let chain = Chain::Embedded(net.chain.clone());
    let epoch = chain
        .fetch::<verdict::state::Committee>(&pda::committee())
        .await
        .unwrap()
        .epoch;
    let mut jobs = Vec::new();
    for (i, risk) in [RiskLevel::Low, RiskLevel::Medium, RiskLevel::Low]
        .into_iter()
        .enumerate()
    {
        let input = format!("across the rotation {i}");
        let job = net.submit(&input, risk).await;
        assert_eq!(give_input(keepers.get(i), &job, &input).await.status(), 202);
        jobs.push((job, risk));
    }
    // The rotation falls due while the miner computes.
    net.chain.advance_time(121).await;
    for (job, risk) in &jobs {
        let j = wait_chain(&net, job, WAIT, solved).await;
        assert_eq!(
            net.landed(job),
            expected_landed(*risk),
            "{job} ({risk:?}) landed exactly once per step"
        );
        assert_eq!(j.attempts, 1);
    }
    let start = Instant::now();
    while chain
        .fetch::<verdict::state::Committee>(&pda::committee())
        .await
        .unwrap()
        .epoch
        == epoch
    {
        assert!(start.elapsed() < WAIT, "nobody cranked the rotation");
        // Slots pass as on a cluster, so the draw's seed slot comes.
        net.chain.next_slot().await;
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert_eq!(
        chain
            .fetch::<verdict::state::Committee>(&pda::committee())
            .await
            .unwrap()
            .epoch,
        epoch + 1,
        "cranked once"
    );
    // Jobs after the rotation are signed in the new epoch.
    let job = net.submit("after the rotation", RiskLevel::Low).await;
    assert_eq!(
        give_input(keepers.get(0), &job, "after the rotation")
            .await
            .status(),
        202
    );
    let j = wait_chain(&net, &job, WAIT, solved).await;
    assert_eq!(j.committee_epoch, epoch + 1);
    keepers.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn members_claim_and_close_the_jobs_they_co_signed_once_each() {
    let mut net = Net::new(&[spec(Behaviour::Honest, true, 10_000)]).await;
    let keepers = Keepers::start(&net, |_, cfg| cfg.cranks.claims = true).await;
    let input = "claimed by its co-signers";
    let job = net.submit(input, RiskLevel::Low).await;
    assert_eq!(give_input(keepers.get(0), &job, input).await.status(), 202);
    // A Tier 1 miner's payout is released at once: a co-signer claims it.
    let paid = wait_chain(&net, &job, WAIT, |j| j.status() == JobStatus::Paid).await;
    let signers = paid.signers().to_vec();
    assert!(!signers.is_empty());
    // What the co-signers hold: owed on their nodes, and in their operators' accounts.
    let holdings = async |net: &Net| {
        let mut sum = 0;
        for member in net.committee.iter().filter(|m| signers.contains(&m.node)) {
            sum += net.node(&member.node).await.owed + net.balance(&member.operator.tokens).await;
        }
        sum
    };
    let before = holdings(&net).await;
    // Past the challenge window the job closes: the co-signers' fee is
    // credited to their nodes (and withdrawn by their keepers), the rent
    // goes back to the client.
    let params = verdict::state::ProtocolParams::default();
    net.chain
        .advance_time(params.challenge_window_epochs as i64 * params.epoch_secs)
        .await;
    wait_until(
        || async { net.chain.account(&job).await.unwrap().is_none() },
        "the job is closed",
    )
    .await;
    // Each co-signer's share (rounded down) reached it.
    let share = paid.fee_held / signers.len() as u64;
    assert!(share > 0);
    let after = holdings(&net).await;
    assert!(
        after >= before + share * signers.len() as u64,
        "{before} -> {after}, fee {}",
        paid.fee_held
    );
    let landed_claims: u64 = (0..5)
        .map(|i| {
            let text = keepers.get(i).ctx.metrics.render();
            text.lines()
                .filter(|l| {
                    l.starts_with("cranks_total{kind=\"claim_payout\"}")
                        || l.starts_with("cranks_total{kind=\"close_job\"}")
                })
                .map(|l| l.rsplit(' ').next().unwrap().parse::<u64>().unwrap())
                .sum::<u64>()
        })
        .sum();
    assert_eq!(
        landed_claims, 2,
        "one claim and one close landed, whoever sent them"
    );
    keepers.shutdown().await;
}
