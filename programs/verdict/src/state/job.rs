//! A client's inference job: its escrowed fee, the miner it went to, the
//! attested outcome, and the payout with its release time.

use anchor_lang::prelude::*;

use crate::constants::{MAX_COMMITTEE_SIZE, MODEL_ID_LEN};

super::stored_as_byte! {
    #[derive(
        AnchorSerialize, AnchorDeserialize, Clone, Copy, Debug, Default, PartialEq, Eq, InitSpace,
    )]
    pub enum RiskLevel {
        /// Any warm miner; may settle optimistically in one transaction.
        #[default]
        Low,
        /// Tier 1 or 2 miners.
        Medium,
        /// Tier 1 or 2 miners, with a shadow rerun by the keepers.
        High,
    }
}

impl RiskLevel {
    /// Worst tier a miner may be in to take a job of this risk.
    pub fn max_tier(&self) -> u8 {
        match self {
            RiskLevel::Low => 3,
            RiskLevel::Medium | RiskLevel::High => 2,
        }
    }

    /// The level's name, as clients and keepers write it (`low`, `medium`,
    /// `high`: API queries, metric labels, CLI output).
    pub const fn name(self) -> &'static str {
        match self {
            RiskLevel::Low => "low",
            RiskLevel::Medium => "medium",
            RiskLevel::High => "high",
        }
    }

    /// The level named `name`, exactly as [`Self::name`] writes it.
    pub fn from_name(name: &str) -> Option<Self> {
        Self::ALL.iter().copied().find(|r| r.name() == name)
    }
}

super::stored_as_byte! {
    #[derive(
        AnchorSerialize, AnchorDeserialize, Clone, Copy, Debug, Default, PartialEq, Eq, InitSpace,
    )]
    pub enum JobStatus {
        /// Escrowed, waiting for a miner.
        #[default]
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
}

/// Why a miner failed a job (part of the fail attestation).
#[derive(AnchorSerialize, AnchorDeserialize, Clone, Copy, Debug, PartialEq, Eq, InitSpace)]
pub enum FailReason {
    Timeout,
    InvalidOutput,
    Disconnect,
}

/// Zero-copy: every instruction on the job path loads the job, and loading
/// it in place costs nothing per byte (see `docs/compute-units.md`). Fields
/// are ordered widest first, so the `repr(C)` layout has no padding.
#[account(zero_copy)]
#[derive(Debug, PartialEq, Eq)]
pub struct Job {
    pub job_id: u64,
    pub max_fee: u64,
    /// Agreed at assignment (≤ max fee); the rest goes back to the client.
    pub price: u64,
    pub created_at: i64,
    /// When the job last became SENT (the SENT TTL runs from here).
    pub opened_at: i64,
    pub allocated_at: i64,
    pub solved_at: i64,
    pub release_at: i64,
    /// Committee epoch of the completion; `signers` signed it (node
    /// accounts), credited to their validator scores when the job is closed.
    pub committee_epoch: u64,
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
    pub response_ms: u32,
    pub load_ms: u32,
    pub inference_ms: u32,
    pub latency_score_bps: u16,
    pub client: Pubkey,
    /// The client's token account that refunds go to (set at submit).
    pub refund_account: Pubkey,
    /// The job's escrow token account (created at submit, at
    /// `[b"escrow", job]`): bound by this address, not re-derived.
    pub escrow: Pubkey,
    /// The miner's Node account (default while unassigned).
    pub miner: Pubkey,
    pub model: [u8; MODEL_ID_LEN],
    pub input_hash: [u8; 32],
    pub output_hash: [u8; 32],
    pub signers: [Pubkey; MAX_COMMITTEE_SIZE as usize],
    /// The job's `RiskLevel`, stored as its discriminant (`Job::risk` decodes it).
    risk: u8,
    /// The job's `JobStatus`, stored as its discriminant (`Job::status` decodes it).
    status: u8,
    /// Assignments so far (a failed attempt re-opens the job).
    pub attempts: u8,
    /// 1 when the attested response met the SLA (`Job::sla_met`).
    sla_met: u8,
    pub signer_count: u8,
    /// 1 while a dispute over this job's outcome is being voted on (no
    /// payout meanwhile), or still owes the client its refund (no close
    /// meanwhile) (`Job::dispute_open`).
    dispute_open: u8,
    pub bump: u8,
    reserved: [u8; 3],
}

// All zero as created: SENT, low risk, nothing assigned.
super::zero_copy_account!(Job);

/// The job PDA's signer seeds, copied out of the account: the escrow's
/// token CPIs run with the job's data unborrowed, as a CPI requires.
pub struct JobSeeds {
    client: Pubkey,
    job_id: [u8; 8],
    bump: [u8; 1],
}

impl JobSeeds {
    /// Runs `f` with the seeds as a CPI takes them.
    pub fn with<R>(&self, f: impl FnOnce(&[&[u8]]) -> R) -> R {
        f(&[
            crate::constants::JOB_SEED,
            self.client.as_ref(),
            &self.job_id,
            &self.bump,
        ])
    }
}

