//! The auction that prices and places waiting jobs. A round asks every
//! eligible miner, each on its own, for sealed bids on the round's jobs;
//! when the round closes its bids are opened together and cleared here:
//!
//! - **Admission.** A bid counts only if it comes from the miner asked
//!   (its key), names this round and one of its jobs, came before the round
//!   closed, and that key is a registered miner's ([`admit`]). Its
//!   signature is checked when it is about to win (one check per job
//!   placed, not per bid: a round at 1,000 miners holds ~10⁵ bids); a bid
//!   whose signature fails is dropped and the next best wins.
//! - **Priority by fee.** Jobs are placed highest `max_fee` first, so when
//!   waiting jobs exceed the miners' capacity the best-paying are served
//!   and the cheapest wait for a later round.
//! - **The rule.** For each job, among the bids of miners eligible for its
//!   tier, valid until now, priced at most its `max_fee`, from miners with
//!   capacity left: the lowest `price × reputation factor` wins, where the
//!   factor runs from 1.0 (trust 100%) to 2.0 (trust 0) — a miner with
//!   half the trust must bid about a third lower to win. Ties go to the
//!   lowest `sha256(seed ‖ miner ‖ job)`, `seed` being the keeper's secret
//!   for the round, so no miner can predict or steer them.
//! - **Pay as bid.** The winner is paid its own bid, which binds it: a won
//!   job it then times out on or refuses is a failure on its record.
//!
//! Pure: no I/O, no clock (the caller passes `now`).

use std::collections::{BTreeMap, HashMap, HashSet, VecDeque};

use anchor_lang::prelude::Pubkey;
use sha2::{Digest, Sha256};
use verdict::constants::BPS_DENOMINATOR;
use verdict::state::{ModelId, RiskLevel};
use verdict_wire::bid::Bid;
use verdict_wire::keeper::FailureCode;
use verdict_wire::miner::{Digest32, MinerPubkey};

/// A job waiting for a miner, as the round offers it.
#[derive(Clone, Debug, PartialEq)]
pub struct Lot {
    pub job: Pubkey,
    pub model: ModelId,
    pub risk: RiskLevel,
    pub max_fee: u64,
}

/// An admitted bid: a miner (its Node) offers to run `job` for the bid's price.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Offer {
    pub miner: Pubkey,
    pub job: Pubkey,
    pub bid: Bid,
}

/// The round a bid must answer.
pub struct Round {
    pub id: Digest32,
    /// The round's jobs.
    pub jobs: HashSet<Pubkey>,
    /// Unix seconds after which no bid is taken.
    pub closes_at: i64,
}

impl Round {
    pub fn new(id: Digest32, lots: &[Lot], closes_at: i64) -> Self {
        Round {
            id,
            jobs: lots.iter().map(|lot| lot.job).collect(),
            closes_at,
        }
    }
}

/// Why a bid does not enter the round.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum BidRefused {
    #[error("the bid is signed by another key than the miner asked")]
    WrongMiner,
    #[error("the bid answers another round")]
    WrongRound,
    #[error("the bid came after the round closed")]
    Late,
    #[error("the bid names a job that is not in the round")]
    UnknownJob,
    #[error("the bid's key is not a registered miner's")]
    UnknownMiner,
    #[error("the bid is for nothing (a zero price or capacity)")]
    Empty,
}

impl BidRefused {
    /// Its metric label.
    pub fn label(&self) -> &'static str {
        match self {
            BidRefused::WrongMiner => "wrong_miner",
            BidRefused::WrongRound => "wrong_round",
            BidRefused::Late => "late",
            BidRefused::UnknownJob => "unknown_job",
            BidRefused::UnknownMiner => "unknown_miner",
            BidRefused::Empty => "empty",
        }
    }
}

