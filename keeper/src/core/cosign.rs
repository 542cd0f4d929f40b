//! What a leader asks the other committee members to co-sign — a claim
//! with the evidence behind it — and a member's review of it. The review is
//! pure: it checks the claim against the member's own reading of the chain
//! and says which independent check it must still run itself (its own
//! shadow rerun, its own call to a miner said to have timed out) before
//! signing. A member signs the message it rebuilds from the claim, never
//! bytes handed to it.

use anchor_lang::prelude::Pubkey;
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use verdict::state::{Job, Node};
use verdict_sdk::attest;
use verdict_wire::bid::Bid;
use verdict_wire::miner::InferResponse;

use super::auction::{backs, list_price, BidMismatch};
use super::disputes::rerun_required;
use super::lifecycle::{intent_message, Applicability, FailReasonRecord, Intent, TrialIntent};
use super::routing::{Ranked, RouteRequest, RoutingSnapshot, RoutingWeights};
use super::validation::{self, Expectation, Rejection, Timing};
use crate::serde_helpers::b58;

/// What the leader saw, for the members to re-check.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct Evidence {
    /// The job's input (its hash is checked against the job account), so a
    /// member can rerun the job and take it over later.
    pub input: Option<String>,
    /// The miner's signed answer (completions, invalid outputs, trials).
    pub response: Option<InferResponse>,
    /// Round trip of the miner call as the leader measured it.
    pub response_ms: u32,
    /// The winning bid behind an assignment's price (an auctioned job);
    /// `None` for a miner placed at the list price.
    #[serde(default)]
    pub bid: Option<Box<Bid>>,
}

/// A request to sign one attestation message.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum Claim {
    Job {
        #[serde(with = "b58")]
        job: Pubkey,
        intent: Intent,
        evidence: Evidence,
    },
    Trial {
        #[serde(with = "b58")]
        miner: Pubkey,
        passed: bool,
        trial: u8,
        response: Option<InferResponse>,
    },
    /// A member that missed its deadline on `job` (the −5 path).
    ValidatorTimeout {
        #[serde(with = "b58")]
        validator: Pubkey,
        #[serde(with = "b58")]
        job: Pubkey,
    },
}

impl Claim {
    /// The attestation message for committee `epoch` (`None`: nothing to
    /// sign, e.g. a permissionless expiry). `instance` names the subject's
    /// instance on chain, as whoever builds the message read it itself
    /// (never taken from a peer): the job's `created_slot` for job and
    /// validator-timeout claims, the miner node's `registered_at` for a
    /// trial (see [`Claim::instance_of_job`], [`Claim::instance_of_node`]).
    pub fn message(&self, epoch: u64, instance: u64) -> Option<Vec<u8>> {
        match self {
            Claim::Job { job, intent, .. } => intent_message(epoch, job, instance, intent),
            Claim::Trial {
                miner,
                passed,
                trial,
                ..
            } => Some(attest::trial_message(
                epoch,
                miner,
                instance as i64,
                *passed,
                *trial,
            )),
            Claim::ValidatorTimeout { validator, job } => Some(attest::validator_timeout_message(
                epoch, validator, job, instance,
            )),
        }
    }

    /// Whether the claim's subject is a node (a trial) rather than a job.
    pub fn is_about_a_node(&self) -> bool {
        matches!(self, Claim::Trial { .. })
    }

    /// The instance a job claim's message names: the job's `created_slot`.
    pub fn instance_of_job(job: &Job) -> u64 {
        job.created_slot
    }

    /// The instance a trial's message names: the node's `registered_at`.
    pub fn instance_of_node(node: &Node) -> u64 {
        node.registered_at as u64
    }

    /// The miner whose answer the claim attests as a job's outcome: it may
    /// not be among the co-signers (the program refuses a duplicate signer).
    pub fn completing_miner(&self) -> Option<Pubkey> {
        match self {
            Claim::Job { intent, .. } => intent.completing_miner().copied(),
            _ => None,
        }
    }

    /// The account the claim is about: its job, or the miner on trial.
    pub fn subject(&self) -> Pubkey {
        match self {
            Claim::Job { job, .. } | Claim::ValidatorTimeout { job, .. } => *job,
            Claim::Trial { miner, .. } => *miner,
        }
    }

