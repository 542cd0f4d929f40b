//! The miner's duties on chain, done by itself with its node signing key
//! (which pays their fees): keep its recorded endpoint equal to where it
//! serves, and heartbeat on the protocol's schedule
//! ([`ProtocolParams::heartbeat_interval_secs`]).

use std::sync::Arc;
use std::time::Duration;

use anchor_lang::prelude::Pubkey;
use solana_rpc_client::nonblocking::rpc_client::RpcClient;
use solana_sdk::signature::Keypair;
use solana_sdk::signer::Signer;
use verdict::state::{Config, Node, NodeEndpoint, ProtocolParams};
use verdict_sdk::accounts::AccountSource;
use verdict_sdk::{instructions as ix, pda, rpc, SdkError};

use crate::metrics::MinerMetrics;

/// What [`Upkeep::round`] did, for logs, metrics and tests.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Round {
    pub endpoint_set: bool,
    pub heartbeat_sent: bool,
}

pub struct Upkeep {
    rpc: RpcClient,
    key: Keypair,
    node: Pubkey,
    advertise: String,
    metrics: Arc<MinerMetrics>,
}

/// Whether a heartbeat is due at `now` for a node last heard at `last`.
pub fn heartbeat_due(last: i64, now: i64, params: &ProtocolParams) -> bool {
    now.saturating_sub(last) >= params.heartbeat_interval_secs()
}

impl Upkeep {
    /// `key` is the node's signing key (as the miner holds it), `advertise`
    /// the URL keepers should call.
    pub fn new(
        rpc_url: &str,
        key: &ed25519_dalek::SigningKey,
        node: Pubkey,
        advertise: String,
        metrics: Arc<MinerMetrics>,
    ) -> Self {
        Upkeep {
            rpc: RpcClient::new(rpc_url.to_string()),
            key: Keypair::new_from_array(key.to_bytes()),
            node,
            advertise,
            metrics,
        }
    }

    /// One pass: reads the node, fixes its endpoint if it differs, and
    /// heartbeats if due.
    pub async fn round(&self) -> Result<Round, SdkError> {
        let mut done = Round::default();
        let node: Node = self.rpc.fetch(&self.node).await?;
        if node.signing_key != self.key.pubkey() {
            return Err(SdkError::Client(format!(
                "this miner's key {} is not node {}'s signing key {}",
                self.key.pubkey(),
                self.node,
                node.signing_key
            )));
        }
        let recorded: Option<NodeEndpoint> =
            self.rpc.fetch_optional(&pda::endpoint(&self.node)).await?;
        if recorded.as_ref().map(NodeEndpoint::url) != Some(self.advertise.as_str()) {
            let set = ix::set_node_endpoint(&self.key.pubkey(), &self.node, &self.advertise);
            rpc::send(&self.rpc, &[set], &self.key).await?;
            self.metrics.endpoint_updates_total.inc();
            tracing::info!(node = %self.node, endpoint = %self.advertise, "endpoint recorded on chain");
            done.endpoint_set = true;
        }
        let config: Config = self.rpc.fetch(&pda::config()).await?;
        let now = rpc::unix_time(&self.rpc).await?;
        let interval = config.params.heartbeat_interval_secs();
        self.metrics.heartbeat_interval_seconds.set(interval);
        self.metrics
            .heartbeat_age_seconds
            .set(now.saturating_sub(node.reputation.last_heartbeat));
        if heartbeat_due(node.reputation.last_heartbeat, now, &config.params) {
            rpc::send(
                &self.rpc,
                &[ix::heartbeat(&self.key.pubkey(), &self.node)],
                &self.key,
            )
            .await?;
            self.metrics.heartbeats_total.inc();
            self.metrics.heartbeat_age_seconds.set(0);
            tracing::info!(node = %self.node, "heartbeat sent");
            done.heartbeat_sent = true;
        }
        Ok(done)
    }

    /// Runs a round every `every` until the process stops; a failed round
    /// is logged and counted, and the next one tries again.
    pub async fn run(self, every: Duration) {
        let mut tick = tokio::time::interval(every);
        loop {
            tick.tick().await;
            if let Err(error) = self.round().await {
                self.metrics.upkeep_errors_total.inc();
                tracing::warn!(node = %self.node, %error, "upkeep round failed");
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn heartbeats_follow_the_protocol_schedule() {
        let p = ProtocolParams::default();
        let every = p.heartbeat_interval_secs();
        assert_eq!(every, 12 * 3600, "six per 72 h staleness window");
        assert!(!heartbeat_due(1_000, 1_000 + every - 1, &p));
        assert!(heartbeat_due(1_000, 1_000 + every, &p));
    }
}
