//! `verdict-localnet`: runs a whole local Verdict network and writes its report.

use std::io::Write;
use std::path::{Path, PathBuf};

use clap::Parser;
use verdict_localnet::network::{run, Options, Target};
use verdict_localnet::serve::{serve, Ready, ServeOptions};

/// A quick run's jobs and fair-entry share. 32 jobs, about 27 of them low
/// risk, in batches of 8 that each see the same routing snapshot: at the
/// default 20% only about 5 would be reserved for the four miners the best
/// four crowd out, and some miner would often get none (so would it at 50%
/// with 24 jobs, about one run in four); at 50% of 32, about one in a
/// hundred and fifty.
const QUICK_JOBS: usize = 32;
const QUICK_TIER3_RESERVED_BPS: u16 = 5_000;

#[derive(Parser)]
#[command(
    about = "Run a whole local Verdict network (embedded chain, keeper, miners, clients) and write a report"
)]
struct Args {
    /// Jobs the clients submit.
    #[arg(long, default_value_t = 160)]
    jobs: usize,
    /// Model the clients ask for.
    #[arg(long, default_value = "all-minilm-l6-v2")]
    model: String,
    /// Generative model one job in sixteen asks for (default: SmolLM2 in a
    /// full run, none in a quick one).
    #[arg(long, conflicts_with = "no_generation")]
    generative_model: Option<String>,
    /// No generative jobs.
    #[arg(long)]
    no_generation: bool,
    /// Folder for the report and its plots.
    #[arg(long, default_value = "target/localnet-report")]
    out: PathBuf,
    /// The verdict-miner binary (default: next to this one).
    #[arg(long)]
    miner_bin: Option<PathBuf>,
    /// Jobs in flight at once.
    #[arg(long, default_value_t = 8)]
    concurrency: usize,
    /// A quick run: the test model and 32 jobs (the keepers reserve 50% of
    /// low-risk jobs for Tier 3 miners, so each miner gets some).
    #[arg(long)]
    quick: bool,
    /// The keepers' fair-entry share: bps of low-risk jobs reserved for Tier 3
    /// miners (default: the keeper's 2000; 5000 with --quick).
    #[arg(long)]
    tier3_reserved_bps: Option<u16>,
    /// Run on a cluster where the program is deployed (fresh: no Config yet)
    /// instead of the embedded chain; repeat for failover URLs.
    #[arg(long = "url")]
    urls: Vec<String>,
    /// With --url: the keypair that pays fees and funds the run's wallets
    /// (the program's upgrade authority if deployed upgradeable).
    #[arg(long, default_value = "~/.config/solana/id.json")]
    payer: String,
    /// Serve the network for a dApp to integrate against instead of running
    /// the main job: the embedded chain behind a JSON-RPC endpoint, 5
    /// keepers, 3 honest miners and a funded wallet (written to --out), until
    /// ctrl-c. Prints `ready {json}` with the RPC URL, the keeper URLs, the
    /// program id and the wallet's keypair path once it serves.
    #[arg(long, conflicts_with = "urls")]
    serve: bool,
}

/// On the host, solana-msg prints the natively run program's `msg!` lines
/// (a refusal the keepers expect, such as a liquidation another keeper
/// cranked first) to stdout: send them to `path` rather than across the
/// progress display. Returns the original stdout, for the summary.
fn program_logs_to(path: &Path) -> std::io::Result<std::fs::File> {
    use std::os::fd::{AsRawFd, FromRawFd};
    let log = std::fs::File::create(path)?;
    // SAFETY: descriptor duplication only; `terminal` is a fresh descriptor
    // owned by the returned File, and fd 1 stays open (now on the log).
    unsafe {
        let terminal = libc::dup(1);
        if terminal < 0 {
            return Err(std::io::Error::last_os_error());
        }
        let terminal = std::fs::File::from_raw_fd(terminal);
        if libc::dup2(log.as_raw_fd(), 1) < 0 {
            return Err(std::io::Error::last_os_error());
        }
        Ok(terminal)
    }
}

/// Resolves on ctrl-c (SIGINT) or SIGTERM.
async fn stop_signal() {
    use tokio::signal::unix::{signal, SignalKind};
    let mut term = signal(SignalKind::terminate()).expect("SIGTERM handler");
    tokio::select! {
        _ = tokio::signal::ctrl_c() => {}
        _ = term.recv() => {}
    }
}