    pub fn kind(&self) -> &'static str {
        match self {
            Claim::Job { intent, .. } => intent.kind(),
            Claim::Trial { .. } => "trial",
            Claim::ValidatorTimeout { .. } => "validator_timeout",
        }
    }
}

/// The body of a co-sign request between keepers.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct CosignRequest {
    /// The committee epoch the leader signs for; a member in another epoch refuses.
    pub epoch: u64,
    pub claim: Claim,
}

/// Why a member will not sign.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error, Serialize, Deserialize)]
pub enum Refusal {
    #[error("the claim is for committee epoch {claimed}, the chain is at {current}")]
    WrongEpoch { claimed: u64, current: u64 },
    #[error("this keeper is not a member of the current committee")]
    NotAMember,
    #[error("the chain does not need this: {0}")]
    NotNeeded(String),
    #[error("price {price} is over the job's max fee {max_fee}")]
    PriceTooHigh { price: u64, max_fee: u64 },
    #[error("price {price} has no bid behind it and is over the list price {list}")]
    PriceAboveList { price: u64, list: u64 },
    #[error("the bid does not back the price: {0}")]
    BidMismatch(BidMismatch),
    #[error("the miner may not take this job: {0}")]
    MinerNotEligible(String),
    #[error("missing evidence: {0}")]
    MissingEvidence(String),
    #[error("the input does not hash to the job's input hash")]
    InputMismatch,
    #[error("the miner's answer does not check out: {0}")]
    Invalid(Rejection),
    #[error("the report does not match the miner's answer: {0}")]
    ReportMismatch(String),
    #[error("the answer is valid, so the miner did not fail")]
    AnswerIsValid,
    #[error("the miner answered this keeper validly in {0} ms")]
    MinerAnswered(u32),
    #[error("this keeper's own rerun disagrees: {0}")]
    RerunDisagrees(String),
    #[error("this keeper's own rerun, sampled as the miner, disagrees: {0}")]
    RecheckMismatch(super::validation::Mismatch),
    #[error("this keeper cannot rerun the job: {0}")]
    CannotRerun(String),
    #[error("the trial verdict is wrong: the answer {0} the known output")]
    TrialVerdictWrong(String),
    #[error("the validator's keeper answered this keeper")]
    ValidatorReachable,
    #[error("this keeper's chain view is unavailable: {0}")]
    Unavailable(String),
    #[error("this keeper's node is the job's miner: it may not co-sign its own outcome")]
    OwnOutcome,
    #[error("the job's input is not a valid request for its model (the client's fault): {0}")]
    BadJobInput(String),
}

impl Refusal {
    /// A stable code, for metric labels and logs.
    pub fn code(&self) -> &'static str {
        match self {
            Refusal::WrongEpoch { .. } => "wrong_epoch",
            Refusal::NotAMember => "not_a_member",
            Refusal::NotNeeded(_) => "not_needed",
            Refusal::PriceTooHigh { .. } => "price_too_high",
            Refusal::PriceAboveList { .. } => "price_above_list",
            Refusal::BidMismatch(_) => "bid_mismatch",
            Refusal::MinerNotEligible(_) => "miner_not_eligible",
            Refusal::MissingEvidence(_) => "missing_evidence",
            Refusal::InputMismatch => "input_mismatch",
            Refusal::Invalid(_) => "invalid_answer",
            Refusal::ReportMismatch(_) => "report_mismatch",
            Refusal::AnswerIsValid => "answer_is_valid",
            Refusal::MinerAnswered(_) => "miner_answered",
            Refusal::RerunDisagrees(_) => "rerun_disagrees",
            Refusal::RecheckMismatch(_) => "rerun_disagrees",
            Refusal::CannotRerun(_) => "cannot_rerun",
            Refusal::TrialVerdictWrong(_) => "trial_verdict_wrong",
            Refusal::ValidatorReachable => "validator_reachable",
            Refusal::Unavailable(_) => "unavailable",
            Refusal::OwnOutcome => "own_outcome",
            Refusal::BadJobInput(_) => "bad_job_input",
        }
    }
}

