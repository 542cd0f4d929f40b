//! Experiment `overturn`: the least capital that makes a wrong result stand
//! against an honest miner's correct output, as a function of honest
//! turnout, and what that overturn extracts. Model: `cfg.validators` honest
//! validators (stakes from the configured distribution) plus the disputed
//! miner make up the active weight, with the attacker's own identities
//! (snapshotted at opening, so the attacker's capital raises the 66% base
//! and the turnout base it must clear); other miners of the network are left
//! out, which only makes the attack cheaper. Honest validators, taken in a
//! seeded random order until the target share of honest weight is reached,
//! vote for the correct output; the miner does not vote. Every probe is
//! decided by the program's `Dispute::count`/`decide`, and the liquidated
//! stake is shared with the program's `finalize_rewards`/`reward_for`.

use rand::seq::SliceRandom;
use rand::SeedableRng;
use verdict::constants::defaults::TOKEN;
use verdict::state::{Dispute, DisputeRules, DisputeStatus, ProtocolParams, Verdict};

use crate::plot::{Figure, Series};
use crate::rules::open_dispute;
use crate::{network, Report, RuleSet, SimConfig, SimError};

/// Honest turnouts probed (share of honest validator weight that reveals).
pub const TURNOUTS: [f64; 7] = [0.0, 0.05, 0.10, 0.20, 0.40, 0.70, 1.0];

const OUT: [u8; 32] = [1; 32];
const WRONG: [u8; 32] = [2; 32];

/// How the attacker spreads its stake over identities (each at least one
/// minimum miner stake, the cheapest node that may vote).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Split {
    /// One node holding everything.
    One,
    /// Three nodes: the fewest that meet `dispute_min_voters` alone.
    Three,
    /// As many minimum-stake nodes as the capital buys.
    MinStake,
}

impl Split {
    pub const ALL: [Split; 3] = [Split::One, Split::Three, Split::MinStake];

    fn name(self) -> &'static str {
        match self {
            Split::One => "one identity",
            Split::Three => "three identities",
            Split::MinStake => "minimum-stake identities",
        }
    }

    /// Stakes of the identities holding `units` minimum stakes, or None if
    /// the split needs more.
    fn identities(self, units: u64, unit: u64) -> Option<Vec<u64>> {
        let k = match self {
            Split::One => 1,
            Split::Three => 3,
            Split::MinStake => units,
        };
        if units < k || k == 0 {
            return None;
        }
        Some(
            (0..k)
                .map(|i| (units / k + u64::from(i < units % k)) * unit)
                .collect(),
        )
    }
}

/// One (rule set, turnout) point.
#[derive(Clone, Debug)]
pub struct Row {
    pub rules: RuleSet,
    /// Target share and the share of honest weight that actually revealed.
    pub turnout: f64,
    pub honest_share: f64,
    pub honest_voters: usize,
    /// Least capital (tokens) under each split (None: no amount overturns).
    pub capital_by_split: [Option<f64>; 3],
    /// The cheapest split's capital, with the bond and (revision 2) the
    /// non-voting challenger node included.
    pub capital: f64,
    /// Tokens the overturn hands the attacker: its identities' share of the
    /// liquidation pool plus the price refunded to it as the client.
    pub extraction: f64,
    pub ratio: f64,
    /// What the attacker's last missing unit was short of.
    pub binding: &'static str,
}

#[derive(Clone, Debug, Default)]
pub struct Findings {
    pub rows: Vec<Row>,
    /// Least capital / extraction over turnouts under revision 2, and the
    /// same over the turnouts where the 10·m rule (not 66%) binds.
    pub min_ratio_revision2: f64,
    pub min_ratio_revision2_below_66: f64,
    /// (turnout, tokens) of the cheapest overturn.
    pub capital_revision2: Vec<(f64, f64)>,
    pub capital_first: Vec<(f64, f64)>,
    /// First rules, nobody else voting: one minimum-stake node's vote.
    pub lone_vote_capital_first: f64,
    pub lone_vote_overturns_first: bool,
    /// Whether spreading over minimum-stake identities ever beat three
    /// identities under revision 2.
    pub split_lowers_revision2: bool,
}

