//! Checking a keeper's answer against the chain, trusting the keeper for
//! nothing: the output must hash to what the committee attested on chain,
//! and the miner's own key (as its Node records it) must have signed it.

use anchor_lang::prelude::Pubkey;
use sha2::{Digest, Sha256};
use verdict::state::{Job, JobStatus, Node};
use verdict_wire::keeper::JobView;
use verdict_wire::miner::{Digest32, JobId, MinerReceipt, OutputTensor};
use verdict_wire::models::{self, Task};

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
    /// What the miner signed besides the job and the output (model, input
    /// hash, load and inference times, probe digest and seed identity).
    pub receipt: MinerReceipt,
}

impl Verified {
    /// The output's values as floats (for a generation, the token ids).
    pub fn values(&self) -> Vec<f32> {
        self.output.values()
    }

    /// Whether the output is a generation (token ids and their text).
    pub fn is_generation(&self) -> bool {
        self.output.tokens().is_some()
    }

    /// A generation's text, as the miner signed it (the output hash covers it).
    pub fn text(&self) -> Option<&str> {
        self.output.text.as_deref()
    }

    /// A generation's token ids.
    pub fn tokens(&self) -> Option<Vec<u32>> {
        self.output.tokens()
    }

    /// Generated tokens per second over the signed inference time; `None`
    /// for an embedding or when the miner reported no time.
    pub fn tokens_per_second(&self) -> Option<f64> {
        let tokens = self.output.tokens()?;
        (self.receipt.inference_time_us > 0)
            .then(|| tokens.len() as f64 * 1e6 / f64::from(self.receipt.inference_time_us))
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
    /// The output is not the kind the job's (known) model produces: values
    /// for a generative model, token ids outside its vocabulary, or a
    /// generation from an embedding model.
    #[error("the output is not what model {0} produces")]
    WrongOutputKind(String),
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
    verify_output(job_key, job, miner, view)
}

/// [`verify`] without the input: every check of the output, its hash on
/// chain and the miner's signature (which covers the job's on-chain input
/// hash), for a reader who does not hold the input text.
pub fn verify_output(
    job_key: &Pubkey,
    job: &Job,
    miner: &Node,
    view: &JobView,
) -> Result<Verified, VerificationError> {
    if !matches!(job.status(), JobStatus::Solved | JobStatus::Paid) {
        return Err(VerificationError::NotSolved(job.status()));
    }
    let output = view.output.clone().ok_or(VerificationError::NoOutput)?;
    if !output.is_well_formed() {
        return Err(VerificationError::MalformedOutput);
    }
    let model = model_name(&job.model);
    if let Some(spec) = models::spec(&model) {
        let fits = match (spec.task, output.tokens()) {
            (Task::Generation(shape), Some(tokens)) => tokens.iter().all(|&id| id < shape.vocab),
            (Task::Embedding { .. }, None) => true,
            _ => false,
        };
        if !fits {
            return Err(VerificationError::WrongOutputKind(model));
        }
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
    if receipt.model_id.as_str() != model {
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
        status: job.status(),
        receipt: receipt.clone(),
    })
}

#[cfg(test)]
mod tests {
    use ed25519_dalek::SigningKey;
    use verdict_wire::generation::GenerationInput;
    use verdict_wire::keeper::JobProgress;
    use verdict_wire::miner::{
        response_message, MinerPubkey, ModelId, Probe, ProbeCommitment, UnsignedResponse,
    };
    use verdict_wire::models::SMOLLM2_ID;

    use super::*;

    const INPUT: &str = "A man is eating pasta.";

    /// A solved job, its miner's Node, and the keeper's honest view of it.
    fn honest() -> (Pubkey, Job, Node, JobView) {
        answered(
            "test-projection-v1",
            INPUT,
            OutputTensor::from_f32(&[0.25, -0.5, 0.125]).unwrap(),
            vec![],
            42,
        )
    }

    /// A generation prompt with every kind of character JSON escapes.
    fn generation_input() -> GenerationInput {
        GenerationInput {
            prompt: "Say \"hi\"\\ \n\t\u{1}\u{1f} é — 🦀 </script> \u{7f}\u{2028}".into(),
            max_tokens: 5,
            top_k: 40,
            temperature_milli: 700,
        }
    }

    fn generated() -> (Pubkey, Job, Node, JobView) {
        answered(
            SMOLLM2_ID,
            &generation_input().to_input(),
            OutputTensor::from_tokens(&[19556, 28, 1073, 314, 2], "Hello, how are you".into()),
            vec![Probe {
                layer: 7,
                token: 3,
                dim: 100,
                value: -1234,
            }],
            250_000,
        )
    }

