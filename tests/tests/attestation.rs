//! The forgery and replay matrix: every way to fake a committee
//! attestation, each refused by the program (or by the precompile), with
//! the job left untouched.
#![allow(deprecated)]

use anchor_lang::error::ErrorCode;
use solana_compute_budget_interface::ComputeBudgetInstruction;
use solana_sdk::signature::Keypair;
use verdict::errors::VerdictError;
use verdict::state::{JobStatus, RiskLevel};
use verdict_sdk::attest::{self, ed25519_instruction, sign};
use verdict_sdk::transaction::PACKET_DATA_SIZE;
use verdict_sdk::{instructions as ix, pda};
use verdict_tests::*;

const FEE: u64 = 10 * TOKEN;
const PRICE: u64 = 8 * TOKEN;

fn refs(keys: &[Keypair]) -> Vec<&Keypair> {
    keys.iter().collect()
}

struct Case {
    f: Fixture,
    committee: Vec<NodeHandle>,
    miner: NodeHandle,
    client: User,
    job: anchor_lang::prelude::Pubkey,
    epoch: u64,
    created_slot: u64,
}

async fn case() -> Case {
    let mut f = Fixture::new().await;
    let committee = f.committee_of(5).await;
    let min = f.config().await.params.min_miner_stake;
    let miner = f.warm_miner(&committee, min).await;
    let client = f.user(10 * FEE).await;
    let (r, job) = f.submit_job(&client, 1, RiskLevel::Low, FEE).await;
    r.unwrap();
    let epoch = f.committee().await.epoch;
    let created_slot = f.job(&job).await.created_slot;
    Case {
        f,
        committee,
        miner,
        client,
        job,
        epoch,
        created_slot,
    }
}

impl Case {
    fn settle_message(&self, job: &anchor_lang::prelude::Pubkey, epoch: u64) -> Vec<u8> {
        attest::settle_message(
            epoch,
            job,
            self.created_slot,
            &self.miner.node,
            1,
            PRICE,
            &good_report(1),
        )
    }

    fn settle_ix(&self) -> solana_sdk::instruction::Instruction {
        ix::settle_job(&self.job, &self.miner.node, PRICE, good_report(1))
    }

    fn keys(&self, members: &[usize]) -> Vec<Keypair> {
        members
            .iter()
            .map(|&i| self.committee[i].signing_key.insecure_clone())
            .collect()
    }

    async fn send_signed(&mut self, keys: &[Keypair], message: &[u8]) -> TxResult {
        let ixs = attest::attest_with(&refs(keys), message, self.settle_ix());
        self.f.send(&ixs, &[]).await
    }

    async fn assert_untouched(&mut self) {
        assert_eq!(self.f.job(&self.job).await.status(), JobStatus::Sent);
        assert_eq!(
            self.f.node(&self.miner.node).await.reputation.lifetime_jobs,
            0
        );
    }
}

#[tokio::test]
async fn a_valid_quorum_settles() {
    let mut c = case().await;
    let message = c.settle_message(&c.job, c.epoch);
    let keys = c.keys(&[0, 1, 2]);
    c.send_signed(&keys, &message).await.unwrap();
    assert_eq!(c.f.job(&c.job).await.status(), JobStatus::Solved);
}

#[tokio::test]
async fn a_signature_by_a_non_member_is_refused() {
    let mut c = case().await;
    let message = c.settle_message(&c.job, c.epoch);
    let mut keys = c.keys(&[0, 1]);
    keys.push(Keypair::new());
    assert_verdict_error(
        &c.send_signed(&keys, &message).await,
        VerdictError::NotCommitteeMember,
    );
    // The miner's own key is no committee key either.
    let mut keys = c.keys(&[0, 1]);
    keys.push(c.miner.signing_key.insecure_clone());
    let ixs = attest::attest_with(&refs(&keys), &message, c.settle_ix());
    assert_verdict_error(&c.f.send(&ixs, &[]).await, VerdictError::NotCommitteeMember);
    c.assert_untouched().await;
}

#[tokio::test]
async fn a_duplicate_signer_is_not_counted_twice() {
    let mut c = case().await;
    let message = c.settle_message(&c.job, c.epoch);
    let keys = c.keys(&[0, 1, 1]);
    assert_verdict_error(
        &c.send_signed(&keys, &message).await,
        VerdictError::DuplicateSigner,
    );
    c.assert_untouched().await;
}

#[tokio::test]
async fn m_minus_one_signatures_are_refused() {
    let mut c = case().await;
    let message = c.settle_message(&c.job, c.epoch);
    let keys = c.keys(&[3, 4]);
    assert_verdict_error(
        &c.send_signed(&keys, &message).await,
        VerdictError::QuorumNotReached,
    );
    c.assert_untouched().await;
}

