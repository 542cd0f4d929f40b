//! The Solana JSON-RPC methods the bridge serves, over the embedded chain,
//! with the validator's parameters, result shapes and error objects (built
//! from the same solana-rpc-client-api types a validator serializes). Where
//! the embedded bank differs from a validator is listed in the bridge's docs.

use std::collections::BTreeMap;

use anchor_lang::prelude::Pubkey;
use base64::prelude::{Engine, BASE64_STANDARD};
use jsonrpc_core::{Error as RpcError, ErrorCode, Params};
use serde::de::DeserializeOwned;
use serde::Serialize;
use serde_json::Value;
use solana_account_decoder::{encode_ui_account, UiAccount, UiAccountEncoding, UiDataSliceConfig};
use solana_commitment_config::{CommitmentConfig, CommitmentLevel};
use solana_rpc_client_api::config::{
    RpcAccountInfoConfig, RpcContextConfig, RpcEncodingConfigWrapper, RpcProgramAccountsConfig,
    RpcSendTransactionConfig, RpcSignatureStatusConfig, RpcSignaturesForAddressConfig,
    RpcTransactionConfig,
};
use solana_rpc_client_api::custom_error::RpcCustomError;
use solana_rpc_client_api::filter::RpcFilterType;
use solana_rpc_client_api::response::{
    OptionalContext, Response, RpcApiVersion, RpcBlockhash,
    RpcConfirmedTransactionStatusWithSignature, RpcKeyedAccount, RpcPrioritizationFee,
    RpcResponseContext, RpcSimulateTransactionResult, RpcVersionInfo,
};
use solana_sdk::account::Account;
use solana_sdk::hash::Hash;
use solana_sdk::message::{Message, VersionedMessage};
use solana_sdk::signature::Signature;
use solana_sdk::signer::Signer;
use solana_sdk::transaction::{Transaction, TransactionError, VersionedTransaction};
use solana_transaction_status_client_types::{
    EncodedConfirmedTransactionWithStatusMeta, EncodedTransaction,
    EncodedTransactionWithStatusMeta, TransactionBinaryEncoding, TransactionConfirmationStatus,
    TransactionStatus, TransactionStatusMeta, UiTransactionEncoding,
};

use crate::embedded::TxRecord;
use crate::EmbeddedChain;

type Answer = Result<Value, RpcError>;

/// Carries out `method`. `blockhash_not_found` is the injected fault of that
/// name (sendTransaction only).
pub(super) async fn call(
    chain: &EmbeddedChain,
    method: &str,
    params: Params,
    blockhash_not_found: bool,
) -> Answer {
    let args = Args::new(params)?;
    match method {
        "getAccountInfo" => get_account_info(chain, &args).await,
        "getMultipleAccounts" => get_multiple_accounts(chain, &args).await,
        "getBalance" => get_balance(chain, &args).await,
        "getProgramAccounts" => get_program_accounts(chain, &args).await,
        "getLatestBlockhash" => get_latest_blockhash(chain, &args).await,
        "isBlockhashValid" => is_blockhash_valid(chain, &args).await,
        "sendTransaction" => send_transaction(chain, &args, blockhash_not_found).await,
        "getSignatureStatuses" => get_signature_statuses(chain, &args).await,
        "getTransaction" => get_transaction(chain, &args),
        "getSignaturesForAddress" => get_signatures_for_address(chain, &args).await,
        "getRecentPrioritizationFees" => get_recent_prioritization_fees(chain, &args).await,
        "getFeeForMessage" => get_fee_for_message(chain, &args).await,
        "getMinimumBalanceForRentExemption" => {
            let len: usize = args.required(0, "data length")?;
            let rent = chain
                .context()
                .await
                .banks_client
                .get_rent()
                .await
                .map_err(internal)?;
            ok(rent.minimum_balance(len))
        }
        // The bank's working slot (a cluster's "processed"), as the Clock has it.
        "getSlot" => ok(chain.slot().await.map_err(internal)?),
        "getBlockHeight" => ok(chain
            .context()
            .await
            .banks_client
            .get_root_block_height()
            .await
            .map_err(internal)?),
        "getHealth" => ok("ok"),
        "getVersion" => ok(RpcVersionInfo {
            solana_core: RpcApiVersion::default().to_string(),
            feature_set: None,
        }),
        _ => Err(RpcError::method_not_found()),
    }
}

