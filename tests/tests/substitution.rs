//! Account substitution, instruction by instruction: every instruction that
//! moves tokens or changes stake is built valid, then each writable account
//! is swapped for another of its kind (another node, job, dispute, vote,
//! ticket, delegation, vault), a look-alike (the right mint and the right
//! PDA authority at another address, a thief's account) and, for token
//! accounts, one of another mint. Each swap must be refused with its typed
//! error and move no lamport or token; then the unmodified transaction
//! lands (the positive control). The tables are in `support/cases.rs`; the
//! runner refuses a table that leaves a writable account out.
//!
//! Not here: `record_trial`, `assign_job`, `complete_job` and
//! `report_validator_timeout` move no tokens or stake (their accounts are
//! bound by the committee's signed message, see `attestation.rs`);
//! the committee draw moves no tokens (its refusals are in `committee.rs`).
#![allow(deprecated)]

mod support;

use support::cases;

macro_rules! matrix {
    ($($name:ident),* $(,)?) => {
        $(
            #[tokio::test]
            async fn $name() {
                cases::$name().await.run().await;
            }
        )*
    };
}

matrix!(
    stake,
    request_unstake,
    withdraw_unbonded,
    delegate,
    request_undelegate,
    withdraw_undelegated,
    submit_job,
    settle_job,
    fail_job,
    reject_job,
    expire_job,
    claim_payout,
    close_job,
    claim_refund,
    withdraw_owed,
    claim_boost,
    compound_rewards,
    fund_reward_pool,
    slash_node,
    open_dispute,
    commit_vote,
    reveal_vote,
    resolve_dispute,
    liquidate,
    claim_dispute_reward,
    close_vote,
);
