//! Routing: which miner gets a job. Tiers by the job's risk, the bottom-up
//! score R' = α·R·Pen^M·Rew^(1−M) + β·(wS·S + wF·F + wB·B + wI·I) with every
//! metric min-max normalized over the miners the keeper knows, latency rules,
//! the share of low-risk jobs reserved for Tier 3 miners (fair entry), and
//! the miners that are owed a trial task first. Pure: no I/O, no clocks.
//!
//! Speed (B) depends on the model. For an embedding model it is the
//! miner's median response time (its percentile among the measured miners,
//! faster is better). For a generative model (`wire::models::spec`) it is
//! the miner's observed tokens per second on that model (an EWMA of its
//! answers' `tokens_per_second()`, see `latency`): response times of
//! generations depend on how many tokens each job asks for, rates do not.
//! The snapshot keeps one score and one presorted order per generative
//! model the miners serve, with B = the tokens/s percentile (higher is
//! better; unmeasured 0.5), the same top-10% bonus and slowest-quarter
//! rule. The real-time median rule applies to embedding jobs only.

use anchor_lang::prelude::Pubkey;
use serde::{Deserialize, Serialize};
use verdict::state::{ModelId, Node, ProtocolParams, RiskLevel, Standing, TrialStatus};

/// Everything routing knows about one miner: the on-chain view plus what this
/// keeper measured itself.
#[derive(Clone, Debug, PartialEq)]
pub struct MinerProfile {
    pub node: Pubkey,
    pub signing_key: Pubkey,
    pub models: Vec<ModelId>,
    /// Top-down trust R, 1.0 == the trial baseline.
    pub trust: f64,
    /// Success rate over the on-chain window, 0..=1 (1 when it has no record).
    pub success_rate: f64,
    /// Active stake (self + delegated), in base units.
    pub stake: u64,
    /// 1, 2 or 3 (the program's tiers).
    pub tier: u8,
    /// Jobs in the miner's on-chain rolling window (a Tier 3 miner leaves
    /// Tier 3 at 20): the fair-entry share serves the fewest first.
    pub window_jobs: u32,
    pub trial: TrialStatus,
    pub cooldown_until: i64,
    /// Composite at or below the rate-limit threshold (on-chain rule).
    pub rate_limited: bool,
    pub last_heartbeat: i64,
    /// Active (staked to its roles' minimum) and a miner.
    pub active_miner: bool,
    /// M in the trust update: the keeper's last verdict on this miner was a mistake.
    pub recent_mistake: bool,
    /// Median response time this keeper measured, when it has samples
    /// (embedding answers only).
    pub median_latency_ms: Option<f64>,
    /// Observed tokens/s per generative model (EWMA), when it answered one.
    pub tokens_per_second: Vec<(ModelId, f64)>,
    /// The keeper knows how to reach it (a URL is configured).
    pub reachable: bool,
}

impl MinerProfile {
    /// The routing view of an on-chain miner node.
    pub fn from_node(node_key: Pubkey, node: &Node, params: &ProtocolParams) -> Self {
        let Standing { window, tier } = node.reputation.standing(params);
        let success_rate = if window.jobs == 0 {
            1.0
        } else {
            window.success_bps as f64 / verdict::constants::BPS_DENOMINATOR as f64
        };
        MinerProfile {
            node: node_key,
            signing_key: node.signing_key,
            models: node.models[..node.model_count as usize].to_vec(),
            trust: node.reputation.trust_bps as f64 / verdict::constants::BPS_DENOMINATOR as f64,
            success_rate,
            stake: node.active_stake().unwrap_or(u64::MAX),
            tier,
            window_jobs: window.jobs,
            trial: node.reputation.trial(),
            cooldown_until: node.reputation.cooldown_until,
            rate_limited: node.reputation.is_rate_limited(params),
            last_heartbeat: node.reputation.last_heartbeat,
            active_miner: node.is_miner() && node.activity(params).active,
            recent_mistake: false,
            median_latency_ms: None,
            tokens_per_second: Vec::new(),
            reachable: false,
        }
    }

    /// Its observed tokens/s on `model`, if measured.
    pub fn speed_on(&self, model: &ModelId) -> Option<f64> {
        self.tokens_per_second
            .iter()
            .find(|(m, _)| m == model)
            .map(|(_, tps)| *tps)
    }

    pub fn serves(&self, model: &ModelId) -> bool {
        self.models.contains(model)
    }

    /// Passed its trial and not cooling down.
    pub fn is_warm(&self, now: i64) -> bool {
        self.trial == TrialStatus::Passed && now >= self.cooldown_until
    }

    /// Owed a trial task before any real work: new, or its cooldown is over.
    pub fn trial_due(&self, now: i64) -> bool {
        self.active_miner
            && (self.trial == TrialStatus::Pending
                || (self.trial == TrialStatus::Failed && now >= self.cooldown_until))
    }
}

