//! Validation of a miner's answer: its signature by the node's on-chain
//! signing key, the output's structure for the model, latency against the
//! SLA, and for high-risk jobs the shadow rerun's verdict (the miner's
//! standing is checked when routing). Produces the completion report the
//! committee signs. Pure.

use anchor_lang::prelude::Pubkey;
use miner::api::{InferResponse, VerifyError};
use miner::client::ClientError;
use miner::models::ModelKind;
use serde::{Deserialize, Serialize};
use verdict::attestation::CompletionReport;
use verdict::state::FailReason;

use super::routing::MinerProfile;

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
    pub sla_ms: u32,
    pub now: i64,
}

/// A response that passed every check.
#[derive(Clone, Debug, PartialEq)]
pub struct Accepted {
    pub sla_met: bool,
}

/// Checks signature, signer and structure. Latency over the SLA is not a
/// refusal (the shard timeout is): it is recorded as `sla_met = false`. The
/// miner's standing (warm, not rate-limited, tier) is a dispatch rule,
/// checked when routing and by the committee's preprocessing review: a
/// miner whose composite dips while it computes is not failed for an answer
/// that checks out.
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
    if response.model_id.as_str() != expect.model_id {
        return Err(Rejection::WrongRequest("model_id".into()));
    }
    if !response.output.is_well_formed() {
        return Err(Rejection::MalformedOutput);
    }
    if let Ok(kind) = ModelKind::from_id(expect.model_id) {
        let expected = kind.output_dim();
        if response.output.shape != [expected] {
            return Err(Rejection::WrongShape {
                expected,
                got: response.output.shape.clone(),
            });
        }
    }
    Ok(Accepted {
        sla_met: timing.response_ms <= expect.sla_ms,
    })
}

/// Outcome of comparing the primary with a shadow rerun (high risk).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ShadowVerdict {
    /// Same output hash: the primary stands.
    Agree,
    /// Hashes differ and the reference (a local run or a third miner) sides
    /// with the shadow: the primary is wrong.
    PrimaryWrong,
    /// Hashes differ and the reference sides with the primary.
    ShadowWrong,
    /// Hashes differ with nothing to break the tie: the primary is not
    /// accepted (a high-risk job is never settled on a disputed answer).
    Undecided,
}

/// Hash equality first; on a mismatch, `reference_hash` (the output hash of
/// a local reference run or of a third miner) decides.
pub fn judge_shadow(
    primary: &[u8; 32],
    shadow: &[u8; 32],
    reference_hash: Option<&[u8; 32]>,
) -> ShadowVerdict {
    if primary == shadow {
        return ShadowVerdict::Agree;
    }
    match reference_hash {
        Some(r) if r == shadow => ShadowVerdict::PrimaryWrong,
        Some(r) if r == primary => ShadowVerdict::ShadowWrong,
        _ => ShadowVerdict::Undecided,
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
    ((slower as u64 * 10_000) / medians.len() as u64) as u16
}

#[cfg(test)]
mod tests {
    use super::*;
    use ed25519_dalek::SigningKey;
    use miner::api::{JobId, ModelId, OutputTensor, UnsignedResponse};
    use verdict::state::TrialStatus;

    fn key() -> SigningKey {
        SigningKey::from_bytes(&[7; 32])
    }

    fn response(values: &[f32], key: &SigningKey) -> InferResponse {
        UnsignedResponse {
            job_id: JobId([1; 32]),
            model_id: "test-projection-v1".parse::<ModelId>().unwrap(),
            input_hash: miner::api::Digest32([2; 32]),
            output: OutputTensor::from_f32(values).unwrap(),
            probes: vec![],
            sampled_as: miner::api::MinerPubkey::from(key),
            load_time_ms: 3,
            inference_time_us: 4_000,
        }
        .sign(key)
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
            reachable: true,
        }
    }

    fn expect(p: &MinerProfile) -> Expectation<'_> {
        Expectation {
            miner: p,
            model_id: "test-projection-v1",
            sla_ms: 1_000,
            now: 0,
        }
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

    #[test]
    fn shadow_hashes_must_match_and_a_reference_breaks_ties() {
        let (a, b) = ([1u8; 32], [2u8; 32]);
        assert_eq!(judge_shadow(&a, &a, None), ShadowVerdict::Agree);
        assert_eq!(judge_shadow(&a, &b, Some(&b)), ShadowVerdict::PrimaryWrong);
        assert_eq!(judge_shadow(&a, &b, Some(&a)), ShadowVerdict::ShadowWrong);
        assert_eq!(judge_shadow(&a, &b, None), ShadowVerdict::Undecided);
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
