//! `set_node_endpoint`: a node records (or changes) where it serves, signed
//! by its operator or its signing key (the miner process holds only the
//! latter); the signer pays the endpoint account's rent the first time.

use anchor_lang::prelude::*;

use crate::constants::ENDPOINT_SEED;
use crate::errors::VerdictError;
use crate::events::{emit_event, NodeEndpointSet};
use crate::state::{Node, NodeEndpoint, NodeStatus};

#[derive(Accounts)]
pub struct SetNodeEndpoint<'info> {
    #[account(mut)]
    pub signer: Signer<'info>,
    #[account(
        constraint = node.load()?.is_run_by(&signer.key()) @ VerdictError::Unauthorized,
    )]
    pub node: AccountLoader<'info, Node>,
    #[account(
        init_if_needed,
        payer = signer,
        space = 8 + NodeEndpoint::INIT_SPACE,
        seeds = [ENDPOINT_SEED, node.key().as_ref()],
        bump,
    )]
    pub endpoint: Box<Account<'info, NodeEndpoint>>,
    pub system_program: Program<'info, System>,
}

impl SetNodeEndpoint<'_> {
    /// The URL itself is checked where it is stored ([`NodeEndpoint::set`]).
    pub fn validate(&self) -> Result<()> {
        require!(
            self.node.load()?.status() == NodeStatus::Active,
            VerdictError::NodeNotActive
        );
        Ok(())
    }
}

pub fn handler(ctx: Context<SetNodeEndpoint>, url: String) -> Result<()> {
    let now = Clock::get()?.unix_timestamp;
    let endpoint = &mut ctx.accounts.endpoint;
    endpoint.node = ctx.accounts.node.key();
    endpoint.bump = ctx.bumps.endpoint;
    endpoint.set(&url, now)?;
    emit_event(&NodeEndpointSet {
        node: endpoint.node,
        endpoint: url,
        at: now,
    });
    Ok(())
}
