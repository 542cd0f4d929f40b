//! Who in the committee drives a job: a deterministic order of the members
//! per (job, committee epoch), so every keeper computes the same leader
//! without talking, and when the leader goes silent the next member in that
//! order takes over after a delay proportional to its rank.

use std::time::Duration;

use anchor_lang::prelude::Pubkey;
use sha2::{Digest, Sha256};

/// Index (in the committee's member list) of the member that leads
/// `subject` (a job, or a miner for its trial) in `epoch`.
pub fn leader_index(subject: &Pubkey, epoch: u64, size: usize) -> usize {
    if size == 0 {
        return 0;
    }
    let digest = Sha256::new()
        .chain_update(b"verdict-leader")
        .chain_update(subject.as_ref())
        .chain_update(epoch.to_le_bytes())
        .finalize();
    let mut word = [0u8; 8];
    word.copy_from_slice(&digest[..8]);
    (u64::from_le_bytes(word) % size as u64) as usize
}

/// A member's place in the failover order: 0 is the leader, 1 the first to
/// take over, and so on. A keeper outside the committee comes last (it can
/// still collect a quorum of members' signatures).
pub fn rank(subject: &Pubkey, epoch: u64, size: usize, my_index: Option<usize>) -> usize {
    match my_index {
        Some(i) if i < size => (i + size - leader_index(subject, epoch, size)) % size,
        _ => size,
    }
}

/// Whether the member of `rank` should drive the job now, the job having
/// shown no sign of progress (on chain, or a co-sign request) for `quiet`.
pub fn my_turn(rank: usize, quiet: Duration, takeover_after: Duration) -> bool {
    quiet >= takeover_after * rank as u32
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_member_agrees_on_one_leader_and_a_full_failover_order() {
        for _ in 0..200 {
            let job = Pubkey::new_unique();
            let ranks: Vec<usize> = (0..5).map(|i| rank(&job, 9, 5, Some(i))).collect();
            let mut sorted = ranks.clone();
            sorted.sort();
            assert_eq!(
                sorted,
                vec![0, 1, 2, 3, 4],
                "ranks are a permutation: {ranks:?}"
            );
            assert_eq!(ranks[leader_index(&job, 9, 5)], 0);
        }
        assert_eq!(
            rank(&Pubkey::new_unique(), 1, 5, None),
            5,
            "outsiders come last"
        );
        assert_eq!(
            rank(&Pubkey::new_unique(), 1, 5, Some(7)),
            5,
            "an index past the committee is an outsider"
        );
    }

    #[test]
    fn leadership_spreads_over_members_and_changes_with_the_epoch() {
        let mut led = [0u32; 5];
        let mut moved = 0;
        for _ in 0..5_000 {
            let job = Pubkey::new_unique();
            led[leader_index(&job, 3, 5)] += 1;
            if leader_index(&job, 3, 5) != leader_index(&job, 4, 5) {
                moved += 1;
            }
        }
        assert!(
            led.iter().all(|&n| (800..1_200).contains(&n)),
            "about a fifth each: {led:?}"
        );
        assert!(moved > 3_000, "a new epoch reshuffles leaders: {moved}");
    }

    #[test]
    fn takeover_waits_rank_times_the_delay() {
        let after = Duration::from_secs(4);
        assert!(
            my_turn(0, Duration::ZERO, after),
            "the leader starts at once"
        );
        assert!(!my_turn(1, Duration::from_secs(3), after));
        assert!(my_turn(1, Duration::from_secs(4), after));
        assert!(!my_turn(2, Duration::from_secs(7), after));
        assert!(my_turn(2, Duration::from_secs(8), after));
    }
}
