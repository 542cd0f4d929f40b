//! A client's inference job: its escrowed fee, the miner it went to, the
//! attested outcome, and the payout with its release time.

use anchor_lang::prelude::*;

use crate::constants::{MAX_COMMITTEE_SIZE, MODEL_ID_LEN};

#[derive(AnchorSerialize, AnchorDeserialize, Clone, Copy, Debug, PartialEq, Eq, InitSpace)]
pub enum RiskLevel {
    /// Any warm miner; may settle optimistically in one transaction.
    Low,
    /// Tier 1 or 2 miners.
    Medium,
    /// Tier 1 or 2 miners, with a shadow rerun by the keepers.
    High,
}

impl RiskLevel {
    /// Worst tier a miner may be in to take a job of this risk.
    pub fn max_tier(&self) -> u8 {
        match self {
            RiskLevel::Low => 3,
            RiskLevel::Medium | RiskLevel::High => 2,
        }
    }
}

#[derive(AnchorSerialize, AnchorDeserialize, Clone, Copy, Debug, PartialEq, Eq, InitSpace)]
pub enum JobStatus {
    /// Escrowed, waiting for a miner.
    Sent,
    /// Assigned to `miner` by a committee quorum.
    Allocated,
    /// Output attested; payout held until `release_at`.
    Solved,
    /// Payout claimed.
    Paid,
    /// Refused at preprocessing; refunded.
    Invalid,
    /// Timed out (SENT or ALLOCATED TTL); refunded.
    Expired,
    /// Every attempt failed; refunded.
    Refunded,
}

/// Why a miner failed a job (part of the fail attestation).
#[derive(AnchorSerialize, AnchorDeserialize, Clone, Copy, Debug, PartialEq, Eq, InitSpace)]
pub enum FailReason {
    Timeout,
    InvalidOutput,
    Disconnect,
}

#[account]
#[derive(InitSpace, Debug)]
pub struct Job {
    pub client: Pubkey,
    /// The client's token account that refunds go to (set at submit).
    pub refund_account: Pubkey,
    pub job_id: u64,
    pub model: [u8; MODEL_ID_LEN],
    pub input_hash: [u8; 32],
    pub risk: RiskLevel,
    pub status: JobStatus,
    pub max_fee: u64,
    /// Agreed at assignment (≤ max fee); the rest goes back to the client.
    pub price: u64,
    /// The miner's Node account (default while unassigned).
    pub miner: Pubkey,
    /// Assignments so far (a failed attempt re-opens the job).
    pub attempts: u8,
    pub output_hash: [u8; 32],
    pub response_ms: u32,
    pub load_ms: u32,
    pub inference_ms: u32,
    pub sla_met: bool,
    pub latency_score_bps: u16,
    pub created_at: i64,
    /// When the job last became SENT (the SENT TTL runs from here).
    pub opened_at: i64,
    pub allocated_at: i64,
    pub solved_at: i64,
    pub release_at: i64,
    /// Committee epoch of the completion, and who signed it (node accounts),
    /// credited to their validator scores when the job is closed.
    pub committee_epoch: u64,
    pub signers: [Pubkey; MAX_COMMITTEE_SIZE as usize],
    pub signer_count: u8,
    /// A dispute over this job's outcome is being voted on (no payout
    /// meanwhile), or still owes the client its refund (no close meanwhile).
    pub dispute_open: bool,
    /// Slot of the job's creation: part of every message signed about it,
    /// so a job closed and recreated at the same address starts afresh.
    pub created_slot: u64,
    /// The price counted against the miner's exposure, until released.
    pub exposure: u64,
    /// The co-signers' fee, kept in the escrow once the payout is claimed
    /// and paid to them at close (after the challenge window).
    pub fee_held: u64,
    /// A refund the recorded refund account could not take (closed or
    /// frozen), kept in the escrow for the client's `claim_refund`.
    pub client_owed: u64,
    pub bump: u8,
    pub escrow_bump: u8,
}

impl Job {
    /// SENT → ALLOCATED to `miner` at `price`, booked against the miner's
    /// exposure limit.
    pub fn allocate(
        &mut self,
        miner: &mut Account<crate::state::Node>,
        price: u64,
        now: i64,
        params: &crate::state::ProtocolParams,
    ) -> Result<()> {
        miner.add_exposure(price, params)?;
        self.status = JobStatus::Allocated;
        self.miner = miner.key();
        self.price = price;
        self.exposure = price;
        self.attempts = self.attempts.saturating_add(1);
        self.allocated_at = now;
        Ok(())
    }

    /// Gives the job's exposure back to its miner (the attempt ended without
    /// an outcome, the job is closed, or it was refunded when its outcome
    /// was overturned). A liquidated miner's refund reserve shrinks with it.
    pub fn release_exposure(
        &mut self,
        miner: &mut crate::state::Node,
        totals: &mut crate::state::StakeTotals,
    ) -> Result<()> {
        let freed = miner.release_exposure(self.exposure);
        self.exposure = 0;
        totals.disputes_to_reward_pool(freed)
    }

