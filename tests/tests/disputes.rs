//! Disputes end to end: open with a bond, commit, reveal, resolve by
//! n > min(10·m, 66% of active), liquidate, pay the correct voters — and
//! every refusal on the way. Invariants run after every transaction.
#![allow(deprecated)]

use solana_sdk::signer::Signer;
use verdict::constants::ROLE_VALIDATOR;
use verdict::errors::VerdictError;
use verdict::state::{vote_commitment, Dispute, DisputeStatus, JobStatus, NodeStatus, RiskLevel};
use verdict::LiquidationTarget;
use verdict_sdk::{instructions as ix, pda};
use verdict_tests::*;

const FEE: u64 = 10 * TOKEN;
const PRICE: u64 = 8 * TOKEN;
const WRONG: [u8; 32] = [1; 32];
const RIGHT: [u8; 32] = [9; 32];

struct Scene {
    f: Fixture,
    committee: Vec<NodeHandle>,
    miner: NodeHandle,
    client: User,
    job: anchor_lang::prelude::Pubkey,
    dispute: anchor_lang::prelude::Pubkey,
}

/// Five validators, a miner whose settled job reported `output`, and the
/// validators funded for a bond.
async fn scene(output: [u8; 32]) -> Scene {
    scene_with(output, false, RiskLevel::Low).await
}

/// As [`scene`], for a job of `risk`; `tier_one` gives the miner a Tier 1
/// record first (eligible for every risk), so its payout is released at
/// once (and can be claimed before any challenge).
async fn scene_with(output: [u8; 32], tier_one: bool, risk: RiskLevel) -> Scene {
    let mut f = Fixture::new().await;
    let committee = f.committee_of(5).await;
    let params = f.config().await.params;
    for v in &committee {
        f.mint_to(&v.operator.tokens, params.dispute_bond).await;
    }
    let miner = f.warm_miner(&committee, params.min_miner_stake).await;
    if tier_one {
        f.patch::<verdict::state::Node>(&miner.node, |n| {
            n.reputation.buckets[0] = tier_one_record();
        })
        .await;
    }
    let client = f.user(10 * FEE).await;
    let (r, job) = f.submit_job(&client, 1, risk, FEE).await;
    r.unwrap();
    let mut report = good_report(0);
    report.output_hash = output;
    if risk == RiskLevel::Low {
        f.settle(&committee, &job, &miner.node, PRICE, report).await.unwrap();
    } else {
        f.assign(&committee, &job, &miner.node, PRICE).await.unwrap();
        f.complete(&committee, &job, report).await.unwrap();
    }
    f.advance(60).await;
    Scene { f, committee, miner, client, job, dispute: pda::dispute(&job) }
}

impl Scene {
    async fn open(&mut self, challenger: usize) -> TxResult {
        let c = &self.committee[challenger];
        let ix = ix::open_dispute(&c.operator.pubkey(), &c.operator.tokens, &self.job);
        let k = c.operator.keypair.insecure_clone();
        self.f.send(&[ix], &[&k]).await
    }

    /// The whole committee commits and reveals `result`; the vote ends and
    /// the challenger (validator 0) resolves.
    async fn unanimous_vote(&mut self, result: [u8; 32]) {
        let committee: Vec<NodeHandle> = self.committee.iter().map(NodeHandle::duplicate).collect();
        for v in &committee {
            self.commit(v, result).await.unwrap();
        }
        self.to_reveal_phase().await;
        for v in &committee {
            self.reveal(v, result).await.unwrap();
        }
        self.to_end_of_vote().await;
        self.resolve(0).await.unwrap();
    }

    async fn commit(&mut self, voter: &NodeHandle, result: [u8; 32]) -> TxResult {
        let salt = [voter.node.to_bytes()[0]; 32];
        let commitment = vote_commitment(&result, &salt, &voter.node);
        let k = voter.operator.keypair.insecure_clone();
        self.f.send(&[ix::commit_vote(&k.pubkey(), &self.dispute, commitment)], &[&k]).await
    }

