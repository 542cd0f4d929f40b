//! Generates once with SmolLM2 and prints the answer as JSON (tokens, text,
//! output hash, probe digest, timings).
//!
//! `cargo run --release --example generate -- "What is the capital of France?" [max_tokens] [top_k] [temperature_milli]`

use std::time::Instant;

use miner::answer;
use miner::api::{InferRequest, JobId, MinerPubkey};
use miner::generation::GenerationInput;
use verdict_models::smollm::{locate_model_file, SmolLm2};
use verdict_models::{LoadedModel, SMOLLM2_ID};

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let number = |index: usize, default: u32| {
        args.get(index)
            .map(|text| text.parse().expect("a number"))
            .unwrap_or(default)
    };
    let input = GenerationInput {
        prompt: args
            .first()
            .cloned()
            .unwrap_or_else(|| "What is the capital of France?".to_owned()),
        max_tokens: number(1, 32),
        top_k: number(2, 1),
        temperature_milli: number(3, 0),
    };
    let started = Instant::now();
    let path = locate_model_file().unwrap_or_else(|error| panic!("{error}"));
    let model = LoadedModel::SmolLm2(Box::new(SmolLm2::load(&path).expect("model loads")));
    let load_ms = started.elapsed().as_millis();
    let request = InferRequest::new(
        JobId([7; 32]),
        SMOLLM2_ID.parse().expect("model id"),
        input.to_input(),
    );
    let answer = answer::compute(&model, &request, &MinerPubkey([1; 32])).expect("generates");
    let stats = answer.generation.expect("a generation");
    println!(
        "{}",
        serde_json::json!({
            "tokens": answer.output.tokens(),
            "text": answer.output.text,
            "output_hash": answer.output.hash().to_string(),
            "probe_digest": answer.probe_digest().to_string(),
            "probes": answer.probes,
            "prompt_tokens": stats.prompt_tokens,
            "load_ms": load_ms,
            "first_token_ms": stats.first_token.as_secs_f64() * 1e3,
            "total_ms": answer.inference_time.as_secs_f64() * 1e3,
        })
    );
}
