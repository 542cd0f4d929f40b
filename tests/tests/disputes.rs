//! Disputes end to end: open with a bond naming the challenger's result,
//! commit (with a deposit), reveal, resolve by turnout quorum and
//! n > min(10·m, 66% of the active weight), liquidate, pay the correct
//! voters pro rata to weight — and every refusal and attack on the way.
//! Invariants run after every transaction.
#![allow(deprecated)]

use anchor_lang::prelude::Pubkey;
use solana_sdk::signer::Signer;
use verdict::constants::ROLE_VALIDATOR;
use verdict::errors::VerdictError;
use verdict::state::{
    vote_commitment, Dispute, DisputeStatus, JobStatus, NodeStatus, RiskLevel, Vote,
};
use verdict::LiquidationTarget;
use verdict_sdk::{instructions as ix, pda};
use verdict_tests::*;

const FEE: u64 = 10 * TOKEN;
const PRICE: u64 = 8 * TOKEN;
const WRONG: [u8; 32] = [1; 32];
const RIGHT: [u8; 32] = [9; 32];
/// What every validator's operator holds besides its stake (a bond and deposits).
const SPARE: u64 = 1_000 * TOKEN;

struct Scene {
    f: Fixture,
    /// Committee members first, then any extra validators.
    committee: Vec<NodeHandle>,
    miner: NodeHandle,
    client: User,
    output: [u8; 32],
    job: Pubkey,
    dispute: Pubkey,
}

/// Five validators (the committee), a miner whose settled low-risk job
/// reported `output`, and the validators funded for a bond and deposits.
async fn scene(output: [u8; 32]) -> Scene {
    scene_with(output, false, RiskLevel::Low, 5).await
}

/// As [`scene`], for a job of `risk` with `validators` validators (the
/// first five form the committee); `tier_one` gives the miner a Tier 1
/// record first, so its payout is released at once.
async fn scene_with(output: [u8; 32], tier_one: bool, risk: RiskLevel, validators: usize) -> Scene {
    let mut f = Fixture::new().await;
    let committee = f.committee_of(validators).await;
    let params = f.config().await.params;
    for v in &committee {
        f.mint_to(&v.operator.tokens, SPARE).await;
    }
    let miner = f.warm_miner(&committee, params.min_miner_stake).await;
    f.mint_to(&miner.operator.tokens, params.vote_deposit).await;
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
        f.settle(&committee, &job, &miner.node, PRICE, report)
            .await
            .unwrap();
    } else {
        f.assign(&committee, &job, &miner.node, PRICE)
            .await
            .unwrap();
        f.complete(&committee, &job, report).await.unwrap();
    }
    f.advance(60).await;
    Scene {
        f,
        committee,
        miner,
        client,
        output,
        job,
        dispute: pda::dispute(&job),
    }
}

fn other(result: [u8; 32]) -> [u8; 32] {
    if result == WRONG {
        RIGHT
    } else {
        WRONG
    }
}

fn dup(handles: &[NodeHandle]) -> Vec<NodeHandle> {
    handles.iter().map(NodeHandle::duplicate).collect()
}

impl Scene {
    /// Validator `challenger` challenges, naming the other result.
    async fn open(&mut self, challenger: usize) -> TxResult {
        let result = other(self.output);
        self.open_with(challenger, result).await
    }

    async fn open_with(&mut self, challenger: usize, result: [u8; 32]) -> TxResult {
        let c = self.committee[challenger].duplicate();
        self.open_by(&c, self.job, result).await
    }

    async fn open_by(&mut self, c: &NodeHandle, job: Pubkey, result: [u8; 32]) -> TxResult {
        let j = self.f.job(&job).await;
        let ix = ix::open_dispute(&c.operator.pubkey(), &c.operator.tokens, &job, &j, result);
        let k = c.operator.keypair.insecure_clone();
        self.f.send(&[ix], &[&k]).await
    }

    /// `voters` commit and reveal `result`; the vote ends and anyone resolves.
    async fn vote_all(&mut self, voters: &[NodeHandle], result: [u8; 32]) {
        for v in voters {
            self.commit(v, result).await.unwrap();
        }
        self.advance_to_reveal_phase().await;
        for v in voters {
            self.reveal(v, result).await.unwrap();
        }
        self.advance_to_end_of_vote().await;
        self.resolve().await.unwrap();
    }

    async fn commit(&mut self, voter: &NodeHandle, result: [u8; 32]) -> TxResult {
        let salt = [voter.node.to_bytes()[0]; 32];
        let commitment = vote_commitment(&result, &salt, &voter.node);
        let k = voter.operator.keypair.insecure_clone();
        self.f
            .send(
                &[ix::commit_vote(
                    &k.pubkey(),
                    &voter.operator.tokens,
                    &self.dispute,
                    commitment,
                )],
                &[&k],
            )
            .await
    }

    async fn reveal(&mut self, voter: &NodeHandle, result: [u8; 32]) -> TxResult {
        let salt = [voter.node.to_bytes()[0]; 32];
        let k = voter.operator.keypair.insecure_clone();
        self.f
            .send(
                &[ix::reveal_vote(
                    &k.pubkey(),
                    &voter.operator.tokens,
                    &self.dispute,
                    result,
                    salt,
                )],
                &[&k],
            )
            .await
    }

    async fn advance_to_reveal_phase(&mut self) {
        let p = self.f.config().await.params;
        self.f.advance(p.vote_commit_secs).await;
    }

    async fn advance_to_end_of_vote(&mut self) {
        let p = self.f.config().await.params;
        self.f.advance(p.vote_reveal_secs).await;
    }

