//! A committee member's dispute work, run each watcher round: re-check a
//! sample of solved jobs and challenge an outcome its own rerun contradicts;
//! in every open dispute, re-run the job, commit then reveal its vote in the
//! right phase (the vote is kept in the database, so a restart reveals what
//! it committed); resolve the disputes it opened; crank the liquidations;
//! and claim its operator's reward.

use std::sync::Arc;

use anchor_lang::prelude::Pubkey;
use sha2::{Digest, Sha256};
use solana_sdk::signature::Keypair;
use solana_sdk::signer::Signer;
use verdict::state::{vote_commitment, Dispute, DisputeStatus, Job, JobStatus, ProtocolParams};
use verdict_sdk::instructions as ix;
use verdict_sdk::pda;

use crate::engine::Engine;
use crate::error::KeeperError;
use crate::gateway::ChainView;
use crate::store::VoteRecord;

/// Whether this keeper re-checks a job, given the job's re-check seed
/// (`DrawKey::recheck_seed`: secret to miners, the same after a restart).
pub fn sampled(seed: &[u8; 32], recheck_bps: u16) -> bool {
    (u64::from_le_bytes(seed[..8].try_into().expect("8 bytes")) % 10_000) < recheck_bps as u64
}

/// The salt of this voter's commitment: derived from a signature of the
/// operator (secret to others, the same after a restart).
fn salt(operator: &Keypair, dispute: &Pubkey) -> [u8; 32] {
    let signature = operator.sign_message(&[b"verdict-vote-salt".as_slice(), dispute.as_ref()].concat());
    Sha256::digest(signature.as_ref()).into()
}

impl Engine {
    /// One round of dispute work (committee members with an operator key).
    pub(crate) async fn dispute_round(&self, view: &ChainView, params: &ProtocolParams, now: i64) {
        let Some(member) = &self.member else { return };
        let Some(operator) = member.operator.clone() else { return };
        let Some(tokens) = self.cfg.committee.operator_tokens.as_deref().and_then(|t| t.parse::<Pubkey>().ok()) else { return };
        if !self.cfg.committee.dishonest && self.cfg.committee.auto_challenge {
            self.recheck_solved(view, params, now, &operator, &tokens).await;
        }
        for (key, dispute) in &view.disputes {
            if let Err(e) = self.work_on(key, dispute, view, now, &operator, &tokens).await {
                tracing::info!(dispute = %key, error = %e, "dispute step not landed");
            }
        }
    }

    /// Re-runs sampled solved jobs this keeper holds the input of, and opens
    /// a dispute on the first whose output its rerun contradicts.
    async fn recheck_solved(&self, view: &ChainView, params: &ProtocolParams, now: i64, operator: &Arc<Keypair>, tokens: &Pubkey) {
        let window = params.challenge_window_epochs as i64 * params.epoch_secs;
        let mut challenged: Vec<Pubkey> = Vec::new();
        for (key, job) in &view.jobs {
            if !matches!(job.status, JobStatus::Solved | JobStatus::Paid) || now >= job.solved_at.saturating_add(window) {
                continue;
            }
            let Ok(Some(mut rec)) = self.store.get(key) else { continue };
            if rec.rechecked {
                continue;
            }
            rec.rechecked = true;
            // One challenge per miner at a time, and none once a dispute has
            // overturned its work (it is being liquidated): a pile of disputes
            // over one fault only multiplies the co-signers' slashes.
            let miner_in_dispute = view
                .disputes
                .iter()
                .any(|(_, d)| d.miner == job.miner && matches!(d.status, DisputeStatus::Voting | DisputeStatus::Overturned))
                || challenged.contains(&job.miner);
            let miner_liquidated = view.nodes.iter().any(|(k, n)| *k == job.miner && n.status == verdict::state::NodeStatus::Liquidated);
            if miner_in_dispute {
                continue; // re-checked if that dispute upholds the miner
            }
            if miner_liquidated {
                let _ = self.store.put(&rec);
                continue;
            }
            let seed = self.draws.recheck_seed(key);
            let audited = sampled(&seed, self.cfg.committee.recheck_bps);
            if audited && !view.disputes.iter().any(|(_, d)| d.job == *key) {
                match self.rerun(key, job, Some(&rec.input), &job.miner).await {
                    Ok(mine) if mine != job.output_hash => {
                        tracing::warn!(job = %key, miner = %job.miner, "my rerun contradicts the solved output: challenging");
                        let open = ix::open_dispute(&operator.pubkey(), tokens, key);
                        match self.gateway.send_signed(&[open], operator.clone()).await {
                            Ok(_) => {
                                challenged.push(job.miner);
                                self.metrics.disputes_total.with_label_values(&["challenge"]).inc();
                            }
                            Err(e) => tracing::info!(job = %key, error = %e, "challenge not opened"),
                        }
                    }
                    Ok(_) => {}
                    // Nothing to compare with now: try again next round.
                    Err(_) => rec.rechecked = false,
                }
            }
            let _ = self.store.put(&rec);
        }
    }

