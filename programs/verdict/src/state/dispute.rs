//! A challenge of a solved job: the 24-hour commit/reveal vote, its bounded
//! tally, the liquidation rule n > min(10·m, 66% of active nodes), and the
//! pool that pays the correct voters.

use anchor_lang::prelude::*;

use crate::constants::{BPS_DENOMINATOR, MAX_COMMITTEE_SIZE, MAX_DISPUTE_RESULTS};

#[derive(AnchorSerialize, AnchorDeserialize, Clone, Copy, Debug, PartialEq, Eq, InitSpace)]
pub enum DisputeStatus {
    /// Commit, then reveal phase.
    Voting,
    /// R is the job's own output: the outcome stands.
    Upheld,
    /// R differs from the job's output: the miner was wrong.
    Overturned,
    /// No result cleared the threshold (or a tie): nobody is liquidated.
    Unresolved,
}

#[derive(AnchorSerialize, AnchorDeserialize, Clone, Copy, Debug, Default, PartialEq, Eq, InitSpace)]
pub struct TallyEntry {
    pub result: [u8; 32],
    pub votes: u32,
}

#[account]
#[derive(InitSpace, Debug)]
pub struct Dispute {
    pub job: Pubkey,
    /// The challenging node and the operator who posted the bond.
    pub challenger: Pubkey,
    pub challenger_operator: Pubkey,
    pub bond: u64,
    pub miner: Pubkey,
    /// The output the committee attested.
    pub original_output: [u8; 32],
    pub opened_at: i64,
    pub opened_slot: u64,
    pub commit_end: i64,
    pub reveal_end: i64,
    /// Active nodes when the dispute opened (the 66% rule's base).
    pub active_snapshot: u64,
    pub status: DisputeStatus,
    pub tally: [TallyEntry; MAX_DISPUTE_RESULTS],
    pub tally_len: u8,
    /// Revealed votes for results the bounded tally had no room for.
    pub untallied_votes: u32,
    pub commits: u32,
    pub reveals: u32,
    /// The winning result R, and n (its votes) and m (all other votes).
    pub result: [u8; 32],
    pub n: u32,
    pub m: u32,
    /// Liquidations still to crank before rewards can be claimed.
    pub pending_liquidations: u32,
    pub miner_liquidated: bool,
    /// Fee owed back to the client from the miner's liquidated stake (the job
    /// was already paid when its outcome was overturned).
    pub refund_owed: u64,
    /// The signers who answer for the outcome if it is overturned (a
    /// high-risk job's; see `Job::accountable_signers`), and which were
    /// already slashed.
    pub signers: [Pubkey; MAX_COMMITTEE_SIZE as usize],
    pub signer_count: u8,
    pub signers_slashed: u16,
    /// Tokens for the correct voters (liquidations, forfeited bond).
    pub pool: u64,
    /// Set when the last liquidation is done: pool / n, and claims so far.
    pub reward_per_voter: u64,
    pub claims: u32,
    pub bump: u8,
}

/// What the vote decided.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Verdict {
    /// Result R with n votes against m cleared n > min(10·m, 66% of active).
    Stands { result: [u8; 32], n: u32, m: u32 },
    Unresolved { n: u32, m: u32 },
}

impl Dispute {
    /// A dispute in its voting phase, with nothing tallied yet.
    #[allow(clippy::too_many_arguments)]
    pub fn open(
        job: Pubkey,
        challenger: Pubkey,
        challenger_operator: Pubkey,
        bond: u64,
        miner: Pubkey,
        original_output: [u8; 32],
        clock: (i64, u64),
        phases: (i64, i64),
        active_snapshot: u64,
        signers: ([Pubkey; MAX_COMMITTEE_SIZE as usize], u8),
        bump: u8,
    ) -> Self {
        Dispute {
            job,
            challenger,
            challenger_operator,
            bond,
            miner,
            original_output,
            opened_at: clock.0,
            opened_slot: clock.1,
            commit_end: phases.0,
            reveal_end: phases.1,
            active_snapshot,
            status: DisputeStatus::Voting,
            tally: Default::default(),
            tally_len: 0,
            untallied_votes: 0,
            commits: 0,
            reveals: 0,
            result: [0; 32],
            n: 0,
            m: 0,
            pending_liquidations: 0,
            miner_liquidated: false,
            refund_owed: 0,
            signers: signers.0,
            signer_count: signers.1,
            signers_slashed: 0,
            pool: 0,
            reward_per_voter: 0,
            claims: 0,
            bump,
        }
    }

    pub fn tally(&self) -> &[TallyEntry] {
        &self.tally[..self.tally_len as usize]
    }

    /// Adds one revealed vote for `result`.
    pub fn count(&mut self, result: [u8; 32]) {
        self.reveals += 1;
        if let Some(entry) = self.tally[..self.tally_len as usize].iter_mut().find(|e| e.result == result) {
            entry.votes += 1;
        } else if (self.tally_len as usize) < MAX_DISPUTE_RESULTS {
            self.tally[self.tally_len as usize] = TallyEntry { result, votes: 1 };
            self.tally_len += 1;
        } else {
            self.untallied_votes += 1;
        }
    }