/// Weights and thresholds of the bottom-up score and the latency rules.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct RoutingWeights {
    /// α: weight of the trust term.
    pub alpha: f64,
    /// β: weight of the measured-metrics term.
    pub beta: f64,
    /// wS: stake behind the miner.
    pub w_stake: f64,
    /// wF: fidelity, the success rate over the on-chain window.
    pub w_fidelity: f64,
    /// wB: speed, the miner's latency percentile among the miners measured.
    pub w_bandwidth: f64,
    /// wI: liveness, how recent its last heartbeat is.
    pub w_liveness: f64,
    /// Pen and Rew of the trust update (the protocol's 0.8 and 1.01).
    pub penalty: f64,
    pub reward: f64,
    /// Added to the score of the fastest 10% of miners.
    pub top_latency_bonus: f64,
    /// A median above this excludes a miner from real-time jobs.
    pub realtime_max_median_ms: f64,
    /// Load spreading: a job goes to one of the best `spread` eligible
    /// miners, drawn with probability proportional to score (1: always the best).
    pub spread: usize,
    /// Fair entry: the share (bps) of low-risk dispatches reserved for Tier 3
    /// miners (new or recovering), so a miner the best `spread` crowd out
    /// still earns the 20 jobs that take it out of Tier 3. Which dispatches
    /// fall in the share is the keeper's secret draw; see
    /// [`RoutingSnapshot::draw`]. 0 turns it off.
    pub tier3_reserved_bps: u16,
}

impl Default for RoutingWeights {
    fn default() -> Self {
        RoutingWeights {
            alpha: 0.6,
            beta: 0.4,
            w_stake: 0.2,
            w_fidelity: 0.4,
            w_bandwidth: 0.3,
            w_liveness: 0.1,
            penalty: 0.8,
            reward: 1.01,
            top_latency_bonus: 0.1,
            realtime_max_median_ms: 500.0,
            spread: 3,
            tier3_reserved_bps: 2_000,
        }
    }
}

/// One miner's precomputed routing state in a snapshot.
#[derive(Clone, Debug, PartialEq)]
pub struct Ranked {
    pub profile: MinerProfile,
    /// R' of the formula (with the top-latency bonus), higher is better.
    pub score: f64,
    /// Share of measured miners this one is faster than, 0..=1 (0.5 unmeasured).
    pub latency_percentile: f64,
    /// Slowest quarter: routed only after every other eligible miner.
    pub deprioritized: bool,
}

/// Which share of the work a dispatch was drawn from.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Share {
    /// The normal draw among the best `spread` eligible miners.
    Open,
    /// The low-risk share reserved for Tier 3 miners (fair entry).
    Tier3Reserved,
}

/// Word `i` (little endian, 8 bytes) of a seed.
fn word(seed: &[u8; 32], i: usize) -> u64 {
    u64::from_le_bytes(seed[8 * i..8 * i + 8].try_into().expect("8 bytes"))
}

/// A job to route.
#[derive(Clone, Debug)]
pub struct RouteRequest<'a> {
    pub risk: RiskLevel,
    pub model: ModelId,
    /// Real-time jobs skip miners whose median latency is over the limit.
    pub realtime: bool,
    pub now: i64,
    /// Miners already tried for this job.
    pub exclude: &'a [Pubkey],
}

/// The routing table built once per refresh of the miner set: normalization
/// bounds and latency percentiles are computed here, so each decision is a
/// linear filter plus a partial sort.
#[derive(Clone, Debug, Default)]
pub struct RoutingSnapshot {
    pub miners: Vec<Ranked>,
    /// Indexes into `miners`, presorted once per snapshot so a routing
    /// decision walks candidates best first and stops after `k` eligible
    /// ones: by (slowest quarter last, score, node) for Low risk, and by
    /// (tier, slowest quarter last, score, node) for Medium/High.
    by_score: Vec<u32>,
    by_tier: Vec<u32>,
    /// The Tier 3 miners, by node: the fair-entry candidates.
    by_entry: Vec<u32>,
    /// Per generative model the miners serve: scores with B = tokens/s
    /// percentile, and their own presorted orders.
    generative: Vec<SpeedOrder>,
}

/// A generative model's scores and orders (speed = tokens/s).
#[derive(Clone, Debug, Default)]
struct SpeedOrder {
    model: ModelId,
    scores: Vec<f64>,
    by_score: Vec<u32>,
    by_tier: Vec<u32>,
}

/// One miner's (score, speed percentile, in the slowest quarter) for one speed measure.
type Scored = (f64, f64, bool);

/// Whether `model` is a generative model (`wire::models`).
pub fn is_generative(model: &ModelId) -> bool {
    verdict_wire::models::is_generative(&super::model_name(model))
}

fn normalize(values: &[f64]) -> Vec<f64> {
    let (lo, hi) = values
        .iter()
        .fold((f64::INFINITY, f64::NEG_INFINITY), |(lo, hi), &v| {
            (lo.min(v), hi.max(v))
        });
    let span = hi - lo;
    values
        .iter()
        .map(|&v| {
            if span > f64::EPSILON {
                (v - lo) / span
            } else {
                1.0
            }
        })
        .collect()
}

/// Latency percentile score per miner: the share of measured miners that are
/// slower (1.0 = fastest); unmeasured miners sit at 0.5.
pub fn latency_percentiles(medians: &[Option<f64>]) -> Vec<f64> {
    let mut measured: Vec<f64> = medians.iter().flatten().copied().collect();
    measured.sort_by(f64::total_cmp);
    let n = measured.len();
    medians
        .iter()
        .map(|m| match m {
            None => 0.5,
            Some(_) if n <= 1 => 1.0,
            Some(v) => {
                // Miners strictly slower than v, over the others.
                let not_slower = measured.partition_point(|x| x <= v);
                (n - not_slower) as f64 / (n - 1) as f64
            }
        })
        .collect()
}

