//! A miner's reputation: top-down trust R' = R·Pen^M·Rew^(1−M), the rolling
//! window of its last jobs (bucketed), the composite score, its tier, trial
//! gating and heartbeat decay. Pure fixed-point math, unit-tested here.

use anchor_lang::prelude::*;

use super::ProtocolParams;
use crate::constants::{BPS_DENOMINATOR, DAY_SECS, REPUTATION_BUCKETS, TIER_MIN_JOBS};

/// Trust and scores are in basis points: 10_000 == 1.0.
pub const ONE_BPS: u32 = BPS_DENOMINATOR as u32;

/// One bucket of the rolling window. Stored in the Node (zero-copy), so
/// laid out without padding; build one with `..Default::default()`.
#[zero_copy]
#[derive(Debug, Default, PartialEq, Eq)]
pub struct WindowBucket {
    /// Sum of the jobs' latency percentile scores, in bps.
    pub latency_score_sum: u32,
    /// Sum of successful jobs' response times, for the average latency.
    pub response_ms_sum: u32,
    pub jobs: u16,
    pub successes: u16,
    pub sla_met: u16,
    pub reserved: [u8; 2],
}

super::stored_as_byte! {
    #[derive(AnchorSerialize, AnchorDeserialize, Clone, Copy, Debug, Default, PartialEq, Eq)]
    pub enum TrialStatus {
        /// Registered, no trial yet: no jobs.
        #[default]
        Pending,
        /// Passed its trial: "warm", may be assigned jobs.
        Passed,
        /// Failed its trial: cooling down until `cooldown_until`, flagged.
        Failed,
    }
}

#[derive(AnchorSerialize, AnchorDeserialize, Clone, Copy, Debug, PartialEq, Eq, InitSpace)]
pub enum JobOutcome {
    /// Valid output; `sla_met` and the latency score come from the attestation.
    Success {
        sla_met: bool,
        latency_score_bps: u16,
        response_ms: u32,
    },
    /// Invalid output, disconnect, or refused by validation.
    Failure,
    /// No answer in time: a failure that also misses the SLA.
    Timeout,
}

/// Stored in the Node (zero-copy): widest fields first, no padding; the
/// trial status is its one-byte discriminant behind `trial()`/`set_trial()`.
#[zero_copy]
#[derive(Debug, PartialEq, Eq)]
pub struct Reputation {
    pub cooldown_until: i64,
    pub last_heartbeat: i64,
    /// Time up to which heartbeat decay has been applied.
    pub decayed_until: i64,
    pub lifetime_jobs: u64,
    pub lifetime_failures: u64,
    pub buckets: [WindowBucket; REPUTATION_BUCKETS],
    /// R, in bps of 1.0.
    pub trust_bps: u32,
    pub current_bucket: u8,
    /// The `TrialStatus` discriminant; read it through `trial()`.
    trial: u8,
    pub trial_failures: u8,
    reserved: [u8; 1],
}

/// Window figures, in bps.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct WindowStats {
    pub jobs: u32,
    pub success_bps: u16,
    pub sla_bps: u16,
    pub latency_bps: u16,
    pub composite_bps: u16,
    /// Average response time of the window's successful jobs.
    pub avg_response_ms: u32,
}

/// A miner's window and the tier it gives, computed once: settling a job
/// reads them four times (eligibility, the Tier 1 flag, the payout hold,
/// the event), and each window sums ten buckets.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Standing {
    pub window: WindowStats,
    pub tier: u8,
}

impl Standing {
    /// Payout hold in epochs: 0 for composite ≥ Tier 1, 2 at or below the
    /// rate-limit threshold, 1 between (a miner without a record waits 2).
    pub fn payout_delay_epochs(&self, params: &ProtocolParams) -> i64 {
        let w = &self.window;
        if w.jobs < TIER_MIN_JOBS || w.composite_bps <= params.rate_limit_bps {
            2
        } else if w.composite_bps >= params.tier1_min_bps {
            0
        } else {
            1
        }
    }

