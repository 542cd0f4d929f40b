//! The miner's HTTP server: POST /infer, GET /health, GET /models, with JSON errors, a body limit and the configured fault modes.

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use axum::body::Bytes;
use axum::extract::rejection::BytesRejection;
use axum::extract::{DefaultBodyLimit, State};
use axum::http::{header, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Extension, Json, Router};
use ed25519_dalek::SigningKey;
use hyper::body::Incoming;
use hyper_util::rt::TokioIo;
use tokio::net::TcpListener;
use tokio::sync::Notify;
use tower::ServiceExt;
use verdict_wire::bid::{BidRequest, BidResponse, PricesResponse};

use crate::answer::{self, AnswerError, GenerationStats, Tamper};
use crate::api::{
    Digest32, ErrorBody, HealthResponse, InferRequest, InferResponse, JobId, MinerPubkey, ModelId,
    ModelsResponse, UnsignedResponse,
};
use crate::fault::{FaultPlan, Misbehaviour};
use verdict_models::ModelRegistry;

/// Default request body limit: generous for a sentence, small enough that a
/// flood of large bodies cannot exhaust memory.
pub const DEFAULT_MAX_BODY_BYTES: usize = 64 * 1024;

/// Everything a request handler needs.
pub struct MinerState {
    pub registry: ModelRegistry,
    signing_key: SigningKey,
    pubkey: MinerPubkey,
    pub faults: FaultPlan,
    pub max_body_bytes: usize,
    /// Requests, inference time and the node's upkeep (`GET /metrics`).
    pub metrics: Arc<crate::metrics::MinerMetrics>,
    /// Answers computed lately, shared by identical requests.
    answers: AnswerCache,
    /// Its prices, when it bids in keepers' auctions (`None`: it does not).
    pub pricing: Option<crate::pricing::Pricing>,
    /// Inference requests being answered now (the load bids follow).
    busy: std::sync::atomic::AtomicU32,
    /// Most inference requests answered at once; past it a request is
    /// refused at once with 503 `busy` instead of queueing (anyone can
    /// reach a miner's public endpoint, and each distinct request runs the
    /// model).
    pub max_concurrent: u32,
}

/// Default bound on inference requests answered at once: far above what
/// keepers send a miner (its capacity in auctions defaults to 4), low
/// enough that a flood cannot queue unbounded work.
pub const DEFAULT_MAX_CONCURRENT: u32 = 64;

/// Counts one request in [`MinerState::busy`] while it lives.
struct Busy<'a>(&'a std::sync::atomic::AtomicU32);

impl<'a> Busy<'a> {
    /// Counts a request in, unless `max` are running already.
    fn start(counter: &'a std::sync::atomic::AtomicU32, max: u32) -> Option<Self> {
        use std::sync::atomic::Ordering;
        counter
            .fetch_update(Ordering::AcqRel, Ordering::Acquire, |n| {
                (n < max).then_some(n + 1)
            })
            .ok()
            .map(|_| Busy(counter))
    }
}

impl Drop for Busy<'_> {
    fn drop(&mut self) {
        self.0.fetch_sub(1, std::sync::atomic::Ordering::Relaxed);
    }
}

/// What makes two requests the same job for this miner: the same answer.
type AnswerKey = (JobId, ModelId, Digest32, MinerPubkey, Tamper);
type SharedAnswer = Arc<tokio::sync::OnceCell<InferResponse>>;

/// The answers to the last [`AnswerCache::CAPACITY`] distinct requests,
/// each computed once: a keeper's co-signers recheck a high-risk job by
/// asking the same miners for the same answer (same job, input and seed),
/// and a generation takes seconds, so identical requests in flight wait for
/// the first one's answer instead of each running the model. Answers are
/// deterministic and signed, so a shared one is exactly what a fresh run
/// would give (its timings are those of the run that computed it).
#[derive(Default)]
struct AnswerCache {
    entries: std::sync::Mutex<(
        std::collections::HashMap<AnswerKey, SharedAnswer>,
        std::collections::VecDeque<AnswerKey>,
    )>,
}