/// The independent check a member still has to run before it signs.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum FollowUp {
    /// Nothing: sign.
    None,
    /// Rerun the job (locally or on another miner): the output hash must be `expected`.
    RerunMustMatch { expected: [u8; 32] },
    /// Rerun the job: the output hash must differ from the miner's `claimed` one.
    RerunMustDiffer { claimed: [u8; 32] },
    /// Call the miner itself: it must fail to answer validly.
    MinerMustFail,
}

/// A member's own view of one job claim.
pub struct JobView<'a> {
    pub key: &'a Pubkey,
    pub job: &'a Job,
    /// The member's routing entry for the intent's miner.
    pub miner: Option<&'a Ranked>,
    pub weights: &'a RoutingWeights,
    pub realtime: bool,
    /// The job's input as this member holds it (when the claim carries none).
    pub input: Option<&'a str>,
    pub sla_ms: u32,
    pub now: i64,
    pub sent_ttl_secs: i64,
    pub allocated_ttl_secs: i64,
    /// The member's list price, in bps of the job's max fee.
    pub list_price_bps: u16,
    /// A dispute over the miner's work is open: its answers are re-run
    /// whatever the job's risk (`core::disputes::rerun_required`).
    pub miner_under_dispute: bool,
}

fn miner_of(intent: &Intent) -> Option<&Pubkey> {
    match intent {
        Intent::Assign { miner, .. }
        | Intent::Settle { miner, .. }
        | Intent::Complete { miner, .. }
        | Intent::Fail { miner, .. } => Some(miner),
        Intent::Expire => None,
    }
}

