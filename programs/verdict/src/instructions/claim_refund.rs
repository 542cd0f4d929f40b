//! `claim_refund`: a client takes a refund its recorded refund account
//! could not receive (closed or frozen), into a token account of its own.

use anchor_lang::prelude::*;
use anchor_spl::token::Token;

use crate::constants::CONFIG_ADDRESS;
use crate::errors::VerdictError;
use crate::events::{emit_event, RefundClaimed};
use crate::state::{Config, Job};
use crate::token_ops;

#[derive(Accounts)]
pub struct ClaimRefund<'info> {
    pub client: Signer<'info>,
    #[account(address = CONFIG_ADDRESS)]
    pub config: AccountLoader<'info, Config>,
    #[account(mut, constraint = job.load()?.client == client.key() @ VerdictError::Unauthorized)]
    pub job: AccountLoader<'info, Job>,
    /// The job's escrow (a token account `submit_job` created).
    /// CHECK: bound by the address its Job records (see `token_ops`).
    #[account(mut, address = job.load()?.escrow @ VerdictError::WrongVault)]
    pub escrow: UncheckedAccount<'info>,
    /// The token account of the stake mint paid into.
    /// CHECK: its mint and owner read from its bytes (`token_ops`).
    #[account(
        mut,
        constraint = token_ops::owner_of(&destination)? == client.key() @ VerdictError::WrongDestination,
        constraint = token_ops::mint_of(&destination)? == config.load()?.stake_mint @ VerdictError::WrongMint,
    )]
    pub destination: UncheckedAccount<'info>,
    pub token_program: Program<'info, Token>,
}

impl ClaimRefund<'_> {
    pub fn validate(&self) -> Result<()> {
        self.config.load()?.require_not_paused()?;
        require!(self.job.load()?.client_owed > 0, VerdictError::NothingOwed);
        Ok(())
    }
}

pub fn handler(ctx: Context<ClaimRefund>) -> Result<()> {
    let a = &mut *ctx.accounts;
    let (amount, seeds) = {
        let job = a.job.load()?;
        (job.client_owed, job.seeds())
    };
    token_ops::pay_from_escrow(
        &a.token_program,
        &a.escrow,
        &a.destination,
        &a.job.to_account_info(),
        &seeds,
        amount,
    )?;
    a.job.load_mut()?.client_owed = 0;
    emit_event(&RefundClaimed {
        job: a.job.key(),
        client: a.client.key(),
        amount,
    });
    Ok(())
}
