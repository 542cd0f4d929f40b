//! Prometheus metrics under the protocol's names, one registry per keeper
//! (so several keepers can run in one process, as the tests do).

use prometheus::{
    Encoder, Gauge, GaugeVec, HistogramOpts, HistogramVec, IntCounter, IntCounterVec, IntGauge,
    IntGaugeVec, Opts, Registry, TextEncoder,
};

pub struct Metrics {
    pub registry: Registry,
    pub validators_active: IntGauge,
    pub validators_total: IntGauge,
    pub validations_preprocessing_total: IntCounter,
    pub validations_completion_total: IntCounter,
    pub consensus_reached_total: IntCounter,
    pub consensus_failed_total: IntCounter,
    pub average_reputation: Gauge,
    /// From intake to outcome posted, by risk.
    pub dispatch_latency_seconds: HistogramVec,
    /// One miner call, by result.
    pub miner_call_seconds: HistogramVec,
    /// `shard` or `end_to_end`.
    pub timeouts_total: IntCounterVec,
    /// Re-dispatches and re-sends, by reason.
    pub retries_total: IntCounterVec,
    /// Jobs finished, by outcome.
    pub jobs_total: IntCounterVec,
    /// Outcome transactions, by kind and result.
    pub posts_total: IntCounterVec,
    /// Co-sign requests from other members, by claim kind and verdict.
    pub cosign_total: IntCounterVec,
    /// Dispute work: challenges, commits, reveals, resolutions, liquidations, claims.
    pub disputes_total: IntCounterVec,
    /// Inputs kept as evidence (rule 9).
    pub inputs_held: IntGauge,
    /// Evidence requests from other nodes, by result.
    pub inputs_served_total: IntCounterVec,
    /// Inputs asked of other keepers for a dispute, by result.
    pub inputs_fetched_total: IntCounterVec,
    /// Inputs dropped once no dispute could need them.
    pub inputs_pruned_total: IntCounter,
    /// Dispatches by the share they were drawn from (`open`, `tier3_reserved`).
    pub routing_draws_total: IntCounterVec,
    /// Auction rounds cleared.
    pub auction_rounds_total: IntCounter,
    /// Bids received, by result (`admitted`, or why refused).
    pub auction_bids_total: IntCounterVec,
    /// Jobs offered in a round, by result (`awarded`, `no_bids`,
    /// `fee_below_every_bid`, `out_of_capacity`).
    pub auction_jobs_total: IntCounterVec,
    /// The last clearing price, by model and risk level.
    pub clearing_price: IntGaugeVec,
    /// Bid-priced placements posted, by how the bid went (`on_chain`, or
    /// `too_large` when it would outgrow the packet and the committee's
    /// word alone carries the price).
    pub bid_priced_posts_total: IntCounterVec,
    /// Miners this keeper can call: found on chain with a usable endpoint.
    pub miners_discovered: IntGauge,
    /// On-chain endpoints this keeper will not call, by reason (`private`, `malformed`).
    pub endpoints_refused: IntGaugeVec,
    /// Co-sign requests this keeper refused, by reason ([`crate::core::cosign::Refusal::code`]).
    pub cosign_refusals_total: IntCounterVec,
    /// 1 while this keeper's node sits on the current committee.
    pub committee_member: IntGauge,
    /// 1 while this keeper's node is an active validator (it should be drawn).
    pub committee_expected: IntGauge,
    /// Chain calls that failed, by operation (`read`, `send`).
    pub chain_errors_total: IntCounterVec,
    /// Unix time of the last chain call that succeeded.
    pub chain_last_success_timestamp_seconds: IntGauge,
    /// Fees this keeper's payer spent, in lamports, by instruction.
    pub fees_lamports_total: IntCounterVec,
    /// The fee payer's balance, in lamports.
    pub payer_balance_lamports: IntGauge,
    /// Send to confirmation of outcome transactions, by kind.
    pub post_seconds: HistogramVec,
    /// Permissionless cranks this keeper landed, by kind.
    pub cranks_total: IntCounterVec,
    /// Each miner's observed generation speed per generative model (the
    /// tokens/s EWMA routing ranks generative jobs by), labels miner, model.
    pub miner_tokens_per_second: GaugeVec,
    /// Every metric's name, for checks of dashboards and alert rules.
    names: Vec<String>,
}

