//! Calling miners: the clients of the endpoints the chain records, one
//! call under the job's budget with its answer validated, what this keeper
//! learned of each miner (latency, speed, recent mistakes, gossip), and its
//! own recomputations (the local reference model, or two other miners that
//! agree) that rechecks and votes rely on.

use std::collections::{HashMap, HashSet};
use std::sync::{Arc, Mutex, RwLock};
use std::time::{Duration, Instant};

use anchor_lang::prelude::Pubkey;
use verdict::state::{model_id, Job, ProtocolParams, RiskLevel};
use verdict_models::projection::TestProjection;
use verdict_models::TEST_PROJECTION_ID;
use verdict_wire::bid::PricesResponse;
use verdict_wire::client::MinerClient;
use verdict_wire::miner::{
    Digest32, InferRequest, InferResponse, JobId, MinerPubkey, ModelId as MinerModelId,
    OutputTensor,
};

use crate::clock::wall_secs;
use crate::context::Context;
use crate::core::cosign::{Evidence, Refusal};
use crate::core::discovery::{self, Refused};
use crate::core::latency::LatencyBook;
use crate::core::routing::{MinerProfile, RouteRequest};
use crate::core::validation::{
    self, compare_answers, AttemptFailure, Expectation, Recomputed, Rejection, Timing,
};
use crate::gateway::ChainView;
use crate::gossip::Gossip;
use crate::store::JobRecord;

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
            bid: None,
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

    pub fn wrong(why: Rejection, answer: Answer) -> Self {
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
            bid: None,
        }
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
        .unwrap_or(Err(verdict_wire::client::ClientError::Timeout(
            budget.timeout,
        )));
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

/// The miners as this keeper calls and knows them.
pub struct Miners {
    ctx: Context,
    /// The miners this keeper calls, by Node: found on chain (each node's
    /// recorded endpoint), refreshed every round.
    clients: RwLock<HashMap<Pubkey, MinerClient>>,
    /// Response times and generation speeds per miner.
    pub latency: Mutex<LatencyBook>,
    /// Miners whose last answer this keeper judged wrong (M in the score).
    mistakes: Mutex<HashSet<Pubkey>>,
    /// Miner health heard from the other keepers.
    pub gossip: Option<Arc<Gossip>>,
    reference: TestProjection,
    /// Each bidding miner's standing prices, and when they were last read
    /// from which miners.
    prices: RwLock<PriceBook>,
}

type PriceBook = (
    HashMap<Pubkey, PricesResponse>,
    Option<(Instant, HashSet<Pubkey>)>,
);

/// How often the miners' standing prices are read again.
pub const PRICES_REFRESH: Duration = Duration::from_secs(15);

impl Miners {
    pub fn new(ctx: Context, gossip: Option<Arc<Gossip>>) -> Self {
        Miners {
            latency: Mutex::new(LatencyBook::new(ctx.cfg.latency_window)),
            ctx,
            clients: RwLock::new(HashMap::new()),
            mistakes: Mutex::new(HashSet::new()),
            gossip,
            reference: TestProjection::new(),
            prices: RwLock::new((HashMap::new(), None)),
        }
    }

    /// The client of `miner`'s recorded endpoint, if this keeper calls it.
    pub fn client(&self, miner: &Pubkey) -> Option<MinerClient> {
        self.clients.read().unwrap().get(miner).cloned()
    }

    /// After `miner` could not be reached at `called`: the client of the
    /// endpoint it records on chain now, if that is another (usable) one.
    /// A miner that moved between two reads of the chain is called where
    /// it is, not failed for where it was.
    async fn follow_endpoint(&self, miner: &Pubkey, called: &MinerClient) -> Option<MinerClient> {
        let url = self.ctx.gateway.endpoint(miner).await.ok()??;
        if url.trim_end_matches('/') == called.base_url()
            || discovery::check(&url, self.ctx.cfg.allow_private_endpoints).is_err()
        {
            return None;
        }
        let client = MinerClient::new(&url, self.ctx.cfg.longest_call()).ok()?;
        tracing::info!(miner = %miner, %url, "miner moved: calling its new endpoint");
        self.clients.write().unwrap().insert(*miner, client.clone());
        Some(client)
    }

    /// Rebuilds the miner clients from the endpoints the chain records: a
    /// new miner is called from this round on, a changed endpoint replaces
    /// the old one, a refused one is counted by reason.
    pub fn discover(&self, view: &ChainView) {
        let miners: HashSet<Pubkey> = view
            .nodes
            .iter()
            .filter(|(_, n)| n.is_miner())
            .map(|(k, _)| *k)
            .collect();
        let (usable, refused) = discovery::usable(
            &view.endpoints,
            |n| miners.contains(n),
            self.ctx.cfg.allow_private_endpoints,
        );
        let mut clients = self.clients.write().unwrap();
        clients.retain(|node, client| {
            usable.get(node).map(|u| u.trim_end_matches('/')) == Some(client.base_url())
        });
        for (node, url) in usable {
            if clients.contains_key(&node) {
                continue;
            }
            match MinerClient::new(&url, self.ctx.cfg.longest_call()) {
                Ok(client) => {
                    tracing::info!(miner = %node, %url, "miner discovered on chain");
                    clients.insert(node, client);
                }
                Err(error) => tracing::warn!(miner = %node, %url, %error, "endpoint not usable"),
            }
        }
        let metrics = &self.ctx.metrics;
        metrics.miners_discovered.set(clients.len() as i64);
        for reason in [Refused::Private, Refused::Malformed] {
            let count = refused.values().filter(|r| **r == reason).count();
            metrics
                .endpoints_refused
                .with_label_values(&[reason.label()])
                .set(count as i64);
        }
    }

