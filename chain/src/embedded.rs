//! The embedded chain: a real Solana bank in-process (solana-program-test)
//! with the Verdict program running natively (or its SBF build when
//! `SBF_OUT_DIR` names one), the real SPL Token program and the real ed25519
//! precompile. The demo, the CLI's tests and the keeper's tests run on it.
//! It keeps a ledger of every transaction the bank committed, which is what
//! `history` and the JSON-RPC bridge (feature `bridge`) serve.

use std::collections::{BTreeSet, HashMap, HashSet};
use std::sync::{Arc, Mutex as StdMutex};

use anchor_lang::prelude::{AccountInfo, Pubkey};
use anchor_lang::solana_program::entrypoint::ProgramResult;
use anchor_lang::solana_program::system_instruction;
use anchor_lang::{AccountDeserialize, AccountSerialize};
use solana_program_test::{processor, BanksClientError, ProgramTest, ProgramTestContext};
use solana_sdk::account::Account;
use solana_sdk::clock::Clock;
use solana_sdk::instruction::Instruction;
use solana_sdk::message::VersionedMessage;
use solana_sdk::signature::{Keypair, Signature};
use solana_sdk::signer::Signer;
use solana_sdk::transaction::{TransactionError, VersionedTransaction};
use tokio::sync::{Mutex, MutexGuard};
use verdict_sdk::transaction::{build_transaction, ComputeBudget};

use crate::{tokens, ChainError, Landed, ProgramFailure};

/// Anchor's generated `entry` ties every lifetime to one `'info`; program-test
/// hands independent ones. The accounts live for the whole call, so narrowing
/// them to the call's scope is sound.
fn process_instruction(
    program_id: &Pubkey,
    accounts: &[AccountInfo],
    data: &[u8],
) -> ProgramResult {
    let accounts: &[AccountInfo] = unsafe { std::mem::transmute(accounts) };
    verdict::entry(program_id, accounts, data)
}

/// The runtime logs every instruction at debug level; keep output readable
/// unless the caller asked for logs with RUST_LOG.
fn quiet_runtime_logs() {
    static ONCE: std::sync::Once = std::sync::Once::new();
    ONCE.call_once(|| {
        if std::env::var_os("RUST_LOG").is_none() {
            std::env::set_var("RUST_LOG", "error");
        }
    });
}

/// The program under test. Never forces the native processor: with
/// `SBF_OUT_DIR` naming a folder holding `verdict.so`, the SBF build runs.
#[allow(deprecated)]
pub fn program_test() -> ProgramTest {
    quiet_runtime_logs();
    let mut pt = ProgramTest::new("verdict", verdict::ID, processor!(process_instruction));
    pt.set_compute_max_units(1_400_000);
    pt
}

/// What processing one transaction produced, success or not.
#[derive(Debug)]
pub struct Processed {
    pub signature: Signature,
    pub result: Result<(), TransactionError>,
    pub logs: Vec<String>,
    pub compute_units: u64,
}

/// A transaction the bank committed (it landed: fee paid), successful or
/// not.
#[derive(Clone, Debug)]
pub struct TxRecord {
    pub signature: Signature,
    pub slot: u64,
    /// The Clock's unix time when it landed.
    pub block_time: i64,
    pub transaction: VersionedTransaction,
    pub result: Result<(), TransactionError>,
    pub logs: Vec<String>,
    pub compute_units: u64,
    /// Lamports charged to the fee payer.
    pub fee: u64,
}

impl TxRecord {
    /// Every account the message names (fee payer, signers, instruction
    /// accounts, programs): what a validator indexes signatures by.
    pub fn account_keys(&self) -> &[Pubkey] {
        self.transaction.message.static_account_keys()
    }

    fn landed(&self) -> Landed {
        Landed {
            signature: self.signature,
            slot: self.slot,
            logs: self.logs.clone(),
        }
    }
}

/// Committed transactions, in commit order and by account.
#[derive(Default)]
struct Ledger {
    all: Vec<Arc<TxRecord>>,
    by_signature: HashMap<Signature, Arc<TxRecord>>,
    by_address: HashMap<Pubkey, Vec<Arc<TxRecord>>>,
}

impl Ledger {
    fn insert(&mut self, record: TxRecord) {
        let record = Arc::new(record);
        let keys: BTreeSet<Pubkey> = record.account_keys().iter().copied().collect();
        for key in keys {
            self.by_address.entry(key).or_default().push(record.clone());
        }
        self.by_signature.insert(record.signature, record.clone());
        self.all.push(record);
    }
}

pub struct EmbeddedChain {
    ctx: Mutex<ProgramTestContext>,
    /// Every account a transaction touched (the embedded getProgramAccounts).
    seen: StdMutex<BTreeSet<Pubkey>>,
    ledger: StdMutex<Ledger>,
    sent: StdMutex<HashSet<Signature>>,
}