    /// When a payout earned now is released.
    pub fn payout_release_at(&self, now: i64, params: &ProtocolParams) -> Result<i64> {
        let delay = self
            .payout_delay_epochs(params)
            .checked_mul(params.epoch_secs)
            .ok_or(crate::errors::VerdictError::MathOverflow)?;
        crate::math::add_secs(now, delay)
    }
}

impl Reputation {
    /// A new node's: no trust, no record, no trial yet, heartbeat now.
    pub fn new(now: i64) -> Self {
        Self {
            last_heartbeat: now,
            decayed_until: now,
            ..bytemuck::Zeroable::zeroed()
        }
    }

    pub fn trial(&self) -> TrialStatus {
        TrialStatus::from_stored(self.trial)
    }

    pub fn set_trial(&mut self, trial: TrialStatus) {
        self.trial = trial as u8;
    }

    /// R' = R·Pen for a mistake, R·Rew (rounded up, so a small R still grows,
    /// capped) for a correct job.
    pub fn update_trust(&mut self, mistake: bool, params: &ProtocolParams) {
        let r = self.trust_bps as u64;
        let next = if mistake {
            r * params.penalty_bps as u64 / BPS_DENOMINATOR
        } else {
            (r * params.reward_bps as u64).div_ceil(BPS_DENOMINATOR)
        };
        self.trust_bps = next.min(params.trust_cap_bps as u64) as u32;
    }

    /// Records one job's outcome in the window and in trust.
    pub fn record(&mut self, outcome: JobOutcome, params: &ProtocolParams) {
        let per_bucket = (params.reputation_window as usize).div_ceil(REPUTATION_BUCKETS) as u16;
        if self.buckets[self.current_bucket as usize].jobs >= per_bucket {
            self.current_bucket = ((self.current_bucket as usize + 1) % REPUTATION_BUCKETS) as u8;
            self.buckets[self.current_bucket as usize] = WindowBucket::default();
        }
        let bucket = &mut self.buckets[self.current_bucket as usize];
        bucket.jobs += 1;
        self.lifetime_jobs = self.lifetime_jobs.saturating_add(1);
        match outcome {
            JobOutcome::Success {
                sla_met,
                latency_score_bps,
                response_ms,
            } => {
                bucket.successes += 1;
                bucket.response_ms_sum = bucket.response_ms_sum.saturating_add(response_ms);
                bucket.sla_met += sla_met as u16;
                bucket.latency_score_sum += latency_score_bps.min(ONE_BPS as u16) as u32;
                self.update_trust(false, params);
            }
            JobOutcome::Failure | JobOutcome::Timeout => {
                self.lifetime_failures = self.lifetime_failures.saturating_add(1);
                self.update_trust(true, params);
            }
        }
    }

    /// Success rate, SLA compliance, latency score and the composite
    /// 0.5·success + 0.3·SLA + 0.2·latency over the window.
    pub fn window(&self, params: &ProtocolParams) -> WindowStats {
        let (mut jobs, mut ok, mut sla, mut lat, mut ms) = (0u64, 0u64, 0u64, 0u64, 0u64);
        for b in &self.buckets {
            jobs += b.jobs as u64;
            ok += b.successes as u64;
            sla += b.sla_met as u64;
            lat += b.latency_score_sum as u64;
            ms += b.response_ms_sum as u64;
        }
        if jobs == 0 {
            return WindowStats {
                jobs: 0,
                success_bps: 0,
                sla_bps: 0,
                latency_bps: 0,
                composite_bps: 0,
                avg_response_ms: 0,
            };
        }
        let bps = |n: u64| (n * BPS_DENOMINATOR / jobs) as u16;
        let (success_bps, sla_bps) = (bps(ok), bps(sla));
        // Latency is scored over every job: a failed job earns no latency score.
        let latency_bps = (lat / jobs) as u16;
        let composite = (success_bps as u64 * params.weight_success_bps as u64
            + sla_bps as u64 * params.weight_sla_bps as u64
            + latency_bps as u64 * params.weight_latency_bps as u64)
            / BPS_DENOMINATOR;
        let avg_response_ms = ms.checked_div(ok).unwrap_or(0) as u32;
        WindowStats {
            jobs: jobs as u32,
            success_bps,
            sla_bps,
            latency_bps,
            composite_bps: composite as u16,
            avg_response_ms,
        }
    }

