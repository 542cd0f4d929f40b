//! A real cluster over JSON-RPC: several URLs with failover, retries with
//! exponential backoff, priority fees from recent fees, blockhash refresh and
//! re-signing on expiry, and confirmation tracking. A send never signs a new
//! transaction (a new signature, so possibly a second landing) before it has
//! checked that none of the copies it already sent landed.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use anchor_lang::prelude::Pubkey;
use solana_commitment_config::CommitmentConfig;
use solana_rpc_client::nonblocking::rpc_client::RpcClient;
use solana_rpc_client::rpc_client::GetConfirmedSignaturesForAddress2Config;
use solana_rpc_client_api::client_error::{Error as ClientError, ErrorKind};
use solana_rpc_client_api::config::{
    RpcAccountInfoConfig, RpcSendTransactionConfig, RpcTransactionConfig,
};
use solana_rpc_client_api::request::{RpcError, RpcRequest, RpcResponseErrorData};
use solana_rpc_client_api::response::{Response, UiAccount, UiAccountEncoding};
use solana_sdk::account::Account;
use solana_sdk::clock::Clock;
use solana_sdk::hash::Hash;
use solana_sdk::instruction::Instruction;
use solana_sdk::signature::{Keypair, Signature};
use solana_sdk::transaction::TransactionError;
use solana_transaction_status_client_types::option_serializer::OptionSerializer;
use solana_transaction_status_client_types::UiTransactionEncoding;
use verdict_sdk::transaction::{build_transaction, ComputeBudget};

use crate::{ChainError, Landed, ProgramFailure};

/// How the client talks to the cluster.
#[derive(Clone, Debug)]
pub struct RpcConfig {
    /// Tried in order; on a transport error the next one takes over.
    pub urls: Vec<String>,
    pub max_attempts: u32,
    pub initial_backoff: Duration,
    /// Per HTTP request; an answer slower than this is a transport error
    /// (retried, failing over), though the node may have done the work.
    pub request_timeout: Duration,
    /// How long to wait for confirmation before re-signing with a fresh blockhash.
    pub confirm_timeout: Duration,
    /// Percentile (0–100) of recent prioritization fees to pay; 0 pays none.
    pub priority_fee_percentile: u8,
    /// Upper bound on the priority fee, in micro-lamports per compute unit.
    pub max_priority_fee: u64,
    pub compute_unit_limit: Option<u32>,
}

impl Default for RpcConfig {
    fn default() -> Self {
        Self {
            urls: vec!["http://127.0.0.1:8899".into()],
            max_attempts: 5,
            initial_backoff: Duration::from_millis(250),
            request_timeout: Duration::from_secs(30),
            confirm_timeout: Duration::from_secs(30),
            priority_fee_percentile: 75,
            max_priority_fee: 1_000_000,
            compute_unit_limit: Some(200_000),
        }
    }
}

pub struct RpcChain {
    clients: Vec<RpcClient>,
    current: AtomicUsize,
    config: RpcConfig,
}

impl RpcChain {
    pub fn new(config: RpcConfig) -> Self {
        let clients = config
            .urls
            .iter()
            .map(|u| {
                RpcClient::new_with_timeout_and_commitment(
                    u.clone(),
                    config.request_timeout,
                    CommitmentConfig::confirmed(),
                )
            })
            .collect();
        Self {
            clients,
            current: AtomicUsize::new(0),
            config,
        }
    }

    /// The current URL's client, and its turn (to fail over from).
    fn client(&self) -> (&RpcClient, usize) {
        let turn = self.current.load(Ordering::Relaxed);
        (&self.clients[turn % self.clients.len()], turn)
    }

    /// Moves to the next URL, unless another call already moved on from
    /// `turn`: concurrent failures on one URL advance once, not once each
    /// (which could land right back on the failing URL).
    fn fail_over(&self, turn: usize) {
        let _ = self.current.compare_exchange(
            turn,
            turn.wrapping_add(1),
            Ordering::Relaxed,
            Ordering::Relaxed,
        );
    }

