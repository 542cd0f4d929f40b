//! Assertions on why a transaction was refused.

use anchor_lang::error::{ErrorCode, ERROR_CODE_OFFSET};
use solana_program_test::BanksClientError;
use solana_sdk::instruction::InstructionError;
use solana_sdk::transaction::TransactionError;
use verdict::errors::VerdictError;

pub type TxResult = Result<crate::fixture::TxOutcome, BanksClientError>;

/// The custom error code a failed transaction carried, if any.
pub fn custom_code(result: &TxResult) -> Option<u32> {
    match result {
        Err(e) => match e.unwrap_ref() {
            TransactionError::InstructionError(_, InstructionError::Custom(code)) => Some(code),
            _ => None,
        },
        Ok(_) => None,
    }
}

trait UnwrapRef {
    fn unwrap_ref(&self) -> TransactionError;
}

impl UnwrapRef for BanksClientError {
    fn unwrap_ref(&self) -> TransactionError {
        match self {
            BanksClientError::TransactionError(e) => e.clone(),
            BanksClientError::SimulationError { err, .. } => err.clone(),
            other => panic!("transport error, not a program refusal: {other:?}"),
        }
    }
}

/// The transaction error, for refusals that are not the program's own.
pub fn tx_error(result: &TxResult) -> TransactionError {
    match result {
        Err(e) => e.unwrap_ref(),
        Ok(_) => panic!("expected the transaction to fail, it succeeded"),
    }
}

#[track_caller]
pub fn assert_verdict_error(result: &TxResult, expected: VerdictError) {
    let code = expected as u32 + ERROR_CODE_OFFSET;
    assert_eq!(
        custom_code(result),
        Some(code),
        "expected VerdictError::{expected:?} ({code}), got {:?}",
        result.as_ref().map(|_| ()).map_err(|e| e.to_string())
    );
}

#[track_caller]
pub fn assert_anchor_error(result: &TxResult, expected: ErrorCode) {
    let code: u32 = expected.into();
    assert_eq!(
        custom_code(result),
        Some(code),
        "expected anchor {expected:?} ({code}), got {:?}",
        result.as_ref().map(|_| ()).map_err(|e| e.to_string())
    );
}

/// The ed25519 precompile refused a signature that does not verify (its
/// `InvalidSignature`, custom code 2), before any Verdict code ran.
#[track_caller]
pub fn assert_bad_signature(result: &TxResult) {
    assert_eq!(
        custom_code(result),
        Some(2),
        "expected the ed25519 precompile's InvalidSignature, got {:?}",
        result.as_ref().map(|_| ()).map_err(|e| e.to_string())
    );
}

/// A refusal by the runtime or another program (not a custom error).
#[track_caller]
pub fn assert_instruction_error(result: &TxResult, expected: InstructionError) {
    match tx_error(result) {
        TransactionError::InstructionError(_, e) => assert_eq!(e, expected),
        other => panic!("expected {expected:?}, got {other:?}"),
    }
}