impl AnswerCache {
    const CAPACITY: usize = 256;

    fn cell(&self, key: AnswerKey) -> SharedAnswer {
        let mut guard = self.entries.lock().unwrap_or_else(|p| p.into_inner());
        let (map, order) = &mut *guard;
        if let Some(cell) = map.get(&key) {
            return Arc::clone(cell);
        }
        if order.len() >= Self::CAPACITY {
            if let Some(oldest) = order.pop_front() {
                map.remove(&oldest);
            }
        }
        let cell = SharedAnswer::default();
        map.insert(key.clone(), Arc::clone(&cell));
        order.push_back(key);
        cell
    }
}

impl MinerState {
    pub fn new(
        registry: ModelRegistry,
        signing_key: SigningKey,
        faults: FaultPlan,
        max_body_bytes: usize,
    ) -> Self {
        let pubkey = MinerPubkey::from(&signing_key);
        MinerState {
            registry,
            signing_key,
            pubkey,
            faults,
            max_body_bytes,
            metrics: Arc::default(),
            answers: AnswerCache::default(),
            pricing: None,
            busy: Default::default(),
            max_concurrent: DEFAULT_MAX_CONCURRENT,
        }
    }

    pub fn pubkey(&self) -> MinerPubkey {
        self.pubkey
    }

    /// This miner bids at `pricing`.
    pub fn with_pricing(mut self, pricing: crate::pricing::Pricing) -> Self {
        self.pricing = Some(pricing);
        self
    }

    fn busy(&self) -> u32 {
        self.busy.load(std::sync::atomic::Ordering::Relaxed)
    }
}

/// Lets a handler close its own connection without answering (the `drop`
/// fault): axum has no such operation, so [`serve`] runs each connection
/// next to one of these and drops the connection when it fires.
#[derive(Clone, Default)]
struct ConnectionControl(Arc<Notify>);

impl ConnectionControl {
    fn close_without_response(&self) {
        // notify_one keeps a permit if the connection task is not waiting yet.
        self.0.notify_one();
    }

    async fn closed(&self) {
        self.0.notified().await;
    }
}

/// A non-2xx answer with a JSON [`ErrorBody`].
#[derive(Debug)]
struct ApiError {
    status: StatusCode,
    code: &'static str,
    message: String,
}

impl ApiError {
    fn new(status: StatusCode, code: &'static str, message: impl Into<String>) -> Self {
        ApiError {
            status,
            code,
            message: message.into(),
        }
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let body = ErrorBody {
            error: self.code.to_owned(),
            message: self.message,
        };
        (self.status, Json(body)).into_response()
    }
}

pub fn router(state: Arc<MinerState>) -> Router {
    let max_body_bytes = state.max_body_bytes;
    Router::new()
        .route("/infer", post(infer))
        .route("/health", get(health))
        .route("/models", get(models))
        .route("/metrics", get(metrics))
        .route("/prices", get(prices))
        .route("/bids", post(bids))
        .fallback(|| async {
            ApiError::new(StatusCode::NOT_FOUND, "not_found", "no such endpoint")
        })
        .layer(DefaultBodyLimit::max(max_body_bytes))
        .with_state(state)
}

/// Binds `bind` and serves in the background; returns the bound address.
pub async fn spawn(
    bind: SocketAddr,
    state: Arc<MinerState>,
) -> std::io::Result<(SocketAddr, tokio::task::JoinHandle<()>)> {
    let listener = TcpListener::bind(bind).await?;
    let address = listener.local_addr()?;
    let task = tokio::spawn(serve(listener, router(state)));
    Ok((address, task))
}

