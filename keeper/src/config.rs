//! Keeper configuration: a TOML file, then `VERDICT_KEEPER_<FIELD>`
//! environment overrides for every field (so a container or a test can
//! change one value without a file), parsed once into typed values (public
//! keys, numbers, paths) and checked.

use std::path::{Path, PathBuf};
use std::time::Duration;

use anchor_lang::prelude::Pubkey;
use serde::{Deserialize, Serialize};

use verdict::constants::BPS_DENOMINATOR as BPS;

use crate::core::lifecycle::MempoolTtl;
use crate::core::routing::RoutingWeights;
use crate::error::KeeperError;

/// A node this keeper can reach (a miner, or another validator's keeper):
/// its on-chain Node account and its URL.
#[derive(Clone, Debug, Deserialize, Serialize, PartialEq, Eq)]
#[serde(deny_unknown_fields)]
pub struct Endpoint {
    /// The node's Node account (base58).
    #[serde(with = "crate::serde_helpers::b58")]
    pub node: Pubkey,
    pub url: String,
}

/// How this keeper works with the other committee members' keepers. With no
/// `node`, the keeper runs alone and signs with every key of
/// `signing_keypairs` (a local quorum: a single-host committee or a test).
#[derive(Clone, Debug, Deserialize, Serialize, PartialEq)]
#[serde(default, deny_unknown_fields)]
pub struct CommitteeConfig {
    /// This keeper's validator Node account (base58); its signing key is
    /// the single entry of `signing_keypairs`.
    #[serde(with = "crate::serde_helpers::b58_opt")]
    pub node: Option<Pubkey>,
    /// The node's operator wallet: signs dispute challenges, votes and
    /// reward claims.
    pub operator_keypair: Option<PathBuf>,
    /// The operator's stake-mint token account (base58): pays challenge
    /// bonds (max(min bond, price × bond multiple)) and vote deposits,
    /// receives deposits back, dispute rewards, and what the node is owed
    /// (validator fees, bonds back), which the keeper withdraws.
    #[serde(with = "crate::serde_helpers::b58_opt")]
    pub operator_tokens: Option<Pubkey>,
    /// The other validators' keepers.
    pub peers: Vec<Endpoint>,
    /// A member of failover rank r takes a job over after r times this much
    /// silence (no progress on chain, no co-sign request from the leader).
    pub takeover_ms: u64,
    /// Deadline of one co-sign request; a member missing it is reported.
    pub cosign_timeout_ms: u64,
    /// At most one timeout report per member in this many seconds.
    pub timeout_report_interval_secs: u64,
    /// Share of solved jobs (bps) this keeper re-runs afterwards, to catch
    /// wrong outputs the co-signers could not (low and medium risk).
    pub recheck_bps: u16,
    /// Open a dispute when a re-run disagrees with a solved job.
    pub auto_challenge: bool,
    /// Vote in disputes and crank their resolution, liquidations and claims.
    pub disputes: bool,
    /// Enter this validator in the committee draw and crank its steps when due.
    pub rotate: bool,
    /// Miner-health gossip (chitchat, UDP): this keeper's address, and seeds.
    pub gossip_listen: Option<String>,
    pub gossip_seeds: Vec<String>,
    /// Tests and demos only: sign every claim without checking it and vote
    /// for the result signed (a dishonest validator).
    pub dishonest: bool,
}

impl Default for CommitteeConfig {
    fn default() -> Self {
        CommitteeConfig {
            node: None,
            operator_keypair: None,
            operator_tokens: None,
            peers: vec![],
            takeover_ms: 15_000,
            cosign_timeout_ms: 6_000,
            timeout_report_interval_secs: 600,
            recheck_bps: 1_000,
            auto_challenge: true,
            disputes: true,
            rotate: true,
            gossip_listen: None,
            gossip_seeds: vec![],
            dishonest: false,
        }
    }
}

impl CommitteeConfig {
    pub fn takeover(&self) -> Duration {
        Duration::from_millis(self.takeover_ms)
    }

    pub fn cosign_timeout(&self) -> Duration {
        Duration::from_millis(self.cosign_timeout_ms)
    }
}

