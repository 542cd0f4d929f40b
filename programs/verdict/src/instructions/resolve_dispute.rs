//! `resolve_dispute`: permissionless once the vote is over. The heavier of
//! the two candidates, R with weight n, stands against m (the other
//! candidate and every other result) when turnout reached the quorum and
//! n > min(10·m, 66% of the active weight); otherwise the dispute ends
//! unresolved and nobody is liquidated. Unrevealed deposits are forfeited.
//!
//! - Upheld (R = the disputed output): the challenger's bond goes to the
//!   correct voters' pool; voters against R are to be liquidated.
//! - Overturned (R = the challenger's result): the bond is credited back;
//!   the miner, the accountable signers and voters against R are to be
//!   liquidated; the client gets back what is still in the escrow at once,
//!   and what was already paid out of the pool first (the job's exposure
//!   moves to the dispute until the miner's liquidation is cranked).
//! - Unresolved: the bond less `unresolved_fee_bps` is credited back to the
//!   challenger, the fee to the miner whose payout it held; the payout is
//!   then released normally.
//!
//! Money owed to the challenger and the miner is credited to their nodes'
//! `owed` balances (no caller-chosen destination). The accountable signers
//! are passed as remaining accounts, in the job's order.

use anchor_lang::prelude::*;
use anchor_spl::token::Token;

use crate::constants::{CONFIG_ADDRESS, STAKE_VAULT_ADDRESS};
use crate::errors::VerdictError;
use crate::events::{emit_event, CreditReason, DisputeResolved, NodeCredited};
use crate::instructions::fail_job::refund;
use crate::instructions::open_dispute::count_signers;
use crate::math::{add, apply_bps, sub};
use crate::state::{Config, Dispute, DisputeRules, DisputeStatus, Job, JobStatus, Node, Verdict};
use crate::token_ops;

#[derive(Accounts)]
pub struct ResolveDispute<'info> {
    #[account(mut, address = CONFIG_ADDRESS)]
    pub config: AccountLoader<'info, Config>,
    #[account(mut)]
    pub dispute: AccountLoader<'info, Dispute>,
    #[account(mut, address = dispute.load()?.job @ VerdictError::InvalidDisputeState)]
    pub job: AccountLoader<'info, Job>,
    /// The job's escrow (a token account `submit_job` created).
    /// CHECK: bound by the address its Job records (see `token_ops`).
    #[account(mut, address = job.load()?.escrow @ VerdictError::WrongVault)]
    pub escrow: UncheckedAccount<'info>,
    /// CHECK: the job's recorded refund account (a closed one keeps the refund claimable).
    #[account(mut, address = job.load()?.refund_account @ VerdictError::WrongDestination)]
    pub refund_account: UncheckedAccount<'info>,
    #[account(mut, address = dispute.load()?.challenger @ VerdictError::WrongNode)]
    pub challenger: AccountLoader<'info, Node>,
    /// The challenger's vault.
    /// CHECK: bound by the address its Node records (see `token_ops`).
    #[account(mut, address = challenger.load()?.vault @ VerdictError::WrongVault)]
    pub challenger_vault: UncheckedAccount<'info>,
    #[account(mut, address = dispute.load()?.miner @ VerdictError::WrongMiner)]
    pub miner: AccountLoader<'info, Node>,
    /// The miner's vault.
    /// CHECK: bound by the address its Node records (see `token_ops`).
    #[account(mut, address = miner.load()?.vault @ VerdictError::WrongVault)]
    pub miner_vault: UncheckedAccount<'info>,
    /// The stake vault (a token account `initialize_config` created).
    /// CHECK: bound by its compile-time address (see `token_ops`).
    #[account(mut, address = STAKE_VAULT_ADDRESS @ VerdictError::WrongVault)]
    pub stake_vault: UncheckedAccount<'info>,
    pub token_program: Program<'info, Token>,
}

impl ResolveDispute<'_> {
    pub fn validate(&self) -> Result<()> {
        let now = Clock::get()?.unix_timestamp;
        self.config.load()?.require_not_paused()?;
        let d = self.dispute.load()?;
        require!(
            d.status() == DisputeStatus::Voting,
            VerdictError::InvalidDisputeState
        );
        require!(now >= d.reveal_end, VerdictError::VoteNotOver);
        Ok(())
    }

    /// Credits `amount` from the stake vault (held for disputes) to the
    /// challenger's or the miner's `owed`.
    fn credit(&self, to_miner: bool, amount: u64, reason: CreditReason) -> Result<()> {
        if amount == 0 {
            return Ok(());
        }
        let (node, vault) = if to_miner {
            (&self.miner, &self.miner_vault)
        } else {
            (&self.challenger, &self.challenger_vault)
        };
        token_ops::credit_node_from_stake_vault(
            &self.token_program,
            &self.stake_vault,
            vault,
            &self.config,
            &mut *node.load_mut()?,
            amount,
        )?;
        let mut config = self.config.load_mut()?;
        config.totals.disputes = sub(config.totals.disputes, amount)?;
        drop(config);
        emit_event(&NodeCredited {
            node: node.key(),
            amount,
            reason,
        });
        Ok(())
    }
}