/// The simulated network the dispute is fought in.
struct Setup {
    base: ProtocolParams,
    validators: Vec<u64>,
    /// Validators in the order they turn out.
    order: Vec<usize>,
    miner_stake: u64,
    price: u64,
}

impl Setup {
    fn new(cfg: &SimConfig) -> Self {
        let mut rng = rand::rngs::StdRng::seed_from_u64(cfg.seed);
        let base = cfg.params;
        let validators = network::stakes(
            cfg,
            base.min_validator_stake,
            cfg.validators as usize,
            &mut rng,
        );
        let mut order: Vec<usize> = (0..validators.len()).collect();
        order.shuffle(&mut rng);
        Setup {
            // The miner at the minimum stake: the worked example's miner (the
            // ratio falls in proportion for a richer target at low turnout).
            miner_stake: base.min_miner_stake,
            base,
            validators,
            order,
            price: cfg.price,
        }
    }

    /// The stake one identity needs to vote with weight ≥ 1 under both rules.
    fn unit(&self) -> u64 {
        self.base.min_miner_stake.max(self.base.vote_unit).max(1)
    }

    /// Validators revealing at target `t`: the first in turnout order until
    /// their (revision 2) weight reaches t of the honest weight, so both rule
    /// sets face the same people.
    fn turnout(&self, t: f64) -> Vec<usize> {
        let w = |i: usize| self.base.vote_weight(self.validators[i]) as f64;
        let total: f64 = (0..self.validators.len()).map(w).sum();
        let mut sum = 0.0;
        let mut out = Vec::new();
        for &i in &self.order {
            if sum >= t * total - 1e-9 {
                break;
            }
            sum += w(i);
            out.push(i);
        }
        out
    }
}

/// Opens the dispute, counts the honest votes for the correct output and the
/// attacker's for its wrong result, and decides it with the program's code.
fn vote(setup: &Setup, rules: RuleSet, voters: &[usize], attacker: &[u64]) -> Dispute {
    let params = rules.params(&setup.base);
    let weight = |stake: u64| rules.vote_weight(stake, &params);
    // Under revision 2 the challenger is a party and may not vote: it is one
    // more minimum-stake node of the attacker's, in the active weight only.
    let challenger = if rules.parties_vote() {
        0
    } else {
        weight(setup.unit())
    };
    let active = setup.validators.iter().map(|&s| weight(s)).sum::<u64>()
        + weight(setup.miner_stake)
        + attacker.iter().map(|&s| weight(s)).sum::<u64>()
        + challenger;
    let mut d = open_dispute(OUT, WRONG, rules.bond(setup.price, &setup.base), active);
    for &i in voters {
        d.count(OUT, weight(setup.validators[i]));
    }
    for &s in attacker {
        d.count(WRONG, weight(s));
    }
    d
}

fn overturned(d: &Dispute, rules: &DisputeRules) -> bool {
    matches!(d.decide(rules), Verdict::Stands { result, .. } if result == WRONG)
}

/// Least number of minimum stakes that overturns, by doubling then
/// bisection (more stake never hurts the attacker: n grows by its weight,
/// the 66% bar and the quorum base by less).
fn least_units(setup: &Setup, rules: RuleSet, voters: &[usize], split: Split) -> Option<u64> {
    let params = rules.params(&setup.base);
    let dr = rules.dispute_rules(&params);
    let unit = setup.unit();
    let works = |units: u64| {
        split
            .identities(units, unit)
            .is_some_and(|ids| overturned(&vote(setup, rules, voters, &ids), &dr))
    };
    // Beyond twice the whole honest weight plus slack 66% of the active
    // weight is always reached, if this split can win at all.
    let honest: u64 = setup.validators.iter().sum::<u64>() / unit + 2;
    let cap = 4 * honest + 64;
    let mut hi = 1;
    while !works(hi) {
        if hi >= cap {
            return None;
        }
        hi = (hi * 2).min(cap);
    }
    let mut lo = hi / 2; // fails (or is 0)
    while hi - lo > 1 {
        let mid = (lo + hi) / 2;
        if works(mid) {
            hi = mid;
        } else {
            lo = mid;
        }
    }
    Some(hi)
}

