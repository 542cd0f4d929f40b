//! The keeper's HTTP API: intake (a client hands the input of a job it
//! submitted on chain, and later fetches the verified output), latency
//! statistics (JSON and a text table), Prometheus `/metrics` and `/health`.

use std::collections::HashSet;
use std::sync::{Arc, Mutex};
use std::time::Instant;

use anchor_lang::prelude::Pubkey;
use axum::extract::{DefaultBodyLimit, Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use serde::Serialize;
use sha2::{Digest, Sha256};
use verdict::state::{JobStatus, RiskLevel};
use verdict_wire::keeper::{JobProgress, JobView, QuoteView, SubmitInput};
use verdict_wire::miner::{Digest32, JobId};

use crate::auctioneer::Auctioneer;
use crate::clock::wall_secs;
use crate::context::Context;
use crate::core::auction::Quote;
use crate::core::lifecycle::Phase;
use crate::core::ratelimit::RateLimiter;
use crate::core::routing::RouteRequest;
use crate::dispatcher::Dispatcher;
use crate::error::ApiError;
use crate::miners::Miners;
use crate::store::JobRecord;

struct AppState {
    ctx: Context,
    dispatcher: Arc<Dispatcher>,
    miners: Arc<Miners>,
    auctioneer: Arc<Auctioneer>,
    limiter: Mutex<RateLimiter<Pubkey>>,
    started: Instant,
}

/// Serves `app` until `cancel`, each connection on a task owned by this
/// one: a graceful stop lets open requests finish (up to 5 s), and aborting
/// this task (a crash) drops every connection at once, as a killed process would.
pub async fn serve(
    listener: tokio::net::TcpListener,
    app: Router,
    cancel: tokio_util::sync::CancellationToken,
) {
    use tower::ServiceExt;
    let mut connections = tokio::task::JoinSet::new();
    loop {
        let (stream, _) = tokio::select! {
            _ = cancel.cancelled() => break,
            Some(_) = connections.join_next(), if !connections.is_empty() => continue,
            accepted = listener.accept() => match accepted {
                Ok(a) => a,
                Err(error) => {
                    // Typically out of file descriptors: wait instead of spinning.
                    tracing::warn!(%error, "accept failed");
                    tokio::time::sleep(std::time::Duration::from_millis(50)).await;
                    continue;
                }
            },
        };
        let app = app.clone();
        let cancel = cancel.clone();
        connections.spawn(async move {
            let service = hyper::service::service_fn(
                move |request: hyper::Request<hyper::body::Incoming>| app.clone().oneshot(request),
            );
            let connection = hyper::server::conn::http1::Builder::new()
                .serve_connection(hyper_util::rt::TokioIo::new(stream), service);
            let mut connection = std::pin::pin!(connection);
            tokio::select! {
                _ = connection.as_mut() => {}
                _ = cancel.cancelled() => {
                    connection.as_mut().graceful_shutdown();
                    let _ = connection.await;
                }
            }
        });
    }
    drop(listener);
    let _ = tokio::time::timeout(std::time::Duration::from_secs(5), async {
        while connections.join_next().await.is_some() {}
    })
    .await;
}

/// The API's routes, with the member endpoints of `peers` mounted beside them.
pub fn router(
    ctx: Context,
    dispatcher: Arc<Dispatcher>,
    miners: Arc<Miners>,
    auctioneer: Arc<Auctioneer>,
    peers: Router,
) -> Router {
    let max = ctx.cfg.max_input_bytes;
    let limiter = RateLimiter::new(ctx.cfg.client_requests_per_sec, ctx.cfg.client_burst);
    let state = Arc::new(AppState {
        ctx,
        dispatcher,
        miners,
        auctioneer,
        limiter: Mutex::new(limiter),
        started: Instant::now(),
    });
    Router::new()
        .route("/v1/jobs", post(submit))
        .route("/v1/jobs/{job}", get(job_status))
        .route("/v1/quote", get(quote))
        .route("/v1/miners/latency", get(latency_json))
        .route("/v1/miners/latency.txt", get(latency_table))
        .route("/metrics", get(metrics))
        .route("/health", get(health))
        // Room for JSON framing around the largest accepted input; the
        // input's own size is checked (with a clear error) in the handler.
        .layer(DefaultBodyLimit::max(
            max.saturating_mul(2).saturating_add(4096),
        ))
        .with_state(state)
        .merge(peers)
}

fn view(rec: &JobRecord) -> JobView {
    let status = match rec.phase {
        Phase::Queued => JobProgress::Queued,
        Phase::Running => JobProgress::Running,
        Phase::Done => JobProgress::Done,
        Phase::Failed => JobProgress::Failed,
    };
    let out = rec.output.as_ref().filter(|_| rec.phase == Phase::Done);
    JobView {
        job: JobId(rec.job.to_bytes()),
        status,
        miner: out.map(|o| o.miner.to_string()),
        output: out.map(|o| o.output.clone()),
        output_hash: out.map(|o| Digest32(o.report.output_hash)),
        response_ms: out.map(|o| o.report.response_ms),
        receipt: out.and_then(|o| o.receipt.clone()),
        error: rec.failure.clone(),
        miners_failed: rec.tried.len(),
    }
}

async fn submit(
    State(s): State<Arc<AppState>>,
    Json(body): Json<SubmitInput>,
) -> Result<(StatusCode, Json<JobView>), ApiError> {
    let ctx = &s.ctx;
    if body.input.len() > ctx.cfg.max_input_bytes {
        return Err(ApiError::new(
            StatusCode::PAYLOAD_TOO_LARGE,
            "input_too_large",
            format!(
                "input is {} bytes; the limit is {}",
                body.input.len(),
                ctx.cfg.max_input_bytes
            ),
        ));
    }
    let key = Pubkey::new_from_array(body.job.0);
    let job = ctx.gateway.job(&key).await?.ok_or_else(|| {
        ApiError::new(
            StatusCode::NOT_FOUND,
            "unknown_job",
            format!("no job account {key} on chain; submit the job first"),
        )
    })?;
    let now = s.started.elapsed().as_secs_f64();
    if !s.limiter.lock().unwrap().allow(&job.client, now) {
        return Err(ApiError::new(
            StatusCode::TOO_MANY_REQUESTS,
            "rate_limited",
            "too many jobs from this client; slow down",
        ));
    }
    let taken = take_input(&s, key, &job, body).await;
    // The client's record: what it sent was taken, or refused on its merits.
    let mut limiter = s.limiter.lock().unwrap();
    match &taken {
        Ok((StatusCode::ACCEPTED, _)) => limiter.record(&job.client, true),
        Err(e) if e.is_client_fault() => limiter.record(&job.client, false),
        _ => {}
    }
    taken
}

/// Checks a client's input against its on-chain job and queues it.
async fn take_input(
    s: &AppState,
    key: Pubkey,
    job: &verdict::state::Job,
    body: SubmitInput,
) -> Result<(StatusCode, Json<JobView>), ApiError> {
    let ctx = &s.ctx;
    let hash: [u8; 32] = Sha256::digest(body.input.as_bytes()).into();
    if hash != job.input_hash {
        return Err(ApiError::client_fault(
            StatusCode::UNPROCESSABLE_ENTITY,
            "input_hash_mismatch",
            format!(
                "sha256(input) = {} but the job commits to {}",
                hex::encode(hash),
                hex::encode(job.input_hash)
            ),
        ));
    }
    let model = crate::core::model_name(&job.model);
    if let Err(error) = crate::core::validation::job_input(&model, &body.input) {
        return Err(ApiError::client_fault(
            StatusCode::UNPROCESSABLE_ENTITY,
            "invalid_input",
            format!("the input is not a valid request for {model}: {error}"),
        ));
    }
    if let Some(rec) = ctx.store.get(&key)? {
        // Idempotent: the same input again just reports progress.
        return Ok((StatusCode::OK, Json(view(&rec))));
    }
    let floor = ctx
        .cfg
        .fee_floor
        .max(ctx.view().params().map_or(0, |p| p.min_job_fee));
    if job.max_fee < floor {
        return Err(ApiError::client_fault(
            StatusCode::PAYMENT_REQUIRED,
            "fee_below_floor",
            format!(
                "the job escrows {} but this keeper takes jobs from {}",
                job.max_fee, floor
            ),
        ));
    }
    if let Market {
        quote: Some(quote),
        list_price_miners: 0,
    } = s.market(&job.model, job.risk())
    {
        // Every miner that may take it bids, and each asks more than the fee.
        if job.max_fee < quote.lowest {
            return Err(ApiError::client_fault(
                StatusCode::PAYMENT_REQUIRED,
                "fee_below_market",
                format!(
                    "the job escrows {} but the miners that may take it ask from {} (median {}); resubmit with a higher max fee",
                    job.max_fee, quote.lowest, quote.median
                ),
            ));
        }
    }
    if job.status() != JobStatus::Sent {
        return Err(ApiError::new(
            StatusCode::CONFLICT,
            "job_not_open",
            format!("the job is {:?}, not waiting for a miner", job.status()),
        ));
    }
    let rec = JobRecord::new(key, job, body.input, body.realtime, wall_secs());
    s.dispatcher.accept(rec.clone())?;
    Ok((StatusCode::ACCEPTED, Json(view(&rec))))
}

async fn job_status(
    State(s): State<Arc<AppState>>,
    Path(job): Path<String>,
) -> Result<Response, ApiError> {
    let key: Pubkey = job.parse().map_err(|_| {
        ApiError::new(
            StatusCode::BAD_REQUEST,
            "bad_job_id",
            "job must be a base58 public key",
        )
    })?;
    let rec = s.ctx.store.get(&key)?.ok_or_else(|| {
        ApiError::new(
            StatusCode::NOT_FOUND,
            "unknown_job",
            "this keeper has no input for that job",
        )
    })?;
    let code = match rec.phase {
        Phase::Done => StatusCode::OK,
        Phase::Failed => StatusCode::BAD_GATEWAY,
        _ => StatusCode::ACCEPTED,
    };
    Ok((code, Json(view(&rec))).into_response())
}

/// `GET /v1/quote` query.
#[derive(serde::Deserialize)]
struct QuoteQuery {
    model: String,
    /// `low`, `medium` or `high`.
    risk: String,
}

/// What the miners that may take such a job ask for it now.
async fn quote(
    State(s): State<Arc<AppState>>,
    axum::extract::Query(q): axum::extract::Query<QuoteQuery>,
) -> Result<Json<QuoteView>, ApiError> {
    let bad = |what: String| ApiError::new(StatusCode::BAD_REQUEST, "bad_request", what);
    let model = verdict::state::model_id(&q.model)
        .map_err(|_| bad(format!("{:?} is not a model id", q.model)))?;
    let risk = RiskLevel::from_name(&q.risk)
        .ok_or_else(|| bad(format!("risk {:?} is not low, medium or high", q.risk)))?;
    let quote = s.market(&model, risk).quote.ok_or_else(|| {
        ApiError::new(
            StatusCode::NOT_FOUND,
            "no_quote",
            format!("no miner that may take a {} job prices {}", q.risk, q.model),
        )
    })?;
    let clearing = s.auctioneer.book.lock().unwrap().quote(&model, risk);
    Ok(Json(QuoteView {
        model_id: q.model,
        risk: risk as u8,
        lowest: quote.lowest,
        median: quote.median,
        highest: quote.highest,
        miners: quote.count,
        clearing_median: clearing.map(|c| c.median),
        cleared: clearing.map_or(0, |c| c.count),
    }))
}

/// The market for a kind of job: the standing prices of the miners that
/// may take it and bid, and how many that may take it do not bid (they
/// take it at the list price).
struct Market {
    quote: Option<Quote>,
    list_price_miners: usize,
}

impl AppState {
    fn market(&self, model: &verdict::state::ModelId, risk: RiskLevel) -> Market {
        let view = self.ctx.view();
        let request = RouteRequest {
            risk,
            model: *model,
            realtime: false,
            now: view.now,
            exclude: &[],
        };
        let eligible: HashSet<Pubkey> = view
            .snapshot
            .route(&request, &self.ctx.cfg.routing, usize::MAX)
            .iter()
            .map(|m| m.profile.node)
            .collect();
        let bidders = self.auctioneer.bidders();
        let prices = self
            .miners
            .standing_prices(&crate::core::model_name(model), risk)
            .into_iter()
            .filter(|(node, _)| eligible.contains(node) && bidders.contains(node))
            .map(|(_, price)| price);
        Market {
            quote: Quote::of(prices),
            list_price_miners: eligible.difference(&bidders).count(),
        }
    }
}

async fn latency_json(
    State(s): State<Arc<AppState>>,
) -> Json<Vec<crate::core::latency::MinerLatency>> {
    Json(s.miners.latency.lock().unwrap().summaries())
}

async fn latency_table(State(s): State<Arc<AppState>>) -> String {
    s.miners.latency.lock().unwrap().table()
}

async fn metrics(State(s): State<Arc<AppState>>) -> String {
    s.ctx.metrics.render()
}

#[derive(Serialize)]
struct Health {
    ok: bool,
    chain: String,
    database: String,
    committee_epoch: u64,
}

/// Exercises what the keeper depends on: an account read of the Config
/// through the chain client, and a database read.
async fn health(State(s): State<Arc<AppState>>) -> (StatusCode, Json<Health>) {
    let chain = match s.ctx.gateway.config().await {
        Ok(c) => format!("ok (config read, paused={})", c.is_paused()),
        Err(e) => format!("error: {e}"),
    };
    let database = match s.ctx.store.count() {
        Ok(n) => format!("ok ({n} jobs)"),
        Err(e) => format!("error: {e}"),
    };
    let ok = chain.starts_with("ok") && database.starts_with("ok");
    let committee_epoch = s.ctx.view().committee_epoch();
    let code = if ok {
        StatusCode::OK
    } else {
        StatusCode::SERVICE_UNAVAILABLE
    };
    (
        code,
        Json(Health {
            ok,
            chain,
            database,
            committee_epoch,
        }),
    )
}
