//! A typed client of the keepers' client API, over every keeper of the
//! committee: an unreachable or failing keeper is skipped for the next one.

use std::time::Duration;

use anchor_lang::prelude::Pubkey;
use reqwest::StatusCode;
use serde::de::DeserializeOwned;
use verdict::state::RiskLevel;
use verdict_wire::keeper::{JobView, QuoteView, SubmitInput};
use verdict_wire::miner::JobId;
use verdict_wire::ErrorBody;

/// How long a keeper that does not see a just-submitted job yet (its chain
/// reads lag the client's) is asked again before the refusal stands.
const UNKNOWN_JOB_GRACE: Duration = Duration::from_secs(5);

#[derive(Debug, thiserror::Error)]
pub enum KeeperError {
    #[error("no keeper URL given")]
    NoKeepers,
    #[error("invalid keeper URL {0:?}")]
    InvalidUrl(String),
    /// A keeper refused the request (4xx): retrying elsewhere would not help.
    #[error("keeper {url} refused ({status}, {}): {}", .body.error, .body.message)]
    Refused {
        url: String,
        status: u16,
        body: ErrorBody,
    },
    /// Every keeper was unreachable or failing; each one's reason.
    #[error("no keeper answered: {}", .tried.iter().map(|(u, e)| format!("{u}: {e}")).collect::<Vec<_>>().join("; "))]
    Unavailable { tried: Vec<(String, String)> },
}

impl KeeperError {
    /// The keeper's error code (`input_hash_mismatch`, `fee_below_floor`…) of a refusal.
    pub fn code(&self) -> Option<&str> {
        match self {
            KeeperError::Refused { body, .. } => Some(&body.error),
            _ => None,
        }
    }
}

/// One keeper's answer to a request.
enum Answer<T> {
    View(Box<T>),
    Refused(u16, ErrorBody),
    /// Try the next keeper, for this reason.
    Down(String),
}

/// The keepers of a committee. Cheap to clone.
#[derive(Clone, Debug)]
pub struct KeeperClient {
    http: reqwest::Client,
    urls: Vec<String>,
}

impl KeeperClient {
    /// `urls` like `http://127.0.0.1:8899`, tried in order; `timeout` bounds each request.
    pub fn new(
        urls: impl IntoIterator<Item = impl Into<String>>,
        timeout: Duration,
    ) -> Result<Self, KeeperError> {
        let urls: Vec<String> = urls
            .into_iter()
            .map(|u| u.into().trim_end_matches('/').to_string())
            .collect();
        if urls.is_empty() {
            return Err(KeeperError::NoKeepers);
        }
        if let Some(bad) = urls.iter().find(|u| reqwest::Url::parse(u).is_err()) {
            return Err(KeeperError::InvalidUrl(bad.clone()));
        }
        let http = reqwest::Client::builder()
            .timeout(timeout)
            .no_proxy()
            // A keeper that died must not be kept alive by a pooled connection.
            .pool_max_idle_per_host(0)
            .build()
            .map_err(|e| KeeperError::InvalidUrl(e.to_string()))?;
        Ok(KeeperClient { http, urls })
    }

    pub fn urls(&self) -> &[String] {
        &self.urls
    }

    /// The same keepers, tried from the `n`th on (spreads clients' inputs
    /// over the committee).
    pub fn rotated(&self, n: usize) -> KeeperClient {
        let mut urls = self.urls.clone();
        let len = urls.len();
        urls.rotate_left(n % len);
        KeeperClient {
            http: self.http.clone(),
            urls,
        }
    }

    /// Hands the input of `job` (already submitted on chain) to the first
    /// keeper that takes it. Returns that keeper's URL and its view.
    pub async fn submit_input(
        &self,
        job: &Pubkey,
        input: &str,
        realtime: bool,
    ) -> Result<(String, JobView), KeeperError> {
        let body = SubmitInput {
            job: JobId(job.to_bytes()),
            input: input.to_string(),
            realtime,
        };
        let started = tokio::time::Instant::now();
        loop {
            let result = self
                .first_answer(None, |url| {
                    self.http.post(format!("{url}/v1/jobs")).json(&body)
                })
                .await;
            match result {
                Err(KeeperError::Refused { ref body, .. })
                    if body.error == "unknown_job" && started.elapsed() < UNKNOWN_JOB_GRACE =>
                {
                    tokio::time::sleep(Duration::from_millis(200)).await;
                }
                other => return other,
            }
        }
    }

