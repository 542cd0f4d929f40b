//! `request_undelegate`: a staker burns delegation shares; their value moves
//! into the node's unbonding pool behind a ticket, still slashable. The
//! delegators' earnings so far are added to the pool first, so a leaver
//! takes its part of them and a newcomer none.

use anchor_lang::prelude::*;
use anchor_spl::token::Token;

use crate::constants::{CONFIG_ADDRESS, STAKE_VAULT_ADDRESS, UNBOND_SEED};
use crate::errors::VerdictError;
use crate::events::{emit_event, UnbondingQueued};
use crate::instructions::compound_rewards::settle_delegator_rewards;
use crate::math::{add, add_secs, sub};
use crate::state::{Config, Delegation, Node, TicketKind, UnbondTicket};

#[derive(Accounts)]
pub struct RequestUndelegate<'info> {
    #[account(mut)]
    pub staker: Signer<'info>,
    #[account(mut, address = CONFIG_ADDRESS)]
    pub config: AccountLoader<'info, Config>,
    /// Any Node: only `register_node` creates one, at its PDA, so the
    /// loader's owner and discriminator checks bind it (no seeds to derive).
    #[account(mut)]
    pub node: AccountLoader<'info, Node>,
    /// Only `delegate` creates a Delegation, at `[DELEGATION_SEED, node,
    /// staker]`, recording both: `has_one` on the two binds it as
    /// re-deriving its address would.
    #[account(
        mut,
        has_one = staker @ VerdictError::Unauthorized,
        has_one = node @ VerdictError::WrongNode,
    )]
    pub delegation: Box<Account<'info, Delegation>>,
    #[account(
        init,
        payer = staker,
        space = 8 + UnbondTicket::INIT_SPACE,
        seeds = [UNBOND_SEED, node.key().as_ref(), &Node::next_ticket_seed(&node)?],
        bump,
    )]
    pub ticket: Box<Account<'info, UnbondTicket>>,
    /// The node's vault (a token account `register_node` created).
    /// CHECK: bound by the address its Node records (see `token_ops`).
    #[account(mut, address = node.load()?.vault @ VerdictError::WrongVault)]
    pub node_vault: UncheckedAccount<'info>,
    /// The stake vault (a token account `initialize_config` created).
    /// CHECK: bound by its compile-time address (see `token_ops`).
    #[account(mut, address = STAKE_VAULT_ADDRESS @ VerdictError::WrongVault)]
    pub stake_vault: UncheckedAccount<'info>,
    pub token_program: Program<'info, Token>,
    pub system_program: Program<'info, System>,
}

impl RequestUndelegate<'_> {
    pub fn validate(&self, shares: u64) -> Result<()> {
        self.config.load()?.require_not_paused()?;
        require!(shares > 0, VerdictError::ZeroAmount);
        require!(
            shares <= self.delegation.shares,
            VerdictError::UndelegateExceedsOwned
        );
        Ok(())
    }
}

pub fn handler(ctx: Context<RequestUndelegate>, shares: u64) -> Result<()> {
    let now = Clock::get()?.unix_timestamp;
    let accounts = &mut *ctx.accounts;
    let mut config = accounts.config.load_mut()?;
    settle_delegator_rewards(
        &mut config,
        &accounts.node,
        &accounts.node_vault,
        &accounts.stake_vault,
        &accounts.token_program,
    )?;
    let node_key = accounts.node.key();
    let mut node = accounts.node.load_mut()?;
    let redeemed = node.delegation.redeem(shares)?;
    config.totals.delegated = sub(config.totals.delegated, redeemed.value + redeemed.dust)?;
    config.totals.reward_pool = add(config.totals.reward_pool, redeemed.dust)?;
    // A share worth nothing (pool slashed to zero) queues no ticket value.
    let ticket_shares = if redeemed.value > 0 {
        node.unbonding.deposit(redeemed.value)?
    } else {
        0
    };
    config.totals.unbonding = add(config.totals.unbonding, redeemed.value)?;
    let delegation = &mut accounts.delegation;
    delegation.shares = sub(delegation.shares, shares)?;
    let id = node.take_ticket_id()?;
    let release_at = add_secs(now, config.params.unbonding_secs)?;
    let staker = accounts.staker.key();
    accounts.ticket.set_inner(UnbondTicket {
        node: node_key,
        owner: staker,
        kind: TicketKind::Delegation,
        id,
        shares: ticket_shares,
        requested_amount: redeemed.value,
        release_at,
        bump: ctx.bumps.ticket,
    });
    emit_event(&UnbondingQueued {
        node: node_key,
        ticket: accounts.ticket.key(),
        owner: staker,
        kind: TicketKind::Delegation,
        amount: redeemed.value,
        shares: ticket_shares,
        release_at,
    });
    if delegation.shares == 0 {
        delegation.close(accounts.staker.to_account_info())?;
    }
    Ok(())
}
