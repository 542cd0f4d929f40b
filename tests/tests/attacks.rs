//! Attacks on Verdict, organized by attacker: a client, a miner, a
//! validator (as voter, challenger or co-signer), an outsider (a cranker, a
//! staker, whoever holds a leaked key) and a captured committee (a signing
//! quorum that colludes). Each module opens with an index of the findings
//! of the security review (issue 14) that attacker would exploit, and where
//! the test that carries out the attack lives (`file::test_name`); the
//! tests written here are the ones no other file had. The generic Solana
//! attack classes (missing signer, owner check, type cosplay,
//! re-initialization, arbitrary CPI, duplicate mutable accounts, bump
//! canonicalization, PDA sharing, closed accounts, sysvar spoofing) sit
//! under whoever would try them. Account substitution on every
//! token-moving instruction is `substitution.rs`.
//!
//! Not here: the committee draw through a CPI (finding "committee draw via
//! CPI") — the draw is being redesigned, and its tests go with it.
#![allow(deprecated)]

mod support;

use anchor_lang::error::ErrorCode;
use anchor_lang::prelude::Pubkey;
use anchor_spl::token::spl_token;
use solana_sdk::signer::Signer;
use support::cases::{self, Disputes, Stage, DISSENTER, HONEST};
use support::{dup_user, World, PRICE, WRONG};
use verdict::constants::{NODE_SEED, ROLE_MINER};
use verdict::errors::VerdictError;
use verdict::state::{Committee, Delegation, DisputeStatus, NodeStatus, RiskLevel};
use verdict::LiquidationTarget;
use verdict_sdk::{attest, instructions as ix, pda};
use verdict_tests::*;

const FEE: u64 = 10 * TOKEN;

/// A client: wants its fee back without losing the answer, or to keep a
/// miner from being paid.
///
/// - Client closing its refund account blocks the miner's payout:
///   `revision2.rs::a_closed_refund_account_keeps_the_refund_claimable_and_blocks_nothing`;
///   blocking its job's dispute and liquidations the same way:
///   `client::closing_the_refund_account_blocks_neither_the_dispute_nor_the_liquidations`.
/// - Re-submitting over a live job (re-initialization): `client::re_initialization`.
/// - Substituted accounts in `submit_job` and `claim_refund` (another
///   client's job, a thief's destination, another mint):
///   `substitution.rs::submit_job`, `substitution.rs::claim_refund`.
mod client {
    use super::*;

    #[tokio::test]
    async fn re_initialization() {
        let mut f = Fixture::new().await;
        let client = f.user(2 * FEE).await;
        f.submit_job(&client, 7, RiskLevel::Low, FEE)
            .await
            .0
            .unwrap();
        assert!(
            f.submit_job(&client, 7, RiskLevel::Low, FEE)
                .await
                .0
                .is_err(),
            "an existing job cannot be re-initialized"
        );
        assert_eq!(f.token_balance(&client.tokens).await, FEE);
    }

    #[tokio::test]
    async fn closing_the_refund_account_blocks_neither_the_dispute_nor_the_liquidations() {
        // A paid job overturned: part of the refund comes from the escrow
        // at resolve, the rest from the liquidations.
        let Disputes { mut w, a, .. } = cases::disputes(Stage::Revealed).await;
        let client = dup_user(&w.client);
        let balance = w.f.token_balance(&client.tokens).await;
        let sink = w.f.user(0).await;
        let empty = spl_token::instruction::transfer(
            &spl_token::ID,
            &client.tokens,
            &sink.tokens,
            &client.pubkey(),
            &[],
            balance,
        )
        .unwrap();
        let close = spl_token::instruction::close_account(
            &spl_token::ID,
            &client.tokens,
            &client.pubkey(),
            &client.pubkey(),
            &[],
        )
        .unwrap();
        w.f.send(&[empty, close], &[&client.keypair]).await.unwrap();
        assert!(!w.f.exists(&client.tokens).await);

        let resolve = w.resolve_ix(&a).await;
        w.f.send(&[resolve], &[]).await.unwrap();
        let d: verdict::state::Dispute = w.f.fetch_account(&pda::dispute(&a)).await;
        assert_eq!(d.status(), DisputeStatus::Overturned);
        let held = w.f.job(&a).await.client_owed;
        assert!(held > 0, "the escrow's part waits in the escrow");
        let dissenter = w.committee[DISSENTER].node;
        let miner = w.miner.node;
        for (node, target) in [
            (dissenter, LiquidationTarget::Voter),
            (miner, LiquidationTarget::Miner),
        ] {
            let liquidate = w.liquidate_ix(&a, &node, target).await;
            w.f.send(&[liquidate], &[]).await.unwrap();
        }
        let j = w.f.job(&a).await;
        assert_eq!(j.client_owed, PRICE, "the whole price waits for the client");
        assert!(!j.dispute_open());
        // The correct voters are paid as usual...
        for v in HONEST {
            let (claim, k) = w.claim_reward_ix(v, &a);
            w.f.send(&[claim], &[&k]).await.unwrap();
        }
        // ...the client takes its refund into a new account of its own...
        let mint = w.f.mint;
        let fresh = w.f.token_account(&client.pubkey(), &mint).await;
        w.f.send(
            &[ix::claim_refund(&client.pubkey(), &a, &fresh)],
            &[&client.keypair],
        )
        .await
        .unwrap();
        assert_eq!(w.f.token_balance(&fresh).await, PRICE);
        // ...and the job closes.
        w.f.close_job(&a).await.unwrap();
        assert!(!w.f.exists(&a).await);
    }
}

