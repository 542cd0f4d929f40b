//! A keeper as one member of a committee of keepers: whose turn a job is
//! (leader, then failover by rank), sharing inputs with the other members,
//! authenticating their requests, reviewing and co-signing their claims
//! (re-running what it can), reporting members that miss deadlines, and
//! cranking the committee rotation. It runs its own round after each read
//! of the chain; the co-sign server (`peer_server`) calls into it.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use anchor_lang::prelude::Pubkey;
use axum::http::HeaderMap;
use solana_sdk::signer::Signer;
use tokio::sync::mpsc;
use tokio_util::sync::CancellationToken;
use verdict::attestation::CompletionReport;
use verdict::state::Job;
use verdict_sdk::attest::{sign, MemberSignature};
use verdict_sdk::client::KeeperClient;
use verdict_sdk::draw::{self, DrawStep};
use verdict_sdk::instructions as ix;

use crate::attester::Missed;
use crate::clock::wall_secs;
use crate::context::{Context, View};
use crate::core::cosign::{
    review_job, review_trial, trial_job_id, Claim, CosignRequest, FollowUp, JobView, Refusal,
    TRIAL_INPUT,
};
use crate::core::leader;
use crate::core::lifecycle::TrialIntent;
use crate::core::throttle::Throttle;
use crate::core::validation::compare_answers;
use crate::miners::Miners;
use crate::peer::auth::{AuthError, PeerHeaders};
use crate::peer::{InputShare, Membership};
use crate::poster::Poster;
use crate::store::{JobRecord, VerifiedOutput};

/// How often, how far apart and how patiently a keeper asks the committee
/// for the output of a job another member solved
/// (`CommitteeMember::output_from_peers`).
const PEER_OUTPUT_TRIES: u32 = 4;
const PEER_OUTPUT_RETRY: Duration = Duration::from_millis(500);
const PEER_OUTPUT_TIMEOUT: Duration = Duration::from_secs(2);

/// This keeper in its committee, and what it keeps to act as one.
pub struct CommitteeMember {
    ctx: Context,
    miners: Arc<Miners>,
    /// Keys, peers and peer client; `None` for a keeper alone (a local quorum).
    pub membership: Option<Arc<Membership>>,
    /// Posts timeout reports (rare: directly, not through the queue).
    poster: Poster,
    /// Jobs to drive: a job whose input a member shares is queued.
    queue: mpsc::Sender<Pubkey>,
    /// Last sign of progress per job, dispute or draw (for failover).
    activity: Mutex<HashMap<Pubkey, Instant>>,
    /// Members that missed a co-sign deadline, to report (−5).
    missed: Mutex<mpsc::UnboundedReceiver<Missed>>,
    /// Last timeout report per member.
    reported: Mutex<Throttle<Pubkey>>,
}

impl CommitteeMember {
    pub fn new(
        ctx: Context,
        miners: Arc<Miners>,
        membership: Option<Arc<Membership>>,
        poster: Poster,
        queue: mpsc::Sender<Pubkey>,
        missed: mpsc::UnboundedReceiver<Missed>,
    ) -> Self {
        let report_interval = Duration::from_secs(ctx.cfg.committee.timeout_report_interval_secs);
        CommitteeMember {
            ctx,
            miners,
            membership,
            poster,
            queue,
            activity: Mutex::new(HashMap::new()),
            missed: Mutex::new(missed),
            reported: Mutex::new(Throttle::new(report_interval)),
        }
    }

    /// Whether this keeper sits in a committee of keepers.
    pub fn is_member(&self) -> bool {
        self.membership.is_some()
    }

    /// After each read of the chain: report members that missed deadlines
    /// and keep the committee draw moving. Returns on `cancel`.
    pub async fn run(self: Arc<Self>, cancel: CancellationToken) {
        if !self.is_member() {
            return;
        }
        let ctx = self.ctx.clone();
        ctx.each_view(&cancel, |view| {
            let me = self.clone();
            async move {
                me.report_missed().await;
                if me.ctx.cfg.committee.rotate {
                    me.crank_rotation(&view).await;
                }
            }
        })
        .await;
    }

