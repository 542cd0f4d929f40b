//! A Solana JSON-RPC server over the embedded chain (feature `bridge`): the
//! methods [`RpcChain`](crate::RpcChain) and solana-rpc-client use, in the
//! validator's wire format, so RPC clients and the keeper binary run against
//! the real program without a validator — with faults injected per method.
//!
//! ```text
//! let bridge = RpcBridge::start(chain.clone(), "127.0.0.1:0".parse()?)?;
//! let rpc = RpcChain::new(RpcConfig { urls: vec![bridge.url()], ..RpcConfig::default() });
//! bridge.inject("sendTransaction", Fault::DropAnswer, 1)?;
//! ```
//!
//! Served: getAccountInfo, getMultipleAccounts, getBalance,
//! getProgramAccounts (filters, withContext), getLatestBlockhash,
//! isBlockhashValid, sendTransaction (base58/base64, preflight with the
//! program's logs in -32002, skipPreflight, signature check -32003),
//! getSignatureStatuses, getTransaction, getSignaturesForAddress (before,
//! until, limit), getRecentPrioritizationFees, getFeeForMessage,
//! getMinimumBalanceForRentExemption, getSlot, getBlockHeight, getHealth
//! (and `GET /health`), getVersion; batches; anything else is -32601.
//! Params, results and error objects are the solana-rpc-client-api types a
//! validator serializes (codes -32002, -32003, -32005, -32015, -32016).
//!
//! Where the embedded bank differs from a validator: every commitment level
//! reads the one bank and every landed transaction is reported finalized;
//! getProgramAccounts finds only accounts some transaction named (the bank
//! has no owner index); `jsonParsed` accounts come back base64 (no parsers);
//! getTransaction serves binary encodings only (json is refused), with empty
//! pre/post balances; recent prioritization fees cover the last 150 slots in
//! which transactions landed; blockhashes expire after about a second (the
//! bank registers one every few milliseconds).
//!
//! [`RpcBridge::start_with`] with [`BridgeClock::Running`] makes the chain's
//! clock move on its own, as a cluster's does, for clients that wait for
//! time to pass instead of warping it (the main job's cluster mode).
//!
//! One OS thread runs the HTTP server (axum) and a worker that carries the
//! calls out on the chain one at a time, in arrival order (the embedded
//! chain's futures are not `Send`). A call handed to the worker is carried
//! out even when its client has given up, as a real node does.
//!
//! The embedded chain's bank is driven by the tokio runtime that started it:
//! keep that runtime running (wait asynchronously) while the bridge serves.

mod methods;

use std::collections::{HashMap, VecDeque};
use std::future::IntoFuture;
use std::net::SocketAddr;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use axum::body::{Body, Bytes};
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::Router;
use jsonrpc_core::{Call, Error as RpcError, Id, Output, Params, Request, Version};
use serde_json::Value;
use solana_rpc_client_api::custom_error::RpcCustomError;
use tokio::sync::{mpsc, oneshot};

use crate::EmbeddedChain;

/// What the bridge does to one call of a method.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Fault {
    /// Answer HTTP 503 without doing anything (the node or its proxy is down).
    Unavailable,
    /// Answer JSON-RPC -32005 "Node is behind by 42 slots" without doing anything.
    NodeUnhealthy,
    /// Do the work, then hold the answer this long: a client whose timeout
    /// is shorter gives up although the work (a transaction too) was done.
    Delay(Duration),
    /// Do the work, then cut the connection without an answer: the client
    /// sees a transport error although its transaction landed.
    DropAnswer,
    /// `sendTransaction` only: refuse as a validator does when it does not
    /// know the transaction's blockhash (preflight -32002 "Blockhash not
    /// found"), processing nothing; with `skipPreflight` a validator accepts
    /// and silently drops it, and so does the bridge.
    BlockhashNotFound,
}

#[derive(Debug, thiserror::Error)]
pub enum BridgeError {
    #[error("cannot listen on {addr}: {source}")]
    Bind {
        addr: SocketAddr,
        source: std::io::Error,
    },
    #[error("cannot start the bridge's runtime or thread: {0}")]
    Start(std::io::Error),
    #[error("fault {fault:?} does not apply to {method} (only to sendTransaction)")]
    FaultNotApplicable { method: String, fault: Fault },
}

/// How the chain's clock moves while the bridge serves it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum BridgeClock {
    /// Time and slots move only when a test moves them (warps).
    Frozen,
    /// Like a cluster's: the unix time runs at `speed` times the wall clock
    /// (1 for real time; more to compress a run's waits in tests), from
    /// wherever a test's warp put it. Slots move one at a time, at most one
    /// per tick, only when a client asks for the slot (`getSlot`, as the
    /// committee draw's crank does while it waits for its seed slot): with
    /// a warp every tick, CPIs of the natively run program into the system
    /// program failed now and then ("invalid instruction data", 2 runs of
    /// 9 of the main job's cluster test; none in 8 without).
    Running { speed: u32 },
}