/// What failed one unit short of the least capital: the turnout quorum, the
/// 10·m rule (10·m below 66% of the active weight) or the 66% rule.
fn binding(setup: &Setup, rules: RuleSet, voters: &[usize], units: u64) -> &'static str {
    let params = rules.params(&setup.base);
    let dr = rules.dispute_rules(&params);
    let Some(ids) = Split::MinStake.identities(units.saturating_sub(1), setup.unit()) else {
        return "one vote";
    };
    let d = vote(setup, rules, voters, &ids);
    let turnout = d.weight_disputed + d.weight_challenger + d.weight_other;
    let quorum = turnout as u128 * 10_000 >= dr.quorum_bps as u128 * d.active_weight as u128
        && d.voters_revealed >= dr.min_voters as u32;
    let m = match d.decide(&dr) {
        Verdict::Stands { m, .. } | Verdict::Unresolved { m, .. } => m,
    };
    if !quorum {
        "turnout quorum"
    } else if dr.liquidation_multiplier as u128 * m as u128 * 10_000
        <= dr.liquidation_active_bps as u128 * d.active_weight as u128
    {
        "n > 10·m"
    } else {
        "n > 66% of active"
    }
}

/// The overturn's liquidations shared by the program's reward code: the
/// miner's whole stake goes to the pool, and under the first rules every
/// honest voter's too (revision 2 sends a dissenter's stake to the reward
/// pool); the attacker's identities (the only voters for R) claim it all.
/// The price comes back to the attacker as the client's refund.
fn extraction(setup: &Setup, rules: RuleSet, voters: &[usize], ids: &[u64]) -> u64 {
    let params = rules.params(&setup.base);
    let mut d = vote(setup, rules, voters, ids);
    d.set_status(DisputeStatus::Overturned);
    d.result = WRONG;
    let dissenters: u64 = voters.iter().map(|&i| setup.validators[i]).sum();
    d.pool = setup.miner_stake
        + if rules.dissenters_fund_voters() {
            dissenters
        } else {
            0
        };
    let refund = d.take_client_refund(); // 0: the escrow still held the price
    let unclaimable = d.finalize_rewards();
    debug_assert_eq!(refund + unclaimable, 0);
    let mut claimed = 0;
    for &s in ids {
        let r = d.reward_for(rules.vote_weight(s, &params));
        d.pool -= r;
        d.claims += 1;
        claimed += r;
    }
    claimed + setup.price
}

fn point(setup: &Setup, rules: RuleSet, t: f64) -> Row {
    let voters = setup.turnout(t);
    let unit = setup.unit();
    let by_split = Split::ALL.map(|s| least_units(setup, rules, &voters, s));
    let (split, units) = Split::ALL
        .iter()
        .zip(by_split)
        .filter_map(|(&s, u)| u.map(|u| (s, u)))
        .min_by_key(|&(_, u)| u)
        .expect("minimum-stake identities always overturn eventually");
    let ids = split.identities(units, unit).expect("found above");
    let bond = rules.bond(setup.price, &setup.base);
    let challenger = if rules.parties_vote() { 0 } else { unit };
    let capital = (units * unit + challenger + bond) as f64 / TOKEN as f64;
    let extraction = extraction(setup, rules, &voters, &ids) as f64 / TOKEN as f64;
    let total: u64 = setup.validators.iter().sum();
    Row {
        rules,
        turnout: t,
        honest_share: voters.iter().map(|&i| setup.validators[i]).sum::<u64>() as f64
            / total as f64,
        honest_voters: voters.len(),
        capital_by_split: by_split.map(|u| u.map(|u| (u * unit) as f64 / TOKEN as f64)),
        capital,
        extraction,
        ratio: capital / extraction,
        binding: binding(setup, rules, &voters, units),
    }
}

