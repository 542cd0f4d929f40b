//! The miner's wire protocol: request and response types shared by the
//! miner server, its clients (keepers) and dApp clients checking an answer,
//! and the one canonical message a miner signs.
//!
//! Encodings: Solana-style identifiers (job id, miner pubkey) travel as
//! base58 (a job id is also accepted as 64 hex characters); digests and
//! signatures travel as lowercase hex. Tensors travel as fixed-point
//! integers (see [`crate::repro`]), which are exactly what is hashed.

use std::fmt;
use std::str::FromStr;

use ed25519_dalek::{Signature, Signer, SigningKey, Verifier, VerifyingKey};
use serde::{Deserialize, Deserializer, Serialize, Serializer};

use crate::repro::{self, QuantizeError};
pub use crate::ErrorBody;

/// Domain tag that starts a signed miner response (version 2: it commits to
/// the probes and to whose seed the miner sampled with).
pub const RESPONSE_DOMAIN: &[u8] = b"VERDICT-MINER-RESPONSE-V2";
/// The first version's tag, still accepted in receipts stored before version 2.
pub const RESPONSE_DOMAIN_V1: &[u8] = b"VERDICT-MINER-RESPONSE-V1";

/// Longest model id, in bytes; the on-chain `Node` stores ids in 32 bytes.
pub const MAX_MODEL_ID_LEN: usize = 32;

/// Why a textual identifier could not be parsed.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ParseIdError {
    #[error("expected 32 bytes as base58 or 64 hex characters, got {0:?}")]
    JobId(String),
    #[error("expected 32 bytes as 64 hex characters, got {0:?}")]
    Digest(String),
    #[error("expected a base58 ed25519 public key, got {0:?}")]
    PublicKey(String),
    #[error("expected a 64-byte signature as 128 hex characters")]
    Signature,
    #[error("model id must be 1 to {MAX_MODEL_ID_LEN} printable ASCII characters without spaces, got {0:?}")]
    ModelId(String),
}

fn decode_base58_32(text: &str) -> Option<[u8; 32]> {
    let mut bytes = [0u8; 32];
    match bs58::decode(text).onto(&mut bytes) {
        Ok(32) => Some(bytes),
        _ => None,
    }
}

fn decode_hex_32(text: &str) -> Option<[u8; 32]> {
    let mut bytes = [0u8; 32];
    hex::decode_to_slice(text, &mut bytes).ok()?;
    Some(bytes)
}

macro_rules! string_serde {
    ($type:ty) => {
        impl Serialize for $type {
            fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
                serializer.collect_str(self)
            }
        }
        impl<'de> Deserialize<'de> for $type {
            fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
                let text = String::deserialize(deserializer)?;
                text.parse().map_err(serde::de::Error::custom)
            }
        }
    };
}

/// A job's id: the 32-byte address of its on-chain `Job` account.
#[derive(Clone, Copy, PartialEq, Eq, Hash)]
pub struct JobId(pub [u8; 32]);

impl FromStr for JobId {
    type Err = ParseIdError;
    fn from_str(text: &str) -> Result<Self, Self::Err> {
        // Base58 of 32 bytes is at most 44 characters, so 64 means hex.
        let bytes = if text.len() == 64 {
            decode_hex_32(text)
        } else {
            decode_base58_32(text)
        };
        bytes
            .map(JobId)
            .ok_or_else(|| ParseIdError::JobId(text.to_owned()))
    }
}

impl fmt::Display for JobId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&bs58::encode(self.0).into_string())
    }
}

impl fmt::Debug for JobId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "JobId({self})")
    }
}

string_serde!(JobId);

/// A sha256 digest (input hash, output hash).
#[derive(Clone, Copy, PartialEq, Eq, Hash)]
pub struct Digest32(pub [u8; 32]);

impl FromStr for Digest32 {
    type Err = ParseIdError;
    fn from_str(text: &str) -> Result<Self, Self::Err> {
        decode_hex_32(text)
            .map(Digest32)
            .ok_or_else(|| ParseIdError::Digest(text.to_owned()))
    }
}

impl fmt::Display for Digest32 {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&hex::encode(self.0))
    }
}

impl fmt::Debug for Digest32 {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Digest32({self})")
    }
}

string_serde!(Digest32);

