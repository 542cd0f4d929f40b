//! The job pipeline: the dispatcher drives each job from intake to a final
//! on-chain state — route, call the miner under the shard timeout, validate
//! (with a shadow rerun for high risk), record the intended outcome, post it
//! through the poster — re-dispatching on a miss until the end-to-end
//! deadline. The watcher keeps the chain view (miners, committee, jobs)
//! fresh, runs trial tasks for new miners and cranks expired jobs.

use std::collections::{HashMap, HashSet};
use std::sync::{Arc, Mutex, RwLock};
use std::time::{Duration, Instant};

use anchor_lang::prelude::Pubkey;
use miner::api::{
    Digest32, InferRequest, InferResponse, JobId, MinerPubkey, ModelId as MinerModelId,
    OutputTensor,
};
use miner::client::MinerClient;
use miner::models::projection::TestProjection;
use miner::models::TEST_PROJECTION_ID;
use tokio::sync::{mpsc, oneshot};
use verdict::state::{model_id, Committee, JobStatus, ProtocolParams, RiskLevel};

use crate::attester::Missed;
use crate::clock::wall_secs;
use crate::config::KeeperConfig;
use crate::core::cosign::{trial_job_id, Evidence, TRIAL_INPUT};
use crate::core::latency::LatencyBook;
use crate::core::lifecycle::{sweep, Intent, Phase, Sweep, TrialIntent};
use crate::core::routing::{MinerProfile, RouteRequest, RoutingSnapshot, Share};
use crate::core::validation::{
    self, judge_shadow, AnswerView, AttemptFailure, Expectation, Recomputed, Rejection,
    ShadowVerdict, Timing,
};
use crate::draw::DrawKey;
use crate::error::KeeperError;
use crate::gateway::Gateway;
use crate::metrics::Metrics;
use crate::peer::Membership;
use crate::poster::{Posted, Poster};
use crate::store::{JobFailure, JobRecord, PostRecord, Store, VerifiedOutput};
use verdict_wire::keeper::FailureCode;

/// A request to the poster task, answered on `reply`.
pub struct PostRequest {
    pub job: Pubkey,
    pub intent: Intent,
    pub evidence: Evidence,
    pub reply: oneshot::Sender<Result<Posted, KeeperError>>,
}

/// What the watcher last read from the chain.
#[derive(Default)]
pub struct View {
    pub snapshot: Arc<RoutingSnapshot>,
    pub params: Option<ProtocolParams>,
    pub committee_epoch: u64,
    pub committee: Option<Committee>,
    /// Signing keys of the registered, active nodes (who may ask for evidence).
    pub active_node_keys: HashSet<Pubkey>,
}

/// A validated answer from one miner.
pub struct Answer {
    pub response: InferResponse,
    pub timing: Timing,
    pub sla_met: bool,
}

impl Answer {
    /// The answer as evidence for the co-signers.
    pub fn evidence(&self) -> Evidence {
        Evidence {
            input: None,
            response: Some(self.response.clone()),
            response_ms: self.timing.response_ms,
        }
    }
}

/// A failed miner call: why, and the answer when there was a well-formed
/// one (a valid-looking answer a shadow rerun contradicted).
pub struct Miss {
    pub failure: AttemptFailure,
    pub response: Option<InferResponse>,
    pub response_ms: u32,
}

impl Miss {
    pub fn of(failure: AttemptFailure, response_ms: u32) -> Self {
        Miss {
            failure,
            response: None,
            response_ms,
        }
    }

    fn wrong(why: Rejection, answer: Answer) -> Self {
        Miss {
            failure: AttemptFailure::Invalid(why),
            response: Some(answer.response),
            response_ms: answer.timing.response_ms,
        }
    }

    pub fn evidence(&self) -> Evidence {
        Evidence {
            input: None,
            response: self.response.clone(),
            response_ms: self.response_ms,
        }
    }
}

/// A post the committee refused on its merits becomes `Ok(None)`: the
/// driver re-reads the chain and decides again. Other errors stop the driver.
fn refused_is_retry(posted: Result<Posted, KeeperError>) -> Result<Option<Posted>, KeeperError> {
    match posted {
        Ok(p) => Ok(Some(p)),
        Err(KeeperError::Attest(e)) if e.refused_on_merits() => Ok(None),
        Err(e) => Err(e),
    }
}

/// What a miner call needs to know of the job.
pub struct JobInput<'a> {
    pub job: Pubkey,
    pub model: &'a str,
    pub input: &'a str,
    pub input_hash: [u8; 32],
    /// A recheck: have the miner sample and probe as this miner (the
    /// answering miner's signing key), so an honest rerun is bit-identical.
    pub sample_as: Option<Pubkey>,
}

/// One dispatch: calls the miner within the job's budget (the shard
/// timeout, longer for a generation), then validates the answer against the miner's on-chain profile (and,
/// for a recheck, that it sampled as asked). On error also returns how
/// long the call took, in ms.
pub async fn call_and_validate(
    client: &MinerClient,
    profile: &MinerProfile,
    job: &JobInput<'_>,
    budget: validation::Budget,
    now: i64,
) -> Result<Answer, (u32, AttemptFailure)> {
    let invalid = |r| (0, AttemptFailure::Invalid(r));
    let model: MinerModelId = job
        .model
        .parse()
        .map_err(|_| invalid(Rejection::WrongRequest("model".into())))?;
    let mut request = InferRequest::new(JobId(job.job.to_bytes()), model, job.input);
    request.input_hash = Some(Digest32(job.input_hash));
    request.sample_as = job.sample_as.map(|key| MinerPubkey(key.to_bytes()));
    let started = Instant::now();
    let result = tokio::time::timeout(budget.timeout, client.infer(&request))
        .await
        .unwrap_or(Err(miner::client::ClientError::Timeout(budget.timeout)));
    let elapsed = started.elapsed().as_millis().min(u32::MAX as u128) as u32;
    let response = result.map_err(|e| (elapsed, AttemptFailure::from_client(&e)))?;
    let timing = Timing::of(&response, elapsed);
    let expect = Expectation {
        miner: profile,
        model_id: job.model,
        input: Some(job.input),
        sample_as: job.sample_as,
        sla_ms: budget.sla_ms,
        now,
    };
    let accepted = validation::validate(&response, &timing, &expect)
        .map_err(|r| (elapsed, AttemptFailure::Invalid(r)))?;
    Ok(Answer {
        response,
        timing,
        sla_met: accepted.sla_met,
    })
}

