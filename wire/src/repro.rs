//! Reproducibility rules: fixed-point rounding, the canonical tensor hash, probe selection and the tolerance check a validator applies.
//!
//! Honest miners agree bit for bit on the *rounded* output, not on raw floats:
//! the model computes in f32, every value is rounded to a multiple of
//! 1 / [`SCALE`] and only those integers are hashed. A validator recomputes
//! the output itself; equal hashes settle it at once, and when the hashes
//! differ (a value sat on a rounding boundary on different hardware) it
//! compares element by element within [`OUTPUT_TOLERANCE_QUANTA`].

use sha2::{Digest, Sha256};

/// Fixed-point scale: a value `v` travels and is hashed as `round(v * SCALE)`.
///
/// 1e-4 is two to three orders of magnitude above the f32 noise between CPU
/// kernels for an L2-normalized 384-dim embedding (about 1e-7 to 1e-6 per
/// element), and two orders below the differences that matter for similarity
/// (cosine scores of related sentences differ by 1e-2 and more).
pub const SCALE: u32 = 10_000;

/// Largest per-element difference, in quanta of 1 / [`SCALE`], between two
/// outputs that still counts as the same answer. Noise of 1e-6 can move a
/// value across at most one rounding boundary, hence one quantum.
pub const OUTPUT_TOLERANCE_QUANTA: u32 = 1;

/// Same for probes. Probes are raw hidden states (not normalized, magnitudes
/// up to ~10 for MiniLM), so their f32 noise is larger in absolute terms.
pub const PROBE_TOLERANCE_QUANTA: u32 = 5;

/// How many hidden-state values each response carries as probes.
pub const PROBE_COUNT: usize = 4;

/// Element type of an embedding: f32 values on the fixed-point grid.
pub const DTYPE_F32: &str = "f32";
/// Element type of a generation: token ids (scale 1), with their text.
pub const DTYPE_TOKEN: &str = "token";

const TENSOR_HASH_DOMAIN: &[u8] = b"VERDICT-TENSOR-V1";
const PROBE_DIGEST_DOMAIN: &[u8] = b"VERDICT-PROBES-V1";

/// Why a float could not be turned into a fixed-point integer.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum QuantizeError {
    #[error("the model produced a non-finite value at index {index}")]
    NonFinite { index: usize },
    #[error("value {value} at index {index} is out of the fixed-point range")]
    OutOfRange { index: usize, value: f32 },
}

/// Rounds one value to the fixed-point grid (half away from zero).
pub fn quantize_value(value: f32) -> Option<i32> {
    if !value.is_finite() {
        return None;
    }
    // f64 keeps the product exact enough that rounding is decided by the
    // value itself and not by an intermediate f32 rounding.
    let scaled = (f64::from(value) * f64::from(SCALE)).round();
    if scaled < f64::from(i32::MIN) || scaled > f64::from(i32::MAX) {
        return None;
    }
    Some(scaled as i32)
}

/// Rounds every value to the fixed-point grid.
pub fn quantize(values: &[f32]) -> Result<Vec<i32>, QuantizeError> {
    values
        .iter()
        .enumerate()
        .map(|(index, &value)| {
            quantize_value(value).ok_or(if value.is_finite() {
                QuantizeError::OutOfRange { index, value }
            } else {
                QuantizeError::NonFinite { index }
            })
        })
        .collect()
}

/// The float a fixed-point integer stands for.
pub fn dequantize(quantized: i32) -> f32 {
    (f64::from(quantized) / f64::from(SCALE)) as f32
}