/// A miner: wants to be paid for wrong answers, judge its own case, or
/// keep what it earned once caught.
///
/// - The accused votes for itself: `disputes.rs::the_miner_and_the_challenger_cannot_vote`
///   (and the accountable co-signers:
///   `disputes.rs::a_wrong_miner_is_overturned_liquidated_and_the_honest_voters_are_paid`);
///   challenging its own job: `disputes.rs::disputes_open_only_within_the_window_by_active_non_parties_naming_another_result_once`.
/// - Replayable attestations on a job closed and recreated at the same
///   address: `revision2.rs::a_job_recreated_at_the_same_address_does_not_accept_the_old_instances_signatures`.
/// - Job price unbounded next to its stake (exposure cap, hit and run):
///   `revision2.rs::a_price_beyond_the_miners_stake_is_refused_so_liquidation_always_covers_the_damage`.
/// - Liquidated node keeps held payouts / owed boosts: held payout,
///   `disputes.rs::a_liquidated_miners_held_payout_refunds_the_client`;
///   credited payout, `disputes.rs::crank_order_liquidating_voters_first_still_refunds_the_client_in_full`;
///   trying to take both afterwards,
///   `miner::a_liquidated_miner_can_neither_withdraw_its_pay_nor_claim_its_boosts`.
/// - Generic: `miner::missing_owner_check`, `miner::type_cosplay`,
///   `miner::re_initialization`, `miner::arbitrary_cpi`,
///   `miner::duplicate_mutable_accounts`, `miner::pda_sharing`.
mod miner {
    use super::*;

    #[tokio::test]
    async fn missing_owner_check() {
        let mut f = Fixture::new().await;
        let min = f.config().await.params.min_miner_stake;
        let miner = f.register(ROLE_MINER, min).await;
        // A look-alike "node" owned by the system program instead of Verdict.
        let fake = f.user(0).await;
        let stake = ix::replace_account(
            ix::stake(&miner.operator_pubkey(), &miner.operator.tokens, min),
            &miner.node,
            &fake.pubkey(),
        );
        let result = f.send(&[stake], &[&miner.operator.keypair]).await;
        assert_anchor_error(&result, ErrorCode::AccountOwnedByWrongProgram);
    }

    #[tokio::test]
    async fn type_cosplay() {
        let mut f = Fixture::new().await;
        let min = f.config().await.params.min_miner_stake;
        let miner = f.staked_miner(min).await;
        let alice = f.user(TOKEN).await;
        f.delegate(&alice, &miner.node, TOKEN).await.unwrap();
        // A Delegation account (owned by Verdict) passed where a Node is expected.
        let delegation = pda::delegation(&miner.node, &alice.pubkey());
        let heartbeat = ix::heartbeat(&miner.operator_pubkey(), &delegation);
        let result = f.send(&[heartbeat], &[&miner.operator.keypair]).await;
        assert_anchor_error(&result, ErrorCode::AccountDiscriminatorMismatch);
    }

