//! `verdict-sim`: runs every experiment and writes the report folder.

use std::path::PathBuf;
use std::process::ExitCode;

use clap::Parser;
use verdict_sim::{run_all, Report, RuleSet, SimConfig};

/// An adversarial simulation of the Verdict protocol: does honesty pay, and
/// what does each attack cost, under the first rules and under revision 2.
#[derive(Parser)]
#[command(name = "verdict-sim", version)]
struct Args {
    /// A TOML file of settings (run settings at the top, protocol parameters under [params]).
    #[arg(long)]
    config: Option<PathBuf>,
    /// Override one setting or protocol parameter: NAME=VALUE (repeatable).
    #[arg(long = "set", value_name = "NAME=VALUE")]
    set: Vec<String>,
    /// Rule sets to compare (repeatable; default both).
    #[arg(long = "rules", value_enum)]
    rules: Vec<RuleSet>,
    /// A small run: 100 nodes, a month, 40 trials.
    #[arg(long)]
    quick: bool,
    /// Where the report goes.
    #[arg(long, default_value = "target/sim-report")]
    out: PathBuf,
}

fn main() -> ExitCode {
    let args = Args::parse();
    let base = if args.quick {
        SimConfig::quick()
    } else {
        SimConfig::default()
    };
    let cfg = match args
        .config
        .as_deref()
        .map_or(Ok(base.clone()), |p| base.load(p))
        .and_then(|c| c.set(&args.set))
    {
        Ok(cfg) => cfg,
        Err(e) => {
            eprintln!("verdict-sim: {e}");
            return ExitCode::from(2);
        }
    };
    let rules = if args.rules.is_empty() {
        RuleSet::ALL.to_vec()
    } else {
        args.rules
    };
    let started = std::time::Instant::now();
    let result = Report::new(&args.out).and_then(|mut report| {
        run_all(&cfg, &rules, &mut report)?;
        report.write("Verdict protocol economics")
    });
    match result {
        Ok(path) => {
            println!(
                "report: {} ({:.1} s)",
                path.display(),
                started.elapsed().as_secs_f64()
            );
            ExitCode::SUCCESS
        }
        Err(e) => {
            eprintln!("verdict-sim: {e}");
            ExitCode::FAILURE
        }
    }
}
