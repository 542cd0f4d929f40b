//! A challenge of a solved job: two candidates (the disputed output and the
//! challenger's result), the 24-hour commit/reveal vote weighted by stake,
//! the turnout quorum, the liquidation rule n > min(10·m, 66% of the active
//! weight), and the pool that makes the client whole and pays correct voters.

use anchor_lang::prelude::*;

use super::ProtocolParams;
use crate::constants::{BPS_DENOMINATOR, MAX_COMMITTEE_SIZE};

super::stored_as_byte! {
    #[derive(
        AnchorSerialize, AnchorDeserialize, Clone, Copy, Debug, Default, PartialEq, Eq, InitSpace,
    )]
    pub enum DisputeStatus {
        /// Commit, then reveal phase.
        #[default]
        Voting,
        /// R is the disputed output: the outcome stands.
        Upheld,
        /// R is the challenger's result: the miner was wrong.
        Overturned,
        /// Turnout short of the quorum, a tie, or no candidate cleared the
        /// threshold: nobody is liquidated.
        Unresolved,
    }
}

/// Zero-copy: every dispute instruction borrows it in place instead of
/// decoding and re-encoding its 648 bytes (see `docs/compute-units.md`).
/// Fields are ordered widest first, so the `repr(C)` layout has no padding.
#[account(zero_copy)]
#[derive(Debug, PartialEq, Eq)]
pub struct Dispute {
    pub bond: u64,
    pub opened_at: i64,
    pub opened_slot: u64,
    pub commit_end: i64,
    pub reveal_end: i64,
    /// Active vote weight when the dispute opened (the base of the turnout
    /// quorum and of the 66% rule).
    pub active_weight: u64,
    /// Revealed voters' weight for each candidate and for anything else.
    pub weight_disputed: u64,
    pub weight_challenger: u64,
    pub weight_other: u64,
    /// Deposits of commits not revealed yet (forfeited at resolution).
    pub deposits_held: u64,
    /// n (the standing result's weight, with its own unit) and m
    /// (everything against it, with the other candidate's unit).
    pub n: u64,
    pub m: u64,
    /// What the client is still owed out of this dispute's pool (an
    /// overturned outcome whose payout had already left the escrow). Paid
    /// before any voter reward, whatever order the liquidations come in.
    pub refund_owed: u64,
    /// The overturned paid job's price, moved off the job when it was
    /// decided: the miner's liquidation releases it from the miner's
    /// exposure (and, when the miner was already liquidated elsewhere, takes
    /// the client's refund out of the miner's refund reserve).
    pub miner_exposure: u64,
    /// Tokens for the correct voters (liquidations, forfeits, the bond).
    pub pool: u64,
    /// Set when the last liquidation is in: the pool and the voter weight
    /// it is shared over (pro rata to weight), and claims so far.
    pub reward_total: u64,
    pub reward_weight: u64,
    /// Distinct voters who revealed, and those on each candidate's side.
    pub voters_revealed: u32,
    pub voters_disputed: u32,
    pub voters_challenger: u32,
    pub commits: u32,
    /// Liquidations still to crank before rewards can be claimed.
    pub pending_liquidations: u32,
    pub claims: u32,
    /// Bit i set: `signers[i]` was slashed.
    pub signers_slashed: u16,
    pub job: Pubkey,
    /// The challenging node and the operator who posted the bond.
    pub challenger: Pubkey,
    pub challenger_operator: Pubkey,
    pub miner: Pubkey,
    /// The two candidates: the output the committee attested, and the
    /// result the challenger recomputed.
    pub disputed_output: [u8; 32],
    pub challenger_result: [u8; 32],
    /// The standing result R.
    pub result: [u8; 32],
    /// The signers who answer for the outcome if it is overturned (a
    /// high-risk job's; see `Job::accountable_signers`).
    pub signers: [Pubkey; MAX_COMMITTEE_SIZE as usize],
    pub signer_count: u8,
    /// The dispute's `DisputeStatus`, stored as its discriminant
    /// (`Dispute::status` decodes it).
    status: u8,
    /// 1 once the miner was liquidated (`Dispute::miner_liquidated`).
    miner_liquidated: u8,
    pub bump: u8,
    reserved: [u8; 2],
}