/// Shared state of one keeper's subsystems.
pub struct Engine {
    pub cfg: KeeperConfig,
    pub store: Arc<Store>,
    pub gateway: Arc<Gateway>,
    pub metrics: Arc<Metrics>,
    pub view: RwLock<View>,
    pub latency: Mutex<LatencyBook>,
    pub poster_tx: mpsc::Sender<PostRequest>,
    pub dispatch_tx: mpsc::Sender<Pubkey>,
    /// The miners this keeper calls, by Node: found on chain (each node's
    /// recorded endpoint), refreshed every round.
    pub(crate) clients: RwLock<HashMap<Pubkey, MinerClient>>,
    /// Permissionless cranks already sent (each at most once).
    cranked: Mutex<HashSet<crate::core::cranks::Crank>>,
    /// Miners whose last answer this keeper judged wrong (M in the score).
    pub(crate) mistakes: Mutex<HashSet<Pubkey>>,
    /// Jobs this keeper dispatched from the fair-entry share that have not
    /// landed yet, and their miner: routing counts them with the miner's
    /// window jobs, so the share spreads between snapshots.
    reserved_in_flight: Mutex<HashMap<Pubkey, Pubkey>>,
    /// Last trial attempt per miner, so an unreachable one is not hammered.
    trials_tried: Mutex<HashMap<Pubkey, Instant>>,
    reference: TestProjection,
    attester: Arc<dyn crate::attester::Attester>,
    /// This keeper as a member of a committee of keepers (None: alone, with a local quorum).
    pub member: Option<Arc<Membership>>,
    /// Last sign of progress per job (for failover among members).
    pub(crate) activity: Mutex<HashMap<Pubkey, Instant>>,
    /// Last (status, attempts) seen on chain per job.
    chain_seen: Mutex<HashMap<Pubkey, (JobStatus, u8)>>,
    /// Last stage seen per dispute (status, pending liquidations, phase):
    /// a change restarts the failover clock of its permissionless cranks.
    pub(crate) dispute_seen: Mutex<HashMap<Pubkey, (u8, u32, u8)>>,
    /// Members that missed a co-sign deadline, to report (−5).
    pub(crate) missed: Mutex<mpsc::UnboundedReceiver<Missed>>,
    /// Last timeout report per member.
    pub(crate) reported: Mutex<HashMap<Pubkey, Instant>>,
    /// Miner health heard from the other keepers (gossip).
    pub gossip: Option<Arc<crate::gossip::Gossip>>,
    /// This keeper's secret seeds: the re-check sample and the miner draw.
    pub(crate) draws: DrawKey,
    /// Evidence requests seen and fetches that failed (rule 9).
    pub evidence: crate::evidence::EvidenceService,
}

impl Engine {
    #[allow(clippy::too_many_arguments)]
    pub fn new(
        cfg: KeeperConfig,
        store: Arc<Store>,
        gateway: Arc<Gateway>,
        metrics: Arc<Metrics>,
        poster_tx: mpsc::Sender<PostRequest>,
        dispatch_tx: mpsc::Sender<Pubkey>,
        attester: Arc<dyn crate::attester::Attester>,
        member: Option<Membership>,
        missed: mpsc::UnboundedReceiver<Missed>,
        gossip: Option<Arc<crate::gossip::Gossip>>,
        draws: DrawKey,
    ) -> Result<Self, KeeperError> {
        let member = member.map(Arc::new);
        let evidence = crate::evidence::EvidenceService::new(
            Arc::clone(&store),
            Arc::clone(&gateway),
            Arc::clone(&metrics),
            member.clone(),
        );
        Ok(Engine {
            latency: Mutex::new(LatencyBook::new(cfg.latency_window)),
            cfg,
            store,
            gateway,
            metrics,
            view: RwLock::new(View::default()),
            poster_tx,
            dispatch_tx,
            clients: RwLock::new(HashMap::new()),
            cranked: Mutex::new(HashSet::new()),
            mistakes: Mutex::new(HashSet::new()),
            reserved_in_flight: Mutex::new(HashMap::new()),
            trials_tried: Mutex::new(HashMap::new()),
            reference: TestProjection::new(),
            attester,
            member,
            activity: Mutex::new(HashMap::new()),
            chain_seen: Mutex::new(HashMap::new()),
            dispute_seen: Mutex::new(HashMap::new()),
            missed: Mutex::new(missed),
            reported: Mutex::new(HashMap::new()),
            gossip,
            draws,
            evidence,
        })
    }

    pub fn snapshot(&self) -> Arc<RoutingSnapshot> {
        self.view.read().unwrap().snapshot.clone()
    }

    /// Output hash of the keeper's own run, for the models it can run
    /// locally (the test model); `None` otherwise.
    pub fn reference_hash(&self, model: &str, input: &str) -> Option<[u8; 32]> {
        (model == TEST_PROJECTION_ID)
            .then(|| OutputTensor::from_f32(&self.reference.run(input).embedding).ok())
            .flatten()
            .map(|t| t.hash().0)
    }

