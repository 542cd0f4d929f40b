//! A committee member's dispute work, run after each read of the chain: re-check a
//! sample of solved jobs and challenge an outcome its own rerun contradicts
//! (naming its rerun's result, with the bond from its operator's tokens);
//! in every open dispute it is not a party to, re-run the job, commit
//! (posting the vote deposit) then reveal its vote in the right phase (the
//! vote is kept in the database, so a restart reveals what it committed);
//! crank the resolution and the liquidations (permissionless: the
//! dispute's leader first, the others if it stays silent); claim its
//! operator's reward and close its settled votes (which frees its node);
//! and withdraw what its node is owed (validator fees, bonds back).

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use anchor_lang::prelude::Pubkey;
use sha2::{Digest, Sha256};
use solana_sdk::signature::Keypair;
use solana_sdk::signer::Signer;
use tokio_util::sync::CancellationToken;
use verdict::state::{
    vote_commitment, Dispute, DisputeStatus, Job, JobStatus, NodeStatus, ProtocolParams,
};
use verdict_sdk::instructions as ix;
use verdict_sdk::pda;

use crate::context::Context;
use crate::core::disputes::{sampled, stage, under_dispute};
use crate::draw::DrawKey;
use crate::error::KeeperError;
use crate::evidence::EvidenceService;
use crate::gateway::ChainView;
use crate::member::CommitteeMember;
use crate::miners::Miners;
use crate::store::VoteRecord;

/// The salt of this voter's commitment: derived from a signature of the
/// operator (secret to others, the same after a restart).
fn salt(operator: &Keypair, dispute: &Pubkey) -> [u8; 32] {
    let signature =
        operator.sign_message(&[b"verdict-vote-salt".as_slice(), dispute.as_ref()].concat());
    Sha256::digest(signature.as_ref()).into()
}

/// This keeper's operator: its wallet and its stake-mint token account.
struct Operator {
    key: Arc<Keypair>,
    tokens: Pubkey,
    /// The operator's validator node.
    node: Pubkey,
}

/// A member's dispute work and what it remembers of each dispute.
pub struct Disputes {
    ctx: Context,
    miners: Arc<Miners>,
    committee: Arc<CommitteeMember>,
    evidence: Arc<EvidenceService>,
    /// This keeper's secret seeds (the re-check sample).
    draws: DrawKey,
    /// Last stage seen per dispute (status, pending liquidations, phase):
    /// a change restarts the failover clock of its permissionless cranks.
    seen: Mutex<HashMap<Pubkey, (u8, u32, u8)>>,
}

impl Disputes {
    pub fn new(
        ctx: Context,
        miners: Arc<Miners>,
        committee: Arc<CommitteeMember>,
        evidence: Arc<EvidenceService>,
        draws: DrawKey,
    ) -> Self {
        Disputes {
            ctx,
            miners,
            committee,
            evidence,
            draws,
            seen: Mutex::new(HashMap::new()),
        }
    }

    /// After each read of the chain (committee members): one round of
    /// dispute work when enabled, then withdraw what the node is owed.
    pub async fn run(self: Arc<Self>, cancel: CancellationToken) {
        if !self.committee.is_member() {
            return;
        }
        let ctx = self.ctx.clone();
        ctx.each_view(&cancel, |view| {
            let me = self.clone();
            async move {
                if let Some(params) = view.params() {
                    if me.ctx.cfg.committee.disputes {
                        me.round(&view.chain, &params, view.now).await;
                    }
                }
                // Validator fees and bonds back are credited to the node: take them.
                me.withdraw_owed(&view.chain).await;
            }
        })
        .await;
    }

    fn operator(&self) -> Option<Operator> {
        let key = self.committee.membership.as_ref()?.operator.clone()?;
        let tokens = self.ctx.cfg.committee.operator_tokens?;
        let node = pda::node(&key.pubkey());
        Some(Operator { key, tokens, node })
    }

    /// One round of dispute work (committee members with an operator key).
    async fn round(&self, view: &ChainView, params: &ProtocolParams, now: i64) {
        let Some(operator) = self.operator() else {
            return;
        };
        if !self.ctx.cfg.committee.dishonest && self.ctx.cfg.committee.auto_challenge {
            self.recheck_solved(view, params, now, &operator).await;
        }
        for (key, dispute) in &view.disputes {
            let stage = stage(dispute, now);
            if self.seen.lock().unwrap().insert(*key, stage) != Some(stage) {
                self.committee.touch(key);
            }
            if let Err(e) = self
                .work_on(key, dispute, view, params, now, &operator)
                .await
            {
                tracing::info!(dispute = %key, error = %e, "dispute step not landed");
            }
        }
    }

