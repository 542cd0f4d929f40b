//! `accept_authority`: the proposed authority takes over, proving it can sign.

use anchor_lang::prelude::*;

use crate::constants::CONFIG_ADDRESS;
use crate::errors::VerdictError;
use crate::events::{emit_event, AuthorityAccepted};
use crate::state::Config;

#[derive(Accounts)]
pub struct AcceptAuthority<'info> {
    pub new_authority: Signer<'info>,
    #[account(
        mut,
        address = CONFIG_ADDRESS,
        constraint = config.load()?.pending_authority == new_authority.key()
            && new_authority.key() != Pubkey::default() @ VerdictError::NoPendingAuthority,
    )]
    pub config: AccountLoader<'info, Config>,
}

pub fn handler(ctx: Context<AcceptAuthority>) -> Result<()> {
    let mut config = ctx.accounts.config.load_mut()?;
    let previous = config.authority;
    config.authority = config.pending_authority;
    config.pending_authority = Pubkey::default();
    emit_event(&AuthorityAccepted {
        previous,
        authority: config.authority,
    });
    Ok(())
}
