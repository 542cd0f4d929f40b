//! Every node's incomes and losses over a run, and every vote cast in a
//! dispute, read from the program's events (pure: the events of the run,
//! each transaction once, in any order).

use std::collections::{BTreeMap, BTreeSet};

use anchor_lang::prelude::Pubkey;
use verdict::events::CreditReason;
use verdict_sdk::events::VerdictEvent;

/// One node's incomes and losses, in token base units.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Ledger {
    /// Answers the chain accepted (miners: `JobCompleted`).
    pub jobs_completed: u64,
    /// Attempts the chain failed on the miner (`JobFailed`: timeouts,
    /// dropped connections, invalid answers).
    pub jobs_failed: u64,
    /// Claimed payouts: the operator's part and the delegators' (`PayoutClaimed`).
    pub payouts: u64,
    /// Tier 1 boosts credited with those payouts (owed by the reward pool).
    pub boosts: u64,
    /// Co-signers' share of closed jobs' prices (`NodeCredited`, `ValidatorFee`).
    pub validator_fees: u64,
    /// Correct voters' shares of dispute pools (`DisputeRewardClaimed`).
    pub dispute_rewards: u64,
    /// Paid to a miner whose dispute ended unresolved (`UnresolvedDisputeFee`).
    pub unresolved_fees: u64,
    /// A challenger's bonds credited back (`BondReturned`).
    pub bonds_returned: u64,
    /// A challenger's bonds not returned: upheld outcomes' whole bond, the
    /// unresolved fee of the others (bond − returned, once resolved).
    pub bonds_lost: u64,
    /// Vote deposits of commits never revealed, forfeited at resolution.
    pub deposits_lost: u64,
    /// Slashes (`NodeSlashed`) and liquidations (`NodeLiquidated`).
    pub slashed: u64,
    pub liquidated: u64,
}

impl Ledger {
    /// What the node gained less what it lost (a returned bond is neither).
    pub fn net(&self) -> i128 {
        let gained = self.payouts
            + self.boosts
            + self.validator_fees
            + self.dispute_rewards
            + self.unresolved_fees;
        let lost = self.bonds_lost + self.deposits_lost + self.slashed + self.liquidated;
        gained as i128 - lost as i128
    }
}

/// How a voter voted in a dispute.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Ballot {
    pub voter: Pubkey,
    /// Its weight at commit, or as revealed (lowered if its stake fell).
    pub weight: u64,
    /// The revealed result; `None`: committed, never revealed.
    pub result: Option<[u8; 32]>,
}

/// Every node's ledger, from the run's events.
pub fn ledgers(events: &[VerdictEvent]) -> BTreeMap<Pubkey, Ledger> {
    let mut out: BTreeMap<Pubkey, Ledger> = BTreeMap::new();
    // Disputes: who challenged with which bond, what came back, who revealed.
    let mut opened: BTreeMap<Pubkey, (Pubkey, u64)> = BTreeMap::new();
    let mut returned: BTreeMap<Pubkey, u64> = BTreeMap::new();
    let mut revealed: BTreeSet<(Pubkey, Pubkey)> = BTreeSet::new();
    for e in events {
        match e {
            VerdictEvent::DisputeOpened(o) => {
                opened.insert(o.dispute, (o.challenger, o.bond));
            }
            VerdictEvent::DisputeResolved(r) => {
                returned.insert(r.dispute, r.bond_returned);
            }
            VerdictEvent::VoteRevealed(v) => {
                revealed.insert((v.dispute, v.voter));
            }
            _ => {}
        }
    }
    for e in events {
        match e {
            VerdictEvent::JobCompleted(c) => out.entry(c.miner).or_default().jobs_completed += 1,
            VerdictEvent::JobFailed(f) => out.entry(f.miner).or_default().jobs_failed += 1,
            VerdictEvent::PayoutClaimed(p) => {
                let l = out.entry(p.miner).or_default();
                l.payouts += p.operator_amount + p.delegator_amount;
                l.boosts += p.boost_owed;
            }
            VerdictEvent::NodeCredited(c) => {
                let l = out.entry(c.node).or_default();
                match c.reason {
                    CreditReason::ValidatorFee => l.validator_fees += c.amount,
                    CreditReason::BondReturned => l.bonds_returned += c.amount,
                    CreditReason::UnresolvedDisputeFee => l.unresolved_fees += c.amount,
                }
            }
            VerdictEvent::DisputeRewardClaimed(c) => {
                out.entry(c.voter).or_default().dispute_rewards += c.amount
            }
            VerdictEvent::VoteCommitted(v)
                if returned.contains_key(&v.dispute)
                    && !revealed.contains(&(v.dispute, v.voter)) =>
            {
                out.entry(v.voter).or_default().deposits_lost += v.deposit;
            }
            VerdictEvent::NodeSlashed(s) => out.entry(s.node).or_default().slashed += s.amount,
            VerdictEvent::NodeLiquidated(l) => {
                out.entry(l.node).or_default().liquidated += l.amount
            }
            _ => {}
        }
    }
    for (dispute, (challenger, bond)) in opened {
        if let Some(back) = returned.get(&dispute) {
            out.entry(challenger).or_default().bonds_lost += bond.saturating_sub(*back);
        }
    }
    out
}