    async fn work_on(&self, key: &Pubkey, d: &Dispute, view: &ChainView, now: i64, operator: &Arc<Keypair>, tokens: &Pubkey) -> Result<(), KeeperError> {
        let me = pda::node(&operator.pubkey());
        let job = view.jobs.iter().find(|(k, _)| *k == d.job).map(|(_, j)| j.clone());
        let stored = self.store.vote(key)?;
        match d.status {
            DisputeStatus::Voting if now < d.commit_end && stored.as_ref().is_none_or(|v| !v.committed && v.refused.is_none()) => {
                let Some(job) = job else { return Ok(()) };
                let Some(result) = self.my_result(d, &job).await else { return Ok(()) };
                let vote = VoteRecord { dispute: *key, result, salt: salt(operator, key), committed: false, revealed: false, claimed: false, refused: None };
                self.store.put_vote(&vote)?;
                let commitment = vote_commitment(&vote.result, &vote.salt, &me);
                match self.step("commit", ix::commit_vote(&operator.pubkey(), key, commitment), operator).await {
                    Ok(()) => self.store.put_vote(&VoteRecord { committed: true, ..vote })?,
                    // A refusal (e.g. a node not active before the dispute opened) stands: do not retry it.
                    Err(KeeperError::Chain(verdict_chain::ChainError::Program { failure, .. })) => {
                        tracing::info!(dispute = %key, reason = %failure, "this node may not vote in the dispute");
                        self.store.put_vote(&VoteRecord { refused: Some(failure.to_string()), ..vote })?;
                    }
                    Err(e) => return Err(e),
                }
            }
            DisputeStatus::Voting if now >= d.commit_end && now < d.reveal_end => {
                if let Some(vote) = stored.filter(|v| v.committed && !v.revealed) {
                    self.step("reveal", ix::reveal_vote(&operator.pubkey(), key, vote.result, vote.salt), operator).await?;
                    self.store.put_vote(&VoteRecord { revealed: true, ..vote })?;
                }
            }
            // Resolution pays the bond back to the challenger's token
            // account, which only the challenger's keeper knows.
            DisputeStatus::Voting if now >= d.reveal_end && d.challenger == me => {
                let Some(job) = job else { return Ok(()) };
                self.step("resolve", ix::resolve_dispute(&d.job, &job.refund_account, tokens), operator).await?;
            }
            DisputeStatus::Upheld | DisputeStatus::Overturned if d.pending_liquidations > 0 => {
                // Permissionless, so one keeper cranks: the dispute's leader
                // first, the others only if it stays silent (every keeper
                // racing for each target only collects refusals).
                if !self.turn(key) {
                    return Ok(());
                }
                for (node, target) in ix::pending_liquidations(key, d, view.votes.iter().map(|(_, v)| v)) {
                    let refund = (target == verdict::LiquidationTarget::Miner && d.refund_owed > 0).then(|| job.as_ref().map(|j| j.refund_account)).flatten();
                    self.step("liquidate", ix::liquidate(key, &node, target, refund), operator).await?;
                }
            }
            DisputeStatus::Upheld | DisputeStatus::Overturned => {
                if let Some(vote) = stored.filter(|v| v.revealed && !v.claimed && v.result == d.result) {
                    self.step("claim", ix::claim_dispute_reward(&operator.pubkey(), key, tokens), operator).await?;
                    self.store.put_vote(&VoteRecord { claimed: true, ..vote })?;
                }
            }
            _ => {}
        }
        Ok(())
    }

    /// The result this keeper votes: its own rerun (a dishonest keeper
    /// votes for the output that was signed). The input is the one kept as
    /// evidence, or, for a job this keeper never held, fetched from the
    /// other keepers and checked against the job's input hash.
    async fn my_result(&self, d: &Dispute, job: &Job) -> Option<[u8; 32]> {
        if self.cfg.committee.dishonest {
            return Some(d.original_output);
        }
        let input = match self.store.input(&d.job).ok().flatten() {
            Some(input) => input,
            None => self.input_from_peers(&d.job, job).await?,
        };
        match self.rerun(&d.job, job, Some(&input), &d.miner).await {
            Ok(hash) => Some(hash),
            Err(e) => {
                tracing::info!(job = %d.job, error = %e, "cannot rerun the disputed job: not voting yet");
                None
            }
        }
    }

    async fn step(&self, name: &'static str, instruction: solana_sdk::instruction::Instruction, operator: &Arc<Keypair>) -> Result<(), KeeperError> {
        self.gateway.send_signed(&[instruction], operator.clone()).await?;
        self.metrics.disputes_total.with_label_values(&[name]).inc();
        tracing::info!(step = name, "dispute step landed");
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_sample_is_deterministic_and_close_to_its_rate() {
        let draws = crate::draw::DrawKey::new(Arc::new(Keypair::new()));
        let seeds: Vec<[u8; 32]> = (0..10_000)
            .map(|_| draws.recheck_seed(&Pubkey::new_unique()))
            .collect();
        let hits = seeds.iter().filter(|s| sampled(s, 1_000)).count();
        assert!((800..1_200).contains(&hits), "about 10%: {hits}");
        assert!(
            seeds.iter().all(|s| sampled(s, 10_000)),
            "10000 bps re-checks everything"
        );
        assert!(!seeds.iter().any(|s| sampled(s, 0)));
        assert_eq!(sampled(&seeds[0], 1_000), sampled(&seeds[0], 1_000));
    }

    #[test]
    fn salts_are_per_dispute_and_stable() {
        let operator = Keypair::new();
        let (a, b) = (Pubkey::new_unique(), Pubkey::new_unique());
        assert_eq!(salt(&operator, &a), salt(&operator, &a));
        assert_ne!(salt(&operator, &a), salt(&operator, &b));
        assert_ne!(salt(&operator, &a), salt(&Keypair::new(), &a));
    }
}
