//! Set-up instructions both backends use: a stake mint, token accounts,
//! minting. Built here once so the embedded chain's helpers and
//! [`Chain`](crate::Chain)'s (which work on a real cluster) cannot drift.

use anchor_lang::prelude::Pubkey;
use anchor_lang::solana_program::system_instruction;
use anchor_spl::token::spl_token;
use solana_sdk::instruction::Instruction;
use solana_sdk::program_pack::Pack;

use crate::ChainError;

/// Bytes of an SPL mint and of an SPL token account (rent is asked for these).
pub const MINT_LEN: usize = spl_token::state::Mint::LEN;
pub const TOKEN_ACCOUNT_LEN: usize = spl_token::state::Account::LEN;

/// Decimals of the mints the set-up helpers create (as the protocol's token amounts assume).
pub const DECIMALS: u8 = 9;

fn spl(e: impl std::fmt::Display) -> ChainError {
    ChainError::Decode(format!("spl-token instruction: {e}"))
}

/// Creates `mint` (a new keypair's address, which must sign) with `authority`.
pub fn create_mint(
    payer: &Pubkey,
    mint: &Pubkey,
    authority: &Pubkey,
    rent: u64,
) -> Result<Vec<Instruction>, ChainError> {
    Ok(vec![
        system_instruction::create_account(payer, mint, rent, MINT_LEN as u64, &spl_token::ID),
        spl_token::instruction::initialize_mint2(&spl_token::ID, mint, authority, None, DECIMALS)
            .map_err(spl)?,
    ])
}

/// Creates `account` (a new keypair's address, which must sign) holding `mint` for `owner`.
pub fn create_token_account(
    payer: &Pubkey,
    account: &Pubkey,
    mint: &Pubkey,
    owner: &Pubkey,
    rent: u64,
) -> Result<Vec<Instruction>, ChainError> {
    Ok(vec![
        system_instruction::create_account(
            payer,
            account,
            rent,
            TOKEN_ACCOUNT_LEN as u64,
            &spl_token::ID,
        ),
        spl_token::instruction::initialize_account3(&spl_token::ID, account, mint, owner)
            .map_err(spl)?,
    ])
}

pub fn mint_to(
    mint: &Pubkey,
    authority: &Pubkey,
    to: &Pubkey,
    amount: u64,
) -> Result<Instruction, ChainError> {
    spl_token::instruction::mint_to(&spl_token::ID, mint, to, authority, &[], amount).map_err(spl)
}

/// The mint authority recorded in a mint account's data (`None`: fixed supply).
pub fn mint_authority(data: &[u8]) -> Result<Option<Pubkey>, ChainError> {
    let mint = spl_token::state::Mint::unpack(data)
        .map_err(|e| ChainError::Decode(format!("mint: {e}")))?;
    Ok(mint.mint_authority.into())
}
