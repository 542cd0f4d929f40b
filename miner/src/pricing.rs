//! What the miner asks for a job: a standing price per model (in the
//! stake token's base units), a premium for the riskier tiers (a high-risk
//! job is re-run by a shadow miner and pays the answer's author only if it
//! agrees), and, for the adaptive strategy, a surcharge that grows with the
//! jobs it is already running. A keeper's call for bids is answered with
//! one signed bid per job of a model this miner serves, for as many jobs as
//! it has room for; every bid binds the miner (a won job it then fails is a
//! failure on its record).

use std::collections::BTreeMap;

use ed25519_dalek::SigningKey;
use verdict_wire::bid::{Bid, BidRequest, BidResponse, PricesResponse, StandingPrice};
use verdict_wire::miner::{JobId, ModelId};

/// How long after the round closes a bid stands.
pub const BID_VALIDITY_SECS: i64 = 60;

/// Premium per risk level (low, medium, high), in basis points of the price.
pub const RISK_PREMIUM_BPS: [u64; 3] = [0, 2_500, 5_000];

/// How the price follows the miner's load.
#[derive(Clone, Copy, Debug, PartialEq, Eq, clap::ValueEnum)]
pub enum Strategy {
    /// The standing price, whatever the load.
    Fixed,
    /// The standing price × (1 + running jobs / capacity): a busy miner
    /// asks up to twice as much, an idle one its standing price.
    Adaptive,
}

/// A miner's prices.
#[derive(Clone, Debug, PartialEq)]
pub struct Pricing {
    /// Standing price (low risk) per model served.
    pub base: BTreeMap<ModelId, u64>,
    pub strategy: Strategy,
    /// Jobs it takes at once.
    pub capacity: u32,
}

impl Pricing {
    /// The price of a job of `model` at `risk` (0–2) with `busy` jobs running;
    /// `None` for a model it does not price.
    pub fn price(&self, model: &ModelId, risk: u8, busy: u32) -> Option<u64> {
        let base = u128::from(*self.base.get(model)?);
        let premium = RISK_PREMIUM_BPS[usize::from(risk.min(2))];
        let mut price = base * u128::from(10_000 + premium) / 10_000;
        if self.strategy == Strategy::Adaptive {
            let capacity = u128::from(self.capacity.max(1));
            let busy = u128::from(busy).min(capacity);
            price = price * (capacity + busy) / capacity;
        }
        Some(u64::try_from(price).unwrap_or(u64::MAX).max(1))
    }

    /// The standing prices, as `GET /prices` shows them.
    pub fn standing(&self) -> PricesResponse {
        let prices = self
            .base
            .keys()
            .flat_map(|model| {
                (0u8..3).filter_map(move |risk| {
                    Some(StandingPrice {
                        model_id: model.clone(),
                        risk,
                        price: self.price(model, risk, 0)?,
                    })
                })
            })
            .collect();
        PricesResponse {
            prices,
            capacity: self.capacity,
        }
    }

    /// Signed bids for the jobs of `request` this miner prices, while it
    /// has room (`busy` jobs running). A bid above a job's `max_fee` is
    /// still sent: it cannot win, but tells the keeper the going rate.
    pub fn bids(&self, key: &SigningKey, request: &BidRequest, busy: u32) -> BidResponse {
        let room = self.capacity.saturating_sub(busy);
        if room == 0 {
            return BidResponse { bids: Vec::new() };
        }
        let valid_until = request.closes_at.saturating_add(BID_VALIDITY_SECS);
        let bids = request
            .jobs
            .iter()
            .filter_map(|job| {
                let price = self.price(&job.model_id, job.risk, busy)?;
                Some(Bid::sign(
                    key,
                    request.round,
                    JobId(job.job.0),
                    price,
                    valid_until,
                    room,
                ))
            })
            .collect();
        BidResponse { bids }
    }
}

/// Parses `--price MODEL=AMOUNT`.
pub fn parse_price(text: &str) -> Result<(ModelId, u64), String> {
    let (model, amount) = text
        .split_once('=')
        .ok_or_else(|| format!("{text:?}: expected MODEL=AMOUNT"))?;
    let model: ModelId = model
        .parse()
        .map_err(|e| format!("{text:?}: bad model id: {e}"))?;
    let amount: u64 = amount
        .parse()
        .map_err(|_| format!("{text:?}: the amount is not a whole number of base units"))?;
    if amount == 0 {
        return Err(format!("{text:?}: a price must be above zero"));
    }
    Ok((model, amount))
}

#[cfg(test)]
mod tests {
    use verdict_wire::bid::BidJob;
    use verdict_wire::miner::Digest32;

    use super::*;

    fn model() -> ModelId {
        "test-projection-v1".parse().unwrap()
    }

    fn pricing(strategy: Strategy) -> Pricing {
        Pricing {
            base: [(model(), 1_000)].into_iter().collect(),
            strategy,
            capacity: 4,
        }
    }

    #[test]
    fn risk_adds_its_premium_and_an_adaptive_miner_charges_for_its_load() {
        let fixed = pricing(Strategy::Fixed);
        assert_eq!(fixed.price(&model(), 0, 3), Some(1_000));
        assert_eq!(fixed.price(&model(), 1, 0), Some(1_250));
        assert_eq!(fixed.price(&model(), 2, 0), Some(1_500));
        let adaptive = pricing(Strategy::Adaptive);
        assert_eq!(adaptive.price(&model(), 0, 0), Some(1_000));
        assert_eq!(adaptive.price(&model(), 0, 2), Some(1_500));
        // At most twice the standing price.
        assert_eq!(adaptive.price(&model(), 0, 40), Some(2_000));
        assert_eq!(
            fixed.price(&"all-minilm-l6-v2".parse().unwrap(), 0, 0),
            None
        );
    }

    #[test]
    fn bids_are_signed_for_the_jobs_it_prices_while_it_has_room() {
        let key = SigningKey::from_bytes(&[5; 32]);
        let request = BidRequest {
            round: Digest32([1; 32]),
            jobs: vec![
                BidJob {
                    job: JobId([2; 32]),
                    model_id: model(),
                    risk: 2,
                    max_fee: 10,
                },
                BidJob {
                    job: JobId([3; 32]),
                    model_id: "all-minilm-l6-v2".parse().unwrap(),
                    risk: 0,
                    max_fee: 10_000,
                },
            ],
            closes_at: 100,
        };
        let p = pricing(Strategy::Fixed);
        let answer = p.bids(&key, &request, 1);
        assert_eq!(answer.bids.len(), 1, "only the model it prices");
        let bid = &answer.bids[0];
        assert_eq!(bid.verify(), Ok(()));
        // Above the job's fee, still sent: the keeper learns the going rate.
        assert_eq!((bid.price, bid.capacity), (1_500, 3));
        assert_eq!(bid.valid_until, 100 + BID_VALIDITY_SECS);
        assert!(p.bids(&key, &request, 4).bids.is_empty(), "no room");
    }

    #[test]
    fn prices_are_parsed_from_the_command_line() {
        assert_eq!(parse_price("test-projection-v1=250"), Ok((model(), 250)));
        assert!(parse_price("test-projection-v1").is_err());
        assert!(parse_price("test-projection-v1=0").is_err());
        assert!(parse_price("test-projection-v1=-3").is_err());
    }
}
