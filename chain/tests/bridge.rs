//! RpcChain and solana-rpc-client against the JSON-RPC bridge over an
//! embedded chain running the Verdict program: reads match the embedded
//! chain, sends land and confirm, the program's errors arrive by name,
//! failover past dead URLs, every injected fault is survived with each
//! transaction landing exactly once, and the double-post trap (an answer
//! dropped after the transaction landed) is shown real and avoided. Set-up
//! over RPC (SOL, a mint, token accounts) as the main job does on a cluster,
//! and a clock that runs on its own.
#![allow(deprecated)]

use std::sync::Arc;
use std::time::Duration;

use anchor_lang::prelude::Pubkey;
use solana_commitment_config::CommitmentConfig;
use solana_rpc_client::nonblocking::rpc_client::RpcClient;
use solana_rpc_client_api::client_error::ErrorKind;
use solana_rpc_client_api::config::{
    RpcAccountInfoConfig, RpcProgramAccountsConfig, RpcSendTransactionConfig, RpcTransactionConfig,
};
use solana_rpc_client_api::filter::{Memcmp, RpcFilterType};
use solana_rpc_client_api::request::{RpcError, RpcRequest, RpcResponseErrorData};
use solana_rpc_client_api::response::UiAccountEncoding;
use solana_sdk::hash::Hash;
use solana_sdk::instruction::Instruction;
use solana_sdk::signature::{Keypair, Signature};
use solana_sdk::signer::Signer;
use solana_sdk::transaction::TransactionError;
use solana_transaction_status_client_types::option_serializer::OptionSerializer;
use solana_transaction_status_client_types::UiTransactionEncoding;
use verdict::state::{Config, ProtocolParams, SlashingTable};
use verdict_chain::bridge::{BridgeClock, BridgeError, Fault, RpcBridge};
use verdict_chain::{Chain, ChainError, EmbeddedChain, ProgramFailure, RpcChain, RpcConfig};
use verdict_sdk::accounts::AccountSource;
use verdict_sdk::transaction::{build_transaction, ComputeBudget};
use verdict_sdk::{instructions as ix, pda};

use verdict::constants::defaults::TOKEN;
const REQUEST_TIMEOUT: Duration = Duration::from_secs(1);

/// An embedded chain with a Config, a funded authority holding stake tokens,
/// and a bridge serving it.
struct World {
    chain: Arc<EmbeddedChain>,
    bridge: RpcBridge,
    authority: Keypair,
    tokens: Pubkey,
    mint: Pubkey,
}

async fn world() -> World {
    let chain = Arc::new(EmbeddedChain::start().await);
    let mint_authority = Keypair::new();
    let mint = chain.create_mint(&mint_authority.pubkey()).await.unwrap();
    let authority = Keypair::new();
    chain
        .airdrop(&authority.pubkey(), 100_000_000_000)
        .await
        .unwrap();
    let tokens = chain
        .create_token_account(&authority.pubkey(), &mint)
        .await
        .unwrap();
    chain
        .mint_to(&mint, &mint_authority, &tokens, 1_000 * TOKEN)
        .await
        .unwrap();
    let bridge = RpcBridge::start(chain.clone(), "127.0.0.1:0".parse().unwrap()).unwrap();
    World {
        chain,
        bridge,
        authority,
        tokens,
        mint,
    }
}

/// Quick retries and a short request timeout (so a delayed answer times out).
fn rpc_config(urls: Vec<String>) -> RpcConfig {
    RpcConfig {
        urls,
        max_attempts: 5,
        initial_backoff: Duration::from_millis(50),
        request_timeout: REQUEST_TIMEOUT,
        confirm_timeout: Duration::from_secs(10),
        ..RpcConfig::default()
    }
}

impl World {
    fn rpc(&self, urls: Vec<String>) -> RpcChain {
        RpcChain::new(rpc_config(urls))
    }

    fn client(&self) -> RpcClient {
        RpcClient::new_with_timeout_and_commitment(
            self.bridge.url(),
            REQUEST_TIMEOUT,
            CommitmentConfig::confirmed(),
        )
    }

