//! Starts a keeper's subsystems as tokio tasks joined by channels — watcher,
//! dispatcher (one driver task per job, bounded), poster, HTTP API with
//! metrics and health — and stops them: gracefully on a shutdown token, or
//! abruptly (a crash, for tests).

use std::collections::{HashMap, HashSet};
use std::net::SocketAddr;
use std::sync::{Arc, Mutex};

use anchor_lang::prelude::Pubkey;
use solana_sdk::signature::Keypair;
use tokio::sync::{mpsc, Semaphore};
use tokio::task::{JoinHandle, JoinSet};
use tokio_util::sync::CancellationToken;
use verdict_chain::Chain;

use crate::attester::{Attester, CommitteeAttester, LocalQuorum};
use crate::config::KeeperConfig;
use crate::draw::DrawKey;
use crate::engine::{Engine, PostRequest};
use crate::error::KeeperError;
use crate::gateway::{Gateway, SendFaults};
use crate::gossip::Gossip;
use crate::metrics::Metrics;
use crate::peer::auth::PeerAuth;
use crate::peer::Membership;
use crate::peer::PeerClient;
use crate::poster::Poster;
use crate::store::Store;

/// Which keys sign the committee's attestations.
pub enum Signing {
    /// Every key of a local quorum: a keeper alone (a single-host committee, tests).
    LocalQuorum(Vec<Keypair>),
    /// This validator's own signing key; the other members co-sign over HTTP
    /// (`[committee]` in the configuration names the node and the peers).
    Member(Keypair),
}

/// What a keeper runs on besides its configuration.
pub struct Deps {
    pub chain: Chain,
    pub payer: Keypair,
    pub signing: Signing,
    /// The validator's operator wallet (committee members: disputes, claims).
    pub operator: Option<Keypair>,
    /// Test-only send faults.
    pub faults: Option<Arc<dyn SendFaults>>,
}

/// A running keeper.
pub struct KeeperHandle {
    pub api_addr: SocketAddr,
    pub engine: Arc<Engine>,
    cancel: CancellationToken,
    tasks: Vec<(&'static str, JoinHandle<()>)>,
    /// To wait until every task let go of the database after a stop.
    store: std::sync::Weak<Store>,
}

impl KeeperHandle {
    /// Graceful stop: every subsystem sees the token and returns.
    pub async fn shutdown(self) {
        self.cancel.cancel();
        for (name, task) in self.tasks {
            if let Err(e) = task.await {
                tracing::warn!(subsystem = name, error = %e, "subsystem ended abnormally");
            }
        }
        Self::release(self.store, self.engine).await;
        tracing::info!("keeper stopped");
    }

    /// Waits (bounded) until no task holds the database any more, so a new
    /// keeper can open it in this same process. Aborted tasks and the API's
    /// connection tasks drop their handles asynchronously.
    async fn release(store: std::sync::Weak<Store>, engine: Arc<Engine>) {
        drop(engine);
        for _ in 0..200 {
            if store.strong_count() == 0 {
                return;
            }
            tokio::time::sleep(std::time::Duration::from_millis(25)).await;
        }
        tracing::warn!("the database is still held after 5 s");
    }

    /// Simulated crash: every task is dropped wherever it is, without any
    /// cleanup (durable state is all that survives).
    pub async fn crash(self) {
        for (_, task) in &self.tasks {
            task.abort();
        }
        for (_, task) in self.tasks {
            let _ = task.await;
        }
        Self::release(self.store, self.engine).await;
    }

