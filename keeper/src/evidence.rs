//! Evidence stays available (rule 9). Every keeper that handled a job keeps
//! its input in its database (`Store::put` records it with the job) until
//! the chain says no dispute can need it: the job's challenge window
//! (solved_at + challenge_window_epochs × epoch_secs) and any dispute over
//! it have ended (`core::evidence`). It serves stored inputs to any active
//! node that asks with its signing key (`POST /v1/peer/evidence`,
//! authenticated like every peer request), and a keeper that must vote in a
//! dispute over a job it never saw asks the other keepers, keeping the
//! first input that hashes to the job's on-chain input hash.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use anchor_lang::prelude::Pubkey;
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::Json;
use sha2::{Digest, Sha256};
use verdict::state::{Dispute, Job, ProtocolParams};

use tokio_util::sync::CancellationToken;

use crate::clock::wall_secs;
use crate::context::Context;
use crate::core::evidence::{input_retention, Retention};
use crate::core::throttle::Throttle;
use crate::error::{ApiError, KeeperError, StoreError};
use crate::gateway::{ChainView, Gateway};
use crate::metrics::Metrics;
use crate::peer::auth::{AuthError, PeerAuth, PeerHeaders};
use crate::peer::{EvidenceReply, EvidenceRequest, Membership, PeerError, EVIDENCE_PATH};
use crate::store::Store;

/// After every keeper failed to supply a job's input, wait this long
/// before asking them all again (the watcher asks once per round otherwise).
const ASK_AGAIN_AFTER: Duration = Duration::from_secs(10);

/// The keeper's evidence subsystem: serves the inputs it keeps, fetches
/// the ones it lacks from the other members, prunes what no dispute can
/// need.
pub struct EvidenceService {
    store: Arc<Store>,
    gateway: Arc<Gateway>,
    metrics: Arc<Metrics>,
    /// This keeper's membership (its peer client and the other members'
    /// keepers); `None` for a keeper that is not a committee member.
    member: Option<Arc<Membership>>,
    /// Replays and clocks of evidence requests from other nodes.
    auth: PeerAuth,
    /// Jobs whose input no keeper supplied, and when that was.
    asked: Mutex<Throttle<Pubkey>>,
}

/// Why an input fetched from another keeper was not kept.
#[derive(Debug, thiserror::Error)]
pub enum EvidenceError {
    #[error("this keeper has no node key to ask with (not a committee member)")]
    NoKey,
    #[error("{0}")]
    Peer(#[from] PeerError),
    #[error("the answer is for another job ({0})")]
    WrongJob(Pubkey),
    #[error("the input does not hash to the job's on-chain input hash")]
    HashMismatch,
    #[error("{0}")]
    Store(#[from] StoreError),
}

impl EvidenceError {
    fn label(&self) -> &'static str {
        match self {
            EvidenceError::NoKey => "no_key",
            EvidenceError::Peer(PeerError::Unreachable(_)) => "unreachable",
            EvidenceError::Peer(_) => "refused",
            EvidenceError::WrongJob(_) | EvidenceError::HashMismatch => "hash_mismatch",
            EvidenceError::Store(_) => "store_error",
        }
    }
}

fn input_hash(input: &str) -> [u8; 32] {
    Sha256::digest(input.as_bytes()).into()
}

impl EvidenceService {
    pub fn new(
        store: Arc<Store>,
        gateway: Arc<Gateway>,
        metrics: Arc<Metrics>,
        member: Option<Arc<Membership>>,
    ) -> Self {
        EvidenceService {
            store,
            gateway,
            metrics,
            member,
            auth: PeerAuth::default(),
            asked: Mutex::new(Throttle::new(ASK_AGAIN_AFTER)),
        }
    }

    /// `POST /v1/peer/evidence`: the stored input of a job, for a node
    /// `active` says is active (as of the last chain poll).
    pub async fn serve(
        &self,
        headers: &HeaderMap,
        body: &[u8],
        active: impl Fn(&Pubkey) -> bool,
    ) -> Response {
        let served = self.serve_input(headers, body, active).await;
        let label = match &served {
            Ok(_) => "served",
            Err((label, _)) => label,
        };
        self.metrics
            .inputs_served_total
            .with_label_values(&[label])
            .inc();
        match served {
            Ok(reply) => Json(reply).into_response(),
            Err((_, error)) => error.into_response(),
        }
    }