    /// The keeper's own answer to job `job_id`, sampled and probed as
    /// `sample_as`, for the models it can run locally (the test model):
    /// output and probes, to compare a miner's answer with in full.
    pub fn reference_answer(
        &self,
        model: &str,
        input: &str,
        job_id: &Pubkey,
        sample_as: &MinerPubkey,
    ) -> Option<Recomputed> {
        if model != TEST_PROJECTION_ID {
            return None;
        }
        let run = self.reference.run(input);
        let output = OutputTensor::from_f32(&run.embedding).ok()?;
        let probes =
            miner::api::probes_for(&run.hidden, &JobId(job_id.to_bytes()), sample_as).ok()?;
        Some(Recomputed {
            output_hash: output.hash(),
            output,
            probes,
            sampled_as: *sample_as,
        })
    }

    // ---- the watcher ----

    /// The client of `miner`'s recorded endpoint, if this keeper calls it.
    pub(crate) fn miner_client(&self, miner: &Pubkey) -> Option<MinerClient> {
        self.clients.read().unwrap().get(miner).cloned()
    }

    /// After `miner` could not be reached at `called`: the client of the
    /// endpoint it records on chain now, if that is another (usable) one.
    /// A miner that moved between two reads of the chain is called where
    /// it is, not failed for where it was.
    async fn follow_endpoint(&self, miner: &Pubkey, called: &MinerClient) -> Option<MinerClient> {
        let url = self.gateway.endpoint(miner).await.ok()??;
        if url.trim_end_matches('/') == called.base_url()
            || crate::core::discovery::check(&url, self.cfg.allow_private_endpoints).is_err()
        {
            return None;
        }
        let client = MinerClient::new(&url, self.cfg.longest_call()).ok()?;
        tracing::info!(miner = %miner, %url, "miner moved: calling its new endpoint");
        self.clients.write().unwrap().insert(*miner, client.clone());
        Some(client)
    }

    /// Rebuilds the miner clients from the endpoints the chain records: a
    /// new miner is called from this round on, a changed endpoint replaces
    /// the old one, a refused one is counted by reason.
    fn discover(&self, view: &crate::gateway::ChainView) {
        let miners: HashSet<Pubkey> = view
            .nodes
            .iter()
            .filter(|(_, n)| n.is_miner())
            .map(|(k, _)| *k)
            .collect();
        let (usable, refused) = crate::core::discovery::usable(
            &view.endpoints,
            |n| miners.contains(n),
            self.cfg.allow_private_endpoints,
        );
        let mut clients = self.clients.write().unwrap();
        clients.retain(|node, client| {
            usable.get(node).map(|u| u.trim_end_matches('/')) == Some(client.base_url())
        });
        for (node, url) in usable {
            if clients.contains_key(&node) {
                continue;
            }
            match MinerClient::new(&url, self.cfg.longest_call()) {
                Ok(client) => {
                    tracing::info!(miner = %node, %url, "miner discovered on chain");
                    clients.insert(node, client);
                }
                Err(error) => tracing::warn!(miner = %node, %url, %error, "endpoint not usable"),
            }
        }
        self.metrics.miners_discovered.set(clients.len() as i64);
        for reason in [
            crate::core::discovery::Refused::Private,
            crate::core::discovery::Refused::Malformed,
        ] {
            let count = refused.values().filter(|r| **r == reason).count();
            self.metrics
                .endpoints_refused
                .with_label_values(&[reason.label()])
                .set(count as i64);
        }
    }