    #[tokio::test]
    async fn re_initialization() {
        let mut f = Fixture::new().await;
        let miner = f.register(ROLE_MINER, 0).await;
        let again = ix::register_node(
            &miner.operator_pubkey(),
            &miner.signing_key.pubkey(),
            &f.mint,
            ROLE_MINER,
            vec![],
            0,
        );
        let result = f
            .send(&[again], &[&miner.operator.keypair, &miner.signing_key])
            .await;
        assert!(result.is_err(), "an existing node cannot be re-initialized");
        assert_eq!(f.node(&miner.node).await.model_count, 1, "models kept");
    }

    #[tokio::test]
    async fn arbitrary_cpi() {
        let mut f = Fixture::new().await;
        let min = f.config().await.params.min_miner_stake;
        let miner = f.register(ROLE_MINER, min).await;
        // A "token program" that is not SPL Token.
        let fake_token_program = Pubkey::new_unique();
        let stake = ix::replace_account(
            ix::stake(&miner.operator_pubkey(), &miner.operator.tokens, min),
            &anchor_spl::token::ID,
            &fake_token_program,
        );
        assert_anchor_error(
            &f.send(&[stake], &[&miner.operator.keypair]).await,
            ErrorCode::InvalidProgramId,
        );
    }

    #[tokio::test]
    async fn duplicate_mutable_accounts() {
        let mut f = Fixture::new().await;
        let params = f.config().await.params;
        let miner = f.staked_miner(params.min_miner_stake).await;
        let (r, ticket) = f.request_unstake(&miner, params.min_miner_stake).await;
        r.unwrap();
        f.advance(params.unbonding_secs).await;
        // Withdraw "into" the stake vault itself: the same account twice,
        // mutable. SPL Token would take the self-transfer as a no-op while
        // the ticket burned and the totals fell: every payout refuses it.
        let op = miner.operator.keypair.insecure_clone();
        let vault_before = f.token_balance(&pda::stake_vault()).await;
        let withdraw =
            ix::withdraw_unbonded(&op.pubkey(), &miner.node, &ticket, &pda::stake_vault());
        let result = f.send(&[withdraw], &[&op]).await;
        assert_verdict_error(&result, VerdictError::WrongDestination);
        assert_eq!(f.token_balance(&pda::stake_vault()).await, vault_before);
        // The ticket still stands: the owner withdraws to its own account.
        let withdraw =
            ix::withdraw_unbonded(&op.pubkey(), &miner.node, &ticket, &miner.operator.tokens);
        f.send(&[withdraw], &[&op]).await.unwrap();
    }

    #[tokio::test]
    async fn pda_sharing() {
        let mut f = Fixture::new().await;
        let committee = f.committee_of(5).await;
        let params = f.config().await.params;
        let miner = f.warm_miner(&committee, params.min_miner_stake).await;
        let client = f.user(2 * FEE).await;
        let (r, rich) = f.submit_job(&client, 1, RiskLevel::Low, FEE).await;
        r.unwrap();
        let (r, cheap) = f.submit_job(&client, 2, RiskLevel::Low, FEE).await;
        r.unwrap();
        f.settle(&committee, &cheap, &miner.node, FEE, good_report(1))
            .await
            .unwrap();
        f.advance(2 * params.epoch_secs).await;
        // Claim job 2's payout out of job 1's escrow.
        let claim = ix::replace_account(
            ix::claim_payout(&cheap, &miner.node, &client.tokens),
            &pda::escrow(&cheap),
            &pda::escrow(&rich),
        );
        assert_verdict_error(&f.send(&[claim], &[]).await, VerdictError::WrongVault);
        assert_eq!(f.token_balance(&pda::escrow(&rich)).await, FEE);
    }

