//! `set_paused`: governance stops (or resumes) every value-moving instruction.

use anchor_lang::prelude::*;

use crate::constants::CONFIG_ADDRESS;
use crate::errors::VerdictError;
use crate::events::{emit_event, PausedSet};
use crate::state::Config;

#[derive(Accounts)]
pub struct SetPaused<'info> {
    pub authority: Signer<'info>,
    #[account(mut, address = CONFIG_ADDRESS, has_one = authority @ VerdictError::Unauthorized)]
    pub config: AccountLoader<'info, Config>,
}

pub fn handler(ctx: Context<SetPaused>, paused: bool) -> Result<()> {
    ctx.accounts.config.load_mut()?.set_paused(paused);
    emit_event(&PausedSet { paused });
    Ok(())
}
