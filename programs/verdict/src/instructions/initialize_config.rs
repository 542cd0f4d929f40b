//! `initialize_config`: creates the Config and the stake vault, once.

use anchor_lang::prelude::*;
use anchor_lang::solana_program::bpf_loader_upgradeable;
use anchor_spl::token::{Mint, Token, TokenAccount};

use crate::constants::{COMMITTEE_SEED, CONFIG_SEED, STAKE_VAULT_SEED};
use crate::errors::VerdictError;
use crate::events::{emit_event, ConfigInitialized};
use crate::program::Verdict;
use crate::state::{Committee, Config, ProtocolParams, SlashingTable};

#[derive(Accounts)]
pub struct InitializeConfig<'info> {
    #[account(mut)]
    pub authority: Signer<'info>,
    #[account(init, payer = authority, space = Config::SPACE, seeds = [CONFIG_SEED], bump)]
    pub config: AccountLoader<'info, Config>,
    pub stake_mint: Box<Account<'info, Mint>>,
    #[account(
        init,
        payer = authority,
        seeds = [STAKE_VAULT_SEED],
        bump,
        token::mint = stake_mint,
        token::authority = config,
    )]
    pub stake_vault: Box<Account<'info, TokenAccount>>,
    /// Empty until the first committee draw is seated.
    #[account(init, payer = authority, space = Committee::SPACE, seeds = [COMMITTEE_SEED], bump)]
    pub committee: AccountLoader<'info, Committee>,
    pub program: Program<'info, Verdict>,
    /// Required when the program is deployed upgradeable: its ProgramData,
    /// whose upgrade authority alone may initialize (no front-running).
    /// CHECK: bound and read in `validate` (see `upgrade_authority`).
    pub program_data: Option<UncheckedAccount<'info>>,
    pub token_program: Program<'info, Token>,
    pub system_program: Program<'info, System>,
}

impl InitializeConfig<'_> {
    pub fn validate(&self, params: &ProtocolParams, slashing: &SlashingTable) -> Result<()> {
        params.validate()?;
        slashing.validate()?;
        if let Some(expected) = programdata_address(&self.program)? {
            let program_data = self
                .program_data
                .as_ref()
                .ok_or(VerdictError::NotUpgradeAuthority)?;
            require_keys_eq!(
                program_data.key(),
                expected,
                VerdictError::NotUpgradeAuthority
            );
            require!(
                upgrade_authority(program_data) == Some(self.authority.key()),
                VerdictError::NotUpgradeAuthority
            );
        }
        Ok(())
    }
}

/// The ProgramData address an upgradeable program's account records, or
/// `None` for a program deployed otherwise. The upgradeable loader's state
/// is bincode: a `u32` variant tag (2 = `Program`), then the address. Read
/// from the bytes: decoding it with bincode pulled serde's decoder and its
/// float formatting into the program (about 20 KB) for this one check. An
/// account of that loader in any other state is refused, never taken for
/// a program without an upgrade authority.
fn programdata_address(program: &AccountInfo) -> Result<Option<Pubkey>> {
    if *program.owner != bpf_loader_upgradeable::ID {
        return Ok(None);
    }
    let data = program.try_borrow_data()?;
    match (data.get(..4), data.get(4..36)) {
        (Some(&[2, 0, 0, 0]), Some(address)) => Ok(Some(Pubkey::new_from_array(
            address.try_into().expect("32 bytes"),
        ))),
        _ => err!(VerdictError::NotUpgradeAuthority),
    }
}

/// The upgrade authority a ProgramData account records: tag 3
/// (`ProgramData`), the deployment slot (`u64`), then an `Option<Pubkey>`
/// (one byte, 1 = some, then the key). `None` when it is not a ProgramData
/// of the upgradeable loader or the program is immutable.
fn upgrade_authority(program_data: &AccountInfo) -> Option<Pubkey> {
    if *program_data.owner != bpf_loader_upgradeable::ID {
        return None;
    }
    let data = program_data.try_borrow_data().ok()?;
    match (data.get(..4), data.get(12), data.get(13..45)) {
        (Some(&[3, 0, 0, 0]), Some(1), Some(key)) => {
            Some(Pubkey::new_from_array(key.try_into().expect("32 bytes")))
        }
        _ => None,
    }
}

pub fn handler(
    ctx: Context<InitializeConfig>,
    params: ProtocolParams,
    slashing: SlashingTable,
) -> Result<()> {
    let mut config = ctx.accounts.config.load_init()?;
    config.authority = ctx.accounts.authority.key();
    config.stake_mint = ctx.accounts.stake_mint.key();
    config.stake_vault = ctx.accounts.stake_vault.key();
    config.bump = ctx.bumps.config;
    config.vault_bump = ctx.bumps.stake_vault;
    config.params = params;
    config.slashing = slashing;
    let mut committee = ctx.accounts.committee.load_init()?;
    committee.bump = ctx.bumps.committee;
    committee.set_strategy(params.strategy());
    // Round 0 is what a node that never entered records.
    committee.draw.round = 1;
    emit_event(&ConfigInitialized {
        authority: config.authority,
        stake_mint: config.stake_mint,
        stake_vault: config.stake_vault,
    });
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use bpf_loader_upgradeable::UpgradeableLoaderState;

    fn read<T>(state: &UpgradeableLoaderState, owner: &Pubkey, f: fn(&AccountInfo) -> T) -> T {
        let mut data = bincode::serialize(state).unwrap();
        data.extend([0xAB; 16]); // a ProgramData's bytes continue with the program
        crate::token_ops::tests::with_account(data, owner, f)
    }

    #[test]
    fn the_byte_reads_agree_with_the_loaders_bincode_state() {
        let loader = bpf_loader_upgradeable::ID;
        let (address, authority) = (Pubkey::new_unique(), Pubkey::new_unique());
        let program = UpgradeableLoaderState::Program {
            programdata_address: address,
        };
        assert_eq!(
            read(&program, &loader, programdata_address).unwrap(),
            Some(address)
        );
        let data = UpgradeableLoaderState::ProgramData {
            slot: 77,
            upgrade_authority_address: Some(authority),
        };
        assert_eq!(read(&data, &loader, upgrade_authority), Some(authority));
        let immutable = UpgradeableLoaderState::ProgramData {
            slot: 77,
            upgrade_authority_address: None,
        };
        assert_eq!(read(&immutable, &loader, upgrade_authority), None);
        // Another variant, or another owner, records nothing.
        let buffer = UpgradeableLoaderState::Buffer {
            authority_address: Some(authority),
        };
        assert_eq!(read(&buffer, &loader, upgrade_authority), None);
        assert_eq!(read(&program, &loader, upgrade_authority), None);
        // An account of the loader that is no program is refused, not taken
        // for a program without an upgrade authority.
        assert!(read(&buffer, &loader, programdata_address).is_err());
        assert!(read(&data, &loader, programdata_address).is_err());
        let other = Pubkey::new_unique();
        assert_eq!(read(&program, &other, programdata_address).unwrap(), None);
        assert_eq!(read(&data, &other, upgrade_authority), None);
    }
}