// All zero as created: voting, nothing tallied.
super::zero_copy_account!(Dispute);

/// What the vote decided.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Verdict {
    /// Candidate R with weight n against m cleared the turnout and
    /// n > min(10·m, 66% of the active weight).
    Stands {
        result: [u8; 32],
        n: u64,
        m: u64,
    },
    Unresolved {
        n: u64,
        m: u64,
    },
}

/// The numbers a dispute is decided by (a view of the Config, so the same
/// decision code can be run under other settings, as the simulator does).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct DisputeRules {
    pub liquidation_multiplier: u16,
    pub liquidation_active_bps: u16,
    pub quorum_bps: u16,
    pub min_voters: u16,
    /// Weight each candidate carries of its own (the disputed output, the
    /// challenger's recomputation). Always 1 on chain; 0 reproduces the
    /// first rules, under which a lone vote could decide.
    pub candidate_units: u64,
}

impl DisputeRules {
    pub fn of(p: &ProtocolParams) -> Self {
        DisputeRules {
            liquidation_multiplier: p.liquidation_multiplier,
            liquidation_active_bps: p.liquidation_active_bps,
            quorum_bps: p.dispute_quorum_bps,
            min_voters: p.dispute_min_voters,
            candidate_units: 1,
        }
    }
}

/// Parties to a dispute opened at `opened_at`, as `Dispute::open` takes them.
pub struct DisputeOpening {
    pub job: Pubkey,
    pub challenger: Pubkey,
    pub challenger_operator: Pubkey,
    pub bond: u64,
    pub miner: Pubkey,
    pub disputed_output: [u8; 32],
    pub challenger_result: [u8; 32],
    pub active_weight: u64,
    pub signers: ([Pubkey; MAX_COMMITTEE_SIZE as usize], u8),
}

impl Dispute {
    /// Opens the dispute just created (all zero): its parties and phases,
    /// in its voting phase with nothing tallied yet.
    pub fn open(&mut self, o: DisputeOpening, clock: (i64, u64), phases: (i64, i64), bump: u8) {
        self.job = o.job;
        self.challenger = o.challenger;
        self.challenger_operator = o.challenger_operator;
        self.bond = o.bond;
        self.miner = o.miner;
        self.disputed_output = o.disputed_output;
        self.challenger_result = o.challenger_result;
        (self.opened_at, self.opened_slot) = clock;
        (self.commit_end, self.reveal_end) = phases;
        self.active_weight = o.active_weight;
        (self.signers, self.signer_count) = o.signers;
        self.set_status(DisputeStatus::Voting);
        self.bump = bump;
    }

    pub fn status(&self) -> DisputeStatus {
        DisputeStatus::from_stored(self.status)
    }

    pub fn set_status(&mut self, status: DisputeStatus) {
        self.status = status as u8;
    }

    pub fn miner_liquidated(&self) -> bool {
        self.miner_liquidated != 0
    }

    pub fn set_miner_liquidated(&mut self) {
        self.miner_liquidated = 1;
    }

    /// Whether `node` is a party (miner, challenger or accountable signer),
    /// who may not vote.
    pub fn is_party(&self, node: &Pubkey) -> bool {
        *node == self.miner || *node == self.challenger || self.signers().contains(node)
    }

    /// Adds one revealed vote of `weight` for `result`.
    pub fn count(&mut self, result: [u8; 32], weight: u64) {
        self.voters_revealed = self.voters_revealed.saturating_add(1);
        if result == self.disputed_output {
            self.weight_disputed = self.weight_disputed.saturating_add(weight);
            self.voters_disputed = self.voters_disputed.saturating_add(1);
        } else if result == self.challenger_result {
            self.weight_challenger = self.weight_challenger.saturating_add(weight);
            self.voters_challenger = self.voters_challenger.saturating_add(1);
        } else {
            self.weight_other = self.weight_other.saturating_add(weight);
        }
    }

