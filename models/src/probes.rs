//! What only a party that runs the model adds to the miner's wire
//! protocol: the probes a miner takes from its hidden states, and a
//! validator's comparison of an answer with its own run.

use verdict_wire::miner::{InferResponse, JobId, MinerPubkey, OutputTensor, Probe};
use verdict_wire::repro::{self, QuantizeError};

use crate::{HiddenStates, ModelOutput};

/// The probes for a job and a miner: the hidden-state values at the
/// positions [`repro::probe_positions`] derives from sha256(job id || key), where
/// `key` is the miner whose seed the answer uses (its own, or a request's `sample_as`).
pub fn probes_for(
    hidden: &HiddenStates,
    job_id: &JobId,
    miner_pubkey: &MinerPubkey,
) -> Result<Vec<Probe>, QuantizeError> {
    let seed = repro::probe_seed(&job_id.0, &miner_pubkey.0);
    repro::probe_positions(&seed, hidden.tokens, hidden.width)
        .into_iter()
        .enumerate()
        .map(|(index, (token, dim))| {
            let raw = hidden.value(token, dim);
            let value = repro::quantize_value(raw).ok_or(if raw.is_finite() {
                QuantizeError::OutOfRange { index, value: raw }
            } else {
                QuantizeError::NonFinite { index }
            })?;
            Ok(Probe {
                layer: 0,
                token: token as u32,
                dim: dim as u32,
                value,
            })
        })
        .collect()
}

/// Compares a miner's response with a validator's own run of the same model on
/// the same input. Hash equality is the fast path; otherwise each output
/// element and each probe must lie within the documented tolerance, and
/// the probes must sit where this miner's key says they should.
pub fn check_against(
    response: &InferResponse,
    reference: &ModelOutput,
) -> Result<Agreement, Disagreement> {
    let reference_output =
        OutputTensor::from_f32(&reference.embedding).map_err(Disagreement::Reference)?;
    let expected_probes = probes_for(&reference.hidden, &response.job_id, &response.sampled_as)
        .map_err(Disagreement::Reference)?;
    if response.probes.len() != expected_probes.len() {
        return Err(Disagreement::ProbeCount {
            expected: expected_probes.len(),
            got: response.probes.len(),
        });
    }
    for (index, (got, expected)) in response.probes.iter().zip(&expected_probes).enumerate() {
        if (got.token, got.dim) != (expected.token, expected.dim) {
            return Err(Disagreement::ProbePosition { index });
        }
        let difference = got.value.abs_diff(expected.value);
        if difference > repro::PROBE_TOLERANCE_QUANTA {
            return Err(Disagreement::ProbeValue { index, difference });
        }
    }
    if reference_output.hash() == response.output_hash {
        return Ok(Agreement::ExactHash);
    }
    if response.output.shape != reference_output.shape
        || response.output.scale != reference_output.scale
    {
        return Err(Disagreement::Shape);
    }
    match repro::max_abs_difference(&response.output.data, &reference_output.data) {
        Some(difference) if difference <= repro::OUTPUT_TOLERANCE_QUANTA => {
            Ok(Agreement::WithinTolerance {
                max_difference: difference,
            })
        }
        Some(difference) => Err(Disagreement::OutputValue {
            max_difference: difference,
        }),
        None => Err(Disagreement::Shape),
    }
}

/// How a response matched the validator's reference run.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Agreement {
    ExactHash,
    /// Hashes differ but every element is within tolerance (in quanta).
    WithinTolerance {
        max_difference: u32,
    },
}

/// How a response differs from the validator's reference run.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum Disagreement {
    #[error("output shape or scale differs from the reference")]
    Shape,
    #[error("output differs from the reference by {max_difference} quanta")]
    OutputValue { max_difference: u32 },
    #[error("expected {expected} probes, got {got}")]
    ProbeCount { expected: usize, got: usize },
    #[error("probe {index} is not at the position this miner's key selects")]
    ProbePosition { index: usize },
    #[error("probe {index} differs from the reference by {difference} quanta")]
    ProbeValue { index: usize, difference: u32 },
    #[error("the reference run itself could not be rounded: {0}")]
    Reference(QuantizeError),
}
