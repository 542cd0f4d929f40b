//! `verdict-miner` command line: `serve` runs the miner's HTTP server, `keygen` writes a node signing key.

use std::io::{IsTerminal, Write};
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

use clap::{Args, Parser, Subcommand};
use miner::api;
use miner::api::ModelId;
use miner::fault::{FaultMode, FaultPlan};
use miner::server::{self, MinerState, DEFAULT_MAX_BODY_BYTES};
use miner::upkeep::Upkeep;
use verdict_models::{ModelRegistry, MINILM_ID, TEST_PROJECTION_ID};
use verdict_wire::keys;

#[derive(Parser)]
#[command(name = "verdict-miner", version, about = "Verdict reference miner")]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Serve inference over HTTP; prints `listening on http://ADDR` on stdout.
    Serve(ServeArgs),
    /// Write a new node signing key as a Solana keypair JSON file.
    Keygen {
        #[arg(long)]
        out: PathBuf,
    },
    /// Write the signing key (owner-only) and a commented miner.env into a
    /// folder, and print the commands that register and stake the node.
    Init(InitArgs),
}

#[derive(Args)]
struct InitArgs {
    /// Folder for miner.env and miner-signing.json.
    #[arg(long, default_value = "/etc/verdict")]
    dir: PathBuf,
    /// The cluster's JSON-RPC URL.
    #[arg(long, default_value = "http://127.0.0.1:8899")]
    rpc_url: String,
    /// The URL keepers call (http(s)://host[:port]).
    #[arg(long)]
    advertise: String,
    /// The node's account, if already registered.
    #[arg(long)]
    node: Option<String>,
    /// Models to serve.
    #[arg(long, value_delimiter = ',', default_values_t = [MINILM_ID.to_owned()])]
    models: Vec<String>,
    /// Where the model weights are installed.
    #[arg(long, default_value = "/var/lib/verdict/models")]
    model_dir: PathBuf,
    /// Use this signing key instead of a new one.
    #[arg(long)]
    import_signing_keypair: Option<PathBuf>,
}

#[derive(Args)]
struct ServeArgs {
    /// Address to bind; port 0 picks a free port.
    #[arg(long, default_value = "127.0.0.1:0")]
    bind: SocketAddr,
    /// Comma-separated model ids to serve.
    #[arg(long, env = "VERDICT_MINER_MODELS", value_delimiter = ',', default_values_t = [MINILM_ID.to_owned(), TEST_PROJECTION_ID.to_owned()])]
    models: Vec<String>,
    /// Node signing key, Solana keypair JSON (64-byte array).
    #[arg(long, env = "VERDICT_MINER_KEYPAIR", conflicts_with = "generate_key")]
    keypair: Option<PathBuf>,
    /// Use a fresh signing key for this run only (never written to disk).
    #[arg(long)]
    generate_key: bool,
    /// Misbehave on purpose, to test keepers.
    #[arg(long, value_enum)]
    fault: Option<FaultMode>,
    /// Delay of the `slow` fault, in milliseconds.
    #[arg(long, default_value_t = 6000)]
    slow_ms: u64,
    /// Probability that a request misbehaves under `--fault flaky`.
    #[arg(long, default_value_t = 0.3)]
    flaky_rate: f64,
    /// Seed for `--fault flaky` (random when absent).
    #[arg(long)]
    seed: Option<u64>,
    /// Largest accepted request body, in bytes.
    #[arg(long, default_value_t = DEFAULT_MAX_BODY_BYTES)]
    max_body_bytes: usize,
    /// Load the models before accepting requests, instead of on first use
    /// (with --max-loaded-models, the first that many of --models).
    #[arg(long)]
    preload: bool,
    /// Models kept in memory at once (0: all it serves). Loading one more
    /// unloads the least recently used, which loads again when next asked.
    #[arg(long, default_value_t = 0)]
    max_loaded_models: usize,
    /// Do the node's upkeep on this cluster (JSON-RPC URL): record its
    /// endpoint and heartbeat on schedule, signed and paid by the signing key.
    #[arg(long, env = "VERDICT_MINER_RPC_URL", requires = "node")]
    rpc_url: Option<String>,
    /// The node's account (base58), for --rpc-url.
    #[arg(long, env = "VERDICT_MINER_NODE")]
    node: Option<String>,
    /// The URL keepers call, recorded on chain [default: http://<bound address>,
    /// when --bind names a specific address].
    #[arg(long, env = "VERDICT_MINER_ADVERTISE")]
    advertise: Option<String>,
    /// Seconds between upkeep rounds (each reads the node, then sends what is due).
    #[arg(long, default_value_t = 60)]
    upkeep_secs: u64,
    /// Bid in keepers' auctions at this standing price for a model, in the
    /// stake token's base units (`MODEL=AMOUNT`, repeatable or
    /// comma-separated); without it the miner does not bid.
    #[arg(
        long = "price",
        env = "VERDICT_MINER_PRICES",
        value_delimiter = ',',
        value_parser = miner::pricing::parse_price
    )]
    prices: Vec<(verdict_wire::miner::ModelId, u64)>,
    /// How a bid's price follows the load.
    #[arg(
        long,
        env = "VERDICT_MINER_PRICE_STRATEGY",
        value_enum,
        default_value = "fixed",
        requires = "prices"
    )]
    price_strategy: miner::pricing::Strategy,
    /// Jobs it bids for at once.
    #[arg(
        long,
        env = "VERDICT_MINER_CAPACITY",
        default_value_t = 4,
        requires = "prices"
    )]
    capacity: u32,
    /// Most inference requests answered at once; more are refused with 503
    /// `busy` rather than queued.
    #[arg(long, default_value_t = miner::server::DEFAULT_MAX_CONCURRENT)]
    max_concurrent: u32,
}