    /// The heavier candidate R stands when turnout reached the quorum and
    /// n > min(10·m, 66% of the active weight). Each candidate carries one
    /// unit of its own (the disputed output, the challenger's recomputation),
    /// so m ≥ 1 and no single voter can clear 10·m against nobody; votes for
    /// anything else count against both. A tie is unresolved.
    pub fn decide(&self, rules: &DisputeRules) -> Verdict {
        let disputed = self.weight_disputed.saturating_add(rules.candidate_units);
        let challenger = self.weight_challenger.saturating_add(rules.candidate_units);
        let (result, n, m) = if disputed >= challenger {
            (
                self.disputed_output,
                disputed,
                challenger.saturating_add(self.weight_other),
            )
        } else {
            (
                self.challenger_result,
                challenger,
                disputed.saturating_add(self.weight_other),
            )
        };
        let turnout = self.weight_disputed as u128
            + self.weight_challenger as u128
            + self.weight_other as u128;
        let quorum = turnout * BPS_DENOMINATOR as u128
            >= rules.quorum_bps as u128 * self.active_weight as u128
            && self.voters_revealed >= rules.min_voters as u32;
        if disputed == challenger || !quorum {
            return Verdict::Unresolved { n, m };
        }
        let beats_minority = n as u128 > rules.liquidation_multiplier as u128 * m as u128;
        let beats_share = n as u128 * BPS_DENOMINATOR as u128
            > rules.liquidation_active_bps as u128 * self.active_weight as u128;
        if beats_minority || beats_share {
            Verdict::Stands { result, n, m }
        } else {
            Verdict::Unresolved { n, m }
        }
    }

    pub fn signers(&self) -> &[Pubkey] {
        &self.signers[..self.signer_count as usize]
    }

    /// Whether the vote upheld the disputed output.
    pub fn upheld(&self) -> bool {
        self.status() == DisputeStatus::Upheld
    }

    /// Whether a result R stands (upheld or overturned): its liquidations
    /// and reward claims follow.
    pub fn decided(&self) -> bool {
        matches!(
            self.status(),
            DisputeStatus::Upheld | DisputeStatus::Overturned
        )
    }

    /// Whether `vote` leaves its voter nothing to claim or answer for, so it
    /// may close (`close_vote`): the dispute ended unresolved, or R stands
    /// and the vote was never revealed (its deposit forfeited), carried no
    /// weight, was liquidated, or was for R and claimed. A vote for R not
    /// claimed yet closes by claiming; one against R waits for its
    /// liquidation.
    pub fn vote_settled(&self, vote: &Vote) -> bool {
        match self.status() {
            DisputeStatus::Voting => false,
            DisputeStatus::Unresolved => true,
            DisputeStatus::Upheld | DisputeStatus::Overturned => {
                !vote.revealed()
                    || vote.weight == 0
                    || vote.liquidated()
                    || (vote.result == self.result && vote.claimed())
            }
        }
    }

    /// Whether `vote` earns a share of the pool and has not claimed it: R
    /// revealed, with weight. Claimable once the dispute is decided and no
    /// liquidation is pending (`reward_claimable`).
    pub fn vote_rewarded(&self, vote: &Vote) -> bool {
        vote.revealed() && vote.weight > 0 && vote.result == self.result && !vote.claimed()
    }

    /// Whether `vote`'s reward can be claimed now (`claim_dispute_reward`).
    pub fn reward_claimable(&self, vote: &Vote) -> bool {
        self.decided() && self.pending_liquidations == 0 && self.vote_rewarded(vote)
    }

    /// Whether `vote`'s node is liquidated for it: it revealed something
    /// other than R, with weight, and has not been liquidated for it yet.
    /// Meaningful once the dispute is decided.
    pub fn vote_liquidatable(&self, vote: &Vote) -> bool {
        vote.revealed() && vote.weight > 0 && vote.result != self.result && !vote.liquidated()
    }