/// Checks a job claim; the follow-up says what the member must still verify.
pub fn review_job(intent: &Intent, evidence: &Evidence, v: &JobView) -> Result<FollowUp, Refusal> {
    if let Some(input) = &evidence.input {
        if <[u8; 32]>::from(Sha256::digest(input.as_bytes())) != v.job.input_hash {
            return Err(Refusal::InputMismatch);
        }
    }
    let applicability = super::lifecycle::applicability(
        intent,
        v.job,
        v.now,
        v.sent_ttl_secs,
        v.allocated_ttl_secs,
    );
    if applicability != Applicability::Needed {
        return Err(Refusal::NotNeeded(format!(
            "{applicability:?} (job {:?}, attempt {})",
            v.job.status(),
            v.job.attempts
        )));
    }
    let risk = v.job.risk();
    let miner = match miner_of(intent) {
        Some(m) => v
            .miner
            .filter(|r| r.profile.node == *m)
            .ok_or_else(|| Refusal::MinerNotEligible(format!("{m} is unknown to this keeper")))?,
        None => return Ok(FollowUp::None),
    };
    // A generative job's input must be a valid request: otherwise no miner
    // is assigned, completed or failed on it (the client's fault; its TTL refunds).
    if let Some(input) = evidence.input.as_deref().or(v.input) {
        validation::job_input(&super::model_name(&v.job.model), input)
            .map_err(|e| Refusal::BadJobInput(e.to_string()))?;
    }
    // The price: the assigned miner's own signed bid for this job (its
    // bid must still have stood when the job was placed: now for an
    // assignment, within the allocated TTL for a settlement, whose answer
    // came first), or at most the list price when the miner does not bid.
    let preprocessing = |price: u64, placed_by: i64| -> Result<(), Refusal> {
        if price > v.job.max_fee {
            return Err(Refusal::PriceTooHigh {
                price,
                max_fee: v.job.max_fee,
            });
        }
        match &evidence.bid {
            Some(bid) => backs(bid, v.key, &miner.profile.signing_key, price, placed_by)
                .map_err(Refusal::BidMismatch)?,
            None => {
                let list = list_price(v.job.max_fee, v.list_price_bps);
                if price > list {
                    return Err(Refusal::PriceAboveList { price, list });
                }
            }
        }
        let request = RouteRequest {
            risk,
            model: v.job.model,
            realtime: v.realtime,
            now: v.now,
            exclude: &[],
        };
        // Any eligible miner passes: the driver draws among its best
        // `spread`, or a Tier 3 miner in the fair-entry share, with a seed
        // only it can compute (`crate::draw`), so the draw itself cannot be
        // re-checked here.
        // Reachability is this keeper's own network view, not the miner's standing.
        let mut standing = miner.clone();
        standing.profile.reachable = true;
        if !RoutingSnapshot::eligible(&standing, &request, v.weights) {
            return Err(Refusal::MinerNotEligible(format!(
                "tier {} for {risk:?} risk, or not warm, rate-limited or too slow",
                miner.profile.tier
            )));
        }
        Ok(())
    };
    let model = super::model_name(&v.job.model);
    let answer_checks = |response: &InferResponse| -> Result<(Timing, bool), Refusal> {
        if response.job_id.0 != v.key.to_bytes() {
            return Err(Refusal::Invalid(Rejection::WrongRequest("job_id".into())));
        }
        if response.input_hash.0 != v.job.input_hash {
            return Err(Refusal::Invalid(Rejection::WrongRequest(
                "input_hash".into(),
            )));
        }
        let timing = Timing::of(response, evidence.response_ms);
        let expect = Expectation {
            miner: &miner.profile,
            model_id: &model,
            input: evidence.input.as_deref().or(v.input),
            sample_as: None,
            sla_ms: v.sla_ms,
            now: v.now,
        };
        let accepted =
            validation::validate(response, &timing, &expect).map_err(Refusal::Invalid)?;
        Ok((timing, accepted.sla_met))
    };
    let completion =
        |report: &verdict::attestation::CompletionReport| -> Result<FollowUp, Refusal> {
            let response = evidence
                .response
                .as_ref()
                .ok_or_else(|| Refusal::MissingEvidence("the miner's signed response".into()))?;
            let (timing, sla_met) = answer_checks(response)?;
            let expected = validation::completion_report(
                response,
                &timing,
                &validation::Accepted { sla_met },
                report.latency_score_bps,
            );
            if report.output_hash != expected.output_hash {
                return Err(Refusal::ReportMismatch("output_hash".into()));
            }
            if (report.response_ms, report.load_ms, report.inference_ms)
                != (
                    expected.response_ms,
                    expected.load_ms,
                    expected.inference_ms,
                )
            {
                return Err(Refusal::ReportMismatch("timings".into()));
            }
            if !report.success
                || report.sla_met != expected.sla_met
                || u64::from(report.latency_score_bps) > verdict::constants::BPS_DENOMINATOR
            {
                return Err(Refusal::ReportMismatch(
                    "success, sla_met or latency score".into(),
                ));
            }
            Ok(if rerun_required(risk, v.miner_under_dispute) {
                FollowUp::RerunMustMatch {
                    expected: report.output_hash,
                }
            } else {
                FollowUp::None
            })
        };
    match intent {
        Intent::Assign { price, .. } => preprocessing(*price, v.now).map(|_| FollowUp::None),
        Intent::Settle { price, report, .. } => {
            preprocessing(*price, v.now.saturating_sub(v.allocated_ttl_secs))?;
            completion(report)
        }
        Intent::Complete { report, .. } => completion(report),
        Intent::Fail { reason, .. } => match (reason, &evidence.response) {
            (FailReasonRecord::InvalidOutput, Some(response)) => match answer_checks(response) {
                Err(_) => Ok(FollowUp::None),
                Ok(_) if rerun_required(risk, v.miner_under_dispute) => {
                    Ok(FollowUp::RerunMustDiffer {
                        claimed: response.output_hash.0,
                    })
                }
                Ok(_) => Err(Refusal::AnswerIsValid),
            },
            // A timeout, a dropped connection, or an answer too broken to
            // parse: nothing to re-check but the miner itself.
            _ => Ok(FollowUp::MinerMustFail),
        },
        Intent::Expire => Ok(FollowUp::None),
    }
}

