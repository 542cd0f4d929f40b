//! The one function that turns a job into an answer: `(model, request,
//! miner key) → (output tensor, probes)`. The server answers with it, and a
//! validator or judge recomputing an answer calls the same function, so the
//! two can never drift apart.
//!
//! ```text
//! let answer = miner::answer::compute(&model, &request, &my_key)?;
//! // answer.output (OutputTensor), answer.probes, answer.sampled_as
//! ```
//!
//! - **Whose seed.** `sampled_as = request.sample_as.unwrap_or(*miner)`: the
//!   probe positions (both kinds of model) and a generation's sampling
//!   stream come from it. A keeper rechecking miner A's answer sends A's key
//!   as `sample_as` (or calls `compute` with A's key) and gets A's answer
//!   exactly: same output hash, same probes.
//! - **Embedding models** (`all-minilm-l6-v2`, `test-projection-v1`): the
//!   input text is embedded; output `OutputTensor::from_f32`, probes
//!   [`crate::api::probes_for`] over the last hidden layer.
//! - **Generative models** (`smollm2-135m-instruct-q4`): the input is a
//!   [`GenerationInput`] as JSON ([`GenerationInput::parse`]; a bad one is
//!   [`AnswerError::InvalidInput`]); output `OutputTensor::from_tokens(ids,
//!   text)`, probes over the residual stream (see [`verdict_models::smollm`]).
//!
//! [`compute_with`] applies one of the miner's fault modes ([`Tamper`]); it
//! exists for tests of keepers and is never what a validator calls.

use std::time::{Duration, Instant};

use crate::api::{self, InferRequest, MinerPubkey, OutputTensor, Probe};
use crate::generation::{GenerationInput, GenerationInputError};
use crate::repro::{self, QuantizeError};
use verdict_models::smollm::GenerationPlan;
use verdict_models::{LoadedModel, ModelError};

/// A computed answer: what a miner signs (with the timing it reports).
#[derive(Debug, Clone, PartialEq)]
pub struct Answer {
    pub output: OutputTensor,
    pub probes: Vec<Probe>,
    /// Whose seeds it used: the request's `sample_as`, else the miner's own key.
    pub sampled_as: MinerPubkey,
    /// The whole computation (a generation: every step, probes included).
    pub inference_time: Duration,
    /// A generation's figures; `None` for an embedding.
    pub generation: Option<GenerationStats>,
}

impl Answer {
    /// The digest a response signs over these probes.
    pub fn probe_digest(&self) -> api::Digest32 {
        api::probe_digest(&self.probes)
    }
}

/// What a generation took.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct GenerationStats {
    /// Tokens of the templated prompt.
    pub prompt_tokens: u32,
    /// Tokens generated (the output's length).
    pub generated_tokens: u32,
    /// Prefill and the first sampled token.
    pub first_token: Duration,
}