    /// Runs `call` against the current URL, failing over and backing off on
    /// transport errors; a refusal by the cluster is returned at once.
    async fn call<T, F>(&self, what: &str, call: F) -> Result<T, CallError>
    where
        F: AsyncFn(&RpcClient) -> Result<T, ClientError>,
    {
        let mut backoff = self.config.initial_backoff;
        let mut last = String::new();
        for _ in 0..self.config.max_attempts.max(1) {
            let (client, turn) = self.client();
            match call(client).await {
                Ok(v) => return Ok(v),
                Err(e) if is_transport(&e) => {
                    tracing::warn!(what, error = %e, "rpc transport error; failing over");
                    last = e.to_string();
                    self.fail_over(turn);
                    tokio::time::sleep(backoff).await;
                    backoff *= 2;
                }
                Err(e) => return Err(CallError::Refused(e)),
            }
        }
        Err(CallError::Unreachable(format!("{what}: {last}")))
    }

    async fn with_retries<T, F>(&self, what: &str, call: F) -> Result<T, ChainError>
    where
        F: AsyncFn(&RpcClient) -> Result<T, ClientError>,
    {
        self.call(what, call).await.map_err(|e| match e {
            CallError::Refused(e) => refusal(e),
            CallError::Unreachable(last) => ChainError::Rpc(last),
        })
    }

    pub async fn account_data(&self, address: &Pubkey) -> Result<Option<Vec<u8>>, ChainError> {
        // Not `get_account_with_commitment`: it flattens every error (a 503,
        // a timeout) into a message, which would hide transport trouble from
        // the retries.
        let config = RpcAccountInfoConfig {
            encoding: Some(UiAccountEncoding::Base64Zstd),
            commitment: Some(CommitmentConfig::confirmed()),
            ..RpcAccountInfoConfig::default()
        };
        let params = serde_json::json!([address.to_string(), config]);
        let response: Response<Option<UiAccount>> = self
            .with_retries("getAccountInfo", async |c| {
                c.send(RpcRequest::GetAccountInfo, params.clone()).await
            })
            .await?;
        match response.value {
            None => Ok(None),
            Some(account) => account
                .decode::<Account>()
                .map(|a| Some(a.data))
                .ok_or_else(|| {
                    ChainError::Decode(format!("account {address}: undecodable data encoding"))
                }),
        }
    }

    pub async fn unix_time(&self) -> Result<i64, ChainError> {
        Ok(self.clock().await?.unix_timestamp)
    }

    /// The cluster's current slot (the Clock sysvar).
    pub async fn slot(&self) -> Result<u64, ChainError> {
        self.with_retries("getSlot", async |c| {
            c.get_slot_with_commitment(CommitmentConfig::processed())
                .await
        })
        .await
    }

    async fn clock(&self) -> Result<Clock, ChainError> {
        let data = self
            .account_data(&solana_sdk::sysvar::clock::ID)
            .await?
            .ok_or_else(|| ChainError::Decode("no Clock sysvar".into()))?;
        bincode_clock(&data)
    }

    pub async fn program_accounts(&self) -> Result<Vec<(Pubkey, Vec<u8>)>, ChainError> {
        self.with_retries("getProgramAccounts", async |c| {
            c.get_program_accounts(&verdict::ID)
                .await
                .map(|v| v.into_iter().map(|(k, a)| (k, a.data)).collect())
        })
        .await
    }

    /// Lamports an account of `len` bytes needs to be rent-exempt.
    pub async fn rent_exempt_minimum(&self, len: usize) -> Result<u64, ChainError> {
        self.with_retries("getMinimumBalanceForRentExemption", async |c| {
            c.get_minimum_balance_for_rent_exemption(len).await
        })
        .await
    }

