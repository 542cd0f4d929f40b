//! Miner health shared between keepers by gossip (chitchat over UDP): each
//! keeper publishes the miners it saw fail recently, and every keeper
//! deprioritizes a miner that any live peer reports failing. Gossip is
//! advisory (unauthenticated UDP): it changes routing order, never an
//! outcome, which always needs the committee's signatures.

use std::net::SocketAddr;
use std::time::Duration;

use anchor_lang::prelude::Pubkey;
use chitchat::transport::UdpTransport;
use chitchat::{
    spawn_chitchat, ChitchatConfig, ChitchatHandle, ChitchatId, FailureDetectorConfig,
    ProtocolVersion,
};

use crate::clock::wall_secs;
use crate::error::KeeperError;

const FAIL_PREFIX: &str = "fail/";

/// A report older than this is forgotten (a miner recovers by staying quiet).
pub const FAILURE_WINDOW_SECS: i64 = 120;

pub struct Gossip {
    handle: ChitchatHandle,
}

impl Gossip {
    /// Joins the keepers' gossip cluster as `node_id` (the validator's Node
    /// account), listening on `listen` and contacting `seeds`.
    pub async fn start(
        node_id: &str,
        listen: SocketAddr,
        seeds: Vec<String>,
        interval: Duration,
    ) -> Result<Self, KeeperError> {
        let config = ChitchatConfig {
            chitchat_id: ChitchatId::new(node_id.to_string(), wall_secs() as u64, listen),
            cluster_id: "verdict-keepers".into(),
            gossip_interval: interval,
            listen_addr: listen,
            seed_nodes: seeds,
            failure_detector_config: FailureDetectorConfig {
                initial_interval: interval * 2,
                dead_node_grace_period: Duration::from_secs(3_600),
                ..FailureDetectorConfig::default()
            },
            marked_for_deletion_grace_period: Duration::from_secs(3_600),
            catchup_callback: None,
            extra_liveness_predicate: None,
            protocol_version: ProtocolVersion::V0,
        };
        let handle = spawn_chitchat(config, Vec::new(), &UdpTransport)
            .await
            .map_err(|e| KeeperError::Gossip {
                listen: listen.to_string(),
                reason: e.to_string(),
            })?;
        Ok(Gossip { handle })
    }

    /// Publishes that this keeper just saw `miner` fail.
    pub async fn report_failure(&self, miner: &Pubkey) {
        let key = format!("{FAIL_PREFIX}{miner}");
        self.handle
            .with_chitchat(|c| c.self_node_state().set(key.clone(), wall_secs()))
            .await;
    }

    /// Publishes that `miner` answered this keeper well again.
    pub async fn report_success(&self, miner: &Pubkey) {
        let key = format!("{FAIL_PREFIX}{miner}");
        self.handle
            .with_chitchat(|c| {
                if c.self_node_state().contains_key(&key) {
                    c.self_node_state().delete(&key);
                }
            })
            .await;
    }

    /// Miners that some live keeper (this one included) saw fail within the window.
    pub async fn failing_miners(&self) -> Vec<Pubkey> {
        let now = wall_secs();
        let chitchat = self.handle.chitchat();
        let guard = chitchat.lock().await;
        let live: Vec<ChitchatId> = guard.live_nodes().cloned().collect();
        let mut failing: Vec<Pubkey> = live
            .iter()
            .filter_map(|id| guard.node_state(id))
            .flat_map(|state| {
                state
                    .key_values()
                    .filter_map(|(k, v)| {
                        let miner = k.strip_prefix(FAIL_PREFIX)?.parse::<Pubkey>().ok()?;
                        let at: i64 = v.parse().ok()?;
                        (now - at <= FAILURE_WINDOW_SECS).then_some(miner)
                    })
                    .collect::<Vec<_>>()
            })
            .collect();
        failing.sort();
        failing.dedup();
        failing
    }

    /// Keepers this one currently hears (itself included).
    pub async fn live_peers(&self) -> usize {
        self.handle.chitchat().lock().await.live_nodes().count()
    }

    pub async fn shutdown(self) {
        let _ = self.handle.shutdown().await;
    }
}