    /// Whether the miner of an overturned outcome is still to be liquidated.
    pub fn miner_liquidatable(&self) -> bool {
        self.status() == DisputeStatus::Overturned && !self.miner_liquidated()
    }

    /// Whether the `i`-th accountable signer of an overturned outcome is
    /// still to be slashed.
    pub fn signer_liquidatable(&self, i: usize) -> bool {
        self.status() == DisputeStatus::Overturned
            && i < self.signers().len()
            && self.signers_slashed & (1 << i) == 0
    }

    /// Weight of the voters who revealed R (they share the pool).
    pub fn winning_voter_weight(&self) -> u64 {
        if self.result == self.disputed_output {
            self.weight_disputed
        } else {
            self.weight_challenger
        }
    }

    /// Voters who revealed R.
    pub fn winning_voters(&self) -> u32 {
        if self.result == self.disputed_output {
            self.voters_disputed
        } else {
            self.voters_challenger
        }
    }

    /// Takes up to `refund_owed` out of the pool for the client; returns it.
    pub fn take_client_refund(&mut self) -> u64 {
        let paid = self.refund_owed.min(self.pool);
        self.refund_owed -= paid;
        self.pool -= paid;
        paid
    }

    /// Once the last liquidation is in and the client is made whole, fixes
    /// the pool the correct voters share pro rata to weight. Returns what
    /// nobody can claim (no correct voter): it goes to the reward pool.
    pub fn finalize_rewards(&mut self) -> u64 {
        self.reward_weight = self.winning_voter_weight();
        if self.reward_weight == 0 {
            let unclaimable = self.pool;
            self.pool = 0;
            return unclaimable;
        }
        self.reward_total = self.pool;
        0
    }

    /// A correct voter's share of the pool. The last claimer also takes the
    /// rounding dust, so the pool empties.
    pub fn reward_for(&self, weight: u64) -> u64 {
        if self.claims.saturating_add(1) >= self.winning_voters() {
            return self.pool;
        }
        let share = self.reward_total as u128 * weight as u128 / self.reward_weight.max(1) as u128;
        (share as u64).min(self.pool)
    }
}

/// One node's vote: a commitment, then the revealed result. Zero-copy like
/// the Dispute (widest fields first, flags as bytes behind accessors).
#[account(zero_copy)]
#[derive(Debug, PartialEq, Eq)]
pub struct Vote {
    /// The voter's weight at commit (lowered at reveal if its stake fell).
    pub weight: u64,
    /// Posted at commit, returned at reveal.
    pub deposit: u64,
    pub dispute: Pubkey,
    pub voter: Pubkey,
    /// sha256(result ‖ salt ‖ voter node).
    pub commitment: [u8; 32],
    pub result: [u8; 32],
    /// 1 once revealed (`Vote::revealed`).
    revealed: u8,
    /// 1 once its voter was liquidated for it (`Vote::liquidated`).
    liquidated: u8,
    /// 1 once its reward was claimed (`Vote::claimed`).
    claimed: u8,
    pub bump: u8,
    reserved: [u8; 4],
}

super::zero_copy_account!(Vote);

impl Vote {
    /// Whether this is `voter`'s vote on `dispute`. Only `commit_vote`
    /// creates a Vote, at `[VOTE_SEED, dispute, voter]`, and records both:
    /// comparing them binds the account as re-deriving its address would,
    /// for two 32-byte compares instead of a 1,500-unit derivation.
    pub fn is_of(&self, dispute: &Pubkey, voter: &Pubkey) -> bool {
        self.dispute == *dispute && self.voter == *voter
    }

    pub fn revealed(&self) -> bool {
        self.revealed != 0
    }

    pub fn set_revealed(&mut self) {
        self.revealed = 1;
    }

    pub fn liquidated(&self) -> bool {
        self.liquidated != 0
    }

    pub fn set_liquidated(&mut self) {
        self.liquidated = 1;
    }

    pub fn claimed(&self) -> bool {
        self.claimed != 0
    }

    pub fn set_claimed(&mut self) {
        self.claimed = 1;
    }
}

