//! A real cluster over JSON-RPC (feature `rpc`): account reads, and sending
//! a transaction signed and paid by one key, with the program's error name
//! when it refuses. Enough for a miner's upkeep or a dApp; services that
//! need failover and re-signing use `verdict-chain`.

use anchor_lang::prelude::Pubkey;
use solana_commitment_config::CommitmentConfig;
use solana_rpc_client::nonblocking::rpc_client::RpcClient;
use solana_sdk::instruction::Instruction;
use solana_sdk::signature::{Keypair, Signature};
use solana_sdk::signer::Signer;
use solana_sdk::transaction::Transaction;

use crate::accounts::AccountSource;
use crate::{ProgramFailure, SdkError};

impl AccountSource for RpcClient {
    async fn account_data(&self, address: &Pubkey) -> Result<Option<Vec<u8>>, SdkError> {
        self.get_account_with_commitment(address, CommitmentConfig::confirmed())
            .await
            .map(|r| r.value.map(|a| a.data))
            .map_err(|e| SdkError::Client(e.to_string()))
    }
}

/// Signs `instructions` with `signer` (who pays), sends with preflight and
/// waits for confirmation. A refusal is [`SdkError::Refused`] with the
/// program's error name and message (read from the runtime's error code).
pub async fn send(
    rpc: &RpcClient,
    instructions: &[Instruction],
    signer: &Keypair,
) -> Result<Signature, SdkError> {
    let blockhash = rpc
        .get_latest_blockhash()
        .await
        .map_err(|e| SdkError::Client(e.to_string()))?;
    let tx = Transaction::new_signed_with_payer(
        instructions,
        Some(&signer.pubkey()),
        &[signer],
        blockhash,
    );
    rpc.send_and_confirm_transaction(&tx).await.map_err(|e| {
        let text = e.to_string();
        match e.get_transaction_error() {
            Some(_) => SdkError::Refused(ProgramFailure::from_logs(&[], text)),
            None => SdkError::Client(text),
        }
    })
}

/// The cluster's unix time: the Clock sysvar's `unix_timestamp`.
pub async fn unix_time(rpc: &RpcClient) -> Result<i64, SdkError> {
    // Clock: slot, epoch start timestamp, epoch, leader schedule epoch (8 bytes each), then unix time.
    const UNIX_TIME_AT: usize = 32;
    let clock = solana_sdk::sysvar::clock::ID;
    let data = rpc
        .account_data(&clock)
        .await?
        .ok_or(SdkError::AccountNotFound(clock))?;
    data.get(UNIX_TIME_AT..UNIX_TIME_AT + 8)
        .map(|b| i64::from_le_bytes(b.try_into().expect("8 bytes")))
        .ok_or_else(|| SdkError::Decode {
            address: clock,
            kind: "Clock sysvar",
            reason: format!("{} bytes", data.len()),
        })
}

#[cfg(feature = "client")]
impl crate::client::Ledger for RpcClient {
    async fn send(
        &self,
        instructions: &[Instruction],
        signer: &Keypair,
    ) -> Result<Signature, SdkError> {
        send(self, instructions, signer).await
    }
}
