//! The poster: turns an intent into an attested transaction and sends it,
//! idempotently. Before every send it re-reads the job and asks the pure
//! lifecycle rule whether the chain still needs it, so a send whose
//! confirmation was lost (or a restart after a crash) never posts twice.
//! Attested outcomes go through one queue, sent one at a time in arrival
//! order; the permissionless cranks the planner finds due go out directly.

use std::sync::Arc;
use std::time::Duration;

use anchor_lang::prelude::Pubkey;
use solana_sdk::instruction::Instruction;
use tokio::sync::{mpsc, oneshot};
use tokio_util::sync::CancellationToken;
use verdict::state::{Committee, FailReason, Job, JobStatus, Offense};
use verdict_chain::ChainError;
use verdict_sdk::{attest, instructions as ix, transaction};
use verdict_wire::miner::InferResponse;

use crate::attester::{AttestRequest, Attester, Missed};
use crate::core::cosign::{Claim, Evidence};
use crate::core::cranks::Crank;
use crate::core::lifecycle::{applicability, Applicability, Intent, TrialIntent};
use crate::error::KeeperError;
use crate::gateway::Gateway;
use crate::metrics::Metrics;

/// How a post ended.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Posted {
    Landed(String),
    AlreadyApplied,
    Superseded,
}

impl Posted {
    pub fn label(&self) -> &'static str {
        match self {
            Posted::Landed(_) => "landed",
            Posted::AlreadyApplied => "already_applied",
            Posted::Superseded => "superseded",
        }
    }
}

#[derive(Clone)]
pub struct Poster {
    pub gateway: Arc<Gateway>,
    pub attester: Arc<dyn Attester>,
    pub metrics: Arc<Metrics>,
    pub attempts: u32,
}

/// A request to the poster task, answered on `reply`.
pub struct PostRequest {
    pub job: Pubkey,
    pub intent: Intent,
    pub evidence: Evidence,
    pub reply: oneshot::Sender<Result<Posted, KeeperError>>,
}

/// The way into the poster task's queue.
#[derive(Clone)]
pub struct PostQueue(mpsc::Sender<PostRequest>);

impl PostQueue {
    /// The queue, and its receiving end for [`Poster::run`].
    pub fn new() -> (Self, mpsc::Receiver<PostRequest>) {
        let (tx, rx) = mpsc::channel(1024);
        (PostQueue(tx), rx)
    }

    /// Posts `intent` for `job` and waits for how it ended.
    pub async fn post(
        &self,
        job: Pubkey,
        intent: Intent,
        evidence: Evidence,
    ) -> Result<Posted, KeeperError> {
        let (reply, rx) = oneshot::channel();
        self.0
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
}

impl Poster {
    /// Sends queued outcomes one at a time, in arrival order, until `cancel`.
    pub async fn run(self, mut queued: mpsc::Receiver<PostRequest>, cancel: CancellationToken) {
        loop {
            let request = tokio::select! {
                _ = cancel.cancelled() => return,
                r = queued.recv() => match r { Some(r) => r, None => return },
            };
            let result = tokio::select! {
                _ = cancel.cancelled() => return,
                r = self.post(&request.job, &request.intent, &request.evidence) => r,
            };
            let _ = request.reply.send(result);
        }
    }