/// Positional parameters; a missing or null trailing one is absent.
struct Args(Vec<Value>);

impl Args {
    fn new(params: Params) -> Result<Args, RpcError> {
        match params {
            Params::None => Ok(Args(Vec::new())),
            Params::Array(values) => Ok(Args(values)),
            Params::Map(_) => Err(RpcError::invalid_params(
                "Invalid params: expected an array of positional parameters.",
            )),
        }
    }

    fn optional<T: DeserializeOwned>(&self, i: usize) -> Result<Option<T>, RpcError> {
        match self.0.get(i) {
            None | Some(Value::Null) => Ok(None),
            Some(v) => serde_json::from_value(v.clone())
                .map(Some)
                .map_err(|e| RpcError::invalid_params(format!("Invalid params: {e}."))),
        }
    }

    fn required<T: DeserializeOwned>(&self, i: usize, what: &str) -> Result<T, RpcError> {
        self.optional(i)?
            .ok_or_else(|| RpcError::invalid_params(format!("Invalid params: missing {what}.")))
    }

    fn config<T: DeserializeOwned + Default>(&self, i: usize) -> Result<T, RpcError> {
        Ok(self.optional(i)?.unwrap_or_default())
    }

    fn pubkey(&self, i: usize) -> Result<Pubkey, RpcError> {
        parse_pubkey(&self.required::<String>(i, "address")?)
    }
}

fn parse_pubkey(s: &str) -> Result<Pubkey, RpcError> {
    s.parse()
        .map_err(|e| RpcError::invalid_params(format!("Invalid param: {e:?}")))
}

fn parse_signature(s: &str) -> Result<Signature, RpcError> {
    s.parse()
        .map_err(|_| RpcError::invalid_params("Invalid param: WrongSize"))
}

fn ok<T: Serialize>(value: T) -> Answer {
    serde_json::to_value(value).map_err(internal)
}

fn internal(e: impl std::fmt::Display) -> RpcError {
    RpcError {
        code: ErrorCode::InternalError,
        message: e.to_string(),
        data: None,
    }
}

fn too_many(max: usize) -> RpcError {
    RpcError::invalid_params(format!("Too many inputs provided; max {max}"))
}

async fn slot(chain: &EmbeddedChain) -> Result<u64, RpcError> {
    chain
        .context()
        .await
        .banks_client
        .get_root_slot()
        .await
        .map_err(internal)
}

/// The context slot, once it has reached the caller's minimum.
async fn context(
    chain: &EmbeddedChain,
    min_context_slot: Option<u64>,
) -> Result<RpcResponseContext, RpcError> {
    let slot = slot(chain).await?;
    match min_context_slot {
        Some(min) if min > slot => {
            Err(RpcCustomError::MinContextSlotNotReached { context_slot: slot }.into())
        }
        _ => Ok(RpcResponseContext::new(slot)),
    }
}

fn with_context<T: Serialize>(context: RpcResponseContext, value: T) -> Answer {
    ok(Response { context, value })
}

/// Transaction history is served at `confirmed` or above, as by a validator.
fn confirmed_at_least(commitment: Option<CommitmentConfig>) -> Result<(), RpcError> {
    match commitment {
        Some(c) if c.commitment == CommitmentLevel::Processed => Err(RpcError::invalid_params(
            "Method does not support commitment below `confirmed`",
        )),
        _ => Ok(()),
    }
}

/// An account in the requested encoding. No parsers here: `jsonParsed`
/// falls back to base64, as a validator does for data it cannot parse.
fn encode_account(
    key: &Pubkey,
    account: &Account,
    encoding: Option<UiAccountEncoding>,
    slice: Option<UiDataSliceConfig>,
) -> Result<UiAccount, RpcError> {
    let encoding = match encoding.unwrap_or(UiAccountEncoding::Binary) {
        UiAccountEncoding::JsonParsed => UiAccountEncoding::Base64,
        other => other,
    };
    let len = slice.map_or(account.data.len(), |s| {
        s.length.min(account.data.len().saturating_sub(s.offset))
    });
    if matches!(
        encoding,
        UiAccountEncoding::Binary | UiAccountEncoding::Base58
    ) && len > 128
    {
        return Err(RpcError {
            code: ErrorCode::InvalidRequest,
            message: "Encoded binary (base 58) data should be less than 128 bytes, please use Base64 encoding.".into(),
            data: None,
        });
    }
    Ok(encode_ui_account(key, account, encoding, None, slice))
}

