//! `close_job`: permissionless once the job is over (and, for a paid job,
//! once its challenge window has passed and no dispute is open). For a paid
//! job, each co-signer of its outcome gets +1 validator score and an equal
//! share of the co-signers' fee (credited to its node's `owed`; the
//! rounding goes to the first): the remaining accounts are the signers'
//! Node accounts in the recorded order, then their node vaults in the same
//! order. The price goes off the miner's exposure; the escrow and the job
//! close and all rent returns to the client. A refund the client has yet to
//! claim keeps the job open.

use anchor_lang::prelude::*;
use anchor_spl::token::{self, CloseAccount, Token};

use crate::constants::CONFIG_ADDRESS;
use crate::errors::VerdictError;
use crate::events::{emit_event, CreditReason, JobClosed, NodeCredited, ValidatorScoreChanged};
use crate::math::add;
use crate::state::{Config, Job, JobStatus, Node};
use crate::token_ops;

#[derive(Accounts)]
pub struct CloseJob<'info> {
    /// Writable: a liquidated miner's refund reserve shrinks with its exposure.
    #[account(mut, address = CONFIG_ADDRESS)]
    pub config: AccountLoader<'info, Config>,
    #[account(mut, close = client)]
    pub job: AccountLoader<'info, Job>,
    /// CHECK: receives the rent; must be the job's client.
    #[account(mut, address = job.load()?.client @ VerdictError::WrongDestination)]
    pub client: UncheckedAccount<'info>,
    /// The job's escrow (a token account `submit_job` created).
    /// CHECK: bound by the address its Job records (see `token_ops`).
    #[account(mut, address = job.load()?.escrow @ VerdictError::WrongVault)]
    pub escrow: UncheckedAccount<'info>,
    /// The job's miner, while the job still counts against its exposure.
    #[account(mut, address = job.load()?.miner @ VerdictError::WrongMiner)]
    pub miner: Option<AccountLoader<'info, Node>>,
    pub token_program: Program<'info, Token>,
}

impl CloseJob<'_> {
    pub fn validate(&self) -> Result<()> {
        let now = Clock::get()?.unix_timestamp;
        let job = self.job.load()?;
        let config = self.config.load()?;
        config.require_not_paused()?;
        require!(
            job.is_final() && job.client_owed == 0,
            VerdictError::JobNotFinished
        );
        require!(
            token_ops::balance(&self.escrow)? == job.owed(),
            VerdictError::JobNotFinished
        );
        require!(!job.dispute_open(), VerdictError::DisputeOpen);
        if job.status() == JobStatus::Paid {
            // A paid job can still be challenged until its window ends.
            require!(
                job.challenge_window_over(now, &config.params),
                VerdictError::JobNotFinished
            );
        }
        if job.exposure > 0 {
            require!(self.miner.is_some(), VerdictError::WrongMiner);
        }
        Ok(())
    }
}

pub fn handler<'info>(ctx: Context<'info, CloseJob<'info>>) -> Result<()> {
    ctx.accounts.validate()?;
    let a = &mut *ctx.accounts;
    let (signer_keys, signer_count, fee_held, seeds) = {
        let mut job = a.job.load_mut()?;
        if let Some(miner) = a.miner.as_ref() {
            job.release_exposure(&mut *miner.load_mut()?, &mut a.config.load_mut()?.totals)?;
        }
        let count = if job.status() == JobStatus::Paid {
            job.signer_count as usize
        } else {
            0
        };
        (job.signers, count, job.fee_held, job.seeds())
    };
    let signers = &signer_keys[..signer_count];
    let fee = if signers.is_empty() { 0 } else { fee_held };
    let remaining = ctx.remaining_accounts;
    require!(
        remaining.len() == 2 * signers.len(),
        VerdictError::WrongSigners
    );
    let (nodes, vaults) = remaining.split_at(signers.len());
    let escrow = a.escrow.to_account_info();
    let job_info = a.job.to_account_info();
    for (i, ((info, vault), expected)) in nodes.iter().zip(vaults).zip(signers).enumerate() {
        require_keys_eq!(*info.key, *expected, VerdictError::WrongSigners);
        require!(
            info.is_writable && vault.is_writable,
            VerdictError::WrongSigners
        );
        let node = AccountLoader::<Node>::try_from(info)?;
        require_keys_eq!(*vault.key, node.load()?.vault, VerdictError::WrongSigners);
        let share = fee / signers.len() as u64
            + if i == 0 {
                fee % signers.len() as u64
            } else {
                0
            };
        token_ops::pay_from_escrow(&a.token_program, &escrow, vault, &job_info, &seeds, share)?;
        let mut signer = node.load_mut()?;
        signer.owed = add(signer.owed, share)?;
        signer.adjust_validator_score(1);
        signer.attestations_signed = add(signer.attestations_signed, 1)?;
        emit_event(&ValidatorScoreChanged {
            node: node.key(),
            score: signer.validator_score,
            delta: 1,
        });
        if share > 0 {
            emit_event(&NodeCredited {
                node: node.key(),
                amount: share,
                reason: CreditReason::ValidatorFee,
            });
        }
    }
    seeds.with(|seeds| {
        token::close_account(CpiContext::new_with_signer(
            a.token_program.key(),
            CloseAccount {
                account: escrow.clone(),
                destination: a.client.to_account_info(),
                authority: job_info.clone(),
            },
            &[seeds],
        ))
    })?;
    emit_event(&JobClosed {
        job: a.job.key(),
        signers_credited: signers.len() as u8,
        validator_fee: fee,
    });
    Ok(())
}
