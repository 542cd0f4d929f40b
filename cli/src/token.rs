//! Token accounts of the stake mint: a wallet's default (associated) account,
//! creating it when tokens are sent to it, and reading balances and mints.

use anchor_lang::prelude::{AccountMeta, Pubkey};
use anchor_lang::solana_program::instruction::Instruction;

/// The SPL Associated Token Account program.
pub const ASSOCIATED_TOKEN_PROGRAM: Pubkey =
    Pubkey::from_str_const("ATokenGPvbdGVxr1b2hvZbsiqW5xWH25efTNsLJA8knL");
const TOKEN_PROGRAM: Pubkey = anchor_spl::token::ID;
const SYSTEM_PROGRAM: Pubkey = anchor_lang::system_program::ID;

/// `owner`'s associated token account for `mint` (classic SPL Token).
pub fn associated_address(owner: &Pubkey, mint: &Pubkey) -> Pubkey {
    Pubkey::find_program_address(
        &[owner.as_ref(), TOKEN_PROGRAM.as_ref(), mint.as_ref()],
        &ASSOCIATED_TOKEN_PROGRAM,
    )
    .0
}

/// Creates `owner`'s associated token account unless it exists (the ATA
/// program's `CreateIdempotent`), paid by `payer`.
pub fn create_associated_idempotent(payer: &Pubkey, owner: &Pubkey, mint: &Pubkey) -> Instruction {
    Instruction {
        program_id: ASSOCIATED_TOKEN_PROGRAM,
        accounts: vec![
            AccountMeta::new(*payer, true),
            AccountMeta::new(associated_address(owner, mint), false),
            AccountMeta::new_readonly(*owner, false),
            AccountMeta::new_readonly(*mint, false),
            AccountMeta::new_readonly(SYSTEM_PROGRAM, false),
            AccountMeta::new_readonly(TOKEN_PROGRAM, false),
        ],
        data: vec![1],
    }
}

/// A decoded token account.
pub fn decode_account(data: &[u8]) -> Option<anchor_spl::token::TokenAccount> {
    use anchor_lang::AccountDeserialize;
    anchor_spl::token::TokenAccount::try_deserialize(&mut &data[..]).ok()
}

/// A decoded mint.
pub fn decode_mint(data: &[u8]) -> Option<anchor_spl::token::Mint> {
    use anchor_lang::AccountDeserialize;
    anchor_spl::token::Mint::try_deserialize(&mut &data[..]).ok()
}
