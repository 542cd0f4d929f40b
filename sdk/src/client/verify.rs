//! Checking a keeper's answer against the chain, trusting the keeper for
//! nothing: the output must hash to what the committee attested on chain,
//! and the miner's own key (as its Node records it) must have signed it.

use anchor_lang::prelude::Pubkey;
use sha2::{Digest, Sha256};
use verdict::state::{Job, JobStatus, Node};
use verdict_wire::keeper::JobView;
use verdict_wire::miner::{Digest32, JobId, OutputTensor};

/// An output that passed every check.
#[derive(Clone, Debug, PartialEq)]
pub struct Verified {
    pub job: Pubkey,
    pub output: OutputTensor,
    pub output_hash: [u8; 32],
    /// The miner's Node account.
    pub miner: Pubkey,
    /// The key that signed the output (the Node's signing key).
    pub miner_key: Pubkey,
    /// Response time the committee recorded on chain.
    pub response_ms: u32,
    /// `Solved`, or `Paid` once the payout was claimed.
    pub status: JobStatus,
}

impl Verified {
    /// The output's values as floats.
    pub fn values(&self) -> Vec<f32> {
        self.output.values()
    }
}

/// Why an answer was not accepted. Never a result: a client gets either a
/// verified output or one of these.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum VerificationError {
    #[error("sha256 of the input is not the input hash the job committed to")]
    InputHash,
    #[error("the job is {0:?} on chain, not solved")]
    NotSolved(JobStatus),
    #[error("the keeper reported the job done without an output")]
    NoOutput,
    #[error("the output tensor is malformed (shape, dtype or scale do not match its data)")]
    MalformedOutput,
    #[error("the output hashes to {got} but the chain recorded {recorded}")]
    OutputHash { got: String, recorded: String },
    #[error("the keeper names miner {claimed}, the chain {recorded}")]
    WrongMiner { claimed: String, recorded: String },
    #[error("the keeper gave no miner receipt to check the signature with")]
    NoReceipt,
    #[error("the miner's receipt is for another {0}")]
    ReceiptMismatch(&'static str),
    #[error("the receipt's key {claimed} is not the miner's signing key {recorded}")]
    WrongMinerKey { claimed: String, recorded: String },
    #[error("the miner's signature over the output does not verify")]
    BadSignature,
}

/// The model id as the wire spells it: the on-chain id without its zero padding.
pub fn model_name(model: &[u8; verdict::constants::MODEL_ID_LEN]) -> String {
    let end = model.iter().position(|&b| b == 0).unwrap_or(model.len());
    String::from_utf8_lossy(&model[..end]).into_owned()
}

/// Checks `view` (a keeper's answer for `job_key`) against the job and its
/// miner's Node as the chain holds them, and the input the client sent.
pub fn verify(
    job_key: &Pubkey,
    job: &Job,
    miner: &Node,
    input: &str,
    view: &JobView,
) -> Result<Verified, VerificationError> {
    let input_hash: [u8; 32] = Sha256::digest(input.as_bytes()).into();
    if input_hash != job.input_hash {
        return Err(VerificationError::InputHash);
    }
    if !matches!(job.status, JobStatus::Solved | JobStatus::Paid) {
        return Err(VerificationError::NotSolved(job.status));
    }
    let output = view.output.clone().ok_or(VerificationError::NoOutput)?;
    if !output.is_well_formed() {
        return Err(VerificationError::MalformedOutput);
    }
    let hash = output.hash();
    let claimed = view.output_hash.unwrap_or(hash);
    if hash.0 != job.output_hash || claimed != hash {
        return Err(VerificationError::OutputHash {
            got: hash.to_string(),
            recorded: Digest32(job.output_hash).to_string(),
        });
    }
    if let Some(claimed) = &view.miner {
        if *claimed != job.miner.to_string() {
            return Err(VerificationError::WrongMiner {
                claimed: claimed.clone(),
                recorded: job.miner.to_string(),
            });
        }
    }
    let receipt = view.receipt.as_ref().ok_or(VerificationError::NoReceipt)?;
    if receipt.input_hash.0 != job.input_hash {
        return Err(VerificationError::ReceiptMismatch("input"));
    }
    if receipt.model_id.as_str() != model_name(&job.model) {
        return Err(VerificationError::ReceiptMismatch("model"));
    }
    if receipt.miner_pubkey.0 != miner.signing_key.to_bytes() {
        return Err(VerificationError::WrongMinerKey {
            claimed: receipt.miner_pubkey.to_string(),
            recorded: miner.signing_key.to_string(),
        });
    }
    receipt
        .verify(&JobId(job_key.to_bytes()), &hash)
        .map_err(|_| VerificationError::BadSignature)?;
    Ok(Verified {
        job: *job_key,
        output,
        output_hash: hash.0,
        miner: job.miner,
        miner_key: miner.signing_key,
        response_ms: job.response_ms,
        status: job.status,
    })
}

#[cfg(test)]
mod tests {
    use anchor_lang::{AccountDeserialize, Discriminator, Space};
    use ed25519_dalek::SigningKey;
    use verdict_wire::keeper::JobProgress;
    use verdict_wire::miner::{ModelId, UnsignedResponse};