impl Metrics {
    pub fn new() -> Self {
        use prometheus::core::Collector;
        let registry = Registry::new();
        let mut names = Vec::new();
        macro_rules! reg {
            ($m:expr) => {{
                let m = $m.expect("valid metric");
                names.extend(m.desc().iter().map(|d| d.fq_name.clone()));
                registry
                    .register(Box::new(m.clone()))
                    .expect("unique metric");
                m
            }};
        }
        let buckets = vec![
            0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 20.0,
        ];
        Metrics {
            validators_active: reg!(IntGauge::new(
                "validators_active",
                "Active validators (Config counter)"
            )),
            validators_total: reg!(IntGauge::new(
                "validators_total",
                "Registered nodes with the validator role"
            )),
            validations_preprocessing_total: reg!(IntCounter::new(
                "validations_preprocessing_total",
                "Preprocessing validations (assignments checked)"
            )),
            validations_completion_total: reg!(IntCounter::new(
                "validations_completion_total",
                "Completion validations of miner answers"
            )),
            consensus_reached_total: reg!(IntCounter::new(
                "consensus_reached_total",
                "Quorum-signed outcomes the chain accepted"
            )),
            consensus_failed_total: reg!(IntCounter::new(
                "consensus_failed_total",
                "Outcomes without a quorum or refused by the chain"
            )),
            average_reputation: reg!(Gauge::new(
                "average_reputation",
                "Mean miner trust R (1.0 = trial baseline)"
            )),
            dispatch_latency_seconds: reg!(HistogramVec::new(
                HistogramOpts::new("dispatch_latency_seconds", "Intake to outcome posted")
                    .buckets(buckets.clone()),
                &["risk"]
            )),
            miner_call_seconds: reg!(HistogramVec::new(
                HistogramOpts::new("miner_call_seconds", "One miner call").buckets(buckets),
                &["result"]
            )),
            timeouts_total: reg!(IntCounterVec::new(
                Opts::new("timeouts_total", "Timeouts by kind"),
                &["kind"]
            )),
            retries_total: reg!(IntCounterVec::new(
                Opts::new("retries_total", "Retries by reason"),
                &["reason"]
            )),
            jobs_total: reg!(IntCounterVec::new(
                Opts::new("jobs_total", "Jobs finished by outcome"),
                &["outcome"]
            )),
            routing_draws_total: reg!(IntCounterVec::new(
                Opts::new(
                    "routing_draws_total",
                    "Dispatches by routing share (open, or reserved for Tier 3 miners)"
                ),
                &["share"]
            )),
            auction_rounds_total: reg!(IntCounter::new(
                "auction_rounds_total",
                "Auction rounds cleared"
            )),
            auction_bids_total: reg!(IntCounterVec::new(
                Opts::new("auction_bids_total", "Bids received, by result"),
                &["result"]
            )),
            auction_jobs_total: reg!(IntCounterVec::new(
                Opts::new("auction_jobs_total", "Jobs offered in an auction round, by result"),
                &["result"]
            )),
            bid_priced_posts_total: reg!(IntCounterVec::new(
                Opts::new(
                    "bid_priced_posts_total",
                    "Bid-priced placements posted, by whether the bid went on chain"
                ),
                &["bid"]
            )),
            clearing_price: reg!(IntGaugeVec::new(
                Opts::new(
                    "clearing_price",
                    "The last auction's clearing price, by model and risk level"
                ),
                &["model", "risk"]
            )),
            miners_discovered: reg!(IntGauge::new(
                "miners_discovered",
                "Miners found on chain with an endpoint this keeper calls"
            )),
            endpoints_refused: reg!(IntGaugeVec::new(
                Opts::new(
                    "endpoints_refused",
                    "On-chain miner endpoints this keeper will not call, by reason"
                ),
                &["reason"]
            )),
            cosign_refusals_total: reg!(IntCounterVec::new(
                Opts::new(
                    "cosign_refusals_total",
                    "Co-sign requests refused, by reason"
                ),
                &["reason"]
            )),
            committee_member: reg!(IntGauge::new(
                "committee_member",
                "1 while this keeper's node sits on the current committee"
            )),
            committee_expected: reg!(IntGauge::new(
                "committee_expected",
                "1 while this keeper's node is an active validator"
            )),
            chain_errors_total: reg!(IntCounterVec::new(
                Opts::new("chain_errors_total", "Failed chain calls, by operation"),
                &["op"]
            )),
            chain_last_success_timestamp_seconds: reg!(IntGauge::new(
                "chain_last_success_timestamp_seconds",
                "Unix time of the last successful chain call"
            )),
            fees_lamports_total: reg!(IntCounterVec::new(
                Opts::new(
                    "fees_lamports_total",
                    "Transaction fees paid by this keeper, in lamports, by instruction"
                ),
                &["instruction"]
            )),
            payer_balance_lamports: reg!(IntGauge::new(
                "payer_balance_lamports",
                "The fee payer's balance, in lamports"
            )),
            post_seconds: reg!(HistogramVec::new(
                HistogramOpts::new("post_seconds", "Outcome transaction, send to confirmed")
                    .buckets(vec![0.1, 0.25, 0.5, 1.0, 2.0, 5.0, 10.0, 30.0, 60.0]),
                &["kind"]
            )),
            cranks_total: reg!(IntCounterVec::new(
                Opts::new("cranks_total", "Permissionless cranks landed, by kind"),
                &["kind"]
            )),
            miner_tokens_per_second: reg!(GaugeVec::new(
                Opts::new(
                    "miner_tokens_per_second",
                    "Observed generation speed of each miner per generative model (EWMA of its answers' tokens/s)"
                ),
                &["miner", "model"]
            )),
            posts_total: reg!(IntCounterVec::new(
                Opts::new("posts_total", "Outcome transactions by kind and result"),
                &["kind", "result"]
            )),
            cosign_total: reg!(IntCounterVec::new(
                Opts::new(
                    "cosign_total",
                    "Co-sign requests answered, by kind and verdict"
                ),
                &["kind", "verdict"]
            )),
            disputes_total: reg!(IntCounterVec::new(
                Opts::new("disputes_total", "Dispute transactions landed, by step"),
                &["step"]
            )),
            inputs_held: reg!(IntGauge::new("inputs_held", "Job inputs kept as evidence")),
            inputs_served_total: reg!(IntCounterVec::new(
                Opts::new(
                    "inputs_served_total",
                    "Evidence requests from other nodes, by result"
                ),
                &["result"]
            )),
            inputs_fetched_total: reg!(IntCounterVec::new(
                Opts::new(
                    "inputs_fetched_total",
                    "Inputs asked of other keepers, by result"
                ),
                &["result"]
            )),
            inputs_pruned_total: reg!(IntCounter::new(
                "inputs_pruned_total",
                "Inputs dropped after their challenge window and disputes"
            )),
            registry,
            names,
        }
    }

    /// Every metric this keeper exports (histograms also as `_bucket`,
    /// `_sum` and `_count` series).
    pub fn names(&self) -> &[String] {
        &self.names
    }

    pub fn render(&self) -> String {
        let mut buf = Vec::new();
        TextEncoder::new()
            .encode(&self.registry.gather(), &mut buf)
            .expect("text encoding");
        String::from_utf8(buf).unwrap_or_default()
    }
}

impl Default for Metrics {
    fn default() -> Self {
        Self::new()
    }
}