    pub fn api_url(&self) -> String {
        format!("http://{}", self.api_addr)
    }
}

pub async fn start(cfg: KeeperConfig, deps: Deps) -> Result<KeeperHandle, KeeperError> {
    cfg.check()?;
    let store = Arc::new(Store::open(&cfg.database)?);
    let metrics = Arc::new(Metrics::new());
    // The key of this keeper's secret draws (rule 10): a member's own
    // signing key; alone, the first key of its quorum (else its fee payer).
    let draw_key = match &deps.signing {
        Signing::LocalQuorum(keys) => keys.first().unwrap_or(&deps.payer).insecure_clone(),
        Signing::Member(key) => key.insecure_clone(),
    };
    let gateway = Arc::new(Gateway::new(
        deps.chain,
        deps.payer,
        deps.faults,
        metrics.clone(),
    ));
    let (poster_tx, poster_rx) = mpsc::channel::<PostRequest>(1024);
    let (dispatch_tx, dispatch_rx) = mpsc::channel::<Pubkey>(16_384);
    let (missed_tx, missed_rx) = mpsc::unbounded_channel();
    let (attester, member): (Arc<dyn Attester>, Option<Membership>) = match deps.signing {
        Signing::LocalQuorum(keys) => (Arc::new(LocalQuorum::new(keys)), None),
        Signing::Member(key) => {
            let node = cfg.committee.node.ok_or_else(|| {
                KeeperError::Config("a committee member needs committee.node".into())
            })?;
            let peers: HashMap<Pubkey, String> = cfg
                .committee
                .peers
                .iter()
                .filter(|p| p.node != node)
                .map(|p| (p.node, p.url.trim_end_matches('/').to_string()))
                .collect();
            let key = Arc::new(key);
            let client = PeerClient::new(key.clone(), cfg.committee.cosign_timeout());
            let deadline = crate::attester::CosignDeadline {
                base: cfg.committee.cosign_timeout(),
                ms_per_token: cfg.generation_ms_per_token,
            };
            let attester = CommitteeAttester::new(
                key.clone(),
                peers.clone(),
                client.clone(),
                missed_tx,
                deadline,
            );
            let operator = deps.operator.map(Arc::new);
            (
                Arc::new(attester),
                Some(Membership {
                    node,
                    key,
                    operator,
                    peers,
                    client,
                    auth: PeerAuth::default(),
                }),
            )
        }
    };
    let gossip = match (&member, &cfg.committee.gossip_listen) {
        (Some(m), Some(listen)) => {
            let addr = listen.parse().map_err(|_| {
                KeeperError::Config(format!(
                    "committee.gossip_listen {listen:?} is not host:port"
                ))
            })?;
            let interval = cfg
                .poll_interval()
                .min(std::time::Duration::from_millis(500));
            Some(Arc::new(
                Gossip::start(
                    &m.node.to_string(),
                    addr,
                    cfg.committee.gossip_seeds.clone(),
                    interval,
                )
                .await?,
            ))
        }
        _ => None,
    };
    let engine = Arc::new(Engine::new(
        cfg.clone(),
        store.clone(),
        gateway.clone(),
        metrics.clone(),
        poster_tx,
        dispatch_tx,
        attester.clone(),
        member,
        missed_rx,
        gossip,
        DrawKey::new(Arc::new(draw_key)),
    )?);
    let cancel = CancellationToken::new();
    let in_flight: Arc<Mutex<HashSet<Pubkey>>> = Arc::default();

    let poster = Poster {
        gateway,
        attester,
        metrics,
        attempts: cfg.post_attempts,
    };
    let mut tasks = vec![(
        "poster",
        tokio::spawn(run_poster(poster, poster_rx, cancel.clone())),
    )];
    // First read of the chain before serving, so routing has miners.
    engine.refresh(&in_flight).await?;
    let listener = tokio::net::TcpListener::bind(&cfg.listen)
        .await
        .map_err(|e| KeeperError::Bind(cfg.listen.clone(), e))?;
    let api_addr = listener
        .local_addr()
        .map_err(|e| KeeperError::Bind(cfg.listen.clone(), e))?;

    tasks.extend([
        (
            "dispatcher",
            tokio::spawn(run_dispatcher(
                engine.clone(),
                dispatch_rx,
                in_flight.clone(),
                cancel.clone(),
            )),
        ),
        (
            "watcher",
            tokio::spawn(run_watcher(engine.clone(), in_flight, cancel.clone())),
        ),
    ]);
    let app = crate::api::router(engine.clone());
    tasks.push((
        "api",
        tokio::spawn(crate::api::serve(listener, app, cancel.clone())),
    ));
    // Resume every unfinished job from the database.
    for rec in store.all()? {
        if !rec.phase.is_finished() {
            let _ = engine.dispatch_tx.try_send(rec.job);
        }
    }
    tracing::info!(%api_addr, "keeper started");
    Ok(KeeperHandle {
        api_addr,
        engine,
        cancel,
        tasks,
        store: Arc::downgrade(&store),
    })
}

/// Sends outcome transactions one at a time, in arrival order.
async fn run_poster(
    poster: Poster,
    mut rx: mpsc::Receiver<PostRequest>,
    cancel: CancellationToken,
) {
    loop {
        let request = tokio::select! {
            _ = cancel.cancelled() => return,
            r = rx.recv() => match r { Some(r) => r, None => return },
        };
        let result = tokio::select! {
            _ = cancel.cancelled() => return,
            r = poster.post(&request.job, &request.intent, &request.evidence) => r,
        };
        let _ = request.reply.send(result);
    }
}

/// One driver task per job, at most `max_concurrent_jobs` at once; a job
/// already being driven is not started twice.
async fn run_dispatcher(
    engine: Arc<Engine>,
    mut rx: mpsc::Receiver<Pubkey>,
    in_flight: Arc<Mutex<HashSet<Pubkey>>>,
    cancel: CancellationToken,
) {
    let permits = Arc::new(Semaphore::new(engine.cfg.max_concurrent_jobs));
    // Dropped with this task: a crash or shutdown ends every driver with it.
    let mut drivers = JoinSet::new();
    loop {
        let key = tokio::select! {
            _ = cancel.cancelled() => break,
            Some(_) = drivers.join_next(), if !drivers.is_empty() => continue,
            k = rx.recv() => match k { Some(k) => k, None => break },
        };
        if !in_flight.lock().unwrap().insert(key) {
            continue;
        }
        let (engine, in_flight, permits, cancel) = (
            engine.clone(),
            in_flight.clone(),
            permits.clone(),
            cancel.clone(),
        );
        drivers.spawn(async move {
            let Ok(_permit) = permits.acquire_owned().await else { return };
            tokio::select! {
                _ = cancel.cancelled() => {}
                result = engine.drive(key) => {
                    if let Err(e) = result {
                        tracing::warn!(job = %key, error = %e, "job driver stopped; the watcher resumes it");
                    }
                }
            }
            in_flight.lock().unwrap().remove(&key);
        });
    }
    drivers.shutdown().await;
}

/// Polls the chain: miners, committee, jobs to resume or expire, trials.
async fn run_watcher(
    engine: Arc<Engine>,
    in_flight: Arc<Mutex<HashSet<Pubkey>>>,
    cancel: CancellationToken,
) {
    let mut tick = tokio::time::interval(engine.cfg.poll_interval());
    tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        tokio::select! {
            _ = cancel.cancelled() => return,
            _ = tick.tick() => {}
        }
        let round = async {
            if let Err(e) = engine.refresh(&in_flight).await {
                tracing::warn!(error = %e, "chain refresh failed");
            }
            engine.run_trials().await;
        };
        tokio::select! {
            _ = cancel.cancelled() => return,
            _ = round => {}
        }
    }
}