pub fn handler<'info>(ctx: Context<'info, ResolveDispute<'info>>) -> Result<()> {
    let a = &mut *ctx.accounts;
    let params = a.config.load()?.params;
    // Only the Config signs this instruction's transfers: the dispute stays
    // borrowed throughout.
    let mut d = a.dispute.load_mut()?;
    let verdict = d.decide(&DisputeRules::of(&params));
    let bond = d.bond;
    let forfeited = d.deposits_held;
    d.deposits_held = 0;
    let (mut bond_returned, mut unresolved_fee) = (0, 0);
    let mut signers_settled = true;
    a.challenger.load_mut()?.count_open_disputes(-1);
    match verdict {
        Verdict::Unresolved { n, m } => {
            unresolved_fee = apply_bps(bond, params.unresolved_fee_bps)?;
            bond_returned = bond - unresolved_fee;
            a.credit(false, bond_returned, CreditReason::BondReturned)?;
            a.credit(true, unresolved_fee, CreditReason::UnresolvedDisputeFee)?;
            // Nobody to pay: unrevealed deposits fund boosts.
            a.config
                .load_mut()?
                .totals
                .disputes_to_reward_pool(forfeited)?;
            a.miner.load_mut()?.count_open_disputes(-1);
            d.set_status(DisputeStatus::Unresolved);
            (d.n, d.m) = (n, m);
            a.job.load_mut()?.set_dispute_open(false);
        }
        Verdict::Stands { result, n, m } => {
            let upheld = result == d.disputed_output;
            (d.result, d.n, d.m) = (result, n, m);
            d.pool = add(d.pool, forfeited)?;
            let against = d.voters_revealed.saturating_sub(d.winning_voters());
            if upheld {
                d.set_status(DisputeStatus::Upheld);
                d.pool = add(d.pool, bond)?;
                d.pending_liquidations = against;
                a.miner.load_mut()?.count_open_disputes(-1);
                a.job.load_mut()?.set_dispute_open(false);
            } else {
                d.set_status(DisputeStatus::Overturned);
                d.pending_liquidations = against + 1 + d.signer_count as u32;
                signers_settled = false;
                let mint = a.config.load()?.stake_mint;
                let (status, held, price) = {
                    let job = a.job.load()?;
                    (job.status(), job.fee_held, job.price)
                };
                match status {
                    // The payout is still held: the client's whole fee goes back now.
                    JobStatus::Solved => {
                        refund(
                            &a.job,
                            &a.escrow,
                            &a.refund_account,
                            &a.token_program,
                            &mint,
                            JobStatus::Refunded,
                        )?;
                        let mut job = a.job.load_mut()?;
                        job.set_dispute_open(false);
                        // The client is whole: nothing left at risk.
                        job.release_exposure(
                            &mut *a.miner.load_mut()?,
                            &mut a.config.load_mut()?.totals,
                        )?;
                    }
                    // Already paid: what the escrow still holds (the co-signers'
                    // fee) goes back now, the rest out of the dispute's pool.
                    _ => {
                        token_ops::refund_from_escrow(
                            &a.token_program,
                            &a.escrow,
                            &a.refund_account,
                            &a.job,
                            &mint,
                            held,
                        )?;
                        let mut job = a.job.load_mut()?;
                        job.fee_held = 0;
                        job.set_status(JobStatus::Refunded);
                        d.refund_owed = sub(price, held)?;
                        // The claim on the miner's stake moves to the dispute,
                        // released when the miner's liquidation is cranked.
                        d.miner_exposure = std::mem::take(&mut job.exposure);
                        // The job stays open to the liquidations until the client is whole.
                        job.set_dispute_open(d.refund_owed > 0);
                    }
                }
                bond_returned = bond;
                a.credit(false, bond, CreditReason::BondReturned)?;
            }
            if d.pending_liquidations == 0 {
                let unclaimable = d.finalize_rewards();
                a.config
                    .load_mut()?
                    .totals
                    .disputes_to_reward_pool(unclaimable)?;
            }
        }
    }
    if signers_settled {
        count_signers(ctx.remaining_accounts, d.signers(), -1)?;
    }
    emit_event(&DisputeResolved {
        dispute: a.dispute.key(),
        status: d.status(),
        result: d.result,
        n: d.n,
        m: d.m,
        turnout: d.weight_disputed + d.weight_challenger + d.weight_other,
        active_weight: d.active_weight,
        pending_liquidations: d.pending_liquidations,
        bond_returned,
        unresolved_fee,
        deposits_forfeited: forfeited,
    });
    Ok(())
}
