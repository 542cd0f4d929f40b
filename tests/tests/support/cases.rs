//! One case per instruction that moves tokens or stake: the scene, the
//! valid transaction, and its substitution table. In each table, for every
//! writable account: another account of the same type (another node, job,
//! dispute, vote, ticket, delegation, vault), a look-alike (right type or
//! mint, bound to something else: a token account of the right mint whose
//! authority is the right PDA but at another address, a thief's account),
//! and for token accounts one of another mint.

use super::*;
use verdict::state::Offense;
use Why::{A, V};

/// Every case's name, in protocol order (what `attacks.rs` pauses).
pub const TOKEN_MOVING: &[&str] = &[
    "stake",
    "request_unstake",
    "withdraw_unbonded",
    "delegate",
    "request_undelegate",
    "withdraw_undelegated",
    "submit_job",
    "settle_job",
    "fail_job",
    "reject_job",
    "expire_job",
    "claim_payout",
    "close_job",
    "claim_refund",
    "withdraw_owed",
    "claim_boost",
    "compound_rewards",
    "fund_reward_pool",
    "slash_node",
    "open_dispute",
    "commit_vote",
    "reveal_vote",
    "resolve_dispute",
    "liquidate",
    "claim_dispute_reward",
];

pub async fn build(name: &str) -> Case {
    // Boxed: the scenes' futures are large, and a match over all of them
    // would not fit a test thread's stack.
    match name {
        "stake" => Box::pin(stake()).await,
        "request_unstake" => Box::pin(request_unstake()).await,
        "withdraw_unbonded" => Box::pin(withdraw_unbonded()).await,
        "delegate" => Box::pin(delegate()).await,
        "request_undelegate" => Box::pin(request_undelegate()).await,
        "withdraw_undelegated" => Box::pin(withdraw_undelegated()).await,
        "submit_job" => Box::pin(submit_job()).await,
        "settle_job" => Box::pin(settle_job()).await,
        "fail_job" => Box::pin(fail_job()).await,
        "reject_job" => Box::pin(reject_job()).await,
        "expire_job" => Box::pin(expire_job()).await,
        "claim_payout" => Box::pin(claim_payout()).await,
        "close_job" => Box::pin(close_job()).await,
        "claim_refund" => Box::pin(claim_refund()).await,
        "withdraw_owed" => Box::pin(withdraw_owed()).await,
        "claim_boost" => Box::pin(claim_boost()).await,
        "compound_rewards" => Box::pin(compound_rewards()).await,
        "fund_reward_pool" => Box::pin(fund_reward_pool()).await,
        "slash_node" => Box::pin(slash_node()).await,
        "open_dispute" => Box::pin(open_dispute()).await,
        "commit_vote" => Box::pin(commit_vote()).await,
        "reveal_vote" => Box::pin(reveal_vote()).await,
        "resolve_dispute" => Box::pin(resolve_dispute()).await,
        "liquidate" => Box::pin(liquidate()).await,
        "claim_dispute_reward" => Box::pin(claim_dispute_reward()).await,
        "close_vote" => Box::pin(close_vote()).await,
        other => panic!("no case {other}"),
    }
}

/// Rows every instruction writing the Config and the stake vault shares.
async fn config_and_vault(c: &mut Case) {
    let lookalike = c.w.lookalike(&pda::config()).await;
    let foreign = c.w.wrong_mint(&pda::config()).await;
    let node_vault = pda::node_vault(&c.w.other_miner.node);
    c.sub(
        "config: the committee account",
        &pda::config(),
        pda::committee(),
        A(ErrorCode::AccountDiscriminatorMismatch),
    );
    let vault = pda::stake_vault();
    if c.ix().accounts.iter().any(|m| m.pubkey == vault) {
        c.sub(
            "stake vault: a stake-mint account of the Config PDA",
            &vault,
            lookalike,
            V(VerdictError::WrongVault),
        );
        c.sub(
            "stake vault: a node vault",
            &vault,
            node_vault,
            V(VerdictError::WrongVault),
        );
        c.sub(
            "stake vault: another mint's account of the Config PDA",
            &vault,
            foreign,
            V(VerdictError::WrongVault),
        );
    }
}

/// A user's token account replaced by the thief's and by one of another mint.
async fn user_tokens(c: &mut Case, account: &Pubkey, owner: &Pubkey, not_owner: VerdictError) {
    let thief = c.w.thief.tokens;
    let foreign = c.w.wrong_mint(owner).await;
    c.sub("tokens: the thief's account", account, thief, V(not_owner));
    c.sub(
        "tokens: the owner's account of another mint",
        account,
        foreign,
        V(VerdictError::WrongMint),
    );
}

/// A job's escrow replaced by another job's and by a look-alike of the job
/// PDA: refused as `WrongVault` where the job's recorded escrow binds it.
async fn escrow(c: &mut Case, job: &Pubkey, other_job: &Pubkey) {
    escrow_refused_as(c, job, other_job, V(VerdictError::WrongVault)).await;
}

/// The same substitutions, refused as `refusal` (`submit_job` creates the
/// escrow at its seeds, so a wrong one there fails the seeds check).
async fn escrow_refused_as(c: &mut Case, job: &Pubkey, other_job: &Pubkey, refusal: Why) {
    let lookalike = c.w.lookalike(job).await;
    let escrow = pda::escrow(job);
    c.sub(
        "escrow: another job's",
        &escrow,
        pda::escrow(other_job),
        refusal,
    );
    c.sub(
        "escrow: a stake-mint account of the job PDA",
        &escrow,
        lookalike,
        refusal,
    );
}

