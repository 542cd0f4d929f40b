//! Validation of a miner's answer: its signature by the node's on-chain
//! signing key, whose seed it sampled with, the output's structure for the
//! model (`wire::models::spec`: an embedding's length; a generation's token
//! tensor, its length against the job's `max_tokens`, token ids against the
//! vocabulary, its text, its probes against the model's layers, width and
//! context), latency against the SLA, and the comparison of an answer with
//! a recomputation of it (a shadow rerun, a co-signer's or a dispute
//! voter's rerun: [`compare_answers`]). Produces the completion report the
//! committee signs. Pure.

use anchor_lang::prelude::Pubkey;
use serde::{Deserialize, Serialize};
use verdict::attestation::CompletionReport;
use verdict::state::FailReason;
use verdict_wire::client::ClientError;
use verdict_wire::generation::{GenerationInput, GenerationInputError, MAX_NEW_TOKENS};
use verdict_wire::miner::{Digest32, InferResponse, MinerPubkey, OutputTensor, Probe, VerifyError};
use verdict_wire::models::{self, GenerativeShape, Task};
use verdict_wire::repro::{self, OUTPUT_TOLERANCE_QUANTA, PROBE_COUNT, PROBE_TOLERANCE_QUANTA};

use super::routing::MinerProfile;

/// A generation's text may take at most this many bytes per generated
/// token (a SmolLM2 token decodes to a few bytes; 32 leaves room for any
/// real token and still bounds what a miner can make a client download).
pub const MAX_TEXT_BYTES_PER_TOKEN: usize = 32;

/// Why an answer was refused. Each maps to the fail reason posted on chain.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error, Serialize, Deserialize)]
pub enum Rejection {
    #[error("response does not verify: {0}")]
    BadSignature(String),
    #[error("response is signed by {got}, not by the node's signing key {expected}")]
    WrongSigner { expected: String, got: String },
    #[error("output shape {got:?} is not [{expected}] for the model")]
    WrongShape { expected: u32, got: Vec<u32> },
    #[error("output is malformed (dtype, scale or length)")]
    MalformedOutput,
    #[error("miner is not in good standing: {0}")]
    Standing(String),
    #[error("shadow rerun disagrees: {0}")]
    ShadowMismatch(String),
    #[error("answered a different request: {0}")]
    WrongRequest(String),
    /// The answer was sampled (and probed) with another key's seed than the
    /// one it had to use: the answering miner's own, or the request's `sample_as`.
    #[error("sampled as {got}, not as {expected}")]
    WrongSeed { expected: String, got: String },
    #[error("output dtype {got:?} is not {expected:?} for the model")]
    WrongDtype { expected: String, got: String },
    #[error("{got} tokens generated; the job allows at most {max}")]
    TooManyTokens { max: u32, got: u32 },
    #[error("token id {token} is outside the vocabulary ({vocab})")]
    TokenOutOfVocab { token: u32, vocab: u32 },
    #[error("the generated text is {got} bytes; at most {max} for its tokens")]
    TextTooLong { max: u64, got: u64 },
    #[error("{got} probes; the model's answers carry {expected}")]
    ProbeCount { expected: u32, got: u32 },
    #[error("probe {index} at (layer {layer}, token {token}, dim {dim}) is outside the model")]
    ProbeOutOfRange {
        index: u32,
        layer: u32,
        token: u32,
        dim: u32,
    },
    /// A recomputation of the answer (sampled as the answering miner)
    /// contradicts it.
    #[error("the recheck by {by} disagrees: {why}")]
    RecheckDisagrees { by: String, why: Mismatch },
    /// The job's own input is not a valid request for its model: the
    /// client's fault, never charged to a miner.
    #[error("the job's input is not valid for its model: {0}")]
    BadJobInput(String),
}

/// How a recomputation of an answer differs from it.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error, Serialize, Deserialize)]
pub enum Mismatch {
    #[error("the recheck was sampled as {got}, the answer as {expected}")]
    Seed { expected: String, got: String },
    /// Generation: the output hashes differ (tokens or text). Embedding: the
    /// hashes differ and some element is off by more than the tolerance.
    #[error("the outputs differ")]
    Output,
    #[error("{expected} probes in the answer, {got} in the recheck")]
    ProbeCount { expected: u32, got: u32 },
    #[error("probe {index} sits at another (layer, token, dim)")]
    ProbePosition { index: u32 },
    #[error("probe {index} differs by {diff} quanta (tolerance {PROBE_TOLERANCE_QUANTA})")]
    ProbeValue { index: u32, diff: u32 },
}

/// How a miner call went wrong, as the keeper classifies it.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error, Serialize, Deserialize)]
pub enum AttemptFailure {
    #[error("shard timeout")]
    Timeout,
    #[error("miner unreachable or dropped the connection: {0}")]
    Disconnect(String),
    #[error("invalid answer: {0}")]
    Invalid(Rejection),
}

