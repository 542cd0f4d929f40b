//! Where a job's next attempt goes: the auctioneer's round among the
//! miners that bid, else the routing draw at the list price, else a wait
//! for a round with room or the job's failure for the client.

use anchor_lang::prelude::Pubkey;
use verdict::state::{Job, RiskLevel};
use verdict_wire::bid::Bid;

use super::Dispatcher;
use crate::auctioneer::{Offered, Placement};
use crate::core::auction::{list_price, unplaceable, Lot, Unplaced};
use crate::core::routing::{RouteRequest, RoutingSnapshot, Share};
use crate::error::KeeperError;
use crate::store::JobRecord;

/// The miner for a job's next attempt, or why there is none.
pub(super) enum Choice {
    /// This miner at this price; `bid` is its winning bid when it came
    /// from an auction.
    Miner {
        miner: Pubkey,
        price: u64,
        bid: Option<Box<Bid>>,
    },
    /// Every bidder is full: wait for a round with room.
    Wait,
    /// The job failed for the client (recorded).
    Failed,
}

impl Dispatcher {
    /// The miner for the job's next attempt and its price. The miners that
    /// bid compete in the auctioneer's next round; when none wins it, the
    /// others are drawn by routing and paid the list price. With neither,
    /// the job fails (every bid over its fee, or no miner at all) or waits
    /// for a round with room (every bidder full: no bid, or no room left).
    pub(super) async fn choose(
        &self,
        rec: &mut JobRecord,
        job: &Job,
        risk: RiskLevel,
    ) -> Result<Choice, KeeperError> {
        // A new attempt: the last one's miner has room again.
        self.auctioneer.release(&rec.job);
        let now = self.ctx.gateway.now().await?;
        let bidding = RouteRequest {
            risk,
            model: job.model,
            realtime: rec.realtime,
            now,
            exclude: &rec.tried,
        };
        let seed = self.draws.route_seed(&rec.job, job.attempts);
        let mut offered = Offered {
            lot: Lot {
                job: rec.job,
                model: job.model,
                risk,
                max_fee: job.max_fee,
            },
            exclude: rec.tried.clone(),
            realtime: rec.realtime,
            // The same draw of the fair-entry share as routing's.
            tier3_only: RoutingSnapshot::in_reserved_share(&bidding, &self.ctx.cfg.routing, &seed),
        };
        if offered.tier3_only && !self.auctioneer.has_bidders(&offered, now) {
            offered.tier3_only = false;
        }
        let mut unplaced = None;
        while self.auctioneer.has_bidders(&offered, now) {
            match self.auctioneer.place(offered.clone()).await {
                Placement::Won(award) => {
                    self.ctx
                        .metrics
                        .routing_draws_total
                        .with_label_values(&["auction"])
                        .inc();
                    tracing::debug!(job = %rec.job, miner = %award.miner, price = award.bid.price, "won at auction");
                    return Ok(Choice::Miner {
                        miner: award.miner,
                        price: award.bid.price,
                        bid: Some(Box::new(award.bid)),
                    });
                }
                // Every Tier 3 bidder full: the reserved job goes to all at once.
                Placement::Unplaced(Unplaced::OutOfCapacity | Unplaced::NoBids)
                    if offered.tier3_only =>
                {
                    offered.tier3_only = false;
                }
                Placement::Unplaced(why) => {
                    unplaced = Some(why);
                    break;
                }
            }
        }
        let exclude: Vec<Pubkey> = rec
            .tried
            .iter()
            .copied()
            .chain(self.auctioneer.bidders())
            .collect();
        let request = RouteRequest {
            exclude: &exclude,
            ..bidding
        };
        let in_flight = self.reserved_in_flight.lock().unwrap().clone();
        let pending = |miner: &Pubkey| in_flight.values().filter(|m| *m == miner).count() as u32;
        let snapshot = self.ctx.snapshot();
        let Some((choice, share)) = snapshot
            .draw_counting(&request, &self.ctx.cfg.routing, &seed, &pending)
            .map(|(m, share)| (m.profile.node, share))
        else {
            let Some((code, message)) = unplaceable(unplaced, rec.tried.len(), job.max_fee) else {
                return Ok(Choice::Wait);
            };
            self.finish_failed(rec, code, &message)?;
            return Ok(Choice::Failed);
        };
        let share_label = match share {
            Share::Open => {
                self.reserved_in_flight.lock().unwrap().remove(&rec.job);
                "open"
            }
            Share::Tier3Reserved => {
                self.reserved_in_flight
                    .lock()
                    .unwrap()
                    .insert(rec.job, choice);
                "tier3_reserved"
            }
        };
        self.ctx
            .metrics
            .routing_draws_total
            .with_label_values(&[share_label])
            .inc();
        tracing::debug!(job = %rec.job, miner = %choice, share = share_label, "routed");
        Ok(Choice::Miner {
            miner: choice,
            price: list_price(job.max_fee, self.ctx.cfg.price_bps),
            bid: None,
        })
    }
}