/// The commitment a voter publishes: binding the voter's node into it means
/// nobody can copy another node's commitment and reveal it as their own.
pub fn vote_commitment(result: &[u8; 32], salt: &[u8; 32], voter: &Pubkey) -> [u8; 32] {
    solana_sha256_hasher::hashv(&[result, salt, voter.as_ref()]).to_bytes()
}

#[cfg(test)]
mod tests {
    use super::*;

    const OUT: [u8; 32] = [1; 32];
    const ALT: [u8; 32] = [2; 32];

    fn rules() -> DisputeRules {
        DisputeRules::of(&ProtocolParams::default())
    }

    fn dispute(active_weight: u64, votes: &[([u8; 32], u64)]) -> Dispute {
        let k = Pubkey::default();
        let opening = DisputeOpening {
            job: k,
            challenger: Pubkey::new_from_array([7; 32]),
            challenger_operator: k,
            bond: 0,
            miner: Pubkey::new_from_array([8; 32]),
            disputed_output: OUT,
            challenger_result: ALT,
            active_weight,
            signers: Default::default(),
        };
        let mut d = Dispute::default();
        d.open(opening, (0, 0), (0, 0), 0);
        for &(result, weight) in votes {
            d.count(result, weight);
        }
        d
    }

    #[test]
    fn the_layout_has_no_padding_and_a_fixed_size() {
        assert_eq!(std::mem::size_of::<Dispute>(), 648);
        assert_eq!(std::mem::offset_of!(Dispute, job), 162);
        assert_eq!(std::mem::offset_of!(Dispute, signers), 386);
        assert_eq!(Dispute::SPACE, 656);
        assert_eq!(std::mem::size_of::<Vote>(), 152);
        assert_eq!(std::mem::offset_of!(Vote, result), 112);
        assert_eq!(Vote::SPACE, 160);
    }

    #[test]
    fn one_voter_can_never_decide() {
        // A lone voter with weight 10 for the challenger: 11 vs 1 is not > 10·1,
        // and the quorum needs three voters anyway.
        let d = dispute(10, &[(ALT, 10)]);
        assert!(matches!(d.decide(&rules()), Verdict::Unresolved { .. }));
        // Even a whale: turnout has one voter.
        let d = dispute(100, &[(ALT, 100)]);
        assert!(matches!(d.decide(&rules()), Verdict::Unresolved { .. }));
    }

    #[test]
    fn under_the_first_rules_one_vote_decided() {
        // No candidate units, no quorum: 1 > 10·0.
        let first = DisputeRules {
            quorum_bps: 0,
            min_voters: 0,
            candidate_units: 0,
            ..rules()
        };
        let d = dispute(100, &[(ALT, 1)]);
        assert!(matches!(
            d.decide(&first),
            Verdict::Stands { n: 1, m: 0, .. }
        ));
    }

    #[test]
    fn three_honest_validators_overturn_a_wrong_output() {
        // Three validators of weight 10 each: n = 31 > 10·1.
        let d = dispute(100, &[(ALT, 10), (ALT, 10), (ALT, 10)]);
        assert_eq!(
            d.decide(&rules()),
            Verdict::Stands {
                result: ALT,
                n: 31,
                m: 1
            }
        );
        let d = dispute(100, &[(OUT, 10), (OUT, 10), (OUT, 10)]);
        assert_eq!(
            d.decide(&rules()),
            Verdict::Stands {
                result: OUT,
                n: 31,
                m: 1
            }
        );
    }

    #[test]
    fn exactly_ten_times_the_minority_is_not_enough() {
        // n = 1 + 29 = 30, m = 1 + 2 = 3: 30 > 30 is false (active large, so 66% cannot pass).
        let d = dispute(
            1_000,
            &[(ALT, 10), (ALT, 10), (ALT, 9), (OUT, 2), (ALT, 200)],
        );
        // turnout 231 of 1000 = 23% ≥ 20%.
        assert_eq!(
            d.decide(&rules()),
            Verdict::Stands {
                result: ALT,
                n: 230,
                m: 3
            }
        );
        let d = dispute(100, &[(ALT, 10), (ALT, 10), (ALT, 9), (OUT, 2)]);
        assert_eq!(d.decide(&rules()), Verdict::Unresolved { n: 30, m: 3 });
        let d = dispute(100, &[(ALT, 10), (ALT, 10), (ALT, 10), (OUT, 2)]);
        assert!(matches!(d.decide(&rules()), Verdict::Stands { .. }));
    }