    /// A solved job of `model` on `input`, answered `output`, as above.
    fn answered(
        model: &str,
        input: &str,
        output: OutputTensor,
        probes: Vec<Probe>,
        inference_time_us: u32,
    ) -> (Pubkey, Job, Node, JobView) {
        let key = SigningKey::from_bytes(&[7; 32]);
        let job_key = Pubkey::new_from_array([3; 32]);
        let model: ModelId = model.parse().unwrap();
        let response = UnsignedResponse {
            job_id: JobId(job_key.to_bytes()),
            model_id: model.clone(),
            input_hash: Digest32(Sha256::digest(input).into()),
            output,
            probes,
            sampled_as: verdict_wire::miner::MinerPubkey::from(&key),
            load_time_ms: 0,
            inference_time_us,
        }
        .sign(&key);
        let mut job = Job::default();
        job.input_hash = response.input_hash.0;
        job.output_hash = response.output_hash.0;
        job.model = verdict::state::model_id(model.as_str()).unwrap();
        job.set_status(JobStatus::Solved);
        job.miner = Pubkey::new_from_array([9; 32]);
        let mut node = Node::default();
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

        let mut refunded = job;
        refunded.set_status(JobStatus::Refunded);
        assert_eq!(
            check(&refunded, &node, INPUT, &view),
            VerificationError::NotSolved(JobStatus::Refunded)
        );

        let mut other_model = job;
        other_model.model = verdict::state::model_id("all-minilm-l6-v2").unwrap();
        assert_eq!(
            check(&other_model, &node, INPUT, &view),
            VerificationError::ReceiptMismatch("model")
        );
    }

    #[test]
    fn a_generation_verifies_with_its_text_and_tokens() {
        let input = generation_input().to_input();
        let (key, job, node, view) = generated();
        let verified = verify(&key, &job, &node, &input, &view).unwrap();
        assert!(verified.is_generation());
        assert_eq!(verified.text(), Some("Hello, how are you"));
        assert_eq!(verified.tokens(), Some(vec![19556, 28, 1073, 314, 2]));
        // 5 tokens in 0.25 s.
        assert_eq!(verified.tokens_per_second(), Some(20.0));
        assert!(verified.receipt.probe_digest.is_some());
        // Without the input: the same result, the input bound by the receipt.
        assert_eq!(verify_output(&key, &job, &node, &view).unwrap(), verified);
        let (key, job, node, view) = honest();
        let embedding = verify(&key, &job, &node, INPUT, &view).unwrap();
        assert_eq!(embedding.text(), None);
        assert_eq!(embedding.tokens_per_second(), None);
    }

    #[test]
    fn a_generation_with_other_text_or_commitments_is_refused() {
        let input = generation_input().to_input();
        let (key, job, node, view) = generated();
        let check = |view: &JobView| verify(&key, &job, &node, &input, view).unwrap_err();

        // Same token ids, other text: the output hash covers the text.
        let mut retexted = view.clone();
        retexted.output.as_mut().unwrap().text = Some("Send all your tokens to me".into());
        assert!(matches!(
            check(&retexted),
            VerificationError::OutputHash { .. }
        ));
        retexted.output_hash = Some(retexted.output.as_ref().unwrap().hash());
        assert!(matches!(
            check(&retexted),
            VerificationError::OutputHash { .. }
        ));
        // Text dropped: no longer a well-formed generation.
        let mut untexted = view.clone();
        untexted.output.as_mut().unwrap().text = None;
        assert_eq!(check(&untexted), VerificationError::MalformedOutput);

        // The version 2 commitment is signed: neither field can change, and
        // dropping both (a version 1 message) does not verify either.
        let mut other_digest = view.clone();
        other_digest.receipt.as_mut().unwrap().probe_digest = Some(Digest32([0xee; 32]));
        assert_eq!(check(&other_digest), VerificationError::BadSignature);
        let mut other_seed = view.clone();
        other_seed.receipt.as_mut().unwrap().sampled_as = Some(MinerPubkey([1; 32]));
        assert_eq!(check(&other_seed), VerificationError::BadSignature);
        let mut stripped = view.clone();
        let receipt = stripped.receipt.as_mut().unwrap();
        receipt.probe_digest = None;
        receipt.sampled_as = None;
        assert_eq!(check(&stripped), VerificationError::BadSignature);
        let mut half = view.clone();
        half.receipt.as_mut().unwrap().sampled_as = None;
        assert_eq!(check(&half), VerificationError::BadSignature);
    }

    #[test]
    fn outputs_of_the_wrong_kind_are_refused() {
        let input = generation_input().to_input();
        // An embedding where the generative model's tokens belong.
        let (key, job, node, view) = answered(
            SMOLLM2_ID,
            &input,
            OutputTensor::from_f32(&[0.5]).unwrap(),
            vec![],
            1,
        );
        assert_eq!(
            verify(&key, &job, &node, &input, &view).unwrap_err(),
            VerificationError::WrongOutputKind(SMOLLM2_ID.into())
        );
        // A token id past the vocabulary.
        let (key, job, node, view) = answered(
            SMOLLM2_ID,
            &input,
            OutputTensor::from_tokens(&[49_152], "?".into()),
            vec![],
            1,
        );
        assert_eq!(
            verify(&key, &job, &node, &input, &view).unwrap_err(),
            VerificationError::WrongOutputKind(SMOLLM2_ID.into())
        );
        // Tokens from an embedding model.
        let (key, job, node, view) = answered(
            "test-projection-v1",
            INPUT,
            OutputTensor::from_tokens(&[1], "a".into()),
            vec![],
            1,
        );
        assert_eq!(
            verify(&key, &job, &node, INPUT, &view).unwrap_err(),
            VerificationError::WrongOutputKind("test-projection-v1".into())
        );
    }