    /// The sender's key once the request is signed by the signing key of a
    /// registered, active node (as of the last chain poll), with a fresh
    /// timestamp and a nonce not seen before.
    fn authenticate_node(
        &self,
        headers: &HeaderMap,
        path: &str,
        body: &[u8],
        active: impl Fn(&Pubkey) -> bool,
    ) -> Result<Pubkey, AuthError> {
        let parsed = PeerHeaders::parse(|name| headers.get(name).and_then(|v| v.to_str().ok()))?;
        self.auth
            .verify(&parsed, path, body, wall_secs(), active)
            .map_err(|e| match e {
                AuthError::NotAMember(key) => AuthError::NotAnActiveNode(key),
                other => other,
            })
    }

    /// The reply to an evidence request, or a metrics label and the error.
    async fn serve_input(
        &self,
        headers: &HeaderMap,
        body: &[u8],
        active: impl Fn(&Pubkey) -> bool,
    ) -> Result<EvidenceReply, (&'static str, ApiError)> {
        let refused = |e: AuthError| {
            (
                "refused",
                ApiError::new(StatusCode::UNAUTHORIZED, e.code(), e.to_string()),
            )
        };
        let sender = self
            .authenticate_node(headers, EVIDENCE_PATH, body, active)
            .map_err(refused)?;
        let request: EvidenceRequest = serde_json::from_slice(body).map_err(|e| {
            let error = ApiError::new(
                StatusCode::UNPROCESSABLE_ENTITY,
                "malformed_peer_request",
                e.to_string(),
            );
            ("malformed", error)
        })?;
        let unavailable = |e: String| {
            (
                "unavailable",
                ApiError::new(StatusCode::SERVICE_UNAVAILABLE, "keeper_unavailable", e),
            )
        };
        let unknown = |code: &str, message: &str| {
            (
                "unknown",
                ApiError::new(StatusCode::NOT_FOUND, code, message),
            )
        };
        let input = self
            .store
            .input(&request.job)
            .map_err(|e| unavailable(e.to_string()))?;
        let input = input
            .ok_or_else(|| unknown("unknown_input", "this keeper keeps no input for that job"))?;
        let job = self
            .gateway
            .job(&request.job)
            .await
            .map_err(|e| unavailable(e.to_string()))?;
        let job = job.ok_or_else(|| unknown("unknown_job", "no such job on chain"))?;
        if input_hash(&input) != job.input_hash {
            tracing::warn!(job = %request.job, "a stored input does not match the job's input hash: not served");
            let message = "the stored input does not hash to the job's input hash";
            return Err((
                "mismatch",
                ApiError::new(StatusCode::CONFLICT, "input_hash_mismatch", message),
            ));
        }
        tracing::debug!(%sender, job = %request.job, "served a job's input");
        Ok(EvidenceReply {
            job: request.job,
            input,
        })
    }

    /// Keeps a fetched input once it is for `key` and hashes to the job's
    /// on-chain input hash.
    fn accept_input(
        &self,
        key: &Pubkey,
        job: &Job,
        reply: EvidenceReply,
    ) -> Result<String, EvidenceError> {
        if reply.job != *key {
            return Err(EvidenceError::WrongJob(reply.job));
        }
        if input_hash(&reply.input) != job.input_hash {
            return Err(EvidenceError::HashMismatch);
        }
        self.store.put_input(key, &reply.input)?;
        Ok(reply.input)
    }

    /// Asks the keeper at `url` for the input of `key` and keeps it if it
    /// checks out against `job` (the on-chain account).
    pub async fn input_from(
        &self,
        url: &str,
        key: &Pubkey,
        job: &Job,
    ) -> Result<String, EvidenceError> {
        let result = match &self.member {
            None => Err(EvidenceError::NoKey),
            Some(member) => match member.client.fetch_input(url, key).await {
                Ok(reply) => self.accept_input(key, job, reply),
                Err(e) => Err(e.into()),
            },
        };
        let label = result.as_ref().map_or_else(EvidenceError::label, |_| "ok");
        self.metrics
            .inputs_fetched_total
            .with_label_values(&[label])
            .inc();
        result
    }

