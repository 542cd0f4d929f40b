//! The two rule sets the simulator compares, both as settings of the
//! program's own code: the first rules (before the security revision) and
//! revision 2 (what the chain runs now).

use serde::Deserialize;
use verdict::state::{Dispute, DisputeOpening, DisputeRules, ProtocolParams};

/// Which protocol rules a run uses.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Deserialize, clap::ValueEnum)]
#[serde(rename_all = "kebab-case")]
pub enum RuleSet {
    /// Before the security revision: one vote per node, no turnout quorum,
    /// the disputed output not counted, audits and routing a public
    /// function of the job, a committee draw the cranker can retry, no
    /// vote deposit, a flat bond, unresolved disputes free.
    First,
    /// Revision 2, the defaults the program ships with.
    Revision2,
}

impl RuleSet {
    pub const ALL: [RuleSet; 2] = [RuleSet::First, RuleSet::Revision2];

    pub fn name(self) -> &'static str {
        match self {
            RuleSet::First => "first rules",
            RuleSet::Revision2 => "revision 2",
        }
    }

    /// The protocol parameters: revision 2's defaults (or `base`), with the
    /// first rules' settings where they differ. `update_config` would refuse
    /// some of those settings on chain; the simulator runs them anyway.
    pub fn params(self, base: &ProtocolParams) -> ProtocolParams {
        match self {
            RuleSet::Revision2 => *base,
            RuleSet::First => ProtocolParams {
                dispute_quorum_bps: 0,
                dispute_min_voters: 0,
                vote_deposit: 0,
                bond_multiple: 0,
                unresolved_fee_bps: 0,
                validator_fee_bps: 0,
                exposure_multiple_bps: u32::MAX,
                ..*base
            },
        }
    }

    /// How a dispute is decided (the program's `Dispute::decide` takes these).
    pub fn dispute_rules(self, params: &ProtocolParams) -> DisputeRules {
        let rules = DisputeRules::of(params);
        match self {
            RuleSet::Revision2 => rules,
            RuleSet::First => DisputeRules {
                candidate_units: 0,
                ..rules
            },
        }
    }

    /// A voter's weight: its stake in vote units, or one per node.
    pub fn vote_weight(self, stake: u64, params: &ProtocolParams) -> u64 {
        match self {
            RuleSet::Revision2 => params.vote_weight(stake),
            RuleSet::First => u64::from(stake > 0),
        }
    }

    /// Whether a miner can tell which of its answers will be audited (and
    /// a client which miner its job id routes to).
    pub fn audits_public(self) -> bool {
        self == RuleSet::First
    }

    /// Whether a cranker can retry the committee draw until it likes the
    /// outcome (a CPI that reverts, a slot hash it already sees).
    pub fn draw_retryable(self) -> bool {
        self == RuleSet::First
    }

    /// Whether the stake of voters liquidated for dissenting is shared by
    /// the voters who outvoted them (the first rules) or goes to the reward
    /// pool (revision 2, after the simulator found a 66% coalition could
    /// profit from outvoting an honest minority).
    pub fn dissenters_fund_voters(self) -> bool {
        self == RuleSet::First
    }

    /// Whether the parties (miner, challenger) may vote in their dispute.
    pub fn parties_vote(self) -> bool {
        self == RuleSet::First
    }

    /// The bond a challenge of a job at `price` posts.
    pub fn bond(self, price: u64, params: &ProtocolParams) -> u64 {
        self.params(params).dispute_bond(price)
    }
}

/// A dispute in its vote over `disputed_output` and `challenger_result`,
/// opened as the program opens one (the parties' keys play no part here).
pub fn open_dispute(
    disputed_output: [u8; 32],
    challenger_result: [u8; 32],
    bond: u64,
    active_weight: u64,
) -> Dispute {
    let mut dispute = Dispute::default();
    dispute.open(
        DisputeOpening {
            job: Default::default(),
            challenger: Default::default(),
            challenger_operator: Default::default(),
            bond,
            miner: Default::default(),
            disputed_output,
            challenger_result,
            active_weight,
            signers: Default::default(),
        },
        (0, 0),
        (0, 0),
        0,
    );
    dispute
}

#[cfg(test)]
mod tests {
    use super::*;
    use verdict::state::Verdict;

    fn lone_vote(rules: RuleSet) -> Verdict {
        let params = rules.params(&ProtocolParams::default());
        let mut d = open_dispute([1; 32], [2; 32], 0, 100);
        d.count(
            [2; 32],
            rules.vote_weight(params.min_validator_stake, &params),
        );
        d.decide(&rules.dispute_rules(&params))
    }

    #[test]
    fn a_lone_vote_decided_under_the_first_rules_only() {
        assert!(matches!(lone_vote(RuleSet::First), Verdict::Stands { .. }));
        assert!(matches!(
            lone_vote(RuleSet::Revision2),
            Verdict::Unresolved { .. }
        ));
    }
}
