//! A small typed async client for a miner's HTTP API, as the keeper uses it: each way a miner can fail is a distinct error.

use std::time::Duration;

use reqwest::StatusCode;
use serde::de::DeserializeOwned;

use crate::bid::{BidRequest, BidResponse, PricesResponse};
use crate::miner::{
    ErrorBody, HealthResponse, InferRequest, InferResponse, ModelsResponse, VerifyError,
};

#[derive(Debug, thiserror::Error)]
pub enum ClientError {
    #[error("invalid miner URL {0:?}")]
    InvalidUrl(String),
    #[error("could not connect to the miner: {0}")]
    Connect(String),
    #[error("the miner did not answer within {0:?}")]
    Timeout(Duration),
    #[error("the miner closed the connection without a complete response: {0}")]
    ConnectionDropped(String),
    #[error("the miner answered {status} with a body that is not a valid response: {reason}")]
    MalformedResponse { status: u16, reason: String },
    #[error("the miner refused the request ({status}, {}): {}", .body.error, .body.message)]
    Refused { status: u16, body: ErrorBody },
    #[error("the miner's response does not verify: {0}")]
    InvalidResponse(#[from] VerifyError),
    #[error("the response is for a different request: its {field} does not match")]
    MismatchedResponse { field: &'static str },
}

/// Talks to one miner. Cheap to clone.
#[derive(Debug, Clone)]
pub struct MinerClient {
    http: reqwest::Client,
    base_url: String,
    timeout: Duration,
}

impl MinerClient {
    /// `base_url` like `http://127.0.0.1:8080`; `timeout` bounds each whole
    /// request, body included (the keeper's shard timeout).
    pub fn new(base_url: &str, timeout: Duration) -> Result<Self, ClientError> {
        let base_url = base_url.trim_end_matches('/').to_owned();
        if reqwest::Url::parse(&base_url).is_err() {
            return Err(ClientError::InvalidUrl(base_url));
        }
        let http = reqwest::Client::builder()
            .timeout(timeout)
            // Keepers reach miners directly; an ambient HTTP_PROXY must not
            // reroute (or break) loopback and LAN traffic.
            .no_proxy()
            .build()
            .map_err(|error| ClientError::Connect(error.to_string()))?;
        Ok(MinerClient {
            http,
            base_url,
            timeout,
        })
    }

    pub fn base_url(&self) -> &str {
        &self.base_url
    }

    /// Sends a job and returns the miner's answer after checking that it is
    /// signed by the key it names, that its output hash matches its tensor,
    /// and that it answers this request (job id, model id, input hash).
    pub async fn infer(&self, request: &InferRequest) -> Result<InferResponse, ClientError> {
        let sent = self
            .http
            .post(format!("{}/infer", self.base_url))
            .json(request)
            .send()
            .await;
        let response: InferResponse = self.read_json(sent).await?;
        response.verify()?;
        if response.job_id != request.job_id {
            return Err(ClientError::MismatchedResponse { field: "job_id" });
        }
        if response.model_id != request.model_id {
            return Err(ClientError::MismatchedResponse { field: "model_id" });
        }
        if response.input_hash != request.computed_input_hash() {
            return Err(ClientError::MismatchedResponse {
                field: "input_hash",
            });
        }
        Ok(response)
    }

    pub async fn health(&self) -> Result<HealthResponse, ClientError> {
        self.get("health").await
    }

    pub async fn models(&self) -> Result<ModelsResponse, ClientError> {
        self.get("models").await
    }

    /// The miner's standing prices (404 `not_bidding` if it does not bid).
    pub async fn prices(&self) -> Result<PricesResponse, ClientError> {
        self.get("prices").await
    }

    /// The miner's signed bids on a round. The bids are not checked here:
    /// the auction checks each against the round and the miner asked.
    pub async fn bids(&self, request: &BidRequest) -> Result<BidResponse, ClientError> {
        let sent = self
            .http
            .post(format!("{}/bids", self.base_url))
            .json(request)
            .send()
            .await;
        self.read_json(sent).await
    }

    async fn get<T: DeserializeOwned>(&self, path: &str) -> Result<T, ClientError> {
        let sent = self
            .http
            .get(format!("{}/{path}", self.base_url))
            .send()
            .await;
        self.read_json(sent).await
    }

    fn transport_error(&self, error: reqwest::Error) -> ClientError {
        if error.is_timeout() {
            ClientError::Timeout(self.timeout)
        } else if error.is_connect() {
            ClientError::Connect(error.to_string())
        } else {
            // The connection was up, but no full response came back.
            ClientError::ConnectionDropped(error_chain(&error))
        }
    }

    async fn read_json<T: DeserializeOwned>(
        &self,
        sent: Result<reqwest::Response, reqwest::Error>,
    ) -> Result<T, ClientError> {
        let response = sent.map_err(|error| self.transport_error(error))?;
        let status = response.status();
        let body = response
            .bytes()
            .await
            .map_err(|error| self.transport_error(error))?;
        if status != StatusCode::OK {
            return Err(match serde_json::from_slice::<ErrorBody>(&body) {
                Ok(error_body) => ClientError::Refused {
                    status: status.as_u16(),
                    body: error_body,
                },
                Err(error) => ClientError::MalformedResponse {
                    status: status.as_u16(),
                    reason: error.to_string(),
                },
            });
        }
        serde_json::from_slice(&body).map_err(|error| ClientError::MalformedResponse {
            status: status.as_u16(),
            reason: error.to_string(),
        })
    }
}

/// reqwest's top-level message is often just "error sending request"; the
/// cause (e.g. hyper's "connection closed before message completed") is what
/// an operator needs in the log.
fn error_chain(error: &dyn std::error::Error) -> String {
    let mut text = error.to_string();
    let mut source = error.source();
    while let Some(cause) = source {
        text.push_str(": ");
        text.push_str(&cause.to_string());
        source = cause.source();
    }
    text
}