    /// Permissionless: nobody in particular signs.
    async fn resolve(&mut self) -> TxResult {
        let j = self.f.job(&self.job).await;
        let d = self.dispute().await;
        let ix = ix::resolve_dispute(&self.job, &j, &d);
        self.f.send(&[ix], &[]).await
    }

    async fn dispute(&self) -> Dispute {
        self.f.fetch_account(&self.dispute).await
    }

    async fn vote_of(&self, voter: &Pubkey) -> Vote {
        self.f.fetch_account(&pda::vote(&self.dispute, voter)).await
    }

    /// Liquidates `node` as `target`, passing the job and its refund account.
    async fn liquidate(&mut self, node: &Pubkey, target: LiquidationTarget) -> TxResult {
        let j = self.f.job(&self.job).await;
        let ix = ix::liquidate(
            &self.dispute,
            node,
            target,
            Some((self.job, j.refund_account)),
        );
        self.f.send(&[ix], &[]).await
    }

    async fn claim_reward(&mut self, voter: &NodeHandle) -> TxResult {
        let k = voter.operator.keypair.insecure_clone();
        let ix = ix::claim_dispute_reward(&k.pubkey(), &self.dispute, &voter.operator.tokens);
        self.f.send(&[ix], &[&k]).await
    }

    async fn close_vote(&mut self, voter: &NodeHandle) -> TxResult {
        let k = voter.operator.keypair.insecure_clone();
        self.f
            .send(&[ix::close_vote(&k.pubkey(), &self.dispute)], &[&k])
            .await
    }

    async fn balance(&mut self, h: &NodeHandle) -> u64 {
        self.f.token_balance(&h.operator.tokens).await
    }
}

#[tokio::test]
async fn a_wrong_miner_is_overturned_liquidated_and_the_honest_voters_are_paid() {
    // High risk: its signers re-ran the job, so they answer for it too (and
    // may neither challenge nor vote). Seven validators: five in the committee.
    let mut s = scene_with(WRONG, true, RiskLevel::High, 7).await;
    let params = s.f.config().await.params;
    let signers = s.f.job(&s.job).await.signers().to_vec();
    assert_eq!(signers.len(), 3);
    let all = dup(&s.committee);
    let signer_handles: Vec<NodeHandle> = dup(&all[..3]);
    assert!(signer_handles.iter().all(|h| signers.contains(&h.node)));
    assert_verdict_error(&s.open(0).await, VerdictError::PartyCannotVote);
    s.open(3).await.unwrap();
    let d = s.dispute().await;
    // 7 validators × 10 + the miner's 1.
    assert_eq!(
        (d.status(), d.active_weight, d.bond),
        (DisputeStatus::Voting, 71, params.dispute_bond(PRICE))
    );
    assert_eq!(
        d.bond, params.min_bond,
        "8 × 10 tokens is below the minimum bond"
    );
    assert_eq!(s.balance(&all[3]).await, SPARE - d.bond);
    // The payout waits for the vote.
    assert_verdict_error(
        &s.f.claim(&s.job, &s.miner).await,
        VerdictError::DisputeOpen,
    );

    // Parties cannot vote: the miner, the challenger, the accountable co-signers.
    let miner = s.miner.duplicate();
    assert_verdict_error(
        &s.commit(&miner, WRONG).await,
        VerdictError::PartyCannotVote,
    );
    assert_verdict_error(
        &s.commit(&all[3], RIGHT).await,
        VerdictError::PartyCannotVote,
    );
    for h in &signer_handles {
        assert_verdict_error(&s.commit(h, WRONG).await, VerdictError::PartyCannotVote);
    }
    let voters = dup(&all[4..]);
    for v in &voters {
        s.commit(v, RIGHT).await.unwrap();
    }
    s.advance_to_reveal_phase().await;
    for v in &voters {
        s.reveal(v, RIGHT).await.unwrap();
    }
    assert_verdict_error(&s.resolve().await, VerdictError::VoteNotOver);
    s.advance_to_end_of_vote().await;
    s.resolve().await.unwrap();

    let d = s.dispute().await;
    // n = 30 + 1 against m = 1: 31 > min(10, 46.86).
    assert_eq!(
        (d.status(), d.n, d.m, d.result),
        (DisputeStatus::Overturned, 31, 1, RIGHT)
    );
    assert_eq!(d.pending_liquidations, 1 + 3, "miner and three signers");
    assert_eq!(s.f.job(&s.job).await.status(), JobStatus::Refunded);
    assert_eq!(
        s.f.token_balance(&s.client.tokens).await,
        10 * FEE,
        "the held fee went back"
    );
    // The bond is credited back to the challenger's node, then withdrawn.
    assert_eq!(s.f.node(&all[3].node).await.owed, d.bond);
    s.f.withdraw_owed(&all[3]).await.unwrap();
    assert_eq!(s.balance(&all[3]).await, SPARE, "bond returned");

    // Correct voters cannot claim before the liquidations, nor be liquidated.
    assert_verdict_error(
        &s.claim_reward(&voters[0]).await,
        VerdictError::LiquidationsPending,
    );
    assert_verdict_error(
        &s.liquidate(&voters[0].node, LiquidationTarget::Voter).await,
        VerdictError::NotLiquidatable,
    );
    let miner_stake = s.f.node(&s.miner.node).await.slashable_stake().unwrap();
    s.liquidate(&s.miner.node.clone(), LiquidationTarget::Miner)
        .await
        .unwrap();
    assert_verdict_error(
        &s.liquidate(&s.miner.node.clone(), LiquidationTarget::Miner)
            .await,
        VerdictError::NotLiquidatable,
    );
    let mut slashed = 0;
    for (i, signer) in signers.iter().enumerate() {
        let before = s.f.node(signer).await;
        s.liquidate(signer, LiquidationTarget::Signer(i as u8))
            .await
            .unwrap();
        let n = s.f.node(signer).await;
        let stake = before.slashable_stake().unwrap();
        assert_eq!(
            n.slashable_stake().unwrap(),
            stake - stake * 3 / 10,
            "approving an invalid result: 30%"
        );
        assert_eq!(n.validator_score, before.validator_score - 2);
        slashed += stake * 3 / 10;
    }
    let miner_node = s.f.node(&s.miner.node).await;
    assert_eq!(
        (miner_node.status(), miner_node.slashable_stake().unwrap()),
        (NodeStatus::Liquidated, 0)
    );
    assert_eq!(
        miner_node.boost_owed, 0,
        "a liquidated node forfeits its boosts"
    );

    let d = s.dispute().await;
    let pool = miner_stake + slashed;
    assert_eq!((d.reward_total, d.reward_weight), (pool, 30));
    let mut paid = 0;
    for (i, v) in voters.iter().enumerate() {
        let before = s.balance(v).await;
        s.claim_reward(v).await.unwrap();
        let got = s.balance(v).await - before;
        if i + 1 < voters.len() {
            assert_eq!(got, pool / 3, "pro rata to weight (10 of 30)");
        }
        paid += got;
        assert!(
            !s.f.exists(&pda::vote(&s.dispute, &v.node)).await,
            "claiming closes the vote"
        );
    }
    assert_eq!(paid, pool, "the last claim takes the dust");
    assert!(s.claim_reward(&voters[0]).await.is_err(), "once only");
    assert_eq!(s.dispute().await.pool, 0);
}