    /// Reads the chain once: miners (found by their endpoints), committee,
    /// params; dispatches jobs that have input here and are not finished;
    /// cranks what is due (expiries, claims, downtime slashes); sweeps the
    /// local mempool.
    pub async fn refresh(&self, in_flight: &Mutex<HashSet<Pubkey>>) -> Result<(), KeeperError> {
        let view = self.gateway.view().await?;
        let Some(config) = view.config else {
            return Ok(());
        };
        let params = config.params;
        let now = self.gateway.now().await?;
        let mut mistakes = self.mistakes.lock().unwrap().clone();
        if let Some(g) = &self.gossip {
            mistakes.extend(g.failing_miners().await);
        }
        self.discover(&view);
        let profiles: Vec<MinerProfile> = {
            let book = self.latency.lock().unwrap();
            view.nodes
                .iter()
                .filter(|(_, n)| n.is_miner())
                .map(|(k, n)| {
                    let mut p = MinerProfile::from_node(*k, n, &params);
                    p.reachable = self.clients.read().unwrap().contains_key(k);
                    p.median_latency_ms = book.median_response_ms(k);
                    p.tokens_per_second = book
                        .speeds_of(k)
                        .into_iter()
                        .filter_map(|(model, tps)| model_id(&model).ok().map(|m| (m, tps)))
                        .collect();
                    p.recent_mistake = mistakes.contains(k);
                    p
                })
                .collect()
        };
        let snapshot = RoutingSnapshot::build(profiles, &self.cfg.routing, now);
        self.metrics
            .validators_active
            .set(config.active_validators as i64);
        self.metrics
            .validators_total
            .set(view.nodes.iter().filter(|(_, n)| n.is_validator()).count() as i64);
        self.metrics
            .average_reputation
            .set(snapshot.average_trust());
        if let Some(member) = &self.member {
            let seated = view.committee.as_ref().is_some_and(|c| {
                c.index_of_key(&solana_sdk::signer::Signer::pubkey(member.key.as_ref()))
                    .is_some()
            });
            let expected = view
                .nodes
                .iter()
                .any(|(k, n)| *k == member.node && n.is_validator() && n.activity(&params).active);
            self.metrics.committee_member.set(i64::from(seated));
            self.metrics.committee_expected.set(i64::from(expected));
        }
        if let Err(error) = self.gateway.payer_balance().await {
            tracing::debug!(%error, "payer balance not read");
        }
        {
            let mut v = self.view.write().unwrap();
            v.snapshot = Arc::new(snapshot);
            v.params = Some(params);
            v.committee_epoch = view.committee.as_ref().map(|c| c.epoch).unwrap_or(0);
            v.committee = view.committee;
            let active = view
                .nodes
                .iter()
                .filter(|(_, n)| n.activity(&params).active);
            v.active_node_keys = active.map(|(_, n)| n.signing_key).collect();
        }
        // Jobs: resume ours, crank any past its TTL (permissionless refund).
        for (key, job) in &view.jobs {
            let changed = self
                .chain_seen
                .lock()
                .unwrap()
                .insert(*key, (job.status(), job.attempts))
                != Some((job.status(), job.attempts));
            if changed {
                self.touch(key);
            }
            let busy = in_flight.lock().unwrap().contains(key);
            if busy {
                continue;
            }
            if job.is_expired(now, &params) {
                let _ = self.post(*key, Intent::Expire, Evidence::default()).await;
                continue;
            }
            // Unfinished records: drive open jobs, and close the records of
            // jobs another member finished.
            if let Some(rec) = self.store.get(key)? {
                if !rec.phase.is_finished() {
                    let _ = self.dispatch_tx.try_send(*key);
                }
            }
        }
        self.chain_seen
            .lock()
            .unwrap()
            .retain(|k, _| view.jobs.iter().any(|(j, _)| j == k));
        self.sweep_mempool()?;
        if !config.is_paused() {
            self.crank(&view, &params, now).await;
        }
        if let Err(e) = self.evidence.sweep(&view, &params, now).await {
            tracing::warn!(error = %e, "evidence sweep failed");
        }
        if self.member.is_some() {
            self.report_missed().await;
            if self.cfg.committee.rotate {
                self.crank_rotation(&view, &params, now).await;
            }
            if self.cfg.committee.disputes {
                self.dispute_round(&view, &params, now).await;
            }
            // Validator fees and bonds back are credited to the node: take them.
            self.withdraw_owed(&view).await;
        }
        Ok(())
    }

    /// Sends each permissionless crank that is due ([`crate::core::cranks`])
    /// at most once: a refusal (another keeper was first) is not retried.
    async fn crank(&self, view: &crate::gateway::ChainView, params: &ProtocolParams, now: i64) {
        use crate::core::cranks::{due, Crank};
        let me = self.member.as_ref().map(|m| m.node);
        let wanted = |c: &Crank| match c {
            Crank::ClaimPayout { .. } | Crank::CloseJob { .. } => self.cfg.cranks.claims,
            Crank::Downtime { .. } => self.cfg.cranks.downtime_slashes,
        };
        for crank in due(&view.jobs, &view.nodes, me, params, now)
            .into_iter()
            .filter(wanted)
        {
            if !self.cranked.lock().unwrap().insert(crank) {
                continue;
            }
            let job = |key: &Pubkey| view.jobs.iter().find(|(k, _)| k == key).map(|(_, j)| j);
            let instruction = match &crank {
                Crank::ClaimPayout { job: key } => job(key).map(|j| {
                    verdict_sdk::instructions::claim_payout(key, &j.miner, &j.refund_account)
                }),
                Crank::CloseJob { job: key } => {
                    job(key).map(|j| verdict_sdk::instructions::close_job(key, j))
                }
                Crank::Downtime { node, epoch } => Some(verdict_sdk::instructions::slash_node(
                    &self.gateway.payer(),
                    None,
                    node,
                    verdict::state::Offense::Downtime,
                    verdict::instructions::slash_node::downtime_evidence(*epoch),
                )),
            };
            let Some(instruction) = instruction else {
                continue;
            };
            match self.gateway.send(&[instruction]).await {
                Ok(_) => {
                    self.metrics
                        .cranks_total
                        .with_label_values(&[crank.kind()])
                        .inc();
                    tracing::info!(?crank, "cranked");
                }
                Err(error) => tracing::debug!(?crank, %error, "crank not landed"),
            }
        }
        // Forget what the chain no longer shows (closed jobs, past epochs).
        let epoch = verdict::instructions::slash_node::verdict_epoch(now, params.epoch_secs);
        self.cranked.lock().unwrap().retain(|c| match c {
            Crank::ClaimPayout { job } | Crank::CloseJob { job } => {
                view.jobs.iter().any(|(k, _)| k == job)
            }
            Crank::Downtime { epoch: e, .. } => *e == epoch,
        });
    }

    fn sweep_mempool(&self) -> Result<(), KeeperError> {
        let now = wall_secs();
        for mut rec in self.store.all()? {
            match sweep(rec.phase, rec.phase_since, now, &self.cfg.mempool) {
                Sweep::Keep => {}
                Sweep::GiveUp => {
                    self.finish_failed(&mut rec, FailureCode::MempoolTtl, "the job outlived the keeper's mempool TTL; the chain's TTL refunds the escrow")?;
                }
                Sweep::Purge => self.store.remove(&rec.job)?,
            }
        }
        Ok(())
    }

    /// Runs the trial task for every reachable miner that is owed one.
    pub async fn run_trials(&self) {
        let now = match self.gateway.now().await {
            Ok(n) => n,
            Err(_) => return,
        };
        let due: Vec<MinerProfile> = self
            .snapshot()
            .trials_due(now)
            .into_iter()
            .cloned()
            .collect();
        for miner in due {
            if !self.trial_turn(&miner.node) {
                continue;
            }
            {
                let mut tried = self.trials_tried.lock().unwrap();
                if tried
                    .get(&miner.node)
                    .is_some_and(|t| t.elapsed() < Duration::from_secs(30))
                {
                    continue;
                }
                tried.insert(miner.node, Instant::now());
            }
            if let Err(e) = self.trial(&miner).await {
                tracing::warn!(miner = %miner.node, error = %e, "trial task not recorded");
            }
        }
    }