pub fn run(cfg: &SimConfig, rules: &[RuleSet], report: &mut Report) -> Result<Findings, SimError> {
    let setup = Setup::new(cfg);
    let rows: Vec<Row> = rules
        .iter()
        .flat_map(|&r| TURNOUTS.iter().map(move |&t| (r, t)))
        .map(|(r, t)| point(&setup, r, t))
        .collect();
    let of = |r: RuleSet| rows.iter().filter(move |row| row.rules == r);
    let curve = |r: RuleSet| of(r).map(|row| (row.turnout, row.capital)).collect();
    let min = |it: &mut dyn Iterator<Item = f64>| it.fold(f64::INFINITY, f64::min);
    let lone = {
        let params = RuleSet::First.params(&setup.base);
        let d = vote(&setup, RuleSet::First, &[], &[setup.unit()]);
        overturned(&d, &RuleSet::First.dispute_rules(&params))
    };
    let findings = Findings {
        min_ratio_revision2: min(&mut of(RuleSet::Revision2).map(|r| r.ratio)),
        min_ratio_revision2_below_66: min(&mut of(RuleSet::Revision2)
            .filter(|r| r.binding != "n > 66% of active")
            .map(|r| r.ratio)),
        capital_revision2: curve(RuleSet::Revision2),
        capital_first: curve(RuleSet::First),
        lone_vote_capital_first: (setup.unit() + RuleSet::First.bond(setup.price, &setup.base))
            as f64
            / TOKEN as f64,
        lone_vote_overturns_first: lone,
        split_lowers_revision2: of(RuleSet::Revision2).any(|r| {
            matches!(r.capital_by_split, [_, Some(three), Some(min)] if min < three)
                || matches!(r.capital_by_split, [_, None, Some(_)])
        }),
        rows,
    };
    write_section(&setup, &findings, report)?;
    Ok(findings)
}

fn tokens(x: Option<f64>) -> String {
    x.map_or("never".into(), |x| format!("{x:.0}"))
}

