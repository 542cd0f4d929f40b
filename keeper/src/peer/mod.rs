//! Keeper-to-keeper traffic between committee members over authenticated
//! HTTP: co-sign requests (a claim with its evidence, answered with a
//! signature or a typed refusal), job inputs shared at intake so any
//! member can take a job over, and stored inputs asked for by any active
//! node (evidence for a dispute). This is the protocol and its client; the
//! server side lives in `crate::peer_server` and `crate::evidence`.

pub mod auth;

use std::collections::HashMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::Duration;

use anchor_lang::prelude::Pubkey;
use serde::{Deserialize, Serialize};
use solana_sdk::signature::{Keypair, Signature};
use verdict_sdk::attest::MemberSignature;

use crate::clock::wall_secs;
use crate::core::cosign::{CosignRequest, Refusal};
use crate::serde_helpers::b58;
use auth::{PeerAuth, PeerHeaders};

pub const COSIGN_PATH: &str = "/v1/peer/cosign";
pub const INPUT_PATH: &str = "/v1/peer/input";
pub const EVIDENCE_PATH: &str = "/v1/peer/evidence";

/// A job's input, handed on by the keeper the client gave it to.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct InputShare {
    #[serde(with = "b58")]
    pub job: Pubkey,
    pub input: String,
    pub realtime: bool,
}

/// A request for the stored input of a job (rule 9).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct EvidenceRequest {
    #[serde(with = "b58")]
    pub job: Pubkey,
}

/// A stored input; the receiver checks it against the job's input hash.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct EvidenceReply {
    #[serde(with = "b58")]
    pub job: Pubkey,
    pub input: String,
}

/// A member's signature over the message it rebuilt from the claim.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct CosignReply {
    #[serde(with = "b58")]
    pub signing_key: Pubkey,
    pub signature: String,
}

/// A member's 409 body: why it will not sign.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct RefusalBody {
    pub error: String,
    pub message: String,
    pub refusal: Refusal,
}

#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum PeerError {
    /// No answer before the deadline, or no connection: the member missed it.
    #[error("no answer: {0}")]
    Unreachable(String),
    #[error("refused: {0}")]
    Refused(Refusal),
    /// Anything else the member answered (401 authentication, 422, 503).
    #[error("{status} {code}: {message}")]
    Rejected {
        status: u16,
        code: String,
        message: String,
    },
    #[error("malformed answer: {0}")]
    Malformed(String),
}

/// Sends signed requests to other members.
#[derive(Clone)]
pub struct PeerClient {
    http: reqwest::Client,
    key: Arc<Keypair>,
    nonce: Arc<AtomicU64>,
}

impl PeerClient {
    pub fn new(key: Arc<Keypair>, timeout: Duration) -> Self {
        let http = reqwest::Client::builder()
            .timeout(timeout)
            .no_proxy()
            .build()
            .expect("a plain HTTP client builds");
        // Nonces only need to be unique per sender within the replay window.
        let seed = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map(|d| d.as_nanos() as u64)
            .unwrap_or(1);
        PeerClient {
            http,
            key,
            nonce: Arc::new(AtomicU64::new(seed)),
        }
    }

    pub fn signing_key(&self) -> Pubkey {
        solana_sdk::signer::Signer::pubkey(self.key.as_ref())
    }

    async fn post<T: Serialize>(
        &self,
        base_url: &str,
        path: &str,
        body: &T,
    ) -> Result<reqwest::Response, PeerError> {
        self.post_within(base_url, path, body, None).await
    }