    /// An account's lamports (0 when it does not exist).
    pub async fn lamports(&self, address: &Pubkey) -> Result<u64, ChainError> {
        self.with_retries("getBalance", async |c| {
            c.get_balance_with_commitment(address, CommitmentConfig::confirmed())
                .await
                .map(|r| r.value)
        })
        .await
    }

    /// Priority fee from the recent fees paid for the accounts this
    /// transaction writes.
    async fn priority_fee(&self, instructions: &[Instruction]) -> u64 {
        if self.config.priority_fee_percentile == 0 {
            return 0;
        }
        let writable: Vec<Pubkey> = instructions
            .iter()
            .flat_map(|i| {
                i.accounts
                    .iter()
                    .filter(|m| m.is_writable)
                    .map(|m| m.pubkey)
            })
            .collect();
        let fees = self
            .with_retries("getRecentPrioritizationFees", async |c| {
                c.get_recent_prioritization_fees(&writable).await
            })
            .await
            .unwrap_or_default();
        let mut values: Vec<u64> = fees.iter().map(|f| f.prioritization_fee).collect();
        percentile(&mut values, self.config.priority_fee_percentile)
            .min(self.config.max_priority_fee)
    }

    pub async fn send(
        &self,
        instructions: &[Instruction],
        payer: &Keypair,
        signers: &[&Keypair],
    ) -> Result<Landed, ChainError> {
        let budget = ComputeBudget {
            unit_limit: self.config.compute_unit_limit,
            micro_lamports_per_unit: Some(self.priority_fee(instructions).await).filter(|f| *f > 0),
        };
        // Every copy sent so far, with its blockhash: one whose answer was
        // lost may have landed, and re-signing makes a new transaction.
        let mut sent: Vec<(Signature, Hash)> = Vec::new();
        for attempt in 0..self.config.max_attempts.max(1) {
            if let Some(landed) = self.find_landed(&sent).await? {
                return Ok(landed);
            }
            let blockhash = self
                .with_retries("getLatestBlockhash", async |c| {
                    c.get_latest_blockhash().await
                })
                .await?;
            let tx = build_transaction(instructions, payer, signers, budget, blockhash);
            let signature = tx.signatures[0];
            sent.push((signature, blockhash));
            let config = RpcSendTransactionConfig {
                max_retries: Some(0),
                ..Default::default()
            };
            match self
                .call("sendTransaction", async |c| {
                    c.send_transaction_with_config(&tx, config).await
                })
                .await
            {
                Ok(_) => {}
                Err(CallError::Refused(e)) => match preflight_error(&e) {
                    // A copy of this very transaction landed (its answer was lost).
                    Some(TransactionError::AlreadyProcessed) => {}
                    Some(TransactionError::BlockhashNotFound) => {
                        tracing::warn!(%signature, attempt, "blockhash not found by the node; re-signing");
                        continue;
                    }
                    _ => return Err(refusal(e)),
                },
                Err(CallError::Unreachable(last)) => {
                    // Every try failed in transport, yet one may have landed.
                    return match self.find_landed(&sent).await? {
                        Some(landed) => Ok(landed),
                        None => Err(ChainError::Rpc(last)),
                    };
                }
            }
            match self.confirm(&signature, &blockhash).await? {
                Some(slot) => return Ok(self.landed(signature, slot).await),
                // Blockhash expired before confirmation: re-sign and resend.
                None => {
                    tracing::warn!(%signature, attempt, "not confirmed before blockhash expiry; re-signing")
                }
            }
        }
        match self.find_landed(&sent).await? {
            Some(landed) => Ok(landed),
            None => Err(ChainError::Timeout(format!(
                "{} attempts",
                self.config.max_attempts
            ))),
        }
    }

    async fn landed(&self, signature: Signature, slot: u64) -> Landed {
        let logs = self.logs(&signature).await.unwrap_or_default();
        Landed {
            signature,
            slot,
            logs,
        }
    }