#[tokio::main]
async fn main() {
    let args = Args::parse();
    let miner_bin = args.miner_bin.unwrap_or_else(|| {
        let exe = std::env::current_exe().expect("current exe");
        exe.with_file_name("verdict-miner")
    });
    let (model, jobs) = if args.quick {
        (
            verdict_wire::models::TEST_PROJECTION_ID.to_string(),
            QUICK_JOBS,
        )
    } else {
        (args.model, args.jobs)
    };
    let generative_model = match (args.generative_model, args.no_generation, args.quick) {
        (_, true, _) => None,
        (Some(model), _, _) => Some(model),
        (None, false, false) => Some(verdict_wire::models::SMOLLM2_ID.to_string()),
        (None, false, true) => None,
    };
    let target = if args.urls.is_empty() {
        Target::Embedded
    } else {
        let path = verdict_sdk::paths::expand_home(&args.payer);
        match solana_sdk::signature::read_keypair_file(&path)
            .map_err(|e| format!("{}: {e}", path.display()))
        {
            Ok(payer) => Target::Cluster {
                urls: args.urls,
                payer: Box::new(payer),
            },
            Err(e) => {
                eprintln!("error: the payer: {e}");
                std::process::exit(1);
            }
        }
    };
    let on_cluster = matches!(target, Target::Cluster { .. });
    let mut terminal: Box<dyn Write> = Box::new(std::io::stdout());
    if !on_cluster {
        let log = args.out.join("program.log");
        match std::fs::create_dir_all(&args.out).and_then(|_| program_logs_to(&log)) {
            Ok(stdout) => terminal = Box::new(stdout),
            Err(e) => eprintln!(
                "warning: the program's log lines stay on stdout ({}: {e})",
                log.display()
            ),
        }
    }
    let default_share = if args.quick {
        QUICK_TIER3_RESERVED_BPS
    } else {
        keeper::core::routing::RoutingWeights::default().tier3_reserved_bps
    };
    let tier3_reserved_bps = args.tier3_reserved_bps.unwrap_or(default_share).min(10_000);
    if args.serve {
        let opts = ServeOptions {
            model,
            generative_model: generative_model.clone(),
            miner_bin,
            dir: args.out,
            tier3_reserved_bps,
        };
        let announce = |ready: &Ready| {
            let text = format!(
                "Verdict network serving (ctrl-c stops it)\n\
                 RPC URL:       {}\n\
                 keepers:       {}\n\
                 program id:    {}\n\
                 wallet:        {} (token account {}, mint {})\n\
                 model:         {}{} (max fee {} base units; the minimum is {})\n\
                 miners start with an earned record (20 jobs, trial passed): every risk level is served\n\
                 ready {}\n",
                ready.rpc_url,
                ready.keepers.join(" "),
                ready.program_id,
                ready.wallet.display(),
                ready.token_account,
                ready.mint,
                ready.model,
                ready
                    .generative_model
                    .as_ref()
                    .map_or(String::new(), |g| format!(", generative {g}")),
                ready.job_fee,
                ready.min_job_fee,
                serde_json::to_string(ready).expect("ready serializes"),
            );
            let _ = terminal
                .write_all(text.as_bytes())
                .and_then(|_| terminal.flush());
        };
        if let Err(e) = serve(&opts, announce, stop_signal()).await {
            eprintln!("error: {e}");
            std::process::exit(1);
        }
        return;
    }
    let opts = Options {
        target,
        jobs,
        model,
        generative_model,
        out: args.out,
        miner_bin,
        concurrency: args.concurrency.max(1),
        show_progress: true,
        tier3_reserved_bps,
    };
    match run(&opts).await {
        Ok(done) => {
            let mut summary = done.written.summary.clone();
            if on_cluster {
                summary += &format!(
                    "cost to the payer: {:.6} SOL (fees, and rent of the accounts left on chain)\n",
                    done.lamports_spent as f64 / 1e9
                );
            }
            summary += &format!(
                "report: {}/report.md (plots: {})\n",
                done.written.dir.display(),
                verdict_localnet::report::PLOTS.join(", ")
            );
            let _ = terminal
                .write_all(summary.as_bytes())
                .and_then(|_| terminal.flush());
        }
        Err(e) => {
            eprintln!("error: {e}");
            std::process::exit(1);
        }
    }
}