    async fn reveal(&mut self, voter: &NodeHandle, result: [u8; 32]) -> TxResult {
        let salt = [voter.node.to_bytes()[0]; 32];
        let k = voter.operator.keypair.insecure_clone();
        self.f.send(&[ix::reveal_vote(&k.pubkey(), &self.dispute, result, salt)], &[&k]).await
    }

    async fn to_reveal_phase(&mut self) {
        let p = self.f.config().await.params;
        self.f.advance(p.vote_commit_secs).await;
    }

    async fn to_end_of_vote(&mut self) {
        let p = self.f.config().await.params;
        self.f.advance(p.vote_reveal_secs).await;
    }

    async fn resolve(&mut self, challenger: usize) -> TxResult {
        let c = self.committee[challenger].operator.tokens;
        let ix = ix::resolve_dispute(&self.job, &self.client.tokens, &c);
        self.f.send(&[ix], &[]).await
    }

    async fn dispute(&self) -> Dispute {
        self.f.fetch_account(&self.dispute).await
    }

    async fn claim(&mut self, voter: usize) -> TxResult {
        let v = &self.committee[voter];
        let k = v.operator.keypair.insecure_clone();
        let ix = ix::claim_dispute_reward(&k.pubkey(), &self.dispute, &v.operator.tokens);
        self.f.send(&[ix], &[&k]).await
    }
}

#[tokio::test]
async fn a_wrong_miner_is_overturned_liquidated_and_the_honest_voters_are_paid() {
    // High risk: its signers re-ran the job, so they answer for it too.
    let mut s = scene_with(WRONG, true, RiskLevel::High).await;
    let params = s.f.config().await.params;
    s.open(0).await.unwrap();
    let d = s.dispute().await;
    assert_eq!((d.status, d.active_snapshot, d.bond), (DisputeStatus::Voting, 6, params.dispute_bond));
    // The payout waits for the vote.
    let miner = s.miner.duplicate();
    assert_verdict_error(&s.f.claim(&s.job, &s.miner).await, VerdictError::DisputeOpen);

    let committee: Vec<NodeHandle> = s.committee.iter().map(NodeHandle::duplicate).collect();
    for v in &committee {
        s.commit(v, RIGHT).await.unwrap();
    }
    s.commit(&miner, WRONG).await.unwrap();
    s.to_reveal_phase().await;
    for v in &committee {
        s.reveal(v, RIGHT).await.unwrap();
    }
    s.reveal(&miner, WRONG).await.unwrap();
    assert_verdict_error(&s.resolve(0).await, VerdictError::VoteNotOver);
    s.to_end_of_vote().await;
    s.resolve(0).await.unwrap();

    let d = s.dispute().await;
    // n = 5 against m = 1 of 6 active: 5 > min(10, 3.96).
    assert_eq!((d.status, d.n, d.m, d.result), (DisputeStatus::Overturned, 5, 1, RIGHT));
    assert_eq!(d.pending_liquidations, 1 + 1 + 3, "voter, miner, three signers");
    assert_eq!(s.f.job(&s.job).await.status, JobStatus::Refunded);
    assert_eq!(s.f.token_balance(&s.client.tokens).await, 10 * FEE, "the held fee went back");
    assert_eq!(s.f.token_balance(&s.committee[0].operator.tokens).await, params.dispute_bond, "bond returned");

    // Correct voters cannot claim before the liquidations, nor be liquidated.
    assert_verdict_error(&s.claim(1).await, VerdictError::LiquidationsPending);
    let honest = s.committee[1].node;
    assert_verdict_error(
        &s.f.send(&[ix::liquidate(&s.dispute, &honest, LiquidationTarget::Voter, None)], &[]).await,
        VerdictError::NotLiquidatable,
    );
    let miner_stake = s.f.node(&s.miner.node).await.slashable_stake().unwrap();
    s.f.send(&[ix::liquidate(&s.dispute, &s.miner.node, LiquidationTarget::Voter, None)], &[]).await.unwrap();
    s.f.send(&[ix::liquidate(&s.dispute, &s.miner.node, LiquidationTarget::Miner, None)], &[]).await.unwrap();
    assert_verdict_error(
        &s.f.send(&[ix::liquidate(&s.dispute, &s.miner.node, LiquidationTarget::Miner, None)], &[]).await,
        VerdictError::NotLiquidatable,
    );
    let signers = d.signers().to_vec();
    let mut slashed = 0;
    for (i, signer) in signers.iter().enumerate() {
        let before = s.f.node(signer).await.slashable_stake().unwrap();
        s.f.send(&[ix::liquidate(&s.dispute, signer, LiquidationTarget::Signer(i as u8), None)], &[]).await.unwrap();
        let n = s.f.node(signer).await;
        assert_eq!(n.slashable_stake().unwrap(), before - before * 3 / 10, "approving an invalid result: 30%");
        assert_eq!(n.validator_score, params.initial_validator_score + 0 - 2);
        slashed += before * 3 / 10;
    }
    let miner_node = s.f.node(&s.miner.node).await;
    assert_eq!((miner_node.status, miner_node.slashable_stake().unwrap()), (NodeStatus::Liquidated, 0));

    let d = s.dispute().await;
    let pool = miner_stake + slashed;
    assert_eq!(d.reward_per_voter, pool / 5);
    for i in 0..5 {
        let before = s.f.token_balance(&s.committee[i].operator.tokens).await;
        s.claim(i).await.unwrap();
        assert_eq!(s.f.token_balance(&s.committee[i].operator.tokens).await, before + pool / 5);
    }
    assert_verdict_error(&s.claim(0).await, VerdictError::NoRewardDue);
    assert_eq!(s.dispute().await.pool, 0);
}