#[derive(Clone, Debug, Deserialize, Serialize, PartialEq)]
#[serde(default, deny_unknown_fields)]
pub struct KeeperConfig {
    /// JSON-RPC URLs, tried in order with failover.
    pub rpc_urls: Vec<String>,
    /// Fee payer of the keeper's transactions (Solana keypair JSON).
    pub payer_keypair: Option<PathBuf>,
    /// Committee signing keys this keeper may sign attestations with (its own
    /// validator key; on a test network, the local quorum's keys).
    pub signing_keypairs: Vec<PathBuf>,
    /// The embedded database (redb).
    pub database: PathBuf,
    /// Intake API, stats, `/metrics` and `/health`.
    pub listen: String,
    pub shard_timeout_ms: u64,
    pub end_to_end_timeout_ms: u64,
    /// Responses slower than this do not meet the SLA.
    pub sla_ms: u32,
    /// A generation's time per token it may generate, added to both the
    /// shard timeout and the SLA of a generative job (× its `max_tokens`;
    /// to its end-to-end timeout once per generation it may wait on: the
    /// call, a shadow rerun and the co-signers' reruns).
    pub generation_ms_per_token: u32,
    pub poll_interval_ms: u64,
    pub max_concurrent_jobs: usize,
    pub max_input_bytes: usize,
    /// Minimum escrowed fee for the keeper to take a job (on top of the
    /// program's own minimum).
    pub fee_floor: u64,
    pub client_requests_per_sec: f64,
    pub client_burst: u32,
    /// Price asked, in bps of the job's max fee.
    pub price_bps: u16,
    /// Attempts per outcome transaction on transport errors.
    pub post_attempts: u32,
    /// Samples kept per miner for latency statistics.
    pub latency_window: usize,
    pub routing: RoutingWeights,
    pub mempool: MempoolTtl,
    /// Miners are found on chain (each node's recorded endpoint); this lets
    /// the keeper call endpoints at loopback, private or link-local
    /// addresses (local and LAN networks). Off by default: a miner could
    /// otherwise point keepers at their own internal services.
    pub allow_private_endpoints: bool,
    pub cranks: CrankConfig,
    pub auction: AuctionConfig,
    pub committee: CommitteeConfig,
}

/// The auction that prices jobs among the miners that bid (the others are
/// routed at the list price, `price_bps`).
#[derive(Clone, Debug, Deserialize, Serialize, PartialEq)]
#[serde(default, deny_unknown_fields)]
pub struct AuctionConfig {
    /// Ask bidding miners for bids; off: every job at the list price.
    pub bidding: bool,
    /// How long a round gathers waiting jobs after its first.
    pub round_window_ms: u64,
    /// How long the miners have to bid once asked; later bids are not read.
    pub bid_timeout_ms: u64,
    /// Most jobs in one round (the rest wait for the next).
    pub round_max_jobs: usize,
}

impl Default for AuctionConfig {
    fn default() -> Self {
        AuctionConfig {
            bidding: true,
            round_window_ms: 50,
            bid_timeout_ms: 500,
            round_max_jobs: 256,
        }
    }
}

impl AuctionConfig {
    pub fn round_window(&self) -> Duration {
        Duration::from_millis(self.round_window_ms)
    }

    pub fn bid_timeout(&self) -> Duration {
        Duration::from_millis(self.bid_timeout_ms)
    }
}

/// Permissionless cranks this keeper sends when due (expiries always).
#[derive(Clone, Debug, Deserialize, Serialize, PartialEq)]
#[serde(default, deny_unknown_fields)]
pub struct CrankConfig {
    /// Claim the payout, then close, of each job this keeper's node
    /// co-signed: the close pays the node its co-signing fee.
    pub claims: bool,
    /// Slash a miner whose success rate fell below the slashing threshold
    /// (once per Verdict epoch); the tokens go to the reward pool.
    pub downtime_slashes: bool,
}

impl Default for CrankConfig {
    fn default() -> Self {
        CrankConfig {
            claims: true,
            downtime_slashes: true,
        }
    }
}