/// A node vault replaced by another node's and by a look-alike of the node PDA.
async fn node_vault(c: &mut Case, node: &Pubkey, other: &Pubkey) {
    let lookalike = c.w.lookalike(node).await;
    let vault = pda::node_vault(node);
    c.sub(
        "node vault: another node's",
        &vault,
        pda::node_vault(other),
        V(VerdictError::WrongVault),
    );
    c.sub(
        "node vault: a stake-mint account of the node PDA",
        &vault,
        lookalike,
        V(VerdictError::WrongVault),
    );
}

/// A recorded refund account replaced by the thief's and by the client's of another mint.
async fn refund_account(c: &mut Case, refund: &Pubkey, client: &Pubkey) {
    let thief = c.w.thief.tokens;
    let foreign = c.w.wrong_mint(client).await;
    c.sub(
        "refund account: the thief's",
        refund,
        thief,
        V(VerdictError::WrongDestination),
    );
    c.sub(
        "refund account: the client's of another mint",
        refund,
        foreign,
        V(VerdictError::WrongDestination),
    );
}

// Stake.

pub async fn stake() -> Case {
    let mut w = World::new(5).await;
    let op = w.miner.operator.keypair.insecure_clone();
    let tokens = w.miner.operator.tokens;
    w.f.mint_to(&tokens, TOKEN).await;
    let (node, other) = (w.miner.node, w.other_miner.node);
    let mut c = Case::new(
        "stake",
        w,
        vec![ix::stake(&op.pubkey(), &tokens, TOKEN)],
        vec![op.insecure_clone()],
    );
    config_and_vault(&mut c).await;
    c.sub(
        "node: another node",
        &node,
        other,
        V(VerdictError::Unauthorized),
    );
    user_tokens(&mut c, &tokens, &op.pubkey(), VerdictError::WrongTokenOwner).await;
    c
}

pub async fn request_unstake() -> Case {
    let w = World::new(5).await;
    let op = w.miner.operator.keypair.insecure_clone();
    let (node, other) = (w.miner.node, w.other_miner.node);
    let id = w.f.node(&node).await.next_ticket_id;
    let min = w.params.min_miner_stake;
    let mut c = Case::new(
        "request_unstake",
        w,
        vec![ix::request_unstake(&op.pubkey(), id, min)],
        vec![op],
    );
    config_and_vault(&mut c).await;
    c.sub(
        "node: another node",
        &node,
        other,
        A(ErrorCode::ConstraintSeeds),
    );
    let ticket = pda::unbond_ticket(&node, id);
    c.sub(
        "ticket: the next id's",
        &ticket,
        pda::unbond_ticket(&node, id + 1),
        A(ErrorCode::ConstraintSeeds),
    );
    c.sub(
        "ticket: another node's",
        &ticket,
        pda::unbond_ticket(&other, id),
        A(ErrorCode::ConstraintSeeds),
    );
    c
}

/// The miner's, the other miner's and alice's (a delegator of the miner) tickets, all released.
struct Tickets {
    w: World,
    alice: User,
    miner_ticket: Pubkey,
    other_miner_ticket: Pubkey,
    alice_ticket: Pubkey,
    alice_other_ticket: Pubkey,
}

async fn tickets() -> Tickets {
    let mut w = World::new(5).await;
    let min = w.params.min_miner_stake;
    let alice = w.f.user(4 * TOKEN).await;
    let (miner, other) = (w.miner.duplicate(), w.other_miner.duplicate());
    w.f.delegate(&alice, &miner.node, 2 * TOKEN).await.unwrap();
    w.f.delegate(&alice, &other.node, 2 * TOKEN).await.unwrap();
    let (r, miner_ticket) = w.f.request_unstake(&miner, min).await;
    r.unwrap();
    let (r, other_miner_ticket) = w.f.request_unstake(&other, min).await;
    r.unwrap();
    let (r, alice_ticket) = w.f.request_undelegate(&alice, &miner.node, TOKEN).await;
    r.unwrap();
    let (r, alice_other_ticket) = w.f.request_undelegate(&alice, &other.node, TOKEN).await;
    r.unwrap();
    w.f.advance(w.params.unbonding_secs).await;
    Tickets {
        w,
        alice,
        miner_ticket,
        other_miner_ticket,
        alice_ticket,
        alice_other_ticket,
    }
}

pub async fn withdraw_unbonded() -> Case {
    let mut t = tickets().await;
    let op = t.w.miner.operator.keypair.insecure_clone();
    let tokens = t.w.miner.operator.tokens;
    let foreign = t.w.wrong_mint(&op.pubkey()).await;
    let (node, other) = (t.w.miner.node, t.w.other_miner.node);
    let withdraw = ix::withdraw_unbonded(&op.pubkey(), &node, &t.miner_ticket, &tokens);
    let mut c = Case::new("withdraw_unbonded", t.w, vec![withdraw], vec![op]);
    config_and_vault(&mut c).await;
    c.sub(
        "node: another node",
        &node,
        other,
        V(VerdictError::WrongNode),
    );
    c.sub(
        "ticket: another node's",
        &t.miner_ticket,
        t.other_miner_ticket,
        V(VerdictError::WrongNode),
    );
    c.sub(
        "ticket: a delegator's of the same node",
        &t.miner_ticket,
        t.alice_ticket,
        V(VerdictError::Unauthorized),
    );
    // Any stake-mint account is the signing owner's own choice.
    c.sub(
        "destination: the owner's of another mint",
        &tokens,
        foreign,
        V(VerdictError::WrongMint),
    );
    c
}