impl RoutingSnapshot {
    pub fn build(profiles: Vec<MinerProfile>, weights: &RoutingWeights, now: i64) -> Self {
        let trust_term: Vec<f64> = profiles
            .iter()
            .map(|p| {
                let m = if p.recent_mistake { 1.0 } else { 0.0 };
                p.trust * weights.penalty.powf(m) * weights.reward.powf(1.0 - m)
            })
            .collect();
        let stake: Vec<f64> = profiles.iter().map(|p| p.stake as f64).collect();
        let fidelity: Vec<f64> = profiles.iter().map(|p| p.success_rate).collect();
        let liveness: Vec<f64> = profiles
            .iter()
            .map(|p| -((now - p.last_heartbeat).max(0) as f64))
            .collect();
        let (r, s, f, i) = (
            normalize(&trust_term),
            normalize(&stake),
            normalize(&fidelity),
            normalize(&liveness),
        );
        // Scores for one speed measure (lower is faster; None: unmeasured),
        // with each miner's percentile and whether it is in the slowest quarter.
        let scored = |speed: &[Option<f64>]| -> Vec<Scored> {
            let percentiles = latency_percentiles(speed);
            let b = normalize(&percentiles);
            (0..speed.len())
                .map(|k| {
                    let measured = speed[k].is_some();
                    let mut score = weights.alpha * r[k]
                        + weights.beta
                            * (weights.w_stake * s[k]
                                + weights.w_fidelity * f[k]
                                + weights.w_bandwidth * b[k]
                                + weights.w_liveness * i[k]);
                    if measured && percentiles[k] >= 0.9 {
                        score += weights.top_latency_bonus;
                    }
                    (score, percentiles[k], measured && percentiles[k] < 0.25)
                })
                .collect()
        };
        let medians: Vec<Option<f64>> = profiles.iter().map(|p| p.median_latency_ms).collect();
        let by_latency = scored(&medians);
        let mut generative_models: Vec<ModelId> = profiles
            .iter()
            .flat_map(|p| p.models.iter().copied())
            .filter(is_generative)
            .collect();
        generative_models.sort_unstable();
        generative_models.dedup();
        let by_speed: Vec<(ModelId, Vec<Scored>)> = generative_models
            .into_iter()
            .map(|model| {
                // Faster is more tokens/s: rank by its negation.
                let speed: Vec<Option<f64>> = profiles
                    .iter()
                    .map(|p| p.speed_on(&model).map(|tps| -tps))
                    .collect();
                (model, scored(&speed))
            })
            .collect();
        let miners: Vec<Ranked> = profiles
            .into_iter()
            .zip(&by_latency)
            .map(
                |(profile, &(score, latency_percentile, deprioritized))| Ranked {
                    profile,
                    score,
                    latency_percentile,
                    deprioritized,
                },
            )
            .collect();
        let presorted = |tiered: bool, key: &dyn Fn(usize) -> (f64, bool)| {
            let mut order: Vec<u32> = (0..miners.len() as u32).collect();
            order.sort_by(|&a, &b| {
                let ((sa, da), (sb, db)) = (key(a as usize), key(b as usize));
                let (a, b): (&Ranked, &Ranked) = (&miners[a as usize], &miners[b as usize]);
                let tier = |m: &Ranked| if tiered { m.profile.tier } else { 0 };
                (tier(a), da)
                    .cmp(&(tier(b), db))
                    .then_with(|| sb.total_cmp(&sa))
                    .then_with(|| a.profile.node.cmp(&b.profile.node))
            });
            order
        };
        let latency_key = |k: usize| (miners[k].score, miners[k].deprioritized);
        let (by_score, by_tier) = (
            presorted(false, &latency_key),
            presorted(true, &latency_key),
        );
        let generative = by_speed
            .iter()
            .map(|(model, scored)| {
                let key = |k: usize| (scored[k].0, scored[k].2);
                SpeedOrder {
                    model: *model,
                    scores: scored.iter().map(|(score, _, _)| *score).collect(),
                    by_score: presorted(false, &key),
                    by_tier: presorted(true, &key),
                }
            })
            .collect();
        let mut by_entry: Vec<u32> = (0..miners.len() as u32)
            .filter(|&i| miners[i as usize].profile.tier >= 3)
            .collect();
        by_entry.sort_by_key(|&i| miners[i as usize].profile.node);
        RoutingSnapshot {
            miners,
            by_score,
            by_tier,
            by_entry,
            generative,
        }
    }

    /// The speed-ranked order of a generative model, if `model` is one the miners serve.
    fn speed_order(&self, model: &ModelId) -> Option<&SpeedOrder> {
        self.generative.iter().find(|o| &o.model == model)
    }

    /// Miner `index`'s score for a job on `model`: its tokens/s score for a
    /// generative model, its latency score otherwise.
    pub fn score_for(&self, model: &ModelId, index: usize) -> f64 {
        match self.speed_order(model) {
            Some(order) => order.scores[index],
            None => self.miners[index].score,
        }
    }

    pub fn get(&self, node: &Pubkey) -> Option<&Ranked> {
        self.miners.iter().find(|m| &m.profile.node == node)
    }

    /// May take this job at all (before ordering).
    pub fn eligible(m: &Ranked, req: &RouteRequest, weights: &RoutingWeights) -> bool {
        let p = &m.profile;
        p.reachable
            && p.active_miner
            && p.is_warm(req.now)
            && !p.rate_limited
            && p.serves(&req.model)
            && p.tier <= req.risk.max_tier()
            && !req.exclude.contains(&p.node)
            && !(req.realtime
                && p.median_latency_ms
                    .is_some_and(|ms| ms > weights.realtime_max_median_ms)
                && !is_generative(&req.model))
    }

