//! `update_config`: governance replaces the parameters and slashing table.

use anchor_lang::prelude::*;

use crate::constants::CONFIG_ADDRESS;
use crate::errors::VerdictError;
use crate::events::{emit_event, ConfigUpdated};
use crate::state::{Config, ProtocolParams, SlashingTable};

#[derive(Accounts)]
pub struct UpdateConfig<'info> {
    pub authority: Signer<'info>,
    #[account(mut, address = CONFIG_ADDRESS, has_one = authority @ VerdictError::Unauthorized)]
    pub config: AccountLoader<'info, Config>,
}

impl UpdateConfig<'_> {
    pub fn validate(&self, params: &ProtocolParams, slashing: &SlashingTable) -> Result<()> {
        params.validate()?;
        slashing.validate()
    }
}

pub fn handler(
    ctx: Context<UpdateConfig>,
    params: ProtocolParams,
    slashing: SlashingTable,
) -> Result<()> {
    let mut config = ctx.accounts.config.load_mut()?;
    // New minimum stakes reach the active-node counters lazily: each node is
    // recounted the next time it is touched (`Node::sync_activity`).
    config.params = params;
    config.slashing = slashing;
    emit_event(&ConfigUpdated {
        params: config.params,
        slashing: config.slashing,
    });
    Ok(())
}
