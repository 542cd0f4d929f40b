//! `request_unstake`: moves self stake into the unbonding pool behind a
//! ticket. It stops counting for eligibility at once but stays slashable.

use anchor_lang::prelude::*;

use crate::constants::{CONFIG_ADDRESS, UNBOND_SEED};
use crate::errors::VerdictError;
use crate::events::{emit_event, UnbondingQueued};
use crate::math::{add, add_secs, sub};
use crate::state::{Config, Node, TicketKind, UnbondTicket};

#[derive(Accounts)]
pub struct RequestUnstake<'info> {
    #[account(mut)]
    pub operator: Signer<'info>,
    #[account(mut, address = CONFIG_ADDRESS)]
    pub config: AccountLoader<'info, Config>,
    /// The signer's own Node: `has_one` binds it (a Node exists only at its PDA).
    #[account(
        mut,
        has_one = operator @ VerdictError::Unauthorized,
    )]
    pub node: AccountLoader<'info, Node>,
    #[account(
        init,
        payer = operator,
        space = 8 + UnbondTicket::INIT_SPACE,
        seeds = [UNBOND_SEED, node.key().as_ref(), &Node::next_ticket_seed(&node)?],
        bump,
    )]
    pub ticket: Box<Account<'info, UnbondTicket>>,
    pub system_program: Program<'info, System>,
}

impl RequestUnstake<'_> {
    pub fn validate(&self, amount: u64) -> Result<()> {
        let config = self.config.load()?;
        config.require_not_paused()?;
        require!(amount > 0, VerdictError::ZeroAmount);
        let node = self.node.load()?;
        require!(amount <= node.self_stake, VerdictError::UnstakeExceedsStake);
        // Leave nothing, or at least the minimum: no dust-staked active nodes.
        let remaining = node.self_stake - amount;
        require!(
            remaining == 0 || remaining >= config.params.min_stake_for_roles(node.roles),
            VerdictError::StakeBelowMinimum
        );
        Ok(())
    }
}

pub fn handler(ctx: Context<RequestUnstake>, amount: u64) -> Result<()> {
    let now = Clock::get()?.unix_timestamp;
    let accounts = &mut *ctx.accounts;
    let mut config = accounts.config.load_mut()?;
    let node_key = accounts.node.key();
    let mut node = accounts.node.load_mut()?;
    node.self_stake = sub(node.self_stake, amount)?;
    let shares = node.unbonding.deposit(amount)?;
    config.totals.self_stake = sub(config.totals.self_stake, amount)?;
    config.totals.unbonding = add(config.totals.unbonding, amount)?;
    node.sync_activity(&mut config)?;
    let id = node.take_ticket_id()?;
    let release_at = add_secs(now, config.params.unbonding_secs)?;
    accounts.ticket.set_inner(UnbondTicket {
        node: node_key,
        owner: node.operator,
        kind: TicketKind::SelfStake,
        id,
        shares,
        requested_amount: amount,
        release_at,
        bump: ctx.bumps.ticket,
    });
    emit_event(&UnbondingQueued {
        node: node_key,
        ticket: accounts.ticket.key(),
        owner: node.operator,
        kind: TicketKind::SelfStake,
        amount,
        shares,
        release_at,
    });
    Ok(())
}
