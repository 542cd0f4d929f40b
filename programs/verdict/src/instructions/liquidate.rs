//! `liquidate`: permissionless crank, one target per call, after a dispute
//! was decided. Takes the whole stake (self, delegated, unbonding) of a node
//! that voted against R and — when the outcome was overturned — of the
//! miner, and the approving-invalid-result share from each validator that
//! signed the overturned outcome of a high-risk job (−2 score). The tokens fund the correct
//! voters; the miner's first pay back the client when it was already paid.

use anchor_lang::prelude::*;
use anchor_spl::token::{Token, TokenAccount};

use crate::constants::{APPROVE_INVALID_SCORE_PENALTY, CONFIG_SEED, VOTE_SEED};
use crate::errors::VerdictError;
use crate::events::{emit_event, NodeLiquidated, ValidatorScoreChanged};
use crate::math::{add, apply_bps, sub};
use crate::state::{Config, Dispute, DisputeStatus, Node, NodeStatus, Offense, SlashBreakdown, Vote};
use crate::token_ops;

#[derive(AnchorSerialize, AnchorDeserialize, Clone, Copy, Debug, PartialEq, Eq)]
pub enum LiquidationTarget {
    /// A node whose revealed vote differs from R (pass its Vote).
    Voter,
    /// The miner of an overturned outcome.
    Miner,
    /// The i-th signer of an overturned outcome.
    Signer(u8),
}

#[derive(Accounts)]
pub struct Liquidate<'info> {
    #[account(mut, seeds = [CONFIG_SEED], bump = config.bump)]
    pub config: Box<Account<'info, Config>>,
    #[account(mut)]
    pub dispute: Box<Account<'info, Dispute>>,
    #[account(mut)]
    pub node: Box<Account<'info, Node>>,
    /// The node's vote, for a `Voter` target.
    #[account(mut, seeds = [VOTE_SEED, dispute.key().as_ref(), node.key().as_ref()], bump = vote.bump)]
    pub vote: Option<Box<Account<'info, Vote>>>,
    /// The client's refund account, for the miner of an already paid job.
    #[account(mut)]
    pub refund_account: Option<Box<Account<'info, TokenAccount>>>,
    #[account(mut, address = config.stake_vault @ VerdictError::WrongVault)]
    pub stake_vault: Box<Account<'info, TokenAccount>>,
    pub token_program: Program<'info, Token>,
}

impl Liquidate<'_> {
    pub fn validate(&self, target: LiquidationTarget) -> Result<()> {
        let d = &self.dispute;
        require!(
            matches!(d.status, DisputeStatus::Upheld | DisputeStatus::Overturned),
            VerdictError::InvalidDisputeState
        );
        let node = self.node.key();
        let due = match target {
            LiquidationTarget::Voter => {
                let vote = self.vote.as_ref().ok_or(VerdictError::NotLiquidatable)?;
                vote.revealed && vote.result != d.result && !vote.liquidated
            }
            LiquidationTarget::Miner => {
                d.status == DisputeStatus::Overturned && node == d.miner && !d.miner_liquidated
            }
            LiquidationTarget::Signer(i) => {
                d.status == DisputeStatus::Overturned
                    && (i as usize) < d.signers().len()
                    && d.signers()[i as usize] == node
                    && d.signers_slashed & (1 << i) == 0
            }
        };
        require!(due, VerdictError::NotLiquidatable);
        if target == LiquidationTarget::Miner && d.refund_owed > 0 {
            require!(self.refund_account.is_some(), VerdictError::WrongDestination);
        }
        Ok(())
    }
}

pub fn handler(ctx: Context<Liquidate>, target: LiquidationTarget) -> Result<()> {
    ctx.accounts.validate(target)?;
    let a = &mut *ctx.accounts;
    let node_key = a.node.key();
    let amount = match target {
        LiquidationTarget::Signer(_) => apply_bps(a.node.slashable_stake()?, a.config.slashing.bps_for(Offense::ApproveInvalid))?,
        _ => a.node.slashable_stake()?,
    };
    let taken: SlashBreakdown = a.node.take_stake(amount)?;
    let totals = &mut a.config.totals;
    totals.self_stake = sub(totals.self_stake, taken.self_stake)?;
    totals.delegated = sub(totals.delegated, taken.delegation)?;
    totals.unbonding = sub(totals.unbonding, taken.unbonding)?;
    totals.disputes = add(totals.disputes, amount)?;

    let mut client_refund = 0;
    let d = &mut a.dispute;
    match target {
        LiquidationTarget::Voter => a.vote.as_mut().unwrap().liquidated = true,
        LiquidationTarget::Miner => {
            d.miner_liquidated = true;
            client_refund = d.refund_owed.min(amount);
            d.refund_owed = 0;
        }
        LiquidationTarget::Signer(i) => {
            d.signers_slashed |= 1 << i;
            a.node.adjust_validator_score(APPROVE_INVALID_SCORE_PENALTY);
            emit_event(&ValidatorScoreChanged {
                node: node_key,
                score: a.node.validator_score,
                delta: APPROVE_INVALID_SCORE_PENALTY,
            });
        }
    }
    // Voters against R and a wrong miner lose everything; signers keep what
    // the approving-invalid share left.
    if !matches!(target, LiquidationTarget::Signer(_)) {
        a.node.status = NodeStatus::Liquidated;
    }
    a.node.reputation.reset_window();
    d.pool = add(d.pool, amount - client_refund)?;
    d.pending_liquidations = sub(d.pending_liquidations as u64, 1)? as u32;
    if client_refund > 0 {
        let refund_account = a.refund_account.as_ref().unwrap();
        token_ops::pay_from_stake_vault(
            &a.token_program,
            &a.stake_vault,
            &refund_account.to_account_info(),
            &a.config,
            client_refund,
        )?;
        a.config.totals.disputes = sub(a.config.totals.disputes, client_refund)?;
    }
    if a.dispute.pending_liquidations == 0 {
        let dust = a.dispute.finalize_rewards();
        let totals = &mut a.config.totals;
        totals.disputes = sub(totals.disputes, dust)?;
        totals.reward_pool = add(totals.reward_pool, dust)?;
    }
    let config = &mut a.config;
    a.node.sync_activity(config)?;
    emit_event(&NodeLiquidated { dispute: a.dispute.key(), node: node_key, amount, client_refund });
    Ok(())
}