    /// Marks a sign of progress on a job (it restarts the failover clock).
    pub fn touch(&self, job: &Pubkey) {
        self.activity.lock().unwrap().insert(*job, Instant::now());
    }

    /// How long the job has shown no progress; the clock starts the first
    /// time this keeper looks.
    fn quiet_for(&self, subject: &Pubkey) -> Duration {
        self.activity
            .lock()
            .unwrap()
            .entry(*subject)
            .or_insert_with(Instant::now)
            .elapsed()
    }

    fn my_rank(&self, subject: &Pubkey) -> Option<usize> {
        let member = self.membership.as_ref()?;
        let view = self.ctx.view();
        let committee = view.committee()?;
        let mine = committee.members().iter().position(|m| *m == member.node);
        Some(leader::rank(
            subject,
            committee.epoch,
            committee.members().len(),
            mine,
        ))
    }

    /// Whether this keeper should drive `job` now: always when alone; in a
    /// committee, the leader at once and member r after r silent periods.
    pub fn turn(&self, job: &Pubkey) -> bool {
        match self.my_rank(job) {
            None => self.membership.is_none(),
            Some(rank) => {
                leader::my_turn(rank, self.quiet_for(job), self.ctx.cfg.committee.takeover())
            }
        }
    }

    /// A new miner's trial is run by one member (the leader for that miner).
    pub fn trial_turn(&self, miner: &Pubkey) -> bool {
        match self.my_rank(miner) {
            None => self.membership.is_none(),
            Some(rank) => leader::my_turn(
                rank,
                self.quiet_for(miner),
                self.ctx.cfg.committee.takeover() * 4,
            ),
        }
    }

    /// Hands a client's input to every other member at once (so any of them
    /// can lead or take over the job), retrying a silent one a few times.
    pub async fn share_input(&self, share: InputShare) {
        let Some(member) = &self.membership else {
            return;
        };
        let share = Arc::new(share);
        let mut sends = tokio::task::JoinSet::new();
        for (node, url) in member.peers.clone() {
            let (client, share) = (member.client.clone(), share.clone());
            sends.spawn(async move {
                let mut delay = Duration::from_millis(200);
                for attempt in 1..=3 {
                    match client.share_input(&url, &share).await {
                        Ok(()) => return,
                        Err(e) if attempt == 3 => tracing::info!(peer = %node, job = %share.job, error = %e, "could not share a job's input"),
                        Err(_) => {
                            tokio::time::sleep(delay).await;
                            delay *= 2;
                        }
                    }
                }
            });
        }
        while sends.join_next().await.is_some() {}
    }

    /// Stores an input another member shares, once it matches the job.
    pub async fn receive_input(&self, share: InputShare) -> Result<(), Refusal> {
        if share.input.len() > self.ctx.cfg.max_input_bytes {
            return Err(Refusal::NotNeeded(
                "the input is over this keeper's size limit".into(),
            ));
        }
        let job = self
            .ctx
            .gateway
            .job(&share.job)
            .await
            .map_err(|e| Refusal::Unavailable(e.to_string()))?;
        let job = job.ok_or_else(|| Refusal::NotNeeded("no such job on chain".into()))?;
        self.keep_input(&share.job, &job, &share.input, share.realtime)
    }

    /// Creates the job's record from a member's input if this keeper has none.
    fn keep_input(
        &self,
        key: &Pubkey,
        job: &Job,
        input: &str,
        realtime: bool,
    ) -> Result<(), Refusal> {
        let hash: [u8; 32] = sha2::Digest::finalize(sha2::Digest::chain_update(
            sha2::Sha256::default(),
            input.as_bytes(),
        ))
        .into();
        if hash != job.input_hash {
            return Err(Refusal::InputMismatch);
        }
        crate::core::validation::job_input(&crate::core::model_name(&job.model), input)
            .map_err(|e| Refusal::BadJobInput(e.to_string()))?;
        let stored = self
            .ctx
            .store
            .get(key)
            .map_err(|e| Refusal::Unavailable(e.to_string()))?;
        if stored.is_none() {
            let rec = JobRecord::new(*key, job, input.to_string(), realtime, wall_secs());
            self.ctx
                .store
                .put(&rec)
                .map_err(|e| Refusal::Unavailable(e.to_string()))?;
            self.touch(key);
            let _ = self.queue.try_send(*key);
        }
        Ok(())
    }