/// What a dispute moved, once resolved: the challenger's bond and what came
/// back of it, the fee credited to the miner (unresolved), the deposits
/// forfeited, every liquidation and every reward claimed, in base units.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Settlement {
    pub bond: u64,
    /// `None` while the dispute is still voting.
    pub bond_returned: Option<u64>,
    /// Credited to the miner when the dispute ends unresolved.
    pub unresolved_fee: u64,
    pub deposits_forfeited: u64,
    pub liquidated: Vec<(Pubkey, u64)>,
    pub rewards: Vec<(Pubkey, u64)>,
}

impl Settlement {
    /// What the challenger lost: the bond less what came back (0 while voting).
    pub fn challenger_lost(&self) -> u64 {
        self.bond_returned
            .map_or(0, |back| self.bond.saturating_sub(back))
    }
}

/// The money `dispute` moved, from the run's events.
pub fn settlement(dispute: &Pubkey, events: &[VerdictEvent]) -> Settlement {
    let mut s = Settlement::default();
    for e in events {
        match e {
            VerdictEvent::DisputeOpened(o) if o.dispute == *dispute => s.bond = o.bond,
            VerdictEvent::DisputeResolved(r) if r.dispute == *dispute => {
                s.bond_returned = Some(r.bond_returned);
                s.unresolved_fee = r.unresolved_fee;
                s.deposits_forfeited = r.deposits_forfeited;
            }
            VerdictEvent::NodeLiquidated(l) if l.dispute == *dispute => {
                s.liquidated.push((l.node, l.amount))
            }
            VerdictEvent::DisputeRewardClaimed(c) if c.dispute == *dispute => {
                s.rewards.push((c.voter, c.amount))
            }
            _ => {}
        }
    }
    s
}