/// Why a job could not be answered.
#[derive(Debug, Clone, thiserror::Error)]
pub enum AnswerError {
    /// A generative job's input is not a valid [`GenerationInput`] (HTTP 400 `invalid_input`).
    #[error("{0}")]
    InvalidInput(#[from] GenerationInputError),
    #[error(transparent)]
    Model(#[from] ModelError),
    #[error(transparent)]
    Rounding(#[from] QuantizeError),
}

impl AnswerError {
    /// The error code the miner's HTTP API reports for it.
    pub fn code(&self) -> &'static str {
        match self {
            AnswerError::InvalidInput(_) => "invalid_input",
            AnswerError::Model(_) | AnswerError::Rounding(_) => "inference_failed",
        }
    }
}

/// A deliberate deviation from the honest answer (the miner's `--fault`
/// modes that still answer; see [`crate::fault`] for what each is caught by).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Tamper {
    Honest,
    /// Embeddings: one value shifted. Generations: one token replaced.
    WrongOutput,
    /// Generations: sample with another seed.
    WrongSeed,
    /// Generations: sample among another K.
    WrongTopK,
    /// Generations: a cheaper model (the last blocks skipped).
    CheapModel,
    /// Generations: honest tokens, probes at another key's positions.
    CopiedProbes,
}

/// Blocks the `gen-cheap-model` fault skips (of 30).
pub const CHEAP_MODEL_SKIPPED_BLOCKS: usize = 6;

/// Whose seeds answer `request` for `miner`.
pub fn sampled_as(request: &InferRequest, miner: &MinerPubkey) -> MinerPubkey {
    request.sample_as.unwrap_or(*miner)
}

/// Checks a job's input for `model_id` without running anything: a
/// generative model's input must parse as a [`GenerationInput`]; an
/// embedding model takes any text.
pub fn check_input(model_id: &str, input: &str) -> Result<(), AnswerError> {
    if verdict_models::is_generative(model_id) {
        GenerationInput::parse(input)?;
    }
    Ok(())
}

/// The honest answer of `model` to `request`, computed by (or on behalf of)
/// the miner whose node key is `miner`. CPU-bound and synchronous: async
/// callers should use `spawn_blocking`.
pub fn compute(
    model: &LoadedModel,
    request: &InferRequest,
    miner: &MinerPubkey,
) -> Result<Answer, AnswerError> {
    compute_with(model, request, miner, Tamper::Honest)
}

/// [`compute`], deviating as `tamper` says (fault modes for tests). A
/// generation tamper on an embedding model answers honestly.
pub fn compute_with(
    model: &LoadedModel,
    request: &InferRequest,
    miner: &MinerPubkey,
    tamper: Tamper,
) -> Result<Answer, AnswerError> {
    let sampled_as = sampled_as(request, miner);
    // Wrong answers are keyed by the answering miner, not the seed it
    // samples with: two broken miners are wrong differently.
    let fault_seed = repro::probe_seed(&request.job_id.0, &miner.0);
    let started = Instant::now();
    match model {
        LoadedModel::SmolLm2(smol) => {
            let input = GenerationInput::parse(&request.input)?;
            let mut plan = GenerationPlan::honest(&request.job_id, &sampled_as);
            let other = crate::fault::other_key(miner);
            match tamper {
                Tamper::WrongSeed => {
                    plan.sampling_seed =
                        crate::generation::sampling_seed(&request.job_id.0, &other.0);
                }
                Tamper::WrongTopK => plan.top_k = Some(crate::fault::wrong_top_k(input.top_k)),
                Tamper::CheapModel => {
                    plan.blocks = Some(smol.layers().saturating_sub(CHEAP_MODEL_SKIPPED_BLOCKS));
                }
                Tamper::CopiedProbes => {
                    plan.probe_seed = repro::probe_seed(&request.job_id.0, &other.0);
                }
                Tamper::Honest | Tamper::WrongOutput => {}
            }
            let generation = smol.generate_with(&input, &plan)?;
            let (tokens, text) = if tamper == Tamper::WrongOutput {
                let tokens =
                    crate::fault::make_wrong_tokens(&generation.tokens, smol.vocab(), &fault_seed);
                let text = smol.decode(&tokens);
                (tokens, text)
            } else {
                (generation.tokens.clone(), generation.text.clone())
            };
            Ok(Answer {
                output: OutputTensor::from_tokens(&tokens, text),
                probes: generation.probes,
                sampled_as,
                inference_time: started.elapsed(),
                generation: Some(GenerationStats {
                    prompt_tokens: generation.prompt_tokens as u32,
                    generated_tokens: tokens.len() as u32,
                    first_token: generation.first_token,
                }),
            })
        }
        LoadedModel::MiniLm(_) | LoadedModel::TestProjection(_) => {
            let output = model.run(&request.input)?;
            let inference_time = started.elapsed();
            let mut tensor = OutputTensor::from_f32(&output.embedding)?;
            if tamper == Tamper::WrongOutput {
                crate::fault::make_wrong(&mut tensor.data, &fault_seed);
            }
            let probes = api::probes_for(&output.hidden, &request.job_id, &sampled_as)?;
            Ok(Answer {
                output: tensor,
                probes,
                sampled_as,
                inference_time,
                generation: None,
            })
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::api::JobId;
    use verdict_models::projection::TestProjection;

    #[test]
    fn embedding_answers_follow_sample_as() {
        let model = LoadedModel::TestProjection(TestProjection::new());
        let mut request = InferRequest::new(
            JobId([1; 32]),
            verdict_models::TEST_PROJECTION_ID.parse().unwrap(),
            "hello",
        );
        let a = MinerPubkey([2; 32]);
        let b = MinerPubkey([3; 32]);
        let own = compute(&model, &request, &a).unwrap();
        assert_eq!(own.sampled_as, a);
        request.sample_as = Some(a);
        let recheck = compute(&model, &request, &b).unwrap();
        assert_eq!(recheck.output, own.output);
        assert_eq!(recheck.probes, own.probes);
        let wrong = compute_with(&model, &request, &b, Tamper::WrongOutput).unwrap();
        assert_ne!(wrong.output.hash(), own.output.hash());
        assert!(check_input(verdict_models::TEST_PROJECTION_ID, "anything").is_ok());
        let refused = check_input(verdict_models::SMOLLM2_ID, "not json").unwrap_err();
        assert_eq!(refused.code(), "invalid_input");
    }
}