#[tokio::test]
async fn a_message_for_another_job_is_refused() {
    let mut c = case().await;
    let (r, other) = c.f.submit_job(&c.client, 2, RiskLevel::Low, FEE).await;
    r.unwrap();
    let message = c.settle_message(&other, c.epoch);
    let keys = c.keys(&[0, 1, 2]);
    assert_verdict_error(
        &c.send_signed(&keys, &message).await,
        VerdictError::AttestationMismatch,
    );
    c.assert_untouched().await;
}

#[tokio::test]
async fn a_message_of_another_kind_is_refused() {
    let mut c = case().await;
    // A valid assign attestation replayed as a settle.
    let message = attest::assign_message(c.epoch, &c.job, c.created_slot, &c.miner.node, PRICE, 1);
    let keys = c.keys(&[0, 1, 2]);
    assert_verdict_error(
        &c.send_signed(&keys, &message).await,
        VerdictError::AttestationMismatch,
    );
    c.assert_untouched().await;
}

#[tokio::test]
async fn a_message_of_another_epoch_is_refused() {
    let mut c = case().await;
    let message = c.settle_message(&c.job, c.epoch + 1);
    let keys = c.keys(&[0, 1, 2]);
    assert_verdict_error(
        &c.send_signed(&keys, &message).await,
        VerdictError::AttestationMismatch,
    );
    c.assert_untouched().await;
}

#[tokio::test]
async fn a_changed_field_is_refused() {
    let mut c = case().await;
    // Signed for price 8, submitted claiming price 8 with another output.
    let message = c.settle_message(&c.job, c.epoch);
    let keys = c.keys(&[0, 1, 2]);
    let tampered = ix::settle_job(&c.job, &c.miner.node, PRICE, good_report(2));
    let ixs = attest::attest_with(&refs(&keys), &message, tampered);
    assert_verdict_error(
        &c.f.send(&ixs, &[]).await,
        VerdictError::AttestationMismatch,
    );
    c.assert_untouched().await;
}

#[tokio::test]
async fn a_substituted_committee_account_is_refused() {
    // A quorum-signed settle whose Committee is swapped for an account the
    // attacker controls (owned by the system program) or for another of the
    // program's accounts (the Config): the zero-copy loader checks the owner
    // and the discriminator before the address constraint is even reached.
    let mut c = case().await;
    let message = c.settle_message(&c.job, c.epoch);
    let keys = c.keys(&[0, 1, 2]);
    let look_alike = c.f.user(0).await.pubkey();
    for (substitute, expected) in [
        (look_alike, ErrorCode::AccountOwnedByWrongProgram),
        (pda::config(), ErrorCode::AccountDiscriminatorMismatch),
    ] {
        let settle = ix::replace_account(c.settle_ix(), &pda::committee(), &substitute);
        let ixs = attest::attest_with(&refs(&keys), &message, settle);
        assert_anchor_error(&c.f.send(&ixs, &[]).await, expected);
        c.assert_untouched().await;
    }
}

#[tokio::test]
async fn offsets_pointing_at_another_instruction_are_refused() {
    let mut c = case().await;
    let message = c.settle_message(&c.job, c.epoch);
    let signatures: Vec<_> = c
        .keys(&[0, 1, 2])
        .iter()
        .map(|k| sign(k, &message))
        .collect();
    let real = ed25519_instruction(&signatures, &message);
    // A second ed25519 instruction whose offsets all point into the first.
    let mut pointer = real.clone();
    pointer.data.truncate(2 + 3 * 14);
    for i in 0..3 {
        for field in [2, 6, 12] {
            let at = 2 + i * 14 + field;
            pointer.data[at..at + 2].copy_from_slice(&0u16.to_le_bytes());
        }
    }
    let ixs = vec![real, pointer, c.settle_ix()];
    assert_verdict_error(
        &c.f.send(&ixs, &[]).await,
        VerdictError::AttestationOutsideInstruction,
    );
    c.assert_untouched().await;
}

#[tokio::test]
async fn no_ed25519_instruction_is_refused() {
    let mut c = case().await;
    let settle = c.settle_ix();
    assert_verdict_error(
        &c.f.send(&[settle], &[]).await,
        VerdictError::MissingAttestation,
    );
    c.assert_untouched().await;
}

#[tokio::test]
async fn an_ed25519_instruction_not_directly_before_is_refused() {
    let mut c = case().await;
    let message = c.settle_message(&c.job, c.epoch);
    let keys = c.keys(&[0, 1, 2]);
    let mut ixs = attest::attest_with(&refs(&keys), &message, c.settle_ix());
    ixs.insert(1, ComputeBudgetInstruction::set_compute_unit_limit(400_000));
    assert_verdict_error(&c.f.send(&ixs, &[]).await, VerdictError::MissingAttestation);
    c.assert_untouched().await;
}

