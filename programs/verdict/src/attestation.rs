//! Every message the committee signs, and the check that a transaction
//! carries a quorum of committee signatures over exactly that message.
//! The SDK and the keeper build messages with these same functions.
//!
//! Message = DOMAIN ‖ program id ‖ kind ‖ committee epoch (LE) ‖ subject ‖
//! instance (LE) ‖ borsh(body). The subject is the job (or node) acted on;
//! for a job the instance is its creation slot, so a job closed and
//! recreated at the same address is a new subject; the body holds every
//! field the instruction acts on. Replays across programs, kinds, epochs,
//! subjects, job instances or fields therefore fail the byte comparison.

use anchor_lang::prelude::*;

use crate::bid::{self, Placement};
use crate::constants::MAX_COMMITTEE_SIZE;
use crate::errors::VerdictError;
use crate::instructions_sysvar;
use crate::state::{Committee, FailReason};

/// Protocol tag of attestation messages, version 2 (job instances).
pub const DOMAIN: &[u8; 16] = b"VERDICT-ATTEST-2";
/// The ed25519 signature-verification precompile.
pub const ED25519_PROGRAM_ID: Pubkey = pubkey!("Ed25519SigVerify111111111111111111111111111");

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[repr(u8)]
pub enum AttestationKind {
    Assign = 1,
    Complete = 2,
    Settle = 3,
    Fail = 4,
    Reject = 5,
    Trial = 6,
    ValidatorTimeout = 7,
}

/// Preprocessing: the miner is eligible and the price fits the fee.
#[derive(AnchorSerialize, AnchorDeserialize, Clone, Copy, Debug, PartialEq, Eq)]
pub struct AssignBody {
    pub miner: Pubkey,
    pub price: u64,
    /// 1 for the first assignment, 2 after one failed attempt, ...
    pub attempt: u8,
}

/// What the keepers measured and checked of a miner's response.
#[derive(AnchorSerialize, AnchorDeserialize, Clone, Copy, Debug, PartialEq, Eq, Default)]
pub struct CompletionReport {
    pub output_hash: [u8; 32],
    pub response_ms: u32,
    pub load_ms: u32,
    pub inference_ms: u32,
    /// The output passed validation (must be true; failures use `fail_job`).
    pub success: bool,
    pub sla_met: bool,
    /// Latency percentile score of this response, in bps (10_000 = fastest).
    pub latency_score_bps: u16,
}

/// Completion: the miner's signed response checked out.
#[derive(AnchorSerialize, AnchorDeserialize, Clone, Copy, Debug, PartialEq, Eq)]
pub struct CompleteBody {
    pub miner: Pubkey,
    pub attempt: u8,
    pub report: CompletionReport,
}

/// Assign and complete at once (the optimistic low-risk path).
#[derive(AnchorSerialize, AnchorDeserialize, Clone, Copy, Debug, PartialEq, Eq)]
pub struct SettleBody {
    pub miner: Pubkey,
    pub attempt: u8,
    pub price: u64,
    pub report: CompletionReport,
}

#[derive(AnchorSerialize, AnchorDeserialize, Clone, Copy, Debug, PartialEq, Eq)]
pub struct FailBody {
    pub miner: Pubkey,
    pub attempt: u8,
    pub reason: FailReason,
}

/// Preprocessing refused the request (bad model id, fee below price, ...).
#[derive(AnchorSerialize, AnchorDeserialize, Clone, Copy, Debug, PartialEq, Eq)]
pub struct RejectBody {
    pub reason_code: u8,
}

/// Subject: the miner's node. `trial` numbers the miner's trials so an old
/// verdict cannot be replayed after a cooldown.
#[derive(AnchorSerialize, AnchorDeserialize, Clone, Copy, Debug, PartialEq, Eq)]
pub struct TrialBody {
    pub passed: bool,
    pub trial: u8,
}

/// Subject: the committee member that missed its deadline on `job`.
#[derive(AnchorSerialize, AnchorDeserialize, Clone, Copy, Debug, PartialEq, Eq)]
pub struct ValidatorTimeoutBody {
    pub job: Pubkey,
}