/// Accepts HTTP/1.1 connections forever, each served by `app` on its own task.
pub async fn serve(listener: TcpListener, app: Router) {
    loop {
        let (stream, peer) = match listener.accept().await {
            Ok(accepted) => accepted,
            Err(error) => {
                // Typically out of file descriptors: wait instead of spinning.
                tracing::warn!(%error, "accept failed");
                tokio::time::sleep(Duration::from_millis(50)).await;
                continue;
            }
        };
        let app = app.clone();
        tokio::spawn(async move {
            let control = ConnectionControl::default();
            let handler_control = control.clone();
            let service =
                hyper::service::service_fn(move |mut request: hyper::Request<Incoming>| {
                    request.extensions_mut().insert(handler_control.clone());
                    app.clone().oneshot(request)
                });
            let connection = hyper::server::conn::http1::Builder::new()
                .serve_connection(TokioIo::new(stream), service);
            tokio::select! {
                result = connection => {
                    if let Err(error) = result {
                        tracing::debug!(%peer, %error, "connection ended with an error");
                    }
                }
                () = control.closed() => tracing::info!(%peer, "closed the connection without a response (fault: drop)"),
            }
        });
    }
}

async fn health(State(state): State<Arc<MinerState>>) -> Json<HealthResponse> {
    Json(HealthResponse {
        status: "ok".to_owned(),
        miner_pubkey: state.pubkey,
        models: state.registry.ids(),
        version: env!("CARGO_PKG_VERSION").to_owned(),
    })
}

async fn models(State(state): State<Arc<MinerState>>) -> Json<ModelsResponse> {
    Json(ModelsResponse {
        models: state.registry.info(),
    })
}

/// The standing prices; 404 `not_bidding` when this miner does not bid.
async fn prices(State(state): State<Arc<MinerState>>) -> Result<Json<PricesResponse>, ApiError> {
    let pricing = state.pricing.as_ref().ok_or_else(not_bidding)?;
    Ok(Json(pricing.standing()))
}

/// Signed bids on a keeper's round, priced for the load right now.
async fn bids(
    State(state): State<Arc<MinerState>>,
    Json(request): Json<BidRequest>,
) -> Result<Json<BidResponse>, ApiError> {
    let pricing = state.pricing.as_ref().ok_or_else(not_bidding)?;
    let answer = pricing.bids(&state.signing_key, &request, state.busy());
    tracing::debug!(
        jobs = request.jobs.len(),
        bids = answer.bids.len(),
        "bids answered"
    );
    Ok(Json(answer))
}

fn not_bidding() -> ApiError {
    ApiError::new(
        StatusCode::NOT_FOUND,
        "not_bidding",
        "this miner does not bid in auctions (no --price)",
    )
}

fn unix_now_ms() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|elapsed| elapsed.as_millis() as u64)
        .unwrap_or(0)
}

fn saturating_u32(value: u128) -> u32 {
    u32::try_from(value).unwrap_or(u32::MAX)
}

/// A 200 whose body is not a valid response: truncated JSON, as a crashing
/// or corrupted miner might send.
fn garbage_response(request: &InferRequest) -> Response {
    let body = format!(
        "{{\"job_id\":\"{}\",\"output\":{{\"shape\":[\u{0}",
        request.job_id
    );
    ([(header::CONTENT_TYPE, "application/json")], body).into_response()
}

async fn metrics(State(state): State<Arc<MinerState>>) -> String {
    state.metrics.render()
}

async fn infer(
    State(state): State<Arc<MinerState>>,
    Extension(connection): Extension<ConnectionControl>,
    body: Result<Bytes, BytesRejection>,
) -> Response {
    let Some(_busy) = Busy::start(&state.busy, state.max_concurrent) else {
        state
            .metrics
            .requests_total
            .with_label_values(&["-", "busy"])
            .inc();
        return ApiError::new(
            StatusCode::SERVICE_UNAVAILABLE,
            "busy",
            format!(
                "the miner is answering {} requests, its most at once",
                state.max_concurrent
            ),
        )
        .into_response();
    };
    match handle_infer(&state, &connection, body).await {
        Ok(response) => response,
        Err(error) => {
            state
                .metrics
                .requests_total
                .with_label_values(&["-", error.code])
                .inc();
            tracing::info!(status = error.status.as_u16(), code = error.code, message = %error.message, "request refused");
            error.into_response()
        }
    }
}