#[tokio::test]
async fn an_overturned_low_risk_outcome_liquidates_its_miner_and_spares_its_signers() {
    let mut s = scene(WRONG).await;
    let signers = s.f.job(&s.job).await.signers().to_vec();
    assert_eq!(signers.len(), 3);
    s.open(0).await.unwrap();
    assert!(
        s.dispute().await.signers().is_empty(),
        "a low-risk outcome is signed on checks a wrong answer passes"
    );
    let voters = dup(&s.committee[1..]);
    s.vote_all(&voters, RIGHT).await;
    let d = s.dispute().await;
    assert_eq!(
        (d.status(), d.n, d.m, d.pending_liquidations),
        (DisputeStatus::Overturned, 41, 1, 1),
        "the miner alone"
    );

    let mut before = Vec::new();
    for k in &signers {
        let n = s.f.node(k).await;
        before.push((n.slashable_stake().unwrap(), n.validator_score));
    }
    assert_verdict_error(
        &s.liquidate(&signers[0], LiquidationTarget::Signer(0)).await,
        VerdictError::NotLiquidatable,
    );
    let miner_stake = s.f.node(&s.miner.node).await.slashable_stake().unwrap();
    s.liquidate(&s.miner.node.clone(), LiquidationTarget::Miner)
        .await
        .unwrap();
    for (k, (stake, score)) in signers.iter().zip(before) {
        let n = s.f.node(k).await;
        assert_eq!(
            (n.slashable_stake().unwrap(), n.validator_score),
            (stake, score),
            "signer {k} untouched"
        );
    }
    let d = s.dispute().await;
    assert_eq!(
        (d.reward_total, d.reward_weight),
        (miner_stake, 40),
        "the miner's stake pays the voters"
    );
    for v in &voters {
        let before = s.balance(v).await;
        s.claim_reward(v).await.unwrap();
        assert_eq!(s.balance(v).await, before + miner_stake / 4);
    }
}

#[tokio::test]
async fn an_upheld_outcome_forfeits_the_bond_to_the_voters_and_liquidates_the_dissenter() {
    // Seven validators: 5 for the output and 1 against clear 66% of 71.
    let mut s = scene_with(RIGHT, false, RiskLevel::Low, 7).await;
    let params = s.f.config().await.params;
    s.open(6).await.unwrap();
    let bond = s.dispute().await.bond;
    let all = dup(&s.committee);
    let (honest, dissenter) = (dup(&all[..5]), all[5].duplicate());
    for v in &honest {
        s.commit(v, RIGHT).await.unwrap();
    }
    s.commit(&dissenter, WRONG).await.unwrap();
    s.advance_to_reveal_phase().await;
    for v in &honest {
        s.reveal(v, RIGHT).await.unwrap();
    }
    s.reveal(&dissenter, WRONG).await.unwrap();
    s.advance_to_end_of_vote().await;
    s.resolve().await.unwrap();
    let d = s.dispute().await;
    // n = 51, m = 1 + 10 = 11, 71 active: 51 > min(110, 46.86).
    assert_eq!(
        (d.status(), d.n, d.m, d.pool),
        (DisputeStatus::Upheld, 51, 11, bond)
    );
    assert_eq!(s.balance(&all[6]).await, SPARE - bond, "bond forfeited");
    assert_eq!(s.f.node(&all[6].node).await.owed, 0);
    let dissenter_stake = s.f.node(&dissenter.node).await.slashable_stake().unwrap();
    let reward_pool = s.f.config().await.totals.reward_pool;
    s.liquidate(&dissenter.node, LiquidationTarget::Voter)
        .await
        .unwrap();
    assert_eq!(
        s.f.node(&dissenter.node).await.status(),
        NodeStatus::Liquidated
    );
    // The dissenter's stake goes to the reward pool, not to the majority
    // that outvoted it: the voters share the bond.
    assert_eq!(
        s.f.config().await.totals.reward_pool,
        reward_pool + dissenter_stake
    );
    let share = bond / 5;
    for v in &honest {
        s.claim_reward(v).await.unwrap();
        assert_eq!(s.balance(v).await, SPARE + share);
    }
    s.close_vote(&dissenter).await.unwrap();
    // The held payout is released as usual (less the co-signers' 10%).
    s.f.advance(2 * params.epoch_secs).await;
    s.f.claim(&s.job, &s.miner).await.unwrap();
    let fee = PRICE * params.validator_fee_bps as u64 / 10_000;
    assert_eq!(s.f.node(&s.miner.node).await.owed, PRICE - fee);
    s.f.withdraw_owed(&s.miner).await.unwrap();
    assert_eq!(
        s.balance(&s.miner.duplicate()).await,
        params.vote_deposit + PRICE - fee
    );
}

