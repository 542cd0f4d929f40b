//! The embedded chain: a real Solana bank in-process (solana-program-test)
//! with the Verdict program running natively (or its SBF build when
//! `SBF_OUT_DIR` names one), the real SPL Token program and the real ed25519
//! precompile. The demo, the CLI's tests and the keeper's tests run on it.

use std::collections::{BTreeSet, HashMap, HashSet};
use std::sync::Mutex as StdMutex;

use anchor_lang::prelude::{AccountInfo, Pubkey};
use anchor_lang::solana_program::entrypoint::ProgramResult;
use anchor_lang::solana_program::system_instruction;
use anchor_spl::token::spl_token;
use solana_program_test::{processor, BanksClientError, ProgramTest, ProgramTestContext};
use solana_sdk::clock::Clock;
use solana_sdk::instruction::Instruction;
use solana_sdk::program_pack::Pack;
use solana_sdk::signature::{Keypair, Signature};
use solana_sdk::signer::Signer;
use solana_sdk::transaction::TransactionError;
use tokio::sync::{Mutex, MutexGuard};
use verdict_sdk::transaction::{build_transaction, ComputeBudget};

use crate::{ChainError, Landed, ProgramFailure};

/// Anchor's generated `entry` ties every lifetime to one `'info`; program-test
/// hands independent ones. The accounts live for the whole call, so narrowing
/// them to the call's scope is sound.
fn process_instruction(program_id: &Pubkey, accounts: &[AccountInfo], data: &[u8]) -> ProgramResult {
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

pub struct EmbeddedChain {
    ctx: Mutex<ProgramTestContext>,
    /// Every account a transaction touched (the embedded getProgramAccounts).
    seen: StdMutex<BTreeSet<Pubkey>>,
    /// Successful transactions by account (the embedded signature history).
    history: StdMutex<HashMap<Pubkey, Vec<Landed>>>,
    sent: StdMutex<HashSet<Signature>>,
}

impl EmbeddedChain {
    pub async fn start() -> Self {
        let ctx = program_test().start_with_context().await;
        EmbeddedChain {
            ctx: Mutex::new(ctx),
            seen: StdMutex::new(BTreeSet::new()),
            history: StdMutex::new(HashMap::new()),
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
            let mut tx = build_transaction(instructions, payer, signers, ComputeBudget::default(), ctx.last_blockhash);
            if self.sent.lock().unwrap().contains(&tx.signatures[0]) {
                next_slot(&mut ctx).await;
                tx = build_transaction(instructions, payer, signers, ComputeBudget::default(), ctx.last_blockhash);
            }
            let signature = tx.signatures[0];
            self.sent.lock().unwrap().insert(signature);
            let outcome = ctx.banks_client.process_transaction_with_metadata(tx).await?;
            if outcome.result == Err(TransactionError::BlockhashNotFound) && attempt == 0 {
                attempt += 1;
                next_slot(&mut ctx).await;
                continue;
            }
            let (logs, compute_units) =
                outcome.metadata.map(|m| (m.log_messages, m.compute_units_consumed)).unwrap_or_default();
            if outcome.result.is_ok() {
                let slot = ctx.banks_client.get_root_slot().await.unwrap_or_default();
                let landed = Landed { signature, slot, logs: logs.clone() };
                let mut history = self.history.lock().unwrap();
                let keys: BTreeSet<Pubkey> = instructions.iter().flat_map(|i| i.accounts.iter().map(|m| m.pubkey)).collect();
                for key in keys {
                    history.entry(key).or_default().push(landed.clone());
                }
            }
            return Ok(Processed { signature, result: outcome.result, logs, compute_units });
        }
    }

    pub async fn send(&self, instructions: &[Instruction], payer: &Keypair, signers: &[&Keypair]) -> Result<Landed, ChainError> {
        let processed = self.process(instructions, payer, signers).await.map_err(|e| ChainError::Rpc(e.to_string()))?;
        match processed.result {
            Ok(()) => {
                let slot = self.ctx.lock().await.banks_client.get_root_slot().await.unwrap_or_default();
                Ok(Landed { signature: processed.signature, slot, logs: processed.logs })
            }
            Err(e) => Err(ChainError::Program {
                failure: ProgramFailure::from_logs(&processed.logs, e.to_string()),
                logs: processed.logs,
            }),
        }
    }

    pub async fn account_data(&self, address: &Pubkey) -> Result<Option<Vec<u8>>, ChainError> {
        let ctx = self.ctx.lock().await;
        ctx.banks_client.get_account(*address).await.map(|a| a.map(|a| a.data)).map_err(|e| ChainError::Rpc(e.to_string()))
    }

    pub async fn unix_time(&self) -> Result<i64, ChainError> {
        let ctx = self.ctx.lock().await;
        let clock: Clock = ctx.banks_client.get_sysvar().await.map_err(|e| ChainError::Rpc(e.to_string()))?;
        Ok(clock.unix_timestamp)
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

    /// Advances one or more slots (fresh blockhash, new SlotHashes entry),
    /// keeping the unix time where it was.
    pub async fn next_slot(&self) {
        let mut ctx = self.ctx.lock().await;
        next_slot(&mut ctx).await;
    }

    pub async fn program_accounts(&self) -> Result<Vec<(Pubkey, Vec<u8>)>, ChainError> {
        let keys: Vec<Pubkey> = self.seen.lock().unwrap().iter().copied().collect();
        let ctx = self.ctx.lock().await;
        let mut out = Vec::new();
        for key in keys {
            if let Some(account) = ctx.banks_client.get_account(key).await.map_err(|e| ChainError::Rpc(e.to_string()))? {
                if account.owner == verdict::ID {
                    out.push((key, account.data));
                }
            }
        }
        Ok(out)
    }

    pub fn history(&self, address: &Pubkey) -> Vec<Landed> {
        self.history.lock().unwrap().get(address).cloned().unwrap_or_default()
    }

    // Set-up helpers: wallets, a mint, token accounts.

    pub async fn airdrop(&self, to: &Pubkey, lamports: u64) -> Result<(), ChainError> {
        let payer = self.payer().await;
        self.send(&[system_instruction::transfer(&payer.pubkey(), to, lamports)], &payer, &[]).await.map(|_| ())
    }

    /// A new mint with `authority` and 9 decimals.
    pub async fn create_mint(&self, authority: &Pubkey) -> Result<Pubkey, ChainError> {
        let mint = Keypair::new();
        let payer = self.payer().await;
        let rent = self.ctx.lock().await.banks_client.get_rent().await.map_err(|e| ChainError::Rpc(e.to_string()))?;
        let ixs = [
            system_instruction::create_account(
                &payer.pubkey(),
                &mint.pubkey(),
                rent.minimum_balance(spl_token::state::Mint::LEN),
                spl_token::state::Mint::LEN as u64,
                &spl_token::ID,
            ),
            spl_token::instruction::initialize_mint2(&spl_token::ID, &mint.pubkey(), authority, None, 9)
                .map_err(|e| ChainError::Rpc(e.to_string()))?,
        ];
        self.send(&ixs, &payer, &[&mint]).await?;
        Ok(mint.pubkey())
    }

    /// A new token account of `mint` owned by `owner`.
    pub async fn create_token_account(&self, owner: &Pubkey, mint: &Pubkey) -> Result<Pubkey, ChainError> {
        let account = Keypair::new();
        let payer = self.payer().await;
        let rent = self.ctx.lock().await.banks_client.get_rent().await.map_err(|e| ChainError::Rpc(e.to_string()))?;
        let ixs = [
            system_instruction::create_account(
                &payer.pubkey(),
                &account.pubkey(),
                rent.minimum_balance(spl_token::state::Account::LEN),
                spl_token::state::Account::LEN as u64,
                &spl_token::ID,
            ),
            spl_token::instruction::initialize_account3(&spl_token::ID, &account.pubkey(), mint, owner)
                .map_err(|e| ChainError::Rpc(e.to_string()))?,
        ];
        self.send(&ixs, &payer, &[&account]).await?;
        Ok(account.pubkey())
    }

    pub async fn mint_to(&self, mint: &Pubkey, authority: &Keypair, to: &Pubkey, amount: u64) -> Result<(), ChainError> {
        let payer = self.payer().await;
        let ix = spl_token::instruction::mint_to(&spl_token::ID, mint, to, &authority.pubkey(), &[], amount)
            .map_err(|e| ChainError::Rpc(e.to_string()))?;
        self.send(&[ix], &payer, &[authority]).await.map(|_| ())
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
