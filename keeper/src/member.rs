//! A keeper as one member of a committee of keepers: whose turn a job is
//! (leader, then failover by rank), sharing inputs with the other members,
//! authenticating their requests, reviewing and co-signing their claims
//! (re-running what it can), reporting members that miss deadlines, and
//! cranking the committee rotation.

use std::sync::Arc;
use std::time::{Duration, Instant};

use anchor_lang::prelude::Pubkey;
use axum::http::HeaderMap;
use solana_sdk::signer::Signer;
use verdict::attestation::CompletionReport;
use verdict::state::{model_id, Job, ProtocolParams, RiskLevel};
use verdict_sdk::attest::{sign, MemberSignature};
use verdict_sdk::draw::{self, DrawStep};
use verdict_sdk::instructions as ix;

use crate::clock::wall_secs;
use crate::core::cosign::{
    review_job, review_trial, trial_job_id, Claim, CosignRequest, FollowUp, JobView, Refusal,
    TRIAL_INPUT,
};
use crate::core::leader;
use crate::core::lifecycle::TrialIntent;
use crate::core::routing::RouteRequest;
use crate::core::validation::{compare_answers, Recomputed};
use crate::engine::Engine;
use crate::gateway::ChainView;
use crate::peer::auth::{AuthError, PeerHeaders};
use crate::peer::InputShare;
use crate::store::{JobRecord, VerifiedOutput};