    /// Up to `k` miners for the job, best first: Tier 1 before Tier 2 for
    /// Medium/High risk (any warm tier is one class for Low), the slowest
    /// quarter after everyone else, then by score (for a generative model,
    /// the tokens/s score).
    pub fn route(&self, req: &RouteRequest, weights: &RoutingWeights, k: usize) -> Vec<&Ranked> {
        self.route_indices(req, weights, k)
            .into_iter()
            .map(|i| &self.miners[i])
            .collect()
    }

    fn route_indices(&self, req: &RouteRequest, weights: &RoutingWeights, k: usize) -> Vec<usize> {
        let speed = self.speed_order(&req.model);
        let order = match (req.risk == RiskLevel::Low, speed) {
            (true, Some(o)) => &o.by_score,
            (false, Some(o)) => &o.by_tier,
            (true, None) => &self.by_score,
            (false, None) => &self.by_tier,
        };
        order
            .iter()
            .map(|&i| i as usize)
            .filter(|&i| Self::eligible(&self.miners[i], req, weights))
            .take(k)
            .collect()
    }

    /// The miner for one dispatch (see [`Self::draw`]).
    pub fn pick(
        &self,
        req: &RouteRequest,
        weights: &RoutingWeights,
        seed: &[u8; 32],
    ) -> Option<&Ranked> {
        self.draw(req, weights, seed).map(|(m, _)| m)
    }

    /// The miner for one dispatch, and which share it was drawn from. The
    /// draw is a pure function of `seed`, which the caller derives from a
    /// secret of its own with the job and attempt (`crate::draw`):
    /// reproducible by this keeper, unpredictable to a client choosing its
    /// job ids. Three independent words of the seed:
    ///
    /// 1. Fair entry: a low-risk dispatch is in the reserved share when
    ///    `u64(seed[8..16]) mod 10_000 < tier3_reserved_bps`. It then goes to
    ///    the eligible Tier 3 miner with the fewest jobs in its on-chain
    ///    window, ties drawn uniformly with `u64(seed[16..24])`: newcomers are
    ///    brought up one by one, whatever their score. With no eligible Tier 3
    ///    miner, the dispatch is routed normally.
    /// 2. Otherwise (medium or high risk, outside the share, or no Tier 3
    ///    miner eligible): among the best `weights.spread` eligible miners,
    ///    drawn with probability proportional to score with
    ///    `u64(seed[0..8])` (each keeps a floor share, so a lower-ranked
    ///    miner still builds a record).
    ///
    /// A keeper that dispatches several jobs before its next snapshot uses
    /// [`Self::draw_counting`], so its reserved jobs still in flight count
    /// as jobs and do not all herd onto the same newcomer.
    pub fn draw(
        &self,
        req: &RouteRequest,
        weights: &RoutingWeights,
        seed: &[u8; 32],
    ) -> Option<(&Ranked, Share)> {
        self.draw_counting(req, weights, seed, &|_| 0)
    }

    /// [`Self::draw`], the fair-entry order counting for each miner its
    /// window jobs plus `in_flight(miner)`: the reserved dispatches this
    /// keeper made to it that have not landed yet.
    pub fn draw_counting(
        &self,
        req: &RouteRequest,
        weights: &RoutingWeights,
        seed: &[u8; 32],
        in_flight: &dyn Fn(&Pubkey) -> u32,
    ) -> Option<(&Ranked, Share)> {
        if Self::in_reserved_share(req, weights, seed) {
            if let Some(m) = self.fair_entry(req, weights, seed, in_flight) {
                return Some((m, Share::Tier3Reserved));
            }
        }
        self.by_score_draw(req, weights, seed)
            .map(|m| (m, Share::Open))
    }

    /// Whether this dispatch falls in the share reserved for Tier 3 miners:
    /// low risk only, decided by the seed's second word alone.
    pub fn in_reserved_share(
        req: &RouteRequest,
        weights: &RoutingWeights,
        seed: &[u8; 32],
    ) -> bool {
        req.risk == RiskLevel::Low
            && word(seed, 1) % verdict::constants::BPS_DENOMINATOR
                < u64::from(weights.tier3_reserved_bps).min(verdict::constants::BPS_DENOMINATOR)
    }

    /// A reserved dispatch's miner: the eligible Tier 3 miner with the
    /// fewest window jobs (plus its reserved jobs in flight), ties by the
    /// seed's third word in node order, if any.
    fn fair_entry(
        &self,
        req: &RouteRequest,
        weights: &RoutingWeights,
        seed: &[u8; 32],
        in_flight: &dyn Fn(&Pubkey) -> u32,
    ) -> Option<&Ranked> {
        let load =
            |m: &Ranked| u64::from(m.profile.window_jobs) + u64::from(in_flight(&m.profile.node));
        let eligible: Vec<(&Ranked, u64)> = self
            .by_entry
            .iter()
            .map(|&i| &self.miners[i as usize])
            .filter(|m| Self::eligible(m, req, weights))
            .map(|m| (m, load(m)))
            .collect();
        let fewest = eligible.iter().map(|(_, l)| *l).min()?;
        let ties: Vec<&Ranked> = eligible
            .into_iter()
            .filter(|(_, l)| *l == fewest)
            .map(|(m, _)| m)
            .collect();
        Some(ties[(word(seed, 2) % ties.len() as u64) as usize])
    }

