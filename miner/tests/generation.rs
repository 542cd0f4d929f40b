//! SmolLM2 generation end to end: bit-identical answers across processes and
//! thread counts, exact rechecks with `sample_as`, the seed's effect, the
//! generation fault modes against an honest recheck, input checks, the chat
//! template's special tokens, and what the model says. Needs the GGUF
//! (`bash scripts/fetch-model.sh`). Prompts and lengths are small: the test
//! profile runs candle unoptimized.

mod common;

use std::time::Duration;

use common::{require_smollm2, spawn_miner, try_spawn_miner, MinerProcess, SMOLLM2};
use miner::answer;
use miner::api::{probe_digest, InferRequest, InferResponse, JobId, MinerPubkey};
use miner::generation::GenerationInput;
use verdict_models::smollm::SmolLm2;
use verdict_models::LoadedModel;
use verdict_wire::client::ClientError;

const TIMEOUT: Duration = Duration::from_secs(300);

fn generation_request(job: u8, input: &GenerationInput) -> InferRequest {
    InferRequest::new(
        JobId([job; 32]),
        SMOLLM2.parse().expect("model id"),
        input.to_input(),
    )
}

fn sampled(prompt: &str, max_tokens: u32) -> GenerationInput {
    GenerationInput {
        prompt: prompt.to_owned(),
        max_tokens,
        top_k: 50,
        temperature_milli: 1_500,
    }
}

/// Everything an exact recheck compares: output (ids, text), its hash, the
/// probes and their digest, and whose seed was used.
fn assert_same_answer(a: &InferResponse, b: &InferResponse, what: &str) {
    assert_eq!(a.output, b.output, "{what}: output");
    assert_eq!(a.output_hash, b.output_hash, "{what}: output hash");
    assert_eq!(a.probes, b.probes, "{what}: probes");
    assert_eq!(
        probe_digest(&a.probes),
        probe_digest(&b.probes),
        "{what}: probe digest"
    );
    assert_eq!(a.sampled_as, b.sampled_as, "{what}: sampled_as");
}

#[tokio::test]
async fn answers_are_identical_across_processes_thread_counts_and_rechecks() {
    require_smollm2();
    let (one_thread, two_threads) = tokio::join!(
        try_spawn_miner(
            &["--models", SMOLLM2, "--generate-key"],
            &[("RAYON_NUM_THREADS", "1")]
        ),
        try_spawn_miner(
            &["--models", SMOLLM2, "--generate-key"],
            &[("RAYON_NUM_THREADS", "2")]
        ),
    );
    let (one_thread, two_threads) = (one_thread.unwrap(), two_threads.unwrap());
    let (a, b) = (one_thread.client(TIMEOUT), two_threads.client(TIMEOUT));

    let greedy = generation_request(21, &GenerationInput::greedy("Name a primary color.", 6));
    let sampled = generation_request(22, &sampled("Say a word.", 6));
    for (job, label) in [(&greedy, "greedy"), (&sampled, "sampled")] {
        // Miner A (1 thread) answers with its own seed; miner B (2 threads)
        // rechecks with sample_as = A, in another process.
        let own = a.infer(job).await.expect("A answers");
        own.verify().expect("signed");
        assert_eq!(own.sampled_as, own.miner_pubkey);
        let tokens = own.output.tokens().expect("a token output");
        assert!(
            !tokens.is_empty() && tokens.len() <= 6,
            "{label}: {tokens:?}"
        );
        assert_eq!(own.probes.len(), miner::repro::PROBE_COUNT);
        let mut recheck = job.clone();
        recheck.sample_as = Some(own.miner_pubkey);
        let rechecked = b.infer(&recheck).await.expect("B rechecks");
        assert_ne!(rechecked.miner_pubkey, own.miner_pubkey);
        assert_same_answer(&own, &rechecked, label);

        // B with its own seed: same tokens when greedy, other tokens when
        // sampled; other probe positions either way.
        let b_own = b.infer(job).await.expect("B answers");
        assert_ne!(b_own.probes, own.probes, "{label}: probes follow the key");
        if label == "greedy" {
            assert_eq!(b_own.output, own.output, "greedy ignores the seed");
        } else {
            assert_ne!(
                b_own.output.tokens(),
                own.output.tokens(),
                "another seed samples other tokens"
            );
        }
    }
}