    /// Tier 1 (composite ≥ 0.95), 2 (reliable), or 3 (new, recovering, or
    /// success below the tiered minimum: low-risk jobs only).
    pub fn tier(&self, params: &ProtocolParams) -> u8 {
        self.standing(params).tier
    }

    /// The window and the tier together (see [`Standing`]).
    pub fn standing(&self, params: &ProtocolParams) -> Standing {
        let window = self.window(params);
        let tier = self.tier_of(&window, params);
        Standing { window, tier }
    }

    fn tier_of(&self, w: &WindowStats, params: &ProtocolParams) -> u8 {
        if self.trial() != TrialStatus::Passed
            || w.jobs < TIER_MIN_JOBS
            || w.success_bps < params.tiered_min_success_bps
        {
            3
        } else if w.composite_bps >= params.tier1_min_bps {
            1
        } else {
            2
        }
    }

    /// Composite at or below the rate-limit threshold (once it has a record).
    pub fn is_rate_limited(&self, params: &ProtocolParams) -> bool {
        let w = self.window(params);
        w.jobs >= TIER_MIN_JOBS && w.composite_bps <= params.rate_limit_bps
    }

    /// Success below the slashing threshold over a full enough window:
    /// anyone may crank a downtime slash (issue: slashing).
    pub fn below_slash_threshold(&self, params: &ProtocolParams) -> bool {
        let w = self.window(params);
        w.jobs >= TIER_MIN_JOBS && w.success_bps < params.slash_success_bps
    }

    /// Payout hold in epochs: 0 for composite ≥ Tier 1, 2 at or below the
    /// rate-limit threshold, 1 between (a miner without a record waits 2).
    pub fn payout_delay_epochs(&self, params: &ProtocolParams) -> i64 {
        self.standing(params).payout_delay_epochs(params)
    }

    /// Reward boost in bps of the price: linear from 0 at the Tier 1
    /// threshold to `max_boost_bps` at a perfect composite; Tier 1 only.
    pub fn boost_bps(&self, params: &ProtocolParams) -> u16 {
        let Standing { window: w, tier } = self.standing(params);
        if tier != 1 {
            return 0;
        }
        let above = w.composite_bps.saturating_sub(params.tier1_min_bps) as u64;
        let span = (ONE_BPS as u16).saturating_sub(params.tier1_min_bps).max(1) as u64;
        (params.max_boost_bps as u64 * above.min(span) / span) as u16
    }

    /// Applies heartbeat decay lazily: each whole day of staleness past the
    /// limit keeps `decay_per_day_bps` of trust.
    pub fn apply_decay(&mut self, now: i64, params: &ProtocolParams) {
        let stale_from = self
            .last_heartbeat
            .saturating_add(params.heartbeat_stale_secs);
        let start = self.decayed_until.max(stale_from);
        if now <= start {
            return;
        }
        // Unsigned: SBF has no signed division (now > start here).
        let days = now.abs_diff(start) / DAY_SECS.unsigned_abs();
        let kept = kept_after(params.decay_per_day_bps, days.min(365));
        // At most 2^32 · 10^9 < 2^64: no overflow.
        self.trust_bps = (self.trust_bps as u64 * kept / DECAY_ONE) as u32;
        self.decayed_until = start + days as i64 * DAY_SECS;
    }

    pub fn heartbeat(&mut self, now: i64, params: &ProtocolParams) {
        self.apply_decay(now, params);
        self.last_heartbeat = now;
        self.decayed_until = now;
    }