    #[test]
    fn the_66_percent_rule_is_on_weight_and_does_not_round() {
        // 100 active; 66 for ALT (n = 67 with its unit) against 30 for OUT.
        let d = dispute(100, &[(ALT, 22), (ALT, 22), (ALT, 22), (OUT, 30)]);
        assert_eq!(
            d.decide(&rules()),
            Verdict::Stands {
                result: ALT,
                n: 67,
                m: 31
            }
        );
        let d = dispute(100, &[(ALT, 22), (ALT, 22), (ALT, 21), (OUT, 30)]);
        assert_eq!(d.decide(&rules()), Verdict::Unresolved { n: 66, m: 31 });
    }

    #[test]
    fn turnout_below_the_quorum_is_unresolved() {
        // 3 voters of weight 10 = 30 of 200 active = 15% < 20%.
        let d = dispute(200, &[(ALT, 10), (ALT, 10), (ALT, 10)]);
        assert!(matches!(d.decide(&rules()), Verdict::Unresolved { .. }));
        // 4 voters = 40 of 200 = 20%: enough.
        let d = dispute(200, &[(ALT, 10), (ALT, 10), (ALT, 10), (ALT, 10)]);
        assert!(matches!(d.decide(&rules()), Verdict::Stands { .. }));
    }

    #[test]
    fn splitting_stake_over_identities_buys_nothing() {
        // 40 units as one voter or as 40 voters of one unit weigh the same.
        let one = dispute(100, &[(ALT, 40), (OUT, 1), (OUT, 1)]);
        let many: Vec<_> = (0..40)
            .map(|_| (ALT, 1))
            .chain([(OUT, 1), (OUT, 1)])
            .collect();
        let many = dispute(100, &many);
        assert_eq!(
            one.decide(&rules()),
            Verdict::Stands {
                result: ALT,
                n: 41,
                m: 3
            }
        );
        assert_eq!(one.decide(&rules()), many.decide(&rules()));
    }

    #[test]
    fn votes_for_anything_else_count_against_both_and_cannot_fill_a_tally() {
        let mut votes: Vec<([u8; 32], u64)> = (10..60u8).map(|r| ([r; 32], 1)).collect();
        votes.extend([(ALT, 10), (ALT, 10), (ALT, 10)]);
        let d = dispute(100, &votes);
        // n = 31, m = 1 + 50 others: 31 > 510 fails; 31 > 66 fails.
        assert_eq!(d.decide(&rules()), Verdict::Unresolved { n: 31, m: 51 });
        assert_eq!(d.weight_other, 50);
    }

    #[test]
    fn a_tie_is_unresolved() {
        let d = dispute(10, &[(ALT, 3), (OUT, 3), (ALT, 1), (OUT, 1)]);
        assert_eq!(d.decide(&rules()), Verdict::Unresolved { n: 5, m: 5 });
    }

    #[test]
    fn parties_are_known() {
        let mut d = dispute(10, &[]);
        d.signers[0] = Pubkey::new_from_array([9; 32]);
        d.signer_count = 1;
        for party in [[7u8; 32], [8; 32], [9; 32]] {
            assert!(d.is_party(&Pubkey::new_from_array(party)));
        }
        assert!(!d.is_party(&Pubkey::new_from_array([3; 32])));
    }

