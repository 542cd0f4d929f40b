//! The watcher: each poll it reads the chain (the only step that changes
//! the view), publishes the new view, emits the gauges it shows, asks the
//! pure planner ([`crate::core::plan`]) what the round calls for, and fires
//! those actions: expiries through the poster's queue, resumed jobs to the
//! dispatcher, cranks through the poster. The other subsystems (committee,
//! disputes, trials, evidence) run their own rounds on each new view.

use std::collections::HashSet;
use std::sync::{Arc, Mutex};

use solana_sdk::signer::Signer;
use tokio_util::sync::CancellationToken;

use crate::context::{Context, View};
use crate::core::cosign::Evidence;
use crate::core::cranks::Crank;
use crate::core::lifecycle::Intent;
use crate::core::plan::{plan, Action, Inputs, Seen};
use crate::core::routing::RoutingSnapshot;
use crate::dispatcher::Dispatcher;
use crate::error::KeeperError;
use crate::member::CommitteeMember;
use crate::miners::Miners;
use crate::poster::{PostQueue, Poster};

/// The watcher and what it remembers between rounds.
pub struct Watcher {
    ctx: Context,
    miners: Arc<Miners>,
    committee: Arc<CommitteeMember>,
    dispatcher: Arc<Dispatcher>,
    /// Expiries go through the queue with the dispatcher's posts.
    posts: PostQueue,
    /// Cranks are sent directly.
    poster: Poster,
    /// Each job's state at the last round (progress restarts its failover clock).
    seen: Mutex<Seen>,
    /// Permissionless cranks already sent (each at most once).
    cranked: Mutex<HashSet<Crank>>,
}

impl Watcher {
    pub fn new(
        ctx: Context,
        miners: Arc<Miners>,
        committee: Arc<CommitteeMember>,
        dispatcher: Arc<Dispatcher>,
        posts: PostQueue,
        poster: Poster,
    ) -> Self {
        Watcher {
            ctx,
            miners,
            committee,
            dispatcher,
            posts,
            poster,
            seen: Mutex::new(Seen::new()),
            cranked: Mutex::new(HashSet::new()),
        }
    }

    /// A round every poll interval until `cancel`.
    pub async fn run(self: Arc<Self>, cancel: CancellationToken) {
        let mut tick = tokio::time::interval(self.ctx.cfg.poll_interval());
        tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        loop {
            tokio::select! {
                _ = cancel.cancelled() => return,
                _ = tick.tick() => {}
            }
            tokio::select! {
                _ = cancel.cancelled() => return,
                result = self.round() => if let Err(e) = result {
                    tracing::warn!(error = %e, "chain refresh failed");
                },
            }
        }
    }

    /// One round: fetch and publish, emit, plan, fire.
    pub async fn round(&self) -> Result<(), KeeperError> {
        let Some(view) = self.fetch().await? else {
            return Ok(());
        };
        self.emit(&view).await;
        let Some(params) = view.params() else {
            return Ok(());
        };
        let unfinished: HashSet<_> = self
            .ctx
            .store
            .all()?
            .into_iter()
            .filter(|rec| !rec.phase.is_finished())
            .map(|rec| rec.job)
            .collect();
        let round = {
            let (seen, cranked) = (self.seen.lock().unwrap(), self.cranked.lock().unwrap());
            plan(&Inputs {
                jobs: &view.chain.jobs,
                nodes: &view.chain.nodes,
                params: &params,
                now: view.now,
                paused: view.paused(),
                me: self.committee.membership.as_ref().map(|m| m.node),
                crank_claims: self.ctx.cfg.cranks.claims,
                crank_downtime: self.ctx.cfg.cranks.downtime_slashes,
                in_flight: &self.dispatcher.in_flight.keys(),
                unfinished: &unfinished,
                seen: &seen,
                cranked: &cranked,
            })
        };
        *self.seen.lock().unwrap() = round.seen;
        *self.cranked.lock().unwrap() = round.cranked;
        for job in &round.progressed {
            self.committee.touch(job);
        }
        for action in round.actions {
            self.fire(action, &view).await;
        }
        self.dispatcher.sweep_mempool()
    }

    /// Reads the chain, finds the miners' endpoints, rebuilds routing and
    /// publishes the view; `None` before the program is initialized.
    async fn fetch(&self) -> Result<Option<Arc<View>>, KeeperError> {
        let chain = self.ctx.gateway.view().await?;
        let Some(params) = chain.config.as_ref().map(|c| c.params) else {
            return Ok(None);
        };
        let now = self.ctx.gateway.now().await?;
        self.miners.discover(&chain);
        self.miners.refresh_prices().await;
        let profiles = self.miners.profiles(&chain, &params).await;
        let snapshot = RoutingSnapshot::build(profiles, &self.ctx.cfg.routing, now);
        let active_node_keys = chain
            .nodes
            .iter()
            .filter(|(_, n)| n.activity(&params).active)
            .map(|(_, n)| n.signing_key)
            .collect();
        self.ctx.publish(View {
            chain,
            now,
            snapshot: Arc::new(snapshot),
            active_node_keys,
        });
        Ok(Some(self.ctx.view()))
    }

    /// The gauges a view shows.
    async fn emit(&self, view: &View) {
        let metrics = &self.ctx.metrics;
        let nodes = &view.chain.nodes;
        if let Some(config) = &view.chain.config {
            metrics
                .validators_active
                .set(config.active_validators as i64);
        }
        metrics
            .validators_total
            .set(nodes.iter().filter(|(_, n)| n.is_validator()).count() as i64);
        metrics
            .average_reputation
            .set(view.snapshot.average_trust());
        if let (Some(member), Some(params)) = (&self.committee.membership, view.params()) {
            let seated = view
                .committee()
                .is_some_and(|c| c.index_of_key(&member.key.pubkey()).is_some());
            let expected = nodes
                .iter()
                .any(|(k, n)| *k == member.node && n.is_validator() && n.activity(&params).active);
            metrics.committee_member.set(i64::from(seated));
            metrics.committee_expected.set(i64::from(expected));
        }
        if let Err(error) = self.ctx.gateway.payer_balance().await {
            tracing::debug!(%error, "payer balance not read");
        }
    }

    async fn fire(&self, action: Action, view: &View) {
        match action {
            Action::Expire(job) => {
                if let Err(e) = self
                    .posts
                    .post(job, Intent::Expire, Evidence::default())
                    .await
                {
                    tracing::debug!(%job, error = %e, "expiry not posted");
                }
            }
            Action::Resume(job) => {
                let _ = self.dispatcher.queue.try_send(job);
            }
            Action::Crank(crank) => {
                let job = match crank {
                    Crank::ClaimPayout { job } | Crank::CloseJob { job } => view
                        .chain
                        .jobs
                        .iter()
                        .find(|(k, _)| *k == job)
                        .map(|(_, j)| j),
                    Crank::Downtime { .. } => None,
                };
                self.poster.crank(&crank, job).await;
            }
        }
    }
}