impl AttemptFailure {
    pub fn fail_reason(&self) -> FailReason {
        match self {
            AttemptFailure::Timeout => FailReason::Timeout,
            AttemptFailure::Disconnect(_) => FailReason::Disconnect,
            AttemptFailure::Invalid(_) => FailReason::InvalidOutput,
        }
    }

    /// Short label for metrics.
    pub fn label(&self) -> &'static str {
        match self {
            AttemptFailure::Timeout => "timeout",
            AttemptFailure::Disconnect(_) => "disconnect",
            AttemptFailure::Invalid(_) => "invalid",
        }
    }

    pub fn from_client(error: &ClientError) -> Self {
        match error {
            ClientError::Timeout(_) => AttemptFailure::Timeout,
            ClientError::Connect(e)
            | ClientError::ConnectionDropped(e)
            | ClientError::InvalidUrl(e) => AttemptFailure::Disconnect(e.clone()),
            ClientError::InvalidResponse(e) => {
                AttemptFailure::Invalid(Rejection::BadSignature(e.to_string()))
            }
            ClientError::MismatchedResponse { field } => {
                AttemptFailure::Invalid(Rejection::WrongRequest(field.to_string()))
            }
            other => {
                AttemptFailure::Invalid(Rejection::MalformedOutput).with_detail(other.to_string())
            }
        }
    }

    fn with_detail(self, detail: String) -> Self {
        match self {
            AttemptFailure::Invalid(Rejection::MalformedOutput) => {
                AttemptFailure::Invalid(Rejection::WrongRequest(detail))
            }
            other => other,
        }
    }
}

/// Timings of one call, as measured by the keeper and reported by the miner.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Timing {
    /// Wall time of the call, measured by the keeper.
    pub response_ms: u32,
    pub load_ms: u32,
    pub inference_ms: u32,
}

impl Timing {
    pub fn of(response: &InferResponse, response_ms: u32) -> Self {
        Timing {
            response_ms,
            load_ms: response.load_time_ms,
            inference_ms: response.inference_time_us / 1_000,
        }
    }
}

/// What the checks need to know besides the response itself.
pub struct Expectation<'a> {
    pub miner: &'a MinerProfile,
    pub model_id: &'a str,
    /// The job's input text, when the checker holds it: a generation's
    /// `max_tokens` comes from it (without it, [`MAX_NEW_TOKENS`] bounds the
    /// answer).
    pub input: Option<&'a str>,
    /// Whose seed the answer must be sampled with: `None` for a primary
    /// answer (the answering miner's own signing key), `Some(key)` for a
    /// recheck the keeper asked to sample as `key`.
    pub sample_as: Option<Pubkey>,
    pub sla_ms: u32,
    pub now: i64,
}

/// A response that passed every check.
#[derive(Clone, Debug, PartialEq)]
pub struct Accepted {
    pub sla_met: bool,
}

/// The generation request a job's input carries, for a generative model
/// (`Ok(None)` for any other model). An error is the client's fault: the
/// keeper refuses such an input at intake and never dispatches it.
pub fn job_input(
    model_id: &str,
    input: &str,
) -> Result<Option<GenerationInput>, GenerationInputError> {
    match models::spec(model_id) {
        Some(spec) if spec.is_generative() => GenerationInput::parse(input).map(Some),
        _ => Ok(None),
    }
}

/// One call's time budget for a job: how long the keeper waits for the
/// miner, and the response time that meets the SLA.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Budget {
    pub timeout: std::time::Duration,
    pub sla_ms: u32,
}

impl Budget {
    /// `shard_timeout` and `sla_ms`, each plus `ms_per_token` × the job's
    /// `max_tokens` for a generation: a generation's time grows with the
    /// tokens it may produce, an embedding's does not. Without a readable
    /// input (a co-signer that does not hold it), the largest `max_tokens`.
    pub fn for_job(
        shard_timeout: std::time::Duration,
        sla_ms: u32,
        ms_per_token: u32,
        model: &str,
        input: Option<&str>,
    ) -> Budget {
        let tokens = if models::is_generative(model) {
            input
                .and_then(|text| GenerationInput::parse(text).ok())
                .map_or(MAX_NEW_TOKENS, |g| g.max_tokens)
        } else {
            0
        };
        let extra = u64::from(tokens) * u64::from(ms_per_token);
        Budget {
            timeout: shard_timeout + std::time::Duration::from_millis(extra),
            sla_ms: sla_ms.saturating_add(u32::try_from(extra).unwrap_or(u32::MAX)),
        }
    }
}