    async fn trial(&self, miner: &MinerProfile) -> Result<(), KeeperError> {
        let Some(client) = self.miner_client(&miner.node) else {
            return Ok(());
        };
        let Ok(model) = model_id(TEST_PROJECTION_ID) else {
            return Ok(());
        };
        if !miner.serves(&model) {
            return Ok(());
        }
        let node = self
            .gateway
            .node(&miner.node)
            .await?
            .ok_or(KeeperError::ShuttingDown)?;
        let expected = self
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
        let poster = self.poster();
        let posted = poster.post_trial(&intent, response.as_ref()).await?;
        tracing::info!(miner = %miner.node, passed, result = posted.label(), "trial task");
        Ok(())
    }

    pub(crate) fn poster(&self) -> Poster {
        // Trials are rare; they post directly rather than through the queue.
        Poster {
            gateway: self.gateway.clone(),
            attester: self.attester.clone(),
            metrics: self.metrics.clone(),
            attempts: self.cfg.post_attempts,
        }
    }

    // ---- intake ----

    /// Stores a client's input for its on-chain job and queues it.
    pub fn accept(self: &Arc<Self>, rec: JobRecord) -> Result<(), KeeperError> {
        self.store.put(&rec)?;
        self.touch(&rec.job);
        if self.member.is_some() {
            let engine = self.clone();
            let share = crate::peer::InputShare {
                job: rec.job,
                input: rec.input.clone(),
                realtime: rec.realtime,
            };
            tokio::spawn(async move { engine.share_input(share).await });
        }
        let _ = self.dispatch_tx.try_send(rec.job);
        Ok(())
    }

    // ---- the dispatcher's per-job driver ----

    async fn post(
        &self,
        job: Pubkey,
        intent: Intent,
        evidence: Evidence,
    ) -> Result<Posted, KeeperError> {
        let (reply, rx) = oneshot::channel();
        self.poster_tx
            .send(PostRequest {
                job,
                intent,
                evidence,
                reply,
            })
            .await
            .map_err(|_| KeeperError::ShuttingDown)?;
        rx.await.map_err(|_| KeeperError::ShuttingDown)?
    }

    /// Records the intent, posts it, then records the result: a crash at any
    /// point leaves `pending_post` for the next run to re-check and finish.
    /// When the committee refuses the claim on its merits, the intent is
    /// dropped (the driver decides again from the chain state).
    async fn post_recorded(
        &self,
        rec: &mut JobRecord,
        intent: Intent,
    ) -> Result<Posted, KeeperError> {
        rec.pending_post = Some(intent.clone());
        self.store.put(rec)?;
        let mut evidence = rec.evidence.clone().unwrap_or_default();
        evidence.input = Some(rec.input.clone());
        let posted = match self.post(rec.job, intent.clone(), evidence).await {
            Ok(p) => p,
            Err(KeeperError::Attest(e)) if e.refused_on_merits() => {
                tracing::info!(job = %rec.job, kind = intent.kind(), reason = %e, "the committee refused the claim");
                rec.pending_post = None;
                self.store.put(rec)?;
                return Err(KeeperError::Attest(e));
            }
            Err(e) => return Err(e),
        };
        rec.pending_post = None;
        rec.posts.push(PostRecord {
            kind: intent.kind().into(),
            result: posted.label().into(),
        });
        self.store.put(rec)?;
        Ok(posted)
    }

    fn set_phase(&self, rec: &mut JobRecord, phase: Phase) -> Result<(), KeeperError> {
        if rec.phase != phase {
            rec.phase = phase;
            rec.phase_since = wall_secs();
            self.store.put(rec)?;
        }
        Ok(())
    }

    fn finish_failed(
        &self,
        rec: &mut JobRecord,
        code: FailureCode,
        message: &str,
    ) -> Result<(), KeeperError> {
        rec.failure = Some(JobFailure {
            code,
            message: message.into(),
        });
        rec.phase = Phase::Failed;
        rec.phase_since = wall_secs();
        self.store.put(rec)?;
        self.metrics
            .jobs_total
            .with_label_values(&[code.as_str()])
            .inc();
        tracing::info!(job = %rec.job, %code, "job failed for the client");
        Ok(())
    }

    /// The end-to-end deadline passed: the job fails for the client, and the
    /// chain's TTL refunds the escrow.
    fn deadline_passed(&self, rec: &mut JobRecord) -> Result<(), KeeperError> {
        self.metrics
            .timeouts_total
            .with_label_values(&["end_to_end"])
            .inc();
        self.finish_failed(rec, FailureCode::DeadlineExceeded, "no outcome within the end-to-end timeout; the escrow is refunded when the job's TTL expires")
    }

    /// Drives one job until it is final for the client.
    pub async fn drive(&self, key: Pubkey) -> Result<(), KeeperError> {
        let result = self.drive_job(key).await;
        // Its outcome is on chain (or never will be): the miner's window counts it.
        self.reserved_in_flight.lock().unwrap().remove(&key);
        result
    }