#[tokio::test]
async fn a_tie_is_unresolved_nobody_is_liquidated_and_the_challenger_pays_the_miner_ten_percent() {
    let mut s = scene(RIGHT).await;
    let params = s.f.config().await.params;
    s.open(0).await.unwrap();
    let bond = s.dispute().await.bond;
    let voters = dup(&s.committee[1..]);
    for (i, v) in voters.iter().enumerate() {
        s.commit(v, if i % 2 == 0 { RIGHT } else { WRONG })
            .await
            .unwrap();
    }
    s.advance_to_reveal_phase().await;
    for (i, v) in voters.iter().enumerate() {
        s.reveal(v, if i % 2 == 0 { RIGHT } else { WRONG })
            .await
            .unwrap();
    }
    s.advance_to_end_of_vote().await;
    s.resolve().await.unwrap();
    let d = s.dispute().await;
    assert_eq!((d.status(), d.n, d.m), (DisputeStatus::Unresolved, 21, 21));
    // The unresolved fee: 10% of the bond, from the challenger to the miner.
    let fee = bond * params.unresolved_fee_bps as u64 / 10_000;
    assert_eq!(fee, 10 * TOKEN);
    assert_eq!(s.f.node(&s.committee[0].node).await.owed, bond - fee);
    assert_eq!(s.f.node(&s.miner.node).await.owed, fee);
    let challenger = s.committee[0].duplicate();
    s.f.withdraw_owed(&challenger).await.unwrap();
    assert_eq!(
        s.balance(&challenger).await,
        SPARE - fee,
        "an unresolved challenge costs 10% of the bond"
    );
    let miner = s.miner.duplicate();
    s.f.withdraw_owed(&miner).await.unwrap();
    assert_eq!(s.balance(&miner).await, params.vote_deposit + fee);
    assert_verdict_error(
        &s.liquidate(&voters[1].node, LiquidationTarget::Voter).await,
        VerdictError::InvalidDisputeState,
    );
    // Every vote is settled: deposits came back, the accounts close.
    for v in &voters {
        assert_eq!(s.balance(v).await, SPARE);
        s.close_vote(v).await.unwrap();
    }
    s.f.advance(2 * params.epoch_secs).await;
    s.f.claim(&s.job, &s.miner).await.unwrap();
}

#[tokio::test]
async fn no_reveals_at_all_is_unresolved_and_the_unrevealed_deposit_funds_the_reward_pool() {
    let mut s = scene(RIGHT).await;
    let params = s.f.config().await.params;
    s.open(0).await.unwrap();
    let voter = s.committee[1].duplicate();
    s.commit(&voter, RIGHT).await.unwrap();
    let pool_before = s.f.config().await.totals.reward_pool;
    s.advance_to_reveal_phase().await;
    s.advance_to_end_of_vote().await;
    s.resolve().await.unwrap();
    let d = s.dispute().await;
    assert_eq!(
        (d.status(), d.n, d.m, d.deposits_held),
        (DisputeStatus::Unresolved, 1, 1, 0),
        "each candidate carries 1 unit"
    );
    assert_eq!(
        s.f.config().await.totals.reward_pool,
        pool_before + params.vote_deposit
    );
    assert_eq!(s.balance(&voter).await, SPARE - params.vote_deposit);
    s.close_vote(&voter).await.unwrap();
}

#[tokio::test]
async fn a_paid_job_overturned_refunds_the_client_from_the_miners_stake() {
    // A Tier 1 miner is paid at once, yet must still answer for its result.
    let mut s = scene_with(WRONG, true, RiskLevel::Low, 5).await;
    let params = s.f.config().await.params;
    s.f.claim(&s.job, &s.miner).await.unwrap();
    assert_eq!(
        s.f.token_balance(&s.client.tokens).await,
        9 * FEE + (FEE - PRICE)
    );
    let held = s.f.job(&s.job).await.fee_held;
    assert_eq!(
        held,
        PRICE * params.validator_fee_bps as u64 / 10_000,
        "the co-signers' fee waits in the escrow"
    );
    s.open(0).await.unwrap();
    let voters = dup(&s.committee[1..]);
    s.vote_all(&voters, RIGHT).await;
    assert_eq!(
        s.dispute().await.refund_owed,
        PRICE - held,
        "the escrow's part went back at once"
    );
    assert_eq!(
        s.f.token_balance(&s.client.tokens).await,
        9 * FEE + (FEE - PRICE) + held
    );
    // The refund account is required while the client is owed.
    assert_verdict_error(
        &s.f.send(
            &[ix::liquidate(
                &s.dispute,
                &s.miner.node,
                LiquidationTarget::Miner,
                None,
            )],
            &[],
        )
        .await,
        VerdictError::WrongDestination,
    );
    s.liquidate(&s.miner.node.clone(), LiquidationTarget::Miner)
        .await
        .unwrap();
    assert_eq!(
        s.f.token_balance(&s.client.tokens).await,
        10 * FEE,
        "the client has its whole fee back"
    );
    assert_eq!(s.dispute().await.refund_owed, 0);
}

