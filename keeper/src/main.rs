//! `verdict-keeper`: runs a keeper against a cluster (`run`), writes a first
//! run's configuration and keys (`init`), or checks a configuration file
//! (`check-config`).

use std::io::IsTerminal;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

use clap::{Parser, Subcommand};
use keeper::config::KeeperConfig;
use keeper::{Deps, KeeperError, Signing};
use solana_sdk::signature::Keypair;
use verdict_chain::{Chain, RpcChain, RpcConfig};

#[derive(Parser)]
#[command(
    name = "verdict-keeper",
    version,
    about = "Verdict keeper: dispatch, validation, timeouts and signed outcomes"
)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Run the keeper until ctrl-c.
    Run {
        /// TOML configuration (VERDICT_KEEPER_* variables override it).
        #[arg(long, env = "VERDICT_KEEPER_CONFIG")]
        config: Option<PathBuf>,
        /// Log as JSON lines.
        #[arg(long)]
        json_logs: bool,
        /// Timeout of one JSON-RPC request, in ms (a slower answer counts
        /// as a transport error: retried, failing over to the next URL).
        #[arg(long, env = "VERDICT_KEEPER_RPC_TIMEOUT_MS", default_value_t = 30_000)]
        rpc_timeout_ms: u64,
    },
    /// Write a commented configuration and the keys (owner-only files) into
    /// a folder, and print the commands that register and stake the validator.
    Init {
        /// Folder for keeper.toml, payer.json and validator-signing.json.
        #[arg(long, default_value = "/etc/verdict")]
        dir: PathBuf,
        /// The cluster's JSON-RPC URL.
        #[arg(long, default_value = "http://127.0.0.1:8899")]
        rpc_url: String,
        /// The keeper's database.
        #[arg(long, default_value = "/var/lib/verdict/keeper.redb")]
        database: PathBuf,
        /// The validator operator's wallet address: names the node in the configuration.
        #[arg(long)]
        operator: Option<String>,
        /// Use this signing key instead of a new one.
        #[arg(long)]
        import_signing_keypair: Option<PathBuf>,
        /// Use this fee payer instead of a new one.
        #[arg(long)]
        import_payer_keypair: Option<PathBuf>,
    },
    /// Parse and check a configuration, print it, and exit.
    CheckConfig {
        #[arg(long)]
        config: Option<PathBuf>,
    },
}

fn keypair(path: &Path) -> Result<Keypair, KeeperError> {
    let key =
        verdict_wire::keys::load_keypair(path).map_err(|e| KeeperError::Config(e.to_string()))?;
    Ok(Keypair::new_from_array(key.to_bytes()))
}

async fn run(cfg: KeeperConfig, rpc_timeout: Duration) -> Result<(), KeeperError> {
    let payer_path = cfg
        .payer_keypair
        .clone()
        .ok_or_else(|| KeeperError::Config("payer_keypair is required".into()))?;
    let payer = keypair(&payer_path)?;
    let mut keys = cfg
        .signing_keypairs
        .iter()
        .map(|p| keypair(p))
        .collect::<Result<Vec<_>, _>>()?;
    // A committee member signs with its own validator key; a keeper alone
    // with every key of its local quorum.
    let signing = match (&cfg.committee.node, keys.len()) {
        (Some(_), 1) => Signing::Member(keys.remove(0)),
        (Some(_), _) => {
            return Err(KeeperError::Config("a committee member signs with exactly one key: its validator signing key in signing_keypairs".into()))
        }
        (None, _) => Signing::LocalQuorum(keys),
    };
    let operator = cfg
        .committee
        .operator_keypair
        .as_deref()
        .map(keypair)
        .transpose()?;
    let rpc = RpcConfig {
        urls: cfg.rpc_urls.clone(),
        request_timeout: rpc_timeout,
        ..RpcConfig::default()
    };
    let chain = Chain::Rpc(Arc::new(RpcChain::new(rpc)));
    let handle = keeper::start(
        cfg,
        Deps {
            chain,
            payer,
            signing,
            operator,
            faults: None,
        },
    )
    .await?;
    tracing::info!(api = %handle.api_url(), "serving");
    // One line on stdout, so a supervisor or a test learns the bound
    // address (with `listen = "127.0.0.1:0"` the port is chosen at bind).
    println!("listening on {}", handle.api_url());
    let _ = tokio::signal::ctrl_c().await;
    tracing::info!("ctrl-c: stopping");
    handle.shutdown().await;
    Ok(())
}

fn main() -> std::process::ExitCode {
    let cli = Cli::parse();
    let json = matches!(
        cli.command,
        Command::Run {
            json_logs: true,
            ..
        }
    );
    let filter = tracing_subscriber::EnvFilter::try_from_default_env()
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info"));
    if json {
        tracing_subscriber::fmt()
            .json()
            .with_env_filter(filter)
            .with_writer(std::io::stderr)
            .init();
    } else {
        tracing_subscriber::fmt()
            .with_env_filter(filter)
            .with_ansi(std::io::stderr().is_terminal())
            .with_writer(std::io::stderr)
            .init();
    }
    let result = match cli.command {
        Command::Init {
            dir,
            rpc_url,
            database,
            operator,
            import_signing_keypair,
            import_payer_keypair,
        } => operator
            .map(|o| {
                o.parse()
                    .map_err(|_| KeeperError::Config(format!("--operator {o:?} is not an address")))
            })
            .transpose()
            .and_then(|operator| {
                keeper::init::init(&keeper::init::InitOptions {
                    dir,
                    rpc_url,
                    database,
                    operator,
                    signing_keypair: import_signing_keypair,
                    payer_keypair: import_payer_keypair,
                })
            })
            .map(|done| {
                println!(
                    "wrote {} (keys next to it, owner-only)",
                    done.config.display()
                );
                println!("validator signing key: {}", done.signing_key);
                println!("fee payer:             {}", done.payer);
                if let Some(node) = done.node {
                    println!("node:                  {node}");
                }
                println!("\nnext:");
                for step in done.next_steps {
                    println!("  {step}");
                }
            }),
        Command::CheckConfig { config } => {
            KeeperConfig::load(config.as_deref()).map(|c| println!("{c:#?}"))
        }
        Command::Run {
            config,
            rpc_timeout_ms,
            ..
        } => KeeperConfig::load(config.as_deref()).and_then(|cfg| {
            tokio::runtime::Builder::new_multi_thread()
                .enable_all()
                .build()
                .map_err(|e| KeeperError::Config(e.to_string()))?
                .block_on(run(cfg, Duration::from_millis(rpc_timeout_ms)))
        }),
    };
    match result {
        Ok(()) => std::process::ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("verdict-keeper: {e}");
            std::process::ExitCode::FAILURE
        }
    }
}
