//! The auctioneer: gathers the jobs waiting for a miner into rounds, asks
//! each bidding miner, on its own, for sealed bids on the round's jobs it
//! may take, and clears the round by [`crate::core::auction`] once the bids
//! are in. A miner sees only its own call (its jobs, the round's id and
//! close), never another's bid; every bid is opened together after the
//! close, and a bid that comes later is not read.
//!
//! Only miners that publish standing prices (`GET /prices`) are asked;
//! the dispatcher places the others at the list price (`price_bps`).

use std::collections::{HashMap, HashSet};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Instant, SystemTime, UNIX_EPOCH};

use anchor_lang::prelude::Pubkey;
use tokio::sync::{mpsc, oneshot};
use tokio::task::JoinSet;
use tokio_util::sync::CancellationToken;
use verdict_wire::bid::{BidJob, BidRequest};
use verdict_wire::client::ClientError;
use verdict_wire::miner::{Digest32, JobId, MinerPubkey};

use crate::context::Context;
use crate::core::auction::{admit, clear, ClearingBook, Lot, Offer, Round, Unplaced};
use crate::core::routing::{Ranked, RouteRequest, RoutingSnapshot, RoutingWeights};
use crate::draw::DrawKey;
use crate::miners::Miners;
use verdict::constants::BPS_DENOMINATOR as BPS;

/// Clearing prices kept per model and risk level for quotes.
pub const CLEARING_WINDOW: usize = 64;

/// A job offered to the next round.
#[derive(Clone, Debug)]
pub struct Offered {
    pub lot: Lot,
    /// Miners that already failed it.
    pub exclude: Vec<Pubkey>,
    pub realtime: bool,
    /// Drawn into the share reserved for Tier 3 miners (fair entry,
    /// `routing.tier3_reserved_bps`): only they may bid on it, so newcomers
    /// build a record even where trusted miners bid as low.
    pub tier3_only: bool,
}

impl Offered {
    /// Whether `m` may bid on this job: routing's eligibility (tier, model,
    /// standing, not excluded) and, in the reserved share, Tier 3.
    fn may_take(&self, m: &Ranked, weights: &RoutingWeights, now: i64) -> bool {
        let request = RouteRequest {
            risk: self.lot.risk,
            model: self.lot.model,
            realtime: self.realtime,
            now,
            exclude: &self.exclude,
        };
        RoutingSnapshot::eligible(m, &request, weights) && (!self.tier3_only || m.profile.tier >= 3)
    }
}

/// Where a round put a job.
#[derive(Clone, Debug, PartialEq)]
pub enum Placement {
    /// A miner won it at its bid.
    Won(Box<Offer>),
    /// Not placed this round.
    Unplaced(Unplaced),
}

/// Why a bidder's call brought no bids.
enum Unanswered {
    /// Its endpoint refused the connection: the miner is gone.
    Unreachable(Pubkey),
    /// It timed out or answered with something that is not bids.
    NoAnswer,
}

struct Waiting {
    offered: Offered,
    reply: oneshot::Sender<Placement>,
}

pub struct Auctioneer {
    ctx: Context,
    miners: Arc<Miners>,
    /// This keeper's secret seeds (round ids and tie-breaks).
    draws: DrawKey,
    waiting: mpsc::Sender<Waiting>,
    inbox: Mutex<Option<mpsc::Receiver<Waiting>>>,
    rounds: AtomicU64,
    /// Jobs this keeper awarded that are still running, and their miner:
    /// a miner is given no more at once than its stated capacity.
    booked: Mutex<HashMap<Pubkey, Pubkey>>,
    /// Recent clearing prices, for quotes.
    pub book: Mutex<ClearingBook>,
}

impl Auctioneer {
    pub fn new(ctx: Context, miners: Arc<Miners>, draws: DrawKey) -> Self {
        let (waiting, inbox) = mpsc::channel(4 * ctx.cfg.auction.round_max_jobs.max(1));
        Auctioneer {
            ctx,
            miners,
            draws,
            waiting,
            inbox: Mutex::new(Some(inbox)),
            rounds: AtomicU64::new(0),
            booked: Mutex::new(HashMap::new()),
            book: Mutex::new(ClearingBook::new(CLEARING_WINDOW)),
        }
    }

    /// The miners placed by auction: those that publish standing prices
    /// (none when bidding is off).
    pub fn bidders(&self) -> HashSet<Pubkey> {
        if self.ctx.cfg.auction.bidding {
            self.miners.bidders()
        } else {
            HashSet::new()
        }
    }