    /// Checks a peer request's signature, clock, nonce, and that its key
    /// belongs to the committee in force (re-read once if unknown, so a
    /// fresh rotation is seen).
    pub async fn authenticate(
        &self,
        headers: &HeaderMap,
        path: &str,
        body: &[u8],
    ) -> Result<Pubkey, AuthError> {
        let member = self
            .membership
            .as_ref()
            .ok_or_else(|| AuthError::NotAMember("this keeper is not in a committee".into()))?;
        let parsed = PeerHeaders::parse(|name| headers.get(name).and_then(|v| v.to_str().ok()))?;
        let known = |key: &Pubkey| {
            self.ctx
                .view()
                .committee()
                .is_some_and(|c| c.index_of_key(key).is_some())
        };
        if !known(&parsed.key) {
            if let Ok(committee) = self.ctx.gateway.committee().await {
                self.ctx.publish_committee(committee);
            }
        }
        member.auth.verify(&parsed, path, body, wall_secs(), known)
    }

    /// A member's answer to a co-sign request: its signature over the
    /// message it rebuilds from the claim, once its own checks pass.
    pub async fn cosign(&self, request: CosignRequest) -> Result<MemberSignature, Refusal> {
        let member = self.membership.as_ref().ok_or(Refusal::NotAMember)?;
        let committee = self
            .ctx
            .gateway
            .committee()
            .await
            .map_err(|e| Refusal::Unavailable(e.to_string()))?;
        if request.epoch != committee.epoch {
            return Err(Refusal::WrongEpoch {
                claimed: request.epoch,
                current: committee.epoch,
            });
        }
        if committee.index_of_key(&member.key.pubkey()).is_none() {
            return Err(Refusal::NotAMember);
        }
        // A miner may not co-sign its own job's outcome (only a node that is
        // both miner and validator meets this).
        if request.claim.completing_miner() == Some(member.node) {
            return Err(Refusal::OwnOutcome);
        }
        let instance = self.instance(&request.claim).await?;
        let message = request
            .claim
            .message(committee.epoch, instance)
            .ok_or_else(|| Refusal::NotNeeded("nothing to sign".into()))?;
        self.touch(&request.claim.subject());
        let kind = request.claim.kind();
        let verdict = if self.ctx.cfg.committee.dishonest {
            Ok(())
        } else {
            self.review(&request.claim).await
        };
        let label = if verdict.is_ok() { "signed" } else { "refused" };
        self.ctx
            .metrics
            .cosign_total
            .with_label_values(&[kind, label])
            .inc();
        if let Err(why) = &verdict {
            self.ctx
                .metrics
                .cosign_refusals_total
                .with_label_values(&[why.code()])
                .inc();
        }
        if let Err(why) = &verdict {
            tracing::info!(kind, subject = %request.claim.subject(), reason = %why, "refused to co-sign");
        }
        verdict.map(|()| sign(&member.key, &message))
    }

    /// The instance the claim's message names, from this keeper's own read
    /// of the chain: the job's `created_slot`, or the miner's `registered_at`.
    async fn instance(&self, claim: &Claim) -> Result<u64, Refusal> {
        let unavailable = |e: crate::KeeperError| Refusal::Unavailable(e.to_string());
        let subject = claim.subject();
        if claim.is_about_a_node() {
            let node = self
                .ctx
                .gateway
                .node(&subject)
                .await
                .map_err(unavailable)?
                .ok_or_else(|| Refusal::NotNeeded("no such node".into()))?;
            Ok(Claim::instance_of_node(&node))
        } else {
            let job = self
                .ctx
                .gateway
                .job(&subject)
                .await
                .map_err(unavailable)?
                .ok_or_else(|| Refusal::NotNeeded("no such job".into()))?;
            Ok(Claim::instance_of_job(&job))
        }
    }