/// A miner's ed25519 node signing key (public half), base58 like a Solana pubkey.
#[derive(Clone, Copy, PartialEq, Eq, Hash)]
pub struct MinerPubkey(pub [u8; 32]);

impl MinerPubkey {
    pub fn verifying_key(&self) -> Result<VerifyingKey, ParseIdError> {
        VerifyingKey::from_bytes(&self.0).map_err(|_| ParseIdError::PublicKey(self.to_string()))
    }
}

impl From<&SigningKey> for MinerPubkey {
    fn from(key: &SigningKey) -> Self {
        MinerPubkey(key.verifying_key().to_bytes())
    }
}

impl FromStr for MinerPubkey {
    type Err = ParseIdError;
    fn from_str(text: &str) -> Result<Self, Self::Err> {
        decode_base58_32(text)
            .map(MinerPubkey)
            .ok_or_else(|| ParseIdError::PublicKey(text.to_owned()))
    }
}

impl fmt::Display for MinerPubkey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&bs58::encode(self.0).into_string())
    }
}

impl fmt::Debug for MinerPubkey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "MinerPubkey({self})")
    }
}

string_serde!(MinerPubkey);

/// An ed25519 signature, hex encoded.
#[derive(Clone, Copy, PartialEq, Eq)]
pub struct SignatureHex(pub [u8; 64]);

impl FromStr for SignatureHex {
    type Err = ParseIdError;
    fn from_str(text: &str) -> Result<Self, Self::Err> {
        let mut bytes = [0u8; 64];
        hex::decode_to_slice(text, &mut bytes).map_err(|_| ParseIdError::Signature)?;
        Ok(SignatureHex(bytes))
    }
}

impl fmt::Display for SignatureHex {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&hex::encode(self.0))
    }
}

impl fmt::Debug for SignatureHex {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "SignatureHex({self})")
    }
}

string_serde!(SignatureHex);

/// A model id as the chain knows it: 1..=32 printable ASCII bytes, no spaces.
#[derive(Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct ModelId(String);

impl ModelId {
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl FromStr for ModelId {
    type Err = ParseIdError;
    fn from_str(text: &str) -> Result<Self, Self::Err> {
        let valid = !text.is_empty()
            && text.len() <= MAX_MODEL_ID_LEN
            && text.bytes().all(|byte| byte.is_ascii_graphic());
        if valid {
            Ok(ModelId(text.to_owned()))
        } else {
            Err(ParseIdError::ModelId(text.to_owned()))
        }
    }
}

impl fmt::Display for ModelId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl fmt::Debug for ModelId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "ModelId({})", self.0)
    }
}

string_serde!(ModelId);

/// POST /infer body.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct InferRequest {
    pub job_id: JobId,
    pub model_id: ModelId,
    /// UTF-8 text; sha256 of its bytes is the job's input hash.
    pub input: String,
    /// When given, the miner refuses the job unless sha256(input) equals it,
    /// so a keeper can bind the text it sends to the hash stored on chain.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub input_hash: Option<Digest32>,
    /// Unix time in milliseconds after which the answer is useless; the miner
    /// refuses to start a job whose deadline has passed.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub deadline_unix_ms: Option<u64>,
    /// Sample and probe with this miner's seed instead of the answering
    /// miner's own: how a keeper has another miner recompute an answer
    /// exactly (a shadow rerun, a co-signer's or a dispute voter's check).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sample_as: Option<MinerPubkey>,
}

impl InferRequest {
    pub fn new(job_id: JobId, model_id: ModelId, input: impl Into<String>) -> Self {
        InferRequest {
            job_id,
            model_id,
            input: input.into(),
            input_hash: None,
            deadline_unix_ms: None,
            sample_as: None,
        }
    }

    /// sha256 of the input bytes.
    pub fn computed_input_hash(&self) -> Digest32 {
        Digest32(repro::input_hash(&self.input))
    }
}

/// The model output, rounded: `value = data[i] / scale`, row-major in
/// `shape`; for a generation, the token ids (dtype "token", scale 1) and
/// their decoded text.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct OutputTensor {
    pub shape: Vec<u32>,
    /// "f32" for an embedding, "token" for a generation.
    pub dtype: String,
    pub scale: u32,
    pub data: Vec<i32>,
    /// A generation's text: the token ids decoded. Hashed with them.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub text: Option<String>,
}