    /// The first of `sent` the cluster knows, once confirmed (a failed one
    /// is the program's refusal); `None` when none is known.
    async fn find_landed(&self, sent: &[(Signature, Hash)]) -> Result<Option<Landed>, ChainError> {
        if sent.is_empty() {
            return Ok(None);
        }
        let signatures: Vec<Signature> = sent.iter().map(|(s, _)| *s).collect();
        let statuses = self
            .with_retries("getSignatureStatuses", async |c| {
                c.get_signature_statuses(&signatures).await
            })
            .await?;
        for ((signature, blockhash), status) in sent.iter().zip(statuses.value) {
            if status.is_some() {
                if let Some(slot) = self.confirm(signature, blockhash).await? {
                    return Ok(Some(self.landed(*signature, slot).await));
                }
            }
        }
        Ok(None)
    }

    /// Polls until confirmed (its slot), failed (the program's error), or
    /// the blockhash is no longer valid (None).
    async fn confirm(
        &self,
        signature: &Signature,
        blockhash: &Hash,
    ) -> Result<Option<u64>, ChainError> {
        let deadline = tokio::time::Instant::now() + self.config.confirm_timeout;
        loop {
            let statuses = self
                .with_retries("getSignatureStatuses", async |c| {
                    c.get_signature_statuses(&[*signature]).await
                })
                .await?;
            if let Some(Some(status)) = statuses.value.first() {
                if let Some(err) = &status.err {
                    let logs = self.logs(signature).await.unwrap_or_default();
                    return Err(ChainError::Program {
                        failure: ProgramFailure::from_logs(&logs, err.to_string()),
                        logs,
                    });
                }
                if status.satisfies_commitment(CommitmentConfig::confirmed()) {
                    return Ok(Some(status.slot));
                }
            }
            let valid = self
                .with_retries("isBlockhashValid", async |c| {
                    c.is_blockhash_valid(blockhash, CommitmentConfig::processed())
                        .await
                })
                .await?;
            if !valid || tokio::time::Instant::now() > deadline {
                return Ok(None);
            }
            tokio::time::sleep(Duration::from_millis(400)).await;
        }
    }

    async fn logs(&self, signature: &Signature) -> Result<Vec<String>, ChainError> {
        let config = RpcTransactionConfig {
            encoding: Some(UiTransactionEncoding::Base64),
            commitment: Some(CommitmentConfig::confirmed()),
            max_supported_transaction_version: Some(0),
        };
        let tx = self
            .with_retries("getTransaction", async |c| {
                c.get_transaction_with_config(signature, config).await
            })
            .await?;
        Ok(match tx.transaction.meta.map(|m| m.log_messages) {
            Some(OptionSerializer::Some(logs)) => logs,
            _ => Vec::new(),
        })
    }

    pub async fn history(&self, address: &Pubkey) -> Result<Vec<Landed>, ChainError> {
        // Newest first, a page at a time (a node answers at most 1,000).
        let mut signatures = Vec::new();
        let mut before = None;
        loop {
            let page = self
                .with_retries("getSignaturesForAddress", async |c| {
                    let config = GetConfirmedSignaturesForAddress2Config {
                        before,
                        limit: Some(1_000),
                        ..Default::default()
                    };
                    c.get_signatures_for_address_with_config(address, config)
                        .await
                })
                .await?;
            let full = page.len() == 1_000;
            signatures.extend(page);
            match signatures.last() {
                Some(last) if full => {
                    before = Some(
                        last.signature
                            .parse()
                            .map_err(|_| ChainError::Decode(last.signature.clone()))?,
                    )
                }
                _ => break,
            }
        }
        let mut out = Vec::new();
        for s in signatures.into_iter().rev().filter(|s| s.err.is_none()) {
            let signature: Signature = s
                .signature
                .parse()
                .map_err(|_| ChainError::Decode(s.signature.clone()))?;
            out.push(Landed {
                signature,
                slot: s.slot,
                logs: self.logs(&signature).await?,
            });
        }
        Ok(out)
    }
}

