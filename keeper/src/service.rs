//! Starts a keeper's subsystems as tokio tasks joined by channels and the
//! published chain view — watcher, dispatcher (one driver task per job,
//! bounded), poster, committee, disputes, trials, evidence, HTTP API with
//! metrics and health — and stops them: gracefully on a shutdown token, or
//! abruptly (a crash, for tests).

use std::collections::HashMap;
use std::net::SocketAddr;
use std::sync::Arc;

use anchor_lang::prelude::Pubkey;
use solana_sdk::signature::Keypair;
use tokio::sync::mpsc;
use tokio::task::JoinHandle;
use tokio_util::sync::CancellationToken;
use verdict_chain::Chain;

use crate::attester::{Attester, CommitteeAttester, LocalQuorum};
use crate::auctioneer::Auctioneer;
use crate::config::KeeperConfig;
use crate::context::Context;
use crate::dispatcher::Dispatcher;
use crate::disputes::Disputes;
use crate::draw::DrawKey;
use crate::error::KeeperError;
use crate::evidence::EvidenceService;
use crate::gateway::{Gateway, SendFaults};
use crate::gossip::Gossip;
use crate::member::CommitteeMember;
use crate::metrics::Metrics;
use crate::miners::Miners;
use crate::peer::auth::PeerAuth;
use crate::peer::Membership;
use crate::peer::PeerClient;
use crate::peer_server::PeerState;
use crate::poster::{PostQueue, Poster};
use crate::store::Store;
use crate::trials::Trials;
use crate::watcher::Watcher;

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
    /// Configuration, database, gateway, metrics and the latest chain view.
    pub ctx: Context,
    /// The miners as this keeper knows them (routing inputs, gossip, reference runs).
    pub miners: Arc<Miners>,
    /// The auction rounds among bidding miners, and their clearing prices.
    pub auctioneer: Arc<Auctioneer>,
    pub evidence: Arc<EvidenceService>,
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
        Self::release(self.store, self.ctx, self.miners, self.evidence).await;
        tracing::info!("keeper stopped");
    }

    /// Waits (bounded) until no task holds the database any more, so a new
    /// keeper can open it in this same process. Aborted tasks and the API's
    /// connection tasks drop their handles asynchronously.
    async fn release(
        store: std::sync::Weak<Store>,
        ctx: Context,
        miners: Arc<Miners>,
        evidence: Arc<EvidenceService>,
    ) {
        drop((ctx, miners, evidence));
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
        Self::release(self.store, self.ctx, self.miners, self.evidence).await;
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
    let (posts, post_rx) = PostQueue::new();
    let (queue, queued) = mpsc::channel::<Pubkey>(16_384);
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
    let ctx = Context::new(cfg, store.clone(), gateway.clone(), metrics.clone());
    let poster = Poster {
        gateway,
        attester,
        metrics,
        attempts: ctx.cfg.post_attempts,
    };
    let member = member.map(Arc::new);
    let draws = DrawKey::new(Arc::new(draw_key));
    let miners = Arc::new(Miners::new(ctx.clone(), gossip));
    let committee = Arc::new(CommitteeMember::new(
        ctx.clone(),
        miners.clone(),
        member.clone(),
        poster.clone(),
        queue.clone(),
        missed_rx,
    ));
    let evidence = Arc::new(EvidenceService::new(
        store.clone(),
        ctx.gateway.clone(),
        ctx.metrics.clone(),
        member,
    ));
    let auctioneer = Arc::new(Auctioneer::new(ctx.clone(), miners.clone(), draws.clone()));
    let dispatcher = Arc::new(Dispatcher::new(
        ctx.clone(),
        miners.clone(),
        auctioneer.clone(),
        committee.clone(),
        draws.clone(),
        posts.clone(),
        queue,
    ));
    let watcher = Arc::new(Watcher::new(
        ctx.clone(),
        miners.clone(),
        committee.clone(),
        dispatcher.clone(),
        posts,
        poster.clone(),
    ));
    let disputes = Arc::new(Disputes::new(
        ctx.clone(),
        miners.clone(),
        committee.clone(),
        evidence.clone(),
        draws,
    ));
    let trials = Arc::new(Trials::new(
        ctx.clone(),
        miners.clone(),
        committee.clone(),
        poster.clone(),
    ));
    let cancel = CancellationToken::new();

    let mut tasks = vec![("poster", tokio::spawn(poster.run(post_rx, cancel.clone())))];
    // First read of the chain before serving, so routing has miners.
    watcher.round().await?;
    let listener = tokio::net::TcpListener::bind(&ctx.cfg.listen)
        .await
        .map_err(|e| KeeperError::Bind(ctx.cfg.listen.clone(), e))?;
    let api_addr = listener
        .local_addr()
        .map_err(|e| KeeperError::Bind(ctx.cfg.listen.clone(), e))?;
    let peers = crate::peer_server::router(PeerState {
        ctx: ctx.clone(),
        committee: committee.clone(),
        evidence: evidence.clone(),
    });
    let app = crate::api::router(
        ctx.clone(),
        dispatcher.clone(),
        miners.clone(),
        auctioneer.clone(),
        peers,
    );
    tasks.extend([
        (
            "dispatcher",
            tokio::spawn(dispatcher.clone().run(queued, cancel.clone())),
        ),
        ("watcher", tokio::spawn(watcher.run(cancel.clone()))),
        (
            "auctioneer",
            tokio::spawn(auctioneer.clone().run(cancel.clone())),
        ),
        ("committee", tokio::spawn(committee.run(cancel.clone()))),
        ("disputes", tokio::spawn(disputes.run(cancel.clone()))),
        ("trials", tokio::spawn(trials.run(cancel.clone()))),
        (
            "evidence",
            tokio::spawn(evidence.clone().run(ctx.clone(), cancel.clone())),
        ),
        (
            "api",
            tokio::spawn(crate::api::serve(listener, app, cancel.clone())),
        ),
    ]);
    // Resume every unfinished job from the database.
    for rec in store.all()? {
        if !rec.phase.is_finished() {
            let _ = dispatcher.queue.try_send(rec.job);
        }
    }
    tracing::info!(%api_addr, "keeper started");
    Ok(KeeperHandle {
        api_addr,
        ctx,
        miners,
        auctioneer,
        evidence,
        cancel,
        tasks,
        store: Arc::downgrade(&store),
    })
}