    fn init_config(&self) -> Instruction {
        ix::initialize_config(
            &self.authority.pubkey(),
            &self.mint,
            None,
            ProtocolParams::default(),
            SlashingTable::default(),
        )
    }

    fn fund(&self, amount: u64) -> Instruction {
        ix::fund_reward_pool(&self.authority.pubkey(), &self.tokens, amount)
    }

    async fn with_config(self) -> World {
        self.chain
            .send(&[self.init_config()], &self.authority, &[])
            .await
            .unwrap();
        self
    }

    async fn reward_pool(&self) -> u64 {
        Chain::Embedded(self.chain.clone())
            .fetch::<Config>(&pda::config())
            .await
            .unwrap()
            .totals
            .reward_pool
    }

    /// Successful transactions naming the funder's token account.
    fn funds_landed(&self) -> usize {
        self.chain.history(&self.tokens).len()
    }
}

fn dead_url() -> String {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    format!("http://{}", listener.local_addr().unwrap())
}

fn summary(history: &[verdict_chain::Landed]) -> Vec<(Signature, u64, Vec<String>)> {
    history
        .iter()
        .map(|l| (l.signature, l.slot, l.logs.clone()))
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn reads_through_rpc_match_the_embedded_chain() {
    let w = world().await.with_config().await;
    w.chain
        .send(&[w.fund(5 * TOKEN)], &w.authority, &[])
        .await
        .unwrap();
    let embedded = Chain::Embedded(w.chain.clone());
    let rpc = Chain::Rpc(Arc::new(w.rpc(vec![w.bridge.url()])));

    let missing = Pubkey::new_unique();
    for address in [
        pda::config(),
        pda::stake_vault(),
        w.tokens,
        w.mint,
        solana_sdk::sysvar::clock::ID,
        missing,
    ] {
        assert_eq!(
            rpc.account_data(&address).await.unwrap(),
            embedded.account_data(&address).await.unwrap(),
            "{address}"
        );
    }
    assert_eq!(rpc.account_data(&missing).await.unwrap(), None);
    assert_eq!(
        rpc.token_balance(&pda::stake_vault()).await.unwrap(),
        5 * TOKEN
    );
    assert_eq!(
        rpc.unix_time().await.unwrap(),
        embedded.unix_time().await.unwrap()
    );
    let accounts = rpc.program_accounts().await.unwrap();
    assert_eq!(accounts, embedded.program_accounts().await.unwrap());
    assert!(accounts.iter().any(|(k, _)| *k == pda::config()));
    let history = summary(&rpc.history(&pda::config()).await.unwrap());
    assert_eq!(
        history,
        summary(&embedded.history(&pda::config()).await.unwrap())
    );
    assert_eq!(history.len(), 2, "initialize_config, fund_reward_pool");

    // solana-rpc-client's own calls, against the bank's figures.
    let client = w.client();
    let ctx = w.chain.context().await;
    let rent = ctx.banks_client.get_rent().await.unwrap();
    let lamports = ctx
        .banks_client
        .get_balance(w.authority.pubkey())
        .await
        .unwrap();
    let slot = ctx.banks_client.get_root_slot().await.unwrap();
    drop(ctx);
    assert_eq!(
        client.get_balance(&w.authority.pubkey()).await.unwrap(),
        lamports
    );
    assert_eq!(
        client
            .get_minimum_balance_for_rent_exemption(165)
            .await
            .unwrap(),
        rent.minimum_balance(165)
    );
    assert_eq!(client.get_slot().await.unwrap(), slot);
    client.get_health().await.unwrap();
    assert!(!client.get_version().await.unwrap().solana_core.is_empty());
    let latest = client.get_latest_blockhash().await.unwrap();
    assert!(client
        .is_blockhash_valid(&latest, CommitmentConfig::processed())
        .await
        .unwrap());
    assert!(!client
        .is_blockhash_valid(&Hash::new_unique(), CommitmentConfig::processed())
        .await
        .unwrap());
    let both = client
        .get_multiple_accounts(&[w.tokens, missing])
        .await
        .unwrap();
    assert!(both[0].is_some() && both[1].is_none());

    // The SPL token accounts of the stake mint: memcmp on the mint, data size.
    let filters = vec![
        RpcFilterType::DataSize(165),
        RpcFilterType::Memcmp(Memcmp::new_raw_bytes(0, w.mint.to_bytes().to_vec())),
    ];
    // (A validator's default encoding, base58, refuses data over 128 bytes.)
    let account_config = RpcAccountInfoConfig {
        encoding: Some(UiAccountEncoding::Base64),
        ..RpcAccountInfoConfig::default()
    };
    let config = RpcProgramAccountsConfig {
        filters: Some(filters.clone()),
        account_config,
        ..RpcProgramAccountsConfig::default()
    };
    let token_accounts = client
        .get_program_accounts_with_config(&anchor_spl::token::ID, config)
        .await
        .unwrap();
    let mut keys: Vec<Pubkey> = token_accounts.iter().map(|(k, _)| *k).collect();
    keys.sort();
    let mut expected = vec![w.tokens, pda::stake_vault()];
    expected.sort();
    assert_eq!(keys, expected);
    let base58 = RpcProgramAccountsConfig {
        filters: Some(filters),
        ..RpcProgramAccountsConfig::default()
    };
    match client
        .get_program_accounts_with_config(&anchor_spl::token::ID, base58)
        .await
        .map_err(|e| *e.kind)
    {
        Err(ErrorKind::RpcError(RpcError::RpcResponseError { code: -32600, .. })) => {}
        other => panic!("base58 of 165 bytes must be refused: {other:?}"),
    }

    let unknown = client
        .send::<serde_json::Value>(
            RpcRequest::Custom {
                method: "getNoSuchThing",
            },
            serde_json::Value::Null,
        )
        .await;
    match unknown.map_err(|e| *e.kind) {
        Err(ErrorKind::RpcError(RpcError::RpcResponseError { code, message, .. })) => {
            assert_eq!((code, message.as_str()), (-32601, "Method not found"))
        }
        other => panic!("expected -32601, got {other:?}"),
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_send_lands_and_confirms_and_program_errors_arrive_by_name() {
    let w = world().await;
    let rpc = w.rpc(vec![w.bridge.url()]);
    let landed = rpc
        .send(&[w.init_config()], &w.authority, &[])
        .await
        .unwrap();
    let embedded = Chain::Embedded(w.chain.clone());
    let config = embedded.fetch::<Config>(&pda::config()).await.unwrap();
    assert_eq!(config.authority, w.authority.pubkey());
    assert_eq!(
        w.chain
            .transaction(&landed.signature)
            .map(|r| r.result.clone()),
        Some(Ok(()))
    );
    assert!(
        landed.logs.iter().any(|l| l.contains("Program data: ")),
        "the event is in the logs: {:?}",
        landed.logs
    );

    // The fee the transaction paid, as getTransaction reports it.
    let config = RpcTransactionConfig {
        encoding: Some(UiTransactionEncoding::Base64),
        commitment: Some(CommitmentConfig::confirmed()),
        max_supported_transaction_version: Some(0),
    };
    let tx = w
        .client()
        .get_transaction_with_config(&landed.signature, config)
        .await
        .unwrap();
    let meta = tx.transaction.meta.unwrap();
    assert!(meta.fee > 0 && meta.err.is_none());
    assert_eq!(
        tx.transaction.transaction.decode().unwrap().signatures[0],
        landed.signature
    );

    // Refused in preflight (-32002 with the logs): the program's error by name.
    let refused = rpc.send(&[w.fund(0)], &w.authority, &[]).await.unwrap_err();
    assert_eq!(
        refused.program_error_name(),
        Some("ZeroAmount"),
        "{refused}"
    );
    assert!(
        matches!(refused, ChainError::Program { failure: ProgramFailure { code: Some(c), .. }, .. } if c >= 6000)
    );

    // Without preflight it lands and fails: the status and the logs say why.
    let client = w.client();
    let blockhash = client.get_latest_blockhash().await.unwrap();
    let failing = build_transaction(
        &[w.fund(0)],
        &w.authority,
        &[],
        ComputeBudget::default(),
        blockhash,
    );
    let skip = RpcSendTransactionConfig {
        skip_preflight: true,
        ..RpcSendTransactionConfig::default()
    };
    let signature = client
        .send_transaction_with_config(&failing, skip)
        .await
        .unwrap();
    let status = client
        .get_signature_statuses(&[signature])
        .await
        .unwrap()
        .value[0]
        .clone()
        .expect("landed");
    let err = status.err.expect("failed on chain");
    let tx = client
        .get_transaction_with_config(&signature, config)
        .await
        .unwrap();
    let OptionSerializer::Some(logs) = tx.transaction.meta.unwrap().log_messages else {
        panic!("no logs")
    };
    assert_eq!(
        ProgramFailure::from_logs(&logs, err.to_string())
            .name
            .as_deref(),
        Some("ZeroAmount")
    );
    let failed = client.get_signatures_for_address(&w.tokens).await.unwrap();
    assert!(
        failed[0].signature == signature.to_string() && failed[0].err.is_some(),
        "newest first, with its error"
    );
    // The same transaction again: the validator's "already processed".
    let again = client.send_transaction(&failing).await.unwrap_err();
    assert_eq!(
        preflight(*again.kind),
        (
            TransactionError::AlreadyProcessed,
            "Transaction simulation failed: This transaction has already been processed".into()
        )
    );
    // An injected unknown blockhash: refused as a validator refuses it, nothing lands.
    w.bridge
        .inject("sendTransaction", Fault::BlockhashNotFound, 1)
        .unwrap();
    let landed_before = w.chain.transactions_for(&w.tokens).len();
    let fresh = build_transaction(
        &[w.fund(1)],
        &w.authority,
        &[],
        ComputeBudget::default(),
        client.get_latest_blockhash().await.unwrap(),
    );
    let refused = client.send_transaction(&fresh).await.unwrap_err();
    assert_eq!(
        preflight(*refused.kind),
        (
            TransactionError::BlockhashNotFound,
            "Transaction simulation failed: Blockhash not found".into()
        )
    );
    assert_eq!(w.chain.transactions_for(&w.tokens).len(), landed_before);

    let history = Chain::Rpc(Arc::new(rpc)).history(&w.tokens).await.unwrap();
    assert!(
        history.iter().all(|l| l.signature != signature),
        "history keeps the successful ones"
    );
    assert_eq!(summary(&history), summary(&w.chain.history(&w.tokens)));
}

/// The transaction error and message of a failed preflight (-32002).
fn preflight(kind: ErrorKind) -> (TransactionError, String) {
    match kind {
        ErrorKind::RpcError(RpcError::RpcResponseError {
            code: -32002,
            message,
            data: RpcResponseErrorData::SendTransactionPreflightFailure(sim),
        }) => (sim.err.expect("the simulation's error").into(), message),
        other => panic!("expected a preflight failure, got {other:?}"),
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn fails_over_past_dead_urls() {
    let w = world().await.with_config().await;
    let rpc = w.rpc(vec![dead_url(), w.bridge.url()]);
    assert!(rpc.account_data(&pda::config()).await.unwrap().is_some());
    rpc.send(&[w.fund(TOKEN)], &w.authority, &[]).await.unwrap();
    assert_eq!(w.reward_pool().await, TOKEN);

    // Two nodes over the same chain; the first goes down mid-use.
    let first = RpcBridge::start(w.chain.clone(), "127.0.0.1:0".parse().unwrap()).unwrap();
    let second = RpcBridge::start(w.chain.clone(), "127.0.0.1:0".parse().unwrap()).unwrap();
    let rpc = w.rpc(vec![first.url(), second.url()]);
    assert!(rpc.account_data(&pda::config()).await.unwrap().is_some());
    assert_eq!(
        (
            first.calls("getAccountInfo"),
            second.calls("getAccountInfo")
        ),
        (1, 0)
    );
    first.stop();
    assert!(rpc.account_data(&pda::config()).await.unwrap().is_some());
    rpc.send(&[w.fund(2 * TOKEN)], &w.authority, &[])
        .await
        .unwrap();
    assert!(second.calls("getAccountInfo") >= 1 && second.calls("sendTransaction") == 1);
    assert_eq!(
        Chain::Embedded(w.chain.clone())
            .fetch::<Config>(&pda::config())
            .await
            .unwrap()
            .totals
            .reward_pool,
        3 * TOKEN
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_injected_fault_is_survived_and_each_send_lands_once() {
    let w = world().await.with_config().await;
    let rpc = w.rpc(vec![w.bridge.url()]);
    let slow = Fault::Delay(REQUEST_TIMEOUT * 2);
    let cases: Vec<(&str, Fault, usize)> = vec![
        ("getAccountInfo", Fault::Unavailable, 2),
        ("getAccountInfo", Fault::NodeUnhealthy, 2),
        ("getAccountInfo", slow.clone(), 1),
        ("getProgramAccounts", Fault::Unavailable, 1),
        ("getProgramAccounts", Fault::DropAnswer, 1),
        ("getLatestBlockhash", Fault::NodeUnhealthy, 1),
        ("getRecentPrioritizationFees", Fault::DropAnswer, 1),
        ("sendTransaction", Fault::Unavailable, 2),
        ("sendTransaction", Fault::NodeUnhealthy, 1),
        ("sendTransaction", Fault::BlockhashNotFound, 2),
        ("sendTransaction", Fault::DropAnswer, 1),
        // Every try's answer lost: the copy that landed is found by status.
        ("sendTransaction", Fault::DropAnswer, 5),
        ("sendTransaction", slow.clone(), 1),
        ("getSignatureStatuses", Fault::Unavailable, 2),
        ("getSignatureStatuses", slow, 1),
        ("getTransaction", Fault::DropAnswer, 1),
    ];
    for (i, (method, fault, times)) in cases.into_iter().enumerate() {
        let amount = TOKEN + i as u64; // distinct amounts: distinct transactions
        let (pool, landed) = (w.reward_pool().await, w.funds_landed());
        w.bridge.inject(method, fault.clone(), times).unwrap();
        let read = rpc.account_data(&pda::config()).await;
        assert!(read.is_ok(), "{method} {fault:?}: {read:?}");
        assert!(rpc.program_accounts().await.is_ok(), "{method} {fault:?}");
        let sent = rpc.send(&[w.fund(amount)], &w.authority, &[]).await;
        assert!(sent.is_ok(), "{method} {fault:?} x{times}: {sent:?}");
        assert_eq!(
            w.bridge.pending(method),
            0,
            "{method} {fault:?}: every injected fault fired"
        );
        assert_eq!(
            w.reward_pool().await,
            pool + amount,
            "{method} {fault:?}: funded exactly once"
        );
        assert_eq!(
            w.funds_landed(),
            landed + 1,
            "{method} {fault:?}: one transaction landed"
        );
    }
    assert!(matches!(
        w.bridge
            .inject("getAccountInfo", Fault::BlockhashNotFound, 1),
        Err(BridgeError::FaultNotApplicable { .. })
    ));
}

/// The pattern for a non-idempotent instruction whose send may fail after
/// it landed: before every (re)send, re-read the state it changes, and stop
/// when the chain shows it applied. Returns the errors it met.
async fn fund_once(
    w: &World,
    rpc: &Arc<RpcChain>,
    amount: u64,
    pool_before: u64,
) -> Vec<ChainError> {
    let chain = Chain::Rpc(rpc.clone());
    let mut errors = Vec::new();
    for _ in 0..5 {
        let pool = chain
            .fetch::<Config>(&pda::config())
            .await
            .unwrap()
            .totals
            .reward_pool;
        if pool >= pool_before + amount {
            return errors;
        }
        match chain.send(&[w.fund(amount)], &w.authority, &[]).await {
            Ok(_) => return errors,
            Err(e @ ChainError::Program { .. }) => panic!("refused: {e}"),
            Err(e) => errors.push(e),
        }
    }
    panic!("not funded after 5 rounds: {errors:?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_answer_dropped_after_landing_is_not_sent_twice_by_an_idempotent_caller() {
    let w = world().await.with_config().await;

    // The trap is real: a caller that takes a transport error for "not
    // sent" and signs again with a fresh blockhash funds twice.
    let client = w.client();
    let pool = w.reward_pool().await;
    w.bridge
        .inject("sendTransaction", Fault::DropAnswer, 1)
        .unwrap();
    let mut blockhash = client.get_latest_blockhash().await.unwrap();
    let mut sends = 0;
    loop {
        let tx = build_transaction(
            &[w.fund(TOKEN)],
            &w.authority,
            &[],
            ComputeBudget::default(),
            blockhash,
        );
        sends += 1;
        match client.send_transaction(&tx).await {
            Ok(signature) => {
                client.poll_for_signature(&signature).await.unwrap();
                break;
            }
            Err(e) => {
                assert!(
                    matches!(*e.kind, ErrorKind::Reqwest(_)),
                    "a transport error: {e}"
                );
                blockhash = client.get_new_latest_blockhash(&blockhash).await.unwrap();
            }
        }
    }
    assert_eq!(sends, 2);
    assert_eq!(
        w.reward_pool().await,
        pool + 2 * TOKEN,
        "the naive caller funded twice"
    );

    // The same lost answer, and the client cannot even read statuses long
    // enough to find its copy: RpcChain reports an error although the
    // transaction landed. Re-reading the state before resending saves it.
    let rpc = Arc::new(RpcChain::new(RpcConfig {
        max_attempts: 2,
        ..rpc_config(vec![w.bridge.url()])
    }));
    let pool = w.reward_pool().await;
    let landed = w.funds_landed();
    w.bridge
        .inject("sendTransaction", Fault::DropAnswer, 1)
        .unwrap();
    w.bridge
        .inject("getSignatureStatuses", Fault::Unavailable, 2)
        .unwrap();
    let errors = fund_once(&w, &rpc, 3 * TOKEN, pool).await;
    assert_eq!(errors.len(), 1, "one ambiguous send: {errors:?}");
    assert!(matches!(errors[0], ChainError::Rpc(_)), "{:?}", errors[0]);
    assert_eq!(
        (
            w.bridge.pending("sendTransaction"),
            w.bridge.pending("getSignatureStatuses")
        ),
        (0, 0)
    );
    assert_eq!(
        w.reward_pool().await,
        pool + 3 * TOKEN,
        "funded exactly once"
    );
    assert_eq!(w.funds_landed(), landed + 1);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_priority_fee_follows_recent_fees_on_the_written_accounts() {
    let w = world().await.with_config().await;
    // In a slot of its own, someone paid 7,000 micro-lamports per unit to
    // write these accounts.
    w.chain.next_slot().await;
    let client = w.client();
    let budget = ComputeBudget {
        unit_limit: Some(200_000),
        micro_lamports_per_unit: Some(7_000),
    };
    let tx = build_transaction(
        &[w.fund(TOKEN)],
        &w.authority,
        &[],
        budget,
        client.get_latest_blockhash().await.unwrap(),
    );
    client.send_and_confirm_transaction(&tx).await.unwrap();
    let rpc = RpcChain::new(RpcConfig {
        priority_fee_percentile: 100,
        ..rpc_config(vec![w.bridge.url()])
    });
    let landed = rpc
        .send(&[w.fund(2 * TOKEN)], &w.authority, &[])
        .await
        .unwrap();
    let record = w.chain.transaction(&landed.signature).unwrap();
    let message = &record.transaction.message;
    let price = message.instructions().iter().find_map(|i| {
        let program = message.static_account_keys()[i.program_id_index as usize];
        (program == solana_compute_budget_interface::id() && i.data[0] == 3)
            .then(|| u64::from_le_bytes(i.data[1..9].try_into().unwrap()))
    });
    assert_eq!(price, Some(7_000));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn set_up_over_rpc_funds_wallets_creates_a_mint_and_token_accounts() {
    let w = world().await;
    let chain = Chain::Rpc(Arc::new(RpcChain::new(rpc_config(vec![w.bridge.url()]))));
    let payer = &w.authority;
    let wallet = Keypair::new();
    let rent = chain.rent_exempt_minimum(0).await.unwrap();
    chain
        .transfer(payer, payer, &wallet.pubkey(), rent + 5_000_000)
        .await
        .unwrap();
    assert_eq!(
        chain.lamports(&wallet.pubkey()).await.unwrap(),
        rent + 5_000_000
    );

    let mint_authority = Keypair::new();
    let mint = chain
        .create_mint(payer, &mint_authority.pubkey())
        .await
        .unwrap();
    let data = chain
        .account_data(&mint)
        .await
        .unwrap()
        .expect("the mint exists");
    assert_eq!(
        verdict_chain::tokens::mint_authority(&data).unwrap(),
        Some(mint_authority.pubkey())
    );
    let account = chain
        .create_token_account(payer, &wallet.pubkey(), &mint)
        .await
        .unwrap();
    chain
        .mint_to(payer, &mint, &mint_authority, &account, 7 * TOKEN)
        .await
        .unwrap();
    assert_eq!(chain.token_balance(&account).await.unwrap(), 7 * TOKEN);
    // Minting needs the mint authority's signature, by name.
    let err = chain
        .mint_to(payer, &mint, payer, &account, 1)
        .await
        .unwrap_err();
    assert!(
        err.to_string().contains("owner does not match") || err.to_string().contains("0x4"),
        "{err}"
    );

    // A wallet can be emptied back to the payer (the payer pays the fee).
    let before = chain.lamports(&payer.pubkey()).await.unwrap();
    chain
        .transfer(payer, &wallet, &payer.pubkey(), rent + 5_000_000)
        .await
        .unwrap();
    assert_eq!(chain.lamports(&wallet.pubkey()).await.unwrap(), 0);
    // Two signatures (payer and wallet) at 5,000 lamports each.
    assert_eq!(
        chain.lamports(&payer.pubkey()).await.unwrap(),
        before + rent + 5_000_000 - 10_000
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_running_clock_moves_on_its_own_and_keeps_a_warp() {
    let chain = Arc::new(EmbeddedChain::start().await);
    let bridge = RpcBridge::start_with(
        chain.clone(),
        "127.0.0.1:0".parse().unwrap(),
        BridgeClock::Running { speed: 20 },
    )
    .unwrap();
    let rpc = RpcChain::new(rpc_config(vec![bridge.url()]));
    let start = rpc.unix_time().await.unwrap();
    tokio::time::sleep(Duration::from_millis(1_500)).await;
    let later = rpc.unix_time().await.unwrap();
    // 1.5 s at 20×: about 30 s (ticks are 400 ms apart).
    assert!(
        (start + 15..=start + 40).contains(&later),
        "{start} -> {later}"
    );
    chain.advance_time(3_600).await;
    tokio::time::sleep(Duration::from_millis(1_000)).await;
    let warped = rpc.unix_time().await.unwrap();
    assert!(
        warped >= later + 3_600 + 10,
        "the warp holds and time runs on: {later} -> {warped}"
    );

    // Frozen (the default), it stands still.
    let frozen = Arc::new(EmbeddedChain::start().await);
    let still = RpcBridge::start(frozen.clone(), "127.0.0.1:0".parse().unwrap()).unwrap();
    let rpc = RpcChain::new(rpc_config(vec![still.url()]));
    let t = rpc.unix_time().await.unwrap();
    tokio::time::sleep(Duration::from_millis(1_000)).await;
    assert_eq!(rpc.unix_time().await.unwrap(), t);
}