#[tokio::test]
async fn voting_refuses_latecomers_double_commits_bad_reveals_and_wrong_phases() {
    let mut s = scene(RIGHT).await;
    let params = s.f.config().await.params;
    s.open(0).await.unwrap();
    // A node registered and staked after the dispute opened.
    s.f.advance(1).await;
    let late =
        s.f.register(ROLE_VALIDATOR, params.min_validator_stake)
            .await;
    s.f.stake(&late, params.min_validator_stake).await.unwrap();
    s.f.mint_to(&late.operator.tokens, params.vote_deposit)
        .await;
    assert_verdict_error(
        &s.commit(&late, RIGHT).await,
        VerdictError::NotEligibleVoter,
    );

    let committee = dup(&s.committee);
    // No deposit, no vote.
    let broke = committee[3].duplicate();
    let spare = s.balance(&broke).await;
    let sink = s.f.user(0).await;
    let k = broke.operator.keypair.insecure_clone();
    let drain = spl_token_transfer(
        &broke.operator.tokens,
        &sink.tokens,
        &k.pubkey(),
        spare - params.vote_deposit + 1,
    );
    s.f.send(&[drain], &[&k]).await.unwrap();
    assert!(
        s.commit(&broke, RIGHT).await.is_err(),
        "the deposit is short"
    );

    s.commit(&committee[1], RIGHT).await.unwrap();
    assert_eq!(
        s.vote_of(&committee[1].node).await.deposit,
        params.vote_deposit
    );
    assert_eq!(s.balance(&committee[1]).await, SPARE - params.vote_deposit);
    assert!(
        s.commit(&committee[1], WRONG).await.is_err(),
        "one vote per node"
    );
    assert_verdict_error(
        &s.reveal(&committee[1], RIGHT).await,
        VerdictError::NotRevealPhase,
    );
    s.advance_to_reveal_phase().await;
    assert_verdict_error(
        &s.commit(&committee[2], RIGHT).await,
        VerdictError::NotCommitPhase,
    );
    assert_verdict_error(
        &s.reveal(&committee[1], WRONG).await,
        VerdictError::RevealMismatch,
    );
    s.reveal(&committee[1], RIGHT).await.unwrap();
    assert_eq!(
        s.balance(&committee[1]).await,
        SPARE,
        "the reveal returns the deposit"
    );
    assert_verdict_error(
        &s.reveal(&committee[1], RIGHT).await,
        VerdictError::AlreadyRevealed,
    );
    assert_verdict_error(
        &s.close_vote(&committee[1]).await,
        VerdictError::VoteNotSettled,
    );
    s.advance_to_end_of_vote().await;
    assert_verdict_error(
        &s.reveal(&committee[1], RIGHT).await,
        VerdictError::NotRevealPhase,
    );
}

/// An SPL Token transfer (to drain an operator's account).
fn spl_token_transfer(
    from: &Pubkey,
    to: &Pubkey,
    owner: &Pubkey,
    amount: u64,
) -> solana_sdk::instruction::Instruction {
    let mut data = vec![3u8];
    data.extend_from_slice(&amount.to_le_bytes());
    solana_sdk::instruction::Instruction {
        program_id: anchor_spl::token::ID,
        accounts: vec![
            solana_sdk::instruction::AccountMeta::new(*from, false),
            solana_sdk::instruction::AccountMeta::new(*to, false),
            solana_sdk::instruction::AccountMeta::new_readonly(*owner, true),
        ],
        data,
    }
}

#[tokio::test]
async fn disputes_open_only_within_the_window_by_active_non_parties_naming_another_result_once() {
    let mut s = scene(RIGHT).await;
    let params = s.f.config().await.params;
    let idle = s.f.register(ROLE_VALIDATOR, params.min_bond).await;
    assert_verdict_error(
        &s.open_by(&idle, s.job, WRONG).await,
        VerdictError::ChallengerNotActive,
    );
    // The miner cannot challenge its own job: the challenger and the miner
    // as one account are refused by the program's own constraint (Anchor's
    // duplicate-mutable check does not cover zero-copy loaders).
    let miner = s.miner.duplicate();
    assert_verdict_error(
        &s.open_by(&miner, s.job, WRONG).await,
        VerdictError::PartyCannotVote,
    );
    // The challenger must name a result other than the disputed output.
    assert_verdict_error(&s.open_with(0, RIGHT).await, VerdictError::SameResult);
    s.open(0).await.unwrap();
    assert!(s.open(1).await.is_err(), "one dispute per job");

    // Another job, past its challenge window.
    let (r, job2) = s.f.submit_job(&s.client, 2, RiskLevel::Low, FEE).await;
    r.unwrap();
    let owned = dup(&s.committee);
    s.f.settle(&owned, &job2, &s.miner.node, PRICE, good_report(4))
        .await
        .unwrap();
    s.f.advance(params.challenge_window_epochs as i64 * params.epoch_secs)
        .await;
    let c = s.committee[2].duplicate();
    assert_verdict_error(
        &s.open_by(&c, job2, WRONG).await,
        VerdictError::NotChallengeable,
    );
}