    /// A slash clears the rolling window: the node starts its record anew.
    pub fn reset_window(&mut self) {
        self.buckets = [WindowBucket::default(); REPUTATION_BUCKETS];
        self.current_bucket = 0;
    }

    /// May take jobs now: passed its trial and not cooling down.
    pub fn is_warm(&self, now: i64) -> bool {
        self.trial() == TrialStatus::Passed && now >= self.cooldown_until
    }
}

/// The decay factor's fixed point: parts per billion, so a year of daily
/// factors multiplied by squaring loses less than a part in ten million.
const DECAY_ONE: u64 = 1_000_000_000;

/// What `days` stale days keep of trust, `(per_day_bps / 10_000)^days`, in
/// parts per billion: by squaring, so a node silent for a year costs nine
/// squarings when it is next touched instead of 365 multiplications.
fn kept_after(per_day_bps: u16, days: u64) -> u64 {
    // `per_day_bps` is at most 10_000 (`ProtocolParams::validate`), so every
    // factor is at most DECAY_ONE and each product below at most 10^18.
    let mut factor = (per_day_bps as u64).min(BPS_DENOMINATOR) * (DECAY_ONE / BPS_DENOMINATOR);
    let (mut kept, mut days) = (DECAY_ONE, days);
    while days > 0 {
        if days & 1 == 1 {
            kept = kept * factor / DECAY_ONE;
        }
        factor = factor * factor / DECAY_ONE;
        days >>= 1;
    }
    kept
}

#[cfg(test)]
mod tests {
    use super::*;

    fn warm(params: &ProtocolParams) -> Reputation {
        let mut r = Reputation::new(0);
        r.set_trial(TrialStatus::Passed);
        r.trust_bps = params.trial_baseline_trust_bps;
        r
    }

    const OK: JobOutcome = JobOutcome::Success {
        sla_met: true,
        latency_score_bps: 10_000,
        response_ms: 20,
    };

    #[test]
    fn trust_follows_pen_and_rew_and_is_capped() {
        let p = ProtocolParams::default();
        let mut r = warm(&p);
        r.update_trust(false, &p);
        assert_eq!(r.trust_bps, 10_100);
        r.update_trust(true, &p);
        assert_eq!(r.trust_bps, 8_080);
        r.trust_bps = 3;
        r.update_trust(false, &p);
        assert_eq!(r.trust_bps, 4, "a tiny trust still grows");
        r.trust_bps = p.trust_cap_bps;
        r.update_trust(false, &p);
        assert_eq!(r.trust_bps, p.trust_cap_bps);
    }

    #[test]
    fn composite_weights_success_sla_latency() {
        let p = ProtocolParams::default();
        let mut r = warm(&p);
        for i in 0..100 {
            if i < 4 {
                r.record(JobOutcome::Failure, &p);
            } else {
                r.record(
                    JobOutcome::Success {
                        sla_met: i % 10 != 0,
                        latency_score_bps: 9_000,
                        response_ms: i,
                    },
                    &p,
                );
            }
        }
        let w = r.window(&p);
        assert_eq!(w.jobs, 100);
        assert_eq!(w.success_bps, 9_600);
        assert_eq!(w.sla_bps, 8_700); // 96 successes, 9 of them (i = 10, 20, .., 90) missed the SLA
        assert_eq!(w.latency_bps, 8_640);
        assert_eq!(
            w.composite_bps as u32,
            (9_600 * 5 + 8_700 * 3 + 8_640 * 2) / 10
        );
        assert_eq!(w.avg_response_ms, (4..100).sum::<u32>() / 96);
        assert_eq!(r.tier(&p), 2);
    }

    #[test]
    fn window_keeps_only_the_last_thousand_jobs() {
        let p = ProtocolParams::default();
        let mut r = warm(&p);
        for _ in 0..1_000 {
            r.record(JobOutcome::Failure, &p);
        }
        for _ in 0..1_000 {
            r.record(OK, &p);
        }
        let w = r.window(&p);
        assert!(w.jobs <= 1_000 && w.jobs > 900, "{w:?}");
        assert_eq!(w.success_bps, 10_000);
        assert_eq!(r.tier(&p), 1);
        assert_eq!(r.payout_delay_epochs(&p), 0);
        assert_eq!(r.boost_bps(&p), p.max_boost_bps);
    }