/// Checks signature, signer, seed and structure. Latency over the SLA is
/// not a refusal (the shard timeout is): it is recorded as `sla_met =
/// false`. The miner's standing (warm, not rate-limited, tier) is a
/// dispatch rule, checked when routing and by the committee's preprocessing
/// review: a miner whose composite dips while it computes is not failed for
/// an answer that checks out.
pub fn validate(
    response: &InferResponse,
    timing: &Timing,
    expect: &Expectation,
) -> Result<Accepted, Rejection> {
    response
        .verify()
        .map_err(|e: VerifyError| Rejection::BadSignature(e.to_string()))?;
    let signer = Pubkey::new_from_array(response.miner_pubkey.0);
    if signer != expect.miner.signing_key {
        return Err(Rejection::WrongSigner {
            expected: expect.miner.signing_key.to_string(),
            got: signer.to_string(),
        });
    }
    let seed = expect.sample_as.unwrap_or(expect.miner.signing_key);
    if response.sampled_as.0 != seed.to_bytes() {
        return Err(Rejection::WrongSeed {
            expected: seed.to_string(),
            got: Pubkey::new_from_array(response.sampled_as.0).to_string(),
        });
    }
    if response.model_id.as_str() != expect.model_id {
        return Err(Rejection::WrongRequest("model_id".into()));
    }
    if !response.output.is_well_formed() {
        return Err(Rejection::MalformedOutput);
    }
    match models::spec(expect.model_id).map(|spec| spec.task) {
        Some(Task::Embedding { dim }) => {
            if response.output.dtype != repro::DTYPE_F32 {
                return Err(Rejection::WrongDtype {
                    expected: repro::DTYPE_F32.into(),
                    got: response.output.dtype.clone(),
                });
            }
            if response.output.shape != [dim] {
                return Err(Rejection::WrongShape {
                    expected: dim,
                    got: response.output.shape.clone(),
                });
            }
        }
        Some(Task::Generation(shape)) => {
            let max_tokens = match expect.input {
                Some(input) => {
                    GenerationInput::parse(input)
                        .map_err(|e| Rejection::BadJobInput(e.to_string()))?
                        .max_tokens
                }
                None => MAX_NEW_TOKENS,
            };
            check_generation(response, &shape, max_tokens)?;
        }
        None => {}
    }
    Ok(Accepted {
        sla_met: timing.response_ms <= expect.sla_ms,
    })
}

/// A generation's own bounds: a token tensor of at most `max_tokens` ids
/// inside the vocabulary, its text at most [`MAX_TEXT_BYTES_PER_TOKEN`]
/// bytes a token, and exactly [`PROBE_COUNT`] probes inside the model.
fn check_generation(
    response: &InferResponse,
    shape: &GenerativeShape,
    max_tokens: u32,
) -> Result<(), Rejection> {
    let output = &response.output;
    let tokens = output.tokens().ok_or_else(|| Rejection::WrongDtype {
        expected: repro::DTYPE_TOKEN.into(),
        got: output.dtype.clone(),
    })?;
    let count = u32::try_from(tokens.len()).unwrap_or(u32::MAX);
    if count > max_tokens {
        return Err(Rejection::TooManyTokens {
            max: max_tokens,
            got: count,
        });
    }
    if let Some(&token) = tokens.iter().find(|&&id| id >= shape.vocab) {
        return Err(Rejection::TokenOutOfVocab {
            token,
            vocab: shape.vocab,
        });
    }
    let text = output.text.as_deref().unwrap_or_default().len() as u64;
    let max_text = tokens.len() as u64 * MAX_TEXT_BYTES_PER_TOKEN as u64;
    if text > max_text {
        return Err(Rejection::TextTooLong {
            max: max_text,
            got: text,
        });
    }
    if response.probes.len() != PROBE_COUNT {
        return Err(Rejection::ProbeCount {
            expected: PROBE_COUNT as u32,
            got: u32::try_from(response.probes.len()).unwrap_or(u32::MAX),
        });
    }
    for (index, probe) in response.probes.iter().enumerate() {
        if probe.layer >= shape.layers || probe.dim >= shape.width || probe.token >= shape.context {
            return Err(Rejection::ProbeOutOfRange {
                index: index as u32,
                layer: probe.layer,
                token: probe.token,
                dim: probe.dim,
            });
        }
    }
    Ok(())
}

/// What a comparison looks at in an answer: the output (and its hash), the
/// probes, and whose seed chose them. Borrowed from an [`InferResponse`] or
/// from a keeper's own [`Recomputed`] run.
#[derive(Clone, Copy, Debug)]
pub struct AnswerView<'a> {
    pub output: &'a OutputTensor,
    pub output_hash: &'a Digest32,
    pub probes: &'a [Probe],
    pub sampled_as: &'a MinerPubkey,
}

