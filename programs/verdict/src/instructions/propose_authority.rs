//! `propose_authority`: first step of a two-step governance handover.

use anchor_lang::prelude::*;

use crate::constants::CONFIG_ADDRESS;
use crate::errors::VerdictError;
use crate::events::{emit_event, AuthorityProposed};
use crate::state::Config;

#[derive(Accounts)]
pub struct ProposeAuthority<'info> {
    pub authority: Signer<'info>,
    #[account(mut, address = CONFIG_ADDRESS, has_one = authority @ VerdictError::Unauthorized)]
    pub config: AccountLoader<'info, Config>,
}

/// Proposing `Pubkey::default()` cancels a pending handover.
pub fn handler(ctx: Context<ProposeAuthority>, proposed: Pubkey) -> Result<()> {
    let mut config = ctx.accounts.config.load_mut()?;
    config.pending_authority = proposed;
    emit_event(&AuthorityProposed {
        authority: config.authority,
        proposed,
    });
    Ok(())
}