    async fn review(&self, claim: &Claim) -> Result<(), Refusal> {
        let unavailable = |e: crate::KeeperError| Refusal::Unavailable(e.to_string());
        let now = self.ctx.gateway.now().await.map_err(unavailable)?;
        let params = self
            .ctx
            .view()
            .params()
            .ok_or_else(|| Refusal::Unavailable("no chain view yet".into()))?;
        match claim {
            Claim::Job {
                job: key,
                intent,
                evidence,
            } => {
                let job = self
                    .ctx
                    .gateway
                    .job(key)
                    .await
                    .map_err(unavailable)?
                    .ok_or_else(|| Refusal::NotNeeded("no such job".into()))?;
                let rec = self
                    .ctx
                    .store
                    .get(key)
                    .map_err(|e| Refusal::Unavailable(e.to_string()))?;
                if let (None, Some(input)) = (&rec, &evidence.input) {
                    self.keep_input(key, &job, input, false)?;
                }
                let snapshot = self.ctx.snapshot();
                let miner_key = match intent {
                    crate::core::lifecycle::Intent::Assign { miner, .. }
                    | crate::core::lifecycle::Intent::Settle { miner, .. }
                    | crate::core::lifecycle::Intent::Complete { miner, .. }
                    | crate::core::lifecycle::Intent::Fail { miner, .. } => Some(*miner),
                    crate::core::lifecycle::Intent::Expire => None,
                };
                let view = JobView {
                    key,
                    job: &job,
                    miner: miner_key.and_then(|m| snapshot.get(&m)),
                    weights: &self.ctx.cfg.routing,
                    realtime: rec.as_ref().is_some_and(|r| r.realtime),
                    input: rec.as_ref().map(|r| r.input.as_str()),
                    sla_ms: self
                        .ctx
                        .cfg
                        .budget(
                            &crate::core::model_name(&job.model),
                            rec.as_ref()
                                .map(|r| r.input.as_str())
                                .or(evidence.input.as_deref()),
                        )
                        .sla_ms,
                    now,
                    sent_ttl_secs: params.sent_ttl_secs,
                    allocated_ttl_secs: params.allocated_ttl_secs,
                    list_price_bps: self.ctx.cfg.price_bps,
                    miner_under_dispute: miner_key.is_some_and(|m| {
                        crate::core::disputes::under_dispute(&self.ctx.view().chain.disputes, &m)
                    }),
                };
                let follow_up = review_job(intent, evidence, &view)?;
                let input = evidence.input.clone().or_else(|| rec.map(|r| r.input));
                let miner = miner_key.unwrap_or_default();
                let model = crate::core::model_name(&job.model);
                match follow_up {
                    FollowUp::None => {}
                    FollowUp::RerunMustMatch { expected } => {
                        let claimed = claimed_answer(evidence, &expected)?;
                        let seed = Pubkey::new_from_array(claimed.sampled_as.0);
                        let mine = self
                            .miners
                            .rerun(key, &job, input.as_deref(), &miner, &seed)
                            .await?;
                        compare_answers(&model, claimed.into(), mine.view())
                            .map_err(Refusal::RecheckMismatch)?;
                    }
                    FollowUp::RerunMustDiffer { claimed } => {
                        let claimed = claimed_answer(evidence, &claimed)?;
                        let seed = Pubkey::new_from_array(claimed.sampled_as.0);
                        let mine = self
                            .miners
                            .rerun(key, &job, input.as_deref(), &miner, &seed)
                            .await?;
                        if compare_answers(&model, claimed.into(), mine.view()).is_ok() {
                            return Err(Refusal::RerunDisagrees(
                                "my rerun matches the miner's output".into(),
                            ));
                        }
                    }
                    FollowUp::MinerMustFail => {
                        let input = input
                            .ok_or_else(|| Refusal::CannotRerun("no input for this job".into()))?;
                        let rec = JobRecord::new(*key, &job, input, false, wall_secs());
                        if let Ok(answer) = self.miners.call(&rec, &miner, None).await {
                            return Err(Refusal::MinerAnswered(answer.timing.response_ms));
                        }
                    }
                }
                // Keep the answer this keeper signed for, to serve the client.
                if let (
                    crate::core::lifecycle::Intent::Settle { report, .. }
                    | crate::core::lifecycle::Intent::Complete { report, .. },
                    Some(response),
                ) = (intent, &evidence.response)
                {
                    if let Ok(Some(mut rec)) = self.ctx.store.get(key) {
                        rec.output = Some(VerifiedOutput {
                            miner,
                            output: response.output.clone(),
                            report: *report,
                            receipt: Some(response.receipt()),
                        });
                        let _ = self.ctx.store.put(&rec);
                    }
                }
                Ok(())
            }
            Claim::Trial {
                miner,
                passed,
                trial,
                response,
            } => {
                let node = self
                    .ctx
                    .gateway
                    .node(miner)
                    .await
                    .map_err(unavailable)?
                    .ok_or_else(|| Refusal::NotNeeded("no such node".into()))?;
                let reference = self
                    .miners
                    .reference_hash(verdict_models::TEST_PROJECTION_ID, TRIAL_INPUT)
                    .ok_or_else(|| Refusal::CannotRerun("no local reference model".into()))?;
                let intent = TrialIntent {
                    miner: *miner,
                    passed: *passed,
                    trial: *trial,
                };
                review_trial(
                    &intent,
                    response.as_ref(),
                    &node,
                    &trial_job_id(miner, node.reputation.trial_failures),
                    &reference,
                    now,
                )
            }
            Claim::ValidatorTimeout { validator, .. } => {
                let member = self.membership.as_ref().ok_or(Refusal::NotAMember)?;
                match member.peers.get(validator) {
                    Some(url) if member.client.reachable(url, Duration::from_secs(1)).await => {
                        Err(Refusal::ValidatorReachable)
                    }
                    _ => Ok(()),
                }
            }
        }
    }