    #[tokio::test]
    async fn a_liquidated_miner_can_neither_withdraw_its_pay_nor_claim_its_boosts() {
        // Tier 1: both wrong jobs were paid at once and earned boosts.
        let Disputes { mut w, a, .. } = cases::disputes(Stage::Resolved).await;
        let miner = w.miner.duplicate();
        let sponsor = w.f.user(100 * TOKEN).await;
        let fund = ix::fund_reward_pool(&sponsor.pubkey(), &sponsor.tokens, 100 * TOKEN);
        w.f.send(&[fund], &[&sponsor.keypair]).await.unwrap();
        let before = w.f.node(&miner.node).await;
        assert!(before.owed > 0 && before.boost_owed > 0);
        let dissenter = w.committee[DISSENTER].node;
        for (node, target) in [
            (dissenter, LiquidationTarget::Voter),
            (miner.node, LiquidationTarget::Miner),
        ] {
            let liquidate = w.liquidate_ix(&a, &node, target).await;
            w.f.send(&[liquidate], &[]).await.unwrap();
        }
        let after = w.f.node(&miner.node).await;
        assert_eq!(
            (
                after.status(),
                after.owed,
                after.boost_owed,
                after.delegator_boost_owed
            ),
            (NodeStatus::Liquidated, 0, 0, 0)
        );
        let pool = w.f.config().await.totals.reward_pool;
        let k = miner.operator.keypair.insecure_clone();
        assert_verdict_error(
            &w.f.send(
                &[ix::withdraw_owed(&k.pubkey(), &miner.operator.tokens)],
                &[&k],
            )
            .await,
            VerdictError::NothingOwed,
        );
        assert_verdict_error(
            &w.f.send(&[ix::claim_boost(&miner.node, &miner.operator.tokens)], &[])
                .await,
            VerdictError::ZeroAmount,
        );
        assert_eq!(w.f.token_balance(&miner.operator.tokens).await, 0);
        assert_eq!(
            w.f.config().await.totals.reward_pool,
            pool,
            "the boosts stay in the reward pool"
        );
    }
}

/// A validator, as voter, challenger or co-signer: wants to decide disputes
/// cheaply, vote without risk, or be credited twice.
///
/// - One vote decides a dispute: `disputes.rs::a_single_voter_even_a_whale_cannot_decide`.
/// - Identities are votes (cheap identities outvote stake):
///   `disputes.rs::splitting_stake_over_many_minimum_identities_adds_no_weight`.
/// - Unrevealed commits are free: `disputes.rs::an_unrevealed_commit_forfeits_its_deposit_to_the_correct_voters`,
///   `disputes.rs::no_reveals_at_all_is_unresolved_and_the_unrevealed_deposit_funds_the_reward_pool`.
/// - An unresolved dispute is free for the challenger:
///   `disputes.rs::a_tie_is_unresolved_nobody_is_liquidated_and_the_challenger_pays_the_miner_ten_percent`.
/// - Tally stuffing with junk results:
///   `disputes.rs::eight_voters_revealing_distinct_junk_do_not_block_honest_votes`.
/// - Votes, reveals and rewards through another dispute's or voter's
///   accounts: `substitution.rs::commit_vote`, `substitution.rs::reveal_vote`,
///   `substitution.rs::claim_dispute_reward`, `substitution.rs::close_vote`.
/// - Generic: `validator::closed_accounts_stay_closed` (a second close
///   would credit the co-signers' fee twice).
mod validator {
    use super::*;

    #[tokio::test]
    async fn closed_accounts_stay_closed() {
        let mut f = Fixture::new().await;
        let committee = f.committee_of(5).await;
        let params = f.config().await.params;
        let miner = f.warm_miner(&committee, params.min_miner_stake).await;
        let client = f.user(FEE).await;
        let (r, job) = f.submit_job(&client, 1, RiskLevel::Low, FEE).await;
        r.unwrap();
        f.settle(&committee, &job, &miner.node, FEE, good_report(1))
            .await
            .unwrap();
        f.advance(2 * params.epoch_secs).await;
        f.claim(&job, &miner).await.unwrap();
        let before = f.job(&job).await;
        f.send(&[ix::close_job(&job, &before)], &[]).await.unwrap();
        // Neither a second close (double credit) nor a claim can touch it
        // again: the closed job belongs to the system program now, which
        // the job's zero-copy loader refuses before reading a byte.
        assert_anchor_error(
            &f.send(&[ix::close_job(&job, &before)], &[]).await,
            ErrorCode::AccountOwnedByWrongProgram,
        );
        assert_anchor_error(
            &f.claim_raw(&job, &miner, &client.tokens).await,
            ErrorCode::AccountOwnedByWrongProgram,
        );
    }
}