    /// The normal draw: among the best `weights.spread` eligible miners, in
    /// proportion to score.
    fn by_score_draw(
        &self,
        req: &RouteRequest,
        weights: &RoutingWeights,
        seed: &[u8; 32],
    ) -> Option<&Ranked> {
        let candidates = self.route_indices(req, weights, weights.spread.max(1));
        let weight = |i: usize| self.score_for(&req.model, i).max(0.0) + 0.05;
        let total: f64 = candidates.iter().map(|&i| weight(i)).sum();
        let draw = word(seed, 0) as f64 / u64::MAX as f64 * total;
        let mut acc = 0.0;
        for &i in &candidates {
            acc += weight(i);
            if draw < acc {
                return Some(&self.miners[i]);
            }
        }
        candidates.last().map(|&i| &self.miners[i])
    }

    /// Miners owed a trial before real work, that the keeper can reach.
    pub fn trials_due(&self, now: i64) -> Vec<&MinerProfile> {
        self.miners
            .iter()
            .map(|m| &m.profile)
            .filter(|p| p.reachable && p.trial_due(now))
            .collect()
    }

    /// Mean trust of the miners known (the `average_reputation` gauge).
    pub fn average_trust(&self) -> f64 {
        if self.miners.is_empty() {
            return 0.0;
        }
        self.miners.iter().map(|m| m.profile.trust).sum::<f64>() / self.miners.len() as f64
    }
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;
    use sha2::Digest;

    fn model() -> ModelId {
        verdict::state::model_id("test-projection-v1").unwrap()
    }

    pub(crate) fn miner(seed: u8, tier: u8, trust: f64, median: Option<f64>) -> MinerProfile {
        MinerProfile {
            node: Pubkey::new_from_array([seed; 32]),
            signing_key: Pubkey::new_from_array([seed.wrapping_add(100); 32]),
            models: vec![model()],
            trust,
            success_rate: 1.0,
            stake: 1_000,
            tier,
            window_jobs: if tier == 3 { 0 } else { 100 },
            trial: TrialStatus::Passed,
            cooldown_until: 0,
            rate_limited: false,
            last_heartbeat: 0,
            active_miner: true,
            recent_mistake: false,
            median_latency_ms: median,
            tokens_per_second: Vec::new(),
            reachable: true,
        }
    }

    /// Four established miners that outscore two Tier 3 newcomers (more
    /// trust, more stake): the best `spread` never reach the newcomers.
    fn established_and_new() -> Vec<MinerProfile> {
        let mut miners: Vec<MinerProfile> = (1..=4)
            .map(|s| {
                let mut m = miner(s, 1 + s % 2, 5.0, Some(10.0));
                m.stake = 10_000;
                m
            })
            .collect();
        miners.push(miner(10, 3, 1.0, Some(10.0)));
        miners.push(miner(11, 3, 1.0, Some(10.0)));
        miners
    }

    fn tier3_share(
        snap: &RoutingSnapshot,
        weights: &RoutingWeights,
        risk: RiskLevel,
        draws: u32,
    ) -> (u32, u32, std::collections::BTreeMap<u8, u32>) {
        let (mut tier3, mut reserved) = (0, 0);
        let mut per_miner = std::collections::BTreeMap::new();
        for i in 0..draws {
            let (m, share) = snap.draw(&req(risk, &[]), weights, &seed(i)).unwrap();
            *per_miner.entry(m.profile.node.to_bytes()[0]).or_insert(0) += 1;
            tier3 += u32::from(m.profile.tier == 3);
            reserved += u32::from(share == Share::Tier3Reserved);
        }
        (tier3, reserved, per_miner)
    }

    #[test]
    fn the_reserved_share_of_low_risk_jobs_goes_to_tier_three_at_its_rate() {
        let weights = RoutingWeights::default();
        assert_eq!(
            weights.tier3_reserved_bps, 2_000,
            "the default share is 20%"
        );
        let snap = RoutingSnapshot::build(established_and_new(), &weights, 10);
        let open = RoutingWeights {
            tier3_reserved_bps: 0,
            ..weights.clone()
        };
        let (never, _, _) = tier3_share(&snap, &open, RiskLevel::Low, 2_000);
        assert_eq!(
            never, 0,
            "without the share the best `spread` crowd the newcomers out"
        );
        // 10,000 dispatches: 2,000 expected, binomial sd 40; ±150 is ~4 sd.
        let (tier3, reserved, per_miner) = tier3_share(&snap, &weights, RiskLevel::Low, 10_000);
        assert_eq!(tier3, reserved, "only the reserved share reaches them");
        assert!(
            (1_850..=2_150).contains(&tier3),
            "20% ± 1.5%: {tier3} of 10,000"
        );
        // Tied at zero window jobs: the seed splits the share evenly.
        assert!(
            per_miner[&10].abs_diff(per_miner[&11]) < 250,
            "{per_miner:?}"
        );
        for bps in [500u16, 5_000, 10_000] {
            let w = RoutingWeights {
                tier3_reserved_bps: bps,
                ..weights.clone()
            };
            let (tier3, _, _) = tier3_share(&snap, &w, RiskLevel::Low, 4_000);
            let expected = 4_000 * u32::from(bps) / 10_000;
            assert!(
                tier3.abs_diff(expected) <= 120,
                "{bps} bps: {tier3} of 4,000"
            );
        }
    }