/// sha256 over the canonical encoding of a rounded tensor:
///
/// `"VERDICT-TENSOR-V1" || u8 len(dtype) || dtype || u32 LE scale ||
///  u8 rank || rank × u32 LE dim || n × i32 LE value [|| u32 LE len(text) || text]`
///
/// The scale is hashed too, so a change of precision can never collide with
/// an old answer. A generation's text follows its token ids, so the hash
/// binds what a client reads, not only the ids; an embedding has no text and
/// hashes as it always did.
pub fn tensor_hash(
    dtype: &str,
    scale: u32,
    shape: &[u32],
    data: &[i32],
    text: Option<&str>,
) -> [u8; 32] {
    let mut hasher = Sha256::new();
    hasher.update(TENSOR_HASH_DOMAIN);
    hasher.update([u8::try_from(dtype.len()).unwrap_or(u8::MAX)]);
    hasher.update(dtype.as_bytes());
    hasher.update(scale.to_le_bytes());
    hasher.update([u8::try_from(shape.len()).unwrap_or(u8::MAX)]);
    for dim in shape {
        hasher.update(dim.to_le_bytes());
    }
    for value in data {
        hasher.update(value.to_le_bytes());
    }
    if let Some(text) = text {
        hasher.update(u32::try_from(text.len()).unwrap_or(u32::MAX).to_le_bytes());
        hasher.update(text.as_bytes());
    }
    hasher.finalize().into()
}

/// sha256 over a response's probes, in order:
/// `"VERDICT-PROBES-V1" || u32 LE count || count × (u32 layer, u32 token, u32 dim, i32 value) LE`.
/// The miner signs it, so probes are evidence.
pub fn probe_digest(probes: &[(u32, u32, u32, i32)]) -> [u8; 32] {
    let mut hasher = Sha256::new();
    hasher.update(PROBE_DIGEST_DOMAIN);
    hasher.update(
        u32::try_from(probes.len())
            .unwrap_or(u32::MAX)
            .to_le_bytes(),
    );
    for (layer, token, dim, value) in probes {
        hasher.update(layer.to_le_bytes());
        hasher.update(token.to_le_bytes());
        hasher.update(dim.to_le_bytes());
        hasher.update(value.to_le_bytes());
    }
    hasher.finalize().into()
}

/// sha256 of the raw input bytes: the job's input hash.
pub fn input_hash(input: &str) -> [u8; 32] {
    Sha256::digest(input.as_bytes()).into()
}

/// Seed that picks a miner's probe positions: sha256(job id || miner pubkey).
///
/// It depends on the miner's own key, so two miners answering the same job
/// are probed at different places and one cannot reuse the other's probes.
pub fn probe_seed(job_id: &[u8; 32], miner_pubkey: &[u8; 32]) -> [u8; 32] {
    let mut hasher = Sha256::new();
    hasher.update(job_id);
    hasher.update(miner_pubkey);
    hasher.finalize().into()
}

/// Where the probes sit in a `tokens × width` hidden-state matrix:
/// probe `i` is at flat index `u64_le(sha256(seed || i)[..8]) mod (tokens × width)`.
/// Returns `(token, dim)` pairs; empty when the matrix is empty.
pub fn probe_positions(seed: &[u8; 32], tokens: usize, width: usize) -> Vec<(usize, usize)> {
    layered_probe_positions(seed, 1, tokens, width)
        .into_iter()
        .map(|(_, token, dim)| (token, dim))
        .collect()
}

/// The same rule over a generative model's residual stream, `layers × tokens
/// × width` (positions over prompt and generated tokens): probe `i` is at
/// flat index `u64_le(sha256(seed || i)[..8]) mod (layers × tokens × width)`,
/// returned as `(layer, token, dim)`.
pub fn layered_probe_positions(
    seed: &[u8; 32],
    layers: usize,
    tokens: usize,
    width: usize,
) -> Vec<(usize, usize, usize)> {
    let plane = (tokens as u64).saturating_mul(width as u64);
    let cells = plane.saturating_mul(layers as u64);
    if cells == 0 {
        return Vec::new();
    }
    (0..PROBE_COUNT as u8)
        .map(|i| {
            let digest: [u8; 32] = Sha256::new()
                .chain_update(seed)
                .chain_update([i])
                .finalize()
                .into();
            let mut word = [0u8; 8];
            word.copy_from_slice(&digest[..8]);
            // Modulo bias is below 2^-40 for any realistic matrix size.
            let flat = u64::from_le_bytes(word) % cells;
            let within = flat % plane;
            (
                (flat / plane) as usize,
                (within / width as u64) as usize,
                (within % width as u64) as usize,
            )
        })
        .collect()
}