/// An outsider: a permissionless cranker, a staker, whoever holds a leaked
/// key.
///
/// - Refund theft via liquidate (or resolve) to the caller's token account:
///   `disputes.rs::refund_theft_through_another_refund_account_is_refused`;
///   via claim_payout: `outsider::account_data_matching`; every other
///   refund path: `substitution.rs::{fail_job, reject_job, expire_job, claim_payout, resolve_dispute, liquidate}`.
/// - Crank order decides who is paid (liquidating an overturned miner's
///   voters first): `disputes.rs::crank_order_liquidating_voters_first_still_refunds_the_client_in_full`.
/// - Pause leaks: `outsider::pause_refuses_every_staking_instruction`,
///   `outsider::pause_refuses_every_job_and_reward_instruction`,
///   `outsider::pause_refuses_every_dispute_instruction` (every
///   token-moving instruction of `substitution.rs`, refused then landing).
/// - A revoked signing key still signs after `rotate_signing_key`:
///   `revision2.rs::a_rotated_signing_key_stops_signing_at_once_and_the_new_one_signs`.
/// - Just-in-time delegation before `compound_rewards`:
///   `revision2.rs::a_just_in_time_delegator_shares_nothing_earned_before_it_joined`;
///   before the reward pool can pay an owed boost:
///   `outsider::a_just_in_time_delegator_takes_no_part_of_a_boost_owed_before_it_joined`
///   (the owed boost is priced into the shares it buys).
/// - Generic: `outsider::missing_signer_check`, `outsider::account_data_matching`,
///   `outsider::bump_canonicalization`, `outsider::sysvar_address_checking`.
mod outsider {
    use super::*;

    #[tokio::test]
    async fn missing_signer_check() {
        let mut f = Fixture::new().await;
        let min = f.config().await.params.min_miner_stake;
        let victim = f.staked_miner(min).await;
        // Unstake the victim's node without the victim's signature.
        let mut steal = ix::request_unstake(&victim.operator_pubkey(), 0, min);
        steal.accounts[0].is_signer = false;
        assert_anchor_error(&f.send(&[steal], &[]).await, ErrorCode::AccountNotSigner);
        assert_eq!(f.node(&victim.node).await.self_stake, min);
    }

    #[tokio::test]
    async fn account_data_matching() {
        let mut f = Fixture::new().await;
        let committee = f.committee_of(5).await;
        let params = f.config().await.params;
        let miner = f.warm_miner(&committee, params.min_miner_stake).await;
        let client = f.user(2 * FEE).await;
        let (r, job) = f.submit_job(&client, 1, RiskLevel::Low, FEE).await;
        r.unwrap();
        f.settle(&committee, &job, &miner.node, FEE, good_report(1))
            .await
            .unwrap();
        f.advance(2 * params.epoch_secs).await;
        // Claim routing the client's refund to the attacker's account.
        let attacker = f.user(0).await;
        let claim = ix::claim_payout(&job, &miner.node, &attacker.tokens);
        assert_verdict_error(&f.send(&[claim], &[]).await, VerdictError::WrongDestination);
    }

    #[tokio::test]
    async fn bump_canonicalization() {
        let mut f = Fixture::new().await;
        let operator = f.user(0).await;
        // Find a valid but non-canonical bump for the operator's node address.
        let canonical = pda::node(&operator.pubkey());
        let other = (0..=254u8).rev().find_map(|bump| {
            Pubkey::create_program_address(
                &[NODE_SEED, operator.pubkey().as_ref(), &[bump]],
                &verdict::ID,
            )
            .ok()
            .filter(|k| *k != canonical)
        });
        let Some(non_canonical) = other else { return };
        let reg = ix::register_node(
            &operator.pubkey(),
            &operator.pubkey(),
            &f.mint,
            ROLE_MINER,
            vec![],
            0,
        );
        let reg = ix::replace_account(reg, &canonical, &non_canonical);
        assert_anchor_error(
            &f.send(&[reg], &[&operator.keypair]).await,
            ErrorCode::ConstraintSeeds,
        );
    }