pub async fn withdraw_undelegated() -> Case {
    let mut t = tickets().await;
    let alice = dup_user(&t.alice);
    let foreign = t.w.wrong_mint(&alice.pubkey()).await;
    let (node, other) = (t.w.miner.node, t.w.other_miner.node);
    let withdraw = ix::withdraw_undelegated(&alice.pubkey(), &node, &t.alice_ticket, &alice.tokens);
    let mut c = Case::new(
        "withdraw_undelegated",
        t.w,
        vec![withdraw],
        vec![alice.keypair.insecure_clone()],
    );
    config_and_vault(&mut c).await;
    c.sub(
        "node: another node",
        &node,
        other,
        V(VerdictError::WrongNode),
    );
    c.sub(
        "ticket: the owner's on another node",
        &t.alice_ticket,
        t.alice_other_ticket,
        V(VerdictError::WrongNode),
    );
    c.sub(
        "ticket: the operator's self-stake ticket of the same node",
        &t.alice_ticket,
        t.miner_ticket,
        V(VerdictError::Unauthorized),
    );
    c.sub(
        "destination: the owner's of another mint",
        &alice.tokens,
        foreign,
        V(VerdictError::WrongMint),
    );
    c
}

pub async fn delegate() -> Case {
    let mut w = World::new(5).await;
    let alice = w.f.user(4 * TOKEN).await;
    let bob = w.f.user(4 * TOKEN).await;
    let (node, other) = (w.miner.node, w.other_miner.node);
    w.f.delegate(&bob, &node, TOKEN).await.unwrap();
    w.f.delegate(&alice, &other, TOKEN).await.unwrap();
    let delegate = ix::delegate(&alice.pubkey(), &node, &alice.tokens, TOKEN);
    let mut c = Case::new(
        "delegate",
        w,
        vec![delegate],
        vec![alice.keypair.insecure_clone()],
    );
    config_and_vault(&mut c).await;
    c.sub(
        "node: another node",
        &node,
        other,
        A(ErrorCode::ConstraintSeeds),
    );
    let delegation = pda::delegation(&node, &alice.pubkey());
    c.sub(
        "delegation: another staker's of the node",
        &delegation,
        pda::delegation(&node, &bob.pubkey()),
        A(ErrorCode::ConstraintSeeds),
    );
    c.sub(
        "delegation: the staker's of another node",
        &delegation,
        pda::delegation(&other, &alice.pubkey()),
        A(ErrorCode::ConstraintSeeds),
    );
    user_tokens(
        &mut c,
        &alice.tokens,
        &alice.pubkey(),
        VerdictError::WrongTokenOwner,
    )
    .await;
    node_vault(&mut c, &node, &other).await;
    c
}

pub async fn request_undelegate() -> Case {
    let mut w = World::new(5).await;
    let alice = w.f.user(4 * TOKEN).await;
    let bob = w.f.user(4 * TOKEN).await;
    let (node, other) = (w.miner.node, w.other_miner.node);
    w.f.delegate(&alice, &node, 2 * TOKEN).await.unwrap();
    w.f.delegate(&bob, &node, TOKEN).await.unwrap();
    w.f.delegate(&alice, &other, TOKEN).await.unwrap();
    let id = w.f.node(&node).await.next_ticket_id;
    let undelegate = ix::request_undelegate(&alice.pubkey(), &node, id, TOKEN);
    let mut c = Case::new(
        "request_undelegate",
        w,
        vec![undelegate],
        vec![alice.keypair.insecure_clone()],
    );
    config_and_vault(&mut c).await;
    c.sub(
        "node: another node",
        &node,
        other,
        A(ErrorCode::ConstraintSeeds),
    );
    let delegation = pda::delegation(&node, &alice.pubkey());
    c.sub(
        "delegation: another staker's of the node",
        &delegation,
        pda::delegation(&node, &bob.pubkey()),
        V(VerdictError::Unauthorized),
    );
    c.sub(
        "delegation: the staker's of another node",
        &delegation,
        pda::delegation(&other, &alice.pubkey()),
        V(VerdictError::WrongNode),
    );
    let ticket = pda::unbond_ticket(&node, id);
    c.sub(
        "ticket: the next id's",
        &ticket,
        pda::unbond_ticket(&node, id + 1),
        A(ErrorCode::ConstraintSeeds),
    );
    c.sub(
        "ticket: another node's",
        &ticket,
        pda::unbond_ticket(&other, 0),
        A(ErrorCode::ConstraintSeeds),
    );
    node_vault(&mut c, &node, &other).await;
    c
}

// Jobs.

pub async fn submit_job() -> Case {
    let mut w = World::new(5).await;
    let client = dup_user(&w.client);
    let other_job = w.submit(1, 7, RiskLevel::Low).await;
    let mint = w.f.mint;
    let other_mint = w.other_mint;
    let submit = ix::submit_job(
        &client.pubkey(),
        &client.tokens,
        &mint,
        7,
        test_model(),
        [7; 32],
        RiskLevel::Low,
        FEE,
    );
    let job = pda::job(&client.pubkey(), 7);
    let mut c = Case::new(
        "submit_job",
        w,
        vec![submit],
        vec![client.keypair.insecure_clone()],
    );
    c.sub(
        "job: another id's address",
        &job,
        pda::job(&client.pubkey(), 8),
        A(ErrorCode::ConstraintSeeds),
    );
    c.sub(
        "job: another client's existing job",
        &job,
        other_job,
        A(ErrorCode::ConstraintSeeds),
    );
    escrow_refused_as(&mut c, &job, &other_job, A(ErrorCode::ConstraintSeeds)).await;
    c.sub(
        "stake mint: another mint",
        &mint,
        other_mint,
        V(VerdictError::WrongMint),
    );
    user_tokens(
        &mut c,
        &client.tokens,
        &client.pubkey(),
        VerdictError::WrongTokenOwner,
    )
    .await;
    c
}

