//! `verdict-localnet`: runs a whole local Verdict network and writes its report.

use std::path::PathBuf;

use clap::Parser;
use verdict_localnet::network::{run, Options, Target};

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
    /// Run on a cluster where the program is deployed (fresh: no Config yet)
    /// instead of the embedded chain; repeat for failover URLs.
    #[arg(long = "url")]
    urls: Vec<String>,
    /// With --url: the keypair that pays fees and funds the run's wallets
    /// (the program's upgrade authority if deployed upgradeable).
    #[arg(long, default_value = "~/.config/solana/id.json")]
    payer: String,
}

#[tokio::main]
async fn main() {
    let args = Args::parse();
    let miner_bin = args.miner_bin.unwrap_or_else(|| {
        let exe = std::env::current_exe().expect("current exe");
        exe.with_file_name("verdict-miner")
    });
    let (model, jobs) = if args.quick { ("test-projection-v1".to_string(), 24) } else { (args.model, args.jobs) };
    let target = if args.urls.is_empty() {
        Target::Embedded
    } else {
        let path = match args.payer.strip_prefix("~/") {
            Some(rest) => PathBuf::from(std::env::var("HOME").unwrap_or_default()).join(rest),
            None => PathBuf::from(&args.payer),
        };
        match solana_sdk::signature::read_keypair_file(&path) {
            Ok(payer) => Target::Cluster { urls: args.urls, payer },
            Err(e) => {
                eprintln!("error: cannot read the payer keypair {}: {e}", path.display());
                std::process::exit(1);
            }
        }
    };
    let on_cluster = matches!(target, Target::Cluster { .. });
    let opts = Options { target, jobs, model, out: args.out, miner_bin, concurrency: args.concurrency.max(1), show_progress: true };
    match run(&opts).await {
        Ok(done) => {
            println!("{}", done.written.summary);
            if on_cluster {
                println!("cost to the payer: {:.6} SOL (fees, and rent of the accounts left on chain)", done.lamports_spent as f64 / 1e9);
            }
            println!("report: {}/report.md (plots: trust.png, latency.png)", done.written.dir.display());
        }
        Err(e) => {
            eprintln!("error: {e}");
            std::process::exit(1);
        }
    }
}