impl OutputTensor {
    /// Rounds a 1-D f32 output onto the fixed-point grid.
    pub fn from_f32(values: &[f32]) -> Result<Self, QuantizeError> {
        Ok(OutputTensor {
            shape: vec![u32::try_from(values.len()).expect("output length fits in u32")],
            dtype: repro::DTYPE_F32.to_owned(),
            scale: repro::SCALE,
            data: repro::quantize(values)?,
            text: None,
        })
    }

    /// A generation: token ids and the text they decode to.
    pub fn from_tokens(ids: &[u32], text: String) -> Self {
        OutputTensor {
            shape: vec![u32::try_from(ids.len()).expect("token count fits in u32")],
            dtype: repro::DTYPE_TOKEN.to_owned(),
            scale: 1,
            data: ids.iter().map(|&id| id as i32).collect(),
            text: Some(text),
        }
    }

    /// The token ids of a well-formed generation.
    pub fn tokens(&self) -> Option<Vec<u32>> {
        (self.dtype == repro::DTYPE_TOKEN && self.is_well_formed())
            .then(|| self.data.iter().map(|&id| id as u32).collect())
    }

    /// The canonical hash of this tensor (see [`repro::tensor_hash`]).
    pub fn hash(&self) -> Digest32 {
        Digest32(repro::tensor_hash(
            &self.dtype,
            self.scale,
            &self.shape,
            &self.data,
            self.text.as_deref(),
        ))
    }

    /// The rounded values as floats.
    pub fn values(&self) -> Vec<f32> {
        let scale = f64::from(self.scale.max(1));
        self.data
            .iter()
            .map(|&value| (f64::from(value) / scale) as f32)
            .collect()
    }

    /// Whether shape, dtype and scale describe `data` consistently.
    pub fn is_well_formed(&self) -> bool {
        let elements = self
            .shape
            .iter()
            .try_fold(1u64, |acc, &dim| acc.checked_mul(u64::from(dim)));
        let consistent =
            self.shape.len() <= usize::from(u8::MAX) && elements == Some(self.data.len() as u64);
        let typed = match self.dtype.as_str() {
            repro::DTYPE_F32 => self.scale > 0 && self.text.is_none(),
            repro::DTYPE_TOKEN => {
                self.scale == 1
                    && self.shape.len() == 1
                    && self.text.is_some()
                    && self.data.iter().all(|&id| id >= 0)
            }
            _ => false,
        };
        consistent && typed
    }
}

/// One sampled hidden-state value, rounded like the output. An embedding
/// model has one layer of hidden states (`layer` 0); a generative model's
/// probes sit in its residual stream after block `layer`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct Probe {
    #[serde(default)]
    pub layer: u32,
    pub token: u32,
    pub dim: u32,
    pub value: i32,
}

/// The digest a miner signs over its probes ([`repro::probe_digest`]).
pub fn probe_digest(probes: &[Probe]) -> Digest32 {
    let fields: Vec<(u32, u32, u32, i32)> = probes
        .iter()
        .map(|probe| (probe.layer, probe.token, probe.dim, probe.value))
        .collect();
    Digest32(repro::probe_digest(&fields))
}

/// What version 2 of the signed message adds: the probes and whose seed the
/// miner sampled and probed with.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ProbeCommitment {
    pub probe_digest: Digest32,
    pub sampled_as: MinerPubkey,
}

