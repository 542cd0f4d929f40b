//! Renders a report from synthetic outcomes (0%, 5%, 30% errors) to see the plots.
use std::collections::BTreeMap;
use verdict_localnet::report::{write_report, MinerRecord, ReportInput};
use verdict_localnet::stats::Timing;

fn outcomes(error_percent: u64, jobs: u64) -> Vec<bool> {
    (0..jobs)
        .map(|i| {
            !(error_percent > 0 && (i * error_percent) / 100 != ((i + 1) * error_percent) / 100)
        })
        .collect()
}

fn main() {
    let dir = std::env::args()
        .nth(1)
        .unwrap_or_else(|| "target/sample-report".into());
    let timings = (0..500)
        .map(|i| Timing {
            response_ms: 12.0 + ((i * 37) % 29) as f64,
            load_ms: ((i * 13) % 7) as f64,
            inference_ms: 9.0 + ((i * 7) % 11) as f64,
        })
        .collect();
    let miners = [
        ("honest-1", 0),
        ("honest-2", 2),
        ("erring-5%", 5),
        ("flaky-30%", 30),
    ]
    .map(|(n, e)| MinerRecord {
        name: n.into(),
        outcomes: outcomes(e, 500),
        wrong_accepted: 0,
    })
    .to_vec();
    let input = ReportInput {
        jobs_by_outcome: BTreeMap::new(),
        timings,
        sales: vec![],
        generation: vec![],
        miners,
        nodes: vec![],
        penalties: vec![],
        disputes: vec![],
        conservation_violations: vec![],
        unserved: vec![],
        seconds: 0.0,
    };
    let written = write_report(std::path::Path::new(&dir), &input).unwrap();
    println!("{}\nwritten to {}", written.summary, written.dir.display());
}