pub async fn settle_job() -> Case {
    let mut w = World::new(5).await;
    let job = w.submit(0, 1, RiskLevel::Low).await;
    let other_job = w.submit(1, 1, RiskLevel::Low).await;
    let (miner, other) = (w.miner.node, w.other_miner.node);
    let validator = w.committee[4].node;
    let epoch = w.f.committee().await.epoch;
    let slot = w.f.job(&job).await.created_slot;
    let message = attest::settle_message(epoch, &job, slot, &miner, 1, PRICE, &good_report(1));
    let tx = w
        .attested(
            &message,
            ix::settle_job(&job, &miner, PRICE, good_report(1)),
        )
        .await;
    let mut c = Case::new("settle_job", w, tx, vec![]);
    c.sub(
        "job: another client's job",
        &job,
        other_job,
        V(VerdictError::AttestationMismatch),
    );
    c.sub(
        "miner: another eligible miner",
        &miner,
        other,
        V(VerdictError::AttestationMismatch),
    );
    c.sub(
        "miner: a validator's node",
        &miner,
        validator,
        V(VerdictError::MinerNotEligible),
    );
    c
}

/// An allocated job of the client (to the miner) and of the other client
/// (to the other miner), the client's at its last attempt.
async fn allocated() -> (World, Pubkey, Pubkey) {
    let mut w = World::new(5).await;
    let job = w.submit(0, 1, RiskLevel::Low).await;
    let other_job = w.submit(1, 1, RiskLevel::Low).await;
    let (miner, other) = (w.miner.node, w.other_miner.node);
    for _ in 1..w.params.max_job_attempts {
        w.f.assign(&w.committee, &job, &miner, PRICE).await.unwrap();
        w.f.fail(&w.committee, &job, verdict::state::FailReason::Timeout)
            .await
            .unwrap();
    }
    w.f.assign(&w.committee, &job, &miner, PRICE).await.unwrap();
    w.f.assign(&w.committee, &other_job, &other, PRICE)
        .await
        .unwrap();
    (w, job, other_job)
}

pub async fn fail_job() -> Case {
    let (w, job, other_job) = allocated().await;
    let (miner, other) = (w.miner.node, w.other_miner.node);
    let client = w.client.pubkey();
    let refund = w.client.tokens;
    let epoch = w.f.committee().await.epoch;
    let j = w.f.job(&job).await;
    let reason = verdict::state::FailReason::InvalidOutput;
    let message = attest::fail_message(epoch, &job, j.created_slot, &miner, j.attempts, reason);
    let tx = w
        .attested(&message, ix::fail_job(&job, &miner, &refund, reason))
        .await;
    let mut c = Case::new("fail_job", w, tx, vec![]);
    config_and_vault(&mut c).await;
    c.sub(
        "job: another client's job",
        &job,
        other_job,
        V(VerdictError::WrongMiner),
    );
    c.sub(
        "miner: another miner",
        &miner,
        other,
        V(VerdictError::WrongMiner),
    );
    escrow(&mut c, &job, &other_job).await;
    refund_account(&mut c, &refund, &client).await;
    c
}

pub async fn reject_job() -> Case {
    let mut w = World::new(5).await;
    let job = w.submit(0, 1, RiskLevel::Low).await;
    let other_job = w.submit(1, 1, RiskLevel::Low).await;
    let client = w.client.pubkey();
    let refund = w.client.tokens;
    let epoch = w.f.committee().await.epoch;
    let slot = w.f.job(&job).await.created_slot;
    let message = attest::reject_message(epoch, &job, slot, 1);
    let tx = w.attested(&message, ix::reject_job(&job, &refund, 1)).await;
    let mut c = Case::new("reject_job", w, tx, vec![]);
    c.sub(
        "job: another client's job",
        &job,
        other_job,
        V(VerdictError::WrongVault),
    );
    escrow(&mut c, &job, &other_job).await;
    refund_account(&mut c, &refund, &client).await;
    c
}

pub async fn expire_job() -> Case {
    let (mut w, job, other_job) = allocated().await;
    let ttl = w.params.allocated_ttl_secs;
    w.f.advance(ttl).await;
    let (miner, other) = (w.miner.node, w.other_miner.node);
    let client = w.client.pubkey();
    let refund = w.client.tokens;
    let expire = ix::expire_job(&job, Some(miner), &refund);
    let mut c = Case::new("expire_job", w, vec![expire], vec![]);
    config_and_vault(&mut c).await;
    c.sub(
        "job: another client's job",
        &job,
        other_job,
        V(VerdictError::WrongMiner),
    );
    c.sub(
        "miner: another miner",
        &miner,
        other,
        V(VerdictError::WrongMiner),
    );
    escrow(&mut c, &job, &other_job).await;
    refund_account(&mut c, &refund, &client).await;
    c
}

/// Three settled jobs: the client's and the other client's by the miner,
/// and the client's job 2 by the other miner; held payouts released.
async fn settled_three() -> (World, Pubkey, Pubkey, Pubkey) {
    let mut w = World::new(5).await;
    let (miner, other) = (w.miner.node, w.other_miner.node);
    let job = w.settled(0, 1, &miner, WRONG).await;
    let same_miner = w.settled(1, 1, &miner, WRONG).await;
    let other_miner = w.settled(0, 2, &other, WRONG).await;
    let hold = 2 * w.params.epoch_secs;
    w.f.advance(hold).await;
    (w, job, same_miner, other_miner)
}

pub async fn claim_payout() -> Case {
    let (w, job, same_miner, other_miners) = settled_three().await;
    let (miner, other) = (w.miner.node, w.other_miner.node);
    let client = w.client.pubkey();
    let refund = w.client.tokens;
    let claim = ix::claim_payout(&job, &miner, &refund);
    let mut c = Case::new("claim_payout", w, vec![claim], vec![]);
    c.sub(
        "job: another job of the same miner",
        &job,
        same_miner,
        V(VerdictError::WrongVault),
    );
    c.sub(
        "job: the client's job of another miner",
        &job,
        other_miners,
        V(VerdictError::WrongMiner),
    );
    c.sub(
        "miner: another miner",
        &miner,
        other,
        V(VerdictError::WrongMiner),
    );
    escrow(&mut c, &job, &same_miner).await;
    node_vault(&mut c, &miner, &other).await;
    refund_account(&mut c, &refund, &client).await;
    c
}

