//! `slash_node`: takes the slashing table's share for an offense from a
//! node's self stake, delegations and unbonding tokens alike, within a cap
//! over a sliding `epoch_secs` window; the tokens go to the reward pool.
//! Only what the chain can check: downtime by anyone once the node's
//! recorded success rate is below the slashing threshold (once per Verdict
//! epoch: the evidence is the epoch), or by the governance authority; an
//! invalid signature or front-running by the governance authority. Collusion
//! and approving an invalid result are decided by disputes only, never by
//! an attestation. A node that was Tier 1 has its first downtime forgiven.

use anchor_lang::prelude::*;

use crate::constants::{CONFIG_ADDRESS, SLASH_SCORE_PENALTY, SLASH_SEED};
use crate::errors::VerdictError;
use crate::events::{emit_event, NodeSlashed, SlashForgiven, ValidatorScoreChanged};
use crate::math::{add, apply_bps, sub};
use crate::state::{Config, Node, Offense, SlashRecord, SlashingTable};

#[derive(Accounts)]
#[instruction(offense: Offense, evidence_hash: [u8; 32])]
pub struct SlashNode<'info> {
    #[account(mut)]
    pub payer: Signer<'info>,
    /// The governance authority, when it is the one slashing.
    pub authority: Option<Signer<'info>>,
    #[account(mut, address = CONFIG_ADDRESS)]
    pub config: AccountLoader<'info, Config>,
    #[account(mut)]
    pub node: AccountLoader<'info, Node>,
    #[account(
        init,
        payer = payer,
        space = 8 + SlashRecord::INIT_SPACE,
        seeds = [SLASH_SEED, node.key().as_ref(), evidence_hash.as_ref()],
        bump,
    )]
    pub record: Box<Account<'info, SlashRecord>>,
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
        let config = self.config.load()?;
        config.require_not_paused()?;
        let params = &config.params;
        // Decided by a dispute's vote, where the chain checks who was right.
        require!(
            !matches!(offense, Offense::Collusion | Offense::ApproveInvalid),
            VerdictError::SlashNeedsEvidence
        );
        if let Some(authority) = &self.authority {
            require_keys_eq!(
                authority.key(),
                config.authority,
                VerdictError::Unauthorized
            );
            return Ok(());
        }
        let chain_evidence = offense == Offense::Downtime
            && self.node.load()?.reputation.below_slash_threshold(params)
            && evidence_hash == downtime_evidence(epoch);
        require!(chain_evidence, VerdictError::SlashNotAuthorized);
        Ok(())
    }
}

/// The Verdict epoch of `now`.
pub fn verdict_epoch(now: i64, epoch_secs: i64) -> u64 {
    (now.max(0) as u64) / (epoch_secs.max(1) as u64)
}

/// The evidence of a permissionless downtime slash: the Verdict epoch it is
/// for, so each node can be slashed for downtime once per epoch.
pub fn downtime_evidence(epoch: u64) -> [u8; 32] {
    solana_sha256_hasher::hashv(&[b"verdict-downtime", &epoch.to_le_bytes()]).to_bytes()
}

pub fn handler(ctx: Context<SlashNode>, offense: Offense, evidence_hash: [u8; 32]) -> Result<()> {
    let now = Clock::get()?.unix_timestamp;
    let epoch = verdict_epoch(now, ctx.accounts.config.load()?.params.epoch_secs);
    ctx.accounts.validate(offense, evidence_hash, epoch)?;
    let a = &mut *ctx.accounts;
    let record_bump = ctx.bumps.record;
    let node_key = a.node.key();
    let mut node = a.node.load_mut()?;
    let mut config = a.config.load_mut()?;

    if offense == Offense::Downtime && node.was_tier1() && !node.downtime_grace_used() {
        node.set_downtime_grace_used(true);
        a.record.set_inner(SlashRecord {
            node: node_key,
            offense,
            evidence_hash,
            amount: 0,
            at: now,
            applied: false,
            bump: record_bump,
        });
        emit_event(&SlashForgiven {
            node: node_key,
            offense,
        });
        return Ok(());
    }

    let slashable = node.slashable_stake()?;
    require!(slashable > 0, VerdictError::NothingToSlash);
    let wanted = apply_bps(slashable, config.slashing.bps_for(offense))?;
    let amount = node.capped_slash(
        wanted,
        now,
        config.params.epoch_secs,
        config.params.slash_epoch_cap_bps,
    )?;
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
        emit_event(&ValidatorScoreChanged {
            node: node_key,
            score: node.validator_score,
            delta: SLASH_SCORE_PENALTY,
        });
    }
    node.sync_activity(&mut config)?;
    a.record.set_inner(SlashRecord {
        node: node_key,
        offense,
        evidence_hash,
        amount,
        at: now,
        applied: true,
        bump: record_bump,
    });
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