#[tokio::test]
async fn an_overturned_low_risk_outcome_liquidates_its_miner_and_spares_its_signers() {
    let mut s = scene(WRONG).await;
    let signers = s.f.job(&s.job).await.signers().to_vec();
    assert_eq!(signers.len(), 3);
    s.open(0).await.unwrap();
    assert!(s.dispute().await.signers().is_empty(), "a low-risk outcome is signed on checks a wrong answer passes");
    s.unanimous_vote(RIGHT).await;
    let d = s.dispute().await;
    assert_eq!((d.status, d.pending_liquidations), (DisputeStatus::Overturned, 1), "the miner alone");

    let before: Vec<(u64, u8)> = {
        let mut v = Vec::new();
        for k in &signers {
            let n = s.f.node(k).await;
            v.push((n.slashable_stake().unwrap(), n.validator_score));
        }
        v
    };
    assert_verdict_error(
        &s.f.send(&[ix::liquidate(&s.dispute, &signers[0], LiquidationTarget::Signer(0), None)], &[]).await,
        VerdictError::NotLiquidatable,
    );
    let miner_stake = s.f.node(&s.miner.node).await.slashable_stake().unwrap();
    s.f.send(&[ix::liquidate(&s.dispute, &s.miner.node, LiquidationTarget::Miner, None)], &[]).await.unwrap();
    for (k, (stake, score)) in signers.iter().zip(before) {
        let n = s.f.node(k).await;
        assert_eq!((n.slashable_stake().unwrap(), n.validator_score), (stake, score), "signer {k} untouched");
    }
    assert_eq!(s.dispute().await.reward_per_voter, miner_stake / 5, "the miner's stake pays the voters");
}

