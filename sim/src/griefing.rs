//! Experiment `griefing`: for each griefing action at the defaults, the
//! damage it does to others against what it costs its author, under both
//! rule sets. Model: the same network as `overturn` (`cfg.validators` honest
//! validators with drawn stakes, an honest miner at the minimum stake, active
//! weight = validators + miner + the griefer's nodes); honest validators
//! turn out at `cfg.honest_turnout_bps` of their weight (or not at all, at a
//! quiet hour). Every dispute is decided by the program's
//! `Dispute::count`/`decide`, every timeout report counted by the program's
//! `Node::count_timeout_report` and scored with its `TIMEOUT_PENALTY`.
//!
//! Damage model (tokens): a payout frozen for the 24-hour vote is valued at
//! the whole payout (the price) — a conservative upper bound on its time
//! value (at 10% a year a day is worth 0.03% of it); an overturned correct
//! outcome's damage is every honest stake it liquidates plus the miner's
//! payout. Cost = what the author loses, net of what it takes back (negative
//! = a profit). Locked stake that comes back is not a cost.

use rand::seq::SliceRandom;
use rand::SeedableRng;
use verdict::constants::defaults::TOKEN;
use verdict::constants::BPS_DENOMINATOR;
use verdict::instructions::TIMEOUT_PENALTY;
use verdict::state::{Dispute, Node, ProtocolParams, Verdict};

use crate::plot::{Figure, Series};
use crate::rules::open_dispute;
use crate::{network, Report, RuleSet, SimConfig, SimError};

const OUT: [u8; 32] = [1; 32];
const WRONG: [u8; 32] = [2; 32];

/// What an action's damage is counted in.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Unit {
    Tokens,
    /// Validator score points within one committee epoch (the reports'
    /// counting period).
    ScorePoints,
}

/// One griefing action under one rule set.
#[derive(Clone, Debug)]
pub struct Action {
    pub name: String,
    pub rules: RuleSet,
    pub damage: f64,
    pub cost: f64,
    pub unit: Unit,
    /// How the dispute ended, or what the reports did.
    pub outcome: String,
}

impl Action {
    /// Whether the author pays at least the damage it does. A score action
    /// passes when one committee epoch's reports cannot take an honest
    /// validator from its initial score out of the draw.
    pub fn cost_at_least_damage(&self, params: &ProtocolParams) -> bool {
        match self.unit {
            Unit::Tokens => self.cost >= self.damage,
            Unit::ScorePoints => {
                (params.initial_validator_score as f64 - self.damage)
                    >= params.min_validator_score as f64
            }
        }
    }

    /// cost / damage (∞ when nothing is damaged at a cost, NaN for 0/0).
    pub fn ratio(&self) -> f64 {
        self.cost / self.damage
    }
}

#[derive(Clone, Debug, Default)]
pub struct Findings {
    pub actions: Vec<Action>,
    /// Tokens an accomplice must stake (and risks: nothing) to keep a
    /// frivolous challenge unresolved at the configured turnout, per rule set.
    pub accomplice_stake: Vec<(RuleSet, f64)>,
    /// Committee epochs of capped reports that take an honest validator
    /// from its initial score below the minimum, per rule set.
    pub report_epochs_to_exclude: Vec<(RuleSet, u32)>,
    base: ProtocolParams,
}

impl Findings {
    /// Whether every action under `rules` costs its author at least the
    /// damage it does.
    pub fn all_cost_at_least_damage(&self, rules: RuleSet) -> bool {
        let params = rules.params(&self.base);
        self.actions
            .iter()
            .filter(|a| a.rules == rules)
            .all(|a| a.cost_at_least_damage(&params))
    }
}

/// The network a griefer works in.
struct Net {
    base: ProtocolParams,
    validators: Vec<u64>,
    /// Validators revealing at the configured turnout.
    turnout: Vec<usize>,
    miner_stake: u64,
    price: u64,
}