impl<'a> From<&'a InferResponse> for AnswerView<'a> {
    fn from(response: &'a InferResponse) -> Self {
        AnswerView {
            output: &response.output,
            output_hash: &response.output_hash,
            probes: &response.probes,
            sampled_as: &response.sampled_as,
        }
    }
}

/// An answer the keeper holds without a miner's signature on it: its own
/// reference run, or the one two other miners agreed on.
#[derive(Clone, Debug, PartialEq)]
pub struct Recomputed {
    pub output: OutputTensor,
    pub output_hash: Digest32,
    pub probes: Vec<Probe>,
    pub sampled_as: MinerPubkey,
}

impl Recomputed {
    pub fn view(&self) -> AnswerView<'_> {
        AnswerView {
            output: &self.output,
            output_hash: &self.output_hash,
            probes: &self.probes,
            sampled_as: &self.sampled_as,
        }
    }
}

impl From<&InferResponse> for Recomputed {
    fn from(response: &InferResponse) -> Self {
        Recomputed {
            output: response.output.clone(),
            output_hash: response.output_hash,
            probes: response.probes.clone(),
            sampled_as: response.sampled_as,
        }
    }
}

/// Whether `recheck` (a recomputation asked to sample as `answer`'s
/// `sampled_as`) confirms `answer` for model `model_id`:
///
/// - both sampled with the same key's seed;
/// - outputs: for a generative model (or any token output) the output
///   hashes must be equal — the same key's seed and the same weights give
///   the same tokens bit for bit; for an embedding, equal hashes, or the
///   same dtype, scale and shape with every element within
///   [`OUTPUT_TOLERANCE_QUANTA`];
/// - probes: as many, at the same (layer, token, dim) in the same order,
///   each value within [`PROBE_TOLERANCE_QUANTA`].
///
/// So a miner that copies another's answer, samples with another seed or
/// K, runs a cheaper model, or makes up its probes is caught.
pub fn compare_answers(
    model_id: &str,
    answer: AnswerView,
    recheck: AnswerView,
) -> Result<(), Mismatch> {
    if answer.sampled_as != recheck.sampled_as {
        return Err(Mismatch::Seed {
            expected: answer.sampled_as.to_string(),
            got: recheck.sampled_as.to_string(),
        });
    }
    let generative = models::is_generative(model_id)
        || answer.output.dtype == repro::DTYPE_TOKEN
        || recheck.output.dtype == repro::DTYPE_TOKEN;
    if answer.output_hash != recheck.output_hash {
        let (a, b) = (answer.output, recheck.output);
        let close = !generative
            && (&a.dtype, a.scale, &a.shape) == (&b.dtype, b.scale, &b.shape)
            && repro::max_abs_difference(&a.data, &b.data)
                .is_some_and(|diff| diff <= OUTPUT_TOLERANCE_QUANTA);
        if !close {
            return Err(Mismatch::Output);
        }
    }
    if answer.probes.len() != recheck.probes.len() {
        return Err(Mismatch::ProbeCount {
            expected: answer.probes.len() as u32,
            got: recheck.probes.len() as u32,
        });
    }
    for (index, (a, b)) in answer.probes.iter().zip(recheck.probes).enumerate() {
        if (a.layer, a.token, a.dim) != (b.layer, b.token, b.dim) {
            return Err(Mismatch::ProbePosition {
                index: index as u32,
            });
        }
        let diff = a.value.abs_diff(b.value);
        if diff > PROBE_TOLERANCE_QUANTA {
            return Err(Mismatch::ProbeValue {
                index: index as u32,
                diff,
            });
        }
    }
    Ok(())
}

/// Outcome of comparing the primary with a shadow rerun (high risk).
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum ShadowVerdict {
    /// The shadow confirms the primary ([`compare_answers`]): it stands.
    Agree,
    /// They differ and the reference (the keeper's own run) contradicts the
    /// primary: the primary is wrong.
    PrimaryWrong(Mismatch),
    /// They differ and the reference confirms the primary.
    ShadowWrong,
    /// They differ with nothing to break the tie: the primary is not
    /// accepted (a high-risk job is never settled on a disputed answer).
    Undecided(Mismatch),
}

/// [`compare_answers`] of the primary with the shadow first; when they
/// differ, `reference` (the keeper's own run of the model, sampled as the
/// primary) decides: it confirms the primary or condemns it.
pub fn judge_shadow(
    model_id: &str,
    primary: AnswerView,
    shadow: AnswerView,
    reference: Option<AnswerView>,
) -> ShadowVerdict {
    let Err(why) = compare_answers(model_id, primary, shadow) else {
        return ShadowVerdict::Agree;
    };
    match reference.map(|r| compare_answers(model_id, primary, r)) {
        Some(Ok(())) => ShadowVerdict::ShadowWrong,
        Some(Err(against_reference)) => ShadowVerdict::PrimaryWrong(against_reference),
        None => ShadowVerdict::Undecided(why),
    }
}

