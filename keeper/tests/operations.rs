//! What operators install next to the binaries (deploy/): every metric the
//! Grafana dashboard and the alert rules use is one the keeper or the miner
//! exports, promtool accepts the rules, and systemd accepts the units.

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};
use std::process::Command;

fn deploy() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../deploy")
}

/// The metric names a PromQL expression reads: identifiers that are not
/// functions, keywords, label names (in `{…}` or `by (…)`) or durations.
fn metrics_in(expr: &str) -> BTreeSet<String> {
    const KEYWORDS: [&str; 10] = [
        "by",
        "without",
        "on",
        "ignoring",
        "group_left",
        "group_right",
        "and",
        "or",
        "unless",
        "offset",
    ];
    let chars: Vec<char> = expr.chars().collect();
    let mut names = BTreeSet::new();
    let mut i = 0;
    while i < chars.len() {
        let c = chars[i];
        if c == '{' || c == '[' {
            let close = if c == '{' { '}' } else { ']' };
            while i < chars.len() && chars[i] != close {
                i += 1;
            }
            i += 1;
            continue;
        }
        if c.is_ascii_alphabetic() || c == '_' {
            let start = i;
            while i < chars.len()
                && (chars[i].is_ascii_alphanumeric() || chars[i] == '_' || chars[i] == ':')
            {
                i += 1;
            }
            let word: String = chars[start..i].iter().collect();
            let mut next = i;
            while next < chars.len() && chars[next] == ' ' {
                next += 1;
            }
            let call = chars.get(next) == Some(&'(');
            if KEYWORDS.contains(&word.as_str()) {
                if call {
                    // A label list: skip it.
                    while i < chars.len() && chars[i] != ')' {
                        i += 1;
                    }
                }
                continue;
            }
            const AGGREGATIONS: [&str; 12] = [
                "sum",
                "min",
                "max",
                "avg",
                "group",
                "stddev",
                "stdvar",
                "count",
                "count_values",
                "bottomk",
                "topk",
                "quantile",
            ];
            let aggregation = AGGREGATIONS.contains(&word.as_str());
            let after_digit = start > 0 && chars[start - 1].is_ascii_digit();
            if !(call || aggregation || after_digit) {
                names.insert(word);
            }
            continue;
        }
        i += 1;
    }
    names
}

fn exported() -> BTreeSet<String> {
    let keeper = keeper::metrics::Metrics::new();
    let miner = miner::metrics::MinerMetrics::new();
    keeper
        .names()
        .iter()
        .chain(miner.names())
        .flat_map(|n| {
            // Histograms are read through their series.
            ["", "_bucket", "_sum", "_count"].map(|suffix| format!("{n}{suffix}"))
        })
        .collect()
}

fn used() -> BTreeSet<String> {
    let mut exprs = Vec::new();
    let dashboard: serde_json::Value = serde_json::from_str(
        &std::fs::read_to_string(deploy().join("grafana/verdict.json")).unwrap(),
    )
    .unwrap();
    for panel in dashboard["panels"].as_array().unwrap() {
        for target in panel["targets"].as_array().unwrap() {
            exprs.push(target["expr"].as_str().unwrap().to_string());
        }
    }
    let rules = std::fs::read_to_string(deploy().join("prometheus/alerts.yml")).unwrap();
    exprs.extend(
        rules
            .lines()
            .filter_map(|l| l.trim().strip_prefix("expr:"))
            .map(|e| e.trim().to_string()),
    );
    assert!(exprs.len() > 10, "{exprs:?}");
    exprs.iter().flat_map(|e| metrics_in(e)).collect()
}

#[test]
fn the_expression_reader_finds_metrics_only() {
    assert_eq!(
        metrics_in("histogram_quantile(0.95, sum by (le, risk) (rate(dispatch_latency_seconds_bucket{a=\"b\"}[5m])))"),
        BTreeSet::from(["dispatch_latency_seconds_bucket".to_string()])
    );
    assert_eq!(
        metrics_in("committee_expected == 1 and committee_member == 0"),
        BTreeSet::from([
            "committee_expected".to_string(),
            "committee_member".to_string()
        ])
    );
    assert_eq!(
        metrics_in("time() - chain_last_success_timestamp_seconds > 120"),
        BTreeSet::from(["chain_last_success_timestamp_seconds".to_string()])
    );
}

#[test]
fn every_metric_the_dashboard_and_the_alerts_use_is_exported() {
    let exported = exported();
    let missing: Vec<String> = used().difference(&exported).cloned().collect();
    assert!(
        missing.is_empty(),
        "not exported by keeper or miner: {missing:?}"
    );
}

#[test]
fn promtool_accepts_the_alert_rules() {
    let rules = deploy().join("prometheus/alerts.yml");
    let out = Command::new("promtool")
        .args(["check", "rules"])
        .arg(&rules)
        .output()
        .expect("promtool (Debian's prometheus package; scripts/setup.sh installs it)");
    assert!(
        out.status.success(),
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
}

#[test]
fn systemd_accepts_the_units() {
    if Command::new("systemd-analyze")
        .arg("--version")
        .output()
        .is_err()
    {
        println!("skipped: systemd-analyze is not installed on this machine");
        return;
    }
    // The units name the installed binaries: point them at the built ones.
    let keeper = PathBuf::from(env!("CARGO_BIN_EXE_verdict-keeper"));
    let miner = keeper.with_file_name("verdict-miner");
    let dir = tempfile::tempdir().unwrap();
    for (unit, installed, built) in [
        (
            "verdict-keeper.service",
            "/usr/local/bin/verdict-keeper",
            &keeper,
        ),
        (
            "verdict-miner.service",
            "/usr/local/bin/verdict-miner",
            &miner,
        ),
    ] {
        let text = std::fs::read_to_string(deploy().join("systemd").join(unit)).unwrap();
        assert!(text.contains(installed), "{unit} runs {installed}");
        std::fs::write(
            dir.path().join(unit),
            text.replace(installed, &built.display().to_string()),
        )
        .unwrap();
    }
    if !miner.exists() {
        panic!(
            "{} not built: cargo build -p verdict-miner",
            miner.display()
        );
    }
    let out = Command::new("systemd-analyze")
        .arg("verify")
        .arg(dir.path().join("verdict-keeper.service"))
        .arg(dir.path().join("verdict-miner.service"))
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
}