#[tokio::test]
async fn an_upheld_outcome_forfeits_the_bond_to_the_voters_and_liquidates_the_dissenter() {
    let mut s = scene(RIGHT).await;
    let params = s.f.config().await.params;
    s.open(4).await.unwrap();
    let committee: Vec<NodeHandle> = s.committee.iter().map(NodeHandle::duplicate).collect();
    for v in &committee[..4] {
        s.commit(v, RIGHT).await.unwrap();
    }
    s.commit(&committee[4], WRONG).await.unwrap();
    s.to_reveal_phase().await;
    for v in &committee[..4] {
        s.reveal(v, RIGHT).await.unwrap();
    }
    s.reveal(&committee[4], WRONG).await.unwrap();
    s.to_end_of_vote().await;
    s.resolve(4).await.unwrap();
    let d = s.dispute().await;
    // n = 4, m = 1, 6 active: 4 > min(10, 3.96).
    assert_eq!((d.status, d.n, d.m, d.pool), (DisputeStatus::Upheld, 4, 1, params.dispute_bond));
    assert_eq!(s.f.token_balance(&s.committee[4].operator.tokens).await, 0, "bond forfeited");
    let dissenter_stake = s.f.node(&committee[4].node).await.slashable_stake().unwrap();
    s.f.send(&[ix::liquidate(&s.dispute, &committee[4].node, LiquidationTarget::Voter, None)], &[]).await.unwrap();
    assert_eq!(s.f.node(&committee[4].node).await.status, NodeStatus::Liquidated);
    let share = (params.dispute_bond + dissenter_stake) / 4;
    for i in 0..4 {
        s.claim(i).await.unwrap();
        assert_eq!(s.f.token_balance(&s.committee[i].operator.tokens).await, params.dispute_bond + share);
    }
    // The held payout is released as usual.
    s.f.advance(2 * params.epoch_secs).await;
    s.f.claim(&s.job, &s.miner).await.unwrap();
    assert_eq!(s.f.token_balance(&s.miner.operator.tokens).await, PRICE);
}

#[tokio::test]
async fn a_tie_is_unresolved_nobody_is_liquidated_and_the_bond_comes_back() {
    let mut s = scene(RIGHT).await;
    let params = s.f.config().await.params;
    s.open(0).await.unwrap();
    let committee: Vec<NodeHandle> = s.committee.iter().map(NodeHandle::duplicate).collect();
    for (i, v) in committee[..4].iter().enumerate() {
        s.commit(v, if i % 2 == 0 { RIGHT } else { WRONG }).await.unwrap();
    }
    s.to_reveal_phase().await;
    for (i, v) in committee[..4].iter().enumerate() {
        s.reveal(v, if i % 2 == 0 { RIGHT } else { WRONG }).await.unwrap();
    }
    s.to_end_of_vote().await;
    s.resolve(0).await.unwrap();
    let d = s.dispute().await;
    assert_eq!((d.status, d.n, d.m), (DisputeStatus::Unresolved, 2, 2));
    assert_eq!(s.f.token_balance(&s.committee[0].operator.tokens).await, params.dispute_bond);
    let wrong_voter = committee[1].node;
    assert_verdict_error(
        &s.f.send(&[ix::liquidate(&s.dispute, &wrong_voter, LiquidationTarget::Voter, None)], &[]).await,
        VerdictError::InvalidDisputeState,
    );
    s.f.advance(2 * params.epoch_secs).await;
    s.f.claim(&s.job, &s.miner).await.unwrap();
}

#[tokio::test]
async fn no_reveals_at_all_is_unresolved() {
    let mut s = scene(RIGHT).await;
    s.open(0).await.unwrap();
    s.to_reveal_phase().await;
    s.to_end_of_vote().await;
    s.resolve(0).await.unwrap();
    let d = s.dispute().await;
    assert_eq!((d.status, d.n, d.m), (DisputeStatus::Unresolved, 0, 0));
}