async fn get_account_info(chain: &EmbeddedChain, args: &Args) -> Answer {
    let key = args.pubkey(0)?;
    let config: RpcAccountInfoConfig = args.config(1)?;
    let context = context(chain, config.min_context_slot).await?;
    let account = chain.account(&key).await.map_err(internal)?;
    let value = account
        .map(|a| encode_account(&key, &a, config.encoding, config.data_slice))
        .transpose()?;
    with_context(context, value)
}

async fn get_multiple_accounts(chain: &EmbeddedChain, args: &Args) -> Answer {
    let keys: Vec<String> = args.required(0, "addresses")?;
    if keys.len() > 100 {
        return Err(too_many(100));
    }
    let config: RpcAccountInfoConfig = args.config(1)?;
    let context = context(chain, config.min_context_slot).await?;
    let mut value = Vec::with_capacity(keys.len());
    for key in keys {
        let key = parse_pubkey(&key)?;
        let account = chain.account(&key).await.map_err(internal)?;
        value.push(
            account
                .map(|a| encode_account(&key, &a, config.encoding, config.data_slice))
                .transpose()?,
        );
    }
    with_context(context, value)
}

async fn get_balance(chain: &EmbeddedChain, args: &Args) -> Answer {
    let key = args.pubkey(0)?;
    let config: RpcContextConfig = args.config(1)?;
    let context = context(chain, config.min_context_slot).await?;
    let lamports = chain
        .account(&key)
        .await
        .map_err(internal)?
        .map_or(0, |a| a.lamports);
    with_context(context, lamports)
}

fn filter_allows(filter: &RpcFilterType, data: &[u8]) -> bool {
    match filter {
        RpcFilterType::DataSize(size) => data.len() as u64 == *size,
        RpcFilterType::Memcmp(compare) => compare.bytes_match(data),
        // An initialized SPL token account: 165 bytes, state byte at 108.
        RpcFilterType::TokenAccountState => data.len() == 165 && data[108] != 0,
    }
}

async fn get_program_accounts(chain: &EmbeddedChain, args: &Args) -> Answer {
    let program = args.pubkey(0)?;
    let config: RpcProgramAccountsConfig = args.config(1)?;
    let filters = config.filters.unwrap_or_default();
    if filters.len() > 4 {
        return Err(RpcError::invalid_params("Too many filters provided; max 4"));
    }
    for filter in &filters {
        filter
            .verify()
            .map_err(|e| RpcError::invalid_params(format!("Invalid param: {e:?}")))?;
    }
    let context = context(chain, config.account_config.min_context_slot).await?;
    let accounts = chain.accounts_owned_by(&program).await.map_err(internal)?;
    let mut keyed = Vec::new();
    for (key, account) in accounts
        .iter()
        .filter(|(_, a)| filters.iter().all(|f| filter_allows(f, &a.data)))
    {
        let account = encode_account(
            key,
            account,
            config.account_config.encoding,
            config.account_config.data_slice,
        )?;
        keyed.push(RpcKeyedAccount {
            pubkey: key.to_string(),
            account,
        });
    }
    if config.with_context.unwrap_or(false) {
        ok(OptionalContext::Context(Response {
            context,
            value: keyed,
        }))
    } else {
        ok(OptionalContext::NoContext(keyed))
    }
}

async fn get_latest_blockhash(chain: &EmbeddedChain, args: &Args) -> Answer {
    let config: RpcContextConfig = args.config(0)?;
    let context = context(chain, config.min_context_slot).await?;
    let latest = chain
        .context()
        .await
        .banks_client
        .get_latest_blockhash_with_commitment(CommitmentLevel::Processed)
        .await;
    let (hash, last_valid_block_height) = latest
        .map_err(internal)?
        .ok_or_else(|| internal("no blockhash"))?;
    with_context(
        context,
        RpcBlockhash {
            blockhash: hash.to_string(),
            last_valid_block_height,
        },
    )
}

