//! The dispatcher: drives each job from intake to a final on-chain state —
//! route, call the miner under the job's budget, validate (with a shadow
//! rerun for high risk), record the intended outcome, post it through the
//! poster — re-dispatching on a miss until the end-to-end deadline. One
//! driver task per job, bounded; a job is never driven twice at once.
//! Where an attempt goes is [`placement`]; how an answer is confirmed,
//! [`answer`].

mod answer;
mod placement;

use std::collections::{HashMap, HashSet};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use anchor_lang::prelude::Pubkey;
use tokio::sync::{mpsc, Semaphore};
use tokio::task::JoinSet;
use tokio_util::sync::CancellationToken;
use verdict::state::{Job, JobStatus, RiskLevel};
use verdict_wire::keeper::FailureCode;

use self::placement::Choice;
use crate::auctioneer::Auctioneer;
use crate::clock::wall_secs;
use crate::context::Context;
use crate::core::lifecycle::{sweep, Intent, Phase, Sweep};
use crate::core::validation::{self, AttemptFailure};
use crate::draw::DrawKey;
use crate::error::KeeperError;
use crate::member::CommitteeMember;
use crate::miners::Miners;
use crate::poster::{PostQueue, Posted};
use crate::store::{JobFailure, JobRecord, PostRecord};

/// A post the committee refused on its merits becomes `Ok(None)`: the
/// driver re-reads the chain and decides again. Other errors stop the driver.
fn refused_is_retry(posted: Result<Posted, KeeperError>) -> Result<Option<Posted>, KeeperError> {
    match posted {
        Ok(p) => Ok(Some(p)),
        Err(KeeperError::Attest(e)) if e.refused_on_merits() => Ok(None),
        Err(e) => Err(e),
    }
}

/// Jobs being driven now: the watcher leaves them alone, the dispatcher
/// does not start them twice.
#[derive(Clone, Default)]
pub struct InFlight(Arc<Mutex<HashSet<Pubkey>>>);

impl InFlight {
    pub fn contains(&self, job: &Pubkey) -> bool {
        self.0.lock().unwrap().contains(job)
    }

    pub fn keys(&self) -> HashSet<Pubkey> {
        self.0.lock().unwrap().clone()
    }

    fn start(&self, job: Pubkey) -> bool {
        self.0.lock().unwrap().insert(job)
    }

    fn end(&self, job: &Pubkey) {
        self.0.lock().unwrap().remove(job);
    }
}

/// How long a job every bidder is too full for waits before the next round.
const CAPACITY_WAIT: Duration = Duration::from_millis(250);

/// Whether a job's driver goes on after a step.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Next {
    /// Re-read the job and take the next step.
    Again,
    /// Final for the client.
    Finished,
}

/// The dispatcher and its own state.
pub struct Dispatcher {
    ctx: Context,
    miners: Arc<Miners>,
    auctioneer: Arc<Auctioneer>,
    committee: Arc<CommitteeMember>,
    /// This keeper's secret seeds (the miner draw).
    draws: DrawKey,
    poster: PostQueue,
    /// Jobs to drive; anyone may queue one (intake, the watcher, a peer).
    pub queue: mpsc::Sender<Pubkey>,
    pub in_flight: InFlight,
    /// Jobs this keeper dispatched from the fair-entry share that have not
    /// landed yet, and their miner: routing counts them with the miner's
    /// window jobs, so the share spreads between snapshots.
    reserved_in_flight: Mutex<HashMap<Pubkey, Pubkey>>,
}

impl Dispatcher {
    pub fn new(
        ctx: Context,
        miners: Arc<Miners>,
        auctioneer: Arc<Auctioneer>,
        committee: Arc<CommitteeMember>,
        draws: DrawKey,
        poster: PostQueue,
        queue: mpsc::Sender<Pubkey>,
    ) -> Self {
        Dispatcher {
            ctx,
            miners,
            auctioneer,
            committee,
            draws,
            poster,
            queue,
            in_flight: InFlight::default(),
            reserved_in_flight: Mutex::new(HashMap::new()),
        }
    }

    /// One driver task per queued job, at most `max_concurrent_jobs` at
    /// once; a job already being driven is not started twice.
    pub async fn run(
        self: Arc<Self>,
        mut queued: mpsc::Receiver<Pubkey>,
        cancel: CancellationToken,
    ) {
        let permits = Arc::new(Semaphore::new(self.ctx.cfg.max_concurrent_jobs));
        // Dropped with this task: a crash or shutdown ends every driver with it.
        let mut drivers = JoinSet::new();
        loop {
            let key = tokio::select! {
                _ = cancel.cancelled() => break,
                Some(_) = drivers.join_next(), if !drivers.is_empty() => continue,
                k = queued.recv() => match k { Some(k) => k, None => break },
            };
            if !self.in_flight.start(key) {
                continue;
            }
            let (me, permits, cancel) = (self.clone(), permits.clone(), cancel.clone());
            drivers.spawn(async move {
                let Ok(_permit) = permits.acquire_owned().await else { return };
                tokio::select! {
                    _ = cancel.cancelled() => {}
                    result = me.drive(key) => {
                        if let Err(e) = result {
                            tracing::warn!(job = %key, error = %e, "job driver stopped; the watcher resumes it");
                        }
                    }
                }
                me.in_flight.end(&key);
            });
        }
        drivers.shutdown().await;
    }

