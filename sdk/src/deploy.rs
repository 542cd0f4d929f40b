//! First-time set-up of a deployment: what `migrations/` runs after
//! `anchor deploy`. Idempotent: an existing Config is checked, not rewritten.

use anchor_lang::prelude::Pubkey;
use anchor_lang::solana_program::instruction::Instruction;
use verdict::state::{Config, ProtocolParams, SlashingTable};

use crate::accounts::AccountSource;
use crate::{instructions, pda, SdkError};

/// What the migration found or must do.
#[derive(Debug)]
pub enum DeployStep {
    /// The Config does not exist yet: send this instruction.
    Initialize(Box<Instruction>),
    /// Already initialized; here is what is on chain.
    AlreadyInitialized(Box<Config>),
}

/// Decides the migration's step. `upgradeable` says whether the program was
/// deployed with the upgradeable loader (then only its upgrade authority may
/// initialize, and the ProgramData account is passed along).
pub async fn plan<S: AccountSource>(
    source: &S,
    authority: &Pubkey,
    stake_mint: &Pubkey,
    upgradeable: bool,
) -> Result<DeployStep, SdkError> {
    if let Some(config) = source.fetch_optional::<Config>(&pda::config()).await? {
        return Ok(DeployStep::AlreadyInitialized(Box::new(config)));
    }
    let program_data = upgradeable.then(pda::program_data);
    Ok(DeployStep::Initialize(Box::new(
        instructions::initialize_config(
            authority,
            stake_mint,
            program_data,
            ProtocolParams::default(),
            SlashingTable::default(),
        ),
    )))
}
