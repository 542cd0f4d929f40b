//! `liquidate`: permissionless crank, one target per call, after a dispute
//! was decided. Takes the whole stake (self, delegated, unbonding) of a node
//! whose revealed vote differs from R and — when the outcome was overturned
//! — of the miner, and the approving-invalid-result share from each
//! accountable signer of the overturned outcome (−2 score). A fully
//! liquidated node also forfeits its owed boosts. The tokens go to the
//! dispute's pool, which first makes the client whole (an overturned outcome
//! that was already paid), whatever order the targets are cranked in, then
//! pays the correct voters; a dissenting voter's stake beyond what the
//! client is owed goes to the reward pool instead, so outvoting a minority
//! pays the majority nothing. A fully liquidated node keeps back, after this
//! dispute's client, a refund reserve up to its open exposure, so the
//! clients of its other jobs a later dispute overturns are repaid too.

use anchor_lang::prelude::*;
use anchor_spl::token::Token;

use crate::constants::{APPROVE_INVALID_SCORE_PENALTY, CONFIG_ADDRESS, STAKE_VAULT_ADDRESS};
use crate::errors::VerdictError;
use crate::events::{emit_event, NodeLiquidated, ValidatorScoreChanged};
use crate::math::{add, apply_bps, sub};
use crate::state::{Config, Dispute, Job, Node, NodeStatus, Offense, SlashBreakdown, Vote};
use crate::token_ops;

#[derive(AnchorSerialize, AnchorDeserialize, Clone, Copy, Debug, PartialEq, Eq)]
pub enum LiquidationTarget {
    /// A node whose revealed vote differs from R (pass its Vote).
    Voter,
    /// The miner of an overturned outcome.
    Miner,
    /// The i-th accountable signer of an overturned outcome.
    Signer(u8),
}

#[derive(Accounts)]
pub struct Liquidate<'info> {
    #[account(mut, address = CONFIG_ADDRESS)]
    pub config: AccountLoader<'info, Config>,
    #[account(mut)]
    pub dispute: AccountLoader<'info, Dispute>,
    #[account(mut)]
    pub node: AccountLoader<'info, Node>,
    /// The node's vault: a fully liquidated node forfeits what it holds
    /// (the operator's owed balance and the delegators' pending rewards).
    /// CHECK: bound by the address its Node records (see `token_ops`).
    #[account(mut, address = node.load()?.vault @ VerdictError::WrongVault)]
    pub node_vault: UncheckedAccount<'info>,
    /// The node's vote, for a `Voter` target.
    #[account(mut, constraint = vote.load()?.is_of(&dispute.key(), &node.key()) @ VerdictError::WrongVote)]
    pub vote: Option<AccountLoader<'info, Vote>>,
    /// The disputed job, its escrow and its recorded refund account: needed
    /// while the client is still owed a refund.
    #[account(mut, address = dispute.load()?.job @ VerdictError::InvalidDisputeState)]
    pub job: Option<AccountLoader<'info, Job>>,
    /// The job's escrow (a token account `submit_job` created).
    /// CHECK: bound by the address its Job records (see `token_ops`).
    #[account(
        mut,
        constraint = job
            .as_ref()
            .is_some_and(|job| job.load().is_ok_and(|job| job.escrow == escrow.key()))
            @ VerdictError::WrongVault,
    )]
    pub escrow: Option<UncheckedAccount<'info>>,
    /// CHECK: must be the job's recorded refund account (checked when paying).
    #[account(mut)]
    pub refund_account: Option<UncheckedAccount<'info>>,
    /// The stake vault (a token account `initialize_config` created).
    /// CHECK: bound by its compile-time address (see `token_ops`).
    #[account(mut, address = STAKE_VAULT_ADDRESS @ VerdictError::WrongVault)]
    pub stake_vault: UncheckedAccount<'info>,
    pub token_program: Program<'info, Token>,
}

impl Liquidate<'_> {
    pub fn validate(&self, target: LiquidationTarget) -> Result<()> {
        self.config.load()?.require_not_paused()?;
        let d = self.dispute.load()?;
        require!(d.decided(), VerdictError::InvalidDisputeState);
        let node = self.node.key();
        let due = match target {
            LiquidationTarget::Voter => {
                let vote = self.vote.as_ref().ok_or(VerdictError::NotLiquidatable)?;
                d.vote_liquidatable(&*vote.load()?)
            }
            LiquidationTarget::Miner => node == d.miner && d.miner_liquidatable(),
            LiquidationTarget::Signer(i) => {
                d.signer_liquidatable(i as usize) && d.signers()[i as usize] == node
            }
        };
        require!(due, VerdictError::NotLiquidatable);
        if d.refund_owed > 0 {
            require!(
                self.job.is_some() && self.escrow.is_some() && self.refund_account.is_some(),
                VerdictError::WrongDestination
            );
        }
        Ok(())
    }
}