    use super::*;

    /// An all-zero account of type `T`, as a fresh `init` leaves it.
    fn zeroed<T: AccountDeserialize + Discriminator + Space>() -> T {
        let mut data = T::DISCRIMINATOR.to_vec();
        data.resize(8 + T::INIT_SPACE, 0);
        T::try_deserialize(&mut data.as_slice()).unwrap()
    }

    const INPUT: &str = "A man is eating pasta.";

    /// A solved job, its miner's Node, and the keeper's honest view of it.
    fn honest() -> (Pubkey, Job, Node, JobView) {
        let key = SigningKey::from_bytes(&[7; 32]);
        let job_key = Pubkey::new_from_array([3; 32]);
        let model: ModelId = "test-projection-v1".parse().unwrap();
        let response = UnsignedResponse {
            job_id: JobId(job_key.to_bytes()),
            model_id: model.clone(),
            input_hash: Digest32(Sha256::digest(INPUT).into()),
            output: OutputTensor::from_f32(&[0.25, -0.5, 0.125]).unwrap(),
            probes: vec![],
            sampled_as: verdict_wire::miner::MinerPubkey::from(&key),
            load_time_ms: 0,
            inference_time_us: 42,
        }
        .sign(&key);
        let mut job: Job = zeroed();
        job.input_hash = response.input_hash.0;
        job.output_hash = response.output_hash.0;
        job.model = verdict::state::model_id(model.as_str()).unwrap();
        job.status = JobStatus::Solved;
        job.miner = Pubkey::new_from_array([9; 32]);
        let mut node: Node = zeroed();
        node.signing_key = Pubkey::new_from_array(key.verifying_key().to_bytes());
        let view = JobView {
            job: JobId(job_key.to_bytes()),
            status: JobProgress::Done,
            miner: Some(job.miner.to_string()),
            output: Some(response.output.clone()),
            output_hash: Some(response.output_hash),
            response_ms: Some(5),
            receipt: Some(response.receipt()),
            error: None,
            miners_failed: 0,
        };
        (job_key, job, node, view)
    }

    #[test]
    fn an_honest_answer_verifies() {
        let (key, job, node, view) = honest();
        let verified = verify(&key, &job, &node, INPUT, &view).unwrap();
        assert_eq!(verified.values(), vec![0.25, -0.5, 0.125]);
        assert_eq!(verified.miner_key, node.signing_key);
    }

    #[test]
    fn every_tampering_is_refused() {
        let (key, job, node, view) = honest();
        let check = |job: &Job, node: &Node, input: &str, view: &JobView| {
            verify(&key, job, node, input, view).unwrap_err()
        };
        assert_eq!(
            check(&job, &node, "another input", &view),
            VerificationError::InputHash
        );

        let mut changed = view.clone();
        changed.output.as_mut().unwrap().data[0] += 1;
        assert!(matches!(
            check(&job, &node, INPUT, &changed),
            VerificationError::OutputHash { .. }
        ));
        // Rehashed to match itself: still not what the chain recorded.
        changed.output_hash = Some(changed.output.as_ref().unwrap().hash());
        assert!(matches!(
            check(&job, &node, INPUT, &changed),
            VerificationError::OutputHash { .. }
        ));

        let mut malformed = view.clone();
        malformed.output.as_mut().unwrap().shape = vec![4];
        assert_eq!(
            check(&job, &node, INPUT, &malformed),
            VerificationError::MalformedOutput
        );

        let mut unsigned = view.clone();
        unsigned.receipt = None;
        assert_eq!(
            check(&job, &node, INPUT, &unsigned),
            VerificationError::NoReceipt
        );

        let mut forged = view.clone();
        forged.receipt.as_mut().unwrap().signature.0[0] ^= 1;
        assert_eq!(
            check(&job, &node, INPUT, &forged),
            VerificationError::BadSignature
        );

        // Re-signed by a key that is not the miner's on-chain signing key.
        let mut other_key = view.clone();
        let impostor = SigningKey::from_bytes(&[8; 32]);
        other_key.receipt.as_mut().unwrap().miner_pubkey = (&impostor).into();
        assert!(matches!(
            check(&job, &node, INPUT, &other_key),
            VerificationError::WrongMinerKey { .. }
        ));

        let mut slower = view.clone();
        slower.receipt.as_mut().unwrap().inference_time_us += 1;
        assert_eq!(
            check(&job, &node, INPUT, &slower),
            VerificationError::BadSignature
        );

        let mut other_miner = view.clone();
        other_miner.miner = Some(Pubkey::new_unique().to_string());
        assert!(matches!(
            check(&job, &node, INPUT, &other_miner),
            VerificationError::WrongMiner { .. }
        ));

        let mut refunded = job.clone();
        refunded.status = JobStatus::Refunded;
        assert_eq!(
            check(&refunded, &node, INPUT, &view),
            VerificationError::NotSolved(JobStatus::Refunded)
        );

        let mut other_model = job.clone();
        other_model.model = verdict::state::model_id("all-minilm-l6-v2").unwrap();
        assert_eq!(
            check(&other_model, &node, INPUT, &view),
            VerificationError::ReceiptMismatch("model")
        );
    }
}
