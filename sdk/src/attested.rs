//! Committee-attested steps signed with committee keys held in one place
//! (tests, a single-host committee, the local network's set-up): each
//! reads the committee and its subject as they are on chain, builds the
//! message the program expects and returns `[ed25519 signatures,
//! instruction]`, ready to send. A keeper network gathers its members'
//! signatures instead (`keeper::attester`), over the same messages.

use anchor_lang::prelude::Pubkey;
use anchor_lang::solana_program::instruction::Instruction;
use solana_sdk::signature::Keypair;
use solana_sdk::signer::Signer;
use verdict::attestation::CompletionReport;
use verdict::state::{Committee, FailReason, Job, Node};

use crate::accounts::AccountSource;
use crate::attest;
use crate::instructions as ix;
use crate::{pda, SdkError};

/// Of the `held` keys, those of current members, in committee order, as
/// many as the quorum needs (fewer if fewer are held).
pub fn quorum<'k>(committee: &Committee, held: &[&'k Keypair]) -> Vec<&'k Keypair> {
    committee
        .signing_keys()
        .iter()
        .filter_map(|member| held.iter().find(|k| k.pubkey() == *member).copied())
        .take(committee.quorum as usize)
        .collect()
}

async fn committee_and_job(
    chain: &impl AccountSource,
    job: &Pubkey,
) -> Result<(Committee, Job), SdkError> {
    Ok((
        chain.fetch(&pda::committee()).await?,
        chain.fetch(job).await?,
    ))
}

/// A miner's trial verdict, signed by `signers`.
pub async fn record_trial(
    chain: &impl AccountSource,
    signers: &[&Keypair],
    miner: &Pubkey,
    passed: bool,
) -> Result<Vec<Instruction>, SdkError> {
    let committee: Committee = chain.fetch(&pda::committee()).await?;
    let node: Node = chain.fetch(miner).await?;
    let message = attest::trial_message(
        committee.epoch,
        miner,
        node.registered_at,
        passed,
        node.reputation.trial_failures + 1,
    );
    Ok(attest::attest_with(
        signers,
        &message,
        ix::record_trial(miner, passed),
    ))
}

/// `job` assigned to `miner` at `price` (its next attempt).
pub async fn assign(
    chain: &impl AccountSource,
    signers: &[&Keypair],
    job: &Pubkey,
    miner: &Pubkey,
    price: u64,
) -> Result<Vec<Instruction>, SdkError> {
    let (committee, j) = committee_and_job(chain, job).await?;
    let message = attest::assign_message(
        committee.epoch,
        job,
        j.created_slot,
        miner,
        price,
        j.attempts + 1,
    );
    Ok(attest::attest_with(
        signers,
        &message,
        ix::assign_job(job, miner, price),
    ))
}

/// The assigned `job` completed with `report` by its miner.
pub async fn complete(
    chain: &impl AccountSource,
    signers: &[&Keypair],
    job: &Pubkey,
    report: CompletionReport,
) -> Result<Vec<Instruction>, SdkError> {
    let (committee, j) = committee_and_job(chain, job).await?;
    let message = attest::complete_message(
        committee.epoch,
        job,
        j.created_slot,
        &j.miner,
        j.attempts,
        &report,
    );
    Ok(attest::attest_with(
        signers,
        &message,
        ix::complete_job(job, &j.miner, report),
    ))
}

/// A low-risk `job` assigned to `miner` at `price` and completed at once.
pub async fn settle(
    chain: &impl AccountSource,
    signers: &[&Keypair],
    job: &Pubkey,
    miner: &Pubkey,
    price: u64,
    report: CompletionReport,
) -> Result<Vec<Instruction>, SdkError> {
    let (committee, j) = committee_and_job(chain, job).await?;
    let message = attest::settle_message(
        committee.epoch,
        job,
        j.created_slot,
        miner,
        j.attempts + 1,
        price,
        &report,
    );
    Ok(attest::attest_with(
        signers,
        &message,
        ix::settle_job(job, miner, price, report),
    ))
}

/// The assigned `job`'s attempt failed for `reason` (its miner is charged).
pub async fn fail(
    chain: &impl AccountSource,
    signers: &[&Keypair],
    job: &Pubkey,
    reason: FailReason,
) -> Result<Vec<Instruction>, SdkError> {
    let (committee, j) = committee_and_job(chain, job).await?;
    let message = attest::fail_message(
        committee.epoch,
        job,
        j.created_slot,
        &j.miner,
        j.attempts,
        reason,
    );
    Ok(attest::attest_with(
        signers,
        &message,
        ix::fail_job(job, &j.miner, &j.refund_account, reason),
    ))
}