/// Whether a transaction on `hash` would still be processed: the bank's own
/// age check, run by simulating an empty transaction of the funded payer.
async fn blockhash_valid(chain: &EmbeddedChain, hash: &Hash) -> Result<bool, RpcError> {
    let ctx = chain.context().await;
    let message = Message::new_with_blockhash(&[], Some(&ctx.payer.pubkey()), hash);
    let probe = Transaction {
        signatures: vec![Signature::default()],
        message,
    };
    let simulated = ctx
        .banks_client
        .simulate_transaction(probe)
        .await
        .map_err(internal)?;
    Ok(simulated.result != Some(Err(TransactionError::BlockhashNotFound)))
}

async fn is_blockhash_valid(chain: &EmbeddedChain, args: &Args) -> Answer {
    let hash: Hash = args
        .required::<String>(0, "blockhash")?
        .parse()
        .map_err(|e| RpcError::invalid_params(format!("Invalid param: {e:?}")))?;
    let config: RpcContextConfig = args.config(1)?;
    let context = context(chain, config.min_context_slot).await?;
    with_context(context, blockhash_valid(chain, &hash).await?)
}

fn preflight_failure(
    err: TransactionError,
    logs: Vec<String>,
    units_consumed: u64,
    loaded_accounts_data_size: Option<u32>,
) -> RpcError {
    RpcCustomError::SendTransactionPreflightFailure {
        message: format!("Transaction simulation failed: {err}"),
        result: RpcSimulateTransactionResult {
            err: Some(err.into()),
            logs: Some(logs),
            accounts: None,
            units_consumed: Some(units_consumed),
            loaded_accounts_data_size,
            return_data: None,
            inner_instructions: None,
            replacement_blockhash: None,
            fee: None,
            pre_balances: None,
            post_balances: None,
            pre_token_balances: None,
            post_token_balances: None,
            loaded_addresses: None,
        },
    }
    .into()
}

async fn send_transaction(chain: &EmbeddedChain, args: &Args, blockhash_not_found: bool) -> Answer {
    let data: String = args.required(0, "transaction")?;
    let config: RpcSendTransactionConfig = args.config(1)?;
    // A validator's default is base58.
    let encoding = config.encoding.unwrap_or(UiTransactionEncoding::Base58);
    let binary = encoding.into_binary_encoding().ok_or_else(|| {
        RpcError::invalid_params(format!(
            "unsupported encoding: {encoding:?}. Supported encodings: base58, base64"
        ))
    })?;
    let tx = EncodedTransaction::Binary(data, binary)
        .decode()
        .ok_or_else(|| RpcError::invalid_params("failed to deserialize the transaction"))?;
    tx.sanitize()
        .map_err(|e| RpcError::invalid_params(format!("invalid transaction: {e}")))?;
    let signature = tx.signatures[0];
    context(chain, config.min_context_slot).await?;
    if blockhash_not_found {
        if config.skip_preflight {
            return ok(signature.to_string());
        }
        return Err(preflight_failure(
            TransactionError::BlockhashNotFound,
            Vec::new(),
            0,
            None,
        ));
    }
    if !config.skip_preflight {
        if !tx.verify_with_results().into_iter().all(|valid| valid) {
            return Err(RpcCustomError::TransactionSignatureVerificationFailure.into());
        }
        let simulated = chain
            .context()
            .await
            .banks_client
            .simulate_transaction(tx.clone())
            .await
            .map_err(internal)?;
        if let Some(Err(err)) = simulated.result {
            let (logs, units, size) = simulated
                .simulation_details
                .map_or((Vec::new(), 0, None), |d| {
                    (d.logs, d.units_consumed, Some(d.loaded_accounts_data_size))
                });
            return Err(preflight_failure(err, logs, units, size));
        }
    }
    // Whatever the bank makes of it, a node answers with the signature.
    let processed = chain.process_transaction(tx).await.map_err(internal)?;
    if let Err(e) = &processed.result {
        tracing::debug!(%signature, error = %e, "sent transaction did not succeed");
    }
    ok(signature.to_string())
}