/// Every vote cast in `dispute`: its commits, with their reveals.
pub fn ballots(dispute: &Pubkey, events: &[VerdictEvent]) -> Vec<Ballot> {
    let mut out: Vec<Ballot> = Vec::new();
    for e in events {
        if let VerdictEvent::VoteCommitted(v) = e {
            if v.dispute == *dispute && !out.iter().any(|b| b.voter == v.voter) {
                out.push(Ballot {
                    voter: v.voter,
                    weight: v.weight,
                    result: None,
                });
            }
        }
    }
    for e in events {
        if let VerdictEvent::VoteRevealed(v) = e {
            if let Some(b) = out
                .iter_mut()
                .find(|b| v.dispute == *dispute && b.voter == v.voter)
            {
                b.weight = v.weight;
                b.result = Some(v.result);
            }
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use verdict::events::{
        DisputeOpened, DisputeResolved, DisputeRewardClaimed, NodeCredited, NodeLiquidated,
        PayoutClaimed, VoteCommitted, VoteRevealed,
    };
    use verdict::state::DisputeStatus;

    fn key(n: u8) -> Pubkey {
        Pubkey::new_from_array([n; 32])
    }

    const OUT: [u8; 32] = [1; 32];
    const ALT: [u8; 32] = [2; 32];

    /// A dispute over miner 1's job, challenged by 2, voted by 3 (for the
    /// challenger), 4 (against) and 5 (never revealed): overturned.
    fn run() -> Vec<VerdictEvent> {
        let d = key(9);
        let commit = |voter| {
            VerdictEvent::VoteCommitted(VoteCommitted {
                dispute: d,
                voter: key(voter),
                weight: 20,
                deposit: 10,
            })
        };
        let reveal = |voter, result| {
            VerdictEvent::VoteRevealed(VoteRevealed {
                dispute: d,
                voter: key(voter),
                result,
                weight: 20,
            })
        };
        vec![
            VerdictEvent::PayoutClaimed(PayoutClaimed {
                job: key(20),
                miner: key(1),
                operator_amount: 70,
                delegator_amount: 20,
                client_refund: 0,
                boost_owed: 5,
                validator_fee: 10,
            }),
            VerdictEvent::NodeCredited(NodeCredited {
                node: key(3),
                amount: 4,
                reason: CreditReason::ValidatorFee,
            }),
            VerdictEvent::DisputeOpened(DisputeOpened {
                dispute: d,
                job: key(21),
                challenger: key(2),
                miner: key(1),
                bond: 100,
                disputed_output: OUT,
                challenger_result: ALT,
                active_weight: 100,
                commit_end: 0,
                reveal_end: 0,
            }),
            commit(3),
            commit(4),
            commit(5),
            reveal(3, ALT),
            reveal(4, OUT),
            VerdictEvent::DisputeResolved(DisputeResolved {
                dispute: d,
                status: DisputeStatus::Overturned,
                result: ALT,
                n: 21,
                m: 21,
                turnout: 40,
                active_weight: 100,
                pending_liquidations: 2,
                bond_returned: 100,
                unresolved_fee: 0,
                deposits_forfeited: 10,
            }),
            VerdictEvent::NodeCredited(NodeCredited {
                node: key(2),
                amount: 100,
                reason: CreditReason::BondReturned,
            }),
            VerdictEvent::NodeLiquidated(NodeLiquidated {
                dispute: d,
                node: key(1),
                amount: 1_000,
                client_refund: 0,
                reserved: 0,
                from_reserve: 0,
                to_reward_pool: 0,
            }),
            VerdictEvent::NodeLiquidated(NodeLiquidated {
                dispute: d,
                node: key(4),
                amount: 2_000,
                client_refund: 0,
                reserved: 0,
                from_reserve: 0,
                to_reward_pool: 0,
            }),
            VerdictEvent::DisputeRewardClaimed(DisputeRewardClaimed {
                dispute: d,
                voter: key(3),
                amount: 3_010,
            }),
        ]
    }

    #[test]
    fn every_income_and_loss_lands_on_its_node() {
        let l = ledgers(&run());
        assert_eq!(
            (l[&key(1)].payouts, l[&key(1)].boosts, l[&key(1)].liquidated),
            (90, 5, 1_000)
        );
        assert_eq!(l[&key(1)].net(), 95 - 1_000);
        assert_eq!(
            (
                l[&key(2)].bonds_returned,
                l[&key(2)].bonds_lost,
                l[&key(2)].net()
            ),
            (100, 0, 0)
        );
        assert_eq!(
            (
                l[&key(3)].validator_fees,
                l[&key(3)].dispute_rewards,
                l[&key(3)].deposits_lost
            ),
            (4, 3_010, 0)
        );
        assert_eq!(l[&key(4)].liquidated, 2_000);
        assert_eq!(
            l[&key(5)].deposits_lost,
            10,
            "never revealed: the deposit is forfeited"
        );
    }

    #[test]
    fn an_upheld_or_unresolved_challenge_costs_its_bond_or_the_fee() {
        let mut events = run();
        for e in events.iter_mut() {
            if let VerdictEvent::DisputeResolved(r) = e {
                r.bond_returned = 90;
                r.unresolved_fee = 10;
            }
        }
        assert_eq!(ledgers(&events)[&key(2)].bonds_lost, 10);
        // Still voting: nothing is lost yet, no deposit forfeited.
        let voting: Vec<_> = run()
            .into_iter()
            .filter(|e| !matches!(e, VerdictEvent::DisputeResolved(_)))
            .collect();
        let l = ledgers(&voting);
        let of = |n| l.get(&key(n)).copied().unwrap_or_default();
        assert_eq!(of(2).bonds_lost, 0);
        assert_eq!(of(5).deposits_lost, 0);
    }

    #[test]
    fn a_settlement_shows_what_each_party_gained_or_lost() {
        let s = settlement(&key(9), &run());
        assert_eq!(
            (s.bond, s.bond_returned, s.challenger_lost()),
            (100, Some(100), 0),
            "overturned: the bond comes back"
        );
        assert_eq!(s.liquidated, vec![(key(1), 1_000), (key(4), 2_000)]);
        assert_eq!(s.rewards, vec![(key(3), 3_010)]);
        assert_eq!(
            settlement(&key(8), &run()),
            Settlement::default(),
            "another dispute moved nothing"
        );
        // A griefing challenge the vote upheld: the whole bond to the voters.
        let upheld: Vec<VerdictEvent> = run()
            .into_iter()
            .map(|e| match e {
                VerdictEvent::DisputeResolved(r) => {
                    VerdictEvent::DisputeResolved(DisputeResolved {
                        status: DisputeStatus::Upheld,
                        bond_returned: 0,
                        ..r
                    })
                }
                e => e,
            })
            .filter(|e| !matches!(e, VerdictEvent::NodeLiquidated(_)))
            .collect();
        let s = settlement(&key(9), &upheld);
        assert_eq!(
            (s.challenger_lost(), s.unresolved_fee, s.liquidated.len()),
            (100, 0, 0)
        );
        assert_eq!(ledgers(&upheld)[&key(2)].bonds_lost, 100);
        // Unresolved: 10% of the bond to the miner.
        let unresolved: Vec<VerdictEvent> = upheld
            .into_iter()
            .map(|e| match e {
                VerdictEvent::DisputeResolved(r) => {
                    VerdictEvent::DisputeResolved(DisputeResolved {
                        status: DisputeStatus::Unresolved,
                        bond_returned: 90,
                        unresolved_fee: 10,
                        ..r
                    })
                }
                e => e,
            })
            .collect();
        let s = settlement(&key(9), &unresolved);
        assert_eq!((s.challenger_lost(), s.unresolved_fee), (10, 10));
        // Still voting: nothing lost yet.
        let voting: Vec<_> = run()
            .into_iter()
            .filter(|e| !matches!(e, VerdictEvent::DisputeResolved(_)))
            .collect();
        assert_eq!(settlement(&key(9), &voting).challenger_lost(), 0);
    }

    #[test]
    fn failed_attempts_count_against_the_miner() {
        use verdict::events::JobFailed;
        let failed = |attempt| {
            VerdictEvent::JobFailed(JobFailed {
                job: key(20),
                miner: key(1),
                reason: verdict::state::FailReason::Timeout,
                attempt,
                reopened: true,
            })
        };
        let l = ledgers(&[failed(1), failed(2)]);
        assert_eq!((l[&key(1)].jobs_failed, l[&key(1)].jobs_completed), (2, 0));
    }

    #[test]
    fn ballots_pair_commits_with_reveals() {
        let b = ballots(&key(9), &run());
        assert_eq!(b.len(), 3);
        assert_eq!(
            b[0],
            Ballot {
                voter: key(3),
                weight: 20,
                result: Some(ALT)
            }
        );
        assert_eq!(b[1].result, Some(OUT));
        assert_eq!(b[2].result, None);
        assert!(ballots(&key(8), &run()).is_empty());
    }
}