    /// Whether any miner that prices such jobs may take this one at chain
    /// time `now`: otherwise a round would be for nothing. (Such a miner
    /// that then does not bid is full.)
    pub fn has_bidders(&self, offered: &Offered, now: i64) -> bool {
        if !self.ctx.cfg.auction.bidding {
            return false;
        }
        let lot = &offered.lot;
        let pricing = self
            .miners
            .standing_prices(&crate::core::model_name(&lot.model), lot.risk);
        self.ctx.snapshot().miners.iter().any(|m| {
            pricing.contains_key(&m.profile.node) && offered.may_take(m, &self.ctx.cfg.routing, now)
        })
    }

    /// The job's award is over (answered, failed or finished): its miner
    /// has room again.
    pub fn release(&self, job: &Pubkey) {
        self.booked.lock().unwrap().remove(job);
    }

    /// Offers a job to the next round and waits for its placement (no bids
    /// when the auctioneer has stopped).
    pub async fn place(&self, offered: Offered) -> Placement {
        let (reply, placed) = oneshot::channel();
        if self.waiting.send(Waiting { offered, reply }).await.is_err() {
            return Placement::Unplaced(Unplaced::NoBids);
        }
        placed
            .await
            .unwrap_or(Placement::Unplaced(Unplaced::NoBids))
    }

    /// Runs rounds until `cancel`: a round opens with the first job
    /// offered, gathers the jobs offered within the round window (at most
    /// `round_max_jobs`), then asks for bids and clears.
    pub async fn run(self: Arc<Self>, cancel: CancellationToken) {
        let Some(mut inbox) = self.inbox.lock().unwrap().take() else {
            return;
        };
        let cfg = &self.ctx.cfg.auction;
        loop {
            let first = tokio::select! {
                _ = cancel.cancelled() => return,
                w = inbox.recv() => match w { Some(w) => w, None => return },
            };
            let mut batch = vec![first];
            let close = tokio::time::Instant::now() + cfg.round_window();
            while batch.len() < cfg.round_max_jobs {
                tokio::select! {
                    _ = tokio::time::sleep_until(close) => break,
                    w = inbox.recv() => match w { Some(w) => batch.push(w), None => break },
                }
            }
            tokio::select! {
                _ = cancel.cancelled() => return,
                () = self.round(batch) => {}
            }
        }
    }

