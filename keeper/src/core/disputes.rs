//! A committee member's dispute decisions, free of I/O: which solved jobs
//! it re-checks and when a dispute's stage changes (whose turn it is to
//! crank). When a vote is owed a reward or may close is the program's own
//! rule (`Dispute::reward_claimable`, `Dispute::vote_settled`).

use anchor_lang::prelude::Pubkey;
use verdict::constants::BPS_DENOMINATOR;
use verdict::state::{Dispute, DisputeStatus, RiskLevel};

/// Whether this keeper re-checks a job, given the job's re-check seed
/// (`DrawKey::recheck_seed`: secret to miners, the same after a restart).
pub fn sampled(seed: &[u8; 32], recheck_bps: u16) -> bool {
    (u64::from_le_bytes(seed[..8].try_into().expect("8 bytes")) % BPS_DENOMINATOR)
        < u64::from(recheck_bps)
}

/// Whether a dispute over `miner`'s work is voting, or has overturned it
/// (its liquidation pending), in `disputes` (the chain's).
pub fn under_dispute(disputes: &[(Pubkey, Dispute)], miner: &Pubkey) -> bool {
    disputes.iter().any(|(_, d)| {
        d.miner == *miner
            && matches!(
                d.status(),
                DisputeStatus::Voting | DisputeStatus::Overturned
            )
    })
}

/// Whether an answer must be confirmed by a rerun before it is attested:
/// every high-risk answer, and every answer of a miner under dispute. A
/// miner caught contradicting a re-check thus loses the optimistic path
/// until the vote ends (its wrong answers fail on chain instead of
/// settling, and its trust, by which its bids are ranked, falls with
/// them), while a bogus dispute costs the honest miner it names nothing:
/// its answers pass the reruns and settle, at the keepers' expense in
/// reruns and the challenger's bond.
pub fn rerun_required(risk: RiskLevel, miner_under_dispute: bool) -> bool {
    risk == RiskLevel::High || miner_under_dispute
}

/// A dispute's stage, as far as whose turn it is to crank: a change
/// restarts the failover clock (the leader acts first at each stage).
pub fn stage(d: &Dispute, now: i64) -> (u8, u32, u8) {
    let status = match d.status() {
        DisputeStatus::Voting => 0,
        DisputeStatus::Upheld => 1,
        DisputeStatus::Overturned => 2,
        DisputeStatus::Unresolved => 3,
    };
    let phase = u8::from(now >= d.commit_end) + u8::from(now >= d.reveal_end);
    (status, d.pending_liquidations, phase)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_miner_is_under_dispute_while_a_vote_over_its_work_is_open_or_overturned_it() {
        let miner = Pubkey::new_unique();
        let dispute = |status| {
            let mut d = dispute(status, 0);
            d.miner = miner;
            d
        };
        for (status, open) in [
            (DisputeStatus::Voting, true),
            (DisputeStatus::Overturned, true),
            (DisputeStatus::Upheld, false),
            (DisputeStatus::Unresolved, false),
        ] {
            let disputes = [(Pubkey::new_unique(), dispute(status))];
            assert_eq!(under_dispute(&disputes, &miner), open, "{status:?}");
            assert!(!under_dispute(&disputes, &Pubkey::new_unique()));
        }
        assert!(rerun_required(RiskLevel::High, false));
        assert!(rerun_required(RiskLevel::Low, true));
        assert!(!rerun_required(RiskLevel::Medium, false));
    }
    use anchor_lang::prelude::Pubkey;
    use sha2::{Digest, Sha256};

    #[test]
    fn the_sample_is_deterministic_and_close_to_its_rate() {
        // Uniform seeds, as the keeper's draw key derives them (hashes).
        let seeds: Vec<[u8; 32]> = (0u32..10_000)
            .map(|i| Sha256::digest(i.to_le_bytes()).into())
            .collect();
        let hits = seeds.iter().filter(|s| sampled(s, 1_000)).count();
        assert!((800..1_200).contains(&hits), "about 10%: {hits}");
        assert!(
            seeds.iter().all(|s| sampled(s, 10_000)),
            "10000 bps re-checks everything"
        );
        assert!(!seeds.iter().any(|s| sampled(s, 0)));
        assert_eq!(sampled(&seeds[0], 1_000), sampled(&seeds[0], 1_000));
    }

    fn dispute(status: DisputeStatus, pending_liquidations: u32) -> Dispute {
        use verdict::state::DisputeOpening;
        let opening = DisputeOpening {
            job: Pubkey::new_unique(),
            challenger: Pubkey::new_unique(),
            challenger_operator: Pubkey::new_unique(),
            bond: 100,
            miner: Pubkey::new_unique(),
            disputed_output: [1; 32],
            challenger_result: [2; 32],
            active_weight: 100,
            signers: Default::default(),
        };
        let mut d = Dispute::default();
        d.open(opening, (0, 0), (10, 20), 255);
        d.set_status(status);
        (d.pending_liquidations, d.result) = (pending_liquidations, [2; 32]);
        d
    }

    #[test]
    fn a_dispute_changes_stage_with_its_phase_status_and_liquidations() {
        let voting = dispute(DisputeStatus::Voting, 0);
        assert_eq!(stage(&voting, 5), stage(&voting, 9));
        assert_ne!(
            stage(&voting, 9),
            stage(&voting, 10),
            "the reveal phase begins"
        );
        assert_ne!(stage(&voting, 10), stage(&voting, 20), "the vote is over");
        assert_ne!(
            stage(&dispute(DisputeStatus::Upheld, 2), 30),
            stage(&dispute(DisputeStatus::Upheld, 1), 30)
        );
    }
}