    /// The output of a job another member finished, fetched from the members
    /// and accepted only if it hashes to the on-chain output hash. The chain
    /// can show the job solved a moment before the member that solved it has
    /// recorded the output it serves, so the members are asked a few times
    /// before the caller is told nobody has it.
    pub async fn output_from_peers(&self, key: &Pubkey, job: &Job) -> Option<VerifiedOutput> {
        let member = self.membership.as_ref()?;
        // None when the committee has no other member to ask.
        let peers = KeeperClient::new(member.peers.values(), PEER_OUTPUT_TIMEOUT).ok()?;
        for attempt in 0..PEER_OUTPUT_TRIES {
            if attempt > 0 {
                tokio::time::sleep(PEER_OUTPUT_RETRY).await;
            }
            if let Some(output) = Self::output_from(&peers, key, job).await {
                return Some(output);
            }
        }
        None
    }

    /// One pass over the members' APIs for a job's verified output.
    async fn output_from(peers: &KeeperClient, key: &Pubkey, job: &Job) -> Option<VerifiedOutput> {
        for url in peers.urls() {
            let Ok(view) = peers.job_at(url, key).await else {
                continue;
            };
            let (Some(output), Some(miner)) =
                (view.output, view.miner.and_then(|m| m.parse().ok()))
            else {
                continue;
            };
            if output.hash().0 == job.output_hash {
                let report = CompletionReport {
                    output_hash: job.output_hash,
                    response_ms: view.response_ms.unwrap_or(0),
                    load_ms: 0,
                    inference_ms: 0,
                    success: true,
                    sla_met: true,
                    latency_score_bps: 0,
                };
                // The member's receipt only if the miner's signature holds.
                let job_id = verdict_wire::miner::JobId(key.to_bytes());
                let hash = verdict_wire::miner::Digest32(job.output_hash);
                let receipt = view.receipt.filter(|r| r.verify(&job_id, &hash).is_ok());
                return Some(VerifiedOutput {
                    miner,
                    output,
                    report,
                    receipt,
                });
            }
        }
        None
    }

