//! `withdraw_owed`: a node's operator takes what the node is owed (bonds
//! back, dispute fees, validator fees, its share of payouts) from the node
//! vault into a token account of its own.

use anchor_lang::prelude::*;
use anchor_spl::token::Token;

use crate::constants::CONFIG_ADDRESS;
use crate::errors::VerdictError;
use crate::events::{emit_event, OwedWithdrawn};
use crate::state::{Config, Node};
use crate::token_ops;

#[derive(Accounts)]
pub struct WithdrawOwed<'info> {
    pub operator: Signer<'info>,
    #[account(address = CONFIG_ADDRESS)]
    pub config: AccountLoader<'info, Config>,
    /// The signer's own Node: `has_one` binds it (a Node exists only at its PDA).
    #[account(
        mut,
        has_one = operator @ VerdictError::Unauthorized,
    )]
    pub node: AccountLoader<'info, Node>,
    /// The node's vault (a token account `register_node` created).
    /// CHECK: bound by the address its Node records (see `token_ops`).
    #[account(mut, address = node.load()?.vault @ VerdictError::WrongVault)]
    pub node_vault: UncheckedAccount<'info>,
    /// The token account of the stake mint paid into.
    /// CHECK: its mint and owner read from its bytes (`token_ops`).
    #[account(
        mut,
        constraint = token_ops::owner_of(&destination)? == operator.key() @ VerdictError::WrongDestination,
        constraint = token_ops::mint_of(&destination)? == config.load()?.stake_mint @ VerdictError::WrongMint,
    )]
    pub destination: UncheckedAccount<'info>,
    pub token_program: Program<'info, Token>,
}

impl WithdrawOwed<'_> {
    pub fn validate(&self) -> Result<()> {
        self.config.load()?.require_not_paused()?;
        require!(self.node.load()?.owed > 0, VerdictError::NothingOwed);
        Ok(())
    }
}

pub fn handler(ctx: Context<WithdrawOwed>) -> Result<()> {
    let a = &mut *ctx.accounts;
    let (amount, operator) = {
        let node = a.node.load()?;
        (node.owed, node.operator)
    };
    token_ops::pay_from_node_vault(
        &a.token_program,
        &a.node_vault,
        &a.destination,
        &a.node,
        amount,
    )?;
    a.node.load_mut()?.owed = 0;
    emit_event(&OwedWithdrawn {
        node: a.node.key(),
        operator,
        amount,
    });
    Ok(())
}