/// The exact bytes a miner signs (version 2):
///
/// `"VERDICT-MINER-RESPONSE-V2" || job id (32) || u8 len(model id) || model id ||
///  input hash (32) || output hash (32) || probe digest (32) || sampled as (32) ||
///  load time ms (u32 LE) || inference time µs (u32 LE)`
///
/// Without a [`ProbeCommitment`] it builds version 1 (tag `-V1`, neither
/// field), which receipts stored before version 2 carry. The keeper rebuilds
/// this message to check a miner's signature, and may forward it to the
/// chain's ed25519 program as evidence.
pub fn response_message(
    job_id: &JobId,
    model_id: &ModelId,
    input_hash: &Digest32,
    output_hash: &Digest32,
    commitment: Option<&ProbeCommitment>,
    load_time_ms: u32,
    inference_time_us: u32,
) -> Vec<u8> {
    let model_bytes = model_id.as_str().as_bytes();
    let mut message = Vec::with_capacity(
        RESPONSE_DOMAIN.len() + 32 + 1 + model_bytes.len() + 32 + 32 + 64 + 4 + 4,
    );
    message.extend_from_slice(if commitment.is_some() {
        RESPONSE_DOMAIN
    } else {
        RESPONSE_DOMAIN_V1
    });
    message.extend_from_slice(&job_id.0);
    // ModelId guarantees at most 32 bytes, so the length always fits a u8.
    message.push(model_bytes.len() as u8);
    message.extend_from_slice(model_bytes);
    message.extend_from_slice(&input_hash.0);
    message.extend_from_slice(&output_hash.0);
    if let Some(commitment) = commitment {
        message.extend_from_slice(&commitment.probe_digest.0);
        message.extend_from_slice(&commitment.sampled_as.0);
    }
    message.extend_from_slice(&load_time_ms.to_le_bytes());
    message.extend_from_slice(&inference_time_us.to_le_bytes());
    message
}

/// Why a response does not check out on its own.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum VerifyError {
    #[error("output tensor is malformed (shape, dtype or scale do not match the data)")]
    MalformedOutput,
    #[error("output_hash does not match the output tensor")]
    OutputHashMismatch,
    #[error("probe_digest does not match the probes")]
    ProbeDigestMismatch,
    #[error("miner public key is not a valid ed25519 point")]
    InvalidPublicKey,
    #[error("signature does not verify against the miner public key")]
    BadSignature,
}

/// A miner's signed answer to one [`InferRequest`].
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct InferResponse {
    pub job_id: JobId,
    pub model_id: ModelId,
    pub input_hash: Digest32,
    pub output: OutputTensor,
    pub output_hash: Digest32,
    pub probes: Vec<Probe>,
    /// [`probe_digest`] of `probes`, signed.
    pub probe_digest: Digest32,
    /// Whose seed chose the samples and the probe positions: the miner's own
    /// key, or the request's `sample_as`.
    pub sampled_as: MinerPubkey,
    /// Time to get the model ready for this request: the cold load on first
    /// use, about 0 once it is loaded.
    pub load_time_ms: u32,
    /// Time the forward pass (for a generation, every step) took, in microseconds.
    pub inference_time_us: u32,
    pub miner_pubkey: MinerPubkey,
    /// ed25519 over [`response_message`].
    pub signature: SignatureHex,
}

/// Everything in a response except what signing adds.
#[derive(Debug, Clone)]
pub struct UnsignedResponse {
    pub job_id: JobId,
    pub model_id: ModelId,
    pub input_hash: Digest32,
    pub output: OutputTensor,
    pub probes: Vec<Probe>,
    /// Whose seed the miner used (see [`InferResponse::sampled_as`]).
    pub sampled_as: MinerPubkey,
    pub load_time_ms: u32,
    pub inference_time_us: u32,
}

impl UnsignedResponse {
    /// Hashes the output and the probes and signs the canonical message with the node key.
    pub fn sign(self, key: &SigningKey) -> InferResponse {
        let output_hash = self.output.hash();
        let commitment = ProbeCommitment {
            probe_digest: probe_digest(&self.probes),
            sampled_as: self.sampled_as,
        };
        let message = response_message(
            &self.job_id,
            &self.model_id,
            &self.input_hash,
            &output_hash,
            Some(&commitment),
            self.load_time_ms,
            self.inference_time_us,
        );
        InferResponse {
            job_id: self.job_id,
            model_id: self.model_id,
            input_hash: self.input_hash,
            output: self.output,
            output_hash,
            probes: self.probes,
            probe_digest: commitment.probe_digest,
            sampled_as: commitment.sampled_as,
            load_time_ms: self.load_time_ms,
            inference_time_us: self.inference_time_us,
            miner_pubkey: MinerPubkey::from(key),
            signature: SignatureHex(key.sign(&message).to_bytes()),
        }
    }
}

impl InferResponse {
    /// The bytes [`InferResponse::signature`] signs.
    pub fn message(&self) -> Vec<u8> {
        response_message(
            &self.job_id,
            &self.model_id,
            &self.input_hash,
            &self.output_hash,
            Some(&self.commitment()),
            self.load_time_ms,
            self.inference_time_us,
        )
    }