    #[tokio::test]
    async fn sysvar_address_checking() {
        let mut f = Fixture::new().await;
        let committee = f.committee_of(5).await;
        let params = f.config().await.params;
        let miner = f.warm_miner(&committee, params.min_miner_stake).await;
        let client = f.user(FEE).await;
        let (r, job) = f.submit_job(&client, 1, RiskLevel::Low, FEE).await;
        r.unwrap();
        // A fake "instructions sysvar" account.
        let fake = f.user(0).await.pubkey();
        let epoch = f.committee().await.epoch;
        let created_slot = f.job(&job).await.created_slot;
        let message = verdict_sdk::attest::settle_message(
            epoch,
            &job,
            created_slot,
            &miner.node,
            1,
            FEE,
            &good_report(1),
        );
        let settle = ix::replace_account(
            ix::settle_job(&job, &miner.node, FEE, good_report(1)),
            &solana_sdk::sysvar::instructions::ID,
            &fake,
        );
        let quorum: Vec<&NodeHandle> = committee[..3].iter().collect();
        assert_verdict_error(
            &f.attest(&quorum, &message, settle).await,
            VerdictError::WrongSysvar,
        );
        // A fake SlotHashes for the committee draw's seed.
        f.advance(params.committee_rotation_secs).await;
        for h in &committee {
            f.enter_draw(h).await.unwrap();
        }
        f.send(&[ix::request_committee_draw()], &[]).await.unwrap();
        for _ in 0..3 {
            f.next_slot().await;
        }
        let seed = ix::replace_account(
            ix::seed_committee_draw(),
            &verdict::instructions::request_committee_draw::SLOT_HASHES_ID,
            &fake,
        );
        assert_verdict_error(&f.send(&[seed], &[]).await, VerdictError::WrongSysvar);
        // And a fake instructions sysvar for the request (the CPI guard).
        let request = ix::replace_account(
            ix::request_committee_draw(),
            &solana_sdk::sysvar::instructions::ID,
            &fake,
        );
        assert_verdict_error(&f.send(&[request], &[]).await, VerdictError::WrongSysvar);
    }

    /// Builds each case's world and sends its valid transaction paused, then unpaused.
    async fn paused_then_landing(names: &[&str]) {
        for name in names {
            cases::build(name).await.paused_then_lands().await;
        }
    }

    #[tokio::test]
    async fn pause_refuses_every_staking_instruction() {
        paused_then_landing(&cases::TOKEN_MOVING[..6]).await;
    }

    #[tokio::test]
    async fn pause_refuses_every_job_and_reward_instruction() {
        paused_then_landing(&cases::TOKEN_MOVING[6..19]).await;
    }

    #[tokio::test]
    async fn pause_refuses_every_dispute_instruction() {
        paused_then_landing(&cases::TOKEN_MOVING[19..]).await;
    }

    #[tokio::test]
    async fn a_just_in_time_delegator_takes_no_part_of_a_boost_owed_before_it_joined() {
        let mut w = World::new(5).await;
        let miner = w.miner.duplicate();
        w.tier_one(&miner.node).await;
        let stake = w.params.min_miner_stake;
        let alice = w.f.user(stake).await;
        w.f.delegate(&alice, &miner.node, stake).await.unwrap();
        let job = w.settled(0, 1, &miner.node, WRONG).await;
        w.f.claim(&job, &miner).await.unwrap();
        let node = w.f.node(&miner.node).await;
        let (pending, owed) = (node.pending_delegator_rewards, node.delegator_boost_owed);
        assert!(pending > 0 && owed > 0);
        assert_eq!(
            w.f.config().await.totals.reward_pool,
            0,
            "the delegators' boost waits for pool funds"
        );
        // Bob delegates before the pool is funded, then it is, and anyone compounds.
        let bob = w.f.user(stake).await;
        w.f.delegate(&bob, &miner.node, stake).await.unwrap();
        let sponsor = w.f.user(100 * TOKEN).await;
        let fund = ix::fund_reward_pool(&sponsor.pubkey(), &sponsor.tokens, 100 * TOKEN);
        w.f.send(&[fund], &[&sponsor.keypair]).await.unwrap();
        w.f.send(&[ix::compound_rewards(&miner.node)], &[])
            .await
            .unwrap();
        let node = w.f.node(&miner.node).await;
        assert_eq!(node.delegator_boost_owed, 0);
        let shares = |d: Delegation| d.shares;
        let bob_shares = shares(
            w.f.fetch_account(&pda::delegation(&miner.node, &bob.pubkey()))
                .await,
        );
        let alice_shares = shares(
            w.f.fetch_account(&pda::delegation(&miner.node, &alice.pubkey()))
                .await,
        );
        let bob_value = node.delegation.value_of(bob_shares).unwrap();
        let alice_value = node.delegation.value_of(alice_shares).unwrap();
        // Before the fix bob gained 0.358 of alice's 0.717 tokens of boost
        // (half, as his stake was half the pool).
        assert!(
            bob_value <= stake,
            "bob's shares are worth what he paid, not {} more",
            bob_value - stake
        );
        assert!(
            alice_value + 1 >= stake + pending + owed,
            "alice keeps the boost earned while she alone delegated, not {} less",
            stake + pending + owed - alice_value
        );
    }
}