    async fn drive_job(&self, key: Pubkey) -> Result<(), KeeperError> {
        let Some(mut rec) = self.store.get(&key)? else {
            return Ok(());
        };
        if rec.phase.is_finished() {
            return Ok(());
        }
        if let Some(job) = self.gateway.job(&key).await? {
            if matches!(job.status(), JobStatus::Sent | JobStatus::Allocated) && !self.turn(&key) {
                return Ok(());
            }
        }
        let started = Instant::now();
        // A generation's allowance counts for each generation the job may
        // wait on in turn: the primary's call, a high-risk shadow rerun, and
        // the co-signers' reruns (CosignDeadline::RERUNS).
        let generation_allowance = self
            .cfg
            .budget(&rec.model, Some(&rec.input))
            .timeout
            .saturating_sub(self.cfg.shard_timeout());
        let deadline = started
            + self.cfg.end_to_end_timeout()
            + (2 + crate::attester::CosignDeadline::RERUNS) * generation_allowance;
        self.set_phase(&mut rec, Phase::Running)?;
        if let Some(intent) = rec.pending_post.clone() {
            tracing::info!(job = %key, kind = intent.kind(), "resuming a recorded post");
            self.post_recorded(&mut rec, intent).await?;
        }
        if let Err(error) = validation::job_input(&rec.model, &rec.input) {
            // The client's fault: no miner is called or charged for it.
            let message = format!("the job's input is not a valid request for {}: {error}; the escrow is refunded when the job's TTL expires", rec.model);
            return self.finish_failed(&mut rec, FailureCode::InvalidInput, &message);
        }
        let risk: RiskLevel = rec.risk.into();
        let risk_label = format!("{risk:?}").to_lowercase();
        loop {
            let Some(job) = self.gateway.job(&key).await? else {
                return self.finish_failed(
                    &mut rec,
                    FailureCode::UnknownJob,
                    "the job account no longer exists",
                );
            };
            match job.status() {
                JobStatus::Solved | JobStatus::Paid => {
                    let ours = rec
                        .output
                        .as_ref()
                        .is_some_and(|o| o.report.output_hash == job.output_hash);
                    if !ours {
                        match self.output_from_peers(&key, &job).await {
                            Some(output) => rec.output = Some(output),
                            None => {
                                return self.finish_failed(
                                    &mut rec,
                                    FailureCode::SolvedElsewhere,
                                    "the job was solved without this keeper's output",
                                )
                            }
                        }
                    }
                    rec.phase = Phase::Done;
                    rec.phase_since = wall_secs();
                    self.store.put(&rec)?;
                    self.metrics.jobs_total.with_label_values(&["solved"]).inc();
                    self.metrics
                        .dispatch_latency_seconds
                        .with_label_values(&[&risk_label])
                        .observe(started.elapsed().as_secs_f64());
                    return Ok(());
                }
                JobStatus::Refunded | JobStatus::Expired | JobStatus::Invalid => {
                    let tried = rec.tried.len();
                    return self.finish_failed(
                        &mut rec,
                        FailureCode::AllMinersFailed,
                        &format!("no miner produced a valid answer ({tried} failed); the escrow was refunded on chain ({:?})", job.status()),
                    );
                }
                JobStatus::Allocated => {
                    if Instant::now() >= deadline {
                        return self.deadline_passed(&mut rec);
                    }
                    let miner = job.miner;
                    if let Some(
                        owed @ Intent::Fail {
                            miner: m, attempt, ..
                        },
                    ) = rec.owed_fail.clone()
                    {
                        if m == miner && attempt == job.attempts {
                            rec.owed_fail = None;
                            // Refused: the members reached the miner; ask it again below.
                            refused_is_retry(self.post_recorded(&mut rec, owed).await)?;
                            continue;
                        }
                    }
                    let intent = match self.answer(&rec, &miner, risk).await {
                        Ok(answer) => {
                            let report = self.report(&answer);
                            rec.output = Some(VerifiedOutput {
                                miner,
                                output: answer.response.output.clone(),
                                report,
                                receipt: Some(answer.response.receipt()),
                            });
                            rec.evidence = Some(answer.evidence());
                            Intent::Complete {
                                miner,
                                attempt: job.attempts,
                                report,
                            }
                        }
                        Err(miss) => {
                            rec.tried.push(miner);
                            rec.evidence = Some(miss.evidence());
                            self.miss(&miner, job.attempts, &miss.failure)
                        }
                    };
                    refused_is_retry(self.post_recorded(&mut rec, intent).await)?;
                }
                JobStatus::Sent => {
                    if Instant::now() >= deadline {
                        return self.deadline_passed(&mut rec);
                    }
                    let snapshot = self.snapshot();
                    let now = self.gateway.now().await?;
                    let request = RouteRequest {
                        risk,
                        model: job.model,
                        realtime: rec.realtime,
                        now,
                        exclude: &rec.tried,
                    };
                    let seed = self.draws.route_seed(&key, job.attempts);
                    let in_flight = self.reserved_in_flight.lock().unwrap().clone();
                    let pending =
                        |miner: &Pubkey| in_flight.values().filter(|m| *m == miner).count() as u32;
                    let Some((choice, share)) = snapshot
                        .draw_counting(&request, &self.cfg.routing, &seed, &pending)
                        .map(|(m, share)| (m.profile.node, share))
                    else {
                        let tried = rec.tried.len();
                        let code = if tried == 0 {
                            FailureCode::NoMinerAvailable
                        } else {
                            FailureCode::AllMinersFailed
                        };
                        return self.finish_failed(
                            &mut rec,
                            code,
                            &format!("no eligible miner left ({tried} failed); the escrow is refunded when the job's TTL expires"),
                        );
                    };
                    if !rec.tried.is_empty() {
                        self.metrics
                            .retries_total
                            .with_label_values(&["redispatch"])
                            .inc();
                    }
                    let share_label = match share {
                        Share::Open => {
                            self.reserved_in_flight.lock().unwrap().remove(&key);
                            "open"
                        }
                        Share::Tier3Reserved => {
                            self.reserved_in_flight.lock().unwrap().insert(key, choice);
                            "tier3_reserved"
                        }
                    };
                    self.metrics
                        .routing_draws_total
                        .with_label_values(&[share_label])
                        .inc();
                    tracing::debug!(job = %key, miner = %choice, share = share_label, "routed");
                    let attempt = job.attempts + 1;
                    let price = (job.max_fee as u128 * self.cfg.price_bps as u128
                        / u128::from(verdict::constants::BPS_DENOMINATOR))
                        as u64;
                    self.metrics.validations_preprocessing_total.inc();
                    if risk == RiskLevel::Low {
                        // Optimistic path: ask first, then settle in one transaction.
                        match self.answer(&rec, &choice, risk).await {
                            Ok(answer) => {
                                let report = self.report(&answer);
                                rec.output = Some(VerifiedOutput {
                                    miner: choice,
                                    output: answer.response.output.clone(),
                                    report,
                                    receipt: Some(answer.response.receipt()),
                                });
                                rec.evidence = Some(answer.evidence());
                                let settled = self
                                    .post_recorded(
                                        &mut rec,
                                        Intent::Settle {
                                            miner: choice,
                                            attempt,
                                            price,
                                            report,
                                        },
                                    )
                                    .await;
                                if refused_is_retry(settled)?.is_none() {
                                    // The committee would not sign this answer: try another miner.
                                    rec.tried.push(choice);
                                }
                            }
                            Err(miss) => {
                                // Penalize on chain: assign, then fail that attempt.
                                rec.tried.push(choice);
                                rec.evidence = Some(miss.evidence());
                                rec.owed_fail = Some(self.miss(&choice, attempt, &miss.failure));
                                self.post_recorded(
                                    &mut rec,
                                    Intent::Assign {
                                        miner: choice,
                                        attempt,
                                        price,
                                    },
                                )
                                .await?;
                            }
                        }
                    } else if refused_is_retry(
                        self.post_recorded(
                            &mut rec,
                            Intent::Assign {
                                miner: choice,
                                attempt,
                                price,
                            },
                        )
                        .await,
                    )?
                    .is_none()
                    {
                        rec.tried.push(choice);
                    }
                }
            }
        }
    }