impl Net {
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
        // The first validators in a random order until their weight reaches
        // the configured share of the honest weight.
        let total: u64 = validators.iter().map(|&s| base.vote_weight(s)).sum();
        let want = total as u128 * cfg.honest_turnout_bps as u128;
        let mut sum = 0u128;
        let turnout = order
            .into_iter()
            .take_while(|&i| {
                let more = sum * (BPS_DENOMINATOR as u128) < want;
                sum += base.vote_weight(validators[i]) as u128;
                more
            })
            .collect();
        Net {
            miner_stake: base.min_miner_stake,
            base,
            validators,
            turnout,
            price: cfg.price,
        }
    }

    fn min_node(&self) -> u64 {
        self.base.min_miner_stake.max(self.base.vote_unit)
    }

    /// A dispute of the miner's correct output: honest validators (`honest`
    /// turn out or nobody) reveal the correct output, the griefer's voting
    /// nodes `wrong` the challenger's result. Under revision 2 the
    /// challenger is one more minimum-stake node that may not vote.
    fn dispute(&self, rules: RuleSet, honest: bool, wrong: &[u64]) -> (Dispute, Verdict) {
        let params = rules.params(&self.base);
        let w = |s: u64| rules.vote_weight(s, &params);
        let challenger = if rules.parties_vote() {
            0
        } else {
            w(self.min_node())
        };
        let active = self.validators.iter().map(|&s| w(s)).sum::<u64>()
            + w(self.miner_stake)
            + wrong.iter().map(|&s| w(s)).sum::<u64>()
            + challenger;
        let mut d = open_dispute(OUT, WRONG, rules.bond(self.price, &self.base), active);
        if honest {
            for &i in &self.turnout {
                d.count(OUT, w(self.validators[i]));
            }
        }
        for &s in wrong {
            d.count(WRONG, w(s));
        }
        let v = d.decide(&rules.dispute_rules(&params));
        (d, v)
    }

    /// (damage, cost, outcome) of a frivolous challenge decided as `v`, the
    /// griefer's voting nodes holding `wrong`, per the resolution table.
    fn settle(
        &self,
        rules: RuleSet,
        honest: bool,
        wrong: &[u64],
        v: Verdict,
    ) -> (f64, f64, String) {
        let params = rules.params(&self.base);
        let bond = rules.bond(self.price, &self.base) as f64;
        let held = self.price as f64; // the payout frozen for the vote, valued whole
        let staked: u64 = wrong.iter().sum();
        match v {
            Verdict::Stands { result, .. } if result == OUT => (
                held,
                // Bond to the pool, and the griefer's voters against R liquidated.
                bond + staked as f64,
                verdict_name(v),
            ),
            Verdict::Stands { .. } => {
                let voters: u64 = if honest {
                    self.turnout.iter().map(|&i| self.validators[i]).sum()
                } else {
                    0
                };
                let liquidated = (self.miner_stake + voters) as f64;
                // The griefer's voters are the only ones for R: they share the
                // whole pool; the bond comes back.
                (liquidated + held, -liquidated, verdict_name(v))
            }
            Verdict::Unresolved { .. } => (
                held,
                bond * params.unresolved_fee_bps as f64 / BPS_DENOMINATOR as f64,
                verdict_name(v),
            ),
        }
    }
}

fn verdict_name(v: Verdict) -> String {
    match v {
        Verdict::Stands { result, n, m } if result == OUT => format!("upheld (n {n}, m {m})"),
        Verdict::Stands { n, m, .. } => format!("overturned (n {n}, m {m})"),
        Verdict::Unresolved { n, m } => format!("unresolved (n {n}, m {m})"),
    }
}

fn action(
    name: &str,
    rules: RuleSet,
    (damage, cost, outcome): (f64, f64, String),
    unit: Unit,
) -> Action {
    let scale = if unit == Unit::Tokens {
        TOKEN as f64
    } else {
        1.0
    };
    Action {
        name: name.into(),
        rules,
        damage: damage / scale,
        cost: cost / scale,
        unit,
        outcome,
    }
}

/// Least accomplice stake (in minimum nodes, one node) that keeps the
/// frivolous challenge from being upheld at the configured turnout.
fn accomplice(net: &Net, rules: RuleSet) -> (Vec<u64>, Verdict) {
    let unit = net.min_node();
    // One vote per node under the first rules: the accomplice brings that
    // many minimum nodes; under revision 2 one node of that many units.
    let nodes = |k: u64| -> Vec<u64> {
        if rules == RuleSet::First {
            vec![unit; k as usize]
        } else {
            vec![k * unit]
        }
    };
    let upheld = |k: u64| {
        matches!(net.dispute(rules, true, &nodes(k)).1,
                 Verdict::Stands { result, .. } if result == OUT)
    };
    let (mut lo, mut hi) = (0u64, 1u64);
    while upheld(hi) {
        lo = hi;
        hi *= 2;
    }
    while hi - lo > 1 {
        let mid = (lo + hi) / 2;
        if upheld(mid) {
            lo = mid;
        } else {
            hi = mid;
        }
    }
    let ids = nodes(hi);
    let v = net.dispute(rules, true, &ids).1;
    (ids, v)
}