/// The exact bytes the committee signs about `subject` (instance 0 for a
/// node; see [`job_message`] for a job).
pub fn message<B: AnchorSerialize>(
    kind: AttestationKind,
    epoch: u64,
    subject: &Pubkey,
    instance: u64,
    body: &B,
) -> Vec<u8> {
    let mut m = Vec::with_capacity(16 + 32 + 1 + 8 + 32 + 8 + 96);
    m.extend_from_slice(DOMAIN);
    m.extend_from_slice(crate::ID.as_ref());
    m.push(kind as u8);
    m.extend_from_slice(&epoch.to_le_bytes());
    m.extend_from_slice(subject.as_ref());
    m.extend_from_slice(&instance.to_le_bytes());
    body.serialize(&mut m)
        .expect("writing to a Vec cannot fail");
    m
}

/// The exact bytes the committee signs about one instance of a job: the
/// job's address and its creation slot.
pub fn job_message<B: AnchorSerialize>(
    kind: AttestationKind,
    epoch: u64,
    job: &Pubkey,
    created_slot: u64,
    body: &B,
) -> Vec<u8> {
    message(kind, epoch, job, created_slot, body)
}

/// Which committee members signed (bit i = member i).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Signers(pub u16);

impl Signers {
    pub fn count(&self) -> u32 {
        self.0.count_ones()
    }

    /// The signers' node accounts, in committee order.
    fn members<'a>(&self, committee: &'a Committee) -> impl Iterator<Item = &'a Pubkey> {
        let bits = self.0;
        committee
            .members()
            .iter()
            .enumerate()
            .filter(move |(i, _)| bits & (1 << i) != 0)
            .map(|(_, member)| member)
    }

    /// Whether `node` is one of the signers.
    pub fn includes(&self, committee: &Committee, node: &Pubkey) -> bool {
        self.members(committee).any(|member| member == node)
    }

    /// Writes the signers' node accounts into `out`, in committee order,
    /// and returns how many: written in place (into the job), since every
    /// key copied costs units on chain. Slots past the count are left as
    /// they were.
    pub fn write_nodes(
        &self,
        committee: &Committee,
        out: &mut [Pubkey; MAX_COMMITTEE_SIZE as usize],
    ) -> u8 {
        let mut n = 0;
        for member in self.members(committee) {
            out[n] = *member;
            n += 1;
        }
        n as u8
    }
}

const OFFSETS_START: usize = 2;
const OFFSETS_LEN: usize = 14;
const THIS_INSTRUCTION: u16 = u16::MAX;

/// Checks that the instruction right before this one is an ed25519
/// precompile instruction whose signatures, public keys and message all lie
/// inside itself, whose every message equals `expected`, and whose signers
/// are distinct members of `committee`, at least its quorum. The precompile
/// has already verified each signature when this runs.
pub fn verify_quorum(
    instructions: &AccountInfo,
    committee: &Committee,
    expected: &[u8],
) -> Result<Signers> {
    verify(instructions, committee, expected, None).map(|(signers, _)| signers)
}

/// [`verify_quorum`] for a placement the miner's bid may price: also
/// whether it does, the bid checked (`crate::bid`). One read of the
/// instructions sysvar serves both.
pub fn verify_priced_quorum(
    instructions: &AccountInfo,
    committee: &Committee,
    expected: &[u8],
    placement: &Placement,
) -> Result<(Signers, bool)> {
    verify(instructions, committee, expected, Some(placement))
}

fn verify(
    instructions: &AccountInfo,
    committee: &Committee,
    expected: &[u8],
    placement: Option<&Placement>,
) -> Result<(Signers, bool)> {
    require_keys_eq!(
        *instructions.key,
        anchor_lang::compat::solana_instructions_sysvar::ID,
        VerdictError::WrongSysvar
    );
    let sysvar = instructions.try_borrow_data()?;
    let current = instructions_sysvar::current_index(&sysvar)?;
    require!(current > 0, VerdictError::MissingAttestation);
    let ed_index = current - 1;
    let ed = instructions_sysvar::instruction_at(&sysvar, ed_index)?;
    require!(
        ed.program_id == ED25519_PROGRAM_ID.as_ref(),
        VerdictError::MissingAttestation
    );
    let signers = check_signatures(ed.data, ed_index, committee, expected)?;
    require!(
        signers.count() >= committee.quorum as u32,
        VerdictError::QuorumNotReached
    );
    let by_bid = match placement {
        Some(placement) => bid::check_bid(&sysvar, ed_index, placement)?,
        None => false,
    };
    Ok((signers, by_bid))
}