/// The report the committee signs for an accepted answer.
pub fn completion_report(
    response: &InferResponse,
    timing: &Timing,
    accepted: &Accepted,
    latency_score_bps: u16,
) -> CompletionReport {
    CompletionReport {
        output_hash: response.output_hash.0,
        response_ms: timing.response_ms,
        load_ms: timing.load_ms,
        inference_ms: timing.inference_ms,
        success: true,
        sla_met: accepted.sla_met,
        latency_score_bps,
    }
}

/// Latency percentile score of one response among a miner population's
/// medians, in bps (10_000 = faster than every known median).
pub fn latency_score_bps(response_ms: u32, medians: &[f64]) -> u16 {
    if medians.is_empty() {
        return 5_000;
    }
    let slower = medians.iter().filter(|&&m| m > response_ms as f64).count();
    ((slower as u64 * verdict::constants::BPS_DENOMINATOR) / medians.len() as u64) as u16
}

#[cfg(test)]
mod tests {
    use super::*;
    use ed25519_dalek::SigningKey;
    use verdict::state::TrialStatus;
    use verdict_wire::miner::{JobId, ModelId, OutputTensor, UnsignedResponse};

    fn key() -> SigningKey {
        SigningKey::from_bytes(&[7; 32])
    }

    fn unsigned(values: &[f32], key: &SigningKey) -> UnsignedResponse {
        UnsignedResponse {
            job_id: JobId([1; 32]),
            model_id: "test-projection-v1".parse::<ModelId>().unwrap(),
            input_hash: verdict_wire::miner::Digest32([2; 32]),
            output: OutputTensor::from_f32(values).unwrap(),
            probes: vec![],
            sampled_as: verdict_wire::miner::MinerPubkey::from(key),
            load_time_ms: 3,
            inference_time_us: 4_000,
        }
    }

    fn response(values: &[f32], key: &SigningKey) -> InferResponse {
        unsigned(values, key).sign(key)
    }

    fn profile(signing_key: Pubkey) -> MinerProfile {
        MinerProfile {
            node: Pubkey::new_unique(),
            signing_key,
            models: vec![],
            trust: 1.0,
            success_rate: 1.0,
            stake: 1,
            tier: 3,
            window_jobs: 0,
            trial: TrialStatus::Passed,
            cooldown_until: 0,
            rate_limited: false,
            last_heartbeat: 0,
            active_miner: true,
            recent_mistake: false,
            median_latency_ms: None,
            tokens_per_second: Vec::new(),
            reachable: true,
        }
    }