    /// Takes what this keeper's node is owed (validator fees, bonds back,
    /// unresolved-dispute fees) into its operator's token account.
    async fn withdraw_owed(&self, view: &ChainView) {
        let Some(operator) = self.operator() else {
            return;
        };
        let owed = view
            .nodes
            .iter()
            .find(|(k, _)| *k == operator.node)
            .map_or(0, |(_, n)| n.owed);
        if owed == 0 {
            return;
        }
        match self
            .ctx
            .gateway
            .send_signed(
                &[ix::withdraw_owed(&operator.key.pubkey(), &operator.tokens)],
                operator.key.clone(),
            )
            .await
        {
            Ok(_) => {
                self.ctx
                    .metrics
                    .disputes_total
                    .with_label_values(&["withdraw_owed"])
                    .inc();
                tracing::info!(amount = owed, "withdrew what the node is owed");
            }
            Err(e) => tracing::info!(error = %e, "owed balance not withdrawn"),
        }
    }

    /// Whether the operator's token account holds `amount` (a bond, a vote
    /// deposit); says why not otherwise.
    async fn can_pay(&self, operator: &Operator, amount: u64, what: &str) -> Result<(), String> {
        match self.ctx.gateway.token_balance(&operator.tokens).await {
            Ok(balance) if balance >= amount => Ok(()),
            Ok(balance) => Err(format!(
                "the operator's token account holds {balance}, the {what} is {amount}"
            )),
            Err(e) => Err(format!("cannot read the operator's token account: {e}")),
        }
    }

    /// Re-runs sampled solved jobs this keeper holds the input of, and opens
    /// a dispute on the first whose output its rerun contradicts.
    async fn recheck_solved(
        &self,
        view: &ChainView,
        params: &ProtocolParams,
        now: i64,
        operator: &Operator,
    ) {
        let window = params.challenge_window_epochs as i64 * params.epoch_secs;
        let mut challenged: Vec<Pubkey> = Vec::new();
        for (key, job) in &view.jobs {
            if !matches!(job.status(), JobStatus::Solved | JobStatus::Paid)
                || now >= job.solved_at.saturating_add(window)
            {
                continue;
            }
            let Ok(Some(mut rec)) = self.ctx.store.get(key) else {
                continue;
            };
            if rec.rechecked {
                continue;
            }
            rec.rechecked = true;
            // One challenge per miner at a time, and none once a dispute has
            // overturned its work (it is being liquidated): a pile of disputes
            // over one fault only multiplies the co-signers' slashes.
            let miner_in_dispute =
                under_dispute(&view.disputes, &job.miner) || challenged.contains(&job.miner);
            let miner_liquidated = view
                .nodes
                .iter()
                .any(|(k, n)| *k == job.miner && n.status() == NodeStatus::Liquidated);
            if miner_in_dispute {
                continue; // re-checked if that dispute upholds the miner
            }
            // A party to the outcome cannot challenge it: its own job as miner,
            // or a high-risk outcome it co-signed (it answers for it).
            let (signers, count) = job.accountable_signers();
            let party =
                job.miner == operator.node || signers[..count as usize].contains(&operator.node);
            if miner_liquidated || party {
                let _ = self.ctx.store.put(&rec);
                continue;
            }
            let seed = self.draws.recheck_seed(key);
            let audited = sampled(&seed, self.ctx.cfg.committee.recheck_bps);
            if audited && !view.disputes.iter().any(|(_, d)| d.job == *key) {
                let Some(seed) = self.answering_key(key, job, view) else {
                    rec.rechecked = false;
                    let _ = self.ctx.store.put(&rec);
                    continue;
                };
                match self
                    .miners
                    .rerun(key, job, Some(&rec.input), &job.miner, &seed)
                    .await
                    .map(|mine| mine.output_hash.0)
                {
                    Ok(mine) if mine != job.output_hash => {
                        tracing::warn!(job = %key, miner = %job.miner, "my rerun contradicts the solved output: challenging");
                        if let Err(why) = self
                            .can_pay(operator, params.dispute_bond(job.price), "dispute bond")
                            .await
                        {
                            tracing::warn!(job = %key, reason = %why, "challenge not opened");
                        } else {
                            // The challenger names the result it recomputed (it differs from the output).
                            let open = ix::open_dispute(
                                &operator.key.pubkey(),
                                &operator.tokens,
                                key,
                                job,
                                mine,
                            );
                            match self
                                .ctx
                                .gateway
                                .send_signed(&[open], operator.key.clone())
                                .await
                            {
                                Ok(_) => {
                                    challenged.push(job.miner);
                                    self.ctx
                                        .metrics
                                        .disputes_total
                                        .with_label_values(&["challenge"])
                                        .inc();
                                }
                                Err(e) => {
                                    tracing::info!(job = %key, error = %e, "challenge not opened")
                                }
                            }
                        }
                    }
                    Ok(_) => {}
                    // Nothing to compare with now: try again next round.
                    Err(_) => rec.rechecked = false,
                }
            }
            let _ = self.ctx.store.put(&rec);
        }
    }