fn check_signatures(
    data: &[u8],
    own_index: u16,
    committee: &Committee,
    expected: &[u8],
) -> Result<Signers> {
    let count = *data.first().ok_or(VerdictError::MalformedAttestation)? as usize;
    require!(count > 0, VerdictError::MalformedAttestation);
    let mut signers = Signers::default();
    // The signatures usually share one copy of the message (the SDK writes
    // it once): a span already compared is not compared again.
    let mut checked_message = None;
    for i in 0..count {
        let signed = signed_entry(data, own_index, i)?;
        if checked_message != Some(signed.message_span) {
            require!(
                signed.message == expected,
                VerdictError::AttestationMismatch
            );
            checked_message = Some(signed.message_span);
        }
        let key = Pubkey::try_from(signed.key).map_err(|_| VerdictError::MalformedAttestation)?;
        let member = committee
            .index_of_key(&key)
            .ok_or(VerdictError::NotCommitteeMember)?;
        require!(
            signers.0 & (1 << member) == 0,
            VerdictError::DuplicateSigner
        );
        signers.0 |= 1 << member;
    }
    Ok(signers)
}

/// One signature of an ed25519 precompile instruction, as the precompile
/// verified it: the key and the message it covers.
pub(crate) struct SignedEntry<'a> {
    pub key: &'a [u8],
    pub message: &'a [u8],
    /// Where the message lies in the instruction's data (offset, length).
    pub message_span: (usize, usize),
}

/// The `i`th signature of the ed25519 instruction at `own_index` whose data
/// is `data`, refused unless its signature, key and message all lie inside
/// that instruction (the precompile would otherwise have verified bytes
/// of some other instruction, which this program does not read). The
/// error is the bare code: cheap to return on the hot path.
pub(crate) fn signed_entry(
    data: &[u8],
    own_index: u16,
    i: usize,
) -> core::result::Result<SignedEntry<'_>, VerdictError> {
    const MALFORMED: VerdictError = VerdictError::MalformedAttestation;
    let read_u16 = |at: usize| {
        data.get(at..at + 2)
            .map(|b| u16::from_le_bytes([b[0], b[1]]))
            .ok_or(MALFORMED)
    };
    let inside = |index: u16| index == THIS_INSTRUCTION || index == own_index;
    let at = OFFSETS_START + i * OFFSETS_LEN;
    let (sig_ix, pk_off, pk_ix) = (
        read_u16(at + 2)?,
        read_u16(at + 4)? as usize,
        read_u16(at + 6)?,
    );
    let (msg_off, msg_len, msg_ix) = (
        read_u16(at + 8)? as usize,
        read_u16(at + 10)? as usize,
        read_u16(at + 12)?,
    );
    if !(inside(sig_ix) && inside(pk_ix) && inside(msg_ix)) {
        return Err(VerdictError::AttestationOutsideInstruction);
    }
    Ok(SignedEntry {
        key: data.get(pk_off..pk_off + 32).ok_or(MALFORMED)?,
        message: data.get(msg_off..msg_off + msg_len).ok_or(MALFORMED)?,
        message_span: (msg_off, msg_len),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The signers are listed in committee order, only the signers, and
    /// written in place without touching the slots past their count.
    #[test]
    fn signers_are_the_set_bits_in_committee_order() {
        let mut committee = Committee::default();
        committee.size = 4;
        for i in 0..4 {
            committee.members[i] = Pubkey::new_unique();
        }
        let signers = Signers(0b1101);
        let sentinel = Pubkey::new_unique();
        let mut out = [sentinel; MAX_COMMITTEE_SIZE as usize];
        assert_eq!(signers.write_nodes(&committee, &mut out), 3);
        let m = &committee.members;
        assert_eq!(out[..3], [m[0], m[2], m[3]]);
        assert!(out[3..].iter().all(|k| *k == sentinel));
        assert!(signers.includes(&committee, &m[2]));
        assert!(!signers.includes(&committee, &m[1]));
        // A bit past the committee's size names nobody.
        assert_eq!(Signers(1 << 5).write_nodes(&committee, &mut out), 0);
        assert!(!Signers(1 << 5).includes(&committee, &Pubkey::default()));
    }
}
