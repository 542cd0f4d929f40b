//! `close_job`: permissionless once nothing is owed (and, for a solved job,
//! once its challenge window is over). Credits +1 to the validator score of
//! each committee member that signed its outcome (their Node accounts are
//! passed as remaining accounts, in the recorded order), closes the escrow
//! and the job, and returns all rent to the client.

use anchor_lang::prelude::*;
use anchor_spl::token::{self, CloseAccount, Token, TokenAccount};

use crate::constants::{CONFIG_ADDRESS, ESCROW_SEED};
use crate::errors::VerdictError;
use crate::events::{emit_event, JobClosed, ValidatorScoreChanged};
use crate::math::add;
use crate::state::{Config, Job, JobStatus, Node};

#[derive(Accounts)]
pub struct CloseJob<'info> {
    #[account(address = CONFIG_ADDRESS)]
    pub config: Box<Account<'info, Config>>,
    #[account(mut, close = client)]
    pub job: Box<Account<'info, Job>>,
    /// CHECK: receives the rent; must be the job's client.
    #[account(mut, address = job.client @ VerdictError::WrongDestination)]
    pub client: UncheckedAccount<'info>,
    #[account(mut, seeds = [ESCROW_SEED, job.key().as_ref()], bump = job.escrow_bump)]
    pub escrow: Box<Account<'info, TokenAccount>>,
    pub token_program: Program<'info, Token>,
}

impl CloseJob<'_> {
    pub fn validate(&self) -> Result<()> {
        let now = Clock::get()?.unix_timestamp;
        let params = &self.config.params;
        require!(self.job.is_final() && self.escrow.amount == 0, VerdictError::JobNotFinished);
        require!(!self.job.dispute_open, VerdictError::DisputeOpen);
        if self.job.status == JobStatus::Paid {
            // A paid job can still be challenged until its window ends.
            let window = (params.challenge_window_epochs as i64)
                .checked_mul(params.epoch_secs)
                .ok_or(VerdictError::MathOverflow)?;
            require!(now >= self.job.solved_at.saturating_add(window), VerdictError::JobNotFinished);
        }
        Ok(())
    }
}

pub fn handler<'info>(ctx: Context<'info, CloseJob<'info>>) -> Result<()> {
    ctx.accounts.validate()?;
    let job = &ctx.accounts.job;
    let signers = job.signers();
    require!(ctx.remaining_accounts.len() == signers.len(), VerdictError::WrongSigners);
    for (info, expected) in ctx.remaining_accounts.iter().zip(signers) {
        require_keys_eq!(*info.key, *expected, VerdictError::WrongSigners);
        require!(info.is_writable, VerdictError::WrongSigners);
        let mut node: Account<Node> = Account::try_from(info)?;
        node.adjust_validator_score(1);
        node.attestations_signed = add(node.attestations_signed, 1)?;
        emit_event(&ValidatorScoreChanged { node: node.key(), score: node.validator_score, delta: 1 });
        node.exit(&crate::ID)?;
    }
    job.with_signer(|seeds| {
        token::close_account(CpiContext::new_with_signer(
            ctx.accounts.token_program.key(),
            CloseAccount {
                account: ctx.accounts.escrow.to_account_info(),
                destination: ctx.accounts.client.to_account_info(),
                authority: job.to_account_info(),
            },
            &[seeds],
        ))
    })?;
    emit_event(&JobClosed { job: job.key(), signers_credited: signers.len() as u8 });
    Ok(())
}