#[derive(Debug, thiserror::Error)]
enum CliError {
    #[error("{0}")]
    InvalidArgument(String),
    #[error(transparent)]
    Key(#[from] keys::KeyError),
    #[error(transparent)]
    Model(#[from] verdict_models::ModelError),
    #[error("cannot bind {address}: {source}")]
    Bind {
        address: SocketAddr,
        source: std::io::Error,
    },
    #[error("server stopped: {0}")]
    Stopped(String),
}

/// A miner that swaps models in and out (`--max-loaded-models`) allocates
/// and frees a model's tensors and tokenizer tables from many threads.
/// Under glibc's allocator the freed memory stayed fragmented across arenas:
/// the main job's miners grew past 3 GB each (20 GB for eight); mimalloc
/// returns it.
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

fn main() -> std::process::ExitCode {
    tracing_subscriber::fmt()
        .with_writer(std::io::stderr)
        .with_ansi(std::io::stderr().is_terminal())
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_default_env()
                .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info")),
        )
        .init();
    let result = match Cli::parse().command {
        Command::Serve(args) => tokio::runtime::Builder::new_multi_thread()
            .enable_all()
            .build()
            .map_err(|error| CliError::Stopped(error.to_string()))
            .and_then(|runtime| runtime.block_on(serve(args))),
        Command::Keygen { out } => keygen(&out),
        Command::Init(args) => init(args),
    };
    match result {
        Ok(()) => std::process::ExitCode::SUCCESS,
        Err(error) => {
            eprintln!("verdict-miner: {error}");
            std::process::ExitCode::FAILURE
        }
    }
}

/// Refuses an `--advertise` URL the program would not record, with the
/// program's own statement of the rule.
fn check_advertise(url: &str) -> Result<(), CliError> {
    verdict::state::NodeEndpoint::check(url).map_err(|_| {
        CliError::InvalidArgument(format!(
            "--advertise {url:?}: {}",
            verdict::errors::VerdictError::InvalidEndpoint
        ))
    })
}

fn init(args: InitArgs) -> Result<(), CliError> {
    check_advertise(&args.advertise)?;
    let done = miner::init::init(&miner::init::InitOptions {
        dir: args.dir,
        rpc_url: args.rpc_url,
        advertise: args.advertise,
        node: args.node,
        models: args.models,
        model_dir: args.model_dir,
        signing_keypair: args.import_signing_keypair,
    })
    .map_err(|e| CliError::InvalidArgument(e.to_string()))?;
    println!(
        "wrote {} and {} (owner-only)",
        done.env_file.display(),
        done.key_file.display()
    );
    println!("node signing key: {}", done.signing_key);
    println!("\nnext:");
    for step in done.next_steps {
        println!("  {step}");
    }
    Ok(())
}

fn keygen(out: &Path) -> Result<(), CliError> {
    let key = keys::generate();
    keys::write_keypair(out, &key)?;
    println!("{}", api::MinerPubkey::from(&key));
    Ok(())
}

async fn serve(args: ServeArgs) -> Result<(), CliError> {
    let signing_key = match (&args.keypair, args.generate_key) {
        (Some(path), _) => keys::load_keypair(path)?,
        (None, true) => keys::generate(),
        (None, false) => return Err(CliError::InvalidArgument(
            "give --keypair PATH (or VERDICT_MINER_KEYPAIR), or --generate-key for a throwaway key"
                .to_owned(),
        )),
    };
    let model_ids = args
        .models
        .iter()
        .map(|id| {
            id.parse::<ModelId>()
                .map_err(|error| CliError::InvalidArgument(error.to_string()))
        })
        .collect::<Result<Vec<_>, _>>()?;
    if !(0.0..=1.0).contains(&args.flaky_rate) {
        return Err(CliError::InvalidArgument(format!(
            "--flaky-rate must be in [0, 1], got {}",
            args.flaky_rate
        )));
    }
    let mut registry = ModelRegistry::new(&model_ids)?;
    if args.max_loaded_models > 0 {
        registry = registry.resident_limit(args.max_loaded_models);
    }
    let seed = args.seed.unwrap_or_else(rand::random);
    let faults = FaultPlan::new(
        args.fault,
        Duration::from_millis(args.slow_ms),
        args.flaky_rate,
        seed,
    );
    // The upkeep signs on chain with the same node key.
    let upkeep_key = signing_key.clone();
    let mut state = MinerState::new(registry, signing_key, faults, args.max_body_bytes);
    state.max_concurrent = args.max_concurrent.max(1);
    if !args.prices.is_empty() {
        state = state.with_pricing(miner::pricing::Pricing {
            base: args.prices.iter().cloned().collect(),
            strategy: args.price_strategy,
            capacity: args.capacity.max(1),
        });
    }
    let state = Arc::new(state);

    if args.preload {
        // A model loaded past the limit would only unload an earlier one.
        let room = if args.max_loaded_models > 0 {
            args.max_loaded_models
        } else {
            model_ids.len()
        };
        for id in model_ids.iter().take(room) {
            let (_, load_time) = state.registry.ready(id).await?;
            tracing::info!(model = %id, load_ms = load_time.as_millis() as u64, "preloaded");
        }
    }

    let listener = tokio::net::TcpListener::bind(args.bind)
        .await
        .map_err(|source| CliError::Bind {
            address: args.bind,
            source,
        })?;
    let address = listener.local_addr().map_err(|source| CliError::Bind {
        address: args.bind,
        source,
    })?;
    tracing::info!(
        %address,
        miner_pubkey = %state.pubkey(),
        models = ?model_ids.iter().map(ModelId::as_str).collect::<Vec<_>>(),
        fault = ?args.fault,
        seed,
        "miner ready"
    );
    // The one line on stdout: what tests and scripts wait for.
    let mut stdout = std::io::stdout().lock();
    writeln!(stdout, "listening on http://{address}")
        .and_then(|()| stdout.flush())
        .map_err(|error| CliError::Stopped(error.to_string()))?;
    drop(stdout);

    if let Some(rpc_url) = &args.rpc_url {
        let node: anchor_lang::prelude::Pubkey =
            args.node
                .as_deref()
                .unwrap_or_default()
                .parse()
                .map_err(|_| CliError::InvalidArgument("--node must be a base58 account".into()))?;
        let advertise = match &args.advertise {
            Some(url) => url.trim_end_matches('/').to_owned(),
            None if address.ip().is_unspecified() => {
                return Err(CliError::InvalidArgument(
                    "--bind listens on every address: give --advertise URL for keepers to call"
                        .into(),
                ))
            }
            None => format!("http://{address}"),
        };
        check_advertise(&advertise)?;
        let upkeep = Upkeep::new(rpc_url, &upkeep_key, node, advertise, state.metrics.clone());
        tokio::spawn(upkeep.run(Duration::from_secs(args.upkeep_secs.max(1))));
    }

    tokio::select! {
        () = server::serve(listener, server::router(state)) => Err(CliError::Stopped("accept loop ended".to_owned())),
        signal = tokio::signal::ctrl_c() => {
            signal.map_err(|error| CliError::Stopped(error.to_string()))?;
            tracing::info!("interrupted, shutting down");
            Ok(())
        }
    }
}
