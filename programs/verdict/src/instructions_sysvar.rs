//! The instructions sysvar read in place: which of the transaction's
//! instructions is running, and another one's program and data. The
//! library's `load_instruction_at_checked` deserializes the instruction
//! (copying its account metas and data into new vectors), which costs a
//! few hundred units on every attested instruction for bytes read once.

use anchor_lang::prelude::*;

use crate::errors::VerdictError;

/// One instruction of the running transaction, borrowed from the sysvar.
pub struct TransactionInstruction<'a> {
    pub program_id: &'a [u8],
    pub data: &'a [u8],
}

// Layout (solana-instructions-sysvar): u16 count, then a u16 offset per
// instruction; at each offset a u16 account count, 33 bytes per account
// (flags, key), the 32-byte program id, a u16 data length and the data;
// the last two bytes of the account hold the running instruction's index.
const ACCOUNT_META_LEN: usize = 33;

fn read_u16(data: &[u8], at: usize) -> Result<u16> {
    let bytes = data.get(at..at + 2).ok_or(VerdictError::WrongSysvar)?;
    Ok(u16::from_le_bytes([bytes[0], bytes[1]]))
}

/// The index of the instruction now running.
pub fn current_index(sysvar: &[u8]) -> Result<u16> {
    let at = sysvar
        .len()
        .checked_sub(2)
        .ok_or(VerdictError::WrongSysvar)?;
    read_u16(sysvar, at)
}

/// The transaction's instruction `index`.
pub fn instruction_at(sysvar: &[u8], index: u16) -> Result<TransactionInstruction<'_>> {
    require!(index < read_u16(sysvar, 0)?, VerdictError::WrongSysvar);
    let start = read_u16(sysvar, 2 + 2 * index as usize)? as usize;
    let accounts = read_u16(sysvar, start)? as usize;
    let program_at = start + 2 + accounts * ACCOUNT_META_LEN;
    let program_id = sysvar
        .get(program_at..program_at + 32)
        .ok_or(VerdictError::WrongSysvar)?;
    let len = read_u16(sysvar, program_at + 32)? as usize;
    let data_at = program_at + 34;
    let data = sysvar
        .get(data_at..data_at + len)
        .ok_or(VerdictError::WrongSysvar)?;
    Ok(TransactionInstruction { program_id, data })
}

#[cfg(test)]
mod tests {
    use super::*;
    use anchor_lang::compat::solana_instructions_sysvar as ixs;
    use anchor_lang::solana_program::instruction::{BorrowedAccountMeta, BorrowedInstruction};

    /// Reads back what the runtime's own serializer wrote: instructions
    /// with and without accounts and data, and the running index.
    #[test]
    fn reads_what_the_runtime_serializes() {
        let (a, b, c) = (
            Pubkey::new_unique(),
            Pubkey::new_unique(),
            Pubkey::new_unique(),
        );
        let meta = |pubkey, is_signer, is_writable| BorrowedAccountMeta {
            pubkey,
            is_signer,
            is_writable,
        };
        let data = [7u8; 300];
        let instructions = [
            BorrowedInstruction {
                program_id: &c,
                accounts: vec![meta(&a, true, false), meta(&b, false, true)],
                data: &data,
            },
            BorrowedInstruction {
                program_id: &a,
                accounts: vec![],
                data: &[],
            },
            BorrowedInstruction {
                program_id: &b,
                accounts: vec![meta(&a, true, false)],
                data: &[1, 2, 3],
            },
        ];
        let mut sysvar = ixs::construct_instructions_data(&instructions);
        ixs::store_current_index_checked(&mut sysvar, 2).unwrap();
        assert_eq!(current_index(&sysvar).unwrap(), 2);
        for (i, expected) in instructions.iter().enumerate() {
            let read = instruction_at(&sysvar, i as u16).unwrap();
            assert_eq!(read.program_id, expected.program_id.as_ref());
            assert_eq!(read.data, expected.data);
        }
        assert!(instruction_at(&sysvar, 3).is_err());
        assert!(instruction_at(&sysvar[..40], 0).is_err());
        assert!(current_index(&[]).is_err());
    }
}
