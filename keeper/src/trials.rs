//! Trial tasks: a new miner answers a known input before it is routed
//! real jobs; one member (the miner's leader) runs each, and the committee
//! attests the result on chain.

use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use anchor_lang::prelude::Pubkey;
use tokio_util::sync::CancellationToken;
use verdict::state::model_id;
use verdict_models::TEST_PROJECTION_ID;
use verdict_wire::miner::{InferRequest, JobId, ModelId as MinerModelId};

use crate::context::Context;
use crate::core::cosign::{trial_job_id, TRIAL_INPUT};
use crate::core::lifecycle::TrialIntent;
use crate::core::routing::MinerProfile;
use crate::core::throttle::Throttle;
use crate::core::validation::AttemptFailure;
use crate::error::KeeperError;
use crate::member::CommitteeMember;
use crate::miners::Miners;
use crate::poster::Poster;

/// How long after trying a miner the runner may try it again, so an
/// unreachable one is not hammered.
const TRIAL_RETRY: Duration = Duration::from_secs(30);

/// The trial runner and when it last tried each miner.
pub struct Trials {
    ctx: Context,
    miners: Arc<Miners>,
    committee: Arc<CommitteeMember>,
    /// Trials are rare: they post directly rather than through the queue.
    poster: Poster,
    /// Last trial attempt per miner, so an unreachable one is not hammered.
    tried: Mutex<Throttle<Pubkey>>,
}

impl Trials {
    pub fn new(
        ctx: Context,
        miners: Arc<Miners>,
        committee: Arc<CommitteeMember>,
        poster: Poster,
    ) -> Self {
        Trials {
            ctx,
            miners,
            committee,
            poster,
            tried: Mutex::new(Throttle::new(TRIAL_RETRY)),
        }
    }

    /// After each read of the chain, the trials that are due. Returns on `cancel`.
    pub async fn run(self: Arc<Self>, cancel: CancellationToken) {
        let ctx = self.ctx.clone();
        ctx.each_view(&cancel, |_| {
            let me = self.clone();
            async move { me.round().await }
        })
        .await;
    }

    async fn round(&self) {
        let now = match self.ctx.gateway.now().await {
            Ok(n) => n,
            Err(_) => return,
        };
        let due: Vec<MinerProfile> = self
            .ctx
            .snapshot()
            .trials_due(now)
            .into_iter()
            .cloned()
            .collect();
        for miner in due {
            if !self.committee.trial_turn(&miner.node) {
                continue;
            }
            if !self.tried.lock().unwrap().take(miner.node, Instant::now()) {
                continue;
            }
            if let Err(e) = self.trial(&miner).await {
                tracing::warn!(miner = %miner.node, error = %e, "trial task not recorded");
            }
        }
    }

    async fn trial(&self, miner: &MinerProfile) -> Result<(), KeeperError> {
        let Some(client) = self.miners.client(&miner.node) else {
            return Ok(());
        };
        let Ok(model) = model_id(TEST_PROJECTION_ID) else {
            return Ok(());
        };
        if !miner.serves(&model) {
            return Ok(());
        }
        let node = self
            .ctx
            .gateway
            .node(&miner.node)
            .await?
            .ok_or(KeeperError::ShuttingDown)?;
        let expected = self
            .miners
            .reference_hash(TEST_PROJECTION_ID, TRIAL_INPUT)
            .expect("the test model runs locally");
        let id = trial_job_id(&miner.node, node.reputation.trial_failures);
        let request = InferRequest::new(
            JobId(id),
            TEST_PROJECTION_ID
                .parse::<MinerModelId>()
                .expect("valid id"),
            TRIAL_INPUT,
        );
        let (passed, response) = match client.infer(&request).await {
            Ok(r) => (
                r.output_hash.0 == expected
                    && Pubkey::new_from_array(r.miner_pubkey.0) == miner.signing_key,
                Some(r),
            ),
            Err(e) => match AttemptFailure::from_client(&e) {
                // Unreachable is not a wrong answer: try again later.
                AttemptFailure::Timeout | AttemptFailure::Disconnect(_) => return Ok(()),
                AttemptFailure::Invalid(_) => (false, None),
            },
        };
        let intent = TrialIntent::for_node(miner.node, &node, passed);
        let posted = self.poster.post_trial(&intent, response.as_ref()).await?;
        tracing::info!(miner = %miner.node, passed, result = posted.label(), "trial task");
        Ok(())
    }
}