    /// Gives up on the jobs that outlived the keeper's mempool TTL and
    /// purges finished records past their retention.
    pub fn sweep_mempool(&self) -> Result<(), KeeperError> {
        let now = wall_secs();
        for mut rec in self.ctx.store.all()? {
            match sweep(rec.phase, rec.phase_since, now, &self.ctx.cfg.mempool) {
                Sweep::Keep => {}
                Sweep::GiveUp => {
                    self.finish_failed(&mut rec, FailureCode::MempoolTtl, "the job outlived the keeper's mempool TTL; the chain's TTL refunds the escrow")?;
                }
                Sweep::Purge => self.ctx.store.remove(&rec.job)?,
            }
        }
        Ok(())
    }

    /// Stores a client's input for its on-chain job and queues it.
    pub fn accept(&self, rec: JobRecord) -> Result<(), KeeperError> {
        self.ctx.store.put(&rec)?;
        self.committee.touch(&rec.job);
        if self.committee.is_member() {
            let committee = self.committee.clone();
            let share = crate::peer::InputShare {
                job: rec.job,
                input: rec.input.clone(),
                realtime: rec.realtime,
            };
            tokio::spawn(async move { committee.share_input(share).await });
        }
        let _ = self.queue.try_send(rec.job);
        Ok(())
    }