pub async fn close_job() -> Case {
    let (mut w, job, same_miner, other_miners) = settled_three().await;
    let miner = w.miner.duplicate();
    for j in [job, same_miner] {
        w.f.claim(&j, &miner).await.unwrap();
    }
    let other = w.other_miner.duplicate();
    w.f.claim(&other_miners, &other).await.unwrap();
    let j = w.f.job(&job).await;
    assert!(j.signers().len() == 3 && j.exposure > 0);
    let outsider_validator = w.committee[4].node;
    let thief = w.thief.pubkey();
    let close = ix::close_job(&job, &j);
    let named = close.accounts.len() - 6;
    let mut c = Case::new("close_job", w, vec![close], vec![]);
    config_and_vault(&mut c).await;
    c.sub(
        "job: another client's job",
        &job,
        same_miner,
        V(VerdictError::WrongDestination),
    );
    c.sub(
        "job: the client's job of another miner",
        &job,
        other_miners,
        V(VerdictError::WrongVault),
    );
    c.sub(
        "client: the thief's wallet",
        &j.client,
        thief,
        V(VerdictError::WrongDestination),
    );
    c.sub(
        "escrow: another job's",
        &pda::escrow(&job),
        pda::escrow(&same_miner),
        V(VerdictError::WrongVault),
    );
    let lookalike = c.w.lookalike(&job).await;
    c.sub(
        "escrow: a stake-mint account of the job PDA",
        &pda::escrow(&job),
        lookalike,
        V(VerdictError::WrongVault),
    );
    c.sub(
        "miner: another miner",
        &miner.node,
        other.node,
        V(VerdictError::WrongMiner),
    );
    for i in 0..3 {
        c.sub_at(
            &format!("signer {i}: a validator that did not sign"),
            named + i,
            outsider_validator,
            V(VerdictError::WrongSigners),
        );
        let lookalike = c.w.lookalike(&j.signers()[i]).await;
        c.sub_at(
            &format!("signer {i}'s vault: a stake-mint account of its node PDA"),
            named + 3 + i,
            lookalike,
            V(VerdictError::WrongSigners),
        );
        c.sub_at(
            &format!("signer {i}'s vault: a non-signer's vault"),
            named + 3 + i,
            pda::node_vault(&outsider_validator),
            V(VerdictError::WrongSigners),
        );
    }
    c
}

pub async fn claim_refund() -> Case {
    let mut w = World::new(5).await;
    // Two clients whose recorded refund accounts are closed: each refund waits as client_owed.
    let mut jobs = Vec::new();
    let mut clients = Vec::new();
    for _ in 0..2 {
        let client = w.f.user(2 * FEE).await;
        for id in 1..=2 {
            let (r, job) = w.f.submit_job(&client, id, RiskLevel::Low, FEE).await;
            r.unwrap();
            jobs.push(job);
        }
        let close = spl_token::instruction::close_account(
            &spl_token::ID,
            &client.tokens,
            &client.pubkey(),
            &client.pubkey(),
            &[],
        )
        .unwrap();
        w.f.send(&[close], &[&client.keypair]).await.unwrap();
        clients.push(client);
    }
    let miner = w.miner.duplicate();
    for job in &jobs {
        w.f.settle(&w.committee, job, &miner.node, PRICE, good_report(1))
            .await
            .unwrap();
    }
    w.f.advance(2 * w.params.epoch_secs).await;
    for job in &jobs {
        w.f.claim(job, &miner).await.unwrap();
        assert_eq!(w.f.job(job).await.client_owed, FEE - PRICE);
    }
    let client = dup_user(&clients[0]);
    let mint = w.f.mint;
    let fresh = w.f.token_account(&client.pubkey(), &mint).await;
    let claim = ix::claim_refund(&client.pubkey(), &jobs[0], &fresh);
    let mut c = Case::new(
        "claim_refund",
        w,
        vec![claim],
        vec![client.keypair.insecure_clone()],
    );
    c.sub(
        "job: another client's job owed a refund",
        &jobs[0],
        jobs[2],
        V(VerdictError::Unauthorized),
    );
    c.sub(
        "job: the client's other job owed a refund",
        &jobs[0],
        jobs[1],
        V(VerdictError::WrongVault),
    );
    escrow(&mut c, &jobs[0], &jobs[1]).await;
    user_tokens(
        &mut c,
        &fresh,
        &client.pubkey(),
        VerdictError::WrongDestination,
    )
    .await;
    c
}

pub async fn withdraw_owed() -> Case {
    let (mut w, job, _, other_miners) = settled_three().await;
    let (miner, other) = (w.miner.duplicate(), w.other_miner.duplicate());
    w.f.claim(&job, &miner).await.unwrap();
    w.f.claim(&other_miners, &other).await.unwrap();
    let op = miner.operator.keypair.insecure_clone();
    let withdraw = ix::withdraw_owed(&op.pubkey(), &miner.operator.tokens);
    let mut c = Case::new(
        "withdraw_owed",
        w,
        vec![withdraw],
        vec![op.insecure_clone()],
    );
    c.sub(
        "node: another node",
        &miner.node,
        other.node,
        V(VerdictError::Unauthorized),
    );
    node_vault(&mut c, &miner.node, &other.node).await;
    user_tokens(
        &mut c,
        &miner.operator.tokens,
        &op.pubkey(),
        VerdictError::WrongDestination,
    )
    .await;
    c
}