    /// Posts a −5 report for members that missed a co-sign deadline, at
    /// most one per member per configured interval.
    async fn report_missed(&self) {
        let drained: Vec<crate::attester::Missed> = {
            let mut rx = self.missed.lock().unwrap();
            std::iter::from_fn(|| rx.try_recv().ok()).collect()
        };
        for missed in drained {
            if !self
                .reported
                .lock()
                .unwrap()
                .take(missed.validator, Instant::now())
            {
                continue;
            }
            match self.poster.post_timeout_report(&missed).await {
                Ok(posted) => {
                    tracing::info!(validator = %missed.validator, job = %missed.job, result = posted.label(), "reported a missed deadline")
                }
                Err(e) => {
                    tracing::info!(validator = %missed.validator, error = %e, "timeout report not posted")
                }
            }
        }
    }

    /// Keeps the committee draw moving: enters this validator in every
    /// round it is eligible for, and cranks whichever permissionless step is
    /// due (request, seed, sweep). Cranks race harmlessly: the leader for
    /// the draw goes first and the others only if it stays silent.
    async fn crank_rotation(&self, view: &View) {
        let (Some(committee), Some(params)) = (view.committee(), view.params()) else {
            return;
        };
        let (params, now) = (&params, view.now);
        let Some(member) = &self.membership else {
            return;
        };
        if let Some((_, node)) = view.chain.nodes.iter().find(|(k, _)| *k == member.node) {
            if draw::should_enter(committee, node, params) {
                let ix = ix::enter_committee_draw(&member.key.pubkey(), &member.node);
                match self
                    .ctx
                    .gateway
                    .send_signed(&[ix], member.key.clone())
                    .await
                {
                    Ok(_) => {
                        tracing::info!(round = committee.draw.round, "entered the committee draw")
                    }
                    Err(e) => tracing::debug!(error = %e, "draw entry not landed"),
                }
            }
        }
        let slot = match self.ctx.gateway.slot().await {
            Ok(slot) => slot,
            Err(e) => return tracing::debug!(error = %e, "no slot for the committee draw"),
        };
        let step = draw::next_step(committee, params, now, slot, &view.chain.nodes);
        let subject = verdict_sdk::pda::committee();
        let instruction = match step {
            DrawStep::Wait(_) => {
                // Restart the failover clock while nothing is due.
                self.touch(&subject);
                return;
            }
            _ if !self.turn(&subject) => return,
            DrawStep::Request => ix::request_committee_draw(),
            DrawStep::Seed => ix::seed_committee_draw(),
            DrawStep::Sweep(ref batch) => ix::sweep_committee_draw(batch),
        };
        match self.ctx.gateway.send(&[instruction]).await {
            Ok(_) => {
                self.touch(&subject);
                tracing::info!(
                    round = committee.draw.round,
                    ?step,
                    "cranked the committee draw"
                );
            }
            Err(e) => {
                tracing::debug!(error = %e, "committee draw step not landed (another keeper may have cranked it)")
            }
        }
    }
}

/// The miner's signed answer a rerun follow-up compares with: the claim's
/// evidence (the review checked it hashes to `output_hash`).
fn claimed_answer<'a>(
    evidence: &'a crate::core::cosign::Evidence,
    output_hash: &[u8; 32],
) -> Result<&'a verdict_wire::miner::InferResponse, Refusal> {
    evidence
        .response
        .as_ref()
        .filter(|r| &r.output_hash.0 == output_hash)
        .ok_or_else(|| Refusal::MissingEvidence("the miner's signed response".into()))
}
