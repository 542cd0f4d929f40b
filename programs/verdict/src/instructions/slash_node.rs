//! `slash_node`: takes the slashing table's share for an offense from a
//! node's self stake, delegations and unbonding tokens alike, within a
//! per-epoch cap; the tokens go to the reward pool. Authorized by the
//! governance authority, by a committee quorum's attestation, or — for
//! downtime only — by anyone once the node's success rate is below the
//! slashing threshold. A node that was Tier 1 has its first downtime forgiven.

use anchor_lang::prelude::*;

use crate::attestation::{self, AttestationKind, SlashBody};
use crate::constants::{COMMITTEE_ADDRESS, CONFIG_SEED, SLASH_SCORE_PENALTY, SLASH_SEED};
use crate::errors::VerdictError;
use crate::events::{emit_event, NodeSlashed, SlashForgiven, ValidatorScoreChanged};
use crate::math::{add, apply_bps, sub};
use crate::state::{Committee, Config, Node, Offense, SlashRecord, SlashingTable};

#[derive(Accounts)]
#[instruction(offense: Offense, evidence_hash: [u8; 32])]
pub struct SlashNode<'info> {
    #[account(mut)]
    pub payer: Signer<'info>,
    /// The governance authority, when it is the one slashing.
    pub authority: Option<Signer<'info>>,
    #[account(mut, seeds = [CONFIG_SEED], bump = config.bump)]
    pub config: Box<Account<'info, Config>>,
    #[account(address = COMMITTEE_ADDRESS)]
    pub committee: Box<Account<'info, Committee>>,
    #[account(mut)]
    pub node: Box<Account<'info, Node>>,
    #[account(
        init,
        payer = payer,
        space = 8 + SlashRecord::INIT_SPACE,
        seeds = [SLASH_SEED, node.key().as_ref(), evidence_hash.as_ref()],
        bump,
    )]
    pub record: Box<Account<'info, SlashRecord>>,
    /// CHECK: the instructions sysvar, checked by address in `verify_quorum`.
    pub instructions: UncheckedAccount<'info>,
    pub system_program: Program<'info, System>,
}

impl SlashingTable {
    pub fn bps_for(&self, offense: Offense) -> u16 {
        match offense {
            Offense::InvalidSignature => self.invalid_signature_bps,
            Offense::Collusion => self.collusion_bps,
            Offense::ApproveInvalid => self.approve_invalid_bps,
            Offense::Downtime => self.downtime_bps,
            Offense::FrontRunning => self.front_running_bps,
        }
    }
}

impl SlashNode<'_> {
    pub fn validate(&self, offense: Offense, evidence_hash: [u8; 32], epoch: u64) -> Result<()> {
        let params = &self.config.params;
        if let Some(authority) = &self.authority {
            require_keys_eq!(authority.key(), self.config.authority, VerdictError::Unauthorized);
            return Ok(());
        }
        if offense == Offense::Downtime && self.node.reputation.below_slash_threshold(params) {
            return Ok(());
        }
        let body = SlashBody { offense, evidence_hash, epoch };
        let message = attestation::message(AttestationKind::Slash, self.committee.epoch, &self.node.key(), &body);
        attestation::verify_quorum(&self.instructions, &self.committee, &message)
            .map_err(|_| error!(VerdictError::SlashNotAuthorized))?;
        Ok(())
    }
}

/// The Verdict epoch of `now`.
pub fn verdict_epoch(now: i64, epoch_secs: i64) -> u64 {
    (now.max(0) / epoch_secs.max(1)) as u64
}

pub fn handler(ctx: Context<SlashNode>, offense: Offense, evidence_hash: [u8; 32]) -> Result<()> {
    let now = Clock::get()?.unix_timestamp;
    let epoch = verdict_epoch(now, ctx.accounts.config.params.epoch_secs);
    ctx.accounts.validate(offense, evidence_hash, epoch)?;
    let a = &mut *ctx.accounts;
    let node_key = a.node.key();
    let record_bump = ctx.bumps.record;
    let node = &mut a.node;
    let config = &mut a.config;

    if offense == Offense::Downtime && node.was_tier1 && !node.downtime_grace_used {
        node.downtime_grace_used = true;
        a.record.set_inner(SlashRecord { node: node_key, offense, evidence_hash, amount: 0, at: now, applied: false, bump: record_bump });
        emit_event(&SlashForgiven { node: node_key, offense });
        return Ok(());
    }

    let slashable = node.slashable_stake()?;
    require!(slashable > 0, VerdictError::NothingToSlash);
    let wanted = apply_bps(slashable, config.slashing.bps_for(offense))?;
    let amount = node.capped_slash(wanted, epoch, config.params.slash_epoch_cap_bps)?;
    require!(amount > 0, VerdictError::SlashCapReached);
    let taken = node.take_stake(amount)?;
    let totals = &mut config.totals;
    totals.self_stake = sub(totals.self_stake, taken.self_stake)?;
    totals.delegated = sub(totals.delegated, taken.delegation)?;
    totals.unbonding = sub(totals.unbonding, taken.unbonding)?;
    totals.reward_pool = add(totals.reward_pool, amount)?;
    node.reputation.reset_window();
    if node.is_validator() {
        node.adjust_validator_score(SLASH_SCORE_PENALTY);
        emit_event(&ValidatorScoreChanged { node: node_key, score: node.validator_score, delta: SLASH_SCORE_PENALTY });
    }
    node.sync_activity(config)?;
    a.record.set_inner(SlashRecord { node: node_key, offense, evidence_hash, amount, at: now, applied: true, bump: record_bump });
    emit_event(&NodeSlashed {
        node: node_key,
        offense,
        amount,
        from_self_stake: taken.self_stake,
        from_delegation: taken.delegation,
        from_unbonding: taken.unbonding,
        delegation_pool_amount: node.delegation.amount,
        delegation_pool_shares: node.delegation.shares,
        validator_score: node.validator_score,
    });
    Ok(())
}