/// Committee epochs a captured quorum needs, filing every report it can,
/// to push an honest validator from its initial score below the minimum.
fn report_spam(params: &ProtocolParams, cap: u8, reports_per_epoch: u32) -> (u32, u32) {
    let mut node = Node::default();
    node.validator_score = params.initial_validator_score;
    let mut first_epoch_loss = 0;
    for epoch in 1..=100u64 {
        for _ in 0..reports_per_epoch {
            if node.count_timeout_report(epoch, cap) {
                node.adjust_validator_score(TIMEOUT_PENALTY);
            }
        }
        if epoch == 1 {
            first_epoch_loss = (params.initial_validator_score - node.validator_score) as u32;
        }
        if node.validator_score < params.min_validator_score {
            return (first_epoch_loss, epoch as u32);
        }
    }
    (first_epoch_loss, u32::MAX)
}

pub fn run(cfg: &SimConfig, rules: &[RuleSet], report: &mut Report) -> Result<Findings, SimError> {
    let net = Net::new(cfg);
    let mut f = Findings {
        base: cfg.params,
        ..Findings::default()
    };
    let unit = net.min_node();
    for &r in rules {
        let params = r.params(&net.base);

        // 1. A frivolous challenge of a correct answer, honest voters at the
        // configured turnout; the challenger does not vote (under the first
        // rules it could, and would be liquidated for it).
        let (_, v) = net.dispute(r, true, &[]);
        let upheld = net.settle(r, true, &[], v);
        f.actions.push(action(
            "frivolous challenge, honest turnout",
            r,
            upheld,
            Unit::Tokens,
        ));

        // 1b. An accomplice votes the wrong result with just enough weight to
        // keep the correct output under the bar: unresolved, nobody liquidated,
        // so the accomplice's stake is locked, never at risk.
        let (ids, v) = accomplice(&net, r);
        let (damage, cost, outcome) = net.settle(r, true, &[], v);
        f.accomplice_stake
            .push((r, ids.iter().sum::<u64>() as f64 / TOKEN as f64));
        f.actions.push(action(
            "frivolous challenge + accomplice blocking the bar",
            r,
            (damage, cost, outcome),
            Unit::Tokens,
        ));

        // 1c. A quiet hour: nobody else reveals, one minimum-stake node votes
        // the wrong result (under the first rules the challenger itself).
        let lone = [unit];
        let (_, v) = net.dispute(r, false, &lone);
        let grief = net.settle(r, false, &lone, v);
        f.actions.push(action(
            "lone griefing vote, no turnout",
            r,
            grief,
            Unit::Tokens,
        ));

        // 2. Commit and never reveal: the voter keeps the option of revealing
        // only when on the winning side. Nobody else loses tokens by it (the
        // forfeit goes to the correct voters): damage 0; cost the deposit.
        f.actions.push(action(
            "commit, never reveal (free option)",
            r,
            (0.0, params.vote_deposit as f64, "deposit forfeited".into()),
            Unit::Tokens,
        ));

        // 3. Sybil voters: the stake that outvotes the honest turnout under
        // the first rules when split into minimum-stake identities, voting
        // the wrong result — split here, and as one node for comparison.
        let k = sybil_identities(&net);
        let split = vec![unit; k as usize];
        let (_, v_split) = net.dispute(r, true, &split);
        let (_, v_one) = net.dispute(r, true, &[k * unit]);
        let (damage, cost, outcome) = net.settle(r, true, &split, v_split);
        // Splitting matters only if the same stake as one node decides otherwise.
        let same = v_split == v_one;
        f.actions.push(action(
            &format!("{k} Sybil identities of one minimum stake"),
            r,
            (
                damage,
                cost,
                format!(
                    "{outcome}; as one node: {}",
                    if same {
                        "the same".to_string()
                    } else {
                        verdict_name(v_one)
                    }
                ),
            ),
            Unit::Tokens,
        ));

        // 4. Timeout-report spam by a captured committee quorum against an
        // honest member, one report per job the committee handles (a
        // committee epoch serves far more jobs than the cap). Revision 2
        // counts at most `max_timeout_reports_per_epoch` per member per
        // committee epoch; the first rules took invented reports without a
        // cap (security table, rule 14), modelled as a cap of 255.
        let cap = if r == RuleSet::First {
            u8::MAX
        } else {
            params.max_timeout_reports_per_epoch
        };
        let (loss, epochs) = report_spam(&params, cap, 100);
        f.report_epochs_to_exclude.push((r, epochs));
        f.actions.push(action(
            "timeout-report spam (captured quorum)",
            r,
            (
                loss as f64,
                0.0,
                format!(
                    "score {} → {} in one committee epoch; below {} after {epochs} epoch(s)",
                    params.initial_validator_score,
                    params.initial_validator_score as u32
                        - loss.min(params.initial_validator_score as u32),
                    params.min_validator_score
                ),
            ),
            Unit::ScorePoints,
        ));
    }
    write_section(&net, &f, report)?;
    Ok(f)
}