async fn handle_infer(
    state: &Arc<MinerState>,
    connection: &ConnectionControl,
    body: Result<Bytes, BytesRejection>,
) -> Result<Response, ApiError> {
    let body = body.map_err(|rejection| {
        if rejection.status() == StatusCode::PAYLOAD_TOO_LARGE {
            ApiError::new(
                StatusCode::PAYLOAD_TOO_LARGE,
                "payload_too_large",
                format!("request body exceeds {} bytes", state.max_body_bytes),
            )
        } else {
            ApiError::new(
                StatusCode::BAD_REQUEST,
                "bad_request",
                rejection.body_text(),
            )
        }
    })?;
    let request: InferRequest = serde_json::from_slice(&body).map_err(|error| {
        ApiError::new(
            StatusCode::BAD_REQUEST,
            "bad_request",
            format!("invalid request: {error}"),
        )
    })?;

    if !state.registry.serves(&request.model_id) {
        let served: Vec<String> = state
            .registry
            .ids()
            .iter()
            .map(ToString::to_string)
            .collect();
        return Err(ApiError::new(
            StatusCode::NOT_FOUND,
            "unknown_model",
            format!(
                "this miner does not serve {:?}; it serves {}",
                request.model_id.as_str(),
                served.join(", ")
            ),
        ));
    }
    let input_hash = request.computed_input_hash();
    if let Some(claimed) = request.input_hash {
        if claimed != input_hash {
            return Err(ApiError::new(
                StatusCode::BAD_REQUEST,
                "input_hash_mismatch",
                format!("sha256(input) is {input_hash}, the request says {claimed}"),
            ));
        }
    }
    // A generative job's input must be a generation request: refused before
    // any model is loaded.
    answer::check_input(request.model_id.as_str(), &request.input)
        .map_err(|error| ApiError::new(StatusCode::BAD_REQUEST, error.code(), error.to_string()))?;
    if let Some(deadline) = request.deadline_unix_ms {
        let now = unix_now_ms();
        if now >= deadline {
            return Err(ApiError::new(
                StatusCode::REQUEST_TIMEOUT,
                "deadline_exceeded",
                format!("deadline {deadline} ms passed {} ms ago", now - deadline),
            ));
        }
    }

    let misbehaviour = state.faults.next();
    match misbehaviour {
        Some(Misbehaviour::Drop) => {
            connection.close_without_response();
            // The connection task drops this future along with the socket.
            return Ok(std::future::pending::<Response>().await);
        }
        Some(Misbehaviour::Garbage) => {
            tracing::info!(job = %request.job_id, "answering with garbage (fault)");
            return Ok(garbage_response(&request));
        }
        _ => {}
    }

    let tamper = match misbehaviour {
        Some(Misbehaviour::Wrong) => Tamper::WrongOutput,
        Some(Misbehaviour::Generation(tamper)) => tamper,
        _ => Tamper::Honest,
    };
    if tamper != Tamper::Honest {
        tracing::info!(job = %request.job_id, ?tamper, "tampering with the answer (fault)");
    }
    let response = run_job(state, &request, input_hash, tamper).await?;
    if let Some(Misbehaviour::Slow(delay)) = misbehaviour {
        tracing::info!(job = %request.job_id, delay_ms = delay.as_millis() as u64, "answering late (fault)");
        tokio::time::sleep(delay).await;
    }
    state
        .metrics
        .requests_total
        .with_label_values(&[request.model_id.as_str(), "ok"])
        .inc();
    tracing::info!(
        job = %request.job_id,
        model = %request.model_id,
        output_hash = %response.output_hash,
        load_ms = response.load_time_ms,
        inference_us = response.inference_time_us,
        "answered"
    );
    Ok(Json(response).into_response())
}