    #[test]
    fn the_reserved_share_serves_the_fewest_window_jobs_first() {
        let weights = RoutingWeights {
            tier3_reserved_bps: 10_000,
            ..RoutingWeights::default()
        };
        let mut miners = established_and_new();
        miners[4].window_jobs = 12;
        miners[5].window_jobs = 3;
        let mut newest = miner(12, 3, 1.0, None);
        newest.window_jobs = 0;
        newest.models = vec![];
        miners.push(newest);
        let snap = RoutingSnapshot::build(miners, &weights, 10);
        let chosen = |exclude: &[Pubkey], i| {
            snap.draw(&req(RiskLevel::Low, exclude), &weights, &seed(i))
                .unwrap()
        };
        // Miner 12 has no job yet but does not serve the model: not eligible.
        assert!((0..200).all(|i| chosen(&[], i)
            == (
                snap.get(&Pubkey::new_from_array([11; 32])).unwrap(),
                Share::Tier3Reserved
            )));
        // Once 11 was tried for this job, the next fewest (12 jobs) takes it.
        let tried = [Pubkey::new_from_array([11; 32])];
        assert!((0..200).all(|i| chosen(&tried, i).0.profile.node.to_bytes()[0] == 10));
        // Both tried: no Tier 3 miner left, so the normal draw decides.
        let both = [
            Pubkey::new_from_array([10; 32]),
            Pubkey::new_from_array([11; 32]),
        ];
        let (m, share) = chosen(&both, 0);
        assert_eq!((m.profile.tier < 3, share), (true, Share::Open));
    }

    #[test]
    fn reserved_jobs_in_flight_spread_over_the_newcomers_instead_of_herding() {
        let weights = RoutingWeights {
            tier3_reserved_bps: 10_000,
            ..RoutingWeights::default()
        };
        // Three newcomers, and 30 reserved dispatches before the next snapshot.
        let snap = RoutingSnapshot::build(
            [established_and_new(), vec![miner(12, 3, 1.0, Some(10.0))]].concat(),
            &weights,
            10,
        );
        let mut in_flight: std::collections::BTreeMap<Pubkey, u32> =
            std::collections::BTreeMap::new();
        for i in 0..30 {
            let counted = in_flight.clone();
            let (m, share) = snap
                .draw_counting(&req(RiskLevel::Low, &[]), &weights, &seed(i), &|n| {
                    counted.get(n).copied().unwrap_or(0)
                })
                .unwrap();
            assert_eq!(share, Share::Tier3Reserved);
            *in_flight.entry(m.profile.node).or_default() += 1;
        }
        assert_eq!(
            in_flight.values().copied().collect::<Vec<_>>(),
            vec![10, 10, 10],
            "round robin: {in_flight:?}"
        );
        // Without counting them, every dispatch of the snapshot goes to the
        // one newcomer the tie-break draw names.
        let mut herd = miner(12, 3, 1.0, Some(10.0));
        herd.window_jobs = 0;
        let mut others = established_and_new();
        others[4].window_jobs = 1;
        others[5].window_jobs = 1;
        let snap = RoutingSnapshot::build([others, vec![herd]].concat(), &weights, 10);
        assert!((0..30).all(|i| snap
            .draw(&req(RiskLevel::Low, &[]), &weights, &seed(i))
            .unwrap()
            .0
            .profile
            .node
            .to_bytes()[0]
            == 12));
    }

    #[test]
    fn with_no_tier_three_miner_eligible_every_job_routes_normally() {
        let weights = RoutingWeights::default();
        let open = RoutingWeights {
            tier3_reserved_bps: 0,
            ..weights.clone()
        };
        let established: Vec<MinerProfile> = established_and_new()
            .into_iter()
            .filter(|m| m.tier < 3)
            .collect();
        let mut cooling = miner(10, 3, 1.0, None);
        cooling.cooldown_until = 100;
        let mut limited = miner(11, 3, 1.0, None);
        limited.rate_limited = true;
        let mut far = miner(12, 3, 1.0, None);
        far.reachable = false;
        for miners in [
            established.clone(),
            [established, vec![cooling, limited, far]].concat(),
        ] {
            let snap = RoutingSnapshot::build(miners, &weights, 10);
            let reference = RoutingSnapshot::build(
                snap.miners.iter().map(|m| m.profile.clone()).collect(),
                &open,
                10,
            );
            for i in 0..2_000 {
                let (m, share) = snap
                    .draw(&req(RiskLevel::Low, &[]), &weights, &seed(i))
                    .unwrap();
                assert_eq!(share, Share::Open);
                assert_eq!(
                    m.profile.node,
                    reference
                        .pick(&req(RiskLevel::Low, &[]), &open, &seed(i))
                        .unwrap()
                        .profile
                        .node,
                    "the same draw as without the share"
                );
            }
        }
        // Medium and high risk never use the share, and never reach Tier 3.
        let snap = RoutingSnapshot::build(established_and_new(), &weights, 10);
        for risk in [RiskLevel::Medium, RiskLevel::High] {
            let (tier3, reserved, _) = tier3_share(&snap, &weights, risk, 2_000);
            assert_eq!((tier3, reserved), (0, 0), "{risk:?}");
        }
    }