    fn expect(p: &MinerProfile) -> Expectation<'_> {
        Expectation {
            miner: p,
            model_id: "test-projection-v1",
            input: None,
            sample_as: None,
            sla_ms: 1_000,
            now: 0,
        }
    }

    #[test]
    fn a_generation_gets_time_per_token_it_may_generate() {
        let base = std::time::Duration::from_millis(3_000);
        let embedding = Budget::for_job(base, 2_000, 150, models::MINILM_ID, Some("hi"));
        assert_eq!(
            embedding,
            Budget {
                timeout: base,
                sla_ms: 2_000
            }
        );
        let input = GenerationInput::greedy("hi", 20).to_input();
        let generation = Budget::for_job(base, 2_000, 150, models::SMOLLM2_ID, Some(&input));
        assert_eq!(generation.timeout, std::time::Duration::from_millis(6_000));
        assert_eq!(generation.sla_ms, 5_000);
        let unknown = Budget::for_job(base, 2_000, 150, models::SMOLLM2_ID, None);
        assert_eq!(unknown.sla_ms, 2_000 + 150 * MAX_NEW_TOKENS);
    }

    #[test]
    fn accepts_a_signed_well_formed_answer_and_reports_sla() {
        let k = key();
        let p = profile(Pubkey::new_from_array(k.verifying_key().to_bytes()));
        let r = response(&[0.25; 16], &k);
        let fast = Timing::of(&r, 20);
        assert_eq!(
            validate(&r, &fast, &expect(&p)),
            Ok(Accepted { sla_met: true })
        );
        let slow = Timing {
            response_ms: 1_500,
            ..fast
        };
        assert_eq!(
            validate(&r, &slow, &expect(&p)),
            Ok(Accepted { sla_met: false })
        );
        let report = completion_report(&r, &fast, &Accepted { sla_met: true }, 9_000);
        assert_eq!(report.output_hash, r.output_hash.0);
        assert_eq!(
            (report.load_ms, report.inference_ms, report.success),
            (3, 4, true)
        );
    }

    #[test]
    fn refuses_bad_signature_wrong_signer_and_wrong_shape_but_not_standing() {
        let k = key();
        let p = profile(Pubkey::new_from_array(k.verifying_key().to_bytes()));
        let mut tampered = response(&[0.25; 16], &k);
        tampered.load_time_ms += 1;
        let t = Timing::of(&tampered, 10);
        assert!(matches!(
            validate(&tampered, &t, &expect(&p)),
            Err(Rejection::BadSignature(_))
        ));

        let other = profile(Pubkey::new_unique());
        let r = response(&[0.25; 16], &k);
        assert!(matches!(
            validate(&r, &t, &expect(&other)),
            Err(Rejection::WrongSigner { .. })
        ));

        let short = response(&[0.25; 8], &k);
        assert!(matches!(
            validate(&short, &t, &expect(&p)),
            Err(Rejection::WrongShape { expected: 16, .. })
        ));

        // Standing is a dispatch rule, not a property of the answer.
        let good = response(&[0.25; 16], &key());
        let mut limited = p.clone();
        limited.rate_limited = true;
        limited.cooldown_until = 10;
        assert!(validate(&good, &t, &expect(&limited)).is_ok());
    }

    const GEN: &str = verdict_wire::models::SMOLLM2_ID;

    fn probe(layer: u32, token: u32, dim: u32, value: i32) -> Probe {
        Probe {
            layer,
            token,
            dim,
            value,
        }
    }

    fn probes() -> Vec<Probe> {
        vec![
            probe(0, 1, 2, 100),
            probe(7, 3, 500, -40),
            probe(29, 0, 575, 7),
            probe(12, 9, 0, 0),
        ]
    }

    /// A generation signed by `key`, sampled as `sampled_as`.
    fn generation(
        tokens: &[u32],
        text: &str,
        probes: Vec<Probe>,
        key: &SigningKey,
        sampled_as: MinerPubkey,
    ) -> InferResponse {
        UnsignedResponse {
            job_id: JobId([1; 32]),
            model_id: GEN.parse::<ModelId>().unwrap(),
            input_hash: verdict_wire::miner::Digest32([2; 32]),
            output: OutputTensor::from_tokens(tokens, text.into()),
            probes,
            sampled_as,
            load_time_ms: 3,
            inference_time_us: 250_000,
        }
        .sign(key)
    }

    fn own_generation(tokens: &[u32], text: &str, probes: Vec<Probe>) -> InferResponse {
        let k = key();
        generation(tokens, text, probes, &k, MinerPubkey::from(&k))
    }

    fn gen_input(max_tokens: u32) -> String {
        verdict_wire::generation::GenerationInput {
            prompt: "Say hi".into(),
            max_tokens,
            top_k: 40,
            temperature_milli: 700,
        }
        .to_input()
    }

    fn check_gen(r: &InferResponse, input: Option<&str>) -> Result<Accepted, Rejection> {
        let k = key();
        let p = profile(Pubkey::new_from_array(k.verifying_key().to_bytes()));
        let e = Expectation {
            model_id: GEN,
            input,
            ..expect(&p)
        };
        validate(r, &Timing::of(r, 10), &e)
    }

    #[test]
    fn accepts_a_well_formed_generation_within_its_bounds() {
        let input = gen_input(4);
        let r = own_generation(&[10, 20, 49_151], "Hi there", probes());
        assert_eq!(check_gen(&r, Some(&input)), Ok(Accepted { sla_met: true }));
        // Without the input, the protocol's largest request bounds it.
        assert!(check_gen(&r, None).is_ok());
        // No token at all (the model ended its turn at once) is an answer too.
        let empty = own_generation(&[], "", probes());
        assert!(check_gen(&empty, Some(&input)).is_ok());
    }

    #[test]
    fn refuses_generations_out_of_bounds() {
        let input = gen_input(2);
        let long = own_generation(&[1, 2, 3], "abc", probes());
        assert_eq!(
            check_gen(&long, Some(&input)),
            Err(Rejection::TooManyTokens { max: 2, got: 3 })
        );
        let beyond = own_generation(&[1, 49_152], "ab", probes());
        assert_eq!(
            check_gen(&beyond, Some(&input)),
            Err(Rejection::TokenOutOfVocab {
                token: 49_152,
                vocab: 49_152
            })
        );
        let wordy = own_generation(&[1], &"x".repeat(33), probes());
        assert_eq!(
            check_gen(&wordy, Some(&input)),
            Err(Rejection::TextTooLong { max: 32, got: 33 })
        );
        let few = own_generation(&[1], "a", probes()[..3].to_vec());
        assert_eq!(
            check_gen(&few, Some(&input)),
            Err(Rejection::ProbeCount {
                expected: 4,
                got: 3
            })
        );
        for (bad, index) in [
            (probe(30, 0, 0, 0), 1),
            (probe(0, 8_192, 0, 0), 1),
            (probe(0, 0, 576, 0), 1),
        ] {
            let mut p = probes();
            p[index] = bad;
            let r = own_generation(&[1], "a", p);
            assert!(matches!(
                check_gen(&r, Some(&input)),
                Err(Rejection::ProbeOutOfRange { index: 1, .. })
            ));
        }
        // An embedding where a generation is due, and the reverse.
        let k = key();
        let embedding = UnsignedResponse {
            model_id: GEN.parse::<ModelId>().unwrap(),
            ..unsigned(&[0.25; 16], &k)
        }
        .sign(&k);
        assert!(matches!(
            check_gen(&embedding, Some(&input)),
            Err(Rejection::WrongDtype { .. })
        ));
        let p = profile(Pubkey::new_from_array(k.verifying_key().to_bytes()));
        let tokens = UnsignedResponse {
            model_id: "test-projection-v1".parse().unwrap(),
            output: OutputTensor::from_tokens(&[1; 16], "a".into()),
            ..unsigned(&[0.25; 16], &k)
        }
        .sign(&k);
        assert!(matches!(
            validate(&tokens, &Timing::of(&tokens, 1), &expect(&p)),
            Err(Rejection::WrongDtype { .. })
        ));
        // The client's input, unparseable: not the miner's fault (typed apart).
        let ok = own_generation(&[1], "a", probes());
        assert!(matches!(
            check_gen(&ok, Some("not json")),
            Err(Rejection::BadJobInput(_))
        ));
        assert!(job_input(GEN, "not json").is_err());
        assert_eq!(job_input(GEN, &input).unwrap().unwrap().max_tokens, 2);
        assert_eq!(job_input("test-projection-v1", "anything"), Ok(None));
    }

    #[test]
    fn every_answer_must_be_sampled_with_the_expected_key() {
        let k = key();
        let p = profile(Pubkey::new_from_array(k.verifying_key().to_bytes()));
        let other = MinerPubkey([4; 32]);
        // A primary answer sampled as someone else: refused, embedding or generation.
        let copied = generation(&[1], "a", probes(), &k, other);
        assert!(matches!(
            check_gen(&copied, None),
            Err(Rejection::WrongSeed { .. })
        ));
        let embedding = UnsignedResponse {
            sampled_as: other,
            ..unsigned(&[0.25; 16], &k)
        }
        .sign(&k);
        let t = Timing::of(&embedding, 1);
        assert!(matches!(
            validate(&embedding, &t, &expect(&p)),
            Err(Rejection::WrongSeed { .. })
        ));
        // A recheck asked to sample as `other` must have done so.
        let recheck = Expectation {
            sample_as: Some(Pubkey::new_from_array(other.0)),
            ..expect(&p)
        };
        assert!(validate(&embedding, &t, &recheck).is_ok());
        let own = response(&[0.25; 16], &k);
        assert!(matches!(
            validate(&own, &t, &recheck),
            Err(Rejection::WrongSeed { .. })
        ));
    }

    #[test]
    fn a_recheck_must_match_tokens_exactly_and_probes_within_tolerance() {
        let answer = own_generation(&[5, 6, 7], "abc", probes());
        let v = AnswerView::from;
        // Equal (another miner's key signs it, sampled as the answering miner).
        let rechecker = SigningKey::from_bytes(&[8; 32]);
        let same = generation(&[5, 6, 7], "abc", probes(), &rechecker, answer.sampled_as);
        assert_eq!(compare_answers(GEN, v(&answer), v(&same)), Ok(()));
        // Different tokens, or the same tokens with other text.
        let tokens = generation(&[5, 6, 8], "abc", probes(), &rechecker, answer.sampled_as);
        assert_eq!(
            compare_answers(GEN, v(&answer), v(&tokens)),
            Err(Mismatch::Output)
        );
        let text = generation(&[5, 6, 7], "abd", probes(), &rechecker, answer.sampled_as);
        assert_eq!(
            compare_answers(GEN, v(&answer), v(&text)),
            Err(Mismatch::Output)
        );
        // Probes within tolerance agree; one quantum beyond does not.
        let mut near = probes();
        near[2].value += PROBE_TOLERANCE_QUANTA as i32;
        let near = generation(&[5, 6, 7], "abc", near, &rechecker, answer.sampled_as);
        assert_eq!(compare_answers(GEN, v(&answer), v(&near)), Ok(()));
        let mut far = probes();
        far[2].value -= PROBE_TOLERANCE_QUANTA as i32 + 1;
        let far = generation(&[5, 6, 7], "abc", far, &rechecker, answer.sampled_as);
        assert_eq!(
            compare_answers(GEN, v(&answer), v(&far)),
            Err(Mismatch::ProbeValue {
                index: 2,
                diff: PROBE_TOLERANCE_QUANTA + 1
            })
        );
        // Probes at other positions (another key's seed, or made up).
        let mut moved = probes();
        moved[1].layer += 1;
        let moved = generation(&[5, 6, 7], "abc", moved, &rechecker, answer.sampled_as);
        assert_eq!(
            compare_answers(GEN, v(&answer), v(&moved)),
            Err(Mismatch::ProbePosition { index: 1 })
        );
        let fewer = generation(
            &[5, 6, 7],
            "abc",
            probes()[..2].to_vec(),
            &rechecker,
            answer.sampled_as,
        );
        assert_eq!(
            compare_answers(GEN, v(&answer), v(&fewer)),
            Err(Mismatch::ProbeCount {
                expected: 4,
                got: 2
            })
        );
        // A recheck sampled with another seed proves nothing.
        let own_seed = generation(
            &[5, 6, 7],
            "abc",
            probes(),
            &rechecker,
            MinerPubkey::from(&rechecker),
        );
        assert!(matches!(
            compare_answers(GEN, v(&answer), v(&own_seed)),
            Err(Mismatch::Seed { .. })
        ));
        // The owned form compares the same way.
        assert_eq!(
            compare_answers(GEN, v(&answer), Recomputed::from(&same).view()),
            Ok(())
        );
    }

    #[test]
    fn embeddings_agree_within_the_output_tolerance_and_must_match_probes() {
        let k = key();
        let with_probes = |values: &[f32], probes: Vec<Probe>| {
            UnsignedResponse {
                probes,
                ..unsigned(values, &k)
            }
            .sign(&k)
        };
        let p0 = vec![probe(0, 1, 3, 10), probe(0, 2, 5, -3)];
        let a = with_probes(&[0.25; 16], p0.clone());
        let mut values = [0.25f32; 16];
        values[3] += 0.0001; // one quantum
        let near = with_probes(&values, p0.clone());
        assert_ne!(a.output_hash, near.output_hash);
        let m = "test-projection-v1";
        let v = AnswerView::from;
        assert_eq!(compare_answers(m, v(&a), v(&near)), Ok(()));
        values[3] += 0.0001;
        let far = with_probes(&values, p0.clone());
        assert_eq!(compare_answers(m, v(&a), v(&far)), Err(Mismatch::Output));
        let mut moved = p0.clone();
        moved[0].dim = 4;
        assert_eq!(
            compare_answers(m, v(&a), v(&with_probes(&[0.25; 16], moved))),
            Err(Mismatch::ProbePosition { index: 0 })
        );
    }

    #[test]
    fn a_shadow_must_confirm_the_primary_and_the_reference_breaks_ties() {
        let a = own_generation(&[1, 2], "ab", probes());
        let rechecker = SigningKey::from_bytes(&[8; 32]);
        let same = generation(&[1, 2], "ab", probes(), &rechecker, a.sampled_as);
        let other = generation(&[1, 3], "ac", probes(), &rechecker, a.sampled_as);
        let v = AnswerView::from;
        assert_eq!(
            judge_shadow(GEN, v(&a), v(&same), None),
            ShadowVerdict::Agree
        );
        assert_eq!(
            judge_shadow(GEN, v(&a), v(&other), Some(v(&other))),
            ShadowVerdict::PrimaryWrong(Mismatch::Output)
        );
        assert_eq!(
            judge_shadow(GEN, v(&a), v(&other), Some(v(&same))),
            ShadowVerdict::ShadowWrong
        );
        assert_eq!(
            judge_shadow(GEN, v(&a), v(&other), None),
            ShadowVerdict::Undecided(Mismatch::Output)
        );
        // The keeper's own run condemns a primary it contradicts, whatever the shadow says.
        let third = generation(&[9], "z", probes(), &rechecker, a.sampled_as);
        assert_eq!(
            judge_shadow(GEN, v(&a), v(&other), Some(v(&third))),
            ShadowVerdict::PrimaryWrong(Mismatch::Output)
        );
    }

    #[test]
    fn failures_map_to_the_on_chain_reasons() {
        use std::time::Duration;
        assert_eq!(
            AttemptFailure::from_client(&ClientError::Timeout(Duration::from_secs(3)))
                .fail_reason(),
            FailReason::Timeout
        );
        assert_eq!(
            AttemptFailure::from_client(&ClientError::Connect("refused".into())).fail_reason(),
            FailReason::Disconnect
        );
        let garbage = ClientError::MalformedResponse {
            status: 200,
            reason: "not json".into(),
        };
        assert_eq!(
            AttemptFailure::from_client(&garbage).fail_reason(),
            FailReason::InvalidOutput
        );
    }

    #[test]
    fn latency_score_is_the_share_of_slower_medians() {
        assert_eq!(latency_score_bps(15, &[10.0, 20.0, 30.0, 40.0]), 7_500);
        assert_eq!(latency_score_bps(5, &[]), 5_000);
    }
}
