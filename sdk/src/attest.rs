//! Committee attestations, client side: the message for each kind (built by
//! the program crate's own `attestation::message`), and the ed25519
//! precompile instruction carrying M signatures over one shared copy of it.

use anchor_lang::prelude::Pubkey;
use anchor_lang::solana_program::instruction::Instruction;
use solana_sdk::signature::Keypair;
use solana_sdk::signer::Signer;
use verdict::attestation::{
    job_message, message, AssignBody, AttestationKind, CompleteBody, CompletionReport, FailBody,
    RejectBody, SettleBody, TrialBody, ValidatorTimeoutBody, ED25519_PROGRAM_ID,
};
use verdict::bid::BidTerms;
use verdict::state::FailReason;

pub use verdict::attestation::{AttestationKind as Kind, CompletionReport as Report};

/// One committee member's signature over a message.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct MemberSignature {
    pub signing_key: Pubkey,
    pub signature: [u8; 64],
}

// Job-scoped messages name the job instance: its address and its
// `created_slot` (the Job account's field).

pub fn assign_message(
    epoch: u64,
    job: &Pubkey,
    created_slot: u64,
    miner: &Pubkey,
    price: u64,
    attempt: u8,
) -> Vec<u8> {
    job_message(
        AttestationKind::Assign,
        epoch,
        job,
        created_slot,
        &AssignBody {
            miner: *miner,
            price,
            attempt,
        },
    )
}

pub fn complete_message(
    epoch: u64,
    job: &Pubkey,
    created_slot: u64,
    miner: &Pubkey,
    attempt: u8,
    report: &CompletionReport,
) -> Vec<u8> {
    let body = CompleteBody {
        miner: *miner,
        attempt,
        report: *report,
    };
    job_message(AttestationKind::Complete, epoch, job, created_slot, &body)
}

#[allow(clippy::too_many_arguments)]
pub fn settle_message(
    epoch: u64,
    job: &Pubkey,
    created_slot: u64,
    miner: &Pubkey,
    attempt: u8,
    price: u64,
    report: &CompletionReport,
) -> Vec<u8> {
    let body = SettleBody {
        miner: *miner,
        attempt,
        price,
        report: *report,
    };
    job_message(AttestationKind::Settle, epoch, job, created_slot, &body)
}

pub fn fail_message(
    epoch: u64,
    job: &Pubkey,
    created_slot: u64,
    miner: &Pubkey,
    attempt: u8,
    reason: FailReason,
) -> Vec<u8> {
    job_message(
        AttestationKind::Fail,
        epoch,
        job,
        created_slot,
        &FailBody {
            miner: *miner,
            attempt,
            reason,
        },
    )
}

pub fn reject_message(epoch: u64, job: &Pubkey, created_slot: u64, reason_code: u8) -> Vec<u8> {
    job_message(
        AttestationKind::Reject,
        epoch,
        job,
        created_slot,
        &RejectBody { reason_code },
    )
}

/// `trial` is the miner's failed trials so far + 1; `registered_at` the
/// node's registration time (a node closed and registered again is a new one).
pub fn trial_message(
    epoch: u64,
    miner: &Pubkey,
    registered_at: i64,
    passed: bool,
    trial: u8,
) -> Vec<u8> {
    message(
        AttestationKind::Trial,
        epoch,
        miner,
        registered_at as u64,
        &TrialBody { passed, trial },
    )
}

/// `job_created_slot` is the reported job's `created_slot`.
pub fn validator_timeout_message(
    epoch: u64,
    validator: &Pubkey,
    job: &Pubkey,
    job_created_slot: u64,
) -> Vec<u8> {
    message(
        AttestationKind::ValidatorTimeout,
        epoch,
        validator,
        job_created_slot,
        &ValidatorTimeoutBody { job: *job },
    )
}

/// Signs `message` with a member's signing key.
pub fn sign(key: &Keypair, message: &[u8]) -> MemberSignature {
    MemberSignature {
        signing_key: key.pubkey(),
        signature: key.sign_message(message).into(),
    }
}

const HEADER: usize = 2;
const OFFSETS: usize = 14;
const THIS_INSTRUCTION: u16 = u16::MAX;

/// The ed25519 precompile instruction verifying every signature over one
/// shared copy of `message`; everything it points at lies inside itself.
pub fn ed25519_instruction(signatures: &[MemberSignature], message: &[u8]) -> Instruction {
    let n = signatures.len();
    let keys_at = HEADER + n * OFFSETS;
    let message_at = keys_at + n * 96;
    let mut data = Vec::with_capacity(message_at + message.len());
    data.push(n as u8);
    data.push(0);
    for i in 0..n {
        let key = (keys_at + i * 96) as u16;
        let sig = key + 32;
        for v in [
            sig,
            THIS_INSTRUCTION,
            key,
            THIS_INSTRUCTION,
            message_at as u16,
            message.len() as u16,
            THIS_INSTRUCTION,
        ] {
            data.extend_from_slice(&v.to_le_bytes());
        }
    }
    for s in signatures {
        data.extend_from_slice(s.signing_key.as_ref());
        data.extend_from_slice(&s.signature);
    }
    data.extend_from_slice(message);
    Instruction {
        program_id: ED25519_PROGRAM_ID,
        accounts: vec![],
        data,
    }
}

/// `[ed25519 verification, instruction]`: the order the program requires.
pub fn attested(
    signatures: &[MemberSignature],
    message: &[u8],
    instruction: Instruction,
) -> Vec<Instruction> {
    vec![ed25519_instruction(signatures, message), instruction]
}

/// A miner's signature over its bid (`verdict::bid`): carried with the
/// assignment or settlement the bid prices, so the program checks the price
/// is the one the miner signed.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct SignedBid {
    pub terms: BidTerms,
    /// The miner node's signing key.
    pub signing_key: Pubkey,
    pub signature: [u8; 64],
}

impl SignedBid {
    /// Signs `terms` with a miner's signing key.
    pub fn sign(key: &Keypair, terms: BidTerms) -> SignedBid {
        let MemberSignature {
            signing_key,
            signature,
        } = sign(key, &terms.message());
        SignedBid {
            terms,
            signing_key,
            signature,
        }
    }
}

/// `attested` (an attestation and the instruction it vouches for) priced
/// by `bid`: the bid's ed25519 instruction goes first, where the program
/// looks for it (two before its own instruction).
pub fn with_bid(bid: &SignedBid, attested: Vec<Instruction>) -> Vec<Instruction> {
    let signature = MemberSignature {
        signing_key: bid.signing_key,
        signature: bid.signature,
    };
    let mut instructions = vec![ed25519_instruction(&[signature], &bid.terms.message())];
    instructions.extend(attested);
    instructions
}

/// Signs with every key and wraps `instruction` (for tests and single-host
/// committees; a keeper network gathers signatures from its peers instead).
pub fn attest_with(
    keys: &[&Keypair],
    message: &[u8],
    instruction: Instruction,
) -> Vec<Instruction> {
    let signatures: Vec<_> = keys.iter().map(|k| sign(k, message)).collect();
    attested(&signatures, message, instruction)
}
