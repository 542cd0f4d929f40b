//! Verified inference from a Rust dApp: one call submits the job (its fee in
//! escrow), hands the input to a keeper of the committee, waits, and returns
//! the output only once it checks out against the chain.
//!
//! Against `verdict-localnet --serve`, with the values it prints:
//! VERDICT_RPC_URL=… VERDICT_KEEPERS=url1,url2 VERDICT_WALLET=path \
//! VERDICT_TOKEN_ACCOUNT=… cargo run -p verdict-example-infer
//!
//! With VERDICT_PROMPT set it asks SmolLM2 for a text generation instead
//! and prints the generated text (verified the same way: the output hash
//! covers the text).

use std::time::Duration;

use solana_rpc_client::nonblocking::rpc_client::RpcClient;
use solana_sdk::signature::read_keypair_file;
use verdict_sdk::client::{infer, GenerationInput, InferRequest, KeeperClient};
use verdict_sdk::state::RiskLevel;

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let env = |name: &str| std::env::var(name).map_err(|_| format!("set {name}"));
    // Any JSON-RPC node: the SDK reads and sends through solana's RpcClient.
    let chain = RpcClient::new(env("VERDICT_RPC_URL")?);
    let keepers = KeeperClient::new(env("VERDICT_KEEPERS")?.split(','), Duration::from_secs(5))?;
    let wallet = read_keypair_file(env("VERDICT_WALLET")?)?;
    let model = std::env::var("VERDICT_MODEL").unwrap_or("test-projection-v1".into());

    let max_fee = 10_000_000; // most we pay, in base units; the unused part comes back
    let tokens = env("VERDICT_TOKEN_ACCOUNT")?.parse()?;
    let request = match std::env::var("VERDICT_PROMPT") {
        // Checked here (prompt, max_tokens, top_k, temperature), before any transaction.
        Ok(prompt) => InferRequest::generate(
            &GenerationInput::new(prompt),
            RiskLevel::Medium,
            max_fee,
            tokens,
        )?,
        Err(_) => InferRequest::new(
            &model,
            "A man is eating pasta.",
            RiskLevel::Medium,
            max_fee,
            tokens,
        ),
    };
    let result = infer(&chain, &keepers, &wallet, &request).await?;
    if let Some(text) = result.verified.text() {
        println!("job      {}", result.submitted.job);
        let speed = result
            .verified
            .tokens_per_second()
            .map(|tps| format!(", {tps:.1} tokens/s"))
            .unwrap_or_default();
        println!(
            "text     {} tokens{speed}: {text}",
            result.verified.tokens().map_or(0, |t| t.len())
        );
        println!("verified the output hash (ids and text) on chain and the miner's signature");
        return Ok(());
    }

    let values = result.verified.values();
    println!("job      {}", result.submitted.job);
    println!(
        "miner    {} (signed by {})",
        result.verified.miner, result.verified.miner_key
    );
    println!(
        "output   {} values, first {:?}",
        values.len(),
        &values[..values.len().min(4)]
    );
    println!("verified the output hash on chain and the miner's signature");
    Ok(())
}