/// Admits one bid that the miner with signing key `asked` answered at
/// `received_at` (unix seconds) into `round`; `node_of` maps a signing key
/// to its miner's Node. The signature is checked later, by [`clear`].
pub fn admit(
    bid: &Bid,
    round: &Round,
    asked: &MinerPubkey,
    received_at: i64,
    node_of: impl Fn(&MinerPubkey) -> Option<Pubkey>,
) -> Result<Offer, BidRefused> {
    if bid.miner_pubkey != *asked {
        return Err(BidRefused::WrongMiner);
    }
    if bid.round != round.id {
        return Err(BidRefused::WrongRound);
    }
    if received_at > round.closes_at {
        return Err(BidRefused::Late);
    }
    let job = Pubkey::new_from_array(bid.job.0);
    if !round.jobs.contains(&job) {
        return Err(BidRefused::UnknownJob);
    }
    if bid.price == 0 || bid.capacity == 0 {
        return Err(BidRefused::Empty);
    }
    let miner = node_of(&bid.miner_pubkey).ok_or(BidRefused::UnknownMiner)?;
    Ok(Offer {
        miner,
        job,
        bid: bid.clone(),
    })
}

/// The reputation factor in basis points: 1.0× at full trust, 2.0× at none.
pub fn reputation_factor_bps(trust_bps: u32) -> u64 {
    2 * BPS_DENOMINATOR - u64::from(trust_bps).min(BPS_DENOMINATOR)
}

/// The list price: `price_bps` of the job's `max_fee`, what a miner that
/// does not bid is paid (and the most a co-signer accepts without a bid).
pub fn list_price(max_fee: u64, price_bps: u16) -> u64 {
    (u128::from(max_fee) * u128::from(price_bps) / u128::from(BPS_DENOMINATOR)) as u64
}

/// Why a bid does not back an assignment's price.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error, serde::Serialize, serde::Deserialize)]
pub enum BidMismatch {
    #[error("the bid is for another job")]
    OtherJob,
    #[error("the bid is signed by another key than the assigned miner's")]
    OtherMiner,
    #[error("the bid's price {bid} is not the assigned price {assigned}")]
    OtherPrice { bid: u64, assigned: u64 },
    #[error("the bid stood until {valid_until}, before {needed}")]
    Expired { valid_until: i64, needed: i64 },
    #[error("the bid's signature does not verify")]
    BadSignature,
}

/// Whether `bid` backs assigning `job` to the miner with signing key
/// `miner_key` at `price`: the miner signed exactly that price for that
/// job, and its bid still stood at `needed` (unix seconds).
pub fn backs(
    bid: &Bid,
    job: &Pubkey,
    miner_key: &Pubkey,
    price: u64,
    needed: i64,
) -> Result<(), BidMismatch> {
    if bid.job.0 != job.to_bytes() {
        return Err(BidMismatch::OtherJob);
    }
    if bid.miner_pubkey.0 != miner_key.to_bytes() {
        return Err(BidMismatch::OtherMiner);
    }
    if bid.price != price {
        return Err(BidMismatch::OtherPrice {
            bid: bid.price,
            assigned: price,
        });
    }
    if bid.valid_until < needed {
        return Err(BidMismatch::Expired {
            valid_until: bid.valid_until,
            needed,
        });
    }
    bid.verify().map_err(|_| BidMismatch::BadSignature)
}

/// Why a job was not placed this round.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Unplaced {
    /// No eligible miner bid on it.
    NoBids,
    /// Every eligible bid was above the job's `max_fee`; `lowest` is the
    /// cheapest of them (what the client would have to offer).
    FeeBelowEveryBid { lowest: u64 },
    /// Miners bid within its fee but had no capacity left after the
    /// better-paying jobs: it waits for the next round.
    OutOfCapacity,
}

impl Unplaced {
    /// Its metric label.
    pub fn label(&self) -> &'static str {
        match self {
            Unplaced::NoBids => "no_bids",
            Unplaced::FeeBelowEveryBid { .. } => "fee_below_every_bid",
            Unplaced::OutOfCapacity => "out_of_capacity",
        }
    }
}

