//! `verdict-migrate`: run once after `anchor deploy` to create the Config and
//! stake vault with the protocol's defaults. Safe to run again.

use std::str::FromStr;

use anyhow::{bail, Context, Result};
use clap::Parser;
use solana_commitment_config::CommitmentConfig;
use solana_rpc_client::nonblocking::rpc_client::RpcClient;
use solana_sdk::pubkey::Pubkey;
use solana_sdk::signature::read_keypair_file;
use solana_sdk::signer::Signer;
use verdict_sdk::deploy::{plan, DeployStep};
use verdict_sdk::transaction::{build_transaction, ComputeBudget};

#[derive(Parser)]
#[command(about = "Initialize the Verdict Config after deployment")]
struct Args {
    /// JSON-RPC URL of the cluster (Anchor sets ANCHOR_PROVIDER_URL).
    #[arg(
        long,
        env = "ANCHOR_PROVIDER_URL",
        default_value = "http://127.0.0.1:8899"
    )]
    url: String,
    /// Keypair of the governance authority (the program's upgrade authority).
    #[arg(long, env = "ANCHOR_WALLET")]
    keypair: String,
    /// Mint of the stake token.
    #[arg(long, env = "VERDICT_STAKE_MINT")]
    stake_mint: String,
}

#[tokio::main]
async fn main() -> Result<()> {
    let args = Args::parse();
    let authority = read_keypair_file(shellexpand(&args.keypair))
        .map_err(|e| anyhow::anyhow!("cannot read keypair {}: {e}", args.keypair))?;
    let mint =
        Pubkey::from_str(&args.stake_mint).context("stake mint is not a valid public key")?;
    let rpc = RpcClient::new_with_commitment(args.url.clone(), CommitmentConfig::confirmed());
    let program = rpc
        .get_account(&verdict_sdk::PROGRAM_ID)
        .await
        .with_context(|| {
            format!(
                "program {} not found on {}: run `anchor deploy` first",
                verdict_sdk::PROGRAM_ID,
                args.url
            )
        })?;
    let upgradeable = program.owner == anchor_lang::solana_program::bpf_loader_upgradeable::ID;
    match plan(&rpc, &authority.pubkey(), &mint, upgradeable).await? {
        DeployStep::AlreadyInitialized(config) => {
            if config.stake_mint != mint {
                bail!(
                    "already initialized with another stake mint {}",
                    config.stake_mint
                );
            }
            println!("Config already initialized; authority {}", config.authority);
        }
        DeployStep::Initialize(ix) => {
            let blockhash = rpc.get_latest_blockhash().await?;
            let tx =
                build_transaction(&[*ix], &authority, &[], ComputeBudget::default(), blockhash);
            let signature = rpc
                .send_and_confirm_transaction(&tx)
                .await
                .context("initialize_config failed")?;
            println!("Config initialized: {signature}");
        }
    }
    Ok(())
}

/// Expands a leading `~/` (Anchor.toml's wallet path uses it).
fn shellexpand(path: &str) -> String {
    match (path.strip_prefix("~/"), std::env::var("HOME")) {
        (Some(rest), Ok(home)) => format!("{home}/{rest}"),
        _ => path.to_string(),
    }
}