    #[test]
    fn whether_a_dispatch_is_reserved_depends_on_the_seed_alone() {
        let weights = RoutingWeights::default();
        let snap = RoutingSnapshot::build(established_and_new(), &weights, 10);
        // A client controls the job (hence nothing the seed does not already
        // cover): the decision reads only the seed's second word, so the
        // keeper's secret seed (`crate::draw`) decides it. Every other word
        // changed, the decision stays; that word changed, it follows.
        for i in 0..500 {
            let s = seed(i);
            let reserved =
                RoutingSnapshot::in_reserved_share(&req(RiskLevel::Low, &[]), &weights, &s);
            let mut other = seed(i + 1_000_000);
            other[8..16].copy_from_slice(&s[8..16]);
            assert_eq!(
                RoutingSnapshot::in_reserved_share(&req(RiskLevel::Low, &[]), &weights, &other),
                reserved
            );
            let (_, share) = snap
                .draw(&req(RiskLevel::Low, &[]), &weights, &other)
                .unwrap();
            assert_eq!(share == Share::Tier3Reserved, reserved);
        }
    }

    #[test]
    fn picks_spread_load_over_the_best_few_in_proportion_to_score() {
        let miners = vec![
            miner(1, 1, 1.0, Some(10.0)),
            miner(2, 1, 1.0, Some(10.0)),
            miner(3, 1, 0.2, Some(10.0)),
            miner(4, 1, 0.1, Some(10.0)),
        ];
        let mut weights = RoutingWeights::default();
        let snap = RoutingSnapshot::build(miners, &weights, 10);
        let mut counts = std::collections::HashMap::new();
        for i in 0u32..3_000 {
            let node = snap
                .pick(&req(RiskLevel::Low, &[]), &weights, &seed(i))
                .unwrap()
                .profile
                .node;
            *counts.entry(node.to_bytes()[0]).or_insert(0u32) += 1;
        }
        assert_eq!(counts.get(&4), None, "only the best three share the load");
        assert!(
            counts[&1] > 700 && counts[&2] > 700,
            "the two best share most: {counts:?}"
        );
        assert!(
            counts[&3] > 30 && counts[&3] < counts[&1],
            "the third gets some: {counts:?}"
        );
        let salt = seed(7);
        assert_eq!(
            snap.pick(&req(RiskLevel::Low, &[]), &weights, &salt),
            snap.pick(&req(RiskLevel::Low, &[]), &weights, &salt),
            "reproducible"
        );
        weights.spread = 1;
        let best = snap.route(&req(RiskLevel::Low, &[]), &weights, 1)[0]
            .profile
            .node;
        assert!((0u32..50).all(|i| snap
            .pick(&req(RiskLevel::Low, &[]), &weights, &seed(i))
            .unwrap()
            .profile
            .node
            == best));
        let all: Vec<Pubkey> = (1..=4).map(|s| Pubkey::new_from_array([s; 32])).collect();
        assert!(snap
            .pick(&req(RiskLevel::Low, &all), &weights, &salt)
            .is_none());
    }

    /// A uniformly distributed seed, as `crate::draw` derives them.
    fn seed(i: u32) -> [u8; 32] {
        sha2::Sha256::digest(i.to_le_bytes()).into()
    }