/// What becomes of a job that neither an auction nor the routing draw
/// could place, after `tried` miners failed it: `None` when it waits for a
/// later round (its bidders were full, or bid none), else the code and
/// message it fails with for the client (the chain's TTL refunds it).
pub fn unplaceable(
    unplaced: Option<Unplaced>,
    tried: usize,
    max_fee: u64,
) -> Option<(FailureCode, String)> {
    let refunded = "the escrow is refunded when the job's TTL expires";
    Some(match unplaced {
        Some(Unplaced::OutOfCapacity | Unplaced::NoBids) => return None,
        Some(Unplaced::FeeBelowEveryBid { lowest }) => (
            FailureCode::FeeBelowMarket,
            format!("every miner that may take the job asks more than its max fee {max_fee}: the lowest bid is {lowest}; {refunded}"),
        ),
        None if tried == 0 => (
            FailureCode::NoMinerAvailable,
            format!("no eligible miner; {refunded}"),
        ),
        None => (
            FailureCode::AllMinersFailed,
            format!("no eligible miner left ({tried} failed); {refunded}"),
        ),
    })
}

/// A round's result.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Cleared {
    /// The winning offer of each job placed: its miner is paid its bid's
    /// price, and the signed bid is the co-signers' evidence of it.
    pub awards: Vec<Offer>,
    pub unplaced: Vec<(Pubkey, Unplaced)>,
    /// Miners one of whose bids, about to win, did not verify (dropped).
    pub forged: Vec<Pubkey>,
}

/// Clears a round. `trust_if_eligible(miner, lot)` is the miner's trust in
/// basis points when it may take the lot (tier, model, standing), `None`
/// otherwise; `room(miner)` is the most jobs the keeper gives the miner
/// this round whatever its bids say (its stated capacity less the jobs the
/// keeper awarded it that are still running); `seed` is the keeper's
/// secret for the round.
pub fn clear(
    lots: &[Lot],
    offers: &[Offer],
    trust_if_eligible: impl Fn(&Pubkey, &Lot) -> Option<u32>,
    room: impl Fn(&Pubkey) -> u32,
    seed: &[u8; 32],
    now: i64,
) -> Cleared {
    let mut by_job: HashMap<Pubkey, Vec<&Offer>> = HashMap::new();
    // A miner's capacity for the round: the least any of its bids states,
    // and no more than the keeper's room for it.
    let mut capacity: HashMap<Pubkey, u32> = HashMap::new();
    for offer in offers.iter().filter(|o| o.bid.valid_until >= now) {
        by_job.entry(offer.job).or_default().push(offer);
        capacity
            .entry(offer.miner)
            .and_modify(|c| *c = (*c).min(offer.bid.capacity))
            .or_insert_with(|| offer.bid.capacity.min(room(&offer.miner)));
    }
    let mut order: Vec<&Lot> = lots.iter().collect();
    order.sort_by_cached_key(|lot| (std::cmp::Reverse(lot.max_fee), draw(seed, &[&lot.job])));
    let mut cleared = Cleared::default();
    for lot in order {
        let eligible: Vec<(&Offer, u32)> = by_job
            .get(&lot.job)
            .into_iter()
            .flatten()
            .filter_map(|o| trust_if_eligible(&o.miner, lot).map(|trust| (*o, trust)))
            .collect();
        // Best first: lowest price × reputation factor; among equals, the
        // seed's draw (hashed only where there is a tie to break).
        let mut ranked: Vec<(u128, &Offer)> = eligible
            .iter()
            .filter(|(o, _)| o.bid.price <= lot.max_fee)
            .map(|(o, trust)| {
                let effective = u128::from(o.bid.price) * u128::from(reputation_factor_bps(*trust));
                (effective, *o)
            })
            .collect();
        ranked.sort_unstable_by_key(|(effective, _)| *effective);
        let mut winner = None;
        for tied in ranked.chunk_by(|a, b| a.0 == b.0) {
            let mut tied: Vec<&Offer> = tied.iter().map(|(_, o)| *o).collect();
            if tied.len() > 1 {
                tied.sort_by_cached_key(|o| draw(seed, &[&o.miner, &o.job]));
            }
            for offer in tied {
                if capacity.get(&offer.miner).is_none_or(|c| *c == 0) {
                    continue;
                }
                if offer.bid.verify().is_err() {
                    cleared.forged.push(offer.miner);
                    continue;
                }
                winner = Some(offer);
                break;
            }
            if winner.is_some() {
                break;
            }
        }
        match winner {
            Some(offer) => {
                if let Some(c) = capacity.get_mut(&offer.miner) {
                    *c -= 1;
                }
                cleared.awards.push(offer.clone());
            }
            None => {
                let why = if eligible.is_empty() {
                    Unplaced::NoBids
                } else if let Some(lowest) = eligible
                    .iter()
                    .map(|(o, _)| o.bid.price)
                    .min()
                    .filter(|lowest| *lowest > lot.max_fee)
                {
                    Unplaced::FeeBelowEveryBid { lowest }
                } else {
                    Unplaced::OutOfCapacity
                };
                cleared.unplaced.push((lot.job, why));
            }
        }
    }
    cleared
}

