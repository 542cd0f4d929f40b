//! A miner's answer to a job: the primary's, confirmed where the job
//! needs it by a shadow rerun on other miners (and the keeper's own
//! reference run) before it is kept as the job's output and evidence.

use anchor_lang::prelude::Pubkey;
use verdict::state::{model_id, RiskLevel};
use verdict_wire::miner::InferResponse;

use super::Dispatcher;
use crate::core::disputes::{rerun_required, under_dispute};
use crate::core::routing::RouteRequest;
use crate::core::validation::{
    self, judge_shadow, AnswerView, AttemptFailure, Recomputed, Rejection, ShadowVerdict,
};
use crate::miners::{Answer, Miss};
use crate::store::{JobRecord, VerifiedOutput};

impl Dispatcher {
    /// Keeps a validated answer in the job's record (the output served to
    /// the client, the evidence for the co-signers); returns its report.
    pub(super) fn keep_answer(
        &self,
        rec: &mut JobRecord,
        miner: Pubkey,
        answer: &Answer,
    ) -> verdict::attestation::CompletionReport {
        let report = self.report(answer);
        rec.output = Some(VerifiedOutput {
            miner,
            output: answer.response.output.clone(),
            report,
            receipt: Some(answer.response.receipt()),
        });
        rec.evidence = Some(answer.evidence());
        report
    }

    fn report(&self, answer: &Answer) -> verdict::attestation::CompletionReport {
        let medians = self.miners.latency.lock().unwrap().medians();
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

    /// The answering miner's key a recheck samples as: whose seed it used.
    fn seed_of(answer: &InferResponse) -> Pubkey {
        Pubkey::new_from_array(answer.sampled_as.0)
    }

    /// The primary's validated answer; for high risk, or from a miner under
    /// dispute (`core::disputes::rerun_required`), confirmed by a shadow
    /// rerun on a second miner, sampled as the primary (its output hash and
    /// its probes: [`validation::compare_answers`]); the keeper's own
    /// reference run, or a third miner, breaks a tie.
    pub(super) async fn answer(
        &self,
        rec: &JobRecord,
        miner: &Pubkey,
        risk: RiskLevel,
    ) -> Result<Answer, Miss> {
        let primary = self.miners.call(rec, miner, None).await?;
        let disputed = under_dispute(&self.ctx.view().chain.disputes, miner);
        if !rerun_required(risk, disputed) {
            self.miners.answered_well(miner);
            return Ok(primary);
        }
        let now = self.ctx.gateway.now().await.unwrap_or(0);
        let snapshot = self.ctx.snapshot();
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
            .route(&request, &self.ctx.cfg.routing, 3)
            .iter()
            .map(|m| m.profile.node)
            .collect();
        let sample_as = Self::seed_of(&primary.response);
        let reference = self.miners.reference_answer(
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
                        .route(&any_tier, &self.ctx.cfg.routing, 2)
                        .iter()
                        .map(|m| m.profile.node),
                );
            }
            let Some(shadow) = shadows.pop_front() else {
                break;
            };
            asked.push(shadow);
            let Ok(other) = self.miners.call(rec, &shadow, Some(sample_as)).await else {
                continue;
            };
            match judge_shadow(
                &rec.model,
                primary_view,
                AnswerView::from(&other.response),
                reference.as_ref().map(Recomputed::view),
            ) {
                ShadowVerdict::Agree => {
                    self.miners.answered_well(miner);
                    if let Some((wrong, _)) = dissent {
                        self.miners.judged_wrong(&wrong);
                    }
                    return Ok(primary);
                }
                ShadowVerdict::ShadowWrong => {
                    self.miners.judged_wrong(&shadow);
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