    /// [`Self::post`], with its own timeout instead of the client's.
    async fn post_within<T: Serialize>(
        &self,
        base_url: &str,
        path: &str,
        body: &T,
        timeout: Option<Duration>,
    ) -> Result<reqwest::Response, PeerError> {
        let body = serde_json::to_vec(body).map_err(|e| PeerError::Malformed(e.to_string()))?;
        let headers = PeerHeaders::sign(
            &self.key,
            path,
            &body,
            wall_secs(),
            self.nonce.fetch_add(1, Ordering::Relaxed),
        );
        let mut request = self
            .http
            .post(format!("{}{path}", base_url.trim_end_matches('/')))
            .header("content-type", "application/json");
        for (name, value) in headers.to_pairs() {
            request = request.header(name, value);
        }
        if let Some(timeout) = timeout {
            request = request.timeout(timeout);
        }
        request
            .body(body)
            .send()
            .await
            .map_err(|e| PeerError::Unreachable(e.to_string()))
    }

    async fn rejected(response: reqwest::Response) -> PeerError {
        let status = response.status().as_u16();
        let body: serde_json::Value = response.json().await.unwrap_or_default();
        let field = |k: &str| body[k].as_str().unwrap_or_default().to_string();
        PeerError::Rejected {
            status,
            code: field("error"),
            message: field("message"),
        }
    }

    /// Asks a member to co-sign, waiting at most `timeout` (a claim whose
    /// checks rerun a generation takes longer); checks nothing of the
    /// signature (the attester verifies it against the committee).
    pub async fn cosign(
        &self,
        base_url: &str,
        request: &CosignRequest,
        timeout: Duration,
    ) -> Result<MemberSignature, PeerError> {
        let response = self
            .post_within(base_url, COSIGN_PATH, request, Some(timeout))
            .await?;
        match response.status().as_u16() {
            200 => {
                let reply: CosignReply = response
                    .json()
                    .await
                    .map_err(|e| PeerError::Unreachable(e.to_string()))?;
                let signature: Signature = reply
                    .signature
                    .parse()
                    .map_err(|_| PeerError::Malformed("signature".into()))?;
                Ok(MemberSignature {
                    signing_key: reply.signing_key,
                    signature: signature.into(),
                })
            }
            409 => match response.json::<RefusalBody>().await {
                Ok(body) => Err(PeerError::Refused(body.refusal)),
                Err(e) => Err(PeerError::Malformed(e.to_string())),
            },
            _ => Err(Self::rejected(response).await),
        }
    }

    pub async fn share_input(&self, base_url: &str, share: &InputShare) -> Result<(), PeerError> {
        let response = self.post(base_url, INPUT_PATH, share).await?;
        if response.status().is_success() {
            Ok(())
        } else {
            Err(Self::rejected(response).await)
        }
    }

    /// Asks a keeper for the input it keeps for `job`; checks nothing of
    /// it (the caller checks the hash against the chain).
    pub async fn fetch_input(
        &self,
        base_url: &str,
        job: &Pubkey,
    ) -> Result<EvidenceReply, PeerError> {
        let response = self
            .post(base_url, EVIDENCE_PATH, &EvidenceRequest { job: *job })
            .await?;
        if response.status().is_success() {
            response
                .json()
                .await
                .map_err(|e| PeerError::Malformed(e.to_string()))
        } else {
            Err(Self::rejected(response).await)
        }
    }

    /// Whether a keeper answers its `/health` at all within `timeout`.
    pub async fn reachable(&self, base_url: &str, timeout: Duration) -> bool {
        self.http
            .get(format!("{}/health", base_url.trim_end_matches('/')))
            .timeout(timeout)
            .send()
            .await
            .is_ok()
    }
}

/// This keeper's identity in the committee and its way to the others.
pub struct Membership {
    /// The validator's Node account.
    pub node: Pubkey,
    /// The validator's signing key (attestations and peer requests).
    pub key: Arc<Keypair>,
    /// The validator's operator wallet (dispute bonds, votes, claims).
    pub operator: Option<Arc<Keypair>>,
    /// Other members' keepers: Node account -> base URL.
    pub peers: HashMap<Pubkey, String>,
    pub client: PeerClient,
    pub auth: PeerAuth,
}
