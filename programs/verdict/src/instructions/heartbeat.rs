//! `heartbeat`: the node says it is alive (signed by its operator or its
//! signing key). Decay owed for past staleness is applied first.

use anchor_lang::prelude::*;

use crate::constants::CONFIG_ADDRESS;
use crate::errors::VerdictError;
use crate::events::{emit_event, HeartbeatRecorded, ReputationChanged};
use crate::state::{Config, Node};

#[derive(Accounts)]
pub struct Heartbeat<'info> {
    pub signer: Signer<'info>,
    #[account(address = CONFIG_ADDRESS)]
    pub config: AccountLoader<'info, Config>,
    #[account(
        mut,
        constraint = node.load()?.is_run_by(&signer.key()) @ VerdictError::Unauthorized,
    )]
    pub node: AccountLoader<'info, Node>,
}

pub fn handler(ctx: Context<Heartbeat>) -> Result<()> {
    let now = Clock::get()?.unix_timestamp;
    let node_key = ctx.accounts.node.key();
    let config = ctx.accounts.config.load()?;
    let mut node = ctx.accounts.node.load_mut()?;
    node.reputation.heartbeat(now, &config.params);
    emit_event(&HeartbeatRecorded {
        node: node_key,
        trust_bps: node.reputation.trust_bps,
        at: now,
    });
    // Decay may have changed trust: the reputation history records it.
    emit_event(&ReputationChanged::of(node_key, &node, &config.params, now));
    Ok(())
}