/// The keeper's unpredictable order of `keys` under `seed`.
fn draw(seed: &[u8; 32], keys: &[&Pubkey]) -> [u8; 32] {
    let mut hash = Sha256::new();
    hash.update(b"verdict-auction");
    hash.update(seed);
    for key in keys {
        hash.update(key.as_ref());
    }
    hash.finalize().into()
}

/// The clearing prices of recent rounds per model and risk level: what
/// the keeper quotes a client before it submits.
#[derive(Clone, Debug)]
pub struct ClearingBook {
    /// Most awards kept per model and risk level.
    window: usize,
    prices: BTreeMap<(ModelId, u8), VecDeque<u64>>,
}

/// A quote: the recent clearing prices of a model at a risk level.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Quote {
    pub median: u64,
    pub lowest: u64,
    pub highest: u64,
    /// How many prices it is drawn from (awards, or miners' standing prices).
    pub count: usize,
}

impl Quote {
    /// The quote of a set of prices; `None` when there are none.
    pub fn of(prices: impl IntoIterator<Item = u64>) -> Option<Quote> {
        let mut sorted: Vec<u64> = prices.into_iter().collect();
        sorted.sort_unstable();
        Some(Quote {
            median: *sorted.get(sorted.len() / 2)?,
            lowest: *sorted.first()?,
            highest: *sorted.last()?,
            count: sorted.len(),
        })
    }
}

impl ClearingBook {
    pub fn new(window: usize) -> Self {
        ClearingBook {
            window: window.max(1),
            prices: BTreeMap::new(),
        }
    }

    /// Records a round's awards, each under its lot's model and risk.
    pub fn record(&mut self, lots: &[Lot], awards: &[Offer]) {
        let kind_of: HashMap<&Pubkey, (ModelId, u8)> = lots
            .iter()
            .map(|l| (&l.job, (l.model, l.risk as u8)))
            .collect();
        for award in awards {
            let Some(kind) = kind_of.get(&award.job) else {
                continue;
            };
            let prices = self.prices.entry(*kind).or_default();
            prices.push_back(award.bid.price);
            while prices.len() > self.window {
                prices.pop_front();
            }
        }
    }

    /// The quote for `model` at `risk`, once any job of that kind cleared.
    pub fn quote(&self, model: &ModelId, risk: RiskLevel) -> Option<Quote> {
        Quote::of(self.prices.get(&(*model, risk as u8))?.iter().copied())
    }
}

#[cfg(test)]
mod tests {

    #[test]
    fn an_unplaced_job_waits_when_bidders_are_full_and_fails_otherwise() {
        assert_eq!(unplaceable(Some(Unplaced::OutOfCapacity), 0, 10), None);
        assert_eq!(unplaceable(Some(Unplaced::NoBids), 2, 10), None);
        let (code, message) =
            unplaceable(Some(Unplaced::FeeBelowEveryBid { lowest: 12 }), 0, 10).unwrap();
        assert_eq!(code, FailureCode::FeeBelowMarket);
        assert!(
            message.contains("max fee 10: the lowest bid is 12"),
            "{message}"
        );
        assert_eq!(
            unplaceable(None, 0, 10).unwrap().0,
            FailureCode::NoMinerAvailable
        );
        let (code, message) = unplaceable(None, 3, 10).unwrap();
        assert_eq!(code, FailureCode::AllMinersFailed);
        assert!(message.contains("(3 failed)"), "{message}");
    }

    use ed25519_dalek::SigningKey;
    use verdict::state::model_id;
    use verdict_wire::miner::JobId;

    use super::*;

    fn lot(max_fee: u64) -> Lot {
        Lot {
            job: Pubkey::new_unique(),
            model: model_id("test-projection-v1").unwrap(),
            risk: RiskLevel::Low,
            max_fee,
        }
    }