#[tokio::test]
async fn a_corrupted_signature_fails_in_the_precompile() {
    let mut c = case().await;
    let message = c.settle_message(&c.job, c.epoch);
    let keys = c.keys(&[0, 1, 2]);
    let mut ixs = attest::attest_with(&refs(&keys), &message, c.settle_ix());
    let sig_at = 2 + 3 * 14 + 32; // the first signature
    ixs[0].data[sig_at] ^= 0xff;
    assert_bad_signature(&c.f.send(&ixs, &[]).await);
    c.assert_untouched().await;
}

#[tokio::test]
async fn resending_an_outcome_for_a_solved_job_is_refused() {
    let mut c = case().await;
    let message = c.settle_message(&c.job, c.epoch);
    let keys = c.keys(&[0, 1, 2]);
    c.send_signed(&keys, &message).await.unwrap();
    let keys = c.keys(&[0, 1, 2]);
    assert_verdict_error(
        &c.send_signed(&keys, &message).await,
        VerdictError::InvalidJobState,
    );
    let jobs = c.f.node(&c.miner.node).await.reputation.lifetime_jobs;
    assert_eq!(jobs, 1, "counted once");
}

#[tokio::test]
async fn a_stale_committee_after_rotation_is_refused() {
    let mut f = Fixture::new().await;
    // Seven validators, committees of five: the draw leaves two out each time.
    let validators = f.committee_of(7).await;
    let params = f.config().await.params;
    let miner = f.warm_miner(&validators, params.min_miner_stake).await;
    let client = f.user(10 * FEE).await;
    // The job's address is known before it exists: sign for it in this epoch.
    let job = verdict_sdk::pda::job(&client.pubkey(), 1);
    let old = f.committee().await;
    // Its creation slot is not known before it exists: sign for the next slot's.
    let slot = f
        .chain
        .context()
        .await
        .banks_client
        .get_root_slot()
        .await
        .unwrap();
    let old_message = attest::settle_message(
        old.epoch,
        &job,
        slot,
        &miner.node,
        1,
        PRICE,
        &good_report(1),
    );
    let old_signatures: Vec<_> = validators[..3]
        .iter()
        .map(|v| sign(&v.signing_key, &old_message))
        .collect();

    let all: Vec<&NodeHandle> = validators.iter().collect();
    assert_verdict_error(&f.rotate(&all).await, VerdictError::RotationNotDue);
    f.advance(params.committee_rotation_secs).await;
    let nodes: Vec<_> = validators.iter().map(|v| v.node).collect();
    f.run_draw(&nodes).await.unwrap();
    let new = f.committee().await;
    assert_eq!(new.epoch, old.epoch + 1);
    let (r, _) = f.submit_job(&client, 1, RiskLevel::Low, FEE).await;
    r.unwrap();

    // Last epoch's signatures are void.
    let ixs = attest::attested(
        &old_signatures,
        &old_message,
        ix::settle_job(&job, &miner.node, PRICE, good_report(1)),
    );
    assert_verdict_error(&f.send(&ixs, &[]).await, VerdictError::AttestationMismatch);

    // A validator outside the new committee cannot sign the new epoch.
    let created_slot = f.job(&job).await.created_slot;
    let new_message = attest::settle_message(
        new.epoch,
        &job,
        created_slot,
        &miner.node,
        1,
        PRICE,
        &good_report(1),
    );
    let outsider = validators
        .iter()
        .find(|v| !new.is_member(&v.node))
        .expect("7 validators, 5 seats");
    let mut signers: Vec<&NodeHandle> = validators
        .iter()
        .filter(|v| new.is_member(&v.node))
        .take(2)
        .collect();
    signers.push(outsider);
    let keys: Vec<&Keypair> = signers.iter().map(|h| &h.signing_key).collect();
    let ixs = attest::attest_with(
        &keys,
        &new_message,
        ix::settle_job(&job, &miner.node, PRICE, good_report(1)),
    );
    assert_verdict_error(&f.send(&ixs, &[]).await, VerdictError::NotCommitteeMember);

    // The new committee's quorum succeeds.
    let members: Vec<&NodeHandle> = validators
        .iter()
        .filter(|v| new.is_member(&v.node))
        .take(3)
        .collect();
    f.attest(
        &members,
        &new_message,
        ix::settle_job(&job, &miner.node, PRICE, good_report(1)),
    )
    .await
    .unwrap();
}

#[tokio::test]
async fn a_settle_transaction_with_three_signatures_fits_in_a_packet() {
    let c = case().await;
    let message = c.settle_message(&c.job, c.epoch);
    let keys = c.keys(&[0, 1, 2]);
    let ixs = attest::attest_with(&refs(&keys), &message, c.settle_ix());
    let blockhash = c.f.chain.context().await.last_blockhash;
    let size = transaction_size(&ixs, true, blockhash);
    println!("settle transaction with 3 signatures and a priority fee: {size} bytes");
    assert!(size <= PACKET_DATA_SIZE, "{size} bytes exceeds the packet");
    assert!(verdict_sdk::transaction::fits_in_packet(&ixs));
    println!(
        "without compute-budget instructions: {} bytes",
        transaction_size(&ixs, false, blockhash)
    );
}
