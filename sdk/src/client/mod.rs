//! Verified inference for dApps (feature `client`): submit a job with its fee
//! in escrow, hand the input to any keeper of the committee, await the
//! result and accept it only once it checks out against the chain.
//!
//! ```text
//! let keepers = KeeperClient::new(urls, Duration::from_secs(5))?;
//! let result = infer(&chain, &keepers, &wallet, &request).await?;
//! println!("{:?}", result.verified.values());
//!
//! // Text generation: the input is the request's JSON, checked before any transaction.
//! let request = InferRequest::generate(&GenerationInput::new("Say hi"), risk, fee, tokens)?;
//! let result = infer(&chain, &keepers, &wallet, &request).await?;
//! println!("{}", result.verified.text().unwrap_or_default());
//! ```
//!
//! The chain is anything that reads accounts and sends transactions
//! ([`Ledger`]; `verdict-chain`'s `Chain` is one, over RPC or embedded).

mod keeper;
mod verify;

use std::time::Duration;

use anchor_lang::prelude::Pubkey;
use sha2::{Digest, Sha256};
use solana_sdk::instruction::Instruction;
use solana_sdk::signature::{Keypair, Signature};
use solana_sdk::signer::Signer;
use verdict::state::{model_id, Config, Job, JobStatus, Node, RiskLevel};
use verdict_wire::keeper::{FailureCode, JobFailure, JobProgress};

pub use keeper::{KeeperClient, KeeperError};
pub use verdict_wire::generation::{
    GenerationInput, GenerationInputError, DEFAULT_NEW_TOKENS, MAX_NEW_TOKENS, MAX_PROMPT_BYTES,
    MAX_TEMPERATURE_MILLI, MAX_TOP_K,
};
pub use verdict_wire::keeper::JobView;
pub use verdict_wire::miner::{MinerReceipt, OutputTensor};
pub use verdict_wire::models::{self, ModelSpec, MINILM_ID, SMOLLM2_ID, TEST_PROJECTION_ID};
pub use verify::{model_name, verify, verify_output, VerificationError, Verified};

use crate::accounts::AccountSource;
use crate::{instructions as ix, pda, SdkError};

/// Reads accounts and sends transactions: what [`infer`] needs of a chain.
#[allow(async_fn_in_trait)]
pub trait Ledger: AccountSource {
    /// Sends `instructions` signed and paid by `signer`, and waits for
    /// confirmation. A refusal is [`SdkError::Refused`], with the
    /// program's error name and message.
    async fn send(
        &self,
        instructions: &[Instruction],
        signer: &Keypair,
    ) -> Result<Signature, SdkError>;
}

/// One inference job, as a client asks for it.
#[derive(Clone, Debug)]
pub struct InferRequest {
    /// The model id, e.g. `all-minilm-l6-v2`.
    pub model: String,
    pub input: String,
    pub risk: RiskLevel,
    /// Most the client pays, escrowed at submit; the unused part comes back.
    pub max_fee: u64,
    /// The client's token account of the stake mint the fee comes from.
    pub token_account: Pubkey,
    /// Unique per client; `None` derives one from the clock.
    pub job_id: Option<u64>,
    /// Route away from miners with a median latency over the keepers' limit.
    pub realtime: bool,
    /// Longest to wait for a verified result after the submit.
    pub timeout: Duration,
}

impl InferRequest {
    pub fn new(
        model: &str,
        input: &str,
        risk: RiskLevel,
        max_fee: u64,
        token_account: Pubkey,
    ) -> Self {
        InferRequest {
            model: model.to_string(),
            input: input.to_string(),
            risk,
            max_fee,
            token_account,
            job_id: None,
            realtime: false,
            timeout: Duration::from_secs(60),
        }
    }

    /// A text-generation job for [`SMOLLM2_ID`] (set `model` for another
    /// generative model): its input is `generation.to_input()`, so the input
    /// hash on chain binds the prompt and every sampling parameter. Refuses
    /// a request out of bounds, before anything is sent.
    pub fn generate(
        generation: &GenerationInput,
        risk: RiskLevel,
        max_fee: u64,
        token_account: Pubkey,
    ) -> Result<Self, GenerationInputError> {
        generation.check()?;
        Ok(InferRequest::new(
            SMOLLM2_ID,
            &generation.to_input(),
            risk,
            max_fee,
            token_account,
        ))
    }

    /// The model's spec, when the network knows the model.
    pub fn model_spec(&self) -> Option<&'static ModelSpec> {
        models::spec(&self.model)
    }

    /// The generation this request asks for: `None` for a model that is
    /// not generative (or unknown), else its input parsed and checked.
    pub fn generation(&self) -> Option<Result<GenerationInput, GenerationInputError>> {
        self.model_spec()
            .filter(|spec| spec.is_generative())
            .map(|_| GenerationInput::parse(&self.input))
    }

    /// What [`submit_job`] checks before any transaction: a valid model id
    /// and, for a generative model, a valid [`GenerationInput`].
    pub fn check(&self) -> Result<(), InferError> {
        model_id(&self.model)
            .map_err(|_| InferError::Invalid(format!("model id {:?}", self.model)))?;
        if let Some(generation) = self.generation() {
            generation.map_err(InferError::Generation)?;
        }
        Ok(())
    }
}