    /// A signed bid of a miner whose Node is `miner` (keys derived from it).
    fn offer(miner: Pubkey, lot: &Lot, price: u64, capacity: u32) -> Offer {
        let key = SigningKey::from_bytes(&miner.to_bytes());
        let bid = Bid::sign(
            &key,
            Digest32([1; 32]),
            JobId(lot.job.to_bytes()),
            price,
            100,
            capacity,
        );
        Offer {
            miner,
            job: lot.job,
            bid,
        }
    }

    const SEED: [u8; 32] = [7; 32];

    /// Clears with every miner eligible at full trust.
    fn clear_trusted(lots: &[Lot], offers: &[Offer]) -> Cleared {
        clear_by_trust(lots, offers, |_, _| Some(10_000))
    }

    /// Clears under `trust`, without a keeper's room limit, at time 50.
    fn clear_by_trust(
        lots: &[Lot],
        offers: &[Offer],
        trust: impl Fn(&Pubkey, &Lot) -> Option<u32>,
    ) -> Cleared {
        clear(lots, offers, trust, |_| u32::MAX, &SEED, 50)
    }

    #[test]
    fn the_lowest_price_times_the_reputation_factor_wins_and_is_paid_its_bid() {
        let job = lot(1_000);
        let (trusted, new) = (Pubkey::new_unique(), Pubkey::new_unique());
        // 600 × 1.0 = 600 beats 400 × 1.8 = 720.
        let offers = [offer(trusted, &job, 600, 5), offer(new, &job, 400, 5)];
        let trust = |m: &Pubkey, _: &Lot| Some(if *m == trusted { 10_000 } else { 2_000 });
        let cleared = clear_by_trust(std::slice::from_ref(&job), &offers, trust);
        assert_eq!(cleared.awards.len(), 1);
        let award = &cleared.awards[0];
        assert_eq!(
            (award.job, award.miner, award.bid.price),
            (job.job, trusted, 600)
        );
        assert_eq!(award.bid, offers[0].bid, "the award is the winning offer");
        // Bid a third lower and the newcomer wins: 300 × 1.8 = 540.
        let offers = [offer(trusted, &job, 600, 5), offer(new, &job, 300, 5)];
        let cleared = clear_by_trust(std::slice::from_ref(&job), &offers, trust);
        assert_eq!(cleared.awards[0].miner, new);
        assert_eq!(cleared.awards[0].bid.price, 300);
    }

    #[test]
    fn ineligible_expired_and_over_fee_bids_do_not_win() {
        let job = lot(500);
        let (ineligible, expired, dear, ok) = (
            Pubkey::new_unique(),
            Pubkey::new_unique(),
            Pubkey::new_unique(),
            Pubkey::new_unique(),
        );
        let mut stale = offer(expired, &job, 100, 5);
        let key = SigningKey::from_bytes(&expired.to_bytes());
        stale.bid = Bid::sign(&key, stale.bid.round, stale.bid.job, 100, 49, 5);
        let offers = [
            offer(ineligible, &job, 50, 5),
            stale,
            offer(dear, &job, 501, 5),
            offer(ok, &job, 450, 5),
        ];
        let trust = |m: &Pubkey, _: &Lot| (*m != ineligible).then_some(10_000);
        let cleared = clear_by_trust(std::slice::from_ref(&job), &offers, trust);
        assert_eq!(cleared.awards[0].miner, ok);
    }

    #[test]
    fn a_fee_below_every_bid_is_refused_with_the_lowest_bid() {
        let job = lot(100);
        let offers = [
            offer(Pubkey::new_unique(), &job, 250, 5),
            offer(Pubkey::new_unique(), &job, 180, 5),
        ];
        let cleared = clear_trusted(std::slice::from_ref(&job), &offers);
        assert!(cleared.awards.is_empty());
        assert_eq!(
            cleared.unplaced,
            vec![(job.job, Unplaced::FeeBelowEveryBid { lowest: 180 })]
        );
        let lonely = lot(100);
        let cleared = clear_trusted(std::slice::from_ref(&lonely), &[]);
        assert_eq!(cleared.unplaced, vec![(lonely.job, Unplaced::NoBids)]);
    }

