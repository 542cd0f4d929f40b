//! The fixture every integration test starts from: a bank with the program
//! and SPL Token, a stake mint, funded users, registered nodes, a movable
//! clock, and the accounting invariants checked after every transaction.

use std::collections::{BTreeSet, HashSet};

use anchor_lang::prelude::{AccountInfo, Pubkey};
use anchor_lang::solana_program::entrypoint::ProgramResult;
use anchor_lang::AccountDeserialize;
use anchor_spl::token::spl_token;
use anchor_spl::token::TokenAccount;
use solana_program_test::{processor, BanksClientError, ProgramTest, ProgramTestContext};
use solana_sdk::clock::Clock;
use solana_sdk::instruction::Instruction;
use solana_sdk::program_pack::Pack;
use solana_sdk::signature::{Keypair, Signature};
use solana_sdk::signer::Signer;
use anchor_lang::solana_program::system_instruction;
use verdict::constants::ROLE_MINER;
use verdict::state::{model_id, Config, Node, ProtocolParams, SlashingTable};
use verdict_sdk::accounts::AccountSource;
use verdict_sdk::events::{parse_logs, VerdictEvent};
use verdict_sdk::invariants::{self, Snapshot};
use verdict_sdk::transaction::{build_transaction, ComputeBudget};
use verdict_sdk::{instructions as ix, pda, SdkError};

use crate::compute_units;
use crate::errors::TxResult;

/// One token of the test mint (9 decimals).
pub const TOKEN: u64 = 1_000_000_000;
const USER_LAMPORTS: u64 = 10_000_000_000;

/// Anchor's generated `entry` ties every lifetime to one `'info`; program-test
/// hands independent ones. The accounts live for the whole call, so narrowing
/// them to the call's scope is sound.
fn process_instruction(program_id: &Pubkey, accounts: &[AccountInfo], data: &[u8]) -> ProgramResult {
    let accounts: &[AccountInfo] = unsafe { std::mem::transmute(accounts) };
    verdict::entry(program_id, accounts, data)
}

/// The program under test. Never forces the native processor: with
/// `SBF_OUT_DIR` naming a folder holding `verdict.so`, the SBF build runs.
pub fn program_test() -> ProgramTest {
    quiet_runtime_logs();
    let mut pt = ProgramTest::new("verdict", verdict::ID, processor!(process_instruction));
    pt.set_compute_max_units(1_400_000);
    pt
}

/// The runtime logs every instruction at debug level; keep test output
/// readable unless the caller asked for logs with RUST_LOG.
fn quiet_runtime_logs() {
    static ONCE: std::sync::Once = std::sync::Once::new();
    ONCE.call_once(|| {
        if std::env::var_os("RUST_LOG").is_none() {
            std::env::set_var("RUST_LOG", "error");
        }
    });
}

/// What a successful transaction left behind.
#[derive(Debug, Clone)]
pub struct TxOutcome {
    pub logs: Vec<String>,
    pub compute_units: u64,
    pub events: Vec<VerdictEvent>,
}

/// A funded wallet with a token account of the stake mint.
pub struct User {
    pub keypair: Keypair,
    pub tokens: Pubkey,
}

impl User {
    pub fn pubkey(&self) -> Pubkey {
        self.keypair.pubkey()
    }
}

/// A registered node and the keys that drive it.
pub struct NodeHandle {
    pub operator: User,
    pub signing_key: Keypair,
    pub node: Pubkey,
}

impl NodeHandle {
    pub fn operator_pubkey(&self) -> Pubkey {
        self.operator.pubkey()
    }
}

pub struct Fixture {
    pub ctx: ProgramTestContext,
    pub authority: Keypair,
    pub mint: Pubkey,
    mint_authority: Keypair,
    /// The bank's unix time, as the fixture last set it.
    pub now: i64,
    /// Every account any transaction touched: the invariants' universe.
    seen: BTreeSet<Pubkey>,
    sent: HashSet<Signature>,
}

impl Fixture {
    /// A bank with the program, a stake mint and a funded authority; no Config yet.
    pub async fn bare() -> Self {
        let ctx = program_test().start_with_context().await;
        let clock: Clock = ctx.banks_client.get_sysvar().await.unwrap();
        let mut f = Fixture {
            ctx,
            authority: Keypair::new(),
            mint: Pubkey::default(),
            mint_authority: Keypair::new(),
            now: clock.unix_timestamp,
            seen: BTreeSet::new(),
            sent: HashSet::new(),
        };
        let authority = f.authority.pubkey();
        f.airdrop(&authority).await;
        f.mint = f.create_mint().await;
        f.seen.insert(pda::config());
        f.seen.insert(pda::stake_vault());
        f
    }

    /// A bank with the Config initialized with the protocol's defaults.
    pub async fn new() -> Self {
        Self::with_params(ProtocolParams::default()).await
    }

    pub async fn with_params(params: ProtocolParams) -> Self {
        let mut f = Self::bare().await;
        let init = ix::initialize_config(&f.authority.pubkey(), &f.mint, None, params, SlashingTable::default());
        let authority = f.authority.insecure_clone();
        f.send(&[init], &[&authority]).await.expect("initialize_config");
        f
    }