/// Largest element-wise difference between two rounded tensors, or `None`
/// when their lengths differ.
pub fn max_abs_difference(a: &[i32], b: &[i32]) -> Option<u32> {
    if a.len() != b.len() {
        return None;
    }
    Some(
        a.iter()
            .zip(b)
            .map(|(x, y)| x.abs_diff(*y))
            .max()
            .unwrap_or(0),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rounding_is_half_away_from_zero_at_four_decimals() {
        assert_eq!(
            quantize(&[0.12344, 0.12346, -0.5, 1.0]).unwrap(),
            vec![1234, 1235, -5000, 10000]
        );
        assert_eq!(dequantize(1235), 0.1235);
    }

    #[test]
    fn non_finite_and_huge_values_are_rejected() {
        assert_eq!(
            quantize(&[0.0, f32::NAN]),
            Err(QuantizeError::NonFinite { index: 1 })
        );
        assert!(matches!(
            quantize(&[1e9]),
            Err(QuantizeError::OutOfRange { index: 0, .. })
        ));
    }

    #[test]
    fn hash_covers_shape_scale_and_data() {
        let base = tensor_hash(DTYPE_F32, SCALE, &[2], &[1, 2], None);
        assert_eq!(base, tensor_hash(DTYPE_F32, SCALE, &[2], &[1, 2], None));
        assert_ne!(base, tensor_hash(DTYPE_F32, SCALE, &[1, 2], &[1, 2], None));
        assert_ne!(base, tensor_hash(DTYPE_F32, 1000, &[2], &[1, 2], None));
        assert_ne!(base, tensor_hash(DTYPE_F32, SCALE, &[2], &[1, 3], None));
        let tokens = tensor_hash(DTYPE_TOKEN, 1, &[2], &[1, 2], Some("ab"));
        assert_ne!(
            tokens,
            tensor_hash(DTYPE_TOKEN, 1, &[2], &[1, 2], Some("ac"))
        );
        assert_ne!(tokens, tensor_hash(DTYPE_TOKEN, 1, &[2], &[1, 2], Some("")));
    }

    #[test]
    fn probe_digest_covers_order_and_every_field() {
        let base = probe_digest(&[(1, 2, 3, 4), (5, 6, 7, 8)]);
        assert_ne!(base, probe_digest(&[(5, 6, 7, 8), (1, 2, 3, 4)]));
        assert_ne!(base, probe_digest(&[(1, 2, 3, 4), (5, 6, 7, 9)]));
        assert_ne!(base, probe_digest(&[(0, 2, 3, 4), (5, 6, 7, 8)]));
        assert_ne!(probe_digest(&[]), base);
    }

    #[test]
    fn probe_positions_are_in_range_and_depend_on_the_miner() {
        let job = [7u8; 32];
        let a = probe_positions(&probe_seed(&job, &[1u8; 32]), 9, 384);
        let b = probe_positions(&probe_seed(&job, &[2u8; 32]), 9, 384);
        assert_eq!(a.len(), PROBE_COUNT);
        assert!(a.iter().all(|&(t, d)| t < 9 && d < 384));
        assert_ne!(a, b);
        assert_eq!(a, probe_positions(&probe_seed(&job, &[1u8; 32]), 9, 384));
        assert!(probe_positions(&[0u8; 32], 0, 384).is_empty());
        let layered = layered_probe_positions(&probe_seed(&job, &[1u8; 32]), 30, 9, 576);
        assert_eq!(layered.len(), PROBE_COUNT);
        assert!(layered.iter().all(|&(l, t, d)| l < 30 && t < 9 && d < 576));
    }
}
