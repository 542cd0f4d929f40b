//! The two ways tokens move through the program: into a program account
//! signed by the user, and out of one signed by its PDA.

use anchor_lang::prelude::*;
use anchor_spl::token::{self, Token, TokenAccount, Transfer};

use crate::errors::VerdictError;

/// Moves `amount` from a user's token account into a program-owned one.
pub fn deposit<'info>(
    token_program: &Program<'info, Token>,
    from: &Account<'info, TokenAccount>,
    to: &AccountInfo<'info>,
    authority: &Signer<'info>,
    amount: u64,
) -> Result<()> {
    require!(amount > 0, VerdictError::ZeroAmount);
    require!(from.amount >= amount, VerdictError::InsufficientFunds);
    token::transfer(
        CpiContext::new(
            token_program.key(),
            Transfer { from: from.to_account_info(), to: to.clone(), authority: authority.to_account_info() },
        ),
        amount,
    )
}

/// Pays `amount` out of a program-owned token account whose authority is
/// the PDA with `signer_seeds`.
pub fn pay_out<'info>(
    token_program: &Program<'info, Token>,
    from: &AccountInfo<'info>,
    to: &AccountInfo<'info>,
    authority: &AccountInfo<'info>,
    signer_seeds: &[&[u8]],
    amount: u64,
) -> Result<()> {
    if amount == 0 {
        return Ok(());
    }
    token::transfer(
        CpiContext::new_with_signer(
            token_program.key(),
            Transfer { from: from.clone(), to: to.clone(), authority: authority.clone() },
            &[signer_seeds],
        ),
        amount,
    )
}

/// Pays `amount` out of a job's escrow, signed by the job PDA.
pub fn pay_from_escrow<'info>(
    token_program: &Program<'info, Token>,
    escrow: &AccountInfo<'info>,
    to: &AccountInfo<'info>,
    job_info: &AccountInfo<'info>,
    job: &crate::state::Job,
    amount: u64,
) -> Result<()> {
    job.with_signer(|seeds| pay_out(token_program, escrow, to, job_info, seeds, amount))
}

/// Pays `amount` out of the stake vault, signed by the Config PDA.
pub fn pay_from_stake_vault<'info>(
    token_program: &Program<'info, Token>,
    stake_vault: &Account<'info, TokenAccount>,
    to: &AccountInfo<'info>,
    config: &Account<'info, crate::state::Config>,
    amount: u64,
) -> Result<()> {
    let seeds = config.signer_seeds();
    pay_out(token_program, &stake_vault.to_account_info(), to, &config.to_account_info(), &seeds, amount)
}