/// A running bridge; stops when stopped or dropped.
pub struct RpcBridge {
    addr: SocketAddr,
    shared: Arc<Shared>,
    stop: Option<oneshot::Sender<()>>,
    thread: Option<std::thread::JoinHandle<()>>,
}

impl RpcBridge {
    /// Serves `chain` on `addr` (port 0 picks a free port; see [`url`](Self::url))
    /// with its clock frozen.
    pub fn start(chain: Arc<EmbeddedChain>, addr: SocketAddr) -> Result<RpcBridge, BridgeError> {
        Self::start_with(chain, addr, BridgeClock::Frozen)
    }

    /// Serves `chain` on `addr`, its clock moving as `clock` says.
    pub fn start_with(
        chain: Arc<EmbeddedChain>,
        addr: SocketAddr,
        clock: BridgeClock,
    ) -> Result<RpcBridge, BridgeError> {
        let std_listener = std::net::TcpListener::bind(addr)
            .map_err(|source| BridgeError::Bind { addr, source })?;
        let bound = std_listener
            .local_addr()
            .map_err(|source| BridgeError::Bind { addr, source })?;
        std_listener
            .set_nonblocking(true)
            .map_err(BridgeError::Start)?;
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .map_err(BridgeError::Start)?;
        let listener = {
            let _inside = runtime.enter();
            tokio::net::TcpListener::from_std(std_listener).map_err(BridgeError::Start)?
        };
        let (work_tx, work_rx) = mpsc::unbounded_channel();
        let shared = Arc::new(Shared {
            faults: Mutex::default(),
            work: work_tx,
        });
        let (stop_tx, stop_rx) = oneshot::channel::<()>();
        let app = Router::new()
            .route("/", post(handle))
            .route("/health", get(|| async { "ok" }))
            .with_state(shared.clone());
        let thread = std::thread::Builder::new()
            .name("verdict-rpc-bridge".into())
            .spawn(move || {
                let local = tokio::task::LocalSet::new();
                local.block_on(&runtime, async move {
                    tokio::task::spawn_local(worker(chain, work_rx, clock));
                    tokio::select! {
                        served = axum::serve(listener, app).into_future() => {
                            if let Err(e) = served {
                                tracing::error!(error = %e, "rpc bridge stopped serving");
                            }
                        }
                        _ = stop_rx => {}
                    }
                });
                // Dropping the runtime here closes the listener and every
                // open connection at once, as a node going down does.
                drop(local);
                drop(runtime);
            })
            .map_err(BridgeError::Start)?;
        Ok(RpcBridge {
            addr: bound,
            shared,
            stop: Some(stop_tx),
            thread: Some(thread),
        })
    }

    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    pub fn url(&self) -> String {
        format!("http://{}", self.addr)
    }

    /// Applies `fault` to the next `times` calls of `method` (after any
    /// faults already queued for it).
    pub fn inject(&self, method: &str, fault: Fault, times: usize) -> Result<(), BridgeError> {
        if fault == Fault::BlockhashNotFound && method != "sendTransaction" {
            return Err(BridgeError::FaultNotApplicable {
                method: method.into(),
                fault,
            });
        }
        let mut book = self.shared.faults.lock().unwrap();
        book.queued
            .entry(method.to_string())
            .or_default()
            .extend(std::iter::repeat_n(fault, times));
        Ok(())
    }

    /// Faults still queued for `method`.
    pub fn pending(&self, method: &str) -> usize {
        self.shared
            .faults
            .lock()
            .unwrap()
            .queued
            .get(method)
            .map_or(0, VecDeque::len)
    }

    /// Calls of `method` received so far (faulty ones included).
    pub fn calls(&self, method: &str) -> u64 {
        self.shared
            .faults
            .lock()
            .unwrap()
            .calls
            .get(method)
            .copied()
            .unwrap_or(0)
    }

    /// Forgets every queued fault.
    pub fn clear_faults(&self) {
        self.shared.faults.lock().unwrap().queued.clear();
    }

    /// Stops serving: the port closes and open connections are cut.
    pub fn stop(mut self) {
        self.shutdown();
    }

    fn shutdown(&mut self) {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
        if let Some(thread) = self.thread.take() {
            let _ = thread.join();
        }
    }
}

impl Drop for RpcBridge {
    fn drop(&mut self) {
        self.shutdown();
    }
}

#[derive(Default)]
struct FaultBook {
    queued: HashMap<String, VecDeque<Fault>>,
    calls: HashMap<String, u64>,
}

struct Shared {
    faults: Mutex<FaultBook>,
    work: mpsc::UnboundedSender<Work>,
}

impl Shared {
    /// Counts the call and takes the next fault queued for its method.
    fn next_fault(&self, method: &str) -> Option<Fault> {
        let mut book = self.faults.lock().unwrap();
        *book.calls.entry(method.to_string()).or_default() += 1;
        book.queued.get_mut(method).and_then(VecDeque::pop_front)
    }

    async fn run(
        &self,
        method: String,
        params: Params,
        blockhash_not_found: bool,
    ) -> Result<Value, RpcError> {
        let (reply, answer) = oneshot::channel();
        self.work
            .send(Work {
                method,
                params,
                blockhash_not_found,
                reply,
            })
            .map_err(|_| stopped())?;
        answer.await.map_err(|_| stopped())?
    }
}

