//! `close_node_endpoint`: a node stops advertising where it serves (before
//! closing, or to leave discovery); the rent goes back to its operator,
//! whoever of operator and signing key signs.

use anchor_lang::prelude::*;

use crate::errors::VerdictError;
use crate::events::{emit_event, NodeEndpointSet};
use crate::state::{Node, NodeEndpoint};

#[derive(Accounts)]
pub struct CloseNodeEndpoint<'info> {
    pub signer: Signer<'info>,
    /// The node's operator, who receives the rent (the one the node records).
    /// CHECK: bound to the node by `has_one`.
    #[account(mut)]
    pub operator: UncheckedAccount<'info>,
    #[account(
        has_one = operator @ VerdictError::Unauthorized,
        constraint = node.load()?.is_run_by(&signer.key()) @ VerdictError::Unauthorized,
    )]
    pub node: AccountLoader<'info, Node>,
    /// Only `set_node_endpoint` creates one, at `[ENDPOINT_SEED, node]`,
    /// recording the node: `has_one` binds it.
    #[account(
        mut,
        close = operator,
        has_one = node @ VerdictError::WrongNode,
    )]
    pub endpoint: Box<Account<'info, NodeEndpoint>>,
}

pub fn handler(ctx: Context<CloseNodeEndpoint>) -> Result<()> {
    emit_event(&NodeEndpointSet {
        node: ctx.accounts.node.key(),
        endpoint: String::new(),
        at: Clock::get()?.unix_timestamp,
    });
    Ok(())
}