/// Both miners Tier 1 and owed a boost; the reward pool funded.
async fn boosted() -> World {
    let mut w = World::new(5).await;
    let (miner, other) = (w.miner.duplicate(), w.other_miner.duplicate());
    w.tier_one(&miner.node).await;
    w.tier_one(&other.node).await;
    let job = w.settled(0, 1, &miner.node, WRONG).await;
    let other_job = w.settled(0, 2, &other.node, WRONG).await;
    w.f.claim(&job, &miner).await.unwrap();
    w.f.claim(&other_job, &other).await.unwrap();
    assert!(w.f.node(&miner.node).await.boost_owed > 0);
    let sponsor = w.f.user(100 * TOKEN).await;
    let fund = ix::fund_reward_pool(&sponsor.pubkey(), &sponsor.tokens, 100 * TOKEN);
    w.f.send(&[fund], &[&sponsor.keypair]).await.unwrap();
    w
}

pub async fn claim_boost() -> Case {
    let w = boosted().await;
    let (miner, other) = (w.miner.duplicate(), w.other_miner.duplicate());
    let claim = ix::claim_boost(&miner.node, &miner.operator.tokens);
    let mut c = Case::new("claim_boost", w, vec![claim], vec![]);
    config_and_vault(&mut c).await;
    c.sub(
        "node: another node owed a boost",
        &miner.node,
        other.node,
        V(VerdictError::WrongDestination),
    );
    user_tokens(
        &mut c,
        &miner.operator.tokens,
        &miner.operator.pubkey(),
        VerdictError::WrongDestination,
    )
    .await;
    c
}

pub async fn compound_rewards() -> Case {
    let mut w = World::new(5).await;
    let (miner, other) = (w.miner.duplicate(), w.other_miner.duplicate());
    let alice = w.f.user(4 * TOKEN).await;
    w.f.delegate(&alice, &miner.node, 2 * TOKEN).await.unwrap();
    w.f.delegate(&alice, &other.node, 2 * TOKEN).await.unwrap();
    let job = w.settled(0, 1, &miner.node, WRONG).await;
    let other_job = w.settled(0, 2, &other.node, WRONG).await;
    w.f.advance(2 * w.params.epoch_secs).await;
    w.f.claim(&job, &miner).await.unwrap();
    w.f.claim(&other_job, &other).await.unwrap();
    assert!(w.f.node(&miner.node).await.pending_delegator_rewards > 0);
    let mut c = Case::new(
        "compound_rewards",
        w,
        vec![ix::compound_rewards(&miner.node)],
        vec![],
    );
    config_and_vault(&mut c).await;
    // Another node's own vault makes a valid compound of that node: the
    // node and its vault travel together, so each is swapped alone.
    c.sub(
        "node: another node",
        &miner.node,
        other.node,
        V(VerdictError::WrongVault),
    );
    node_vault(&mut c, &miner.node, &other.node).await;
    c
}

pub async fn fund_reward_pool() -> Case {
    let mut w = World::new(5).await;
    let sponsor = w.f.user(10 * TOKEN).await;
    let fund = ix::fund_reward_pool(&sponsor.pubkey(), &sponsor.tokens, TOKEN);
    let mut c = Case::new(
        "fund_reward_pool",
        w,
        vec![fund],
        vec![sponsor.keypair.insecure_clone()],
    );
    config_and_vault(&mut c).await;
    user_tokens(
        &mut c,
        &sponsor.tokens,
        &sponsor.pubkey(),
        VerdictError::WrongTokenOwner,
    )
    .await;
    c
}

pub async fn slash_node() -> Case {
    let w = World::new(5).await;
    let authority = w.f.authority.insecure_clone();
    let payer = w.f.chain.payer().await.pubkey();
    let (miner, other) = (w.miner.node, w.other_miner.node);
    let evidence = [7; 32];
    let slash = ix::slash_node(
        &payer,
        Some(authority.pubkey()),
        &miner,
        Offense::InvalidSignature,
        evidence,
    );
    let mut c = Case::new("slash_node", w, vec![slash], vec![authority]);
    config_and_vault(&mut c).await;
    c.sub(
        "node: another node",
        &miner,
        other,
        A(ErrorCode::ConstraintSeeds),
    );
    let record = pda::slash_record(&miner, &evidence);
    c.sub(
        "record: another evidence's",
        &record,
        pda::slash_record(&miner, &[8; 32]),
        A(ErrorCode::ConstraintSeeds),
    );
    c.sub(
        "record: another node's",
        &record,
        pda::slash_record(&other, &evidence),
        A(ErrorCode::ConstraintSeeds),
    );
    c
}

// Disputes.

pub async fn open_dispute() -> Case {
    // High risk: the accountable co-signers are remaining accounts.
    let mut w = World::new(5).await;
    let miner = w.miner.node;
    w.tier_one(&miner).await;
    let mut jobs = Vec::new();
    for id in 1..=2 {
        let job = w.submit(0, id, RiskLevel::High).await;
        w.f.assign(&w.committee, &job, &miner, PRICE).await.unwrap();
        w.f.complete(&w.committee, &job, good_report(1))
            .await
            .unwrap();
        jobs.push(job);
    }
    let challenger = w.committee[3].duplicate();
    let bystander = w.committee[4].node;
    let other = w.other_miner.node;
    let j = w.f.job(&jobs[0]).await;
    let op = challenger.operator.keypair.insecure_clone();
    let open = ix::open_dispute(
        &op.pubkey(),
        &challenger.operator.tokens,
        &jobs[0],
        &j,
        RIGHT,
    );
    let named = open.accounts.len() - 3;
    let mut c = Case::new("open_dispute", w, vec![open], vec![op.insecure_clone()]);
    config_and_vault(&mut c).await;
    c.sub(
        "challenger: another validator's node",
        &challenger.node,
        bystander,
        V(VerdictError::Unauthorized),
    );
    c.sub(
        "job: another job of the same miner",
        &jobs[0],
        jobs[1],
        A(ErrorCode::ConstraintSeeds),
    );
    c.sub(
        "miner: another miner",
        &miner,
        other,
        V(VerdictError::WrongMiner),
    );
    c.sub(
        "dispute: another job's",
        &pda::dispute(&jobs[0]),
        pda::dispute(&jobs[1]),
        A(ErrorCode::ConstraintSeeds),
    );
    user_tokens(
        &mut c,
        &challenger.operator.tokens,
        &op.pubkey(),
        VerdictError::WrongTokenOwner,
    )
    .await;
    for i in 0..3 {
        c.sub_at(
            &format!("co-signer {i}: a validator that did not sign"),
            named + i,
            bystander,
            V(VerdictError::WrongSigners),
        );
    }
    c
}