    #[test]
    fn tiers_delays_and_rate_limits_follow_thresholds() {
        let p = ProtocolParams::default();
        let mut r = warm(&p);
        for _ in 0..19 {
            r.record(OK, &p);
        }
        assert_eq!(r.tier(&p), 3, "too few jobs to leave Tier 3");
        assert_eq!(r.payout_delay_epochs(&p), 2);
        r.record(OK, &p);
        assert_eq!(r.tier(&p), 1);
        // 20% failures: success 80% < 85% loses tiered jobs; composite 0.8 -> 1 epoch.
        let mut r = warm(&p);
        for i in 0..100 {
            r.record(if i % 5 == 0 { JobOutcome::Failure } else { OK }, &p);
        }
        assert_eq!(r.tier(&p), 3);
        assert_eq!(r.payout_delay_epochs(&p), 1);
        let standing = r.standing(&p);
        assert_eq!((standing.window, standing.tier), (r.window(&p), 3));
        assert_eq!(
            standing.payout_release_at(1_000, &p).unwrap(),
            1_000 + p.epoch_secs
        );
        assert!(!r.is_rate_limited(&p));
        // 40% failures: rate limited, 2 epochs, below the slashing threshold.
        let mut r = warm(&p);
        for i in 0..100 {
            r.record(if i % 5 < 2 { JobOutcome::Timeout } else { OK }, &p);
        }
        assert!(r.is_rate_limited(&p));
        assert!(r.below_slash_threshold(&p));
        assert_eq!(r.payout_delay_epochs(&p), 2);
        r.reset_window();
        assert_eq!(r.window(&p).jobs, 0);
    }

    #[test]
    fn a_years_decay_by_squaring_is_the_daily_factor_compounded() {
        let p = ProtocolParams::default();
        for days in 0..=365u64 {
            let mut r = warm(&p);
            let daily = p.decay_per_day_bps as f64 / 10_000.0;
            let exact = r.trust_bps as f64 * daily.powi(days as i32);
            r.apply_decay(p.heartbeat_stale_secs + days as i64 * DAY_SECS, &p);
            // Floored once: below the exact value by less than one unit
            // (give or take the float reference's own rounding).
            let below = exact - r.trust_bps as f64;
            assert!(
                (-1e-6..1.0 + 1e-6).contains(&below),
                "{days} days: {} vs {exact}",
                r.trust_bps
            );
        }
        assert_eq!(kept_after(10_000, 365), DECAY_ONE, "no decay at 100%");
        assert_eq!(kept_after(0, 3), 0);
        assert_eq!(kept_after(9_900, 0), DECAY_ONE);
    }

    #[test]
    fn decay_applies_once_per_stale_day() {
        let p = ProtocolParams::default();
        let mut r = warm(&p);
        r.apply_decay(p.heartbeat_stale_secs, &p);
        assert_eq!(r.trust_bps, 10_000, "not stale yet");
        r.apply_decay(p.heartbeat_stale_secs + 2 * DAY_SECS + 5, &p);
        assert_eq!(r.trust_bps, 9_801);
        r.apply_decay(p.heartbeat_stale_secs + 2 * DAY_SECS + 10, &p);
        assert_eq!(r.trust_bps, 9_801, "the same days are not decayed twice");
        r.heartbeat(p.heartbeat_stale_secs + 3 * DAY_SECS, &p);
        assert_eq!(r.trust_bps, 9_702);
        r.apply_decay(p.heartbeat_stale_secs + 3 * DAY_SECS + 10, &p);
        assert_eq!(r.trust_bps, 9_702, "a fresh heartbeat stops decay");
    }
}
