//! `submit_job`: a client escrows the max fee for one inference request in
//! a token account owned by the job itself (no account shared by all jobs
//! is written).

use anchor_lang::prelude::*;
// The IDL builder spells `ModelId` out as `[u8; MODEL_ID_LEN]` here.
#[cfg(feature = "idl-build")]
#[allow(unused_imports)]
use crate::constants::MODEL_ID_LEN;
use anchor_spl::token::{Token, TokenAccount};

use crate::constants::{CONFIG_ADDRESS, ESCROW_SEED, JOB_SEED};
use crate::errors::VerdictError;
use crate::events::{emit_event, JobSubmitted};
use crate::state::{Config, Job, JobStatus, ModelId, Node, RiskLevel};
use crate::token_ops;

#[derive(AnchorSerialize, AnchorDeserialize, Clone, Debug)]
pub struct SubmitJobArgs {
    /// Chosen by the client, unique among its jobs (part of the job's address).
    pub job_id: u64,
    pub model: ModelId,
    /// sha256 of the input the client will hand to the keepers.
    pub input_hash: [u8; 32],
    pub risk: RiskLevel,
    pub max_fee: u64,
}

#[derive(Accounts)]
#[instruction(args: SubmitJobArgs)]
pub struct SubmitJob<'info> {
    #[account(mut)]
    pub client: Signer<'info>,
    #[account(address = CONFIG_ADDRESS)]
    pub config: AccountLoader<'info, Config>,
    #[account(
        init,
        payer = client,
        space = Job::SPACE,
        seeds = [JOB_SEED, client.key().as_ref(), &args.job_id.to_le_bytes()],
        bump,
    )]
    pub job: AccountLoader<'info, Job>,
    #[account(
        init,
        payer = client,
        seeds = [ESCROW_SEED, job.key().as_ref()],
        bump,
        token::mint = stake_mint,
        token::authority = job,
    )]
    pub escrow: Box<Account<'info, TokenAccount>>,
    /// The stake mint, handed to SPL Token's `InitializeAccount3`.
    /// CHECK: bound to the mint the Config records (`initialize_config`
    /// checked it is a mint); SPL Token checks it again as it initializes.
    #[account(address = config.load()?.stake_mint @ VerdictError::WrongMint)]
    pub stake_mint: UncheckedAccount<'info>,
    /// The client's token account of the stake mint (the job's refund account).
    /// CHECK: its mint and owner read from its bytes (`token_ops`).
    #[account(
        mut,
        constraint = token_ops::mint_of(&client_tokens)? == config.load()?.stake_mint @ VerdictError::WrongMint,
        constraint = token_ops::owner_of(&client_tokens)? == client.key() @ VerdictError::WrongTokenOwner,
    )]
    pub client_tokens: UncheckedAccount<'info>,
    pub token_program: Program<'info, Token>,
    pub system_program: Program<'info, System>,
}

impl SubmitJob<'_> {
    pub fn validate(&self, args: &SubmitJobArgs) -> Result<()> {
        let config = self.config.load()?;
        config.require_not_paused()?;
        require!(
            args.max_fee >= config.params.min_job_fee,
            VerdictError::FeeBelowMinimum
        );
        // Same rule as a node's declared models.
        Node::check_model_id(&args.model)?;
        Ok(())
    }
}

pub fn handler(ctx: Context<SubmitJob>, args: SubmitJobArgs) -> Result<()> {
    let clock = Clock::get()?;
    let now = clock.unix_timestamp;
    let accounts = &mut *ctx.accounts;
    token_ops::deposit(
        &accounts.token_program,
        &accounts.client_tokens,
        &accounts.escrow.to_account_info(),
        &accounts.client,
        args.max_fee,
    )?;
    // The account is all zero: SENT, nothing assigned, no outcome.
    let mut job = accounts.job.load_init()?;
    job.client = accounts.client.key();
    job.refund_account = accounts.client_tokens.key();
    job.job_id = args.job_id;
    job.model = args.model;
    job.input_hash = args.input_hash;
    job.set_risk(args.risk);
    job.set_status(JobStatus::Sent);
    job.max_fee = args.max_fee;
    job.created_at = now;
    job.opened_at = now;
    job.created_slot = clock.slot;
    job.bump = ctx.bumps.job;
    job.escrow = accounts.escrow.key();
    emit_event(&JobSubmitted {
        job: accounts.job.key(),
        client: job.client,
        job_id: job.job_id,
        model: job.model,
        input_hash: job.input_hash,
        risk: args.risk,
        max_fee: job.max_fee,
    });
    Ok(())
}
