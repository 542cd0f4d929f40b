//! A short run of the whole network (test model and SmolLM2, a few jobs):
//! it finishes, writes the report and its plots, and the report agrees with
//! the chain, generations included.

mod common;

use verdict::state::{JobStatus, ProtocolParams};
use verdict_localnet::network::{run, Options, Target};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_short_run_reports_what_the_chain_holds() {
    verdict_tests::logs::keep_logs();
    let out = tempfile::tempdir().unwrap();
    let opts = Options {
        target: Target::Embedded,
        jobs: 6,
        model: verdict_tests::TEST_MODEL.into(),
        generative_model: Some(verdict_wire::models::SMOLLM2_ID.into()),
        out: out.path().to_path_buf(),
        miner_bin: verdict_tests::bins::miner_bin(),
        concurrency: 6,
        show_progress: false,
        tier3_reserved_bps: 2_000,
    };
    let done = run(&opts).await.expect("the network runs");
    common::assert_report_agrees_with_chain(&done, out.path(), 6, &ProtocolParams::default()).await;
    // Job 1 asked for a generation: if it was paid, its answer was
    // judged against the report's own run as the answering miner (above:
    // an honest miner's answers are all right), and its speed is reported.
    assert_eq!(done.generative_jobs.len(), 1);
    let paid = done
        .generative_jobs
        .iter()
        .filter(|(_, status)| *status == JobStatus::Paid)
        .count();
    let reported: usize = done.report.generation.iter().map(|row| row.jobs).sum();
    assert_eq!(reported, paid, "{:?}", done.report.generation);
    assert!(done
        .written
        .summary
        .contains(&format!("Generation ({paid} answers accepted on chain")));
    for row in &done.report.generation {
        assert!(
            row.tokens > 0 && row.tokens_per_second.iter().all(|&tps| tps > 0.0),
            "{row:?}"
        );
    }
}