#[tokio::test]
async fn each_generation_fault_differs_from_an_honest_recheck() {
    require_smollm2();
    let spawn = |fault: &'static str| async move {
        let mut args = vec!["--models", SMOLLM2, "--generate-key"];
        if !fault.is_empty() {
            args.extend(["--fault", fault]);
        }
        spawn_miner(&args).await
    };
    let (honest, wrong_seed, wrong_k, cheap, copied) = tokio::join!(
        spawn(""),
        spawn("gen-wrong-seed"),
        spawn("gen-wrong-k"),
        spawn("gen-cheap-model"),
        spawn("gen-copied-probes"),
    );
    let sampled_job = generation_request(31, &sampled("Say a word.", 5));
    let greedy_job = generation_request(32, &GenerationInput::greedy("Say a word.", 5));

    let check = |faulty: &MinerProcess, job: &InferRequest| {
        let job = job.clone();
        let faulty = faulty.client(TIMEOUT);
        let honest = honest.client(TIMEOUT);
        async move {
            let answer = faulty
                .infer(&job)
                .await
                .expect("a faulty miner still answers");
            answer.verify().expect("correctly signed");
            assert!(answer.output.is_well_formed());
            let mut recheck = job.clone();
            recheck.sample_as = Some(answer.miner_pubkey);
            let reference = honest.infer(&recheck).await.expect("honest recheck");
            (answer, reference)
        }
    };
    let (
        (seed_sampled, seed_sampled_ref),
        (seed_greedy, seed_greedy_ref),
        (k_sampled, k_sampled_ref),
        (cheap_greedy, cheap_greedy_ref),
        (copied_greedy, copied_greedy_ref),
    ) = tokio::join!(
        check(&wrong_seed, &sampled_job),
        check(&wrong_seed, &greedy_job),
        check(&wrong_k, &sampled_job),
        check(&cheap, &greedy_job),
        check(&copied, &greedy_job),
    );

    // gen-wrong-seed: caught on a sampled job, invisible (and harmless) on a greedy one.
    assert_ne!(seed_sampled.output_hash, seed_sampled_ref.output_hash);
    assert_same_answer(&seed_greedy, &seed_greedy_ref, "wrong seed, greedy job");
    // gen-wrong-k: caught on a sampled job.
    assert_ne!(k_sampled.output_hash, k_sampled_ref.output_hash);
    // gen-cheap-model: caught even on a greedy job, by tokens or probes.
    assert!(
        cheap_greedy.output_hash != cheap_greedy_ref.output_hash
            || cheap_greedy.probes != cheap_greedy_ref.probes
    );
    // gen-copied-probes: the tokens are right, the probes are not.
    assert_eq!(copied_greedy.output_hash, copied_greedy_ref.output_hash);
    assert_ne!(
        probe_digest(&copied_greedy.probes),
        probe_digest(&copied_greedy_ref.probes)
    );
}

#[tokio::test]
async fn bad_generation_input_is_refused_with_a_typed_code() {
    require_smollm2();
    let miner = spawn_miner(&["--models", SMOLLM2, "--generate-key"]).await;
    let client = miner.client(TIMEOUT);
    let models = client.models().await.unwrap();
    assert_eq!(models.models[0].task, "text-generation");
    assert!(!models.models[0].loaded, "nothing ran yet");
    let too_long = GenerationInput::greedy("hi", miner::generation::MAX_NEW_TOKENS + 1);
    for input in [
        "What is the capital of France?".to_owned(),
        too_long.to_input(),
        r#"{"prompt":"hi","max_tokens":4,"top_k":0,"temperature_milli":0}"#.to_owned(),
    ] {
        let mut job = generation_request(41, &GenerationInput::greedy("x", 1));
        job.input = input;
        match client.infer(&job).await {
            Err(ClientError::Refused { status, body }) => {
                assert_eq!(status, 400);
                assert_eq!(body.error, "invalid_input");
                assert!(!body.message.is_empty());
            }
            other => panic!("expected invalid_input, got {other:?}"),
        }
    }
    assert!(
        !client.models().await.unwrap().models[0].loaded,
        "refused before loading the model"
    );
}

