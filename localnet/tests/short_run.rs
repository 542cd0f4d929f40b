//! A short run of the whole network (test model, a few jobs): it finishes,
//! writes the report and its plots, and the report agrees with the chain.

use verdict::state::{Node, ProtocolParams};
use verdict_localnet::network::{run, Options, Target, TOKEN};
use verdict_sdk::accounts::AccountSource;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_short_run_reports_what_the_chain_holds() {
    let out = tempfile::tempdir().unwrap();
    let exe = std::env::current_exe().unwrap();
    let miner_bin = exe.parent().unwrap().parent().unwrap().join("verdict-miner");
    assert!(miner_bin.exists(), "build the miner first: cargo build -p verdict-miner");
    let opts = Options {
        target: Target::Embedded,
        jobs: 6,
        model: "test-projection-v1".into(),
        out: out.path().to_path_buf(),
        miner_bin,
        concurrency: 6,
        show_progress: false,
    };
    let done = run(&opts).await.expect("the network runs");
    for file in ["report.md", "report.json", "trust.png", "latency.png"] {
        assert!(out.path().join(file).exists(), "{file} written");
    }
    let report = &done.report;
    assert_eq!(report.jobs_by_outcome.values().sum::<u64>(), 6, "every job accounted for: {:?}", report.jobs_by_outcome);
    assert!(report.jobs_by_outcome.get("paid").copied().unwrap_or(0) >= 1, "{:?}", report.jobs_by_outcome);
    assert!(report.conservation_violations.is_empty(), "{:?}", report.conservation_violations);
    let chain = done.chain.clone();
    let params = ProtocolParams::default();
    for (row, node) in report.nodes.iter().zip(&done.miner_nodes) {
        let n: Node = chain.fetch(node).await.unwrap();
        assert_eq!(row.stake, n.slashable_stake().unwrap() as f64 / TOKEN as f64, "{}", row.name);
        assert_eq!(row.tier, Some(n.reputation.tier(&params)), "{}", row.name);
        assert_eq!(row.earnings, n.total_earned as f64 / TOKEN as f64, "{}", row.name);
    }
}
