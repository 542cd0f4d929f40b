//! `rotate_signing_key`: replaces the attestation key; the new key must sign,
//! so nobody can bind a key they do not hold. A member of the current
//! committee is re-keyed there at once: the old key (perhaps leaked, the
//! reason to rotate) signs nothing from this instruction on. So is a leader
//! of the draw in progress, which would otherwise seat the old key.

use anchor_lang::prelude::*;

use crate::constants::COMMITTEE_ADDRESS;
use crate::errors::VerdictError;
use crate::events::{emit_event, SigningKeyRotated};
use crate::state::{Committee, Node};

#[derive(Accounts)]
pub struct RotateSigningKey<'info> {
    pub operator: Signer<'info>,
    pub new_signing_key: Signer<'info>,
    /// The signer's own Node: `has_one` binds it (a Node exists only at its PDA).
    #[account(
        mut,
        has_one = operator @ VerdictError::Unauthorized,
    )]
    pub node: AccountLoader<'info, Node>,
    #[account(mut, address = COMMITTEE_ADDRESS)]
    pub committee: AccountLoader<'info, Committee>,
}

impl RotateSigningKey<'_> {
    pub fn validate(&self) -> Result<()> {
        require_keys_neq!(
            self.new_signing_key.key(),
            self.node.load()?.signing_key,
            VerdictError::InvalidSigningKey
        );
        // Two members signing with one key would count as one signer twice.
        let key = self.new_signing_key.key();
        let committee = self.committee.load()?;
        require!(
            committee.index_of_key(&key).is_none() && !committee.draw.leader_keys().contains(&key),
            VerdictError::InvalidSigningKey
        );
        Ok(())
    }
}

pub fn handler(ctx: Context<RotateSigningKey>) -> Result<()> {
    let node_key = ctx.accounts.node.key();
    let mut node = ctx.accounts.node.load_mut()?;
    let previous = node.signing_key;
    node.signing_key = ctx.accounts.new_signing_key.key();
    let mut committee = ctx.accounts.committee.load_mut()?;
    if let Some(i) = committee.members().iter().position(|m| *m == node_key) {
        committee.signing_keys[i] = node.signing_key;
    }
    committee.draw.rekey(&node_key, node.signing_key);
    emit_event(&SigningKeyRotated {
        node: node_key,
        previous,
        signing_key: node.signing_key,
    });
    Ok(())
}
