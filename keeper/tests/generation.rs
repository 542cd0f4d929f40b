//! Generative jobs (SmolLM2, seeded TopK sampling) through real keepers and
//! real `verdict-miner` processes: a high-risk generation answered by each
//! faulty miner (`gen-wrong-seed`, `gen-wrong-k`, `gen-cheap-model`,
//! `gen-copied-probes`) is refused by the shadow rerun — which samples as
//! the answering miner, so an honest rerun is bit-identical — and the job
//! settles on an honest miner; a dispute over a generation is decided by
//! the voters re-running it; and a generative job whose input is not a
//! valid request is refused at intake as the client's fault.
//!
//! The tests that run SmolLM2 need its weights (`bash scripts/fetch-model.sh`);
//! the model runtime is optimized even in test builds (the workspace's
//! `profile.dev.package` settings), so a test miner generates a token in
//! tens of milliseconds.

mod common;

use std::time::Duration;

use common::*;
use verdict::state::{DisputeStatus, JobStatus, NodeStatus, ProtocolParams, RiskLevel};
use verdict_chain::Chain;
use verdict_sdk::pda;
use verdict_wire::generation::GenerationInput;

const WAIT: Duration = Duration::from_secs(300);

fn solved(j: &verdict::state::Job) -> bool {
    matches!(j.status(), JobStatus::Solved | JobStatus::Paid)
}

/// A hot, wide request (T = 2, K = 200): another seed, another K or
/// another model gives other tokens within a few steps.
fn request(prompt: &str) -> String {
    GenerationInput {
        prompt: prompt.into(),
        max_tokens: 4,
        top_k: 200,
        temperature_milli: 2_000,
    }
    .to_input()
}