    /// One round: ask, admit, clear, answer each job's driver.
    async fn round(&self, batch: Vec<Waiting>) {
        let view = self.ctx.view();
        let snapshot = view.snapshot.clone();
        let weights = &self.ctx.cfg.routing;
        // Bids are timed on the chain's clock, which the co-signers check them against.
        let now = self.ctx.gateway.now().await.unwrap_or(view.now);
        let timeout = self.ctx.cfg.auction.bid_timeout();
        let (id, seed) = self.draws.auction_round(&self.nonce());
        // One lot per job (a job offered twice in a round is placed once).
        let offered: HashMap<Pubkey, &Offered> = batch
            .iter()
            .map(|w| (w.offered.lot.job, &w.offered))
            .collect();
        let lots: Vec<Lot> = offered.values().map(|o| o.lot.clone()).collect();
        let closes_at = now.saturating_add(timeout.as_secs() as i64 + 1);
        let round = Round::new(Digest32(id), &lots, closes_at);
        let may_take = |m: &Ranked, o: &Offered| o.may_take(m, weights, now);

        // Each bidding miner is asked, on its own, for the jobs it may take.
        let bidders = self.miners.bidders();
        let mut calls = JoinSet::new();
        for miner in snapshot
            .miners
            .iter()
            .filter(|m| bidders.contains(&m.profile.node))
        {
            let jobs: Vec<BidJob> = offered
                .values()
                .filter(|o| may_take(miner, o))
                .filter_map(|o| {
                    Some(BidJob {
                        job: JobId(o.lot.job.to_bytes()),
                        model_id: crate::core::model_name(&o.lot.model).parse().ok()?,
                        risk: o.lot.risk as u8,
                        max_fee: o.lot.max_fee,
                    })
                })
                .collect();
            let Some(client) = self.miners.client(&miner.profile.node) else {
                continue;
            };
            if jobs.is_empty() {
                continue;
            }
            let request = BidRequest {
                round: Digest32(id),
                jobs,
                closes_at,
            };
            let asked = MinerPubkey(miner.profile.signing_key.to_bytes());
            let node = miner.profile.node;
            calls.spawn(async move {
                let started = Instant::now();
                let answer = match tokio::time::timeout(timeout, client.bids(&request)).await {
                    Ok(Ok(answer)) => Ok(answer),
                    Ok(Err(ClientError::Connect(_))) => Err(Unanswered::Unreachable(node)),
                    Ok(Err(_)) | Err(_) => Err(Unanswered::NoAnswer),
                };
                (asked, answer, started.elapsed())
            });
        }

        // Opened together once every call answered or timed out.
        let node_of: HashMap<MinerPubkey, Pubkey> = snapshot
            .miners
            .iter()
            .map(|m| {
                (
                    MinerPubkey(m.profile.signing_key.to_bytes()),
                    m.profile.node,
                )
            })
            .collect();
        let mut offers: Vec<Offer> = Vec::new();
        let metrics = &self.ctx.metrics;
        while let Some(joined) = calls.join_next().await {
            let (asked, answer, took) = match joined {
                Ok((asked, Ok(answer), took)) => (asked, answer, took),
                Ok((_, Err(Unanswered::Unreachable(node)), _)) => {
                    self.miners.forget_prices(&node);
                    metrics
                        .auction_bids_total
                        .with_label_values(&["unreachable"])
                        .inc();
                    continue;
                }
                Ok((_, Err(Unanswered::NoAnswer), _)) | Err(_) => {
                    metrics
                        .auction_bids_total
                        .with_label_values(&["no_answer"])
                        .inc();
                    continue;
                }
            };
            let received_at = now.saturating_add(took.as_secs() as i64);
            for bid in &answer.bids {
                match admit(bid, &round, &asked, received_at, |k| {
                    node_of.get(k).copied()
                }) {
                    Ok(offer) => {
                        metrics
                            .auction_bids_total
                            .with_label_values(&["admitted"])
                            .inc();
                        offers.push(offer);
                    }
                    Err(refused) => {
                        tracing::debug!(miner = %asked, %refused, "bid refused");
                        metrics
                            .auction_bids_total
                            .with_label_values(&[refused.label()])
                            .inc();
                    }
                }
            }
        }

        // In the fair-entry share the newcomers compete on price alone.
        let trust_if_eligible = |miner: &Pubkey, lot: &Lot| {
            let m = snapshot.get(miner)?;
            let o = offered.get(&lot.job)?;
            let trust = if o.tier3_only {
                1.0
            } else {
                m.profile.trust.clamp(0.0, 1.0)
            };
            may_take(m, o).then_some((trust * BPS as f64) as u32)
        };
        // What its stated capacity leaves after this keeper's running awards.
        let booked = self.booked.lock().unwrap().clone();
        let room = |miner: &Pubkey| {
            let running = booked.values().filter(|m| *m == miner).count() as u32;
            self.miners
                .capacity_of(miner)
                .map_or(u32::MAX, |c| c.saturating_sub(running))
        };
        let cleared = clear(&lots, &offers, trust_if_eligible, room, &seed, now);
        for forger in &cleared.forged {
            tracing::warn!(miner = %forger, "a winning bid did not verify: dropped");
            metrics
                .auction_bids_total
                .with_label_values(&["forged"])
                .inc();
        }
        self.book.lock().unwrap().record(&lots, &cleared.awards);
        metrics.auction_rounds_total.inc();
        tracing::debug!(
            jobs = lots.len(),
            bids = offers.len(),
            awarded = cleared.awards.len(),
            "auction round cleared"
        );

        let mut placements: HashMap<Pubkey, Placement> = HashMap::new();
        for award in cleared.awards {
            if let Some(o) = offered.get(&award.job) {
                metrics
                    .clearing_price
                    .with_label_values(&[&crate::core::model_name(&o.lot.model), o.lot.risk.name()])
                    .set(award.bid.price.min(i64::MAX as u64) as i64);
            }
            metrics
                .auction_jobs_total
                .with_label_values(&["awarded"])
                .inc();
            self.booked.lock().unwrap().insert(award.job, award.miner);
            placements.insert(award.job, Placement::Won(Box::new(award)));
        }
        for (job, why) in cleared.unplaced {
            metrics
                .auction_jobs_total
                .with_label_values(&[why.label()])
                .inc();
            placements.insert(job, Placement::Unplaced(why));
        }
        for waiting in batch {
            // A job offered twice in one round gets its placement once.
            let placement = placements
                .remove(&waiting.offered.lot.job)
                .unwrap_or(Placement::Unplaced(Unplaced::NoBids));
            let _ = waiting.reply.send(placement);
        }
    }

    /// A nonce this keeper never used before: the wall clock and a counter.
    fn nonce(&self) -> Vec<u8> {
        let nanos = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map_or(0, |d| d.as_nanos());
        let count = self.rounds.fetch_add(1, Ordering::Relaxed);
        [nanos.to_le_bytes().as_slice(), &count.to_le_bytes()].concat()
    }
}