    /// The job as the keepers see it: `preferred` (the keeper that took the
    /// input) first, then the others (members share what they finish).
    pub async fn job(&self, job: &Pubkey, preferred: Option<&str>) -> Result<JobView, KeeperError> {
        self.first_answer(preferred, |url| {
            self.http.get(format!("{url}/v1/jobs/{job}"))
        })
        .await
        .map(|(_, view)| view)
    }

    /// The job as the keeper at `url` sees it (no failover).
    pub async fn job_at(&self, url: &str, job: &Pubkey) -> Result<JobView, KeeperError> {
        let url = url.to_string();
        match ask(self.http.get(format!("{url}/v1/jobs/{job}"))).await {
            Answer::View(view) => Ok(*view),
            Answer::Refused(status, body) => Err(KeeperError::Refused { url, status, body }),
            Answer::Down(reason) => Err(KeeperError::Unavailable {
                tried: vec![(url, reason)],
            }),
        }
    }

    /// What the committee's miners ask now for a job of `model` at `risk`:
    /// the first keeper that has a quote.
    pub async fn quote(&self, model: &str, risk: RiskLevel) -> Result<QuoteView, KeeperError> {
        let (_, quote) = self
            .first_answer(None, |url| {
                self.http
                    .get(format!("{url}/v1/quote"))
                    .query(&[("model", model), ("risk", risk.name())])
            })
            .await?;
        Ok(quote)
    }

    async fn first_answer<T: DeserializeOwned>(
        &self,
        preferred: Option<&str>,
        request: impl Fn(&str) -> reqwest::RequestBuilder,
    ) -> Result<(String, T), KeeperError> {
        let order = preferred.into_iter().map(str::to_string).chain(
            self.urls
                .iter()
                .filter(|u| Some(u.as_str()) != preferred)
                .cloned(),
        );
        let mut tried = Vec::new();
        let mut refusal = None;
        for url in order {
            match ask(request(&url)).await {
                Answer::View(view) => return Ok((url, *view)),
                // A keeper that has not got the job (or does not see it on
                // chain yet) may be followed by one that has; any other
                // refusal stands.
                Answer::Refused(404, body) => {
                    refusal.get_or_insert((url, 404, body));
                }
                Answer::Refused(status, body) => {
                    return Err(KeeperError::Refused { url, status, body })
                }
                Answer::Down(reason) => tried.push((url, reason)),
            }
        }
        match refusal {
            Some((url, status, body)) => Err(KeeperError::Refused { url, status, body }),
            None => Err(KeeperError::Unavailable { tried }),
        }
    }
}

async fn ask<T: DeserializeOwned>(request: reqwest::RequestBuilder) -> Answer<T> {
    let response = match request.send().await {
        Ok(r) => r,
        Err(e) => return Answer::Down(e.to_string()),
    };
    let status = response.status();
    let body = match response.bytes().await {
        Ok(b) => b,
        Err(e) => return Answer::Down(format!("{status}: {e}")),
    };
    // A failed job is 502 with its view: an answer, not a keeper failure.
    if matches!(
        status,
        StatusCode::OK | StatusCode::ACCEPTED | StatusCode::BAD_GATEWAY
    ) {
        if let Ok(view) = serde_json::from_slice::<T>(&body) {
            return Answer::View(Box::new(view));
        }
    }
    if status.is_client_error() {
        if let Ok(error) = serde_json::from_slice::<ErrorBody>(&body) {
            return Answer::Refused(status.as_u16(), error);
        }
    }
    Answer::Down(format!(
        "{status}: {}",
        String::from_utf8_lossy(&body)
            .chars()
            .take(200)
            .collect::<String>()
    ))
}