    /// The most frequent result R with n votes stands when
    /// n > min(10·m, 66% of the active nodes at opening); a tie or no
    /// reveals leave the dispute unresolved.
    pub fn decide(&self, multiplier: u16, active_bps: u16) -> Verdict {
        let total = self.reveals;
        let mut best: Option<TallyEntry> = None;
        let mut tie = false;
        for e in self.tally() {
            match best {
                Some(b) if e.votes == b.votes => tie = true,
                Some(b) if e.votes < b.votes => {}
                _ => {
                    best = Some(*e);
                    tie = false;
                }
            }
        }
        let Some(best) = best else { return Verdict::Unresolved { n: 0, m: total } };
        let (n, m) = (best.votes, total - best.votes);
        if tie {
            return Verdict::Unresolved { n, m };
        }
        // n > 10·m, or n > 66% of active (compared without rounding).
        let beats_minority = n as u64 > multiplier as u64 * m as u64;
        let beats_share = n as u128 * BPS_DENOMINATOR as u128 > active_bps as u128 * self.active_snapshot as u128;
        if beats_minority || beats_share {
            Verdict::Stands { result: best.result, n, m }
        } else {
            Verdict::Unresolved { n, m }
        }
    }

    pub fn signers(&self) -> &[Pubkey] {
        &self.signers[..self.signer_count as usize]
    }

    /// Once the last liquidation is in: each correct voter's equal share;
    /// the rounding dust, returned, goes to the reward pool.
    pub fn finalize_rewards(&mut self) -> u64 {
        if self.n == 0 {
            return 0;
        }
        self.reward_per_voter = self.pool / self.n as u64;
        let dust = self.pool - self.reward_per_voter * self.n as u64;
        self.pool -= dust;
        dust
    }
}

/// One node's vote: a commitment, then the revealed result.
#[account]
#[derive(InitSpace, Debug)]
pub struct Vote {
    pub dispute: Pubkey,
    pub voter: Pubkey,
    /// sha256(result ‖ salt ‖ voter node).
    pub commitment: [u8; 32],
    pub revealed: bool,
    pub result: [u8; 32],
    pub liquidated: bool,
    pub claimed: bool,
    pub bump: u8,
}

/// The commitment a voter publishes: binding the voter's node into it means
/// nobody can copy another node's commitment and reveal it as their own.
pub fn vote_commitment(result: &[u8; 32], salt: &[u8; 32], voter: &Pubkey) -> [u8; 32] {
    solana_sha256_hasher::hashv(&[result, salt, voter.as_ref()]).to_bytes()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn dispute(active: u64, votes: &[(u8, u32)]) -> Dispute {
        let k = Pubkey::default();
        let mut d = Dispute::open(k, k, k, 0, k, [0; 32], (0, 0), (0, 0), active, Default::default(), 0);
        for &(result, count) in votes {
            for _ in 0..count {
                d.count([result; 32]);
            }
        }
        d
    }

    const TEN: u16 = 10;
    const SIXTY_SIX: u16 = 6_600;

    #[test]
    fn hundred_active_66_against_6_stands() {
        // min(10·6, 66) = 60 and 66 > 60.
        let d = dispute(100, &[(1, 66), (2, 6)]);
        assert_eq!(d.decide(TEN, SIXTY_SIX), Verdict::Stands { result: [1; 32], n: 66, m: 6 });
    }

    #[test]
    fn exactly_ten_times_the_minority_is_not_enough() {
        // min(10·5, 66) = 50; 50 > 50 is false.
        let d = dispute(100, &[(1, 50), (2, 5)]);
        assert_eq!(d.decide(TEN, SIXTY_SIX), Verdict::Unresolved { n: 50, m: 5 });
        // One more vote for R clears it.
        let d = dispute(100, &[(1, 51), (2, 5)]);
        assert!(matches!(d.decide(TEN, SIXTY_SIX), Verdict::Stands { .. }));
    }

    #[test]
    fn the_66_percent_boundary_does_not_round() {
        // 101 active: 66% is 66.66. With a large minority, only the share rule can pass.
        let d = dispute(101, &[(1, 66), (2, 30)]);
        assert_eq!(d.decide(TEN, SIXTY_SIX), Verdict::Unresolved { n: 66, m: 30 });
        let d = dispute(101, &[(1, 67), (2, 30)]);
        assert_eq!(d.decide(TEN, SIXTY_SIX), Verdict::Stands { result: [1; 32], n: 67, m: 30 });
        // 100 active: exactly 66 is not more than 66.
        let d = dispute(100, &[(1, 66), (2, 30)]);
        assert_eq!(d.decide(TEN, SIXTY_SIX), Verdict::Unresolved { n: 66, m: 30 });
    }

    #[test]
    fn a_tie_or_no_reveals_is_unresolved() {
        let d = dispute(10, &[(1, 3), (2, 3)]);
        assert_eq!(d.decide(TEN, SIXTY_SIX), Verdict::Unresolved { n: 3, m: 3 });
        let d = dispute(10, &[]);
        assert_eq!(d.decide(TEN, SIXTY_SIX), Verdict::Unresolved { n: 0, m: 0 });
    }

    #[test]
    fn the_tally_is_bounded_and_overflow_votes_still_count_against() {
        let votes: Vec<(u8, u32)> = (0..(MAX_DISPUTE_RESULTS as u8 + 3)).map(|r| (r, 1)).collect();
        let mut d = dispute(100, &votes);
        assert_eq!(d.tally().len(), MAX_DISPUTE_RESULTS);
        assert_eq!(d.untallied_votes, 3);
        for _ in 0..200 {
            d.count([0; 32]);
        }
        let Verdict::Stands { n, m, .. } = d.decide(TEN, SIXTY_SIX) else { panic!() };
        assert_eq!((n, m), (201, MAX_DISPUTE_RESULTS as u32 + 2));
    }

    #[test]
    fn commitments_bind_the_voter() {
        let (r, s) = ([1; 32], [2; 32]);
        let a = vote_commitment(&r, &s, &Pubkey::new_from_array([3; 32]));
        let b = vote_commitment(&r, &s, &Pubkey::new_from_array([4; 32]));
        assert_ne!(a, b);
    }
}