fn status_of(record: &TxRecord) -> TransactionStatus {
    TransactionStatus {
        slot: record.slot,
        confirmations: None,
        status: record.result.clone(),
        err: record.result.clone().err(),
        confirmation_status: Some(TransactionConfirmationStatus::Finalized),
    }
}

async fn get_signature_statuses(chain: &EmbeddedChain, args: &Args) -> Answer {
    let signatures: Vec<String> = args.required(0, "signatures")?;
    if signatures.len() > 256 {
        return Err(too_many(256));
    }
    // searchTransactionHistory: the ledger keeps every transaction anyway.
    let _config: Option<RpcSignatureStatusConfig> = args.optional(1)?;
    let context = context(chain, None).await?;
    let mut value = Vec::with_capacity(signatures.len());
    for s in &signatures {
        value.push(
            chain
                .transaction(&parse_signature(s)?)
                .map(|r| status_of(&r)),
        );
    }
    with_context(context, value)
}

fn get_transaction(chain: &EmbeddedChain, args: &Args) -> Answer {
    let signature = parse_signature(&args.required::<String>(0, "signature")?)?;
    let config = args
        .optional::<RpcEncodingConfigWrapper<RpcTransactionConfig>>(1)?
        .map(|w| w.convert_to_current())
        .unwrap_or_default();
    confirmed_at_least(config.commitment)?;
    // A validator's default is json, which needs its parsers: refused here.
    let encoding = config.encoding.unwrap_or(UiTransactionEncoding::Json);
    let binary = encoding.into_binary_encoding().ok_or_else(|| {
        RpcError::invalid_params(format!(
            "unsupported encoding: {encoding:?}. The bridge serves base58 and base64"
        ))
    })?;
    let Some(record) = chain.transaction(&signature) else {
        return ok(Value::Null);
    };
    let tx = &record.transaction;
    if let (VersionedMessage::V0(_), None) = (&tx.message, config.max_supported_transaction_version)
    {
        return Err(RpcCustomError::UnsupportedTransactionVersion(0).into());
    }
    let bytes = bincode::serialize(tx).map_err(internal)?;
    let transaction = match (encoding, binary) {
        (UiTransactionEncoding::Binary, _) => {
            EncodedTransaction::LegacyBinary(bs58::encode(bytes).into_string())
        }
        (_, TransactionBinaryEncoding::Base58) => {
            EncodedTransaction::Binary(bs58::encode(bytes).into_string(), binary)
        }
        (_, TransactionBinaryEncoding::Base64) => {
            EncodedTransaction::Binary(BASE64_STANDARD.encode(bytes), binary)
        }
    };
    let meta = TransactionStatusMeta {
        status: record.result.clone(),
        fee: record.fee,
        log_messages: Some(record.logs.clone()),
        compute_units_consumed: Some(record.compute_units),
        ..TransactionStatusMeta::default()
    };
    ok(EncodedConfirmedTransactionWithStatusMeta {
        slot: record.slot,
        transaction: EncodedTransactionWithStatusMeta {
            transaction,
            meta: Some(meta.into()),
            version: config
                .max_supported_transaction_version
                .map(|_| tx.version()),
        },
        block_time: Some(record.block_time),
    })
}

async fn get_signatures_for_address(chain: &EmbeddedChain, args: &Args) -> Answer {
    let address = args.pubkey(0)?;
    let config: RpcSignaturesForAddressConfig = args.config(1)?;
    confirmed_at_least(config.commitment)?;
    let limit = config.limit.unwrap_or(1_000);
    if limit == 0 || limit > 1_000 {
        return Err(RpcError::invalid_params("Invalid limit; max 1000"));
    }
    let before = config.before.as_deref().map(parse_signature).transpose()?;
    let until = config.until.as_deref().map(parse_signature).transpose()?;
    context(chain, config.min_context_slot).await?;
    let newest_first: Vec<_> = chain.transactions_for(&address).into_iter().rev().collect();
    let start = match before {
        // An unknown `before` has nothing before it.
        Some(before) => newest_first
            .iter()
            .position(|r| r.signature == before)
            .map_or(newest_first.len(), |i| i + 1),
        None => 0,
    };
    let value: Vec<RpcConfirmedTransactionStatusWithSignature> = newest_first[start..]
        .iter()
        .take_while(|r| Some(r.signature) != until)
        .take(limit)
        .map(|r| RpcConfirmedTransactionStatusWithSignature {
            signature: r.signature.to_string(),
            slot: r.slot,
            err: r.result.clone().err().map(Into::into),
            memo: None,
            block_time: Some(r.block_time),
            confirmation_status: Some(TransactionConfirmationStatus::Finalized),
        })
        .collect();
    ok(value)
}