/// A captured committee: a signing quorum that colludes against a node.
///
/// - Slashes without evidence (collusion or approving an invalid result by
///   attestation or governance): `slashing.rs::collusion_and_approve_invalid_are_refused_even_from_the_authority_or_a_committee`;
///   the 50% cap per sliding window: `slashing.rs::the_per_epoch_cap_bounds_what_one_epoch_can_take`,
///   `slashing.rs::the_cap_window_slides_and_does_not_reset_at_a_calendar_epoch_boundary`.
/// - Timeout reports for a non-existent job or a non-member:
///   `committee.rs::a_member_reported_for_a_timeout_loses_five_once`; the
///   per-epoch count: `committee.rs::timeout_reports_against_one_member_are_capped_per_committee_epoch`;
///   for a job whose committee the member was not in:
///   `captured_committee::a_timeout_report_on_a_job_another_committee_handled_is_refused`.
/// - Attestations bound to accounts other than those signed:
///   `substitution.rs::{settle_job, fail_job, reject_job}`, `attestation.rs`.
mod captured_committee {
    use super::*;

    #[tokio::test]
    async fn a_timeout_report_on_a_job_another_committee_handled_is_refused() {
        let mut f = Fixture::new().await;
        // Five members and one validator left out.
        let committee = f.committee_of(6).await;
        let params = f.config().await.params;
        let miner = f.warm_miner(&committee, params.min_miner_stake).await;
        let client = f.user(10 * FEE).await;
        let (r, solved) = f.submit_job(&client, 1, RiskLevel::Low, FEE).await;
        r.unwrap();
        f.settle(&committee, &solved, &miner.node, PRICE, good_report(1))
            .await
            .unwrap();
        let (r, rejected) = f.submit_job(&client, 2, RiskLevel::Low, FEE).await;
        r.unwrap();
        let epoch = f.committee().await.epoch;
        let slot = f.job(&rejected).await.created_slot;
        let quorum: Vec<&NodeHandle> = committee[..3].iter().collect();
        f.attest(
            &quorum,
            &attest::reject_message(epoch, &rejected, slot, 1),
            ix::reject_job(&rejected, &client.tokens, 1),
        )
        .await
        .unwrap();
        // The next committee epoch seats the validator left out in member
        // 4's place (account surgery standing in for a draw).
        let newcomer = committee[5].duplicate();
        let now = f.now;
        f.patch::<Committee>(&pda::committee(), |c| {
            c.epoch += 1;
            c.members[4] = newcomer.node;
            c.signing_keys[4] = newcomer.signing_key.pubkey();
            c.rotated_at = now;
        })
        .await;
        let epoch = f.committee().await.epoch;
        let payer = f.chain.payer().await.pubkey();
        // The quorum reports the newcomer for jobs it never saw.
        for job in [solved, rejected] {
            let slot = f.job(&job).await.created_slot;
            let message = attest::validator_timeout_message(epoch, &newcomer.node, &job, slot);
            let report = ix::report_validator_timeout(&payer, &newcomer.node, &job);
            assert_verdict_error(
                &f.attest(&quorum, &message, report).await,
                VerdictError::JobNotInCommittee,
            );
        }
        let score = |n: verdict::state::Node| n.validator_score;
        assert_eq!(
            score(f.node(&newcomer.node).await),
            params.initial_validator_score
        );
        // A job this committee handles can be reported.
        let (r, open) = f.submit_job(&client, 3, RiskLevel::Low, FEE).await;
        r.unwrap();
        let slot = f.job(&open).await.created_slot;
        let message = attest::validator_timeout_message(epoch, &newcomer.node, &open, slot);
        f.attest(
            &quorum,
            &message,
            ix::report_validator_timeout(&payer, &newcomer.node, &open),
        )
        .await
        .unwrap();
        assert_eq!(
            score(f.node(&newcomer.node).await),
            params.initial_validator_score - 5
        );
    }
}