fn write_section(setup: &Setup, f: &Findings, report: &mut Report) -> Result<(), SimError> {
    let t = TOKEN as f64;
    let honest: u64 = setup.validators.iter().sum();
    let mut body = format!(
        "An honest miner's correct output (miner stake {:.0} tokens, price {:.3} tokens) is \
         challenged with a wrong result; the attacker votes for it with identities of at least \
         one minimum miner stake ({:.0} tokens). {} honest validators hold {:.0} tokens ({} \
         vote units); the share of their weight in the first column reveals for the correct \
         output. Active weight = validators + miner + the attacker's identities (and, under \
         revision 2, its non-voting challenger node), snapshotted at opening. Each capital is \
         the least found by bisection, every probe decided by the program's \
         `Dispute::count`/`decide`; it includes the bond (returned on an overturn). Extraction \
         = the liquidation pool (the miner's whole stake, and under the first rules the honest voters' too; revision 2 sends theirs to the reward pool) as the \
         program's `reward_for` shares it among the attacker's identities, plus the price \
         refunded to the attacker as the client.\n\n\
         | rules | turnout target | honest share revealed (voters) | {} | {} | {} | \
         capital (tokens) | extraction (tokens) | capital / extraction | binding rule |\n\
         |---|---|---|---|---|---|---|---|---|---|\n",
        setup.miner_stake as f64 / t,
        setup.price as f64 / t,
        setup.unit() as f64 / t,
        setup.validators.len(),
        honest as f64 / t,
        setup.base.vote_weight(honest),
        Split::One.name(),
        Split::Three.name(),
        Split::MinStake.name(),
    );
    for r in &f.rows {
        body += &format!(
            "| {} | {:.0}% | {:.1}% ({}) | {} | {} | {} | {:.0} | {:.0} | {:.2} | {} |\n",
            r.rules.name(),
            r.turnout * 100.0,
            r.honest_share * 100.0,
            r.honest_voters,
            tokens(r.capital_by_split[0]),
            tokens(r.capital_by_split[1]),
            tokens(r.capital_by_split[2]),
            r.capital,
            r.extraction,
            r.ratio,
            r.binding,
        );
    }
    body += &format!(
        "\nUnder the first rules, with nobody else voting, one minimum-stake node's vote \
         overturns ({}): {:.0} tokens of capital (stake + flat bond, both kept) take the miner's \
         stake. Under revision 2 the least capital / extraction is {:.2} over all turnouts and \
         {:.2} where the 10·m rule binds; splitting over minimum-stake identities {} three \
         identities (weight is stake / vote_unit, so only the 3-voter quorum asks for more than \
         one identity).\n\n\
         Why the dissenters' stake goes to the reward pool. Under the first rules (and the \
         first cut of revision 2) the honest voters an overturn outvotes were liquidated into \
         the winners' pool: once 10·m exceeds 66% of the active weight, an attacker holding \
         66% of the active weight including its own (about 1.94× the honest weight) took every \
         honest voter's stake, and needed only 1.9× what it took at full turnout (9.8× at 5–10% \
         turnout). Revision 2 as built sends a liquidated dissenter's stake to the reward pool \
         (after any refund the client is still owed), so an overturn extracts the miner's stake \
         and the price only: at full turnout the ratio is now {:.2}, and the capital is {:.2}× the \
         whole honest stake at full turnout. Counting the \
         network's other miners in the active weight (left out here) raises every revision 2 \
         figure. A richer target miner lowers the low-turnout ratios in proportion: at 0% \
         turnout the capital is set by the turnout quorum, not by the miner's stake.\n\n",
        f.lone_vote_overturns_first,
        f.lone_vote_capital_first,
        f.min_ratio_revision2,
        f.min_ratio_revision2_below_66,
        if f.split_lowers_revision2 {
            "does lower the capital below"
        } else {
            "never lowers the capital below"
        },
        f.rows
            .iter()
            .rfind(|r| r.rules == RuleSet::Revision2)
            .map_or(f64::NAN, |r| r.ratio),
        f.capital_revision2
            .last()
            .map_or(f64::NAN, |&(_, c)| c / (honest as f64 / t)),
    );
    let mut series: Vec<Series> = RuleSet::ALL
        .iter()
        .filter(|r| f.rows.iter().any(|row| row.rules == **r))
        .map(|&r| Series {
            label: format!("{}: least capital", r.name()),
            points: f
                .rows
                .iter()
                .filter(|row| row.rules == r)
                .map(|row| (row.turnout * 100.0, row.capital))
                .collect(),
        })
        .collect();
    // Each rule set's own bar: ten times what its overturn extracts.
    let mut seen: Vec<RuleSet> = Vec::new();
    for row in &f.rows {
        if seen.contains(&row.rules) {
            continue;
        }
        seen.push(row.rules);
        series.push(Series {
            label: format!("{}: 10 × extraction", row.rules.name()),
            points: f
                .rows
                .iter()
                .filter(|x| x.rules == row.rules)
                .map(|x| (x.turnout * 100.0, 10.0 * x.extraction))
                .collect(),
        });
    }
    body += &report.plot(
        "overturn.png",
        &Figure {
            title: "Capital to overturn a correct outcome",
            x_label: "honest turnout (% of honest weight)",
            y_label: "tokens",
            series,
            marks: Vec::new(),
            baseline: None,
            log_y: true,
        },
    )?;
    report.section("Overturning a correct outcome", body);
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn findings() -> Findings {
        let dir = tempfile::tempdir().unwrap();
        let mut report = Report::new(dir.path()).unwrap();
        run(&SimConfig::quick(), &RuleSet::ALL, &mut report).unwrap()
    }

    fn rows(f: &Findings, rules: RuleSet) -> impl Iterator<Item = &Row> {
        f.rows.iter().filter(move |r| r.rules == rules)
    }

    #[test]
    fn revision2_asks_at_least_ten_times_the_extraction_at_every_turnout() {
        let f = findings();
        let cfg = SimConfig::quick();
        let setup = Setup::new(&cfg);
        let unit = setup.unit() as f64 / TOKEN as f64;
        let honest = setup.validators.iter().sum::<u64>() as f64 / TOKEN as f64;
        // Smallest validator weight: flooring stake to units loses < 1 per voter.
        let w = setup.base.min_validator_stake as f64 / TOKEN as f64 / unit;
        let r0 = rows(&f, RuleSet::Revision2).next().unwrap();
        assert_eq!(r0.turnout, 0.0);
        assert!(r0.ratio >= 10.0, "no turnout: {}", r0.ratio);
        for r in rows(&f, RuleSet::Revision2) {
            if r.binding == "n > 66% of active" {
                // The honest-majority bound: the attacker's weight is > 66%
                // of the active weight including its own, ~1.94× the honest.
                assert!(r.capital >= 1.8 * honest, "{r:?}");
                let weight: u64 = setup
                    .validators
                    .iter()
                    .map(|&v| setup.base.vote_weight(v))
                    .sum();
                assert!(r.capital > 0.66 / 0.34 * weight as f64 * unit, "{r:?}");
            }
            assert!(r.ratio >= 10.0 * w / (w + 1.0), "{r:?}");
            assert!(r.ratio >= 10.0, "{r:?}");
        }
        // Dissenters' stake to the reward pool: ten times at every turnout.
        assert!(f.min_ratio_revision2 >= 10.0, "{}", f.min_ratio_revision2);
    }

    #[test]
    fn under_the_first_rules_one_minimum_stake_vote_overturns_unopposed() {
        let f = findings();
        assert!(f.lone_vote_overturns_first);
        let r0 = rows(&f, RuleSet::First).next().unwrap();
        assert_eq!(r0.turnout, 0.0);
        // One 1,000-token node (the challenger itself) plus the 100-token bond.
        assert_eq!(r0.capital, 1_100.0);
        assert_eq!(f.lone_vote_capital_first, 1_100.0);
        assert!(r0.ratio < 1.2, "{}", r0.ratio);
        // With honest turnout, the first rules' capital stays a fraction of the take.
        assert!(rows(&f, RuleSet::First).skip(1).all(|r| r.ratio < 1.0));
    }

    #[test]
    fn splitting_stake_over_identities_does_not_lower_revision2s_capital() {
        let f = findings();
        assert!(!f.split_lowers_revision2);
        for r in rows(&f, RuleSet::Revision2) {
            let [one, three, min] = r.capital_by_split;
            assert_eq!(three, min, "{r:?}");
            // One identity needs honest company to make three voters.
            if r.honest_voters >= 2 {
                assert_eq!(one, min, "{r:?}");
            }
        }
        // Under the first rules splitting is the whole attack.
        for r in rows(&f, RuleSet::First).skip(1) {
            let [one, _, min] = r.capital_by_split;
            assert!(one.is_none() && min.is_some(), "{r:?}");
        }
    }

    #[test]
    fn the_extraction_is_the_liquidated_stake_plus_the_price() {
        let cfg = SimConfig::quick();
        let setup = Setup::new(&cfg);
        let voters = setup.turnout(0.4);
        let ids = Split::MinStake.identities(7, setup.unit()).unwrap();
        let dissenters = voters.iter().map(|&i| setup.validators[i]).sum::<u64>();
        assert_eq!(
            extraction(&setup, RuleSet::Revision2, &voters, &ids),
            setup.miner_stake + setup.price
        );
        assert_eq!(
            extraction(&setup, RuleSet::First, &voters, &ids),
            setup.miner_stake + dissenters + setup.price
        );
    }
}