/// A job on chain, its fee in escrow.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Submitted {
    pub job: Pubkey,
    pub job_id: u64,
    pub signature: Signature,
}

/// What [`infer`] returns: the submitted job and its verified output.
#[derive(Clone, Debug)]
pub struct Inference {
    pub submitted: Submitted,
    /// The keeper that took the input.
    pub keeper: String,
    pub verified: Verified,
}

#[derive(Debug, thiserror::Error)]
pub enum InferError {
    #[error("invalid request: {0}")]
    Invalid(String),
    /// A generative model's input is not a valid [`GenerationInput`].
    #[error("invalid generation request: {0}")]
    Generation(#[from] GenerationInputError),
    #[error(transparent)]
    Chain(#[from] SdkError),
    #[error(transparent)]
    Keeper(#[from] KeeperError),
    #[error("the job failed ({}): {}", .0.code, .0.message)]
    JobFailed(JobFailure),
    /// The job ended without an output (its fee went back to the client).
    #[error("the job ended {0:?} on chain: its fee was refunded")]
    Refunded(JobStatus),
    #[error(
        "no verified result within {0:?} (the job stays on chain; await it again or let it expire)"
    )]
    Timeout(Duration),
    #[error("the answer does not check out: {0}")]
    Verification(#[from] VerificationError),
    /// The job was paid and its account closed before its result was
    /// collected: no output hash is left on chain to check an answer against.
    #[error("job {0} is closed on chain: its result can no longer be verified")]
    Closed(Pubkey),
}

impl InferError {
    /// The program's error name when the chain refused, e.g. `FeeBelowMinimum`.
    pub fn program_error_name(&self) -> Option<&str> {
        match self {
            InferError::Chain(SdkError::Refused(failure)) => failure.name.as_deref(),
            _ => None,
        }
    }
}

/// A job number unique per client in practice: nanoseconds since the epoch.
pub fn clock_job_id() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_nanos() as u64)
        .unwrap_or(1)
}

/// Submits the job: its input hash and model on chain, `max_fee` escrowed
/// from the client's token account. The client signs and pays. A request
/// that fails [`InferRequest::check`] is refused before any transaction.
pub async fn submit_job(
    ledger: &impl Ledger,
    client: &Keypair,
    request: &InferRequest,
) -> Result<Submitted, InferError> {
    request.check()?;
    let model = model_id(&request.model)
        .map_err(|_| InferError::Invalid(format!("model id {:?}", request.model)))?;
    let config: Config = ledger.fetch(&pda::config()).await?;
    let job_id = request.job_id.unwrap_or_else(clock_job_id);
    let input_hash: [u8; 32] = Sha256::digest(request.input.as_bytes()).into();
    let submit = ix::submit_job(
        &client.pubkey(),
        &request.token_account,
        &config.stake_mint,
        job_id,
        model,
        input_hash,
        request.risk,
        request.max_fee,
    );
    let signature = ledger.send(&[submit], client).await?;
    Ok(Submitted {
        job: pda::job(&client.pubkey(), job_id),
        job_id,
        signature,
    })
}

/// Waits until `keeper` (then any keeper) reports the job done and the
/// chain holds its outcome, then verifies the output against the chain.
pub async fn await_result(
    ledger: &impl Ledger,
    keepers: &KeeperClient,
    keeper: Option<&str>,
    job: &Pubkey,
    input: &str,
    timeout: Duration,
) -> Result<Verified, InferError> {
    let deadline = tokio::time::Instant::now() + timeout;
    let poll = Duration::from_millis(100);
    loop {
        let view = keepers.job(job, keeper).await?;
        match view.status {
            JobProgress::Failed => {
                return Err(InferError::JobFailed(view.error.unwrap_or(JobFailure {
                    code: FailureCode::Unknown,
                    message: "the keeper reported the job failed".into(),
                })))
            }
            JobProgress::Done => {
                let Some(on_chain) = ledger.fetch_optional::<Job>(job).await? else {
                    return Err(InferError::Closed(*job));
                };
                match on_chain.status() {
                    JobStatus::Solved | JobStatus::Paid => {
                        let miner: Node = ledger.fetch(&on_chain.miner).await?;
                        let error = match verify(job, &on_chain, &miner, input, &view) {
                            Ok(verified) => return Ok(verified),
                            Err(error) => error,
                        };
                        // A keeper that answers wrongly (lagging, or lying)
                        // is not the last word: any member's answer that
                        // checks out will do. None does: the error stands.
                        for url in keepers.urls() {
                            if let Ok(other) = keepers.job_at(url, job).await {
                                if let Ok(verified) = verify(job, &on_chain, &miner, input, &other)
                                {
                                    return Ok(verified);
                                }
                            }
                        }
                        return Err(error.into());
                    }
                    JobStatus::Invalid | JobStatus::Expired | JobStatus::Refunded => {
                        return Err(InferError::Refunded(on_chain.status()))
                    }
                    // The keeper is ahead of this client's chain reads.
                    JobStatus::Sent | JobStatus::Allocated => {}
                }
            }
            JobProgress::Queued | JobProgress::Running => {}
        }
        if tokio::time::Instant::now() >= deadline {
            return Err(InferError::Timeout(timeout));
        }
        tokio::time::sleep(poll).await;
    }
}

