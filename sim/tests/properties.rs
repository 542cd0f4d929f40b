//! The properties the simulator exists to show, on a small network: under
//! revision 2 honesty pays, overturning a correct outcome costs at least
//! ten times what it extracts, a captured committee loses money and every
//! griefing action costs its author at least its damage; under the first
//! rules the lone vote and the predictable audit are caught failing.

use verdict_sim::{run_all, Report, RuleSet, SimConfig};

#[test]
fn revision_2_holds_and_the_first_rules_fail_where_they_did() {
    let dir = tempfile::tempdir().unwrap();
    let mut report = Report::new(dir.path()).unwrap();
    let cfg = SimConfig {
        trials: 20,
        ..SimConfig::quick()
    };
    let f = run_all(&cfg, &RuleSet::ALL, &mut report).unwrap();
    report.write("test").unwrap();

    // Honesty pays: cheating on any share ≥ 1% earns less (revision 2),
    // while the first rules' predictable audits let an adaptive cheater win.
    let advantage = |r: RuleSet| &f.miners.advantage.iter().find(|(x, _)| *x == r).unwrap().1;
    for (x, e) in advantage(RuleSet::Revision2)
        .iter()
        .filter(|(x, _)| *x >= 100)
    {
        assert!(e.high() < 0.0, "revision 2, cheating on {x} bps: {e}");
    }
    for (x, e) in advantage(RuleSet::First).iter().filter(|(x, _)| *x >= 100) {
        assert!(e.low() > 0.0, "first rules, cheating on {x} bps: {e}");
    }
    assert!(f.miners.conserved, "token conservation");

    // Overturning a correct outcome: ≥ 10× the extraction at every turnout;
    // under the first rules one minimum-stake vote did it.
    assert!(
        f.overturn.min_ratio_revision2 >= 10.0,
        "{}",
        f.overturn.min_ratio_revision2
    );
    assert!(f.overturn.lone_vote_overturns_first);

    // A captured committee's expected profit is negative under revision 2.
    assert!(f.capture.expected_profit_at_20pct_revision2 < 0.0);
    assert!(f.capture.expected_profit_at_20pct_first > 0.0);

    // Griefing costs its author at least the damage (revision 2 only).
    assert!(f.griefing.all_cost_at_least_damage(RuleSet::Revision2));
    assert!(!f.griefing.all_cost_at_least_damage(RuleSet::First));

    // Grinding job ids paid under the first rules; washing loses now.
    let gain = |r: RuleSet| {
        f.grinding
            .rows
            .iter()
            .find(|x| x.rules == r)
            .unwrap()
            .gain_per_job
    };
    assert!(gain(RuleSet::First) > 0.0 && gain(RuleSet::Revision2) < 0.0);

    assert!(dir.path().join("summary.md").exists());
    for plot in [
        "cheating.png",
        "audit_rate.png",
        "overturn.png",
        "capture.png",
    ] {
        assert!(dir.path().join(plot).exists(), "{plot}");
    }
}