    /// A failed attempt: metrics, the miner's mark, and the fail intent.
    fn miss(&self, miner: &Pubkey, attempt: u8, failure: &AttemptFailure) -> Intent {
        tracing::info!(%miner, attempt, reason = %failure, "miner failed the job");
        if let AttemptFailure::Timeout = failure {
            self.metrics
                .timeouts_total
                .with_label_values(&["shard"])
                .inc();
        }
        self.metrics
            .retries_total
            .with_label_values(&[failure.label()])
            .inc();
        self.mistakes.lock().unwrap().insert(*miner);
        if let Some(gossip) = self.gossip.clone() {
            let miner = *miner;
            tokio::spawn(async move { gossip.report_failure(&miner).await });
        }
        Intent::Fail {
            miner: *miner,
            attempt,
            reason: failure.fail_reason().into(),
        }
    }

    fn report(&self, answer: &Answer) -> verdict::attestation::CompletionReport {
        let medians = self.latency.lock().unwrap().medians();
        let score = validation::latency_score_bps(answer.timing.response_ms, &medians);
        validation::completion_report(
            &answer.response,
            &answer.timing,
            &validation::Accepted {
                sla_met: answer.sla_met,
            },
            score,
        )
    }

    /// Calls one miner under the shard timeout and validates its answer.
    /// `sample_as`: a recheck of another miner's answer (the miner samples
    /// and probes as that key); `None` for a miner answering for itself.
    pub(crate) async fn call(
        &self,
        rec: &JobRecord,
        miner: &Pubkey,
        sample_as: Option<Pubkey>,
    ) -> Result<Answer, Miss> {
        let snapshot = self.snapshot();
        let profile = snapshot
            .get(miner)
            .map(|r| r.profile.clone())
            .ok_or_else(|| {
                Miss::of(
                    AttemptFailure::Invalid(Rejection::Standing("unknown to this keeper".into())),
                    0,
                )
            })?;
        let client = self.miner_client(miner).ok_or_else(|| {
            Miss::of(
                AttemptFailure::Disconnect("no usable endpoint on chain".into()),
                0,
            )
        })?;
        let now = self.gateway.now().await.unwrap_or(0);
        let job = JobInput {
            job: rec.job,
            model: &rec.model,
            input: &rec.input,
            input_hash: rec.input_hash,
            sample_as,
        };
        let budget = self.cfg.budget(&rec.model, Some(&rec.input));
        let mut result = call_and_validate(&client, &profile, &job, budget, now).await;
        if matches!(result, Err((_, AttemptFailure::Disconnect(_)))) {
            if let Some(moved) = self.follow_endpoint(miner, &client).await {
                result = call_and_validate(&moved, &profile, &job, budget, now).await;
            }
        }
        let label = if result.is_ok() { "ok" } else { "error" };
        let (elapsed, answer) = match result {
            Ok(a) => (a.timing.response_ms as f64 / 1_000.0, Ok(a)),
            Err((ms, e)) => (ms as f64 / 1_000.0, Err(Miss::of(e, ms))),
        };
        tracing::debug!(job = %rec.job, %miner, rerun = sample_as.is_some(), seconds = elapsed, outcome = label, "miner called");
        self.metrics
            .miner_call_seconds
            .with_label_values(&[label])
            .observe(elapsed);
        if let Ok(a) = &answer {
            self.record_speed(miner, &rec.model, a);
        }
        if !matches!(
            &answer,
            Err(Miss {
                failure: AttemptFailure::Timeout | AttemptFailure::Disconnect(_),
                ..
            })
        ) {
            self.metrics.validations_completion_total.inc();
        }
        answer
    }