impl Default for KeeperConfig {
    fn default() -> Self {
        KeeperConfig {
            rpc_urls: vec!["http://127.0.0.1:8899".into()],
            payer_keypair: None,
            signing_keypairs: vec![],
            database: PathBuf::from("keeper.redb"),
            listen: "127.0.0.1:8090".into(),
            shard_timeout_ms: 3_000,
            end_to_end_timeout_ms: 12_000,
            sla_ms: 2_000,
            generation_ms_per_token: 150,
            poll_interval_ms: 2_000,
            max_concurrent_jobs: 64,
            max_input_bytes: 64 * 1024,
            fee_floor: 0,
            client_requests_per_sec: 5.0,
            client_burst: 20,
            price_bps: BPS as u16,
            post_attempts: 6,
            latency_window: 1_000,
            routing: RoutingWeights::default(),
            mempool: MempoolTtl::default(),
            allow_private_endpoints: false,
            cranks: CrankConfig::default(),
            auction: AuctionConfig::default(),
            committee: CommitteeConfig::default(),
        }
    }
}

/// A configuration value as an environment variable writes it: numbers,
/// booleans, paths and public keys as text, lists comma separated, an
/// endpoint as `NODE=URL`, an empty optional value as none.
trait FromEnv: Sized {
    fn from_env(text: &str) -> Option<Self>;
}

macro_rules! from_env_by_parse {
    ($($t:ty),*) => {$(
        impl FromEnv for $t {
            fn from_env(text: &str) -> Option<Self> {
                text.trim().parse().ok()
            }
        }
    )*};
}
from_env_by_parse!(u16, u32, u64, usize, i64, f64, bool, String, PathBuf, Pubkey);

impl<T: FromEnv> FromEnv for Option<T> {
    fn from_env(text: &str) -> Option<Self> {
        if text.trim().is_empty() {
            return Some(None);
        }
        T::from_env(text).map(Some)
    }
}

impl<T: FromEnv> FromEnv for Vec<T> {
    fn from_env(text: &str) -> Option<Self> {
        text.split(',')
            .map(str::trim)
            .filter(|item| !item.is_empty())
            .map(T::from_env)
            .collect()
    }
}

impl FromEnv for Endpoint {
    fn from_env(text: &str) -> Option<Self> {
        let (node, url) = text.trim().split_once('=')?;
        Some(Endpoint {
            node: node.trim().parse().ok()?,
            url: url.trim().to_string(),
        })
    }
}

/// Every field's override: `VERDICT_KEEPER_` + the field's name in capitals
/// (without its section: field names are unique across the sections).
macro_rules! env_overrides {
    ($($name:literal => $($field:ident).+;)*) => {
        /// The name (after `VERDICT_KEEPER_`) of every field's environment
        /// override.
        pub const ENV_FIELDS: &[&str] = &[$($name),*];

        impl KeeperConfig {
            /// Applies the `VERDICT_KEEPER_<FIELD>` overrides `get` finds.
            pub fn apply_env(
                &mut self,
                get: impl Fn(&str) -> Option<String>,
            ) -> Result<(), KeeperError> {
                $(
                    let var = concat!("VERDICT_KEEPER_", $name);
                    if let Some(text) = get(var) {
                        self.$($field).+ = FromEnv::from_env(&text).ok_or_else(|| {
                            KeeperError::Config(format!("{var}={text:?} is not valid"))
                        })?;
                    }
                )*
                Ok(())
            }
        }
    };
}

