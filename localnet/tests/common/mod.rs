//! What every run of the network must leave, whatever chain it ran on.
#![allow(dead_code)] // each test binary uses part of it

use std::path::Path;

use verdict::state::{Node, ProtocolParams};
use verdict_localnet::network::{Finished, TOKEN};
use verdict_localnet::scenario::GRIEF_TOP_UP;
use verdict_sdk::accounts::AccountSource;

/// The report and its plots are written, every job is accounted for (`jobs`
/// is the number the run was asked for), some
/// were paid, every token is, and each miner's row is what its Node holds.
pub async fn assert_report_agrees_with_chain(
    done: &Finished,
    out: &Path,
    jobs: u64,
    params: &ProtocolParams,
) {
    for file in verdict_localnet::report::FILES {
        assert!(out.join(file).exists(), "{file} written");
    }
    let report = &done.report;
    // The run's jobs, and at most a few more it added so a griefing
    // challenge finds an honest answer.
    assert!(
        (jobs..=jobs + GRIEF_TOP_UP as u64).contains(&done.jobs_submitted),
        "{} jobs submitted for {jobs} asked",
        done.jobs_submitted
    );
    assert_eq!(
        report.jobs_by_outcome.values().sum::<u64>(),
        done.jobs_submitted,
        "every job accounted for: {:?}",
        report.jobs_by_outcome
    );
    assert!(
        report.jobs_by_outcome.get("paid").copied().unwrap_or(0) >= 1,
        "{:?}; what the client was told:\n{}",
        report.jobs_by_outcome,
        report.unserved.join("\n")
    );
    // The market: every accepted answer was won by its miner, none over
    // its fee; the miners all bid, so the auction priced them below the list price.
    let accepted: u64 = ["paid", "solved"]
        .iter()
        .filter_map(|s| report.jobs_by_outcome.get(*s))
        .sum();
    assert_eq!(
        report.sales.iter().filter(|s| s.accepted).count() as u64,
        accepted,
        "{:?}",
        report.sales
    );
    assert!(
        report
            .sales
            .iter()
            .all(|s| s.price > 0.0 && s.price <= s.max_fee),
        "{:?}",
        report.sales
    );
    assert!(
        report.sales.iter().any(|s| s.price < s.max_fee),
        "{:?}",
        report.sales
    );
    // ... and each winning bid went on chain, where the program checked it.
    assert!(report.sales.iter().all(|s| s.by_bid), "{:?}", report.sales);
    assert!(done.written.summary.contains("Market ("));
    assert!(
        report.conservation_violations.is_empty(),
        "{:?}",
        report.conservation_violations
    );
    // Every answer is judged against the reference run: an honest miner's
    // accepted answers are all right, every one the wrong miner gave is wrong.
    for m in &report.miners {
        if m.name.contains("honest") {
            assert_eq!(m.wrong_accepted, 0, "{}", m.name);
        }
        if m.name.contains("wrong") {
            assert!(
                m.outcomes.iter().all(|right| !right),
                "{}: {:?}",
                m.name,
                m.outcomes
            );
        }
    }
    for (row, record) in report.nodes.iter().zip(&report.miners) {
        assert_eq!(
            row.wrong_answers,
            Some(record.wrong_accepted),
            "{}",
            row.name
        );
    }
    for (row, node) in report.nodes.iter().zip(&done.miner_nodes) {
        let n: Node = done.chain.fetch(node).await.unwrap();
        assert_eq!(
            row.stake,
            n.slashable_stake().unwrap() as f64 / TOKEN as f64,
            "{}",
            row.name
        );
        assert_eq!(row.tier, Some(n.reputation.tier(params)), "{}", row.name);
        assert_eq!(
            row.earnings,
            n.total_earned as f64 / TOKEN as f64,
            "{}",
            row.name
        );
        assert_eq!(
            n.owed, 0,
            "{}: the operator withdrew what the node was owed",
            row.name
        );
    }
    // Paid jobs were closed past their challenge window: their co-signers got the validator fee.
    let fees: f64 = report
        .nodes
        .iter()
        .filter(|n| n.role == "validator")
        .map(|n| n.income.validator_fees)
        .sum();
    assert!(fees > 0.0, "validators' fees: {:?}", report.nodes);
    assert!(
        report
            .nodes
            .iter()
            .filter(|n| n.role == "miner")
            .any(|n| n.income.payouts > 0.0),
        "miners' payouts"
    );
    // Every dispute had at least three non-party voters over the turnout
    // quorum, and all but the one a griefer's accomplice voted in were decided.
    for d in &report.disputes {
        assert!(
            d.status == "Upheld"
                || d.status == "Overturned"
                || (d.kind == "griefing" && d.status == "Unresolved"),
            "dispute {} ended {}",
            d.dispute,
            d.status
        );
        let revealed = d.voters.iter().filter(|v| v.vote != "not revealed").count();
        assert!(revealed >= 3, "{}: {revealed} voters", d.dispute);
        assert!(
            d.turnout as u128 * 10_000 >= d.quorum_bps as u128 * d.active_weight as u128,
            "{}: turnout {} of {}",
            d.dispute,
            d.turnout,
            d.active_weight
        );
        assert!(
            d.voters.iter().all(|v| v.name != d.challenger),
            "{}: the challenger may not vote",
            d.dispute
        );
    }
    // The griefing challenge of an honest miner's correct answer: the
    // keepers voted for the disputed output, so it stands; the griefer lost
    // its whole bond to those voters, nobody was liquidated, and the miner
    // is credited nothing (only an unresolved dispute pays it a fee).
    let griefing: Vec<_> = report
        .disputes
        .iter()
        .filter(|d| d.kind == "griefing")
        .collect();
    assert_eq!(
        griefing.len(),
        2,
        "two griefing disputes: {:?}",
        report.disputes
    );
    let g = *griefing
        .iter()
        .find(|d| d.status == "Upheld")
        .expect("the griefer alone: upheld");
    assert!(g.miner.contains("honest"), "{}", g.miner);
    assert_eq!(
        (g.status.as_str(), g.standing.as_deref()),
        ("Upheld", Some("disputed output"))
    );
    assert!(
        g.voters.iter().all(|v| v.vote == "disputed output"),
        "{:?}",
        g.voters
    );
    let t = &g.settlement;
    assert_eq!(
        (t.challenger_lost, t.bond_returned, t.miner_credited),
        (g.bond, 0.0, 0.0)
    );
    assert!(t.liquidated.is_empty(), "{:?}", t.liquidated);
    let rewards: f64 = t.rewards.iter().map(|(_, amount)| amount).sum();
    assert!(
        (rewards - g.bond - t.deposits_forfeited).abs() < 1e-9,
        "the voters share the bond: {rewards} of {}",
        g.bond
    );
    let griefer = report
        .nodes
        .iter()
        .find(|n| n.name == g.challenger)
        .expect("the griefer's row");
    // With an accomplice voting the made-up result, the honest weight stays
    // under 66% of the active weight: unresolved, nobody liquidated, and the
    // griefer pays the unresolved fee to the miner whose payout it held.
    let u = *griefing
        .iter()
        .find(|d| d.status == "Unresolved")
        .expect("the griefer with an accomplice: unresolved");
    assert!(u.miner.contains("honest"), "{}", u.miner);
    assert_eq!(
        u.voters
            .iter()
            .filter(|v| v.vote == "challenger's result")
            .count(),
        1,
        "the accomplice alone votes the made-up result: {:?}",
        u.voters
    );
    let t = &u.settlement;
    let fee = u.bond * params.unresolved_fee_bps as f64 / 10_000.0;
    assert!((t.challenger_lost - fee).abs() < 1e-9, "{t:?}");
    assert!((t.miner_credited - fee).abs() < 1e-9, "{t:?}");
    assert!(t.liquidated.is_empty() && t.rewards.is_empty(), "{t:?}");
    assert!(
        griefer.income.bonds_lost >= g.bond + fee,
        "{:?}",
        griefer.income
    );
}