    /// The probe digest and seed identity this response signs.
    pub fn commitment(&self) -> ProbeCommitment {
        ProbeCommitment {
            probe_digest: self.probe_digest,
            sampled_as: self.sampled_as,
        }
    }

    /// Generated tokens per second (0 for an embedding or an instant answer).
    pub fn tokens_per_second(&self) -> f64 {
        match self.output.tokens() {
            Some(tokens) if self.inference_time_us > 0 => {
                tokens.len() as f64 * 1e6 / f64::from(self.inference_time_us)
            }
            _ => 0.0,
        }
    }

    /// Checks that the output hash matches the tensor and that the miner's
    /// key signed the canonical message. Does not check that the output is
    /// *correct*: a validator compares it with its own run of the model.
    pub fn verify(&self) -> Result<(), VerifyError> {
        if !self.output.is_well_formed() {
            return Err(VerifyError::MalformedOutput);
        }
        if self.output.hash() != self.output_hash {
            return Err(VerifyError::OutputHashMismatch);
        }
        if probe_digest(&self.probes) != self.probe_digest {
            return Err(VerifyError::ProbeDigestMismatch);
        }
        self.receipt().verify(&self.job_id, &self.output_hash)
    }

    /// The signed fields a client needs besides the output to check it.
    pub fn receipt(&self) -> MinerReceipt {
        MinerReceipt {
            model_id: self.model_id.clone(),
            input_hash: self.input_hash,
            load_time_ms: self.load_time_ms,
            inference_time_us: self.inference_time_us,
            miner_pubkey: self.miner_pubkey,
            signature: self.signature,
            probe_digest: Some(self.probe_digest),
            sampled_as: Some(self.sampled_as),
        }
    }
}

/// Every signed field of an [`InferResponse`] except the job id and the
/// output (which the client already holds): what a keeper hands a client so
/// it can check, without trusting the keeper, that the miner signed the output.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct MinerReceipt {
    pub model_id: ModelId,
    pub input_hash: Digest32,
    pub load_time_ms: u32,
    pub inference_time_us: u32,
    pub miner_pubkey: MinerPubkey,
    pub signature: SignatureHex,
    /// Version 2 fields; absent from receipts signed before version 2.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub probe_digest: Option<Digest32>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sampled_as: Option<MinerPubkey>,
}

impl MinerReceipt {
    /// The version 2 commitment, when the receipt has one.
    pub fn commitment(&self) -> Option<ProbeCommitment> {
        Some(ProbeCommitment {
            probe_digest: self.probe_digest?,
            sampled_as: self.sampled_as?,
        })
    }

    /// Checks that `miner_pubkey` signed the answer `output_hash` to `job_id`.
    pub fn verify(&self, job_id: &JobId, output_hash: &Digest32) -> Result<(), VerifyError> {
        let key = self
            .miner_pubkey
            .verifying_key()
            .map_err(|_| VerifyError::InvalidPublicKey)?;
        let message = response_message(
            job_id,
            &self.model_id,
            &self.input_hash,
            output_hash,
            self.commitment().as_ref(),
            self.load_time_ms,
            self.inference_time_us,
        );
        key.verify(&message, &Signature::from_bytes(&self.signature.0))
            .map_err(|_| VerifyError::BadSignature)
    }
}

/// GET /health body.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct HealthResponse {
    pub status: String,
    pub miner_pubkey: MinerPubkey,
    pub models: Vec<ModelId>,
    pub version: String,
}

/// One entry of GET /models.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ModelInfo {
    pub id: ModelId,
    /// What the output means, e.g. "sentence-embedding".
    pub task: String,
    pub output_dim: u32,
    /// Whether the weights are in memory (the next request has no cold load).
    pub loaded: bool,
}