/// How far [`disputes`] goes.
#[derive(Clone, Copy, PartialEq, PartialOrd)]
pub enum Stage {
    Opened,
    Committed,
    Revealed,
    Resolved,
    Liquidated,
}

/// Seven validators; a Tier 1 miner whose two paid jobs (A, the client's,
/// and B, the other client's) reported WRONG; validator 0 challenges both
/// with RIGHT; validators 1–5 vote RIGHT and validator 6 WRONG on both;
/// A's dissenter and miner are liquidated last.
pub struct Disputes {
    pub w: World,
    pub a: Pubkey,
    pub b: Pubkey,
}

pub const HONEST: std::ops::RangeInclusive<usize> = 1..=5;
pub const DISSENTER: usize = 6;

pub async fn disputes(stage: Stage) -> Disputes {
    let mut w = World::new(7).await;
    let miner = w.miner.duplicate();
    w.tier_one(&miner.node).await;
    let a = w.settled(0, 1, &miner.node, WRONG).await;
    let b = w.settled(1, 1, &miner.node, WRONG).await;
    for job in [a, b] {
        w.f.claim(&job, &miner).await.unwrap();
    }
    w.f.advance(60).await;
    for job in [a, b] {
        w.open(0, &job, RIGHT).await;
    }
    if stage >= Stage::Committed {
        for job in [a, b] {
            for v in HONEST {
                w.commit(v, &job, RIGHT).await;
            }
            w.commit(DISSENTER, &job, WRONG).await;
        }
        w.f.advance(w.params.vote_commit_secs).await;
    }
    if stage >= Stage::Revealed {
        for job in [a, b] {
            for v in HONEST {
                w.reveal(v, &job, RIGHT).await;
            }
            w.reveal(DISSENTER, &job, WRONG).await;
        }
        w.f.advance(w.params.vote_reveal_secs).await;
    }
    if stage >= Stage::Resolved {
        for job in [a, b] {
            let resolve = w.resolve_ix(&job).await;
            w.f.send(&[resolve], &[]).await.unwrap();
        }
        let d: verdict::state::Dispute = w.f.fetch_account(&pda::dispute(&a)).await;
        assert_eq!(d.status(), verdict::state::DisputeStatus::Overturned);
        assert!(d.refund_owed > 0);
    }
    if stage >= Stage::Liquidated {
        let dissenter = w.committee[DISSENTER].node;
        for (node, target) in [
            (dissenter, LiquidationTarget::Voter),
            (miner.node, LiquidationTarget::Miner),
        ] {
            let liquidate = w.liquidate_ix(&a, &node, target).await;
            w.f.send(&[liquidate], &[]).await.unwrap();
        }
    }
    Disputes { w, a, b }
}

pub async fn commit_vote() -> Case {
    let Disputes { w, a, b } = disputes(Stage::Opened).await;
    let (commit, k) = w.commit_ix(1, &a, RIGHT);
    let voter = w.committee[1].duplicate();
    let bystander = w.committee[2].node;
    let mut c = Case::new("commit_vote", w, vec![commit], vec![k.insecure_clone()]);
    config_and_vault(&mut c).await;
    c.sub(
        "voter: another node",
        &voter.node,
        bystander,
        A(ErrorCode::ConstraintSeeds),
    );
    let (da, db) = (pda::dispute(&a), pda::dispute(&b));
    c.sub(
        "dispute: another dispute",
        &da,
        db,
        A(ErrorCode::ConstraintSeeds),
    );
    let vote = pda::vote(&da, &voter.node);
    c.sub(
        "vote: the voter's on another dispute",
        &vote,
        pda::vote(&db, &voter.node),
        A(ErrorCode::ConstraintSeeds),
    );
    c.sub(
        "vote: another voter's on the dispute",
        &vote,
        pda::vote(&da, &bystander),
        A(ErrorCode::ConstraintSeeds),
    );
    user_tokens(
        &mut c,
        &voter.operator.tokens,
        &k.pubkey(),
        VerdictError::WrongTokenOwner,
    )
    .await;
    c
}

pub async fn reveal_vote() -> Case {
    let Disputes { w, a, b } = disputes(Stage::Committed).await;
    let (reveal, k) = w.reveal_ix(1, &a, RIGHT);
    let voter = w.committee[1].duplicate();
    let bystander = w.committee[2].node;
    let mut c = Case::new("reveal_vote", w, vec![reveal], vec![k.insecure_clone()]);
    config_and_vault(&mut c).await;
    c.sub(
        "voter: another node",
        &voter.node,
        bystander,
        V(VerdictError::Unauthorized),
    );
    let (da, db) = (pda::dispute(&a), pda::dispute(&b));
    c.sub(
        "dispute: another dispute",
        &da,
        db,
        V(VerdictError::WrongVote),
    );
    let vote = pda::vote(&da, &voter.node);
    c.sub(
        "vote: the voter's on another dispute",
        &vote,
        pda::vote(&db, &voter.node),
        V(VerdictError::WrongVote),
    );
    c.sub(
        "vote: another voter's on the dispute",
        &vote,
        pda::vote(&da, &bystander),
        V(VerdictError::WrongVote),
    );
    user_tokens(
        &mut c,
        &voter.operator.tokens,
        &k.pubkey(),
        VerdictError::WrongDestination,
    )
    .await;
    c
}