    /// Signs with `signers` (the fee payer is the bank's payer), processes,
    /// records compute units, then checks every invariant whatever the result.
    pub async fn send(&mut self, instructions: &[Instruction], signers: &[&Keypair]) -> TxResult {
        let result = self.process(instructions, signers).await;
        self.check_invariants().await;
        result
    }

    async fn process(&mut self, instructions: &[Instruction], signers: &[&Keypair]) -> TxResult {
        for ix in instructions {
            self.seen.extend(ix.accounts.iter().map(|m| m.pubkey));
        }
        let payer = self.ctx.payer.insecure_clone();
        let mut tx = build_transaction(instructions, &payer, signers, ComputeBudget::default(), self.ctx.last_blockhash);
        if self.sent.contains(&tx.signatures[0]) {
            // An identical transaction needs a fresh blockhash to be new.
            self.next_slot().await;
            tx = build_transaction(instructions, &payer, signers, ComputeBudget::default(), self.ctx.last_blockhash);
        }
        self.sent.insert(tx.signatures[0]);
        let outcome = self.ctx.banks_client.process_transaction_with_metadata(tx).await?;
        let (logs, compute_units) =
            outcome.metadata.map(|m| (m.log_messages, m.compute_units_consumed)).unwrap_or_default();
        outcome.result.map_err(BanksClientError::TransactionError)?;
        let main = instructions.iter().find(|i| i.program_id == verdict::ID);
        if let Some(name) = main.and_then(|i| ix::instruction_name(&i.data)) {
            compute_units::record(name, compute_units);
        }
        let events = parse_logs(&logs);
        Ok(TxOutcome { logs, compute_units, events })
    }

    async fn next_slot(&mut self) {
        let slot = self.ctx.banks_client.get_root_slot().await.unwrap();
        self.ctx.warp_to_slot(slot + 2).unwrap();
        self.set_time(self.now).await;
    }

    /// Sets the bank's unix time.
    pub async fn set_time(&mut self, unix_timestamp: i64) {
        let mut clock: Clock = self.ctx.banks_client.get_sysvar().await.unwrap();
        clock.unix_timestamp = unix_timestamp;
        self.ctx.set_sysvar(&clock);
        self.now = unix_timestamp;
    }

    /// Moves the clock forward by `secs`.
    pub async fn advance(&mut self, secs: i64) {
        self.set_time(self.now + secs).await;
    }

    // Accounts and balances.

    pub async fn airdrop(&mut self, to: &Pubkey) {
        let payer = self.ctx.payer.insecure_clone();
        let ix = system_instruction::transfer(&payer.pubkey(), to, USER_LAMPORTS);
        self.process(&[ix], &[]).await.expect("airdrop");
    }

    pub async fn create_mint(&mut self) -> Pubkey {
        let mint = Keypair::new();
        let rent = self.ctx.banks_client.get_rent().await.unwrap();
        let payer = self.ctx.payer.pubkey();
        let ixs = [
            system_instruction::create_account(
                &payer,
                &mint.pubkey(),
                rent.minimum_balance(spl_token::state::Mint::LEN),
                spl_token::state::Mint::LEN as u64,
                &spl_token::ID,
            ),
            spl_token::instruction::initialize_mint2(&spl_token::ID, &mint.pubkey(), &self.mint_authority.pubkey(), None, 9)
                .unwrap(),
        ];
        self.process(&ixs, &[&mint]).await.expect("create mint");
        mint.pubkey()
    }

    /// A new token account of `mint` owned by `owner`.
    pub async fn token_account(&mut self, owner: &Pubkey, mint: &Pubkey) -> Pubkey {
        let account = Keypair::new();
        let rent = self.ctx.banks_client.get_rent().await.unwrap();
        let payer = self.ctx.payer.pubkey();
        let ixs = [
            system_instruction::create_account(
                &payer,
                &account.pubkey(),
                rent.minimum_balance(spl_token::state::Account::LEN),
                spl_token::state::Account::LEN as u64,
                &spl_token::ID,
            ),
            spl_token::instruction::initialize_account3(&spl_token::ID, &account.pubkey(), mint, owner).unwrap(),
        ];
        self.process(&ixs, &[&account]).await.expect("create token account");
        account.pubkey()
    }

    /// Mints stake tokens (only the fixture's mint has a known authority).
    pub async fn mint_to(&mut self, account: &Pubkey, amount: u64) {
        let authority = self.mint_authority.insecure_clone();
        let ix = spl_token::instruction::mint_to(&spl_token::ID, &self.mint, account, &authority.pubkey(), &[], amount)
            .unwrap();
        self.process(&[ix], &[&authority]).await.expect("mint_to");
    }

    /// A funded wallet holding `tokens` of the stake mint.
    pub async fn user(&mut self, tokens: u64) -> User {
        let keypair = Keypair::new();
        self.airdrop(&keypair.pubkey()).await;
        let mint = self.mint;
        let account = self.token_account(&keypair.pubkey(), &mint).await;
        if tokens > 0 {
            self.mint_to(&account, tokens).await;
        }
        User { keypair, tokens: account }
    }