/// Checks a trial verdict against the member's own reference output.
pub fn review_trial(
    trial: &TrialIntent,
    response: Option<&InferResponse>,
    node: &Node,
    trial_job_id: &[u8; 32],
    reference_hash: &[u8; 32],
    now: i64,
) -> Result<(), Refusal> {
    let applicability = trial.applicability(node, now);
    if applicability != Applicability::Needed {
        return Err(Refusal::NotNeeded(format!("trial {applicability:?}")));
    }
    let response = response
        .ok_or_else(|| Refusal::MissingEvidence("the miner's signed trial answer".into()))?;
    response
        .verify()
        .map_err(|e| Refusal::Invalid(Rejection::BadSignature(e.to_string())))?;
    if Pubkey::new_from_array(response.miner_pubkey.0) != node.signing_key {
        return Err(Refusal::Invalid(Rejection::WrongSigner {
            expected: node.signing_key.to_string(),
            got: response.miner_pubkey.to_string(),
        }));
    }
    if &response.job_id.0 != trial_job_id {
        return Err(Refusal::Invalid(Rejection::WrongRequest(
            "trial job_id".into(),
        )));
    }
    let correct = &response.output_hash.0 == reference_hash;
    match (trial.passed, correct) {
        (true, false) => Err(Refusal::TrialVerdictWrong("differs from".into())),
        (false, true) => Err(Refusal::TrialVerdictWrong("matches".into())),
        _ => Ok(()),
    }
}

/// The id of a miner's trial task: fixed per miner and trial number, so
/// every member recomputes it.
pub fn trial_job_id(miner: &Pubkey, trial_failures: u8) -> [u8; 32] {
    Sha256::new()
        .chain_update(b"verdict-trial")
        .chain_update(miner.as_ref())
        .chain_update([trial_failures])
        .finalize()
        .into()
}

/// The fixed input of every trial task.
pub const TRIAL_INPUT: &str = "verdict trial task: a fixed input with a known output";

#[cfg(test)]
mod tests {
    use super::*;
    use crate::core::lifecycle::tests::job;
    use crate::core::routing::tests::miner;
    use ed25519_dalek::SigningKey;
    use verdict::state::{JobStatus, RiskLevel};
    use verdict_wire::miner::{Digest32, JobId, OutputTensor, UnsignedResponse};

    const INPUT: &str = "an input";

    struct Case {
        key: Pubkey,
        job: Job,
        ranked: Ranked,
        miner_key: SigningKey,
        weights: RoutingWeights,
    }

    /// A Sent low-risk job for the test model and a warm Tier 1 miner.
    fn case() -> Case {
        let miner_key = SigningKey::from_bytes(&[5; 32]);
        let mut profile = miner(1, 1, 1.0, Some(20.0));
        profile.signing_key = Pubkey::new_from_array(miner_key.verifying_key().to_bytes());
        let mut j = job(JobStatus::Sent, 0, Pubkey::default());
        j.model = verdict::state::model_id("test-projection-v1").unwrap();
        j.input_hash = Sha256::digest(INPUT.as_bytes()).into();
        j.max_fee = 100;
        let ranked = Ranked {
            profile,
            score: 1.0,
            latency_percentile: 0.5,
            deprioritized: false,
        };
        Case {
            key: Pubkey::new_unique(),
            job: j,
            ranked,
            miner_key,
            weights: RoutingWeights::default(),
        }
    }

    impl Case {
        fn view(&self) -> JobView<'_> {
            JobView {
                key: &self.key,
                job: &self.job,
                miner: Some(&self.ranked),
                weights: &self.weights,
                realtime: false,
                input: None,
                sla_ms: 1_000,
                now: 10,
                sent_ttl_secs: 600,
                allocated_ttl_secs: 900,
                list_price_bps: 10_000,
                miner_under_dispute: false,
            }
        }

        fn answer(&self, values: &[f32], signer: &SigningKey) -> InferResponse {
            UnsignedResponse {
                job_id: JobId(self.key.to_bytes()),
                model_id: "test-projection-v1".parse().unwrap(),
                input_hash: Digest32(self.job.input_hash),
                output: OutputTensor::from_f32(values).unwrap(),
                probes: vec![],
                sampled_as: verdict_wire::miner::MinerPubkey::from(signer),
                load_time_ms: 1,
                inference_time_us: 2_000,
            }
            .sign(signer)
        }