fn stopped() -> RpcError {
    RpcError {
        code: jsonrpc_core::ErrorCode::InternalError,
        message: "the bridge is stopping".into(),
        data: None,
    }
}

/// One call for the worker.
struct Work {
    method: String,
    params: Params,
    blockhash_not_found: bool,
    reply: oneshot::Sender<Result<Value, RpcError>>,
}

async fn worker(
    chain: Arc<EmbeddedChain>,
    mut calls: mpsc::UnboundedReceiver<Work>,
    clock: BridgeClock,
) {
    const TICK: Duration = Duration::from_millis(400);
    let speed = match clock {
        BridgeClock::Frozen => None,
        BridgeClock::Running { speed } => Some(speed.max(1) as u128),
    };
    let mut ticks = tokio::time::interval(TICK);
    ticks.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    let mut last = tokio::time::Instant::now();
    let mut last_slot = last;
    // Unix time owed but not yet applied (the clock has whole seconds).
    let mut owed_ms: u128 = 0;
    loop {
        tokio::select! {
            work = calls.recv() => {
                let Some(work) = work else { break };
                // Slots move when someone watches them (the committee draw
                // waits for one), at most one per tick: see `BridgeClock`.
                if speed.is_some() && work.method == "getSlot" && last_slot.elapsed() >= TICK {
                    chain.next_slot().await;
                    last_slot = tokio::time::Instant::now();
                }
                let result = methods::call(&chain, &work.method, work.params, work.blockhash_not_found).await;
                let _ = work.reply.send(result);
            }
            _ = ticks.tick(), if speed.is_some() => {
                // Forward from wherever the clock is, so a test's warp holds.
                let now = tokio::time::Instant::now();
                owed_ms += (now - last).as_millis() * speed.unwrap_or(1);
                last = now;
                if owed_ms >= 1_000 {
                    chain.advance_time((owed_ms / 1_000) as i64).await;
                    owed_ms %= 1_000;
                }
            }
        }
    }
}

/// How the bridge answers one call.
enum Answer {
    /// A JSON-RPC output (none for a notification).
    Output(Option<Output>),
    Unavailable,
    Drop,
}

async fn answer(shared: &Shared, call: Call) -> Answer {
    let (method, params, id, version) = match call {
        Call::MethodCall(c) => (c.method, c.params, Some(c.id), c.jsonrpc),
        Call::Notification(n) => (n.method, n.params, None, n.jsonrpc),
        Call::Invalid { id } => {
            return Answer::Output(Some(Output::invalid_request(id, Some(Version::V2))))
        }
    };
    let fault = shared.next_fault(&method);
    if let Some(f) = &fault {
        tracing::debug!(method, fault = ?f, "injecting a fault");
    }
    let result = match fault {
        Some(Fault::Unavailable) => return Answer::Unavailable,
        Some(Fault::NodeUnhealthy) => Err(RpcCustomError::NodeUnhealthy {
            num_slots_behind: Some(42),
        }
        .into()),
        _ => {
            shared
                .run(method, params, fault == Some(Fault::BlockhashNotFound))
                .await
        }
    };
    match fault {
        Some(Fault::DropAnswer) => return Answer::Drop,
        Some(Fault::Delay(delay)) => tokio::time::sleep(delay).await,
        _ => {}
    }
    Answer::Output(id.map(|id: Id| Output::from(result, id, version)))
}

async fn handle(State(shared): State<Arc<Shared>>, body: Bytes) -> Response {
    let request: Request = match serde_json::from_slice(&body) {
        Ok(r) => r,
        Err(_) => {
            return json(&jsonrpc_core::Response::from(
                RpcError::parse_error(),
                Some(Version::V2),
            ))
        }
    };
    let (calls, batch) = match request {
        Request::Single(call) => (vec![call], false),
        Request::Batch(calls) => (calls, true),
    };
    let mut outputs = Vec::new();
    for call in calls {
        match answer(&shared, call).await {
            Answer::Output(output) => outputs.extend(output),
            Answer::Unavailable => return StatusCode::SERVICE_UNAVAILABLE.into_response(),
            Answer::Drop => return cut_connection(),
        }
    }
    if batch {
        return json(&jsonrpc_core::Response::Batch(outputs));
    }
    match outputs.pop() {
        Some(output) => json(&jsonrpc_core::Response::Single(output)),
        // A notification: nothing to answer.
        None => StatusCode::OK.into_response(),
    }
}

fn json(response: &jsonrpc_core::Response) -> Response {
    axum::Json(response).into_response()
}

/// A response whose body fails before its first byte: hyper aborts the
/// connection, and the client gets a transport error instead of an answer.
fn cut_connection() -> Response {
    let failing = futures_util::stream::once(async {
        Err::<Bytes, std::io::Error>(std::io::Error::other("answer dropped (injected fault)"))
    });
    Response::new(Body::from_stream(failing))
}