/// Verified inference in one call: [`submit_job`], hand the input to the
/// first keeper that takes it, [`await_result`].
pub async fn infer(
    ledger: &impl Ledger,
    keepers: &KeeperClient,
    client: &Keypair,
    request: &InferRequest,
) -> Result<Inference, InferError> {
    let submitted = submit_job(ledger, client, request).await?;
    let (keeper, _) = keepers
        .submit_input(&submitted.job, &request.input, request.realtime)
        .await?;
    let verified = await_result(
        ledger,
        keepers,
        Some(&keeper),
        &submitted.job,
        &request.input,
        request.timeout,
    )
    .await?;
    Ok(Inference {
        submitted,
        keeper,
        verified,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    use verdict_wire::keeper::JobView;
    use verdict_wire::miner::JobId;

    /// A chain where no account exists (every job closed) and nothing lands.
    struct Empty;

    impl AccountSource for Empty {
        async fn account_data(&self, _: &Pubkey) -> Result<Option<Vec<u8>>, SdkError> {
            Ok(None)
        }
    }

    impl Ledger for Empty {
        async fn send(&self, _: &[Instruction], _: &Keypair) -> Result<Signature, SdkError> {
            Err(SdkError::Client("nothing lands here".into()))
        }
    }

    /// A keeper that answers every request with `view`, one connection at a time.
    async fn keeper_answering(view: JobView) -> String {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let url = format!("http://{}", listener.local_addr().unwrap());
        let body = serde_json::to_string(&view).unwrap();
        tokio::spawn(async move {
            while let Ok((mut socket, _)) = listener.accept().await {
                let mut request = [0u8; 4096];
                let _ = socket.read(&mut request).await;
                let response = format!(
                    "HTTP/1.1 200 OK\r\ncontent-type: application/json\r\ncontent-length: {}\r\nconnection: close\r\n\r\n{body}",
                    body.len()
                );
                let _ = socket.write_all(response.as_bytes()).await;
            }
        });
        url
    }

    #[tokio::test]
    async fn a_job_closed_before_its_result_is_collected_is_said_so() {
        let job = Pubkey::new_unique();
        let view = JobView {
            job: JobId(job.to_bytes()),
            status: JobProgress::Done,
            miner: Some(Pubkey::new_unique().to_string()),
            output: None,
            output_hash: None,
            response_ms: Some(5),
            receipt: None,
            error: None,
            miners_failed: 0,
        };
        let keepers =
            KeeperClient::new([keeper_answering(view).await], Duration::from_secs(2)).unwrap();
        let result = await_result(&Empty, &keepers, None, &job, "x", Duration::from_secs(2)).await;
        assert!(
            matches!(result, Err(InferError::Closed(k)) if k == job),
            "{result:?}"
        );
    }

    #[test]
    fn generation_requests_are_checked_before_any_transaction() {
        let tokens = Pubkey::new_unique();
        let generation = GenerationInput::greedy("Say hi", 8);
        let request = InferRequest::generate(&generation, RiskLevel::Low, 5, tokens).unwrap();
        assert_eq!(request.model, SMOLLM2_ID);
        assert_eq!(request.input, generation.to_input());
        assert_eq!(request.generation(), Some(Ok(generation.clone())));
        request.check().unwrap();

        let mut too_long = generation.clone();
        too_long.max_tokens = MAX_NEW_TOKENS + 1;
        assert_eq!(
            InferRequest::generate(&too_long, RiskLevel::Low, 5, tokens).unwrap_err(),
            GenerationInputError::MaxTokens(MAX_NEW_TOKENS + 1)
        );
        // Plain text for a generative model: refused with the typed error.
        let plain = InferRequest::new(SMOLLM2_ID, "Say hi", RiskLevel::Low, 5, tokens);
        assert!(matches!(
            plain.check(),
            Err(InferError::Generation(GenerationInputError::NotJson(_)))
        ));
        // Embedding models and models the SDK does not know take any text.
        let embedding = InferRequest::new(MINILM_ID, "Say hi", RiskLevel::Low, 5, tokens);
        assert_eq!(embedding.generation(), None);
        embedding.check().unwrap();
        InferRequest::new("future-model", "x", RiskLevel::Low, 5, tokens)
            .check()
            .unwrap();
        assert!(matches!(
            InferRequest::new("", "x", RiskLevel::Low, 5, tokens).check(),
            Err(InferError::Invalid(_))
        ));
    }
}