/// GET /models body.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ModelsResponse {
    pub models: Vec<ModelInfo>,
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sample_response(key: &SigningKey) -> InferResponse {
        UnsignedResponse {
            job_id: JobId([3u8; 32]),
            model_id: "test-projection-v1".parse().unwrap(),
            input_hash: Digest32(repro::input_hash("hello")),
            output: OutputTensor::from_f32(&[0.5, -0.25]).unwrap(),
            probes: vec![Probe {
                layer: 0,
                token: 0,
                dim: 1,
                value: 42,
            }],
            sampled_as: MinerPubkey::from(key),
            load_time_ms: 3,
            inference_time_us: 120,
        }
        .sign(key)
    }

    #[test]
    fn job_ids_parse_from_base58_and_hex_and_print_as_base58() {
        let id = JobId([0xab; 32]);
        let base58 = id.to_string();
        assert_eq!(base58.parse::<JobId>().unwrap(), id);
        assert_eq!(hex::encode(id.0).parse::<JobId>().unwrap(), id);
        assert!("not-a-key".parse::<JobId>().is_err());
        assert!("abcd".parse::<JobId>().is_err());
    }

    #[test]
    fn model_ids_follow_the_on_chain_rules() {
        assert!("all-minilm-l6-v2".parse::<ModelId>().is_ok());
        assert!("".parse::<ModelId>().is_err());
        assert!("has space".parse::<ModelId>().is_err());
        assert!("x".repeat(33).parse::<ModelId>().is_err());
    }

    #[test]
    fn message_layout_is_fixed() {
        let message = response_message(
            &JobId([1; 32]),
            &"m".parse().unwrap(),
            &Digest32([2; 32]),
            &Digest32([3; 32]),
            Some(&ProbeCommitment {
                probe_digest: Digest32([5; 32]),
                sampled_as: MinerPubkey([6; 32]),
            }),
            0x0102_0304,
            0x0506_0708,
        );
        let mut expected = RESPONSE_DOMAIN.to_vec();
        expected.extend([1u8; 32]);
        expected.extend([1u8, b'm']);
        expected.extend([2u8; 32]);
        expected.extend([3u8; 32]);
        expected.extend([5u8; 32]);
        expected.extend([6u8; 32]);
        expected.extend([4, 3, 2, 1, 8, 7, 6, 5]);
        assert_eq!(message, expected);
        let v1 = response_message(
            &JobId([1; 32]),
            &"m".parse().unwrap(),
            &Digest32([2; 32]),
            &Digest32([3; 32]),
            None,
            0x0102_0304,
            0x0506_0708,
        );
        assert!(v1.starts_with(RESPONSE_DOMAIN_V1));
        assert_eq!(v1.len(), expected.len() - 64);
    }

    #[test]
    fn signed_response_verifies_and_survives_json() {
        let key = SigningKey::from_bytes(&[9u8; 32]);
        let response = sample_response(&key);
        response.verify().unwrap();
        let json = serde_json::to_string(&response).unwrap();
        let back: InferResponse = serde_json::from_str(&json).unwrap();
        assert_eq!(back, response);
        back.verify().unwrap();
    }

    #[test]
    fn tampering_breaks_verification() {
        let key = SigningKey::from_bytes(&[9u8; 32]);
        let response = sample_response(&key);

        let mut slower = response.clone();
        slower.inference_time_us += 1;
        assert_eq!(slower.verify(), Err(VerifyError::BadSignature));

        let mut altered_output = response.clone();
        altered_output.output.data[0] += 1;
        assert_eq!(
            altered_output.verify(),
            Err(VerifyError::OutputHashMismatch)
        );

        let mut rehashed = altered_output.clone();
        rehashed.output_hash = rehashed.output.hash();
        assert_eq!(rehashed.verify(), Err(VerifyError::BadSignature));

        let mut other_probe = response.clone();
        other_probe.probes[0].value += 1;
        assert_eq!(other_probe.verify(), Err(VerifyError::ProbeDigestMismatch));
        let mut redigested = other_probe.clone();
        redigested.probe_digest = probe_digest(&redigested.probes);
        assert_eq!(redigested.verify(), Err(VerifyError::BadSignature));

        let mut other_seed = response.clone();
        other_seed.sampled_as = MinerPubkey([1; 32]);
        assert_eq!(other_seed.verify(), Err(VerifyError::BadSignature));

        let mut stripped = response.receipt();
        stripped.probe_digest = None;
        stripped.sampled_as = None;
        assert_eq!(
            stripped.verify(&response.job_id, &response.output_hash),
            Err(VerifyError::BadSignature)
        );

        let mut other_signer = response.clone();
        other_signer.miner_pubkey = MinerPubkey::from(&SigningKey::from_bytes(&[8u8; 32]));
        assert_eq!(other_signer.verify(), Err(VerifyError::BadSignature));
    }
}
