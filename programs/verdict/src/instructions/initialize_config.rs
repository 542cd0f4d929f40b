//! `initialize_config`: creates the Config and the stake vault, once.

use anchor_lang::prelude::*;
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
    pub program_data: Option<Account<'info, ProgramData>>,
    pub token_program: Program<'info, Token>,
    pub system_program: Program<'info, System>,
}

impl InitializeConfig<'_> {
    pub fn validate(&self, params: &ProtocolParams, slashing: &SlashingTable) -> Result<()> {
        params.validate()?;
        slashing.validate()?;
        if let Some(expected) = self.program.programdata_address()? {
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
                program_data.upgrade_authority_address == Some(self.authority.key()),
                VerdictError::NotUpgradeAuthority
            );
        }
        Ok(())
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