    async fn work_on(
        &self,
        key: &Pubkey,
        d: &Dispute,
        view: &ChainView,
        params: &ProtocolParams,
        now: i64,
        operator: &Operator,
    ) -> Result<(), KeeperError> {
        let me = operator.node;
        let job = view.jobs.iter().find(|(k, _)| *k == d.job).map(|(_, j)| *j);
        let vote_key = pda::vote(key, &me);
        let on_chain = view
            .votes
            .iter()
            .find(|(k, _)| *k == vote_key)
            .map(|(_, v)| *v);
        let mut stored = self.ctx.store.vote(key)?;
        // A commit or reveal whose confirmation was lost: the chain has it.
        if let (Some(v), Some(chain)) = (stored.as_mut(), on_chain.as_ref()) {
            if !v.committed || (chain.revealed() && !v.revealed) {
                v.committed = true;
                v.revealed |= chain.revealed();
                self.ctx.store.put_vote(v)?;
            }
        }
        match d.status() {
            DisputeStatus::Voting
                if now < d.commit_end
                    && on_chain.is_none()
                    && stored
                        .as_ref()
                        .is_none_or(|v| !v.committed && v.refused.is_none()) =>
            {
                let refused = |why: String| VoteRecord {
                    dispute: *key,
                    result: [0; 32],
                    salt: [0; 32],
                    committed: false,
                    revealed: false,
                    claimed: false,
                    refused: Some(why),
                };
                // The miner, the challenger and a high-risk outcome's
                // co-signers may not vote: the program would refuse it.
                if d.is_party(&me) {
                    tracing::info!(dispute = %key, "a party to the dispute: not voting");
                    self.ctx.store.put_vote(&refused(
                        "a party to the dispute cannot vote (PartyCannotVote)".into(),
                    ))?;
                    return Ok(());
                }
                if let Err(why) = self
                    .can_pay(operator, params.vote_deposit, "vote deposit")
                    .await
                {
                    tracing::warn!(dispute = %key, reason = %why, "not voting");
                    self.ctx.store.put_vote(&refused(why))?;
                    return Ok(());
                }
                let Some(job) = job else { return Ok(()) };
                let Some(result) = self.my_result(d, &job, view).await else {
                    return Ok(());
                };
                let vote = VoteRecord {
                    dispute: *key,
                    result,
                    salt: salt(&operator.key, key),
                    committed: false,
                    revealed: false,
                    claimed: false,
                    refused: None,
                };
                self.ctx.store.put_vote(&vote)?;
                let commitment = vote_commitment(&vote.result, &vote.salt, &me);
                match self
                    .step(
                        "commit",
                        ix::commit_vote(&operator.key.pubkey(), &operator.tokens, key, commitment),
                        operator,
                    )
                    .await
                {
                    Ok(()) => self.ctx.store.put_vote(&VoteRecord {
                        committed: true,
                        ..vote
                    })?,
                    // A refusal (a party, a node not active before the dispute
                    // opened, too little stake for one vote) stands: do not retry it.
                    Err(KeeperError::Chain(verdict_chain::ChainError::Program {
                        failure, ..
                    })) => {
                        tracing::info!(dispute = %key, reason = %failure, "this node may not vote in the dispute");
                        self.ctx.store.put_vote(&VoteRecord {
                            refused: Some(failure.to_string()),
                            ..vote
                        })?;
                    }
                    Err(e) => return Err(e),
                }
            }
            DisputeStatus::Voting if now >= d.commit_end && now < d.reveal_end => {
                let unrevealed = on_chain.as_ref().is_some_and(|v| !v.revealed());
                if let Some(vote) = stored.filter(|v| v.committed && !v.revealed && unrevealed) {
                    let reveal = ix::reveal_vote(
                        &operator.key.pubkey(),
                        &operator.tokens,
                        key,
                        vote.result,
                        vote.salt,
                    );
                    self.step("reveal", reveal, operator).await?;
                    self.ctx.store.put_vote(&VoteRecord {
                        revealed: true,
                        ..vote
                    })?;
                }
            }
            // Permissionless: the leader resolves, the others if it stays silent.
            DisputeStatus::Voting if now >= d.reveal_end => {
                let Some(job) = job else { return Ok(()) };
                if self.committee.turn(key) {
                    self.step("resolve", ix::resolve_dispute(&d.job, &job, d), operator)
                        .await?;
                }
            }
            // Permissionless, so one keeper cranks: the dispute's leader
            // first, the others only if it stays silent (every keeper racing
            // for each target only collects refusals). The job goes along
            // while it exists (the client may be owed a refund).
            _ if d.decided() && d.pending_liquidations > 0 && self.committee.turn(key) => {
                let refund = job.as_ref().map(|j| (d.job, j.refund_account));
                for (node, target) in
                    ix::pending_liquidations(key, d, view.votes.iter().map(|(_, v)| v))
                {
                    self.step(
                        "liquidate",
                        ix::liquidate(key, &node, target, refund),
                        operator,
                    )
                    .await?;
                }
            }
            _ => {}
        }
        // This node's own vote, once the dispute is decided: claim its reward
        // (which closes the vote), or close a vote with nothing left to it.
        let Some(vote) = on_chain else { return Ok(()) };
        if d.reward_claimable(&vote) {
            self.step(
                "claim",
                ix::claim_dispute_reward(&operator.key.pubkey(), key, &operator.tokens),
                operator,
            )
            .await?;
            if let Some(rec) = self.ctx.store.vote(key)? {
                self.ctx.store.put_vote(&VoteRecord {
                    claimed: true,
                    ..rec
                })?;
            }
        } else if d.vote_settled(&vote) {
            self.step(
                "close_vote",
                ix::close_vote(&operator.key.pubkey(), key),
                operator,
            )
            .await?;
        }
        Ok(())
    }