    #[test]
    fn under_overload_the_higher_fees_are_served_first() {
        let miner = Pubkey::new_unique();
        // One miner, capacity 2, three jobs: the two best-paying are placed.
        let lots = [lot(300), lot(900), lot(600)];
        let offers: Vec<Offer> = lots.iter().map(|l| offer(miner, l, 200, 2)).collect();
        let cleared = clear_trusted(&lots, &offers);
        let placed: Vec<Pubkey> = cleared.awards.iter().map(|a| a.job).collect();
        assert_eq!(placed, vec![lots[1].job, lots[2].job]);
        assert_eq!(
            cleared.unplaced,
            vec![(lots[0].job, Unplaced::OutOfCapacity)]
        );
    }

    #[test]
    fn the_keepers_room_for_a_busy_miner_caps_what_its_bids_say() {
        let lots: Vec<Lot> = (0..3).map(|_| lot(1_000)).collect();
        let (busy, next) = (Pubkey::new_unique(), Pubkey::new_unique());
        let offers: Vec<Offer> = lots
            .iter()
            .flat_map(|l| [offer(busy, l, 100, 4), offer(next, l, 200, 4)])
            .collect();
        // The cheapest states room for four, but runs three of this keeper's
        // jobs: it gets one more, the next cheapest the rest.
        let room = |m: &Pubkey| if *m == busy { 1 } else { u32::MAX };
        let cleared = clear(&lots, &offers, |_, _| Some(10_000), room, &SEED, 50);
        let to = |m: Pubkey| cleared.awards.iter().filter(|a| a.miner == m).count();
        assert_eq!((to(busy), to(next)), (1, 2));
        let none = clear(&lots, &offers, |_, _| Some(10_000), |_| 0, &SEED, 50);
        assert_eq!(none.unplaced.len(), 3, "no room anywhere: every job waits");
        assert!(none
            .unplaced
            .iter()
            .all(|(_, why)| *why == Unplaced::OutOfCapacity));
    }

    #[test]
    fn ties_follow_the_secret_seed_not_the_bidders() {
        let job = lot(1_000);
        let miners: Vec<Pubkey> = (0..8).map(|_| Pubkey::new_unique()).collect();
        let offers: Vec<Offer> = miners.iter().map(|m| offer(*m, &job, 500, 1)).collect();
        let winner = |seed: [u8; 32]| {
            clear(
                std::slice::from_ref(&job),
                &offers,
                |_, _| Some(10_000),
                |_| u32::MAX,
                &seed,
                50,
            )
            .awards[0]
                .miner
        };
        // The same seed, the same winner; other seeds spread the wins.
        assert_eq!(winner([1; 32]), winner([1; 32]));
        let winners: std::collections::HashSet<Pubkey> =
            (0..32u8).map(|s| winner([s; 32])).collect();
        assert!(winners.len() > 3, "{} distinct winners", winners.len());
        // Order of arrival does not matter.
        let mut reversed = offers.clone();
        reversed.reverse();
        let again = clear(
            std::slice::from_ref(&job),
            &reversed,
            |_, _| Some(10_000),
            |_| u32::MAX,
            &[1; 32],
            50,
        );
        assert_eq!(again.awards[0].miner, winner([1; 32]));
    }