// Attacks on the vote.

#[tokio::test]
async fn a_single_voter_even_a_whale_cannot_decide() {
    let mut s = scene(WRONG).await;
    let params = s.f.config().await.params;
    // A whale with ten validators' worth of stake.
    let stake = 10 * params.min_validator_stake;
    let whale = s.f.register(ROLE_VALIDATOR, stake).await;
    s.f.stake(&whale, stake).await.unwrap();
    s.f.mint_to(&whale.operator.tokens, params.vote_deposit)
        .await;
    s.f.advance(1).await;
    s.open(0).await.unwrap();
    assert_eq!(s.dispute().await.active_weight, 151);
    s.vote_all(&[whale.duplicate()], RIGHT).await;
    let d = s.dispute().await;
    // 101 against 1, turnout 100 of 151: yet one voter is not a quorum.
    assert_eq!(
        (d.status(), d.n, d.m, d.voters_revealed),
        (DisputeStatus::Unresolved, 101, 1, 1)
    );
    assert_verdict_error(
        &s.liquidate(&s.miner.node.clone(), LiquidationTarget::Miner)
            .await,
        VerdictError::InvalidDisputeState,
    );
    assert_eq!(s.f.node(&s.miner.node).await.status(), NodeStatus::Active);
    assert_eq!(
        s.f.job(&s.job).await.status(),
        JobStatus::Solved,
        "the payout is released as usual"
    );
}

#[tokio::test]
async fn the_miner_and_the_challenger_cannot_vote() {
    let mut s = scene(WRONG).await;
    s.open(0).await.unwrap();
    let (miner, challenger) = (s.miner.duplicate(), s.committee[0].duplicate());
    assert_verdict_error(
        &s.commit(&miner, WRONG).await,
        VerdictError::PartyCannotVote,
    );
    assert_verdict_error(
        &s.commit(&challenger, RIGHT).await,
        VerdictError::PartyCannotVote,
    );
    assert!(!s.f.exists(&pda::vote(&s.dispute, &miner.node)).await);
    assert_eq!(s.dispute().await.commits, 0);
}

#[tokio::test]
async fn splitting_stake_over_many_minimum_identities_adds_no_weight() {
    let mut s = scene(WRONG).await;
    let params = s.f.config().await.params;
    // A validator's stake split over ten minimum miners, all backing the miner.
    let mut sybils = Vec::new();
    for _ in 0..10 {
        let m = s.f.staked_miner(params.min_miner_stake).await;
        s.f.mint_to(&m.operator.tokens, params.vote_deposit).await;
        sybils.push(m);
    }
    s.f.advance(1).await;
    s.open(0).await.unwrap();
    assert_eq!(s.dispute().await.active_weight, 61);
    let honest = dup(&s.committee[1..]);
    for v in &sybils {
        s.commit(v, WRONG).await.unwrap();
    }
    for v in &honest {
        s.commit(v, RIGHT).await.unwrap();
    }
    let mut split_weight = 0;
    for v in &sybils {
        split_weight += s.vote_of(&v.node).await.weight;
    }
    assert_eq!(
        split_weight,
        s.vote_of(&honest[0].node).await.weight,
        "ten minimum identities weigh one validator"
    );
    assert_eq!(split_weight, params.vote_weight(params.min_validator_stake));
    s.advance_to_reveal_phase().await;
    for v in sybils.iter().chain(&honest) {
        let result = if honest.iter().any(|h| h.node == v.node) {
            RIGHT
        } else {
            WRONG
        };
        s.reveal(v, result).await.unwrap();
    }
    s.advance_to_end_of_vote().await;
    s.resolve().await.unwrap();
    let d = s.dispute().await;
    // n = 41 against m = 10 + 1: 41 > min(110, 40.26): ten more voters changed nothing.
    assert_eq!(
        (d.status(), d.n, d.m, d.voters_revealed),
        (DisputeStatus::Overturned, 41, 11, 14)
    );
    assert_eq!(d.pending_liquidations, 10 + 1);
    for v in &sybils {
        s.liquidate(&v.node, LiquidationTarget::Voter)
            .await
            .unwrap();
    }
    s.liquidate(&s.miner.node.clone(), LiquidationTarget::Miner)
        .await
        .unwrap();
    for v in &honest {
        s.claim_reward(v).await.unwrap();
    }
    assert_eq!(s.dispute().await.pool, 0);
}