pub fn handler(ctx: Context<Liquidate>, target: LiquidationTarget) -> Result<()> {
    ctx.accounts.validate(target)?;
    let a = &mut *ctx.accounts;
    let node_key = a.node.key();
    // Only the Config and the node sign this instruction's transfers: the
    // dispute stays borrowed throughout.
    let mut d = a.dispute.load_mut()?;
    let mut node = a.node.load_mut()?;
    let amount = match target {
        LiquidationTarget::Signer(_) => apply_bps(
            node.slashable_stake()?,
            a.config.load()?.slashing.bps_for(Offense::ApproveInvalid),
        )?,
        _ => node.slashable_stake()?,
    };
    let taken: SlashBreakdown = node.take_stake(amount)?;
    {
        let mut config = a.config.load_mut()?;
        let totals = &mut config.totals;
        totals.self_stake = sub(totals.self_stake, taken.self_stake)?;
        totals.delegated = sub(totals.delegated, taken.delegation)?;
        totals.unbonding = sub(totals.unbonding, taken.unbonding)?;
        totals.disputes = add(totals.disputes, amount)?;
    }

    match target {
        LiquidationTarget::Voter => a
            .vote
            .as_ref()
            .expect("checked in validate")
            .load_mut()?
            .set_liquidated(),
        LiquidationTarget::Miner => d.set_miner_liquidated(),
        LiquidationTarget::Signer(i) => {
            d.signers_slashed |= 1 << i;
            node.adjust_validator_score(APPROVE_INVALID_SCORE_PENALTY);
            emit_event(&ValidatorScoreChanged {
                node: node_key,
                score: node.validator_score,
                delta: APPROVE_INVALID_SCORE_PENALTY,
            });
        }
    }
    // Voters against R and a wrong miner lose everything, their owed boosts
    // included; signers keep what the approving-invalid share left.
    let mut amount = amount;
    if !matches!(target, LiquidationTarget::Signer(_)) {
        node.set_status(NodeStatus::Liquidated);
        node.forfeit_boosts();
        // Including the payout it was credited for the overturned work.
        let held = add(node.owed, node.pending_delegator_rewards)?;
        if held > 0 {
            // The node signs for its vault: not borrowed during the CPI.
            drop(node);
            token_ops::pay_from_node_vault(
                &a.token_program,
                &a.node_vault,
                &a.stake_vault,
                &a.node,
                held,
            )?;
            node = a.node.load_mut()?;
            node.owed = 0;
            node.pending_delegator_rewards = 0;
            let mut config = a.config.load_mut()?;
            config.totals.disputes = add(config.totals.disputes, held)?;
            drop(config);
            amount = add(amount, held)?;
        }
    }
    // A full liquidation repays this dispute's client first, then keeps back
    // a reserve for the clients of the node's other open jobs (a later
    // dispute may overturn them too), and only the rest goes to the voters.
    let (mut from_reserve, mut reserved, mut to_reward_pool) = (0, 0, 0);
    if !matches!(target, LiquidationTarget::Signer(_)) {
        if target == LiquidationTarget::Miner {
            // Liquidated before, in another dispute: its reserve repays this client.
            let need = d.refund_owed.saturating_sub(d.pool);
            from_reserve = node.take_refund_reserve(need.min(d.miner_exposure));
            let freed = node.release_exposure(std::mem::take(&mut d.miner_exposure));
            a.config.load_mut()?.totals.disputes_to_reward_pool(freed)?;
        }
        let need = d.refund_owed.saturating_sub(add(d.pool, from_reserve)?);
        reserved = node.reserve_for_refunds(amount.saturating_sub(need));
        if target == LiquidationTarget::Voter {
            // A dissenter's stake repays the client first; the rest goes to
            // the reward pool, not to the winning voters, so a majority gains
            // nothing by outvoting (and liquidating) an honest minority.
            to_reward_pool = amount - need.min(amount) - reserved;
            a.config
                .load_mut()?
                .totals
                .disputes_to_reward_pool(to_reward_pool)?;
        }
    }
    node.count_open_disputes(-1);
    node.reputation.reset_window();
    d.pool = sub(
        add(d.pool, add(amount, from_reserve)?)?,
        add(reserved, to_reward_pool)?,
    )?;
    d.pending_liquidations = d.pending_liquidations.saturating_sub(1);

    // The client first: whoever's stake filled the pool.
    let client_refund = d.take_client_refund();
    if client_refund > 0 || d.pending_liquidations == 0 {
        if let (Some(job), Some(escrow), Some(refund_account)) =
            (a.job.as_ref(), a.escrow.as_ref(), a.refund_account.as_ref())
        {
            token_ops::refund_from_stake_vault(
                &a.token_program,
                &a.stake_vault,
                &refund_account.to_account_info(),
                escrow,
                &a.config,
                job,
                client_refund,
            )?;
            let mut config = a.config.load_mut()?;
            config.totals.disputes = sub(config.totals.disputes, client_refund)?;
            drop(config);
            // Whole, or nothing more will come: the job may close.
            if d.refund_owed == 0 || d.pending_liquidations == 0 {
                job.load_mut()?.set_dispute_open(false);
            }
        }
    }
    if d.pending_liquidations == 0 {
        let unclaimable = d.finalize_rewards();
        a.config
            .load_mut()?
            .totals
            .disputes_to_reward_pool(unclaimable)?;
    }
    let mut config = a.config.load_mut()?;
    node.sync_activity(&mut config)?;
    emit_event(&NodeLiquidated {
        dispute: a.dispute.key(),
        node: node_key,
        amount,
        client_refund,
        reserved,
        from_reserve,
        to_reward_pool,
    });
    Ok(())
}