    #[test]
    fn the_client_is_paid_before_voters_and_the_last_claim_takes_the_dust() {
        let mut d = dispute(100, &[(ALT, 10), (ALT, 10), (ALT, 11)]);
        d.result = ALT;
        d.refund_owed = 50;
        d.pool = 30;
        assert_eq!(d.take_client_refund(), 30);
        d.pool += 100;
        assert_eq!(d.take_client_refund(), 20);
        assert_eq!(d.pool, 80);
        assert_eq!(d.finalize_rewards(), 0);
        let first = d.reward_for(10);
        assert_eq!(first, 80 * 10 / 31);
        d.pool -= first;
        d.claims += 1;
        let second = d.reward_for(10);
        d.pool -= second;
        d.claims += 1;
        assert_eq!(d.reward_for(11), d.pool, "last claim empties the pool");
    }

    fn vote(revealed: bool, result: [u8; 32], liquidated: bool, claimed: bool) -> Vote {
        let mut v = Vote {
            weight: 20,
            result,
            ..Default::default()
        };
        if revealed {
            v.set_revealed();
        }
        if liquidated {
            v.set_liquidated();
        }
        if claimed {
            v.set_claimed();
        }
        v
    }

    fn decided(status: DisputeStatus, pending_liquidations: u32) -> Dispute {
        let mut d = dispute(100, &[]);
        d.set_status(status);
        (d.result, d.pending_liquidations) = (ALT, pending_liquidations);
        d
    }

    #[test]
    fn a_correct_vote_claims_a_wrong_one_is_liquidated_and_every_other_closes() {
        let d = decided(DisputeStatus::Overturned, 0);
        let right = vote(true, ALT, false, false);
        assert!(d.reward_claimable(&right) && !d.vote_settled(&right));
        assert!(!d.vote_liquidatable(&right));
        assert!(d.vote_settled(&vote(true, ALT, false, true)), "claimed");
        assert!(!d.reward_claimable(&vote(true, ALT, false, true)));
        assert!(
            !decided(DisputeStatus::Overturned, 1).reward_claimable(&right),
            "liquidations first"
        );
        // A wrong vote waits for its liquidation, then closes.
        let wrong = vote(true, OUT, false, false);
        assert!(d.vote_liquidatable(&wrong) && !d.vote_settled(&wrong));
        let liquidated = vote(true, OUT, true, false);
        assert!(!d.vote_liquidatable(&liquidated) && d.vote_settled(&liquidated));
        // Unrevealed (deposit forfeited) or weightless: nothing either way.
        let unrevealed = vote(false, [0; 32], false, false);
        let weightless = Vote { weight: 0, ..wrong };
        for v in [unrevealed, weightless] {
            assert!(d.vote_settled(&v));
            assert!(!d.vote_liquidatable(&v) && !d.reward_claimable(&v));
        }
        // Unresolved: every vote closes, none is rewarded; voting: none yet.
        let unresolved = decided(DisputeStatus::Unresolved, 0);
        assert!(unresolved.vote_settled(&right) && !unresolved.reward_claimable(&right));
        assert!(!decided(DisputeStatus::Voting, 0).vote_settled(&unrevealed));
    }

    #[test]
    fn only_an_overturned_outcome_liquidates_its_miner_and_signers_once() {
        let mut d = decided(DisputeStatus::Overturned, 0);
        (d.signers[0], d.signers[1], d.signer_count) =
            (Pubkey::new_unique(), Pubkey::new_unique(), 2);
        assert!(d.miner_liquidatable() && d.signer_liquidatable(0) && d.signer_liquidatable(1));
        assert!(!d.signer_liquidatable(2), "only recorded signers");
        d.set_miner_liquidated();
        d.signers_slashed = 0b01;
        assert!(!d.miner_liquidatable() && !d.signer_liquidatable(0) && d.signer_liquidatable(1));
        let mut upheld = decided(DisputeStatus::Upheld, 0);
        upheld.signer_count = 2;
        assert!(!upheld.miner_liquidatable() && !upheld.signer_liquidatable(0));
    }

    #[test]
    fn commitments_bind_the_voter() {
        let (r, s) = ([1; 32], [2; 32]);
        let a = vote_commitment(&r, &s, &Pubkey::new_from_array([3; 32]));
        let b = vote_commitment(&r, &s, &Pubkey::new_from_array([4; 32]));
        assert_ne!(a, b);
    }
}