    /// ALLOCATED → SOLVED with the attested report and its signers.
    pub fn solve(
        &mut self,
        report: &crate::attestation::CompletionReport,
        epoch: u64,
        signers: ([Pubkey; MAX_COMMITTEE_SIZE as usize], u8),
        now: i64,
        release_at: i64,
    ) {
        self.status = JobStatus::Solved;
        self.output_hash = report.output_hash;
        self.response_ms = report.response_ms;
        self.load_ms = report.load_ms;
        self.inference_ms = report.inference_ms;
        self.sla_met = report.sla_met;
        self.latency_score_bps = report.latency_score_bps;
        self.committee_epoch = epoch;
        (self.signers, self.signer_count) = signers;
        self.solved_at = now;
        self.release_at = release_at;
    }

    /// Back to SENT for another miner.
    pub fn reopen(&mut self, now: i64) {
        self.status = JobStatus::Sent;
        self.miner = Pubkey::default();
        self.price = 0;
        self.opened_at = now;
    }

    /// When the SENT or ALLOCATED time-to-live runs out (`None` in any other state).
    pub fn expires_at(&self, params: &crate::state::ProtocolParams) -> Option<i64> {
        match self.status {
            JobStatus::Sent => Some(self.opened_at.saturating_add(params.sent_ttl_secs)),
            JobStatus::Allocated => {
                Some(self.allocated_at.saturating_add(params.allocated_ttl_secs))
            }
            _ => None,
        }
    }

    /// The SENT or ALLOCATED time-to-live has run out.
    pub fn is_expired(&self, now: i64, params: &crate::state::ProtocolParams) -> bool {
        self.expires_at(params).is_some_and(|at| now >= at)
    }

    /// Tokens the job's escrow must hold: the whole max fee until the payout
    /// is claimed or the fee refunded; then the co-signers' fee until close,
    /// and any refund the client has yet to claim.
    pub fn owed(&self) -> u64 {
        let held = match self.status {
            JobStatus::Sent | JobStatus::Allocated | JobStatus::Solved => self.max_fee,
            JobStatus::Paid => self.fee_held,
            JobStatus::Invalid | JobStatus::Expired | JobStatus::Refunded => 0,
        };
        held.saturating_add(self.client_owed)
    }

    /// Nothing more will happen to the job's tokens but the co-signers'
    /// fee at close.
    pub fn is_final(&self) -> bool {
        !matches!(
            self.status,
            JobStatus::Sent | JobStatus::Allocated | JobStatus::Solved
        )
    }

    /// The challenge window of a solved job is over at `now`.
    pub fn challenge_window_over(&self, now: i64, params: &crate::state::ProtocolParams) -> bool {
        let window = (params.challenge_window_epochs as i64).saturating_mul(params.epoch_secs);
        now >= self.solved_at.saturating_add(window)
    }

    pub fn signers(&self) -> &[Pubkey] {
        &self.signers[..self.signer_count as usize]
    }

    /// The signers who answer for this outcome if a dispute overturns it
    /// (the approving-invalid-result share): a high-risk outcome's, whose
    /// co-signers each re-run the job before signing. A low- or
    /// medium-risk outcome is signed on checks (the miner's signature,
    /// shape, latency, price) that a wrong but well-formed answer passes,
    /// so its miner alone answers for it.
    pub fn accountable_signers(&self) -> ([Pubkey; MAX_COMMITTEE_SIZE as usize], u8) {
        match self.risk {
            RiskLevel::High => (self.signers, self.signer_count),
            RiskLevel::Low | RiskLevel::Medium => {
                ([Pubkey::default(); MAX_COMMITTEE_SIZE as usize], 0)
            }
        }
    }

    /// Runs `f` with the job PDA's signer seeds (the escrow's authority).
    pub fn with_signer<R>(&self, f: impl FnOnce(&[&[u8]]) -> R) -> R {
        let id = self.job_id.to_le_bytes();
        f(&[
            crate::constants::JOB_SEED,
            self.client.as_ref(),
            &id,
            std::slice::from_ref(&self.bump),
        ])
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_a_high_risk_outcomes_signers_answer_for_it() {
        let signer = Pubkey::new_unique();
        // An all-zero account: Low risk, no signers.
        let zeroed = vec![0u8; 8 + Job::INIT_SPACE];
        let mut job = Job::try_deserialize_unchecked(&mut zeroed.as_slice()).unwrap();
        job.signer_count = 1;
        job.signers[0] = signer;
        for (risk, accountable) in [
            (RiskLevel::Low, 0),
            (RiskLevel::Medium, 0),
            (RiskLevel::High, 1),
        ] {
            job.risk = risk;
            let (signers, count) = job.accountable_signers();
            assert_eq!(count, accountable, "{risk:?}");
            assert_eq!(signers[0] == signer, accountable == 1, "{risk:?}");
        }
    }
}