#[tokio::test]
async fn eight_voters_revealing_distinct_junk_do_not_block_honest_votes() {
    let mut s = scene(WRONG).await;
    let params = s.f.config().await.params;
    let mut junk = Vec::new();
    for _ in 0..9 {
        let m = s.f.staked_miner(params.min_miner_stake).await;
        s.f.mint_to(&m.operator.tokens, params.vote_deposit).await;
        junk.push(m);
    }
    s.f.advance(1).await;
    s.open(0).await.unwrap();
    assert_eq!(s.dispute().await.active_weight, 60);
    let honest = dup(&s.committee[1..]);
    let junk_result = |i: usize| [100 + i as u8; 32];
    for (i, v) in junk.iter().enumerate() {
        s.commit(v, junk_result(i)).await.unwrap();
    }
    for v in &honest {
        s.commit(v, RIGHT).await.unwrap();
    }
    s.advance_to_reveal_phase().await;
    // Junk first: there is no tally to fill, the honest reveals still count.
    for (i, v) in junk.iter().enumerate() {
        s.reveal(v, junk_result(i)).await.unwrap();
    }
    for v in &honest {
        s.reveal(v, RIGHT).await.unwrap();
    }
    let d = s.dispute().await;
    assert_eq!(
        (d.weight_other, d.weight_challenger, d.voters_revealed),
        (9, 40, 13)
    );
    s.advance_to_end_of_vote().await;
    s.resolve().await.unwrap();
    let d = s.dispute().await;
    // Junk counts against both candidates: n = 41, m = 1 + 9; 41 > min(100, 39.6).
    assert_eq!(
        (d.status(), d.n, d.m, d.result),
        (DisputeStatus::Overturned, 41, 10, RIGHT)
    );
    assert_eq!(
        d.pending_liquidations,
        9 + 1,
        "the junk voters answer for their votes"
    );
    for v in &junk {
        s.liquidate(&v.node, LiquidationTarget::Voter)
            .await
            .unwrap();
    }
    s.liquidate(&s.miner.node.clone(), LiquidationTarget::Miner)
        .await
        .unwrap();
    for v in &honest {
        s.claim_reward(v).await.unwrap();
    }
    for v in &junk {
        s.close_vote(v).await.unwrap();
    }
    assert_eq!(s.dispute().await.pool, 0);
}

#[tokio::test]
async fn an_unrevealed_commit_forfeits_its_deposit_to_the_correct_voters() {
    let mut s = scene(WRONG).await;
    let params = s.f.config().await.params;
    s.open(0).await.unwrap();
    let voters = dup(&s.committee[1..]);
    for v in &voters {
        s.commit(v, RIGHT).await.unwrap();
    }
    s.advance_to_reveal_phase().await;
    for v in &voters[..3] {
        s.reveal(v, RIGHT).await.unwrap();
    }
    assert_eq!(s.dispute().await.deposits_held, params.vote_deposit);
    s.advance_to_end_of_vote().await;
    let out = s.resolve().await.unwrap();
    assert!(out.events.iter().any(
        |e| matches!(e, verdict_sdk::events::VerdictEvent::DisputeResolved(r)
        if r.deposits_forfeited == params.vote_deposit)
    ));
    let d = s.dispute().await;
    // 30 of 51 turned out, three voters: n = 31 > min(10, 33.66).
    assert_eq!(
        (d.status(), d.n, d.m, d.pool, d.deposits_held),
        (DisputeStatus::Overturned, 31, 1, params.vote_deposit, 0)
    );
    let silent = voters[3].duplicate();
    assert_eq!(
        s.balance(&silent).await,
        SPARE - params.vote_deposit,
        "the deposit is gone"
    );
    let miner_stake = s.f.node(&s.miner.node).await.slashable_stake().unwrap();
    s.liquidate(&s.miner.node.clone(), LiquidationTarget::Miner)
        .await
        .unwrap();
    assert_eq!(
        s.dispute().await.reward_total,
        miner_stake + params.vote_deposit
    );
    assert_verdict_error(&s.claim_reward(&silent).await, VerdictError::NoRewardDue);
    s.close_vote(&silent).await.unwrap();
    for v in &voters[..3] {
        s.claim_reward(v).await.unwrap();
    }
    assert_eq!(s.dispute().await.pool, 0);
}

/// A paid Tier 1 job overturned with a dissenter for the wrong output:
/// 7 validators, challenger 0, five for RIGHT, one for WRONG.
async fn paid_overturn_with_a_dissenter() -> (Scene, Vec<NodeHandle>, NodeHandle) {
    let mut s = scene_with(WRONG, true, RiskLevel::Low, 7).await;
    s.f.claim(&s.job, &s.miner).await.unwrap();
    s.open(0).await.unwrap();
    let all = dup(&s.committee);
    let (honest, dissenter) = (dup(&all[1..6]), all[6].duplicate());
    for v in &honest {
        s.commit(v, RIGHT).await.unwrap();
    }
    s.commit(&dissenter, WRONG).await.unwrap();
    s.advance_to_reveal_phase().await;
    for v in &honest {
        s.reveal(v, RIGHT).await.unwrap();
    }
    s.reveal(&dissenter, WRONG).await.unwrap();
    s.advance_to_end_of_vote().await;
    (s, honest, dissenter)
}