/// How a call through [`RpcChain::call`] failed.
enum CallError {
    /// The node answered with an error.
    Refused(ClientError),
    /// No answer after every attempt (the last transport error).
    Unreachable(String),
}

fn bincode_clock(data: &[u8]) -> Result<Clock, ChainError> {
    // Clock is five little-endian 8-byte fields.
    let field = |i: usize| -> Result<[u8; 8], ChainError> {
        data.get(i * 8..i * 8 + 8)
            .and_then(|b| b.try_into().ok())
            .ok_or_else(|| ChainError::Decode("Clock sysvar".into()))
    };
    Ok(Clock {
        slot: u64::from_le_bytes(field(0)?),
        epoch_start_timestamp: i64::from_le_bytes(field(1)?),
        epoch: u64::from_le_bytes(field(2)?),
        leader_schedule_epoch: u64::from_le_bytes(field(3)?),
        unix_timestamp: i64::from_le_bytes(field(4)?),
    })
}

/// Transport trouble (worth another URL) rather than a refusal.
fn is_transport(e: &ClientError) -> bool {
    matches!(
        &*e.kind,
        ErrorKind::Io(_) | ErrorKind::Reqwest(_) | ErrorKind::Middleware(_)
    ) || matches!(
        &*e.kind,
        ErrorKind::RpcError(RpcError::RpcResponseError {
            data: RpcResponseErrorData::NodeUnhealthy { .. },
            ..
        })
    )
}

/// The transaction error of a failed preflight simulation.
fn preflight_error(e: &ClientError) -> Option<TransactionError> {
    match &*e.kind {
        ErrorKind::RpcError(RpcError::RpcResponseError {
            data: RpcResponseErrorData::SendTransactionPreflightFailure(sim),
            ..
        }) => sim.err.clone().map(TransactionError::from),
        _ => None,
    }
}

/// A refusal, with the program's error read from the preflight logs.
fn refusal(e: ClientError) -> ChainError {
    if let ErrorKind::RpcError(RpcError::RpcResponseError {
        data: RpcResponseErrorData::SendTransactionPreflightFailure(sim),
        ..
    }) = &*e.kind
    {
        let logs = sim.logs.clone().unwrap_or_default();
        return ChainError::Program {
            failure: ProgramFailure::from_logs(&logs, e.to_string()),
            logs,
        };
    }
    ChainError::Rpc(e.to_string())
}

/// The `p`th percentile of `values` (0 when empty).
pub fn percentile(values: &mut [u64], p: u8) -> u64 {
    if values.is_empty() {
        return 0;
    }
    values.sort_unstable();
    let rank = (values.len() - 1) * p.min(100) as usize / 100;
    values[rank]
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn percentile_picks_by_rank() {
        assert_eq!(percentile(&mut [], 75), 0);
        assert_eq!(percentile(&mut [5, 1, 3, 2, 4], 0), 1);
        assert_eq!(percentile(&mut [5, 1, 3, 2, 4], 50), 3);
        assert_eq!(percentile(&mut [5, 1, 3, 2, 4], 100), 5);
    }

    #[test]
    fn failures_of_one_url_fail_over_once() {
        let urls = vec!["http://a:8899".to_string(), "http://b:8899".to_string()];
        let rpc = RpcChain::new(RpcConfig {
            urls,
            ..RpcConfig::default()
        });
        let (_, turn) = rpc.client();
        // Two calls in flight on the first URL both fail.
        rpc.fail_over(turn);
        rpc.fail_over(turn);
        assert_eq!(rpc.client().0.url(), "http://b:8899");
    }

    #[test]
    fn clock_decodes_from_sysvar_bytes() {
        let mut data = Vec::new();
        for v in [7u64, 1, 2, 3] {
            data.extend_from_slice(&v.to_le_bytes());
        }
        data.extend_from_slice(&1_700_000_000i64.to_le_bytes());
        let clock = bincode_clock(&data).unwrap();
        assert_eq!((clock.slot, clock.unix_timestamp), (7, 1_700_000_000));
    }
}