impl EmbeddedChain {
    pub async fn start() -> Self {
        Self::start_with(program_test()).await
    }

    /// Starts `program_test` (from [`program_test`], with whatever a test
    /// added to it, such as another program).
    pub async fn start_with(program_test: ProgramTest) -> Self {
        let ctx = program_test.start_with_context().await;
        EmbeddedChain {
            ctx: Mutex::new(ctx),
            seen: StdMutex::new(BTreeSet::new()),
            ledger: StdMutex::new(Ledger::default()),
            sent: StdMutex::new(HashSet::new()),
        }
    }

    /// Direct access to the bank (time travel, account surgery in tests).
    pub async fn context(&self) -> MutexGuard<'_, ProgramTestContext> {
        self.ctx.lock().await
    }

    /// The bank's funded genesis payer.
    pub async fn payer(&self) -> Keypair {
        self.ctx.lock().await.payer.insecure_clone()
    }

    /// Processes one transaction; a repeated message gets a fresh blockhash
    /// so it is new, and an expired blockhash is refreshed once.
    pub async fn process(
        &self,
        instructions: &[Instruction],
        payer: &Keypair,
        signers: &[&Keypair],
    ) -> Result<Processed, BanksClientError> {
        let mut ctx = self.ctx.lock().await;
        {
            let mut seen = self.seen.lock().unwrap();
            for ix in instructions {
                seen.extend(ix.accounts.iter().map(|m| m.pubkey));
            }
        }
        let mut attempt = 0;
        loop {
            let mut tx = build_transaction(
                instructions,
                payer,
                signers,
                ComputeBudget::default(),
                ctx.last_blockhash,
            );
            if self.sent.lock().unwrap().contains(&tx.signatures[0]) {
                next_slot(&mut ctx).await;
                tx = build_transaction(
                    instructions,
                    payer,
                    signers,
                    ComputeBudget::default(),
                    ctx.last_blockhash,
                );
            }
            self.sent.lock().unwrap().insert(tx.signatures[0]);
            let processed = self.commit(&ctx, tx.into()).await?;
            if processed.result == Err(TransactionError::BlockhashNotFound) && attempt == 0 {
                attempt += 1;
                next_slot(&mut ctx).await;
                continue;
            }
            return Ok(processed);
        }
    }

    /// Processes a transaction exactly as signed (no fresh blockhash, no
    /// re-signing), as a validator receives it: the bridge's sendTransaction.
    pub async fn process_transaction(
        &self,
        tx: VersionedTransaction,
    ) -> Result<Processed, BanksClientError> {
        let ctx = self.ctx.lock().await;
        self.sent.lock().unwrap().insert(tx.signatures[0]);
        self.commit(&ctx, tx).await
    }

    /// Runs one transaction through the bank and, when the bank committed
    /// it (success or a failed instruction: the fee is paid either way),
    /// records it in the ledger.
    async fn commit(
        &self,
        ctx: &ProgramTestContext,
        tx: VersionedTransaction,
    ) -> Result<Processed, BanksClientError> {
        let signature = tx.signatures[0];
        // Priced before processing, while its blockhash is surely known.
        let fee = match &tx.message {
            VersionedMessage::Legacy(message) => ctx
                .banks_client
                .get_fee_for_message(message.clone())
                .await?
                .unwrap_or(0),
            VersionedMessage::V0(_) => 0,
        };
        let outcome = ctx
            .banks_client
            .process_transaction_with_metadata(tx.clone())
            .await?;
        // No metadata: refused before execution (unknown blockhash, already
        // processed, cannot pay the fee), so nothing landed.
        let Some(meta) = outcome.metadata else {
            return Ok(Processed {
                signature,
                result: outcome.result,
                logs: Vec::new(),
                compute_units: 0,
            });
        };
        let slot = ctx.banks_client.get_root_slot().await.unwrap_or_default();
        let block_time = ctx
            .banks_client
            .get_sysvar::<Clock>()
            .await
            .map(|c| c.unix_timestamp)
            .unwrap_or_default();
        let record = TxRecord {
            signature,
            slot,
            block_time,
            transaction: tx,
            result: outcome.result.clone(),
            logs: meta.log_messages.clone(),
            compute_units: meta.compute_units_consumed,
            fee,
        };
        self.seen
            .lock()
            .unwrap()
            .extend(record.account_keys().iter().copied());
        self.ledger.lock().unwrap().insert(record);
        Ok(Processed {
            signature,
            result: outcome.result,
            logs: meta.log_messages,
            compute_units: meta.compute_units_consumed,
        })
    }

    pub async fn send(
        &self,
        instructions: &[Instruction],
        payer: &Keypair,
        signers: &[&Keypair],
    ) -> Result<Landed, ChainError> {
        let processed = self
            .process(instructions, payer, signers)
            .await
            .map_err(|e| ChainError::Rpc(e.to_string()))?;
        match processed.result {
            Ok(()) => {
                let slot = self
                    .ctx
                    .lock()
                    .await
                    .banks_client
                    .get_root_slot()
                    .await
                    .unwrap_or_default();
                Ok(Landed {
                    signature: processed.signature,
                    slot,
                    logs: processed.logs,
                })
            }
            Err(e) => Err(ChainError::Program {
                failure: ProgramFailure::from_logs(&processed.logs, e.to_string()),
                logs: processed.logs,
            }),
        }
    }

    pub async fn account_data(&self, address: &Pubkey) -> Result<Option<Vec<u8>>, ChainError> {
        let ctx = self.ctx.lock().await;
        ctx.banks_client
            .get_account(*address)
            .await
            .map(|a| a.map(|a| a.data))
            .map_err(|e| ChainError::Rpc(e.to_string()))
    }

    /// The bank's Clock sysvar.
    async fn clock(&self) -> Result<Clock, ChainError> {
        let ctx = self.ctx.lock().await;
        ctx.banks_client
            .get_sysvar()
            .await
            .map_err(|e| ChainError::Rpc(e.to_string()))
    }

    pub async fn unix_time(&self) -> Result<i64, ChainError> {
        Ok(self.clock().await?.unix_timestamp)
    }

    /// Sets the bank's unix time (the Clock sysvar).
    pub async fn set_time(&self, unix_timestamp: i64) {
        let ctx = self.ctx.lock().await;
        let mut clock: Clock = ctx.banks_client.get_sysvar().await.unwrap();
        clock.unix_timestamp = unix_timestamp;
        ctx.set_sysvar(&clock);
    }

    /// Moves the clock forward by `secs`.
    pub async fn advance_time(&self, secs: i64) {
        let now = self.unix_time().await.unwrap();
        self.set_time(now + secs).await;
    }

    /// The bank's current slot.
    pub async fn slot(&self) -> Result<u64, ChainError> {
        Ok(self.clock().await?.slot)
    }

    /// Advances one or more slots (fresh blockhash, new SlotHashes entry),
    /// keeping the unix time where it was.
    pub async fn next_slot(&self) {
        let mut ctx = self.ctx.lock().await;
        next_slot(&mut ctx).await;
    }

    pub async fn program_accounts(&self) -> Result<Vec<(Pubkey, Vec<u8>)>, ChainError> {
        Ok(self
            .accounts_owned_by(&verdict::ID)
            .await?
            .into_iter()
            .map(|(k, a)| (k, a.data))
            .collect())
    }

    /// The whole account (lamports, owner, data), `None` when it does not exist.
    pub async fn account(&self, address: &Pubkey) -> Result<Option<Account>, ChainError> {
        let ctx = self.ctx.lock().await;
        ctx.banks_client
            .get_account(*address)
            .await
            .map_err(|e| ChainError::Rpc(e.to_string()))
    }

    /// Accounts owned by `program`, sorted by address. The bank has no
    /// owner index, so only accounts some transaction named are found (every
    /// account a program creates is named by the transaction creating it).
    pub async fn accounts_owned_by(
        &self,
        program: &Pubkey,
    ) -> Result<Vec<(Pubkey, Account)>, ChainError> {
        let keys: Vec<Pubkey> = self.seen.lock().unwrap().iter().copied().collect();
        let ctx = self.ctx.lock().await;
        let mut out = Vec::new();
        for key in keys {
            if let Some(account) = ctx
                .banks_client
                .get_account(key)
                .await
                .map_err(|e| ChainError::Rpc(e.to_string()))?
            {
                if account.owner == *program {
                    out.push((key, account));
                }
            }
        }
        Ok(out)
    }

    /// The successful transactions naming `address`, oldest first.
    pub fn history(&self, address: &Pubkey) -> Vec<Landed> {
        self.transactions_for(address)
            .iter()
            .filter(|r| r.result.is_ok())
            .map(|r| r.landed())
            .collect()
    }

    /// Every committed transaction naming `address` (failed ones too), oldest first.
    pub fn transactions_for(&self, address: &Pubkey) -> Vec<Arc<TxRecord>> {
        self.ledger
            .lock()
            .unwrap()
            .by_address
            .get(address)
            .cloned()
            .unwrap_or_default()
    }

    /// A committed transaction by its first signature.
    pub fn transaction(&self, signature: &Signature) -> Option<Arc<TxRecord>> {
        self.ledger
            .lock()
            .unwrap()
            .by_signature
            .get(signature)
            .cloned()
    }

    /// Committed transactions that landed at `min_slot` or later, in commit order.
    pub fn transactions_since(&self, min_slot: u64) -> Vec<Arc<TxRecord>> {
        let ledger = self.ledger.lock().unwrap();
        let newer = ledger
            .all
            .iter()
            .rev()
            .take_while(|r| r.slot >= min_slot)
            .count();
        ledger.all[ledger.all.len() - newer..].to_vec()
    }

    // Set-up helpers: wallets, a mint, token accounts.

    pub async fn airdrop(&self, to: &Pubkey, lamports: u64) -> Result<(), ChainError> {
        let payer = self.payer().await;
        self.send(
            &[system_instruction::transfer(&payer.pubkey(), to, lamports)],
            &payer,
            &[],
        )
        .await
        .map(|_| ())
    }

    /// A new mint with `authority` and 9 decimals.
    pub async fn create_mint(&self, authority: &Pubkey) -> Result<Pubkey, ChainError> {
        let mint = Keypair::new();
        let payer = self.payer().await;
        let ixs = tokens::create_mint(
            &payer.pubkey(),
            &mint.pubkey(),
            authority,
            self.rent_exempt_minimum(tokens::MINT_LEN).await?,
        )?;
        self.send(&ixs, &payer, &[&mint]).await?;
        Ok(mint.pubkey())
    }

    /// A new token account of `mint` owned by `owner`.
    pub async fn create_token_account(
        &self,
        owner: &Pubkey,
        mint: &Pubkey,
    ) -> Result<Pubkey, ChainError> {
        let account = Keypair::new();
        let payer = self.payer().await;
        let rent = self.rent_exempt_minimum(tokens::TOKEN_ACCOUNT_LEN).await?;
        let ixs =
            tokens::create_token_account(&payer.pubkey(), &account.pubkey(), mint, owner, rent)?;
        self.send(&ixs, &payer, &[&account]).await?;
        Ok(account.pubkey())
    }

    pub async fn mint_to(
        &self,
        mint: &Pubkey,
        authority: &Keypair,
        to: &Pubkey,
        amount: u64,
    ) -> Result<(), ChainError> {
        let payer = self.payer().await;
        self.send(
            &[tokens::mint_to(mint, &authority.pubkey(), to, amount)?],
            &payer,
            &[authority],
        )
        .await
        .map(|_| ())
    }

    /// Rewrites a program account in place (test-only surgery, e.g. a
    /// miner's record without replaying its history).
    pub async fn patch<T: AccountSerialize + AccountDeserialize>(
        &self,
        address: &Pubkey,
        edit: impl FnOnce(&mut T),
    ) -> Result<(), ChainError> {
        let mut ctx = self.ctx.lock().await;
        let mut account = ctx
            .banks_client
            .get_account(*address)
            .await
            .map_err(|e| ChainError::Rpc(e.to_string()))?
            .ok_or_else(|| ChainError::Decode(format!("no account {address}")))?;
        let mut value = T::try_deserialize(&mut account.data.as_slice())
            .map_err(|e| ChainError::Decode(format!("{address}: {e}")))?;
        edit(&mut value);
        let mut data = Vec::new();
        value
            .try_serialize(&mut data)
            .map_err(|e| ChainError::Decode(format!("{address}: {e}")))?;
        account.data[..data.len()].copy_from_slice(&data);
        ctx.set_account(address, &account.into());
        Ok(())
    }

    /// Lamports an account of `len` bytes needs to be rent-exempt.
    pub async fn rent_exempt_minimum(&self, len: usize) -> Result<u64, ChainError> {
        let rent = self
            .ctx
            .lock()
            .await
            .banks_client
            .get_rent()
            .await
            .map_err(|e| ChainError::Rpc(e.to_string()))?;
        Ok(rent.minimum_balance(len))
    }

    /// An account's lamports (0 when it does not exist).
    pub async fn lamports(&self, address: &Pubkey) -> Result<u64, ChainError> {
        self.ctx
            .lock()
            .await
            .banks_client
            .get_balance(*address)
            .await
            .map_err(|e| ChainError::Rpc(e.to_string()))
    }
}

async fn next_slot(ctx: &mut ProgramTestContext) {
    let clock: Clock = ctx.banks_client.get_sysvar().await.unwrap();
    let slot = ctx.banks_client.get_root_slot().await.unwrap();
    ctx.warp_to_slot(slot.max(clock.slot) + 2).unwrap();
    let mut after: Clock = ctx.banks_client.get_sysvar().await.unwrap();
    after.unix_timestamp = clock.unix_timestamp;
    ctx.set_sysvar(&after);
}
