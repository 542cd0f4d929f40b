//! `update_node`: the operator changes roles, models or commission.

use anchor_lang::prelude::*;
// The IDL builder spells `ModelId` out as `[u8; MODEL_ID_LEN]` here.
#[cfg(feature = "idl-build")]
#[allow(unused_imports)]
use crate::constants::MODEL_ID_LEN;

use crate::constants::CONFIG_ADDRESS;
use crate::errors::VerdictError;
use crate::events::{emit_event, NodeUpdated};
use crate::state::{Config, ModelId, Node};

#[derive(AnchorSerialize, AnchorDeserialize, Clone, Debug)]
pub struct UpdateNodeArgs {
    pub roles: u8,
    pub models: Vec<ModelId>,
    pub commission_bps: u16,
}

#[derive(Accounts)]
pub struct UpdateNode<'info> {
    pub operator: Signer<'info>,
    #[account(mut, address = CONFIG_ADDRESS)]
    pub config: AccountLoader<'info, Config>,
    /// The signer's own Node: `has_one` binds it (a Node exists only at its PDA).
    #[account(
        mut,
        has_one = operator @ VerdictError::Unauthorized,
    )]
    pub node: AccountLoader<'info, Node>,
}

impl UpdateNode<'_> {
    pub fn validate(&self, args: &UpdateNodeArgs) -> Result<()> {
        Node::validate_roles(args.roles)?;
        require!(
            args.commission_bps <= self.config.load()?.params.max_commission_bps,
            VerdictError::CommissionTooHigh
        );
        Ok(())
    }
}

pub fn handler(ctx: Context<UpdateNode>, args: UpdateNodeArgs) -> Result<()> {
    let node_key = ctx.accounts.node.key();
    let mut node = ctx.accounts.node.load_mut()?;
    node.roles = args.roles;
    node.commission_bps = args.commission_bps;
    node.set_models(&args.models)?;
    // A role change can change the minimum stake the node must meet.
    node.sync_activity(&mut *ctx.accounts.config.load_mut()?)?;
    emit_event(&NodeUpdated {
        node: node_key,
        roles: node.roles,
        commission_bps: node.commission_bps,
        model_count: node.model_count,
    });
    Ok(())
}