/// The compute-unit price a transaction set, in micro-lamports (0 if none).
fn compute_unit_price(tx: &VersionedTransaction) -> u64 {
    let keys = tx.message.static_account_keys();
    tx.message
        .instructions()
        .iter()
        .filter(|ix| {
            keys.get(ix.program_id_index as usize) == Some(&solana_compute_budget_interface::id())
        })
        // SetComputeUnitPrice: tag 3, then the price as a little-endian u64.
        .find_map(|ix| match ix.data.split_first() {
            Some((3, price)) => price
                .get(..8)
                .and_then(|b| b.try_into().ok())
                .map(u64::from_le_bytes),
            _ => None,
        })
        .unwrap_or(0)
}

/// Per slot of the last 150 with landed transactions, as a validator's fee
/// cache: the block's lowest price, raised to the lowest price paid by the
/// transactions writing each given account (the highest of those).
async fn get_recent_prioritization_fees(chain: &EmbeddedChain, args: &Args) -> Answer {
    let addresses: Vec<String> = args.config(0)?;
    if addresses.len() > 128 {
        return Err(too_many(128));
    }
    let addresses = addresses
        .iter()
        .map(|a| parse_pubkey(a))
        .collect::<Result<Vec<_>, _>>()?;
    let current = slot(chain).await?;
    #[derive(Default)]
    struct SlotFees {
        block_min: Option<u64>,
        account_min: BTreeMap<Pubkey, u64>,
    }
    let mut slots: BTreeMap<u64, SlotFees> = BTreeMap::new();
    for record in chain
        .transactions_since(current.saturating_sub(150))
        .iter()
        .filter(|r| r.result.is_ok())
    {
        let price = compute_unit_price(&record.transaction);
        let fees = slots.entry(record.slot).or_default();
        fees.block_min = Some(fees.block_min.map_or(price, |m| m.min(price)));
        let message = &record.transaction.message;
        for (i, key) in message.static_account_keys().iter().enumerate() {
            if message.is_maybe_writable(i, None) {
                let min = fees.account_min.entry(*key).or_insert(price);
                *min = (*min).min(price);
            }
        }
    }
    let value: Vec<RpcPrioritizationFee> = slots
        .into_iter()
        .map(|(slot, fees)| {
            let accounts = addresses
                .iter()
                .filter_map(|a| fees.account_min.get(a))
                .copied()
                .max()
                .unwrap_or(0);
            RpcPrioritizationFee {
                slot,
                prioritization_fee: fees.block_min.unwrap_or(0).max(accounts),
            }
        })
        .collect();
    ok(value)
}

async fn get_fee_for_message(chain: &EmbeddedChain, args: &Args) -> Answer {
    let data: String = args.required(0, "message")?;
    let config: RpcContextConfig = args.config(1)?;
    let bytes = BASE64_STANDARD
        .decode(data)
        .map_err(|e| RpcError::invalid_params(format!("invalid base64 encoding: {e}")))?;
    let message: VersionedMessage = bincode::deserialize(&bytes)
        .map_err(|e| RpcError::invalid_params(format!("failed to deserialize the message: {e}")))?;
    let context = context(chain, config.min_context_slot).await?;
    let fee = match message {
        VersionedMessage::Legacy(m) => chain
            .context()
            .await
            .banks_client
            .get_fee_for_message(m)
            .await
            .map_err(internal)?,
        VersionedMessage::V0(_) => None,
    };
    with_context(context, fee)
}