pub async fn resolve_dispute() -> Case {
    let Disputes { w, a, b } = disputes(Stage::Revealed).await;
    let resolve = w.resolve_ix(&a).await;
    let challenger = w.committee[0].node;
    let bystander = w.committee[2].node;
    let (miner, other) = (w.miner.node, w.other_miner.node);
    let client = w.client.pubkey();
    let refund = w.client.tokens;
    let mut c = Case::new("resolve_dispute", w, vec![resolve], vec![]);
    config_and_vault(&mut c).await;
    let (da, db) = (pda::dispute(&a), pda::dispute(&b));
    c.sub(
        "dispute: another dispute",
        &da,
        db,
        V(VerdictError::InvalidDisputeState),
    );
    c.sub(
        "job: another disputed job",
        &a,
        b,
        V(VerdictError::InvalidDisputeState),
    );
    escrow(&mut c, &a, &b).await;
    refund_account(&mut c, &refund, &client).await;
    c.sub(
        "challenger: another node",
        &challenger,
        bystander,
        V(VerdictError::WrongNode),
    );
    node_vault(&mut c, &challenger, &bystander).await;
    c.sub(
        "miner: another miner",
        &miner,
        other,
        V(VerdictError::WrongMiner),
    );
    node_vault(&mut c, &miner, &other).await;
    c
}

pub async fn liquidate() -> Case {
    let Disputes { w, a, b } = disputes(Stage::Resolved).await;
    let dissenter = w.committee[DISSENTER].node;
    let honest = w.committee[1].node;
    let miner = w.miner.node;
    let client = w.client.pubkey();
    let refund = w.client.tokens;
    let liquidate = w
        .liquidate_ix(&a, &dissenter, LiquidationTarget::Voter)
        .await;
    let mut c = Case::new("liquidate", w, vec![liquidate], vec![]);
    config_and_vault(&mut c).await;
    let (da, db) = (pda::dispute(&a), pda::dispute(&b));
    c.sub(
        "dispute: another decided dispute",
        &da,
        db,
        V(VerdictError::WrongVote),
    );
    c.sub(
        "node: a correct voter",
        &dissenter,
        honest,
        V(VerdictError::WrongVault),
    );
    c.sub(
        "node: the miner",
        &dissenter,
        miner,
        V(VerdictError::WrongVault),
    );
    node_vault(&mut c, &dissenter, &honest).await;
    let vote = pda::vote(&da, &dissenter);
    c.sub(
        "vote: a correct voter's",
        &vote,
        pda::vote(&da, &honest),
        V(VerdictError::WrongVote),
    );
    c.sub(
        "vote: the dissenter's on another dispute",
        &vote,
        pda::vote(&db, &dissenter),
        V(VerdictError::WrongVote),
    );
    c.sub(
        "job: another disputed job",
        &a,
        b,
        V(VerdictError::InvalidDisputeState),
    );
    escrow(&mut c, &a, &b).await;
    refund_account(&mut c, &refund, &client).await;
    c
}

pub async fn claim_dispute_reward() -> Case {
    let Disputes { w, a, b } = disputes(Stage::Liquidated).await;
    let (claim, k) = w.claim_reward_ix(1, &a);
    let voter = w.committee[1].duplicate();
    let bystander = w.committee[2].node;
    let mut c = Case::new(
        "claim_dispute_reward",
        w,
        vec![claim],
        vec![k.insecure_clone()],
    );
    config_and_vault(&mut c).await;
    c.sub(
        "voter: another node",
        &voter.node,
        bystander,
        V(VerdictError::Unauthorized),
    );
    let (da, db) = (pda::dispute(&a), pda::dispute(&b));
    c.sub(
        "dispute: another dispute",
        &da,
        db,
        V(VerdictError::WrongVote),
    );
    let vote = pda::vote(&da, &voter.node);
    c.sub(
        "vote: the voter's on another dispute",
        &vote,
        pda::vote(&db, &voter.node),
        V(VerdictError::WrongVote),
    );
    c.sub(
        "vote: another correct voter's",
        &vote,
        pda::vote(&da, &bystander),
        V(VerdictError::WrongVote),
    );
    user_tokens(
        &mut c,
        &voter.operator.tokens,
        &k.pubkey(),
        VerdictError::WrongDestination,
    )
    .await;
    c
}

/// Moves no tokens (rent only), but frees the voter's node to close.
pub async fn close_vote() -> Case {
    let Disputes { w, a, b } = disputes(Stage::Liquidated).await;
    let dissenter = w.committee[DISSENTER].duplicate();
    let honest = w.committee[1].node;
    let k = dissenter.operator.keypair.insecure_clone();
    let close = ix::close_vote(&k.pubkey(), &pda::dispute(&a));
    let mut c = Case::new("close_vote", w, vec![close], vec![k]);
    c.sub(
        "voter: another node",
        &dissenter.node,
        honest,
        V(VerdictError::Unauthorized),
    );
    let (da, db) = (pda::dispute(&a), pda::dispute(&b));
    c.sub(
        "dispute: another dispute",
        &da,
        db,
        V(VerdictError::WrongVote),
    );
    let vote = pda::vote(&da, &dissenter.node);
    c.sub(
        "vote: a correct voter's",
        &vote,
        pda::vote(&da, &honest),
        V(VerdictError::WrongVote),
    );
    c.sub(
        "vote: the voter's on another dispute",
        &vote,
        pda::vote(&db, &dissenter.node),
        V(VerdictError::WrongVote),
    );
    c
}