/// Least number of minimum-stake identities that overturn the honest
/// turnout under the first rules (one vote each).
fn sybil_identities(net: &Net) -> u64 {
    let unit = net.min_node();
    let wins = |k: u64| {
        matches!(net.dispute(RuleSet::First, true, &vec![unit; k as usize]).1,
                 Verdict::Stands { result, .. } if result == WRONG)
    };
    let mut k = 1;
    while !wins(k) {
        k += 1;
    }
    k
}

fn write_section(net: &Net, f: &Findings, report: &mut Report) -> Result<(), SimError> {
    let t = TOKEN as f64;
    let mut body = format!(
        "Each griefing action at the defaults, decided by the program's code (`Dispute::decide`, \
         `Node::count_timeout_report`). A price of {:.3} tokens; an honest miner at {:.0} tokens; \
         {} honest validators, {} of whom reveal (the configured turnout). Damage to others: a \
         payout frozen for the 24 h vote counts as the whole payout (a conservative upper \
         bound on its time value), an overturn as every honest stake it liquidates plus the \
         payout; cost: what the author loses net of what it takes back (negative: a profit). \
         Ratio = cost / damage: ≥ 1 means the author pays at least the damage.\n\n\
         | action | rules | outcome | damage | cost | cost / damage |\n|---|---|---|---|---|---|\n",
        net.price as f64 / t,
        net.miner_stake as f64 / t,
        net.validators.len(),
        net.turnout.len(),
    );
    for a in &f.actions {
        let (damage, cost) = match a.unit {
            Unit::Tokens => (
                format!("{:.2} tokens", a.damage),
                format!("{:.2} tokens", a.cost),
            ),
            Unit::ScorePoints => (
                format!("{:.0} score points", a.damage),
                "0 (signatures)".into(),
            ),
        };
        let ratio = match a.unit {
            Unit::ScorePoints => "—".into(),
            Unit::Tokens if a.damage == 0.0 && a.cost == 0.0 => "0 / 0".into(),
            Unit::Tokens => format!("{:.2}", a.ratio()),
        };
        body += &format!(
            "| {} | {} | {} | {damage} | {cost} | {ratio} |\n",
            a.name,
            a.rules.name(),
            a.outcome
        );
    }
    for (r, stake) in &f.accomplice_stake {
        body += &format!(
            "\n- {}: the accomplice keeping a frivolous challenge unresolved stakes {stake:.0} \
             tokens and risks nothing (an unresolved dispute liquidates nobody; its deposit \
             comes back at reveal); the miner is credited the unresolved fee.",
            r.name()
        );
    }
    for r in RuleSet::ALL {
        if f.actions.iter().any(|a| a.rules == r) {
            body += &format!(
                "\n- {}: every action costs its author at least its damage: {}.",
                r.name(),
                f.all_cost_at_least_damage(r)
            );
        }
    }
    body += "\n- Timeout reports cost nothing but the captured quorum's signatures; the score \
             is the damage. Under revision 2 the cap keeps an honest validator in the draw for \
             the committee epoch, but a quorum that sits with the same member for consecutive \
             committee epochs still takes it out (the +1 per co-signed outcome it earns meanwhile \
             is not counted here).\n\n";
    let series = RuleSet::ALL
        .iter()
        .filter(|r| f.actions.iter().any(|a| a.rules == **r))
        .map(|&r| Series {
            label: format!("{}: cost / damage", r.name()),
            points: f
                .actions
                .iter()
                .filter(|a| a.rules == r && a.unit == Unit::Tokens)
                .enumerate()
                .map(|(i, a)| (i as f64 + 1.0, a.ratio()))
                // Log scale: a free or profitable action (ratio ≤ 0) sits at
                // the floor; no-damage actions (∞, 0/0) are left off.
                .filter(|&(_, y)| y.is_finite())
                .map(|(x, y)| (x, y.max(0.01)))
                .collect(),
        })
        .collect();
    body += &report.plot(
        "griefing.png",
        &Figure {
            title: "Griefing: cost / damage (token actions; ≤ 0 drawn at 0.01)",
            x_label: "action (table order, token actions)",
            y_label: "cost / damage",
            series,
            marks: Vec::new(),
            baseline: Some(1.0),
            log_y: true,
        },
    )?;
    report.section("Griefing", body);
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

    fn find<'a>(f: &'a Findings, rules: RuleSet, name: &str) -> &'a Action {
        f.actions
            .iter()
            .find(|a| a.rules == rules && a.name.contains(name))
            .unwrap()
    }

    #[test]
    fn under_revision2_every_griefing_action_costs_at_least_its_damage() {
        // Damage: a frozen payout at its whole value, an overturn at the
        // stake it liquidates; cost: the author's net loss (see the module doc).
        let f = findings();
        let params = RuleSet::Revision2.params(&SimConfig::quick().params);
        for a in f.actions.iter().filter(|a| a.rules == RuleSet::Revision2) {
            assert!(a.cost_at_least_damage(&params), "{a:?}");
        }
        assert!(f.all_cost_at_least_damage(RuleSet::Revision2));
        // The frivolous challenge loses the whole bond (100 tokens) when
        // upheld, 10% of it when an accomplice keeps it unresolved.
        assert_eq!(find(&f, RuleSet::Revision2, "honest turnout").cost, 100.0);
        assert_eq!(find(&f, RuleSet::Revision2, "accomplice").cost, 10.0);
        assert_eq!(find(&f, RuleSet::Revision2, "never reveal").cost, 10.0);
        // One committee epoch of capped reports: 3 × 5 points, 50 → 35.
        assert_eq!(find(&f, RuleSet::Revision2, "timeout").damage, 15.0);
    }

    #[test]
    fn under_the_first_rules_a_lone_griefing_vote_liquidates_the_miner_for_free() {
        let f = findings();
        let a = find(&f, RuleSet::First, "lone griefing vote");
        assert!(a.outcome.starts_with("overturned"), "{a:?}");
        // The miner's whole stake (1,000 tokens) and its payout (1 token).
        assert_eq!(a.damage, 1_001.0);
        assert!(a.cost <= 0.0, "{a:?}");
        assert!(!f.all_cost_at_least_damage(RuleSet::First));
        // Unresolved costs nothing, and invented reports take a validator out at once.
        assert_eq!(find(&f, RuleSet::First, "accomplice").cost, 0.0);
        assert!(f.report_epochs_to_exclude.contains(&(RuleSet::First, 1)));
    }

    #[test]
    fn sybil_identities_weigh_what_one_stake_weighs_under_revision2_only() {
        let net = Net::new(&SimConfig::quick());
        let k = sybil_identities(&net);
        let unit = net.min_node();
        let split = vec![unit; k as usize];
        let decide = |r: RuleSet, wrong: &[u64]| net.dispute(r, true, wrong).1;
        assert_eq!(
            decide(RuleSet::Revision2, &split),
            decide(RuleSet::Revision2, &[k * unit])
        );
        assert!(matches!(decide(RuleSet::First, &split),
                         Verdict::Stands { result, .. } if result == WRONG));
        assert!(matches!(decide(RuleSet::First, &[k * unit]),
                         Verdict::Stands { result, .. } if result == OUT));
    }
}
