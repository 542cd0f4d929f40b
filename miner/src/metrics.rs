//! The miner's Prometheus metrics (`GET /metrics`): requests by model and
//! result, inference time, model loads, generated tokens and generation
//! speed, and its upkeep on chain (heartbeats,
//! endpoint updates, failures, the last heartbeat's age).

use prometheus::core::Collector;
use prometheus::{
    Encoder, HistogramOpts, HistogramVec, IntCounter, IntCounterVec, IntGauge, Opts, Registry,
    TextEncoder,
};

pub struct MinerMetrics {
    registry: Registry,
    /// Answered or refused requests, by model and result (`ok` or the error code).
    pub requests_total: IntCounterVec,
    /// The forward pass, by model.
    pub inference_seconds: HistogramVec,
    /// Cold loads of a model's weights.
    pub model_loads_total: IntCounterVec,
    /// Tokens generated, by model.
    pub tokens_generated_total: IntCounterVec,
    /// Each generation's speed (generated tokens over the whole generation), by model.
    pub generation_tokens_per_second: HistogramVec,
    /// Prefill and first token of each generation, by model.
    pub first_token_seconds: HistogramVec,
    pub heartbeats_total: IntCounter,
    pub endpoint_updates_total: IntCounter,
    pub upkeep_errors_total: IntCounter,
    /// Chain time now minus the node's last heartbeat, at the last upkeep round.
    pub heartbeat_age_seconds: IntGauge,
    /// The protocol's heartbeat interval.
    pub heartbeat_interval_seconds: IntGauge,
    names: Vec<String>,
}

impl MinerMetrics {
    pub fn new() -> Self {
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
        MinerMetrics {
            requests_total: reg!(IntCounterVec::new(
                Opts::new(
                    "miner_requests_total",
                    "Inference requests by model and result"
                ),
                &["model", "result"]
            )),
            inference_seconds: reg!(HistogramVec::new(
                HistogramOpts::new("miner_inference_seconds", "Forward pass time, by model")
                    .buckets(vec![
                        0.001, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5
                    ]),
                &["model"]
            )),
            model_loads_total: reg!(IntCounterVec::new(
                Opts::new("miner_model_loads_total", "Cold loads of model weights"),
                &["model"]
            )),
            tokens_generated_total: reg!(IntCounterVec::new(
                Opts::new("miner_tokens_generated_total", "Tokens generated, by model"),
                &["model"]
            )),
            generation_tokens_per_second: reg!(HistogramVec::new(
                HistogramOpts::new(
                    "miner_generation_tokens_per_second",
                    "Generated tokens per second of each generation, by model"
                )
                .buckets(vec![
                    5.0, 10.0, 20.0, 40.0, 60.0, 80.0, 120.0, 160.0, 250.0, 500.0
                ]),
                &["model"]
            )),
            first_token_seconds: reg!(HistogramVec::new(
                HistogramOpts::new(
                    "miner_first_token_seconds",
                    "Prefill and first token of each generation, by model"
                )
                .buckets(vec![0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0]),
                &["model"]
            )),
            heartbeats_total: reg!(IntCounter::new(
                "miner_heartbeats_total",
                "Heartbeats this miner sent"
            )),
            endpoint_updates_total: reg!(IntCounter::new(
                "miner_endpoint_updates_total",
                "Times this miner recorded its endpoint on chain"
            )),
            upkeep_errors_total: reg!(IntCounter::new(
                "miner_upkeep_errors_total",
                "Upkeep rounds that failed"
            )),
            heartbeat_age_seconds: reg!(IntGauge::new(
                "miner_heartbeat_age_seconds",
                "Seconds since the node's last heartbeat, by the chain clock"
            )),
            heartbeat_interval_seconds: reg!(IntGauge::new(
                "miner_heartbeat_interval_seconds",
                "The protocol's heartbeat interval"
            )),
            registry,
            names,
        }
    }

    /// Every metric this miner exports (histograms also as `_bucket`,
    /// `_sum` and `_count` series).
    pub fn names(&self) -> &[String] {
        &self.names
    }

    pub fn render(&self) -> String {
        let mut buffer = Vec::new();
        TextEncoder::new()
            .encode(&self.registry.gather(), &mut buffer)
            .expect("text encoding");
        String::from_utf8(buffer).expect("utf-8 metrics")
    }
}

impl Default for MinerMetrics {
    fn default() -> Self {
        Self::new()
    }
}
