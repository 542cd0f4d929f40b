//! What every subsystem of one keeper shares: its configuration, database,
//! chain gateway and metrics, and the latest view of the chain, which only
//! the watcher publishes (everyone else reads an immutable copy).

use std::collections::HashSet;
use std::future::Future;
use std::sync::Arc;

use anchor_lang::prelude::Pubkey;
use tokio::sync::watch;
use tokio_util::sync::CancellationToken;
use verdict::state::{Committee, ProtocolParams};

use crate::config::KeeperConfig;
use crate::core::routing::RoutingSnapshot;
use crate::gateway::{ChainView, Gateway};
use crate::metrics::Metrics;
use crate::store::Store;

/// One read of the chain and what the watcher derived from it. Immutable:
/// a new read is a new `View`.
#[derive(Default)]
pub struct View {
    /// The accounts as read (config, committee, nodes, jobs, disputes, votes).
    pub chain: ChainView,
    /// The chain's clock at the read.
    pub now: i64,
    /// The miners as routing sees them.
    pub snapshot: Arc<RoutingSnapshot>,
    /// Signing keys of the registered, active nodes (who may ask for evidence).
    pub active_node_keys: HashSet<Pubkey>,
}

impl View {
    /// The protocol's parameters, once the chain holds a Config.
    pub fn params(&self) -> Option<ProtocolParams> {
        self.chain.config.as_ref().map(|c| c.params)
    }

    pub fn committee(&self) -> Option<&Committee> {
        self.chain.committee.as_ref()
    }

    pub fn committee_epoch(&self) -> u64 {
        self.committee().map_or(0, |c| c.epoch)
    }

    /// Whether the protocol is paused (cranks wait).
    pub fn paused(&self) -> bool {
        self.chain.config.as_ref().is_some_and(|c| c.is_paused())
    }
}

/// The handles one keeper's subsystems share. Cheap to clone.
#[derive(Clone)]
pub struct Context {
    pub cfg: Arc<KeeperConfig>,
    pub store: Arc<Store>,
    pub gateway: Arc<Gateway>,
    pub metrics: Arc<Metrics>,
    views: Arc<watch::Sender<Arc<View>>>,
}

impl Context {
    pub fn new(
        cfg: KeeperConfig,
        store: Arc<Store>,
        gateway: Arc<Gateway>,
        metrics: Arc<Metrics>,
    ) -> Self {
        let (views, _) = watch::channel(Arc::new(View::default()));
        Context {
            cfg: Arc::new(cfg),
            store,
            gateway,
            metrics,
            views: Arc::new(views),
        }
    }

    /// The latest view of the chain.
    pub fn view(&self) -> Arc<View> {
        self.views.borrow().clone()
    }

    /// Wakes on each new view (a subsystem's round follows the watcher's).
    pub fn subscribe(&self) -> watch::Receiver<Arc<View>> {
        self.views.subscribe()
    }

    /// Runs `round` on each new view until `cancel` (a round in progress
    /// is dropped there too). A subsystem that falls behind skips to the
    /// newest view.
    pub async fn each_view<F, Fut>(&self, cancel: &CancellationToken, mut round: F)
    where
        F: FnMut(Arc<View>) -> Fut,
        Fut: Future<Output = ()>,
    {
        let mut views = self.subscribe();
        loop {
            tokio::select! {
                _ = cancel.cancelled() => return,
                changed = views.changed() => if changed.is_err() { return },
            }
            let view = views.borrow_and_update().clone();
            tokio::select! {
                _ = cancel.cancelled() => return,
                _ = round(view) => {}
            }
        }
    }

    /// The routing snapshot of the latest view.
    pub fn snapshot(&self) -> Arc<RoutingSnapshot> {
        self.view().snapshot.clone()
    }

    /// Publishes a new view (the watcher's fetch step).
    pub(crate) fn publish(&self, view: View) {
        self.views.send_replace(Arc::new(view));
    }

    /// A committee read outside the watcher's round (a peer request from a
    /// key the last view did not know, after a rotation): the latest view
    /// with that committee.
    pub(crate) fn publish_committee(&self, committee: Committee) {
        self.views.send_modify(|latest| {
            let mut chain = latest.chain.clone();
            chain.committee = Some(committee);
            *latest = Arc::new(View {
                chain,
                now: latest.now,
                snapshot: latest.snapshot.clone(),
                active_node_keys: latest.active_node_keys.clone(),
            });
        });
    }
}