    fn req(risk: RiskLevel, exclude: &[Pubkey]) -> RouteRequest<'_> {
        RouteRequest {
            risk,
            model: model(),
            realtime: true,
            now: 10,
            exclude,
        }
    }

    #[test]
    fn medium_and_high_risk_take_tier_one_first_and_never_tier_three() {
        let w = RoutingWeights::default();
        let snap = RoutingSnapshot::build(
            vec![
                miner(1, 2, 5.0, None),
                miner(2, 1, 1.0, None),
                miner(3, 3, 9.0, None),
            ],
            &w,
            10,
        );
        let chosen: Vec<u8> = snap
            .route(&req(RiskLevel::High, &[]), &w, 5)
            .iter()
            .map(|m| m.profile.node.to_bytes()[0])
            .collect();
        assert_eq!(chosen, vec![2, 1]);
        // Low risk: any warm tier, ordered by score (the most trusted first).
        let low: Vec<u8> = snap
            .route(&req(RiskLevel::Low, &[]), &w, 5)
            .iter()
            .map(|m| m.profile.node.to_bytes()[0])
            .collect();
        assert_eq!(low, vec![3, 1, 2]);
    }

    #[test]
    fn cold_cooling_rate_limited_unreachable_and_excluded_miners_are_skipped() {
        let w = RoutingWeights::default();
        let mut pending = miner(1, 3, 1.0, None);
        pending.trial = TrialStatus::Pending;
        let mut cooling = miner(2, 3, 1.0, None);
        cooling.cooldown_until = 100;
        let mut limited = miner(3, 3, 1.0, None);
        limited.rate_limited = true;
        let mut far = miner(4, 3, 1.0, None);
        far.reachable = false;
        let ok = miner(5, 3, 1.0, None);
        let tried = miner(6, 3, 1.0, None);
        let snap = RoutingSnapshot::build(
            vec![pending, cooling, limited, far, ok, tried.clone()],
            &w,
            10,
        );
        let exclude = [tried.node];
        let chosen = snap.route(&req(RiskLevel::Low, &exclude), &w, 10);
        assert_eq!(chosen.len(), 1);
        assert_eq!(chosen[0].profile.node.to_bytes()[0], 5);
        assert_eq!(
            snap.trials_due(10).len(),
            1,
            "only the pending miner is owed a trial"
        );
    }

    #[test]
    fn latency_rules_bonus_deprioritize_and_realtime_exclusion() {
        let w = RoutingWeights::default();
        // 20 measured miners 10..200 ms plus one at 800 ms.
        let mut miners: Vec<MinerProfile> = (0..20)
            .map(|i| miner(i + 1, 3, 1.0, Some(10.0 * (i + 1) as f64)))
            .collect();
        miners.push(miner(50, 3, 1.0, Some(800.0)));
        let snap = RoutingSnapshot::build(miners, &w, 10);
        let fastest = snap.get(&Pubkey::new_from_array([1; 32])).unwrap();
        let slow = snap.get(&Pubkey::new_from_array([20; 32])).unwrap();
        assert!(fastest.latency_percentile >= 0.9 && !fastest.deprioritized);
        assert!(slow.deprioritized);
        assert!(fastest.score > slow.score);
        let chosen = snap.route(&req(RiskLevel::Low, &[]), &w, 100);
        assert!(
            chosen.iter().all(|m| m.profile.node.to_bytes()[0] != 50),
            "median over 500 ms is excluded from real-time jobs"
        );
        let last = chosen.last().unwrap();
        assert!(last.deprioritized, "the slowest quarter comes last");
        let batch = RouteRequest {
            realtime: false,
            ..req(RiskLevel::Low, &[])
        };
        assert_eq!(snap.route(&batch, &w, 100).len(), 21);
    }

    #[test]
    fn score_follows_the_formula_with_min_max_normalization() {
        let w = RoutingWeights {
            top_latency_bonus: 0.0,
            ..RoutingWeights::default()
        };
        let mut a = miner(1, 3, 2.0, None);
        a.stake = 3_000;
        let mut b = miner(2, 3, 1.0, None);
        b.recent_mistake = true;
        b.success_rate = 0.5;
        let snap = RoutingSnapshot::build(vec![a, b], &w, 0);
        // a: every metric at the top of the range (R, S, F = 1; B, I tie = 1).
        let expected_a =
            w.alpha + w.beta * (w.w_stake + w.w_fidelity + w.w_bandwidth + w.w_liveness);
        assert!((snap.miners[0].score - expected_a).abs() < 1e-9);
        // b: R, S, F at the bottom (0), ties (B, I) at 1.
        let expected_b = w.beta * (w.w_bandwidth + w.w_liveness);
        assert!((snap.miners[1].score - expected_b).abs() < 1e-9);
    }

    #[test]
    fn percentiles_rank_faster_miners_higher() {
        let p = latency_percentiles(&[Some(10.0), Some(20.0), None, Some(30.0)]);
        assert_eq!(p, vec![1.0, 0.5, 0.5, 0.0]);
    }

    #[test]
    fn generative_jobs_rank_by_tokens_per_second_and_embeddings_by_latency() {
        let w = RoutingWeights {
            spread: 1,
            tier3_reserved_bps: 0,
            ..RoutingWeights::default()
        };
        let gen = verdict::state::model_id(verdict_wire::models::SMOLLM2_ID).unwrap();
        assert!(is_generative(&gen) && !is_generative(&model()));
        // Miner 1 answers embeddings fastest but generates slowest; miner 3
        // is slow on embeddings (over the real-time limit) and generates fastest.
        let speeds = [(1, 10.0, 5.0), (2, 100.0, 40.0), (3, 900.0, 80.0)];
        let miners: Vec<MinerProfile> = speeds
            .iter()
            .map(|&(seed, median, tps)| {
                let mut m = miner(seed, 1, 1.0, Some(median));
                m.models.push(gen);
                m.tokens_per_second = vec![(gen, tps)];
                m
            })
            .collect();
        let snap = RoutingSnapshot::build(miners, &w, 0);
        let order = |model: ModelId, realtime: bool| -> Vec<u8> {
            let request = RouteRequest {
                realtime,
                model,
                ..req(RiskLevel::Medium, &[])
            };
            snap.route(&request, &w, 3)
                .iter()
                .map(|m| m.profile.node.to_bytes()[0])
                .collect()
        };
        assert_eq!(order(model(), false), vec![1, 2, 3]);
        assert_eq!(
            order(model(), true),
            vec![1, 2],
            "over 500 ms: not real-time"
        );
        assert_eq!(order(gen, false), vec![3, 2, 1]);
        assert_eq!(
            order(gen, true),
            vec![3, 2, 1],
            "the median rule is for embeddings"
        );
        let i3 = snap
            .miners
            .iter()
            .position(|m| m.profile.node.to_bytes()[0] == 3)
            .unwrap();
        assert!(snap.score_for(&gen, i3) > snap.miners[i3].score);
        let draw = |model: ModelId| {
            let request = RouteRequest {
                model,
                ..req(RiskLevel::Low, &[])
            };
            snap.pick(&request, &w, &seed(0))
                .unwrap()
                .profile
                .node
                .to_bytes()[0]
        };
        assert_eq!((draw(model()), draw(gen)), (1, 3));
        // An unmeasured miner sits in the middle (percentile 0.5).
        let mut fresh = miner(4, 1, 1.0, None);
        fresh.models.push(gen);
        let mut slow = miner(5, 1, 1.0, None);
        slow.models.push(gen);
        slow.tokens_per_second = vec![(gen, 1.0)];
        let mut quick = miner(6, 1, 1.0, None);
        quick.models.push(gen);
        quick.tokens_per_second = vec![(gen, 50.0)];
        let snap = RoutingSnapshot::build(vec![fresh, slow, quick], &w, 0);
        let request = RouteRequest {
            model: gen,
            ..req(RiskLevel::Medium, &[])
        };
        let ranked: Vec<u8> = snap
            .route(&request, &w, 3)
            .iter()
            .map(|m| m.profile.node.to_bytes()[0])
            .collect();
        assert_eq!(ranked, vec![6, 4, 5]);
    }
}