    /// Reads every callable miner's standing prices (`GET /prices`) when
    /// the last read is older than [`PRICES_REFRESH`] or a miner was found
    /// since; a miner that does not bid, or does not answer within a
    /// second, has none.
    pub async fn refresh_prices(&self) {
        let clients: Vec<(Pubkey, MinerClient)> = self
            .clients
            .read()
            .unwrap()
            .iter()
            .map(|(k, c)| (*k, c.clone()))
            .collect();
        {
            let (_, read) = &*self.prices.read().unwrap();
            let fresh = read.as_ref().is_some_and(|(at, asked)| {
                at.elapsed() < PRICES_REFRESH && clients.iter().all(|(k, _)| asked.contains(k))
            });
            if fresh {
                return;
            }
        }
        let asked: HashSet<Pubkey> = clients.iter().map(|(k, _)| *k).collect();
        let mut reads = tokio::task::JoinSet::new();
        for (node, client) in clients {
            reads.spawn(async move {
                let read = tokio::time::timeout(Duration::from_secs(1), client.prices()).await;
                (node, read.ok().and_then(Result::ok))
            });
        }
        let mut prices = HashMap::new();
        while let Some(Ok((node, read))) = reads.join_next().await {
            if let Some(read) = read {
                prices.insert(node, read);
            }
        }
        *self.prices.write().unwrap() = (prices, Some((Instant::now(), asked)));
    }

    /// Forgets `miner`'s standing prices until the next read: it could not
    /// be reached for bids (its process is gone), so its jobs go to the
    /// miners that can take them instead of waiting up to [`PRICES_REFRESH`]
    /// for it. A miner merely slow to bid keeps its prices.
    pub fn forget_prices(&self, miner: &Pubkey) {
        if self.prices.write().unwrap().0.remove(miner).is_some() {
            tracing::info!(%miner, "bidder unreachable: not a bidder until its prices are read again");
        }
    }

    /// The miners that bid: those that published standing prices at the last read.
    pub fn bidders(&self) -> HashSet<Pubkey> {
        self.prices.read().unwrap().0.keys().copied().collect()
    }

    /// How many jobs `miner` says it takes at once (its standing capacity).
    pub fn capacity_of(&self, miner: &Pubkey) -> Option<u32> {
        self.prices.read().unwrap().0.get(miner).map(|p| p.capacity)
    }

    /// Each miner's standing price for a job of `model` at `risk`, for the
    /// miners that price one (they bid on such jobs when they have room).
    pub fn standing_prices(&self, model: &str, risk: RiskLevel) -> HashMap<Pubkey, u64> {
        let prices = self.prices.read().unwrap();
        prices
            .0
            .iter()
            .filter_map(|(node, p)| {
                p.prices
                    .iter()
                    .find(|p| p.model_id.as_str() == model && p.risk == risk as u8)
                    .map(|p| (*node, p.price))
            })
            .collect()
    }