    /// Sends one permissionless crank (`job`: the job it names, as read).
    /// A refusal (another keeper was first) is only logged.
    pub async fn crank(&self, crank: &Crank, job: Option<&Job>) {
        let instruction = match crank {
            Crank::ClaimPayout { job: key } => {
                job.map(|j| ix::claim_payout(key, &j.miner, &j.refund_account))
            }
            Crank::CloseJob { job: key } => job.map(|j| ix::close_job(key, j)),
            Crank::Downtime { node, epoch } => Some(ix::slash_node(
                &self.gateway.payer(),
                None,
                node,
                Offense::Downtime,
                verdict::instructions::slash_node::downtime_evidence(*epoch),
            )),
        };
        let Some(instruction) = instruction else {
            return;
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
    async fn instructions(
        &self,
        job_key: &Pubkey,
        intent: &Intent,
        evidence: &Evidence,
    ) -> Result<Vec<Instruction>, KeeperError> {
        let job = self
            .gateway
            .job(job_key)
            .await?
            .ok_or_else(|| KeeperError::Post {
                kind: intent.kind(),
                job: job_key.to_string(),
                reason: "job account not found".into(),
            })?;
        if let Intent::Expire = intent {
            let miner = (job.status() == JobStatus::Allocated).then_some(job.miner);
            return Ok(vec![ix::expire_job(job_key, miner, &job.refund_account)]);
        }
        let committee = self.gateway.committee().await?;
        let instruction = match intent {
            Intent::Assign { miner, price, .. } => ix::assign_job(job_key, miner, *price),
            Intent::Settle {
                miner,
                price,
                report,
                ..
            } => ix::settle_job(job_key, miner, *price, *report),
            Intent::Complete { miner, report, .. } => ix::complete_job(job_key, miner, *report),
            Intent::Fail { miner, reason, .. } => ix::fail_job(
                job_key,
                miner,
                &job.refund_account,
                FailReason::from(*reason),
            ),
            Intent::Expire => unreachable!("handled above"),
        };
        let claim = Claim::Job {
            job: *job_key,
            intent: intent.clone(),
            evidence: evidence.clone(),
        };
        let attested = self
            .attested(
                &claim,
                Claim::instance_of_job(&job),
                &committee,
                instruction,
            )
            .await?;
        // An auctioned price goes on chain with the miner's signed bid,
        // which the program checks (a fail or completion carries no price).
        // Past a quorum of 3 a bid-priced settlement outgrows one packet:
        // the co-signers checked the bid, so their word alone prices it.
        let bid = match (&evidence.bid, intent) {
            (Some(bid), Intent::Assign { .. } | Intent::Settle { .. }) => bid,
            _ => return Ok(attested),
        };
        let priced = attest::with_bid(&signed_bid(bid), attested.clone());
        let fits = transaction::fits_in_packet(&priced);
        self.metrics
            .bid_priced_posts_total
            .with_label_values(&[if fits { "on_chain" } else { "too_large" }])
            .inc();
        if fits {
            return Ok(priced);
        }
        tracing::warn!(
            job = %job_key,
            quorum = committee.quorum,
            "a bid-priced transaction outgrows one packet: posted without the bid"
        );
        Ok(attested)
    }

    /// The instruction preceded by the committee's signatures over the
    /// claim's message; `instance` as [`Claim::message`] takes it, read here.
    async fn attested(
        &self,
        claim: &Claim,
        instance: u64,
        committee: &Committee,
        instruction: Instruction,
    ) -> Result<Vec<Instruction>, KeeperError> {
        let message = claim
            .message(committee.epoch, instance)
            .expect("claims that reach the attester have a message");
        let signatures = match self
            .attester
            .attest(
                AttestRequest {
                    message: &message,
                    claim,
                },
                committee,
            )
            .await
        {
            Ok(s) => s,
            Err(e) => {
                self.metrics.consensus_failed_total.inc();
                return Err(e.into());
            }
        };
        Ok(attest::attested(&signatures, &message, instruction))
    }

    async fn check(&self, job_key: &Pubkey, intent: &Intent) -> Result<Applicability, KeeperError> {
        let Some(job) = self.gateway.job(job_key).await? else {
            return Ok(Applicability::Superseded);
        };
        let config = self.gateway.config().await?;
        let now = self.gateway.now().await?;
        Ok(applicability(
            intent,
            &job,
            now,
            config.params.sent_ttl_secs,
            config.params.allocated_ttl_secs,
        ))
    }

    /// Posts `intent` for `job_key` unless the chain already shows it.
    pub async fn post(
        &self,
        job_key: &Pubkey,
        intent: &Intent,
        evidence: &Evidence,
    ) -> Result<Posted, KeeperError> {
        let kind = intent.kind();
        let mut backoff = Duration::from_millis(50);
        for attempt in 1..=self.attempts.max(1) {
            match self.check(job_key, intent).await {
                Ok(Applicability::Needed) => {}
                Ok(Applicability::AlreadyApplied) => {
                    return Ok(self.done(kind, Posted::AlreadyApplied))
                }
                Ok(Applicability::Superseded) => return Ok(self.done(kind, Posted::Superseded)),
                Err(e) if attempt < self.attempts => {
                    tracing::warn!(job = %job_key, kind, error = %e, "reading the job failed; retrying");
                    self.metrics
                        .retries_total
                        .with_label_values(&["chain_read"])
                        .inc();
                    tokio::time::sleep(backoff).await;
                    backoff = (backoff * 2).min(Duration::from_secs(2));
                    continue;
                }
                Err(e) => return Err(e),
            }
            let instructions = self.instructions(job_key, intent, evidence).await?;
            let sent = std::time::Instant::now();
            match self.gateway.send(&instructions).await {
                Ok(landed) => {
                    self.metrics
                        .post_seconds
                        .with_label_values(&[kind])
                        .observe(sent.elapsed().as_secs_f64());
                    if matches!(intent, Intent::Expire) {
                        // Anyone may crank an expiry: this keeper did.
                        self.metrics.cranks_total.with_label_values(&[kind]).inc();
                    } else {
                        self.metrics.consensus_reached_total.inc();
                    }
                    tracing::info!(job = %job_key, kind, signature = %landed.signature, "posted");
                    return Ok(self.done(kind, Posted::Landed(landed.signature.to_string())));
                }
                Err(ChainError::Program { failure, .. }) => {
                    // Refused: fine if the chain moved on (re-checked next
                    // round), an error if it still needs this very intent.
                    match self.check(job_key, intent).await? {
                        Applicability::AlreadyApplied => {
                            return Ok(self.done(kind, Posted::AlreadyApplied))
                        }
                        Applicability::Superseded => return Ok(self.done(kind, Posted::Superseded)),
                        Applicability::Needed => {
                            self.metrics.consensus_failed_total.inc();
                            self.metrics
                                .posts_total
                                .with_label_values(&[kind, "refused"])
                                .inc();
                            return Err(KeeperError::Post {
                                kind,
                                job: job_key.to_string(),
                                reason: failure.to_string(),
                            });
                        }
                    }
                }
                Err(e) => {
                    tracing::warn!(job = %job_key, kind, error = %e, attempt, "send failed; re-checking the chain before any resend");
                    self.metrics
                        .retries_total
                        .with_label_values(&["chain_send"])
                        .inc();
                    tokio::time::sleep(backoff).await;
                    backoff = (backoff * 2).min(Duration::from_secs(2));
                }
            }
        }
        // Last word: the chain may have applied a send whose answer was lost.
        match self.check(job_key, intent).await? {
            Applicability::AlreadyApplied => Ok(self.done(kind, Posted::AlreadyApplied)),
            Applicability::Superseded => Ok(self.done(kind, Posted::Superseded)),
            Applicability::Needed => {
                self.metrics
                    .posts_total
                    .with_label_values(&[kind, "gave_up"])
                    .inc();
                Err(KeeperError::Post {
                    kind,
                    job: job_key.to_string(),
                    reason: "no confirmation after every attempt".into(),
                })
            }
        }
    }

    fn done(&self, kind: &'static str, posted: Posted) -> Posted {
        self.metrics
            .posts_total
            .with_label_values(&[kind, posted.label()])
            .inc();
        posted
    }

    /// Posts a trial verdict for a new miner unless it is no longer due.
    pub async fn post_trial(
        &self,
        trial: &TrialIntent,
        response: Option<&InferResponse>,
    ) -> Result<Posted, KeeperError> {
        let mut backoff = Duration::from_millis(50);
        for _ in 0..self.attempts.max(1) {
            let node = self
                .gateway
                .node(&trial.miner)
                .await?
                .ok_or_else(|| KeeperError::Post {
                    kind: "trial",
                    job: trial.miner.to_string(),
                    reason: "node not found".into(),
                })?;
            match trial.applicability(&node, self.gateway.now().await?) {
                Applicability::Needed => {}
                Applicability::AlreadyApplied => {
                    return Ok(self.done("trial", Posted::AlreadyApplied))
                }
                Applicability::Superseded => return Ok(self.done("trial", Posted::Superseded)),
            }
            let committee = self.gateway.committee().await?;
            let claim = Claim::Trial {
                miner: trial.miner,
                passed: trial.passed,
                trial: trial.trial,
                response: response.cloned(),
            };
            let instruction = ix::record_trial(&trial.miner, trial.passed);
            let ixs = self
                .attested(
                    &claim,
                    Claim::instance_of_node(&node),
                    &committee,
                    instruction,
                )
                .await?;
            match self.gateway.send(&ixs).await {
                Ok(landed) => {
                    self.metrics.consensus_reached_total.inc();
                    return Ok(self.done("trial", Posted::Landed(landed.signature.to_string())));
                }
                Err(ChainError::Program { failure, .. }) => {
                    self.metrics.consensus_failed_total.inc();
                    return Err(KeeperError::Post {
                        kind: "trial",
                        job: trial.miner.to_string(),
                        reason: failure.to_string(),
                    });
                }
                Err(_) => {
                    self.metrics
                        .retries_total
                        .with_label_values(&["chain_send"])
                        .inc();
                    tokio::time::sleep(backoff).await;
                    backoff = (backoff * 2).min(Duration::from_secs(2));
                }
            }
        }
        Err(KeeperError::Post {
            kind: "trial",
            job: trial.miner.to_string(),
            reason: "no confirmation".into(),
        })
    }

    /// Reports a member that missed its co-sign deadline on a job (−5),
    /// once: the program refuses a second report for the same job.
    pub async fn post_timeout_report(&self, missed: &Missed) -> Result<Posted, KeeperError> {
        let committee = self.gateway.committee().await?;
        if !committee.is_member(&missed.validator) {
            return Ok(self.done("validator_timeout", Posted::Superseded));
        }
        if self
            .gateway
            .exists(&verdict_sdk::pda::timeout_report(
                &missed.validator,
                &missed.job,
            ))
            .await?
        {
            return Ok(self.done("validator_timeout", Posted::AlreadyApplied));
        }
        // The report names the job instance; a job already closed cannot be reported.
        let Some(job) = self.gateway.job(&missed.job).await? else {
            return Ok(self.done("validator_timeout", Posted::Superseded));
        };
        let claim = Claim::ValidatorTimeout {
            validator: missed.validator,
            job: missed.job,
        };
        let instruction =
            ix::report_validator_timeout(&self.gateway.payer(), &missed.validator, &missed.job);
        let ixs = self
            .attested(
                &claim,
                Claim::instance_of_job(&job),
                &committee,
                instruction,
            )
            .await?;
        match self.gateway.send(&ixs).await {
            Ok(landed) => Ok(self.done(
                "validator_timeout",
                Posted::Landed(landed.signature.to_string()),
            )),
            Err(ChainError::Program { failure, .. }) => Err(KeeperError::Post {
                kind: "validator_timeout",
                job: missed.job.to_string(),
                reason: failure.to_string(),
            }),
            Err(e) => Err(e.into()),
        }
    }
}

/// A wire bid as the program checks it.
fn signed_bid(bid: &verdict_wire::bid::Bid) -> attest::SignedBid {
    attest::SignedBid {
        terms: bid.terms(),
        signing_key: Pubkey::new_from_array(bid.miner_pubkey.0),
        signature: bid.signature.0,
    }
}