    /// The input of a job this keeper does not hold, from the other
    /// keepers (all asked at once; the first input that checks out is
    /// kept). `None` when none supplies one; they are asked again after
    /// [`ASK_AGAIN_AFTER`].
    pub(crate) async fn input_from_peers(&self, key: &Pubkey, job: &Job) -> Option<String> {
        let member = self.member.as_ref()?;
        if !self.asked.lock().unwrap().allows(key, Instant::now()) {
            return None;
        }
        let mut asks = tokio::task::JoinSet::new();
        for (node, url) in member.peers.clone() {
            let (client, key) = (member.client.clone(), *key);
            asks.spawn(async move { (node, client.fetch_input(&url, &key).await) });
        }
        while let Some(joined) = asks.join_next().await {
            let Ok((peer, fetched)) = joined else {
                continue;
            };
            let result = fetched
                .map_err(EvidenceError::from)
                .and_then(|reply| self.accept_input(key, job, reply));
            let label = result.as_ref().map_or_else(EvidenceError::label, |_| "ok");
            self.metrics
                .inputs_fetched_total
                .with_label_values(&[label])
                .inc();
            match result {
                Ok(input) => {
                    tracing::info!(job = %key, %peer, "fetched the input of a job this keeper never held");
                    return Some(input);
                }
                Err(e) => {
                    tracing::debug!(job = %key, %peer, error = %e, "no usable input from this keeper")
                }
            }
        }
        tracing::info!(job = %key, "no keeper supplied the job's input");
        self.asked.lock().unwrap().record(*key, Instant::now());
        None
    }

    /// After each read of the chain, prunes what no dispute can need.
    /// Returns on `cancel`.
    pub async fn run(self: Arc<Self>, ctx: Context, cancel: CancellationToken) {
        ctx.clone()
            .each_view(&cancel, |view| {
                let me = self.clone();
                async move {
                    let Some(params) = view.params() else { return };
                    if let Err(e) = me.sweep(&view.chain, &params, view.now).await {
                        tracing::warn!(error = %e, "evidence sweep failed");
                    }
                }
            })
            .await;
    }

    /// Prunes the inputs no dispute can need any more, deciding from the
    /// chain's accounts and clock; an input is looked at again only when
    /// its recorded time comes (every round while its job is open or a
    /// dispute over it is voting).
    async fn sweep(
        &self,
        view: &ChainView,
        params: &ProtocolParams,
        now: i64,
    ) -> Result<(), KeeperError> {
        let window = (params.challenge_window_epochs as i64).saturating_mul(params.epoch_secs);
        let due = self.store.inputs_due(now)?;
        if !due.is_empty() {
            let jobs: HashMap<Pubkey, &Job> = view.jobs.iter().map(|(k, j)| (*k, j)).collect();
            for (key, recorded) in due {
                let disputes: Vec<&Dispute> = view
                    .disputes
                    .iter()
                    .filter(|(_, d)| d.job == key)
                    .map(|(_, d)| d)
                    .collect();
                // Not in the view: closed, or created since the view was read.
                let fresh = if jobs.contains_key(&key) {
                    None
                } else {
                    self.gateway.job(&key).await?
                };
                let job = jobs.get(&key).copied().or(fresh.as_ref());
                match input_retention(job, &disputes, window, now) {
                    Retention::Prune => {
                        self.store.remove_input(&key)?;
                        self.metrics.inputs_pruned_total.inc();
                        tracing::debug!(job = %key, "pruned a job's input: no dispute can need it");
                    }
                    Retention::Keep { until } => {
                        let at = until.unwrap_or(0);
                        if at != recorded {
                            self.store.retain_input_until(&key, at)?;
                        }
                    }
                }
            }
        }
        self.metrics
            .inputs_held
            .set(self.store.input_count()? as i64);
        Ok(())
    }
}