    /// Every miner on chain as routing sees it: its Node, whether this
    /// keeper can call it, its latency and speeds, and whether this keeper
    /// or a peer (gossip) saw it fail lately.
    pub async fn profiles(&self, view: &ChainView, params: &ProtocolParams) -> Vec<MinerProfile> {
        let mut mistakes = self.mistakes.lock().unwrap().clone();
        if let Some(g) = &self.gossip {
            mistakes.extend(g.failing_miners().await);
        }
        let book = self.latency.lock().unwrap();
        let clients = self.clients.read().unwrap();
        view.nodes
            .iter()
            .filter(|(_, n)| n.is_miner())
            .map(|(k, n)| {
                let mut p = MinerProfile::from_node(*k, n, params);
                p.reachable = clients.contains_key(k);
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
    }

    /// `miner` gave a wrong answer or none: routing ranks it lower until it
    /// answers well again, and the other keepers hear of it.
    pub fn failed(&self, miner: &Pubkey) {
        self.mistakes.lock().unwrap().insert(*miner);
        if let Some(gossip) = self.gossip.clone() {
            let miner = *miner;
            tokio::spawn(async move { gossip.report_failure(&miner).await });
        }
    }

    /// `miner` was judged wrong by a recheck (no gossip: the shadow's word).
    pub fn judged_wrong(&self, miner: &Pubkey) {
        self.mistakes.lock().unwrap().insert(*miner);
    }

    /// `miner` answered well.
    pub fn answered_well(&self, miner: &Pubkey) {
        self.mistakes.lock().unwrap().remove(miner);
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
            verdict_models::probes::probes_for(&run.hidden, &JobId(job_id.to_bytes()), sample_as)
                .ok()?;
        Some(Recomputed {
            output_hash: output.hash(),
            output,
            probes,
            sampled_as: *sample_as,
        })
    }

    /// Calls one miner under the job's budget and validates its answer.
    /// `sample_as`: a recheck of another miner's answer (the miner samples
    /// and probes as that key); `None` for a miner answering for itself.
    pub async fn call(
        &self,
        rec: &JobRecord,
        miner: &Pubkey,
        sample_as: Option<Pubkey>,
    ) -> Result<Answer, Miss> {
        let snapshot = self.ctx.snapshot();
        let profile = snapshot
            .get(miner)
            .map(|r| r.profile.clone())
            .ok_or_else(|| {
                Miss::of(
                    AttemptFailure::Invalid(Rejection::Standing("unknown to this keeper".into())),
                    0,
                )
            })?;
        let client = self.client(miner).ok_or_else(|| {
            Miss::of(
                AttemptFailure::Disconnect("no usable endpoint on chain".into()),
                0,
            )
        })?;
        let now = self.ctx.gateway.now().await.unwrap_or(0);
        let job = JobInput {
            job: rec.job,
            model: &rec.model,
            input: &rec.input,
            input_hash: rec.input_hash,
            sample_as,
        };
        let budget = self.ctx.cfg.budget(&rec.model, Some(&rec.input));
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
        let metrics = &self.ctx.metrics;
        metrics
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
            metrics.validations_completion_total.inc();
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
            self.ctx
                .metrics
                .miner_tokens_per_second
                .with_label_values(&[&miner.to_string(), model])
                .set(average);
        }
    }

    /// This keeper's own recomputation of the job, sampled and probed as
    /// `sample_as` (the answering miner's signing key, so an honest
    /// recomputation is bit-identical to an honest answer): a local
    /// reference run when the model runs here, else the answer two other
    /// miners agree on (output and probes, [`compare_answers`]; best score
    /// first, up to three asked): one miner alone could be the wrong one.
    pub(crate) async fn rerun(
        &self,
        key: &Pubkey,
        job: &Job,
        input: Option<&str>,
        not: &Pubkey,
        sample_as: &Pubkey,
    ) -> Result<Recomputed, Refusal> {
        let input = input.ok_or_else(|| Refusal::CannotRerun("no input for this job".into()))?;
        let model = crate::core::model_name(&job.model);
        let seed = verdict_wire::miner::MinerPubkey(sample_as.to_bytes());
        if let Some(mine) = self.reference_answer(&model, input, key, &seed) {
            return Ok(mine);
        }
        let now = self.ctx.gateway.now().await.unwrap_or(0);
        let model_key =
            model_id(&model).map_err(|_| Refusal::CannotRerun("unknown model".into()))?;
        let exclude = [*not];
        // Any warm miner, best score first: trust, not tier, is what counts here.
        let request = RouteRequest {
            risk: RiskLevel::Low,
            model: model_key,
            realtime: false,
            now,
            exclude: &exclude,
        };
        let snapshot = self.ctx.snapshot();
        let rec = JobRecord::new(*key, job, input.to_string(), false, wall_secs());
        let mut seen: Vec<Recomputed> = Vec::new();
        let candidates: Vec<Pubkey> = snapshot
            .route(&request, &self.ctx.cfg.routing, 3)
            .iter()
            .map(|other| other.profile.node)
            .collect();
        // The first two are asked at once (a generation's rerun takes
        // seconds); a third only when they disagree or one fails.
        let (first, rest) = candidates.split_at(candidates.len().min(2));
        let ask = |node: Option<Pubkey>| self.call_opt(&rec, node, *sample_as);
        let (a, b) = tokio::join!(ask(first.first().copied()), ask(first.get(1).copied()));
        let mut answers: Vec<Recomputed> = [a, b]
            .into_iter()
            .flatten()
            .map(|answer| Recomputed::from(&answer.response))
            .collect();
        for node in rest {
            if answers.len() >= 2
                && compare_answers(&model, answers[0].view(), answers[1].view()).is_ok()
            {
                break;
            }
            if let Ok(answer) = self.call(&rec, node, Some(*sample_as)).await {
                answers.push(Recomputed::from(&answer.response));
            }
        }
        for theirs in answers {
            if let Some(agreed) = seen
                .iter()
                .find(|s| compare_answers(&model, s.view(), theirs.view()).is_ok())
            {
                return Ok(agreed.clone());
            }
            seen.push(theirs);
        }
        Err(Refusal::CannotRerun(format!(
            "no two other miners agree ({} answered)",
            seen.len()
        )))
    }

    /// A recheck call to `node`, if there is one to ask.
    async fn call_opt(
        &self,
        rec: &JobRecord,
        node: Option<Pubkey>,
        sample_as: Pubkey,
    ) -> Option<Answer> {
        self.call(rec, &node?, Some(sample_as)).await.ok()
    }
}