/// The signed answer to `request`: shared with an identical request
/// answered lately or in flight ([`AnswerCache`]), else computed by
/// [`compute_job`] in a task of its own. A requester that gives up (a
/// keeper's timeout while the model loads or a long generation runs) does
/// not cancel that work: its retry, or a co-signer's identical recheck,
/// waits for the same computation instead of starting again from nothing,
/// so a slow miner converges instead of timing out forever.
async fn run_job(
    state: &Arc<MinerState>,
    request: &InferRequest,
    input_hash: Digest32,
    tamper: Tamper,
) -> Result<InferResponse, ApiError> {
    let key = (
        request.job_id,
        request.model_id.clone(),
        input_hash,
        answer::sampled_as(request, &state.pubkey),
        tamper,
    );
    let cell = state.answers.cell(key);
    if let Some(answer) = cell.get() {
        return Ok(answer.clone());
    }
    let (state, request) = (Arc::clone(state), request.clone());
    tokio::spawn(async move {
        cell.get_or_try_init(|| compute_job(&state, &request, input_hash, tamper))
            .await
            .cloned()
    })
    .await
    .map_err(internal_error)?
}

/// A task of the miner's that panicked or was cancelled.
fn internal_error(error: tokio::task::JoinError) -> ApiError {
    ApiError::new(
        StatusCode::INTERNAL_SERVER_ERROR,
        "internal_error",
        error.to_string(),
    )
}

/// Loads the model if needed and answers with [`answer::compute_with`] (the
/// function a validator's recheck uses too), then signs; books the
/// computation's metrics (once per computation, however many requests
/// share it).
async fn compute_job(
    state: &MinerState,
    request: &InferRequest,
    input_hash: Digest32,
    tamper: Tamper,
) -> Result<InferResponse, ApiError> {
    let unavailable = |error: verdict_models::ModelError| {
        ApiError::new(
            StatusCode::INTERNAL_SERVER_ERROR,
            "model_unavailable",
            error.to_string(),
        )
    };
    let (model, load_time) = state
        .registry
        .ready(&request.model_id)
        .await
        .map_err(unavailable)?;

    let job = request.clone();
    let miner = state.pubkey;
    let answer =
        tokio::task::spawn_blocking(move || answer::compute_with(&model, &job, &miner, tamper))
            .await
            .map_err(internal_error)?
            .map_err(|error: AnswerError| {
                let status = match error {
                    AnswerError::InvalidInput(_) => StatusCode::BAD_REQUEST,
                    _ => StatusCode::INTERNAL_SERVER_ERROR,
                };
                ApiError::new(status, error.code(), error.to_string())
            })?;

    let response = UnsignedResponse {
        job_id: request.job_id,
        model_id: request.model_id.clone(),
        input_hash,
        output: answer.output,
        probes: answer.probes,
        sampled_as: answer.sampled_as,
        load_time_ms: saturating_u32(load_time.as_millis()),
        inference_time_us: saturating_u32(answer.inference_time.as_micros()),
    }
    .sign(&state.signing_key);
    record_computation(state, &response, answer.generation);
    Ok(response)
}

/// The metrics of one computation: its inference time, a model load it
/// paid, and a generation's tokens and speed.
fn record_computation(
    state: &MinerState,
    response: &InferResponse,
    generation: Option<GenerationStats>,
) {
    let model = response.model_id.as_str();
    let metrics = &state.metrics;
    let seconds = f64::from(response.inference_time_us) / 1e6;
    metrics
        .inference_seconds
        .with_label_values(&[model])
        .observe(seconds);
    if response.load_time_ms > 0 {
        metrics.model_loads_total.with_label_values(&[model]).inc();
    }
    if let Some(generation) = generation {
        let tokens = u64::from(generation.generated_tokens);
        metrics
            .tokens_generated_total
            .with_label_values(&[model])
            .inc_by(tokens);
        if seconds > 0.0 {
            metrics
                .generation_tokens_per_second
                .with_label_values(&[model])
                .observe(tokens as f64 / seconds);
        }
        metrics
            .first_token_seconds
            .with_label_values(&[model])
            .observe(generation.first_token.as_secs_f64());
    }
}