    /// Registers a node with `roles` serving the test model, without stake.
    pub async fn register(&mut self, roles: u8, tokens: u64) -> NodeHandle {
        let operator = self.user(tokens).await;
        let signing_key = Keypair::new();
        let ix = ix::register_node(
            &operator.pubkey(),
            &signing_key.pubkey(),
            &self.mint,
            roles,
            vec![model_id("test-projection-v1").unwrap()],
            1_000,
        );
        self.send(&[ix], &[&operator.keypair, &signing_key]).await.expect("register_node");
        let node = pda::node(&operator.pubkey());
        NodeHandle { operator, signing_key, node }
    }

    /// Registers a miner and stakes `stake` tokens for it.
    pub async fn staked_miner(&mut self, stake: u64) -> NodeHandle {
        let handle = self.register(ROLE_MINER, stake).await;
        self.stake(&handle, stake).await.expect("stake");
        handle
    }

    pub async fn stake(&mut self, handle: &NodeHandle, amount: u64) -> TxResult {
        let ix = ix::stake(&handle.operator.pubkey(), &handle.operator.tokens, amount);
        self.send(&[ix], &[&handle.operator.keypair]).await
    }

    pub async fn request_unstake(&mut self, handle: &NodeHandle, amount: u64) -> (TxResult, Pubkey) {
        let ticket_id = self.node(&handle.node).await.next_ticket_id;
        let ix = ix::request_unstake(&handle.operator.pubkey(), ticket_id, amount);
        let result = self.send(&[ix], &[&handle.operator.keypair]).await;
        (result, pda::unbond_ticket(&handle.node, ticket_id))
    }

    pub async fn delegate(&mut self, staker: &User, node: &Pubkey, amount: u64) -> TxResult {
        let ix = ix::delegate(&staker.pubkey(), node, &staker.tokens, amount);
        self.send(&[ix], &[&staker.keypair]).await
    }

    pub async fn request_undelegate(&mut self, staker: &User, node: &Pubkey, shares: u64) -> (TxResult, Pubkey) {
        let ticket_id = self.node(node).await.next_ticket_id;
        let ix = ix::request_undelegate(&staker.pubkey(), node, ticket_id, shares);
        let result = self.send(&[ix], &[&staker.keypair]).await;
        (result, pda::unbond_ticket(node, ticket_id))
    }

    pub async fn token_balance(&mut self, account: &Pubkey) -> u64 {
        let data = self.ctx.banks_client.get_account(*account).await.unwrap().expect("token account").data;
        TokenAccount::try_deserialize(&mut data.as_slice()).unwrap().amount
    }

    pub async fn lamports(&mut self, account: &Pubkey) -> u64 {
        self.ctx.banks_client.get_balance(*account).await.unwrap()
    }

    pub async fn exists(&mut self, account: &Pubkey) -> bool {
        self.ctx.banks_client.get_account(*account).await.unwrap().is_some()
    }

    pub async fn config(&self) -> Config {
        self.fetch(&pda::config()).await.expect("config")
    }

    pub async fn node(&self, node: &Pubkey) -> Node {
        self.fetch(node).await.expect("node")
    }

    /// Fetches and decodes any Verdict account that must exist.
    pub async fn fetch_account<T: AccountDeserialize>(&self, address: &Pubkey) -> T {
        self.fetch(address).await.expect("account")
    }

    // Invariants.

    /// Snapshot of every Verdict account any transaction has touched.
    pub async fn snapshot(&mut self) -> Snapshot {
        let mut accounts = Vec::new();
        for key in &self.seen {
            if let Some(account) = self.ctx.banks_client.get_account(*key).await.unwrap() {
                if account.owner == verdict::ID {
                    accounts.push((*key, account.data));
                }
            }
        }
        let vault = pda::stake_vault();
        let balance = if self.exists(&vault).await { self.token_balance(&vault).await } else { 0 };
        let mut snapshot =
            Snapshot::from_accounts(accounts.iter().map(|(k, d)| (*k, d.as_slice())), balance).expect("decodable accounts");
        for vault in snapshot.vaults() {
            if self.exists(&vault).await {
                let amount = self.token_balance(&vault).await;
                snapshot.token_balances.insert(vault, amount);
            }
        }
        snapshot
    }

    /// Panics with every violated invariant.
    pub async fn check_invariants(&mut self) {
        let snapshot = self.snapshot().await;
        if let Err(violations) = invariants::check(&snapshot) {
            panic!("accounting invariants violated:\n  {}", violations.join("\n  "));
        }
    }
}

impl AccountSource for Fixture {
    async fn account_data(&self, address: &Pubkey) -> Result<Option<Vec<u8>>, SdkError> {
        let client = self.ctx.banks_client.clone();
        client
            .get_account(*address)
            .await
            .map(|a| a.map(|a| a.data))
            .map_err(|e| SdkError::Client(e.to_string()))
    }
}