#[tokio::test]
async fn a_paid_job_overturned_refunds_the_client_from_the_miners_stake() {
    // A Tier 1 miner is paid at once, yet must still answer for its result.
    let mut s = scene_with(WRONG, true, RiskLevel::Low).await;
    s.f.claim(&s.job, &s.miner).await.unwrap();
    assert_eq!(s.f.token_balance(&s.client.tokens).await, 9 * FEE + (FEE - PRICE));
    s.open(0).await.unwrap();
    s.unanimous_vote(RIGHT).await;
    assert_eq!(s.dispute().await.refund_owed, PRICE);
    // The refund account is required for the miner of a paid job.
    assert_verdict_error(
        &s.f.send(&[ix::liquidate(&s.dispute, &s.miner.node, LiquidationTarget::Miner, None)], &[]).await,
        VerdictError::WrongDestination,
    );
    let liquidate = ix::liquidate(&s.dispute, &s.miner.node, LiquidationTarget::Miner, Some(s.client.tokens));
    s.f.send(&[liquidate], &[]).await.unwrap();
    assert_eq!(s.f.token_balance(&s.client.tokens).await, 10 * FEE, "the client has its whole fee back");
}

#[tokio::test]
async fn voting_refuses_latecomers_double_commits_bad_reveals_and_wrong_phases() {
    let mut s = scene(RIGHT).await;
    let params = s.f.config().await.params;
    s.open(0).await.unwrap();
    // A node registered and staked after the dispute opened.
    s.f.advance(1).await;
    let late = s.f.register(ROLE_VALIDATOR, params.min_validator_stake).await;
    s.f.stake(&late, params.min_validator_stake).await.unwrap();
    assert_verdict_error(&s.commit(&late, RIGHT).await, VerdictError::NotEligibleVoter);

    let committee: Vec<NodeHandle> = s.committee.iter().map(NodeHandle::duplicate).collect();
    s.commit(&committee[1], RIGHT).await.unwrap();
    assert!(s.commit(&committee[1], WRONG).await.is_err(), "one vote per node");
    assert_verdict_error(&s.reveal(&committee[1], RIGHT).await, VerdictError::NotRevealPhase);
    s.to_reveal_phase().await;
    assert_verdict_error(&s.commit(&committee[2], RIGHT).await, VerdictError::NotCommitPhase);
    assert_verdict_error(&s.reveal(&committee[1], WRONG).await, VerdictError::RevealMismatch);
    s.reveal(&committee[1], RIGHT).await.unwrap();
    assert_verdict_error(&s.reveal(&committee[1], RIGHT).await, VerdictError::AlreadyRevealed);
    s.to_end_of_vote().await;
    assert_verdict_error(&s.reveal(&committee[1], RIGHT).await, VerdictError::NotRevealPhase);
}

#[tokio::test]
async fn disputes_open_only_within_the_window_by_active_nodes_once() {
    let mut s = scene(RIGHT).await;
    let params = s.f.config().await.params;
    let idle = s.f.register(ROLE_VALIDATOR, params.dispute_bond).await;
    let k = idle.operator.keypair.insecure_clone();
    let ix_idle = ix::open_dispute(&k.pubkey(), &idle.operator.tokens, &s.job);
    assert_verdict_error(&s.f.send(&[ix_idle], &[&k]).await, VerdictError::ChallengerNotActive);
    s.open(0).await.unwrap();
    assert!(s.open(1).await.is_err(), "one dispute per job");

    // Another job, past its challenge window.
    let (r, job2) = s.f.submit_job(&s.client, 2, RiskLevel::Low, FEE).await;
    r.unwrap();
    let owned: Vec<NodeHandle> = s.committee.iter().map(NodeHandle::duplicate).collect();
    s.f.settle(&owned, &job2, &s.miner.node, PRICE, good_report(4)).await.unwrap();
    s.f.advance(params.challenge_window_epochs as i64 * params.epoch_secs).await;
    let c = &s.committee[2];
    let k = c.operator.keypair.insecure_clone();
    let late = ix::open_dispute(&k.pubkey(), &c.operator.tokens, &job2);
    assert_verdict_error(&s.f.send(&[late], &[&k]).await, VerdictError::NotChallengeable);
}