/// Generation is slow next to the test model: long shard and job timeouts.
fn patient(net: &Net) -> keeper::config::KeeperConfig {
    keeper::config::KeeperConfig {
        shard_timeout_ms: 60_000,
        end_to_end_timeout_ms: 280_000,
        ..net.config()
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_generative_job_whose_input_is_not_a_request_is_refused_at_intake() {
    let mut net = Net::new(&[spec(Behaviour::Honest, true, 10_000)]).await;
    let keeper = net.start_keeper(net.config(), None).await;
    for bad in [
        "not json",
        r#"{"prompt":"","max_tokens":4,"top_k":1,"temperature_milli":0}"#,
        r#"{"prompt":"hi","max_tokens":100000,"top_k":1,"temperature_milli":0}"#,
    ] {
        let job = net.submit_for(GEN_MODEL, bad, RiskLevel::Low).await;
        let response = give_input(&keeper, &job, bad).await;
        assert_eq!(response.status(), 422, "{bad}");
        let body: serde_json::Value = response.json().await.unwrap();
        assert_eq!(body["error"], "invalid_input", "{body}");
        // Nothing was dispatched: the job waits for its TTL to refund it.
        let j = net.job(&job).await;
        assert_eq!((j.status(), j.attempts), (JobStatus::Sent, 0));
    }
    // A valid request is taken (no miner serves the model here: it fails
    // for want of one, never as the client's input).
    let good = GenerationInput::greedy("Say hi", 2).to_input();
    let job = net.submit_for(GEN_MODEL, &good, RiskLevel::Low).await;
    assert_eq!(give_input(&keeper, &job, &good).await.status(), 202);
    let (_, body) = wait_outcome(&keeper, &job, Duration::from_secs(30)).await;
    assert_eq!(body["error"]["code"], "no_miner_available", "{body}");
    keeper.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_high_risk_generation_from_each_faulty_miner_is_refused_and_an_honest_one_settles() {
    for fault in [
        Behaviour::GenWrongSeed,
        Behaviour::GenWrongK,
        Behaviour::GenCheapModel,
        Behaviour::GenCopiedProbes,
    ] {
        // The faulty miner ranks first; two honest ones follow.
        let mut net = Net::new(&[
            generative(fault, 10_000),
            generative(Behaviour::Honest, 9_000),
            generative(Behaviour::Honest, 8_000),
        ])
        .await;
        let keeper = net.start_keeper(patient(&net), None).await;
        let input = request(&format!("Name a colour ({fault:?})"));
        let job = net.submit_for(GEN_MODEL, &input, RiskLevel::High).await;
        assert_eq!(give_input(&keeper, &job, &input).await.status(), 202);
        let (code, body) = wait_outcome(&keeper, &job, WAIT).await;
        assert_eq!(code, 200, "{fault:?}: {body}");
        let j = wait_chain(&net, &job, WAIT, solved).await;
        let faulty = &net.miners[0].handle.node;
        let honest = [net.miners[1].handle.node, net.miners[2].handle.node];
        // Either honest miner: the shadow calls measured both, and routing
        // ranks generative jobs by tokens/s.
        assert!(
            honest.contains(&j.miner),
            "{fault:?}: the shadow rerun refused the faulty answer and an honest miner's stands"
        );
        assert_eq!(
            j.attempts, 2,
            "{fault:?}: the faulty miner's attempt failed"
        );
        assert_ne!(&j.miner, faulty);
        // The settled answer is a well-formed generation with its text.
        assert_eq!(body["output"]["dtype"], "token", "{body}");
        assert!(body["output"]["text"].is_string());
        let window = net
            .node(faulty)
            .await
            .reputation
            .window(&ProtocolParams::default());
        assert!(
            window.success_bps < 10_000,
            "{fault:?}: the faulty miner was charged with the failure"
        );
        keeper.shutdown().await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_dispute_over_a_generation_is_decided_by_the_voters_reruns() {
    let mut net = Net::new(&[
        generative(Behaviour::GenWrongK, 10_000),
        generative(Behaviour::Honest, 9_000),
        generative(Behaviour::Honest, 8_000),
    ])
    .await;
    // Votes count from nodes active before the dispute opened: let a minute pass.
    net.chain.advance_time(60).await;
    let keepers = Keepers::start(&net, |_, c| {
        c.committee.recheck_bps = 10_000;
        c.shard_timeout_ms = 60_000;
        c.end_to_end_timeout_ms = 280_000;
    })
    .await;
    let chain = Chain::Embedded(net.chain.clone());
    // A low-risk generation goes to the miner sampling among the wrong K:
    // its signed answer checks out (low risk is not re-run before settling).
    let input = request("Write one word");
    let job = net.submit_for(GEN_MODEL, &input, RiskLevel::Low).await;
    assert_eq!(give_input(keepers.get(0), &job, &input).await.status(), 202);
    let solved_job = wait_chain(&net, &job, WAIT, solved).await;
    assert_eq!(solved_job.miner, net.miners[0].handle.node);
    // A keeper's re-check (two honest miners sampling as the answering
    // miner agree on other tokens) opens a dispute; every member but the
    // challenger re-runs it and commits.
    let dispute_key = pda::dispute(&job);
    let d = wait_dispute(&chain, &dispute_key, WAIT, |d| d.commits == 4).await;
    assert_ne!(d.challenger_result, d.disputed_output);
    net.chain.set_time(d.commit_end + 1).await;
    let d = wait_dispute(&chain, &dispute_key, WAIT, |d| d.voters_revealed == 4).await;
    net.chain.set_time(d.reveal_end + 1).await;
    let d = wait_dispute(&chain, &dispute_key, WAIT, |d| {
        d.status() != DisputeStatus::Voting && d.pending_liquidations == 0
    })
    .await;
    assert_eq!(
        d.status(),
        DisputeStatus::Overturned,
        "the voters' reruns contradict the wrong-K generation"
    );
    assert_eq!(
        (d.voters_challenger, d.voters_disputed),
        (4, 0),
        "every voter recomputed the challenger's result"
    );
    assert_eq!(
        net.node(&net.miners[0].handle.node).await.status(),
        NodeStatus::Liquidated,
        "the miner that sampled wrong is liquidated"
    );
    keepers.shutdown().await;
}