env_overrides! {
    "RPC_URLS" => rpc_urls;
    "PAYER_KEYPAIR" => payer_keypair;
    "SIGNING_KEYPAIRS" => signing_keypairs;
    "DATABASE" => database;
    "LISTEN" => listen;
    "SHARD_TIMEOUT_MS" => shard_timeout_ms;
    "END_TO_END_TIMEOUT_MS" => end_to_end_timeout_ms;
    "SLA_MS" => sla_ms;
    "GENERATION_MS_PER_TOKEN" => generation_ms_per_token;
    "POLL_INTERVAL_MS" => poll_interval_ms;
    "MAX_CONCURRENT_JOBS" => max_concurrent_jobs;
    "MAX_INPUT_BYTES" => max_input_bytes;
    "FEE_FLOOR" => fee_floor;
    "CLIENT_REQUESTS_PER_SEC" => client_requests_per_sec;
    "CLIENT_BURST" => client_burst;
    "PRICE_BPS" => price_bps;
    "POST_ATTEMPTS" => post_attempts;
    "LATENCY_WINDOW" => latency_window;
    "ALLOW_PRIVATE_ENDPOINTS" => allow_private_endpoints;
    "ALPHA" => routing.alpha;
    "BETA" => routing.beta;
    "W_STAKE" => routing.w_stake;
    "W_FIDELITY" => routing.w_fidelity;
    "W_BANDWIDTH" => routing.w_bandwidth;
    "W_LIVENESS" => routing.w_liveness;
    "PENALTY" => routing.penalty;
    "REWARD" => routing.reward;
    "TOP_LATENCY_BONUS" => routing.top_latency_bonus;
    "REALTIME_MAX_MEDIAN_MS" => routing.realtime_max_median_ms;
    "SPREAD" => routing.spread;
    "TIER3_RESERVED_BPS" => routing.tier3_reserved_bps;
    "PENDING_SECS" => mempool.pending_secs;
    "PREPROCESSING_SECS" => mempool.preprocessing_secs;
    "COMPLETION_SECS" => mempool.completion_secs;
    "CLAIMS" => cranks.claims;
    "DOWNTIME_SLASHES" => cranks.downtime_slashes;
    "BIDDING" => auction.bidding;
    "ROUND_WINDOW_MS" => auction.round_window_ms;
    "BID_TIMEOUT_MS" => auction.bid_timeout_ms;
    "ROUND_MAX_JOBS" => auction.round_max_jobs;
    "NODE" => committee.node;
    "OPERATOR_KEYPAIR" => committee.operator_keypair;
    "OPERATOR_TOKENS" => committee.operator_tokens;
    "PEERS" => committee.peers;
    "TAKEOVER_MS" => committee.takeover_ms;
    "COSIGN_TIMEOUT_MS" => committee.cosign_timeout_ms;
    "TIMEOUT_REPORT_INTERVAL_SECS" => committee.timeout_report_interval_secs;
    "RECHECK_BPS" => committee.recheck_bps;
    "AUTO_CHALLENGE" => committee.auto_challenge;
    "DISPUTES" => committee.disputes;
    "ROTATE" => committee.rotate;
    "GOSSIP_LISTEN" => committee.gossip_listen;
    "GOSSIP_SEEDS" => committee.gossip_seeds;
    "DISHONEST" => committee.dishonest;
}

impl KeeperConfig {
    pub fn from_toml(text: &str) -> Result<Self, KeeperError> {
        toml::from_str(text).map_err(|e| KeeperError::Config(e.to_string()))
    }

    /// Reads `path` (if given) and applies the process environment.
    pub fn load(path: Option<&Path>) -> Result<Self, KeeperError> {
        let mut cfg = match path {
            Some(p) => Self::from_toml(
                &std::fs::read_to_string(p)
                    .map_err(|e| KeeperError::Config(format!("{}: {e}", p.display())))?,
            )?,
            None => Self::default(),
        };
        cfg.apply_env(|k| std::env::var(k).ok())?;
        cfg.check()?;
        Ok(cfg)
    }

    pub fn check(&self) -> Result<(), KeeperError> {
        let bad = |m: &str| Err(KeeperError::Config(m.to_string()));
        if self.shard_timeout_ms == 0 || self.end_to_end_timeout_ms < self.shard_timeout_ms {
            return bad("shard_timeout_ms must be > 0 and <= end_to_end_timeout_ms");
        }
        if self.price_bps == 0 || u64::from(self.price_bps) > BPS {
            return bad("price_bps must be in 1..=10000");
        }
        if self.max_concurrent_jobs == 0 {
            return bad("max_concurrent_jobs must be > 0");
        }
        if self.auction.bid_timeout_ms == 0 || self.auction.round_max_jobs == 0 {
            return bad("auction.bid_timeout_ms and auction.round_max_jobs must be > 0");
        }
        if u64::from(self.routing.tier3_reserved_bps) > BPS {
            return bad("routing.tier3_reserved_bps must be in 0..=10000");
        }
        let c = &self.committee;
        if c.node.is_some() && (c.takeover_ms == 0 || c.cosign_timeout_ms == 0) {
            return bad("committee.takeover_ms and committee.cosign_timeout_ms must be > 0");
        }
        if u64::from(c.recheck_bps) > BPS {
            return bad("committee.recheck_bps must be in 0..=10000");
        }
        Ok(())
    }