    /// Books a valid answer's speed: an embedding's timings in the latency
    /// window, a generation's tokens/s in the miner's average for the model
    /// (and its gauge).
    fn record_speed(&self, miner: &Pubkey, model: &str, answer: &Answer) {
        let generative = verdict_wire::models::is_generative(model);
        let mut book = self.latency.lock().unwrap();
        if !generative {
            book.record(*miner, answer.timing);
            return;
        }
        let tps = answer.response.tokens_per_second();
        if tps > 0.0 {
            let average = book.record_speed(*miner, model, tps);
            self.metrics
                .miner_tokens_per_second
                .with_label_values(&[&miner.to_string(), model])
                .set(average);
        }
    }

    /// The answering miner's key a recheck samples as: whose seed it used.
    fn seed_of(answer: &InferResponse) -> Pubkey {
        Pubkey::new_from_array(answer.sampled_as.0)
    }

    /// The primary's validated answer; for high risk, confirmed by a shadow
    /// rerun on a second miner, sampled as the primary (its output hash and
    /// its probes: [`validation::compare_answers`]); the keeper's own
    /// reference run, or a third miner, breaks a tie.
    async fn answer(
        &self,
        rec: &JobRecord,
        miner: &Pubkey,
        risk: RiskLevel,
    ) -> Result<Answer, Miss> {
        let primary = self.call(rec, miner, None).await?;
        if risk != RiskLevel::High {
            self.mistakes.lock().unwrap().remove(miner);
            return Ok(primary);
        }
        let now = self.gateway.now().await.unwrap_or(0);
        let snapshot = self.snapshot();
        let mut exclude = rec.tried.clone();
        exclude.push(*miner);
        let model = model_id(&rec.model).map_err(|_| {
            Miss::of(
                AttemptFailure::Invalid(Rejection::WrongRequest("model".into())),
                0,
            )
        })?;
        let request = RouteRequest {
            risk,
            model,
            realtime: false,
            now,
            exclude: &exclude,
        };
        let mut shadows: std::collections::VecDeque<Pubkey> = snapshot
            .route(&request, &self.cfg.routing, 3)
            .iter()
            .map(|m| m.profile.node)
            .collect();
        let sample_as = Self::seed_of(&primary.response);
        let reference = self.reference_answer(
            &rec.model,
            &rec.input,
            &rec.job,
            &primary.response.sampled_as,
        );
        let primary_view = AnswerView::from(&primary.response);
        // A lone dissent without a reference is a tie: a further shadow breaks it.
        let mut dissent: Option<(Pubkey, validation::Mismatch)> = None;
        let mut asked = exclude.clone();
        let mut widened = false;
        loop {
            // A tie with no Tier 1/2 shadow left: any other warm miner breaks
            // it (its trust, not its tier, is what counts for a re-run, as
            // for the co-signers'). Otherwise, with two Tier 1/2 miners in
            // the network, a wrong one would leave every high-risk job of the
            // honest one unsettled until it expires on that honest miner.
            if shadows.is_empty() && dissent.is_some() && !widened {
                widened = true;
                let any_tier = RouteRequest {
                    risk: RiskLevel::Low,
                    model,
                    realtime: false,
                    now,
                    exclude: &asked,
                };
                shadows.extend(
                    snapshot
                        .route(&any_tier, &self.cfg.routing, 2)
                        .iter()
                        .map(|m| m.profile.node),
                );
            }
            let Some(shadow) = shadows.pop_front() else {
                break;
            };
            asked.push(shadow);
            let Ok(other) = self.call(rec, &shadow, Some(sample_as)).await else {
                continue;
            };
            match judge_shadow(
                &rec.model,
                primary_view,
                AnswerView::from(&other.response),
                reference.as_ref().map(Recomputed::view),
            ) {
                ShadowVerdict::Agree => {
                    self.mistakes.lock().unwrap().remove(miner);
                    if let Some((wrong, _)) = dissent {
                        self.mistakes.lock().unwrap().insert(wrong);
                    }
                    return Ok(primary);
                }
                ShadowVerdict::ShadowWrong => {
                    self.mistakes.lock().unwrap().insert(shadow);
                    continue;
                }
                ShadowVerdict::Undecided(why) if dissent.is_none() => {
                    dissent = Some((shadow, why));
                    continue;
                }
                ShadowVerdict::PrimaryWrong(why) | ShadowVerdict::Undecided(why) => {
                    tracing::info!(job = %rec.job, primary = %miner, %shadow, %why, "the shadow rerun contradicts the primary");
                    let by = if reference.is_some() {
                        "the keeper's reference run".to_string()
                    } else {
                        shadow.to_string()
                    };
                    return Err(Miss::wrong(
                        Rejection::RecheckDisagrees { by, why },
                        primary,
                    ));
                }
            }
        }
        if let Some((shadow, why)) = dissent {
            tracing::info!(job = %rec.job, primary = %miner, %shadow, %why, "a shadow disagrees and no other miner answered");
            return Err(Miss::wrong(
                Rejection::RecheckDisagrees {
                    by: shadow.to_string(),
                    why,
                },
                primary,
            ));
        }
        // No shadow answered: the local reference run is the only check left.
        match reference.map(|r| validation::compare_answers(&rec.model, primary_view, r.view())) {
            Some(Ok(())) => Ok(primary),
            Some(Err(why)) => Err(Miss::wrong(
                Rejection::RecheckDisagrees {
                    by: "the keeper's reference run".into(),
                    why,
                },
                primary,
            )),
            None => {
                tracing::warn!(job = %rec.job, "no shadow miner answered and no local reference: accepting the primary");
                Ok(primary)
            }
        }
    }
}