    /// The result this keeper votes: its own rerun, sampled as the miner
    /// whose answer is disputed, so an honest miner's answer is recomputed
    /// bit for bit (a generative job is decided by re-running it); a
    /// dishonest keeper votes for the output that was signed. The input is
    /// the one kept as evidence, or, for a job this keeper never held,
    /// fetched from the other keepers and checked against the job's input hash.
    async fn my_result(&self, d: &Dispute, job: &Job, view: &ChainView) -> Option<[u8; 32]> {
        if self.ctx.cfg.committee.dishonest {
            return Some(d.disputed_output);
        }
        let input = match self.ctx.store.input(&d.job).ok().flatten() {
            Some(input) => input,
            None => self.evidence.input_from_peers(&d.job, job).await?,
        };
        let Some(seed) = self.answering_key(&d.job, job, view) else {
            tracing::info!(job = %d.job, "the disputed miner's key is unknown: not voting yet");
            return None;
        };
        match self
            .miners
            .rerun(&d.job, job, Some(&input), &d.miner, &seed)
            .await
        {
            Ok(mine) => Some(mine.output_hash.0),
            Err(e) => {
                tracing::info!(job = %d.job, error = %e, "cannot rerun the disputed job: not voting yet");
                None
            }
        }
    }

    /// Whose seed a solved job's answer used, for a rerun to sample as: the
    /// `sampled_as` of the miner's signed receipt this keeper kept with the
    /// output (it survives a key rotation), else the miner's signing key
    /// on chain.
    fn answering_key(&self, key: &Pubkey, job: &Job, view: &ChainView) -> Option<Pubkey> {
        let receipt = self
            .ctx
            .store
            .get(key)
            .ok()
            .flatten()
            .and_then(|rec| rec.output)
            .filter(|o| o.report.output_hash == job.output_hash)
            .and_then(|o| o.receipt);
        if let Some(receipt) = receipt {
            let seed = receipt.sampled_as.unwrap_or(receipt.miner_pubkey);
            return Some(Pubkey::new_from_array(seed.0));
        }
        view.nodes
            .iter()
            .find(|(k, _)| *k == job.miner)
            .map(|(_, node)| node.signing_key)
    }

    async fn step(
        &self,
        name: &'static str,
        instruction: solana_sdk::instruction::Instruction,
        operator: &Operator,
    ) -> Result<(), KeeperError> {
        self.ctx
            .gateway
            .send_signed(&[instruction], operator.key.clone())
            .await?;
        self.ctx
            .metrics
            .disputes_total
            .with_label_values(&[name])
            .inc();
        tracing::info!(step = name, "dispute step landed");
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn salts_are_per_dispute_and_stable() {
        let operator = Keypair::new();
        let (a, b) = (Pubkey::new_unique(), Pubkey::new_unique());
        assert_eq!(salt(&operator, &a), salt(&operator, &a));
        assert_ne!(salt(&operator, &a), salt(&operator, &b));
        assert_ne!(salt(&operator, &a), salt(&Keypair::new(), &a));
    }
}