    #[test]
    fn only_timely_bids_of_the_miner_asked_for_this_round_are_admitted() {
        let key = SigningKey::from_bytes(&[3; 32]);
        let node = Pubkey::new_unique();
        let job = lot(1_000);
        let round = Round::new(Digest32([1; 32]), std::slice::from_ref(&job), 20);
        let mine = MinerPubkey(key.verifying_key().to_bytes());
        let node_of = |k: &MinerPubkey| (*k == mine).then_some(node);
        let sign = |round: [u8; 32], job: &Pubkey, price: u64, capacity: u32| {
            Bid::sign(
                &key,
                Digest32(round),
                JobId(job.to_bytes()),
                price,
                30,
                capacity,
            )
        };
        let bid = sign([1; 32], &job.job, 400, 2);
        assert_eq!(
            admit(&bid, &round, &mine, 20, node_of),
            Ok(Offer {
                miner: node,
                job: job.job,
                bid: bid.clone(),
            })
        );
        let refused = |bid: &Bid, asked: &MinerPubkey, at: i64| {
            admit(bid, &round, asked, at, node_of).unwrap_err()
        };
        assert_eq!(refused(&bid, &mine, 21), BidRefused::Late);
        // Another miner's answer carrying this miner's bid.
        let other = MinerPubkey([9; 32]);
        assert_eq!(refused(&bid, &other, 10), BidRefused::WrongMiner);
        let other_round = sign([2; 32], &job.job, 400, 2);
        assert_eq!(refused(&other_round, &mine, 10), BidRefused::WrongRound);
        let other_job = sign([1; 32], &Pubkey::new_unique(), 400, 2);
        assert_eq!(refused(&other_job, &mine, 10), BidRefused::UnknownJob);
        assert_eq!(
            refused(&sign([1; 32], &job.job, 0, 2), &mine, 10),
            BidRefused::Empty
        );
        assert_eq!(
            admit(&bid, &round, &mine, 10, |_| None),
            Err(BidRefused::UnknownMiner)
        );
    }

    #[test]
    fn a_winning_bid_that_does_not_verify_is_dropped_for_the_next_best() {
        let job = lot(1_000);
        let (forger, honest) = (Pubkey::new_unique(), Pubkey::new_unique());
        let mut forged = offer(forger, &job, 100, 5);
        forged.bid.price = 50; // changed after signing
        let offers = [forged, offer(honest, &job, 300, 5)];
        let cleared = clear_trusted(std::slice::from_ref(&job), &offers);
        assert_eq!(cleared.awards[0].miner, honest);
        assert_eq!(cleared.awards[0].bid.price, 300);
        assert_eq!(cleared.forged, vec![forger]);
    }

    #[test]
    fn a_bid_backs_only_its_own_job_miner_and_price_while_it_stands() {
        let job = lot(1_000);
        let miner = Pubkey::new_unique();
        let Offer { bid, .. } = offer(miner, &job, 300, 1);
        let key = Pubkey::new_from_array(bid.miner_pubkey.0);
        // The bid stands until 100.
        assert_eq!(backs(&bid, &job.job, &key, 300, 100), Ok(()));
        assert_eq!(
            backs(&bid, &Pubkey::new_unique(), &key, 300, 100),
            Err(BidMismatch::OtherJob)
        );
        assert_eq!(
            backs(&bid, &job.job, &Pubkey::new_unique(), 300, 100),
            Err(BidMismatch::OtherMiner)
        );
        assert_eq!(
            backs(&bid, &job.job, &key, 301, 100),
            Err(BidMismatch::OtherPrice {
                bid: 300,
                assigned: 301
            })
        );
        assert_eq!(
            backs(&bid, &job.job, &key, 300, 101),
            Err(BidMismatch::Expired {
                valid_until: 100,
                needed: 101
            })
        );
        let mut raised = bid.clone();
        raised.price = 900;
        assert_eq!(
            backs(&raised, &job.job, &key, 900, 100),
            Err(BidMismatch::BadSignature),
            "a leader cannot raise a miner's bid"
        );
    }

    #[test]
    fn the_list_price_is_a_share_of_the_fee_without_overflow() {
        assert_eq!(list_price(1_000, 10_000), 1_000);
        assert_eq!(list_price(1_000, 2_500), 250);
        assert_eq!(list_price(u64::MAX, 10_000), u64::MAX);
    }

    #[test]
    fn the_book_quotes_recent_clearing_prices_per_model_and_risk() {
        let mut book = ClearingBook::new(3);
        let lots: Vec<Lot> = (0..4).map(|_| lot(1_000)).collect();
        let awards: Vec<Offer> = lots
            .iter()
            .zip([100, 400, 200, 300])
            .map(|(l, price)| offer(Pubkey::new_unique(), l, price, 1))
            .collect();
        book.record(&lots, &awards);
        let model = lots[0].model;
        // The window keeps the last three: 400, 200, 300.
        assert_eq!(
            book.quote(&model, RiskLevel::Low),
            Some(Quote {
                median: 300,
                lowest: 200,
                highest: 400,
                count: 3
            })
        );
        assert_eq!(book.quote(&model, RiskLevel::High), None);
    }
}