    // ---- the dispatcher's per-job driver ----

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
        self.ctx.store.put(rec)?;
        let mut evidence = rec.evidence.clone().unwrap_or_default();
        evidence.input = Some(rec.input.clone());
        // The winning bid backs the price of an assignment or settlement.
        evidence.bid = match intent {
            Intent::Assign { .. } | Intent::Settle { .. } => rec.bid.clone(),
            _ => None,
        };
        let posted = match self.poster.post(rec.job, intent.clone(), evidence).await {
            Ok(p) => p,
            Err(KeeperError::Attest(e)) if e.refused_on_merits() => {
                tracing::info!(job = %rec.job, kind = intent.kind(), reason = %e, "the committee refused the claim");
                rec.pending_post = None;
                self.ctx.store.put(rec)?;
                return Err(KeeperError::Attest(e));
            }
            Err(e) => return Err(e),
        };
        rec.pending_post = None;
        rec.posts.push(PostRecord {
            kind: intent.kind().into(),
            result: posted.label().into(),
        });
        self.ctx.store.put(rec)?;
        Ok(posted)
    }

    fn set_phase(&self, rec: &mut JobRecord, phase: Phase) -> Result<(), KeeperError> {
        if rec.phase != phase {
            rec.phase = phase;
            rec.phase_since = wall_secs();
            self.ctx.store.put(rec)?;
        }
        Ok(())
    }

    /// Ends the job's record in `phase` and counts it under `outcome`.
    fn end(&self, rec: &mut JobRecord, phase: Phase, outcome: &str) -> Result<(), KeeperError> {
        rec.phase = phase;
        rec.phase_since = wall_secs();
        self.ctx.store.put(rec)?;
        self.ctx
            .metrics
            .jobs_total
            .with_label_values(&[outcome])
            .inc();
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
        self.end(rec, Phase::Failed, code.as_str())?;
        tracing::info!(job = %rec.job, %code, "job failed for the client");
        Ok(())
    }

    /// The end-to-end deadline passed: the job fails for the client, and the
    /// chain's TTL refunds the escrow.
    fn deadline_passed(&self, rec: &mut JobRecord) -> Result<(), KeeperError> {
        self.ctx
            .metrics
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
        self.auctioneer.release(&key);
        result
    }

    async fn drive_job(&self, key: Pubkey) -> Result<(), KeeperError> {
        let Some(mut rec) = self.ctx.store.get(&key)? else {
            return Ok(());
        };
        if rec.phase.is_finished() {
            return Ok(());
        }
        if let Some(job) = self.ctx.gateway.job(&key).await? {
            if matches!(job.status(), JobStatus::Sent | JobStatus::Allocated)
                && !self.committee.turn(&key)
            {
                return Ok(());
            }
        }
        let started = Instant::now();
        // A generation's allowance counts for each generation the job may
        // wait on in turn: the primary's call, a high-risk shadow rerun, and
        // the co-signers' reruns (CosignDeadline::RERUNS).
        let generation_allowance = self
            .ctx
            .cfg
            .budget(&rec.model, Some(&rec.input))
            .timeout
            .saturating_sub(self.ctx.cfg.shard_timeout());
        let deadline = started
            + self.ctx.cfg.end_to_end_timeout()
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
        loop {
            let Some(job) = self.ctx.gateway.job(&key).await? else {
                return self.finish_failed(
                    &mut rec,
                    FailureCode::UnknownJob,
                    "the job account no longer exists",
                );
            };
            let waiting = matches!(job.status(), JobStatus::Sent | JobStatus::Allocated);
            if waiting && Instant::now() >= deadline {
                return self.deadline_passed(&mut rec);
            }
            let next = match job.status() {
                JobStatus::Solved | JobStatus::Paid => {
                    self.solved(&mut rec, &job, started, risk).await?
                }
                JobStatus::Refunded | JobStatus::Expired | JobStatus::Invalid => {
                    let tried = rec.tried.len();
                    return self.finish_failed(
                        &mut rec,
                        FailureCode::AllMinersFailed,
                        &format!("no miner produced a valid answer ({tried} failed); the escrow was refunded on chain ({:?})", job.status()),
                    );
                }
                JobStatus::Allocated => self.allocated(&mut rec, &job, risk).await?,
                JobStatus::Sent => self.sent(&mut rec, &job, risk).await?,
            };
            if next == Next::Finished {
                return Ok(());
            }
        }
    }

    /// The job is solved: done for the client once this keeper holds the
    /// output the chain records (its own, or a member's, checked).
    async fn solved(
        &self,
        rec: &mut JobRecord,
        job: &Job,
        started: Instant,
        risk: RiskLevel,
    ) -> Result<Next, KeeperError> {
        let key = rec.job;
        let risk_label = risk.name();
        let ours = rec
            .output
            .as_ref()
            .is_some_and(|o| o.report.output_hash == job.output_hash);
        if !ours {
            match self.committee.output_from_peers(&key, job).await {
                Some(output) => rec.output = Some(output),
                None => {
                    return self
                        .finish_failed(
                            rec,
                            FailureCode::SolvedElsewhere,
                            "the job was solved without this keeper's output",
                        )
                        .map(|()| Next::Finished)
                }
            }
        }
        self.end(rec, Phase::Done, "solved")?;
        self.ctx
            .metrics
            .dispatch_latency_seconds
            .with_label_values(&[risk_label])
            .observe(started.elapsed().as_secs_f64());
        Ok(Next::Finished)
    }

    /// The job is assigned to a miner: ask it (the co-signers re-check a
    /// high-risk answer), then post the completion or the failure; a failure
    /// owed from the optimistic path is posted first.
    async fn allocated(
        &self,
        rec: &mut JobRecord,
        job: &Job,
        risk: RiskLevel,
    ) -> Result<Next, KeeperError> {
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
                refused_is_retry(self.post_recorded(rec, owed).await)?;
                return Ok(Next::Again);
            }
        }
        let intent = match self.answer(rec, &miner, risk).await {
            Ok(answer) => {
                let report = self.keep_answer(rec, miner, &answer);
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
        refused_is_retry(self.post_recorded(rec, intent).await)?;
        Ok(Next::Again)
    }

    /// The job waits for a miner: place it (an auction among the miners
    /// that bid, else a draw among the others at the list price); at low
    /// risk ask the miner first and settle in one transaction, otherwise
    /// assign it.
    async fn sent(
        &self,
        rec: &mut JobRecord,
        job: &Job,
        risk: RiskLevel,
    ) -> Result<Next, KeeperError> {
        let (choice, price) = match self.choose(rec, job, risk).await? {
            Choice::Miner { miner, price, bid } => {
                rec.bid = bid;
                (miner, price)
            }
            Choice::Wait => {
                tokio::time::sleep(CAPACITY_WAIT).await;
                return Ok(Next::Again);
            }
            Choice::Failed => return Ok(Next::Finished),
        };
        if !rec.tried.is_empty() {
            self.ctx
                .metrics
                .retries_total
                .with_label_values(&["redispatch"])
                .inc();
        }
        let attempt = job.attempts + 1;
        let assign = Intent::Assign {
            miner: choice,
            attempt,
            price,
        };
        self.ctx.metrics.validations_preprocessing_total.inc();
        if risk == RiskLevel::Low {
            // Optimistic path: ask first, then settle in one transaction.
            match self.answer(rec, &choice, risk).await {
                Ok(answer) => {
                    let report = self.keep_answer(rec, choice, &answer);
                    let settled = self
                        .post_recorded(
                            rec,
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
                    self.post_recorded(rec, assign).await?;
                }
            }
        } else if refused_is_retry(self.post_recorded(rec, assign).await)?.is_none() {
            rec.tried.push(choice);
        }
        Ok(Next::Again)
    }

    /// A failed attempt: metrics, the miner's mark, and the fail intent.
    fn miss(&self, miner: &Pubkey, attempt: u8, failure: &AttemptFailure) -> Intent {
        tracing::info!(%miner, attempt, reason = %failure, "miner failed the job");
        if let AttemptFailure::Timeout = failure {
            self.ctx
                .metrics
                .timeouts_total
                .with_label_values(&["shard"])
                .inc();
        }
        self.ctx
            .metrics
            .retries_total
            .with_label_values(&[failure.label()])
            .inc();
        self.miners.failed(miner);
        Intent::Fail {
            miner: *miner,
            attempt,
            reason: failure.fail_reason().into(),
        }
    }
}