impl Job {
    pub fn status(&self) -> JobStatus {
        JobStatus::from_stored(self.status)
    }

    pub fn set_status(&mut self, status: JobStatus) {
        self.status = status as u8;
    }

    pub fn risk(&self) -> RiskLevel {
        RiskLevel::from_stored(self.risk)
    }

    pub fn set_risk(&mut self, risk: RiskLevel) {
        self.risk = risk as u8;
    }

    /// The attested response met the job's SLA.
    pub fn sla_met(&self) -> bool {
        self.sla_met != 0
    }

    pub fn dispute_open(&self) -> bool {
        self.dispute_open != 0
    }

    pub fn set_dispute_open(&mut self, open: bool) {
        self.dispute_open = open as u8;
    }

    /// SENT → ALLOCATED to `miner` at `price`, booked against the miner's
    /// exposure limit.
    pub fn allocate(
        &mut self,
        miner: &AccountLoader<crate::state::Node>,
        price: u64,
        now: i64,
        params: &crate::state::ProtocolParams,
    ) -> Result<()> {
        miner.load_mut()?.add_exposure(price, params)?;
        self.set_status(JobStatus::Allocated);
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
        committee: &crate::state::Committee,
        signers: crate::attestation::Signers,
        now: i64,
        release_at: i64,
    ) {
        self.set_status(JobStatus::Solved);
        self.output_hash = report.output_hash;
        self.response_ms = report.response_ms;
        self.load_ms = report.load_ms;
        self.inference_ms = report.inference_ms;
        self.sla_met = report.sla_met as u8;
        self.latency_score_bps = report.latency_score_bps;
        self.committee_epoch = committee.epoch;
        self.signer_count = signers.write_nodes(committee, &mut self.signers);
        self.solved_at = now;
        self.release_at = release_at;
    }

    /// Back to SENT for another miner.
    pub fn reopen(&mut self, now: i64) {
        self.set_status(JobStatus::Sent);
        self.miner = Pubkey::default();
        self.price = 0;
        self.opened_at = now;
    }

    /// When the SENT or ALLOCATED time-to-live runs out (`None` in any other state).
    pub fn expires_at(&self, params: &crate::state::ProtocolParams) -> Option<i64> {
        match self.status() {
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
        let held = match self.status() {
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
            self.status(),
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
        match self.risk() {
            RiskLevel::High => (self.signers, self.signer_count),
            RiskLevel::Low | RiskLevel::Medium => {
                ([Pubkey::default(); MAX_COMMITTEE_SIZE as usize], 0)
            }
        }
    }

    /// The job PDA's signer seeds (the escrow's authority).
    pub fn seeds(&self) -> JobSeeds {
        JobSeeds {
            client: self.client,
            job_id: self.job_id.to_le_bytes(),
            bump: [self.bump],
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_risk_level_is_found_by_its_name_and_only_by_it() {
        for risk in RiskLevel::ALL {
            assert_eq!(RiskLevel::from_name(risk.name()), Some(*risk));
        }
        assert_eq!(RiskLevel::from_name("extreme"), None);
        assert_eq!(RiskLevel::from_name("Low"), None);
    }

    /// The layout clients decode (Rust through bytemuck, TypeScript from
    /// the IDL field by field) has no padding and does not move silently.
    #[test]
    fn layout_is_fixed() {
        assert_eq!(std::mem::size_of::<Job>(), 608);
        assert_eq!(std::mem::align_of::<Job>(), 8);
        assert_eq!(std::mem::offset_of!(Job, client), 118);
        assert_eq!(std::mem::offset_of!(Job, escrow), 182);
        assert_eq!(std::mem::offset_of!(Job, signers), 342);
        assert_eq!(Job::SPACE, 616);
    }

    #[test]
    fn enums_and_flags_round_trip_through_their_stored_byte() {
        let mut job = Job::default();
        assert_eq!(job.status(), JobStatus::Sent);
        assert_eq!(job.risk(), RiskLevel::Low);
        assert!(!job.sla_met() && !job.dispute_open());
        for &status in JobStatus::ALL {
            job.set_status(status);
            assert_eq!(job.status(), status);
        }
        for &risk in RiskLevel::ALL {
            job.set_risk(risk);
            assert_eq!(job.risk(), risk);
        }
        job.set_dispute_open(true);
        assert!(job.dispute_open());
        job.set_dispute_open(false);
        assert!(!job.dispute_open());
    }

    #[test]
    fn only_a_high_risk_outcomes_signers_answer_for_it() {
        let signer = Pubkey::new_unique();
        // An all-zero account: Low risk, no signers.
        let mut job = Job::default();
        job.signers[0] = signer;
        job.signer_count = 1;
        for (risk, accountable) in [
            (RiskLevel::Low, 0),
            (RiskLevel::Medium, 0),
            (RiskLevel::High, 1),
        ] {
            job.set_risk(risk);
            let (signers, count) = job.accountable_signers();
            assert_eq!(count, accountable, "{risk:?}");
            assert_eq!(signers[0] == signer, accountable == 1, "{risk:?}");
        }
    }
}