#[tokio::test]
async fn crank_order_liquidating_voters_first_still_refunds_the_client_in_full() {
    let (mut s, honest, dissenter) = paid_overturn_with_a_dissenter().await;
    s.resolve().await.unwrap();
    let d = s.dispute().await;
    // n = 51, m = 11 of 71: 51 > min(110, 46.86).
    assert_eq!(
        (d.status(), d.n, d.m, d.pending_liquidations),
        (DisputeStatus::Overturned, 51, 11, 2)
    );
    let owed = d.refund_owed;
    assert!(owed > 0);
    let client_before = s.f.token_balance(&s.client.tokens).await;
    // The dissenting voter first: its stake makes the client whole at once,
    // and the rest of it goes to the reward pool.
    let dissenter_stake = s.f.node(&dissenter.node).await.slashable_stake().unwrap();
    let reward_pool = s.f.config().await.totals.reward_pool;
    s.liquidate(&dissenter.node, LiquidationTarget::Voter)
        .await
        .unwrap();
    assert_eq!(
        s.f.config().await.totals.reward_pool,
        reward_pool + dissenter_stake - owed
    );
    assert_eq!(
        s.f.token_balance(&s.client.tokens).await,
        client_before + owed
    );
    assert_eq!(
        s.f.token_balance(&s.client.tokens).await,
        10 * FEE,
        "the client has its whole fee back"
    );
    assert_eq!(s.dispute().await.refund_owed, 0);
    assert_verdict_error(
        &s.claim_reward(&honest[0]).await,
        VerdictError::LiquidationsPending,
    );
    let miner = s.f.node(&s.miner.node).await;
    let miner_stake = miner.slashable_stake().unwrap();
    // A liquidated miner also forfeits what it was credited, the overturned payout included.
    let forfeited = miner.owed + miner.pending_delegator_rewards;
    assert!(forfeited > 0);
    s.liquidate(&s.miner.node.clone(), LiquidationTarget::Miner)
        .await
        .unwrap();
    assert_eq!(
        s.f.token_balance(&s.client.tokens).await,
        10 * FEE,
        "paid once"
    );
    assert_eq!(
        s.f.node(&s.miner.node).await.owed,
        0,
        "nothing left to withdraw"
    );
    let pool = miner_stake + forfeited;
    assert_eq!(s.dispute().await.reward_total, pool);
    let mut paid = 0;
    for v in &honest {
        let before = s.balance(v).await;
        s.claim_reward(v).await.unwrap();
        paid += s.balance(v).await - before;
    }
    assert_eq!(paid, pool);
    s.close_vote(&dissenter).await.unwrap();
}

#[tokio::test]
async fn refund_theft_through_another_refund_account_is_refused() {
    let (mut s, _honest, dissenter) = paid_overturn_with_a_dissenter().await;
    let thief = s.f.user(0).await;
    // resolve_dispute with the thief's token account as the refund account.
    let mut j = s.f.job(&s.job).await;
    j.refund_account = thief.tokens;
    let d = s.dispute().await;
    let forged = ix::resolve_dispute(&s.job, &j, &d);
    assert_verdict_error(
        &s.f.send(&[forged], &[]).await,
        VerdictError::WrongDestination,
    );
    s.resolve().await.unwrap();
    assert!(s.dispute().await.refund_owed > 0);
    // liquidate, either target, with the thief's account.
    for (node, target) in [
        (dissenter.node, LiquidationTarget::Voter),
        (s.miner.node, LiquidationTarget::Miner),
    ] {
        let forged = ix::liquidate(&s.dispute, &node, target, Some((s.job, thief.tokens)));
        assert_verdict_error(
            &s.f.send(&[forged], &[]).await,
            VerdictError::WrongDestination,
        );
        let missing = ix::liquidate(&s.dispute, &node, target, None);
        assert_verdict_error(
            &s.f.send(&[missing], &[]).await,
            VerdictError::WrongDestination,
        );
    }
    assert_eq!(s.f.token_balance(&thief.tokens).await, 0);
    s.liquidate(&dissenter.node, LiquidationTarget::Voter)
        .await
        .unwrap();
    s.liquidate(&s.miner.node.clone(), LiquidationTarget::Miner)
        .await
        .unwrap();
    assert_eq!(s.f.token_balance(&s.client.tokens).await, 10 * FEE);
    assert_eq!(s.f.token_balance(&thief.tokens).await, 0);
}

#[tokio::test]
async fn a_liquidated_miners_held_payout_refunds_the_client() {
    let mut s = scene(WRONG).await;
    let params = s.f.config().await.params;
    // A second job of the same miner, settled and held (no Tier 1 record).
    let (r, job2) = s.f.submit_job(&s.client, 2, RiskLevel::Low, FEE).await;
    r.unwrap();
    let committee = dup(&s.committee);
    s.f.settle(&committee, &job2, &s.miner.node, PRICE, good_report(4))
        .await
        .unwrap();
    s.open(0).await.unwrap();
    s.vote_all(&committee[1..], RIGHT).await;
    s.liquidate(&s.miner.node.clone(), LiquidationTarget::Miner)
        .await
        .unwrap();
    let miner = s.f.node(&s.miner.node).await;
    assert_eq!(miner.status(), NodeStatus::Liquidated);
    assert_eq!(
        (miner.exposure, miner.refund_reserve),
        (PRICE, PRICE),
        "job 1's exposure went with its refund; job 2's price is kept back for its client"
    );
    assert_eq!(
        s.dispute().await.pool,
        params.min_miner_stake - PRICE,
        "the voters share the rest of its stake"
    );
    assert_eq!(
        s.f.token_balance(&s.client.tokens).await,
        9 * FEE,
        "job 1 refunded, job 2 still held"
    );
    s.f.advance(2 * params.epoch_secs).await;
    s.f.claim(&job2, &s.miner).await.unwrap();
    assert_eq!(s.f.job(&job2).await.status(), JobStatus::Refunded);
    assert_eq!(
        s.f.token_balance(&s.client.tokens).await,
        10 * FEE,
        "the client gets job 2's whole fee back"
    );
    assert_eq!(
        s.f.node(&s.miner.node).await.owed,
        0,
        "the liquidated miner earns nothing"
    );
    // Job 2 closes: no dispute can reach it, so its reserve is freed.
    let pool_before = s.f.config().await.totals.reward_pool;
    let j = s.f.job(&job2).await;
    s.f.send(&[ix::close_job(&job2, &j)], &[]).await.unwrap();
    let miner = s.f.node(&s.miner.node).await;
    assert_eq!((miner.exposure, miner.refund_reserve), (0, 0));
    assert_eq!(
        s.f.config().await.totals.reward_pool,
        pool_before + PRICE,
        "a reserve no longer needed goes to the reward pool"
    );
}