    pub fn shard_timeout(&self) -> Duration {
        Duration::from_millis(self.shard_timeout_ms)
    }

    /// The time budget of one call for a job: the shard timeout and the
    /// SLA, each plus `generation_ms_per_token` × the job's `max_tokens`
    /// for a generation (the bound when the input is not at hand).
    pub fn budget(&self, model: &str, input: Option<&str>) -> crate::core::validation::Budget {
        crate::core::validation::Budget::for_job(
            self.shard_timeout(),
            self.sla_ms,
            self.generation_ms_per_token,
            model,
            input,
        )
    }

    /// The longest any call may take: the shard timeout plus the largest
    /// generation's allowance (the miner clients' own bound).
    pub fn longest_call(&self) -> Duration {
        self.shard_timeout()
            + Duration::from_millis(
                u64::from(self.generation_ms_per_token)
                    * u64::from(verdict_wire::generation::MAX_NEW_TOKENS),
            )
    }

    pub fn end_to_end_timeout(&self) -> Duration {
        Duration::from_millis(self.end_to_end_timeout_ms)
    }

    pub fn poll_interval(&self) -> Duration {
        Duration::from_millis(self.poll_interval_ms)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn toml_then_environment() {
        let mut cfg = KeeperConfig::from_toml(
            r#"
            rpc_urls = ["http://a:8899", "http://b:8899"]
            shard_timeout_ms = 2500
            [routing]
            alpha = 0.5
            "#,
        )
        .unwrap();
        assert_eq!(cfg.rpc_urls.len(), 2);
        assert_eq!(cfg.shard_timeout_ms, 2500);
        assert_eq!(cfg.end_to_end_timeout_ms, 12_000, "defaults fill the rest");
        assert_eq!(cfg.routing.alpha, 0.5);
        assert_eq!(
            cfg.routing.tier3_reserved_bps, 2_000,
            "fair entry is on by default"
        );
        let env = |k: &str| match k {
            "VERDICT_KEEPER_SHARD_TIMEOUT_MS" => Some("3000".to_string()),
            "VERDICT_KEEPER_TIER3_RESERVED_BPS" => Some("3500".to_string()),
            "VERDICT_KEEPER_ALLOW_PRIVATE_ENDPOINTS" => Some("true".to_string()),
            _ => None,
        };
        cfg.apply_env(env).unwrap();
        assert_eq!(cfg.shard_timeout_ms, 3000);
        assert!(cfg.allow_private_endpoints);
        assert!(
            KeeperConfig::from_toml("[[miners]]\nnode = \"x\"\nurl = \"http://x\"").is_err(),
            "miners are found on chain, not listed"
        );
        assert_eq!(cfg.routing.tier3_reserved_bps, 3_500);
        cfg.check().unwrap();
        let toml = KeeperConfig::from_toml("[routing]\ntier3_reserved_bps = 0").unwrap();
        assert_eq!(
            toml.routing.tier3_reserved_bps, 0,
            "the share can be turned off"
        );
        let mut bad = cfg.clone();
        bad.routing.tier3_reserved_bps = 10_001;
        assert!(bad.check().is_err());
        assert!(KeeperConfig::from_toml("unknown_key = 1").is_err());
        assert!(cfg
            .apply_env(|k| (k == "VERDICT_KEEPER_SLA_MS").then(|| "soon".to_string()))
            .is_err());
    }

    #[test]
    fn the_example_parses_and_a_committee_section_is_checked() {
        let example = include_str!("../keeper.example.toml");
        KeeperConfig::from_toml(example).unwrap().check().unwrap();
        let uncommented: String = example
            .lines()
            .map(|l| {
                l.strip_prefix("# ")
                    .filter(|_| l.starts_with("# [") || l.contains(" = "))
                    .unwrap_or(l)
            })
            .collect::<Vec<_>>()
            .join("\n");
        let node = "11111111111111111111111111111111";
        let cfg = KeeperConfig::from_toml(
            &uncommented
                .replace("<this validator's Node account>", node)
                .replace("<another validator's Node account>", node)
                .replace("<operator's stake-mint token account>", node),
        )
        .unwrap();
        cfg.check().unwrap();
        assert_eq!(cfg.committee.peers.len(), 1);
        assert_eq!(cfg.committee.node, Some(node.parse().unwrap()));
        assert!(
            KeeperConfig::from_toml("[committee]\nnode = \"not a key\"").is_err(),
            "a Node account is a public key"
        );
        assert!(
            KeeperConfig::from_toml(
                "[committee]\npeers = [{ node = \"not a key\", url = \"http://a:1\" }]"
            )
            .is_err(),
            "so is a peer's"
        );
        let mut bad = cfg.clone();
        bad.committee.recheck_bps = 10_001;
        assert!(bad.check().is_err());
        let mut env = cfg;
        env.apply_env(|k| {
            (k == "VERDICT_KEEPER_PEERS").then(|| format!("{node}=http://a:1,{node}=http://b:2"))
        })
        .unwrap();
        assert_eq!(env.committee.peers.len(), 2);
        assert!(env
            .apply_env(|k| (k == "VERDICT_KEEPER_PEERS").then(|| "not-a-key=http://a:1".into()))
            .is_err());
    }

    /// Every field of the file, in every section, has its override, named
    /// after the field: the TOML form of a configuration with every
    /// optional value set lists exactly the fields of `ENV_FIELDS`.
    #[test]
    fn every_field_has_an_environment_override() {
        let key = Pubkey::new_unique();
        let mut cfg = KeeperConfig {
            payer_keypair: Some("payer.json".into()),
            ..KeeperConfig::default()
        };
        cfg.committee.node = Some(key);
        cfg.committee.operator_keypair = Some("operator.json".into());
        cfg.committee.operator_tokens = Some(key);
        cfg.committee.gossip_listen = Some("127.0.0.1:9000".into());
        let toml = toml::Value::try_from(&cfg).unwrap();
        let mut fields: Vec<String> = Vec::new();
        for (name, value) in toml.as_table().unwrap() {
            match value.as_table() {
                Some(section) => fields.extend(section.keys().map(|k| k.to_uppercase())),
                None => fields.push(name.to_uppercase()),
            }
        }
        fields.sort();
        let mut overrides: Vec<String> = ENV_FIELDS.iter().map(|f| f.to_string()).collect();
        overrides.sort();
        assert_eq!(fields, overrides);

        // Each kind of value, set from the environment.
        let env = |k: &str| {
            let v = match k {
                "VERDICT_KEEPER_TAKEOVER_MS" => "1234".to_string(),
                "VERDICT_KEEPER_ALPHA" => "0.25".to_string(),
                "VERDICT_KEEPER_DISHONEST" => "true".to_string(),
                "VERDICT_KEEPER_GOSSIP_SEEDS" => "a:1, b:2".to_string(),
                "VERDICT_KEEPER_OPERATOR_TOKENS" => key.to_string(),
                "VERDICT_KEEPER_PAYER_KEYPAIR" => String::new(),
                "VERDICT_KEEPER_PENDING_SECS" => "7".to_string(),
                _ => return None,
            };
            Some(v)
        };
        let mut set = KeeperConfig::default();
        set.apply_env(env).unwrap();
        assert_eq!(set.committee.takeover_ms, 1234);
        assert_eq!(set.routing.alpha, 0.25);
        assert!(set.committee.dishonest);
        assert_eq!(set.committee.gossip_seeds, ["a:1", "b:2"]);
        assert_eq!(set.committee.operator_tokens, Some(key));
        assert_eq!(set.payer_keypair, None, "empty: none");
        assert_eq!(set.mempool.pending_secs, 7);
    }
}