        fn settle(&self, response: &InferResponse, response_ms: u32) -> (Intent, Evidence) {
            let timing = Timing::of(response, response_ms);
            let report = validation::completion_report(
                response,
                &timing,
                &validation::Accepted {
                    sla_met: response_ms <= 1_000,
                },
                7_000,
            );
            let intent = Intent::Settle {
                miner: self.ranked.profile.node,
                attempt: 1,
                price: 50,
                report,
            };
            (
                intent,
                Evidence {
                    input: Some(INPUT.into()),
                    response: Some(response.clone()),
                    response_ms,
                    bid: None,
                },
            )
        }
    }

    fn dim() -> usize {
        verdict_models::ModelKind::from_id("test-projection-v1")
            .unwrap()
            .output_dim() as usize
    }

    #[test]
    fn a_faithful_settle_is_signed_and_high_risk_asks_for_a_rerun() {
        let mut c = case();
        let response = c.answer(&vec![0.25; dim()], &c.miner_key.clone());
        let (intent, evidence) = c.settle(&response, 30);
        assert_eq!(
            review_job(&intent, &evidence, &c.view()),
            Ok(FollowUp::None)
        );
        c.job.set_risk(RiskLevel::High);
        assert_eq!(
            review_job(&intent, &evidence, &c.view()),
            Ok(FollowUp::RerunMustMatch {
                expected: response.output_hash.0
            })
        );
    }

    #[test]
    fn forged_or_inconsistent_claims_are_refused_by_name() {
        let c = case();
        let key = c.miner_key.clone();
        let response = c.answer(&vec![0.25; dim()], &key);
        let (intent, evidence) = c.settle(&response, 30);

        let impostor = c.answer(&vec![0.25; dim()], &SigningKey::from_bytes(&[6; 32]));
        let (_, forged) = c.settle(&impostor, 30);
        assert!(matches!(
            review_job(&intent, &forged, &c.view()),
            Err(Refusal::Invalid(Rejection::WrongSigner { .. }))
        ));

        let bad_input = Evidence {
            input: Some("another input".into()),
            ..evidence.clone()
        };
        assert_eq!(
            review_job(&intent, &bad_input, &c.view()),
            Err(Refusal::InputMismatch)
        );

        let no_answer = Evidence {
            response: None,
            ..evidence.clone()
        };
        assert!(matches!(
            review_job(&intent, &no_answer, &c.view()),
            Err(Refusal::MissingEvidence(_))
        ));

        let Intent::Settle {
            miner,
            attempt,
            price,
            mut report,
        } = intent.clone()
        else {
            unreachable!()
        };
        report.output_hash = [9; 32];
        assert_eq!(
            review_job(
                &Intent::Settle {
                    miner,
                    attempt,
                    price,
                    report
                },
                &evidence,
                &c.view()
            ),
            Err(Refusal::ReportMismatch("output_hash".into()))
        );
        let Intent::Settle { mut report, .. } = intent.clone() else {
            unreachable!()
        };
        report.response_ms = 1;
        assert_eq!(
            review_job(
                &Intent::Settle {
                    miner,
                    attempt,
                    price,
                    report
                },
                &evidence,
                &c.view()
            ),
            Err(Refusal::ReportMismatch("timings".into()))
        );
        assert_eq!(
            review_job(
                &Intent::Settle {
                    miner,
                    attempt,
                    price: 101,
                    report
                },
                &evidence,
                &c.view()
            ),
            Err(Refusal::PriceTooHigh {
                price: 101,
                max_fee: 100
            })
        );
        assert!(matches!(
            review_job(
                &Intent::Settle {
                    miner,
                    attempt: 2,
                    price,
                    report
                },
                &evidence,
                &c.view()
            ),
            Err(Refusal::NotNeeded(_))
        ));
        let stranger = Intent::Assign {
            miner: Pubkey::new_unique(),
            attempt: 1,
            price: 50,
        };
        assert!(matches!(
            review_job(&stranger, &evidence, &c.view()),
            Err(Refusal::MinerNotEligible(_))
        ));
    }

    #[test]
    fn an_assigned_price_is_the_miners_own_bid_or_at_most_the_list_price() {
        let c = case();
        let miner = c.ranked.profile.node;
        let assign = |price| Intent::Assign {
            miner,
            attempt: 1,
            price,
        };
        // No bid: the list price (here 60% of the max fee of 100) at most.
        let mut view = c.view();
        view.list_price_bps = 6_000;
        assert_eq!(
            review_job(&assign(60), &Evidence::default(), &view),
            Ok(FollowUp::None)
        );
        assert_eq!(
            review_job(&assign(61), &Evidence::default(), &view),
            Err(Refusal::PriceAboveList {
                price: 61,
                list: 60
            })
        );
        // A bid: exactly its price, whatever the list price; it stands until 40.
        let bid = |price, key: &SigningKey, job: &Pubkey| {
            Bid::sign(key, Digest32([3; 32]), JobId(job.to_bytes()), price, 40, 1)
        };
        let with = |bid: Bid| Evidence {
            bid: Some(Box::new(bid)),
            ..Evidence::default()
        };
        let own = with(bid(90, &c.miner_key, &c.key));
        assert_eq!(review_job(&assign(90), &own, &view), Ok(FollowUp::None));
        assert!(matches!(
            review_job(&assign(89), &own, &view),
            Err(Refusal::BidMismatch(BidMismatch::OtherPrice { .. }))
        ));
        let others = with(bid(90, &SigningKey::from_bytes(&[6; 32]), &c.key));
        assert_eq!(
            review_job(&assign(90), &others, &view),
            Err(Refusal::BidMismatch(BidMismatch::OtherMiner))
        );
        let other_job = with(bid(90, &c.miner_key, &Pubkey::new_unique()));
        assert_eq!(
            review_job(&assign(90), &other_job, &view),
            Err(Refusal::BidMismatch(BidMismatch::OtherJob))
        );
        let mut raised = bid(50, &c.miner_key, &c.key);
        raised.price = 90;
        assert_eq!(
            review_job(&assign(90), &with(raised), &view),
            Err(Refusal::BidMismatch(BidMismatch::BadSignature))
        );
        assert_eq!(
            review_job(&assign(101), &with(bid(101, &c.miner_key, &c.key)), &view),
            Err(Refusal::PriceTooHigh {
                price: 101,
                max_fee: 100
            }),
            "a bid above the client's fee is never assigned"
        );
        view.now = 41;
        assert_eq!(
            review_job(&assign(90), &own, &view),
            Err(Refusal::BidMismatch(BidMismatch::Expired {
                valid_until: 40,
                needed: 41
            })),
            "an assignment after the bid lapsed"
        );
    }

    #[test]
    fn miners_not_fit_for_the_risk_are_not_assigned() {
        let mut c = case();
        let assign = Intent::Assign {
            miner: c.ranked.profile.node,
            attempt: 1,
            price: 50,
        };
        assert_eq!(
            review_job(&assign, &Evidence::default(), &c.view()),
            Ok(FollowUp::None)
        );
        c.ranked.profile.tier = 3;
        c.job.set_risk(RiskLevel::High);
        assert!(matches!(
            review_job(&assign, &Evidence::default(), &c.view()),
            Err(Refusal::MinerNotEligible(_))
        ));
        c.job.set_risk(RiskLevel::Low);
        c.ranked.profile.rate_limited = true;
        assert!(matches!(
            review_job(&assign, &Evidence::default(), &c.view()),
            Err(Refusal::MinerNotEligible(_))
        ));
    }

    #[test]
    fn a_fail_needs_a_broken_answer_a_contradicting_rerun_or_the_miner_failing_us_too() {
        let mut c = case();
        c.job.set_status(JobStatus::Allocated);
        c.job.attempts = 1;
        c.job.miner = c.ranked.profile.node;
        let fail = |reason| Intent::Fail {
            miner: c.ranked.profile.node,
            attempt: 1,
            reason,
        };
        let key = c.miner_key.clone();
        let valid = c.answer(&vec![0.25; dim()], &key);
        let with = |r: &InferResponse| Evidence {
            input: Some(INPUT.into()),
            response: Some(r.clone()),
            response_ms: 30,
            bid: None,
        };
        assert_eq!(
            review_job(
                &fail(FailReasonRecord::InvalidOutput),
                &with(&valid),
                &c.view()
            ),
            Err(Refusal::AnswerIsValid)
        );
        let short = c.answer(&[0.25, 0.5], &key);
        assert_eq!(
            review_job(
                &fail(FailReasonRecord::InvalidOutput),
                &with(&short),
                &c.view()
            ),
            Ok(FollowUp::None),
            "wrong shape"
        );
        assert_eq!(
            review_job(
                &fail(FailReasonRecord::Timeout),
                &Evidence::default(),
                &c.view()
            ),
            Ok(FollowUp::MinerMustFail)
        );
        c.job.set_risk(RiskLevel::High);
        assert_eq!(
            review_job(
                &fail(FailReasonRecord::InvalidOutput),
                &with(&valid),
                &c.view()
            ),
            Ok(FollowUp::RerunMustDiffer {
                claimed: valid.output_hash.0
            })
        );
    }

    #[test]
    fn every_answer_of_a_miner_under_dispute_is_re_run_whatever_the_risk() {
        let mut c = case();
        let valid = c.answer(&vec![0.25; dim()], &c.miner_key.clone());
        let (settle, evidence) = c.settle(&valid, 30);
        let disputed = JobView {
            miner_under_dispute: true,
            ..c.view()
        };
        assert_eq!(
            review_job(&settle, &evidence, &disputed),
            Ok(FollowUp::RerunMustMatch {
                expected: valid.output_hash.0
            }),
            "a low-risk settle is signed only if this member's rerun agrees"
        );
        // A low-risk failure of its valid-looking answer is signed only if
        // the rerun contradicts it (without a dispute: refused outright).
        c.job.set_status(JobStatus::Allocated);
        c.job.attempts = 1;
        c.job.miner = c.ranked.profile.node;
        let fail = Intent::Fail {
            miner: c.ranked.profile.node,
            attempt: 1,
            reason: FailReasonRecord::InvalidOutput,
        };
        let disputed = JobView {
            miner_under_dispute: true,
            ..c.view()
        };
        assert_eq!(
            review_job(&fail, &evidence, &disputed),
            Ok(FollowUp::RerunMustDiffer {
                claimed: valid.output_hash.0
            })
        );
        assert_eq!(
            review_job(&fail, &evidence, &c.view()),
            Err(Refusal::AnswerIsValid)
        );
    }

    #[test]
    fn trial_verdicts_must_match_the_reference() {
        let miner_key = SigningKey::from_bytes(&[5; 32]);
        let miner_node = Pubkey::new_unique();
        let mut node = Node::default();
        assert_eq!(
            node.reputation.trial(),
            verdict::state::TrialStatus::Pending
        );
        node.signing_key = Pubkey::new_from_array(miner_key.verifying_key().to_bytes());
        let id = trial_job_id(&miner_node, 0);
        let answer = UnsignedResponse {
            job_id: JobId(id),
            model_id: "test-projection-v1".parse().unwrap(),
            input_hash: Digest32([0; 32]),
            output: OutputTensor::from_f32(&vec![0.5; dim()]).unwrap(),
            probes: vec![],
            sampled_as: verdict_wire::miner::MinerPubkey::from(&miner_key),
            load_time_ms: 0,
            inference_time_us: 1,
        }
        .sign(&miner_key);
        let right = answer.output_hash.0;
        let pass = TrialIntent {
            miner: miner_node,
            passed: true,
            trial: 1,
        };
        let fail = TrialIntent {
            passed: false,
            ..pass
        };
        assert_eq!(
            review_trial(&pass, Some(&answer), &node, &id, &right, 0),
            Ok(())
        );
        assert_eq!(
            review_trial(&fail, Some(&answer), &node, &id, &[1; 32], 0),
            Ok(())
        );
        assert!(matches!(
            review_trial(&fail, Some(&answer), &node, &id, &right, 0),
            Err(Refusal::TrialVerdictWrong(_))
        ));
        assert!(matches!(
            review_trial(&pass, Some(&answer), &node, &id, &[1; 32], 0),
            Err(Refusal::TrialVerdictWrong(_))
        ));
        assert!(matches!(
            review_trial(&pass, None, &node, &id, &right, 0),
            Err(Refusal::MissingEvidence(_))
        ));
        assert!(matches!(
            review_trial(&pass, Some(&answer), &node, &[3; 32], &right, 0),
            Err(Refusal::Invalid(_))
        ));
        node.reputation
            .set_trial(verdict::state::TrialStatus::Passed);
        assert!(matches!(
            review_trial(&pass, Some(&answer), &node, &id, &right, 0),
            Err(Refusal::NotNeeded(_))
        ));
    }
}