impl Engine {
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
        let member = self.member.as_ref()?;
        let view = self.view.read().unwrap();
        let committee = view.committee.as_ref()?;
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
            None => self.member.is_none(),
            Some(rank) => leader::my_turn(rank, self.quiet_for(job), self.cfg.committee.takeover()),
        }
    }

    /// A new miner's trial is run by one member (the leader for that miner).
    pub fn trial_turn(&self, miner: &Pubkey) -> bool {
        match self.my_rank(miner) {
            None => self.member.is_none(),
            Some(rank) => leader::my_turn(
                rank,
                self.quiet_for(miner),
                self.cfg.committee.takeover() * 4,
            ),
        }
    }

    /// Hands a client's input to every other member at once (so any of them
    /// can lead or take over the job), retrying a silent one a few times.
    pub async fn share_input(&self, share: InputShare) {
        let Some(member) = &self.member else { return };
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
        if share.input.len() > self.cfg.max_input_bytes {
            return Err(Refusal::NotNeeded(
                "the input is over this keeper's size limit".into(),
            ));
        }
        let job = self
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
            .store
            .get(key)
            .map_err(|e| Refusal::Unavailable(e.to_string()))?;
        if stored.is_none() {
            let rec = JobRecord::new(*key, job, input.to_string(), realtime, wall_secs());
            self.store
                .put(&rec)
                .map_err(|e| Refusal::Unavailable(e.to_string()))?;
            self.touch(key);
            let _ = self.dispatch_tx.try_send(*key);
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
            .member
            .as_ref()
            .ok_or_else(|| AuthError::NotAMember("this keeper is not in a committee".into()))?;
        let parsed = PeerHeaders::parse(|name| headers.get(name).and_then(|v| v.to_str().ok()))?;
        let known = |key: &Pubkey| {
            self.view
                .read()
                .unwrap()
                .committee
                .as_ref()
                .is_some_and(|c| c.index_of_key(key).is_some())
        };
        if !known(&parsed.key) {
            if let Ok(committee) = self.gateway.committee().await {
                self.view.write().unwrap().committee = Some(committee);
            }
        }
        member.auth.verify(&parsed, path, body, wall_secs(), known)
    }

    /// A member's answer to a co-sign request: its signature over the
    /// message it rebuilds from the claim, once its own checks pass.
    pub async fn cosign(&self, request: CosignRequest) -> Result<MemberSignature, Refusal> {
        let member = self.member.as_ref().ok_or(Refusal::NotAMember)?;
        let committee = self
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
        let verdict = if self.cfg.committee.dishonest {
            Ok(())
        } else {
            self.review(&request.claim).await
        };
        let label = if verdict.is_ok() { "signed" } else { "refused" };
        self.metrics
            .cosign_total
            .with_label_values(&[kind, label])
            .inc();
        if let Err(why) = &verdict {
            self.metrics
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
                .gateway
                .node(&subject)
                .await
                .map_err(unavailable)?
                .ok_or_else(|| Refusal::NotNeeded("no such node".into()))?;
            Ok(Claim::instance_of_node(&node))
        } else {
            let job = self
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
        let now = self.gateway.now().await.map_err(unavailable)?;
        let params = self
            .params()
            .ok_or_else(|| Refusal::Unavailable("no chain view yet".into()))?;
        match claim {
            Claim::Job {
                job: key,
                intent,
                evidence,
            } => {
                let job = self
                    .gateway
                    .job(key)
                    .await
                    .map_err(unavailable)?
                    .ok_or_else(|| Refusal::NotNeeded("no such job".into()))?;
                let rec = self
                    .store
                    .get(key)
                    .map_err(|e| Refusal::Unavailable(e.to_string()))?;
                if let (None, Some(input)) = (&rec, &evidence.input) {
                    self.keep_input(key, &job, input, false)?;
                }
                let snapshot = self.snapshot();
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
                    weights: &self.cfg.routing,
                    realtime: rec.as_ref().is_some_and(|r| r.realtime),
                    input: rec.as_ref().map(|r| r.input.as_str()),
                    sla_ms: self
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
                            .rerun(key, &job, input.as_deref(), &miner, &seed)
                            .await?;
                        compare_answers(&model, claimed.into(), mine.view())
                            .map_err(Refusal::RecheckMismatch)?;
                    }
                    FollowUp::RerunMustDiffer { claimed } => {
                        let claimed = claimed_answer(evidence, &claimed)?;
                        let seed = Pubkey::new_from_array(claimed.sampled_as.0);
                        let mine = self
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
                        if let Ok(answer) = self.call(&rec, &miner, None).await {
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
                    if let Ok(Some(mut rec)) = self.store.get(key) {
                        rec.output = Some(VerifiedOutput {
                            miner,
                            output: response.output.clone(),
                            report: *report,
                            receipt: Some(response.receipt()),
                        });
                        let _ = self.store.put(&rec);
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
                    .gateway
                    .node(miner)
                    .await
                    .map_err(unavailable)?
                    .ok_or_else(|| Refusal::NotNeeded("no such node".into()))?;
                let reference = self
                    .reference_hash(miner::models::TEST_PROJECTION_ID, TRIAL_INPUT)
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
                let member = self.member.as_ref().ok_or(Refusal::NotAMember)?;
                match member.peers.get(validator) {
                    Some(url) if member.client.reachable(url, Duration::from_secs(1)).await => {
                        Err(Refusal::ValidatorReachable)
                    }
                    _ => Ok(()),
                }
            }
        }
    }

    fn params(&self) -> Option<ProtocolParams> {
        self.view.read().unwrap().params
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
        let seed = miner::api::MinerPubkey(sample_as.to_bytes());
        if let Some(mine) = self.reference_answer(&model, input, key, &seed) {
            return Ok(mine);
        }
        let now = self.gateway.now().await.unwrap_or(0);
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
        let snapshot = self.snapshot();
        let rec = JobRecord::new(*key, job, input.to_string(), false, wall_secs());
        let mut seen: Vec<Recomputed> = Vec::new();
        let candidates: Vec<Pubkey> = snapshot
            .route(&request, &self.cfg.routing, 3)
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
    ) -> Option<crate::engine::Answer> {
        self.call(rec, &node?, Some(sample_as)).await.ok()
    }

    /// The output of a job another member finished, fetched from the members
    /// and accepted only if it hashes to the on-chain output hash.
    pub async fn output_from_peers(&self, key: &Pubkey, job: &Job) -> Option<VerifiedOutput> {
        let member = self.member.as_ref()?;
        let http = reqwest::Client::builder()
            .timeout(Duration::from_secs(2))
            .no_proxy()
            .build()
            .ok()?;
        for url in member.peers.values() {
            let Ok(response) = http.get(format!("{url}/v1/jobs/{key}")).send().await else {
                continue;
            };
            let Ok(view) = response.json::<verdict_wire::keeper::JobView>().await else {
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
                let job_id = miner::api::JobId(key.to_bytes());
                let hash = miner::api::Digest32(job.output_hash);
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
    pub(crate) async fn report_missed(&self) {
        let drained: Vec<crate::attester::Missed> = {
            let mut rx = self.missed.lock().unwrap();
            std::iter::from_fn(|| rx.try_recv().ok()).collect()
        };
        let interval = Duration::from_secs(self.cfg.committee.timeout_report_interval_secs);
        for missed in drained {
            {
                let mut reported = self.reported.lock().unwrap();
                if reported
                    .get(&missed.validator)
                    .is_some_and(|t| t.elapsed() < interval)
                {
                    continue;
                }
                reported.insert(missed.validator, Instant::now());
            }
            match self.poster().post_timeout_report(&missed).await {
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
    pub(crate) async fn crank_rotation(&self, view: &ChainView, params: &ProtocolParams, now: i64) {
        let Some(committee) = &view.committee else {
            return;
        };
        let Some(member) = &self.member else { return };
        if let Some((_, node)) = view.nodes.iter().find(|(k, _)| *k == member.node) {
            if draw::should_enter(committee, node, params) {
                let ix = ix::enter_committee_draw(&member.key.pubkey(), &member.node);
                match self.gateway.send_signed(&[ix], member.key.clone()).await {
                    Ok(_) => {
                        tracing::info!(round = committee.draw.round, "entered the committee draw")
                    }
                    Err(e) => tracing::debug!(error = %e, "draw entry not landed"),
                }
            }
        }
        let slot = match self.gateway.slot().await {
            Ok(slot) => slot,
            Err(e) => return tracing::debug!(error = %e, "no slot for the committee draw"),
        };
        let step = draw::next_step(committee, params, now, slot, &view.nodes);
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
        match self.gateway.send(&[instruction]).await {
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
) -> Result<&'a miner::api::InferResponse, Refusal> {
    evidence
        .response
        .as_ref()
        .filter(|r| &r.output_hash.0 == output_hash)
        .ok_or_else(|| Refusal::MissingEvidence("the miner's signed response".into()))
}
