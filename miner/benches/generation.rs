//! Benchmark: SmolLM2 generation on one miner — model load, first-token
//! latency, tokens per second — and what checking an answer costs a keeper:
//! an exact recheck (the same generation with `sample_as` = the miner's key)
//! and a single teacher-forced forward pass over prompt + output.
//!
//! Run with `cargo bench --bench generation` (needs `bash scripts/fetch-model.sh`).
//! `BENCH_ITERATIONS` (default 5) sets the runs per row; `RAYON_NUM_THREADS`
//! the compute threads. The last lines print the answers' output hash and
//! probe digest: run it with RAYON_NUM_THREADS=1 and =2 and compare.

use std::time::{Duration, Instant};

use miner::answer;
use miner::api::{InferRequest, JobId, MinerPubkey};
use miner::generation::GenerationInput;
use verdict_models::smollm::{locate_model_file, SmolLm2};
use verdict_models::{LoadedModel, SMOLLM2_ID};

const MINER: MinerPubkey = MinerPubkey([1; 32]);
const KEEPER: MinerPubkey = MinerPubkey([2; 32]);

fn iterations() -> usize {
    std::env::var("BENCH_ITERATIONS")
        .ok()
        .and_then(|value| value.parse().ok())
        .unwrap_or(5)
}

fn median(mut samples: Vec<Duration>) -> Duration {
    samples.sort();
    samples[samples.len() / 2]
}

fn ms(duration: Duration) -> f64 {
    duration.as_secs_f64() * 1e3
}

fn request(job: u64, input: &GenerationInput) -> InferRequest {
    let mut id = [0u8; 32];
    id[..8].copy_from_slice(&job.to_le_bytes());
    InferRequest::new(
        JobId(id),
        SMOLLM2_ID.parse().expect("model id"),
        input.to_input(),
    )
}

fn main() {
    let threads = candle_core::utils::get_num_threads();
    let path = locate_model_file().unwrap_or_else(|error| panic!("{error}"));
    let loads: Vec<Duration> = (0..3)
        .map(|_| {
            let started = Instant::now();
            drop(SmolLm2::load(&path).expect("model loads"));
            started.elapsed()
        })
        .collect();
    let model = LoadedModel::SmolLm2(Box::new(SmolLm2::load(&path).expect("model loads")));
    let smol = model.as_smollm2().expect("generative");
    println!(
        "SmolLM2-135M-Instruct Q4_1 on CPU, {threads} compute thread(s); load {:.0} ms (median of 3)\n",
        ms(median(loads))
    );

    let long_prompt =
        "Explain in a few sentences why the sky is blue, and what a sunset has to do with it. \
                       Keep it simple enough for a child to follow."
            .to_owned();
    let cases = [
        (
            "short prompt, greedy, 64",
            GenerationInput::greedy("Tell me a short story about a robot.", 64),
        ),
        (
            "long prompt, top-40 T=0.7, 64",
            GenerationInput {
                prompt: long_prompt.clone(),
                max_tokens: 64,
                top_k: 40,
                temperature_milli: 700,
            },
        ),
        (
            "long prompt, top-40 T=0.7, 256",
            GenerationInput {
                prompt: long_prompt,
                max_tokens: 256,
                top_k: 40,
                temperature_milli: 700,
            },
        ),
    ];
    println!(
        "| case | prompt tok | output tok | first token ms | total ms | tok/s (decode) | recheck / run | teacher-forced ms | teacher-forced / run |"
    );
    println!("|---|---|---|---|---|---|---|---|---|");
    let mut digests = Vec::new();
    for (index, (label, input)) in cases.iter().enumerate() {
        let job = request(index as u64, input);
        let mut runs = Vec::new();
        let mut firsts = Vec::new();
        let mut rechecks = Vec::new();
        let mut forced = Vec::new();
        let mut last = None;
        for _ in 0..iterations() {
            let answer = answer::compute(&model, &job, &MINER).expect("generates");
            runs.push(answer.inference_time);
            firsts.push(answer.generation.expect("stats").first_token);

            // A keeper's exact recheck: its own miner, the miner's seed.
            let mut recheck = job.clone();
            recheck.sample_as = Some(MINER);
            let started = Instant::now();
            let again = answer::compute(&model, &recheck, &KEEPER).expect("rechecks");
            rechecks.push(started.elapsed());
            assert_eq!(again.output.hash(), answer.output.hash(), "exact recheck");
            assert_eq!(again.probes, answer.probes, "exact recheck");

            // The cheaper check: one forward pass over prompt + output.
            let mut ids = smol.prompt_ids(&input.prompt).expect("tokenizes");
            ids.extend(answer.output.tokens().expect("tokens"));
            let started = Instant::now();
            smol.teacher_forced(&ids).expect("forward pass");
            forced.push(started.elapsed());
            last = Some(answer);
        }
        let answer = last.expect("at least one iteration");
        let stats = answer.generation.expect("stats");
        let (run, first) = (median(runs), median(firsts));
        let decode_tps = f64::from(stats.generated_tokens.saturating_sub(1))
            / (run - first).as_secs_f64().max(1e-9);
        println!(
            "| {label} | {} | {} | {:.1} | {:.1} | {:.1} | {:.2} | {:.1} | {:.2} |",
            stats.prompt_tokens,
            stats.generated_tokens,
            ms(first),
            ms(run),
            decode_tps,
            median(rechecks).as_secs_f64() / run.as_secs_f64(),
            ms(median(forced.clone())),
            median(forced).as_secs_f64() / run.as_secs_f64(),
        );
        digests.push((label, answer));
    }
    println!();
    for (label, answer) in digests {
        println!(
            "{label}: output {} probes {} ({} tokens)",
            answer.output.hash(),
            answer.probe_digest(),
            answer.output.data.len()
        );
    }
}
