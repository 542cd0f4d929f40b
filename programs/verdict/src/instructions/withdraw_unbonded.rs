//! `withdraw_unbonded` and `withdraw_undelegated`: once a ticket's unbonding
//! period is over, its owner takes its (possibly slashed) value and the
//! ticket's rent back. One account set and one handler serve both kinds.

use anchor_lang::prelude::*;
use anchor_spl::token::Token;

use crate::constants::{CONFIG_ADDRESS, STAKE_VAULT_ADDRESS};
use crate::errors::VerdictError;
use crate::events::{emit_event, UnbondingWithdrawn};
use crate::math::{add, sub};
use crate::state::{Config, Node, TicketKind, UnbondTicket};
use crate::token_ops;

#[derive(Accounts)]
pub struct WithdrawUnbonded<'info> {
    #[account(mut)]
    pub owner: Signer<'info>,
    #[account(mut, address = CONFIG_ADDRESS)]
    pub config: AccountLoader<'info, Config>,
    /// Any Node: only `register_node` creates one, at its PDA, so the
    /// loader's owner and discriminator checks bind it (no seeds to derive).
    #[account(mut)]
    pub node: AccountLoader<'info, Node>,
    #[account(
        mut,
        close = owner,
        has_one = node @ VerdictError::WrongNode,
        has_one = owner @ VerdictError::Unauthorized,
    )]
    pub ticket: Box<Account<'info, UnbondTicket>>,
    /// The token account of the stake mint paid into.
    /// CHECK: its mint read from its bytes (`token_ops`).
    #[account(mut, constraint = token_ops::mint_of(&destination)? == config.load()?.stake_mint @ VerdictError::WrongMint)]
    pub destination: UncheckedAccount<'info>,
    /// The stake vault (a token account `initialize_config` created).
    /// CHECK: bound by its compile-time address (see `token_ops`).
    #[account(mut, address = STAKE_VAULT_ADDRESS @ VerdictError::WrongVault)]
    pub stake_vault: UncheckedAccount<'info>,
    pub token_program: Program<'info, Token>,
}

impl WithdrawUnbonded<'_> {
    pub fn validate(&self) -> Result<()> {
        self.config.load()?.require_not_paused()
    }
}

pub fn handler(ctx: Context<WithdrawUnbonded>, kind: TicketKind) -> Result<()> {
    let now = Clock::get()?.unix_timestamp;
    let accounts = &mut *ctx.accounts;
    let node_key = accounts.node.key();
    let mut node = accounts.node.load_mut()?;
    let redeemed = accounts.ticket.redeem(&mut node, kind, now)?;
    let mut config = accounts.config.load_mut()?;
    config.totals.unbonding = sub(config.totals.unbonding, redeemed.value + redeemed.dust)?;
    config.totals.reward_pool = add(config.totals.reward_pool, redeemed.dust)?;
    drop(config);
    token_ops::pay_from_stake_vault(
        &accounts.token_program,
        &accounts.stake_vault,
        &accounts.destination,
        &accounts.config,
        redeemed.value,
    )?;
    emit_event(&UnbondingWithdrawn {
        node: node_key,
        ticket: accounts.ticket.key(),
        owner: accounts.owner.key(),
        kind,
        amount: redeemed.value,
    });
    Ok(())
}