#[test]
fn the_model_answers_sensibly_and_special_tokens_stay_text() {
    let path = require_smollm2();
    let model = SmolLm2::load(&path).expect("model loads");

    // The template's special tokens are inserted by id; a prompt's
    // "<|im_end|>" is plain text.
    let im_start = model.encode("<|im_start|>").unwrap();
    assert!(im_start.len() > 1, "plain text, not the special token");
    let plain = model.prompt_ids("hi").unwrap();
    let tricky = model.prompt_ids("hi<|im_end|>").unwrap();
    let count = |ids: &[u32], id: u32| ids.iter().filter(|&&x| x == id).count();
    assert_eq!(count(&plain, 2), 1, "one <|im_end|> (id 2) in the template");
    assert_eq!(count(&tricky, 2), 1, "the prompt's <|im_end|> is text");
    assert_eq!(count(&tricky, 1), 2, "two <|im_start|> (id 1)");
    assert_eq!(
        model.decode(&model.encode("hi <|im_end|> 42 ü").unwrap()),
        "hi <|im_end|> 42 ü"
    );

    let model = LoadedModel::SmolLm2(Box::new(model));
    let input = GenerationInput::greedy("What is the capital of France?", 8);
    let job = generation_request(51, &input);
    let key = MinerPubkey([5; 32]);
    let first = answer::compute(&model, &job, &key).expect("generates");
    let text = first.output.text.clone().unwrap();
    assert!(text.contains("Paris"), "{text:?}");
    let stats = first.generation.unwrap();
    assert_eq!(stats.generated_tokens as usize, first.output.data.len());

    // A teacher-forced pass over prompt + output predicts the same greedy
    // tokens and covers the same probe positions, but only approximately:
    // a pass over another number of tokens runs other kernel shapes (the
    // quantized matmuls' activation rounding, the attention gemm), so hidden
    // states differ by up to ~1e-2, or ~0.2% in the few dims of magnitude
    // 30+. A teacher-forced check needs its own, looser tolerance.
    let smol = model.as_smollm2().unwrap();
    let mut ids = smol.prompt_ids(&input.prompt).unwrap();
    let prompt_len = ids.len();
    let tokens = first.output.tokens().unwrap();
    ids.extend(&tokens);
    let forced = smol.teacher_forced(&ids).unwrap();
    for (i, &token) in tokens.iter().enumerate() {
        let row = &forced.rounded_logits[prompt_len - 1 + i];
        let best = miner::generation::sample(row, &input, &[0; 32], i as u32).unwrap();
        assert_eq!(best, token, "step {i}");
    }
    for probe in &first.probes {
        let value = forced
            .probe_value(
                probe.layer as usize,
                probe.token as usize,
                probe.dim as usize,
            )
            .unwrap();
        let tolerance = 1_000 + probe.value.unsigned_abs() / 100;
        assert!(
            value.abs_diff(probe.value) <= tolerance,
            "{probe:?} vs {value}"
        );
    }
}

#[tokio::test]
async fn identical_requests_in_flight_share_one_generation() {
    require_smollm2();
    let miner = spawn_miner(&["--models", SMOLLM2, "--generate-key"]).await;
    let client = miner.client(TIMEOUT);
    // Four co-signers asking the same miner for the same recheck at once.
    let request = generation_request(21, &sampled("Name a colour.", 6));
    let (a, b, c, d) = tokio::join!(
        client.infer(&request),
        client.infer(&request),
        client.infer(&request),
        client.infer(&request)
    );
    let first = a.expect("answered");
    for other in [b, c, d] {
        // The same signed answer, timings included: computed once.
        assert_eq!(other.expect("answered"), first);
    }
    // Another seed is another answer.
    let mut other_seed = request.clone();
    other_seed.sample_as = Some(MinerPubkey([5; 32]));
    let other = client.infer(&other_seed).await.expect("answered");
    assert_eq!(other.sampled_as, MinerPubkey([5; 32]));
    assert_ne!(other.signature, first.signature);
    let tokens = |r: &InferResponse| r.output.tokens().unwrap().len() as f64;
    assert_eq!(
        counter(&miner, "miner_tokens_generated_total").await,
        Some(tokens(&first) + tokens(&other)),
        "each generation counted once"
    );
}

/// A requester that gives up (a keeper's timeout while the model loads)
/// does not cancel the work: the miner finishes it on its own, and the
/// retry gets that answer, load time included, without loading or
/// generating again.
#[tokio::test]
async fn a_request_given_up_on_is_finished_and_answers_its_retry() {
    require_smollm2();
    let miner = spawn_miner(&["--models", SMOLLM2, "--generate-key"]).await;
    let request = generation_request(22, &sampled("Name a fruit.", 6));
    let impatient = miner.client(Duration::from_millis(50));
    assert!(
        matches!(
            impatient.infer(&request).await,
            Err(ClientError::Timeout(_))
        ),
        "a cold load and a generation take longer than 50 ms"
    );
    let started = std::time::Instant::now();
    while counter(&miner, "miner_tokens_generated_total")
        .await
        .is_none()
    {
        assert!(
            started.elapsed() < TIMEOUT,
            "the abandoned generation never finished"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let retry = miner
        .client(TIMEOUT)
        .infer(&request)
        .await
        .expect("answered");
    assert!(
        retry.load_time_ms > 0,
        "the abandoned run's answer: {retry:?}"
    );
    assert_eq!(counter(&miner, "miner_model_loads_total").await, Some(1.0));
    assert_eq!(
        counter(&miner, "miner_tokens_generated_total").await,
        Some(retry.output.tokens().unwrap().len() as f64),
        "generated once"
    );
}

/// A counter's value on the miner's `/metrics` (its one label set), once
/// it has one.
async fn counter(miner: &MinerProcess, name: &str) -> Option<f64> {
    let metrics = reqwest::get(format!("{}/metrics", miner.url))
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    metrics
        .lines()
        .find(|line| line.starts_with(&format!("{name}{{")))
        .and_then(|line| line.rsplit(' ').next())
        .and_then(|value| value.parse().ok())
}
