//! `rotate_signing_key`: replaces the attestation key; the new key must sign,
//! so nobody can bind a key they do not hold.

use anchor_lang::prelude::*;

use crate::constants::NODE_SEED;
use crate::errors::VerdictError;
use crate::events::{emit_event, SigningKeyRotated};
use crate::state::Node;

#[derive(Accounts)]
pub struct RotateSigningKey<'info> {
    pub operator: Signer<'info>,
    pub new_signing_key: Signer<'info>,
    #[account(
        mut,
        seeds = [NODE_SEED, operator.key().as_ref()],
        bump = node.bump,
        has_one = operator @ VerdictError::Unauthorized,
    )]
    pub node: Box<Account<'info, Node>>,
}

impl RotateSigningKey<'_> {
    pub fn validate(&self) -> Result<()> {
        require_keys_neq!(self.new_signing_key.key(), self.node.signing_key, VerdictError::InvalidSigningKey);
        Ok(())
    }
}

pub fn handler(ctx: Context<RotateSigningKey>) -> Result<()> {
    let node = &mut ctx.accounts.node;
    let previous = node.signing_key;
    node.signing_key = ctx.accounts.new_signing_key.key();
    emit_event(&SigningKeyRotated { node: node.key(), previous, signing_key: node.signing_key });
    Ok(())
}
