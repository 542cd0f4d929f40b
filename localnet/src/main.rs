//! `verdict-localnet`: runs a whole local Verdict network and writes its report.

use std::path::PathBuf;

use clap::Parser;
use verdict_localnet::network::{run, Options};

#[derive(Parser)]
#[command(about = "Run a whole local Verdict network (embedded chain, keeper, miners, clients) and write a report")]
struct Args {
    /// Jobs the clients submit.
    #[arg(long, default_value_t = 160)]
    jobs: usize,
    /// Model the clients ask for.
    #[arg(long, default_value = "all-minilm-l6-v2")]
    model: String,
    /// Folder for the report and its plots.
    #[arg(long, default_value = "target/localnet-report")]
    out: PathBuf,
    /// The verdict-miner binary (default: next to this one).
    #[arg(long)]
    miner_bin: Option<PathBuf>,
    /// Jobs in flight at once.
    #[arg(long, default_value_t = 8)]
    concurrency: usize,
    /// A quick run: the test model and 24 jobs.
    #[arg(long)]
    quick: bool,
}

#[tokio::main]
async fn main() {
    let args = Args::parse();
    let miner_bin = args.miner_bin.unwrap_or_else(|| {
        let exe = std::env::current_exe().expect("current exe");
        exe.with_file_name("verdict-miner")
    });
    let (model, jobs) = if args.quick { ("test-projection-v1".to_string(), 24) } else { (args.model, args.jobs) };
    let opts = Options { jobs, model, out: args.out, miner_bin, concurrency: args.concurrency.max(1), show_progress: true };
    match run(&opts).await {
        Ok(done) => {
            println!("{}", done.written.summary);
            println!("report: {}/report.md (plots: trust.png, latency.png)", done.written.dir.display());
        }
        Err(e) => {
            eprintln!("error: {e}");
            std::process::exit(1);
        }
    }
}