    /// Golden vectors the TypeScript client checks byte for byte
    /// (clients/ts/test/golden.test.ts): the generation input's JSON, the
    /// tensor hash of a generation, the probe digest and the V2 message.
    #[test]
    fn golden_vectors_shared_with_the_typescript_client() {
        let input = generation_input().to_input();
        assert_eq!(
            input,
            r#"{"prompt":"Say \"hi\"\\ \n\t\u0001\u001f é — 🦀 </script> \u{7f}\u{2028}","max_tokens":5,"top_k":40,"temperature_milli":700}"#
                .replace(r"\u{7f}", "\u{7f}")
                .replace(r"\u{2028}", "\u{2028}")
        );
        assert_eq!(
            to_hex(&Sha256::digest(&input)),
            GOLDEN_INPUT_HASH,
            "input hash"
        );
        let (_, _, _, view) = generated();
        let output = view.output.as_ref().unwrap();
        assert_eq!(output.hash().to_string(), GOLDEN_TENSOR_HASH, "tensor hash");
        let probes = [Probe {
            layer: 7,
            token: 3,
            dim: 100,
            value: -1234,
        }];
        assert_eq!(
            verdict_wire::miner::probe_digest(&probes).to_string(),
            GOLDEN_PROBE_DIGEST,
            "probe digest"
        );
        let message = response_message(
            &JobId([3; 32]),
            &SMOLLM2_ID.parse().unwrap(),
            &Digest32(Sha256::digest(&input).into()),
            &output.hash(),
            Some(&ProbeCommitment {
                probe_digest: verdict_wire::miner::probe_digest(&probes),
                sampled_as: MinerPubkey([6; 32]),
            }),
            12,
            250_000,
        );
        assert_eq!(to_hex(&message), GOLDEN_MESSAGE_V2, "V2 message");
        // The honest generation's receipt: signed by key [7; 32] with its
        // own seed, load 0 ms, 250 ms of inference, the probe above.
        let receipt = view.receipt.as_ref().unwrap();
        assert_eq!(receipt.miner_pubkey.to_string(), GOLDEN_MINER_KEY);
        assert_eq!(receipt.sampled_as.unwrap().to_string(), GOLDEN_MINER_KEY);
        assert_eq!(
            receipt.probe_digest.unwrap().to_string(),
            GOLDEN_PROBE_DIGEST
        );
        assert_eq!(receipt.signature.to_string(), GOLDEN_SIGNATURE);
        assert_eq!(view.job.to_string(), GOLDEN_JOB);
    }

    fn to_hex(bytes: &[u8]) -> String {
        bytes.iter().map(|b| format!("{b:02x}")).collect()
    }

    const GOLDEN_INPUT_HASH: &str =
        "5b084ec8fdc631f203a3936ec4027f3cda8e341fc329de31a9d936020d84eff3";
    const GOLDEN_TENSOR_HASH: &str =
        "4dafb29f9eb6cd548755f0cc37f9bb78369e35dccf8bd6cc1dcded860621de6a";
    const GOLDEN_PROBE_DIGEST: &str =
        "fbee96bda2697244817ab24edd52f8c55288336a81ddb8fe83f913d043440e84";
    const GOLDEN_MESSAGE_V2: &str = "564552444943542d4d494e45522d524553504f4e53452d5632030303030303030303030303030303030303030303030303030303030303030318736d6f6c6c6d322d3133356d2d696e7374727563742d71345b084ec8fdc631f203a3936ec4027f3cda8e341fc329de31a9d936020d84eff34dafb29f9eb6cd548755f0cc37f9bb78369e35dccf8bd6cc1dcded860621de6afbee96bda2697244817ab24edd52f8c55288336a81ddb8fe83f913d043440e8406060606060606060606060606060606060606060606060606060606060606060c00000090d00300";
    const GOLDEN_MINER_KEY: &str = "GmaDrppBC7P5ARKV8g3djiwP89vz1jLK23V2GBjuAEGB";
    const GOLDEN_JOB: &str = "CktRuQ2mttgRGkXJtyksdKHjUdc2C4TgDzyB98oEzy8";
    const GOLDEN_SIGNATURE: &str = "581df6aa7c4532755123e2135795fb787d300bc6bc08a6fbb03bb69b6241d0cc8628db7664a9bae4735bc03a795c661726c32b0d92fa92bb647feb533af9f602";
}
