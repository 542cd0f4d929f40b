//! `verdict`: parses the command line, connects over JSON-RPC, runs the
//! command through the library and prints text or JSON. Every failure is
//! one line on stderr and a non-zero exit (2: bad input, 1: refused or failed).

use std::io::IsTerminal;
use std::process::ExitCode;
use std::sync::Arc;

use clap::error::ErrorKind;
use clap::Parser;
use verdict_chain::{Chain, RpcChain, RpcConfig};
use verdict_cli::error::{EXIT_BAD_INPUT, EXIT_FAILURE};
use verdict_cli::{env, run, settings, Cli, CliError, Env};

fn main() -> ExitCode {
    let cli = match Cli::try_parse() {
        Ok(cli) => cli,
        Err(e) if matches!(e.kind(), ErrorKind::DisplayHelp | ErrorKind::DisplayVersion) => {
            print!("{}", e.render());
            return ExitCode::SUCCESS;
        }
        Err(e) if e.kind() == ErrorKind::DisplayHelpOnMissingArgumentOrSubcommand => {
            eprint!("{}", e.render());
            return ExitCode::from(EXIT_BAD_INPUT as u8);
        }
        Err(e) => return fail_line(&first_paragraph(&e.render().to_string()), EXIT_BAD_INPUT),
    };
    match build_env(&cli).and_then(|env| execute(cli, env)) {
        Ok(text) => {
            print!("{text}");
            ExitCode::SUCCESS
        }
        Err(e) => fail_line(&format!("error: {e}"), e.exit_code()),
    }
}

fn execute(cli: Cli, env: Env) -> Result<String, CliError> {
    let format = cli.global.output;
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .map_err(|e| CliError::Chain(format!("cannot start the async runtime: {e}")))?;
    runtime
        .block_on(run(cli, &env))
        .map(|output| output.render(format))
}

/// The cluster and signer by the solana CLI's rules. A keypair named with
/// `-k` must be readable now; the configured or default one only matters to
/// commands that sign.
fn build_env(cli: &Cli) -> Result<Env, CliError> {
    let g = &cli.global;
    let resolved = settings::resolve(
        g.url.as_deref(),
        g.keypair.as_deref(),
        g.config_file.as_deref(),
    )?;
    let signer = if resolved.keypair_explicit || resolved.keypair_path.exists() {
        Some(env::read_keypair(&resolved.keypair_path)?)
    } else {
        None
    };
    // A person waits at the terminal: fail over to nothing and give up fast.
    let rpc = RpcChain::new(RpcConfig {
        urls: vec![resolved.url.clone()],
        max_attempts: 3,
        ..RpcConfig::default()
    });
    Ok(Env {
        chain: Chain::Rpc(Arc::new(rpc)),
        signer,
        keypair_path: resolved.keypair_path,
        url: resolved.url,
        stdin_is_tty: std::io::stdin().is_terminal(),
    })
}

/// clap's first paragraph (what is wrong, e.g. the missing arguments) as
/// one line; the usage and tips after it are left to `--help`.
fn first_paragraph(text: &str) -> String {
    let paragraph: Vec<&str> = text
        .lines()
        .skip_while(|l| l.trim().is_empty())
        .take_while(|l| !l.trim().is_empty())
        .map(str::trim)
        .collect();
    if paragraph.is_empty() {
        "error: invalid arguments (see --help)".to_string()
    } else {
        paragraph.join(" ")
    }
}

fn fail_line(line: &str, code: i32) -> ExitCode {
    eprintln!("{line}");
    ExitCode::from(u8::try_from(code).unwrap_or(EXIT_FAILURE as u8))
}
