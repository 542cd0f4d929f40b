//! Test harness: the embedded chain with a stake mint, wallets funded at run
//! time, the CLI's own `run` driven with `--output json` (parsed back), and
//! committee attestations signed as the test fixture does.
#![allow(dead_code)]

use std::sync::Arc;

use anchor_lang::prelude::Pubkey;
use anchor_lang::AccountDeserialize;
use clap::Parser;
use serde_json::Value;
use solana_sdk::instruction::Instruction;
use solana_sdk::signature::Keypair;
use solana_sdk::signer::Signer;
use verdict::attestation::CompletionReport;
use verdict::constants::{ROLE_MINER, ROLE_VALIDATOR};
use verdict::state::model_id;
use verdict::state::{Committee, FailReason};
use verdict_chain::{Chain, EmbeddedChain};
use verdict_cli::{run, token, Cli, CliError, Env, OutputFormat};
use verdict_sdk::accounts::AccountSource;
use verdict_sdk::{attested, pda};
use verdict_tests::keys;
use verdict_tests::network::{self, NodeSpec, Setup, User};
pub use verdict_tests::NodeHandle;

pub use verdict_tests::{TEST_MODEL as MODEL, TOKEN};
const LAMPORTS: u64 = 10_000_000_000;

pub struct Harness {
    pub chain: Arc<EmbeddedChain>,
    pub mint: Pubkey,
    mint_authority: Keypair,
    /// Governance authority (initialized the Config unless `bare`).
    pub authority: Keypair,
    /// Keypair files written at run time.
    pub dir: tempfile::TempDir,
}

impl Harness {
    /// A chain with a stake mint and a funded authority; no Config yet.
    pub async fn bare() -> Self {
        let chain = Arc::new(EmbeddedChain::start().await);
        let mint_authority = Keypair::new();
        let mint = chain
            .create_mint(&mint_authority.pubkey())
            .await
            .expect("mint");
        let h = Harness {
            chain,
            mint,
            mint_authority,
            authority: Keypair::new(),
            dir: tempfile::tempdir().unwrap(),
        };
        h.chain
            .airdrop(&h.authority.pubkey(), LAMPORTS)
            .await
            .expect("airdrop");
        h
    }

    /// Initialized with the protocol's defaults through `verdict config init`.
    pub async fn new() -> Self {
        let h = Self::bare().await;
        let mint = h.mint.to_string();
        h.cli(&h.authority, &["config", "init", "--mint", &mint])
            .await
            .expect("config init");
        h
    }

    pub fn env(&self, signer: &Keypair) -> Env {
        Env::with_signer(
            Chain::Embedded(self.chain.clone()),
            signer.insecure_clone(),
            "embedded",
        )
    }

    /// Runs `verdict --output json --yes <args>` as `signer`; the JSON as printed, parsed back.
    pub async fn cli(&self, signer: &Keypair, args: &[&str]) -> Result<Value, CliError> {
        let mut argv = vec!["verdict", "--output", "json", "--yes"];
        argv.extend_from_slice(args);
        self.run_argv(signer, &argv, OutputFormat::Json)
            .await
            .map(|out| serde_json::from_str(&out).expect("JSON output"))
    }

    /// Runs `verdict --yes <args>` as `signer`; the text output.
    pub async fn cli_text(&self, signer: &Keypair, args: &[&str]) -> Result<String, CliError> {
        let mut argv = vec!["verdict", "--yes"];
        argv.extend_from_slice(args);
        self.run_argv(signer, &argv, OutputFormat::Text).await
    }

    /// Runs exactly `argv` (no `--yes` added).
    pub async fn run_argv(
        &self,
        signer: &Keypair,
        argv: &[&str],
        format: OutputFormat,
    ) -> Result<String, CliError> {
        let cli = Cli::try_parse_from(argv).unwrap_or_else(|e| panic!("{argv:?}: {e}"));
        run(cli, &self.env(signer))
            .await
            .map(|out| out.render(format))
    }

    /// Writes `keypair` to a file for flags that take one.
    pub fn keypair_file(&self, keypair: &Keypair) -> String {
        keys::keypair_file(self.dir.path(), keypair)
            .display()
            .to_string()
    }

    /// A wallet with SOL and `tokens` whole tokens in its associated token account.
    pub async fn wallet(&self, tokens: u64) -> Keypair {
        let wallet = Keypair::new();
        self.chain
            .airdrop(&wallet.pubkey(), LAMPORTS)
            .await
            .expect("airdrop");
        let create =
            token::create_associated_idempotent(&wallet.pubkey(), &wallet.pubkey(), &self.mint);
        self.chain
            .send(&[create], &wallet, &[])
            .await
            .expect("create associated token account");
        if tokens > 0 {
            let ata = self.ata(&wallet.pubkey());
            self.chain
                .mint_to(&self.mint, &self.mint_authority, &ata, tokens * TOKEN)
                .await
                .expect("mint");
        }
        wallet
    }

    /// Mints `amount` base units into `owner`'s associated token account (which must exist).
    pub async fn fund(&self, owner: &Pubkey, amount: u64) {
        let ata = self.ata(owner);
        self.chain
            .mint_to(&self.mint, &self.mint_authority, &ata, amount)
            .await
            .expect("mint");
    }

    pub fn ata(&self, owner: &Pubkey) -> Pubkey {
        token::associated_address(owner, &self.mint)
    }

    pub async fn balance(&self, owner: &Pubkey) -> u64 {
        Chain::Embedded(self.chain.clone())
            .token_balance(&self.ata(owner))
            .await
            .unwrap()
    }

    pub async fn fetch<T: AccountDeserialize>(&self, address: &Pubkey) -> T {
        let data = self
            .chain
            .account_data(address)
            .await
            .unwrap()
            .unwrap_or_else(|| panic!("{address} missing"));
        T::try_deserialize(&mut data.as_slice()).unwrap()
    }

    pub async fn exists(&self, address: &Pubkey) -> bool {
        self.chain.account_data(address).await.unwrap().is_some()
    }

    pub async fn advance(&self, secs: i64) {
        self.chain.advance_time(secs).await;
        // A fresh slot too, so SlotHashes moves and blockhashes stay fresh.
        self.chain.next_slot().await;
    }

    /// Registers a node (`"miner"` or `"validator"`) serving the test model
    /// and stakes `stake` whole tokens (the test kit's set-up; `node_lifecycle`
    /// drives `verdict node register` and `node stake` themselves).
    pub async fn node(&self, roles: &str, stake: u64) -> NodeHandle {
        let roles = match roles {
            "miner" => ROLE_MINER,
            "validator" => ROLE_VALIDATOR,
            other => panic!("roles {other}"),
        };
        let spec = NodeSpec {
            roles,
            tokens: stake * TOKEN,
            stake: stake * TOKEN,
            rent: 0,
            models: &[model_id(MODEL).unwrap()],
        };
        network::register(&mut &*self, spec)
            .await
            .expect("node registered")
    }

    /// `n` staked validators and a committee drawn from them (the test
    /// kit's draw; `committee_show_enter_and_draw` runs it through the CLI).
    pub async fn committee(&self, n: usize) -> Vec<NodeHandle> {
        let mut validators = Vec::new();
        for _ in 0..n {
            validators.push(self.node("validator", 10_000).await);
        }
        let entrants: Vec<&NodeHandle> = validators.iter().collect();
        network::rotate(&mut &*self, &entrants)
            .await
            .expect("committee draw");
        validators
    }

    /// Every validator enters (by its operator, through the CLI), then a
    /// cranker runs the draw: request, slots pass, seed and sweep.
    pub async fn draw(&self, validators: &[NodeHandle]) -> Value {
        for v in validators {
            self.cli(&v.operator.keypair, &["committee", "enter"])
                .await
                .expect("committee enter");
        }
        let cranker = self.wallet(0).await;
        let requested = self
            .cli(&cranker, &["committee", "draw"])
            .await
            .expect("committee draw (request)");
        assert_eq!(requested["stopped"], "seed slot not reached");
        for _ in 0..3 {
            self.chain.next_slot().await;
        }
        self.cli(&cranker, &["committee", "draw"])
            .await
            .expect("committee draw (seed, sweep)")
    }

    /// The chain to read and a quorum of the held `committee` keys, for an
    /// attested step (`verdict_sdk::attested`).
    async fn quorum<'k>(&self, committee: &'k [NodeHandle]) -> (Chain, Vec<&'k Keypair>) {
        let on_chain: Committee = self.fetch(&pda::committee()).await;
        let held: Vec<&Keypair> = committee.iter().map(|v| &v.signing_key).collect();
        (
            Chain::Embedded(self.chain.clone()),
            attested::quorum(&on_chain, &held),
        )
    }

    async fn send_attested(&self, ixs: Result<Vec<Instruction>, verdict_sdk::SdkError>) {
        let payer = self.chain.payer().await;
        self.chain
            .send(&ixs.expect("attested step"), &payer, &[])
            .await
            .expect("attested transaction");
    }

    /// The committee records `miner`'s trial (the test kit's step).
    pub async fn trial(&self, committee: &[NodeHandle], miner: &Pubkey, passed: bool) {
        let members: Vec<&Keypair> = committee.iter().map(|v| &v.signing_key).collect();
        network::record_trial(&mut &*self, &members, miner, passed)
            .await
            .expect("trial recorded");
    }

    pub async fn settle(
        &self,
        committee: &[NodeHandle],
        job: &Pubkey,
        miner: &Pubkey,
        price: u64,
        report: CompletionReport,
    ) {
        let (chain, signers) = self.quorum(committee).await;
        self.send_attested(attested::settle(&chain, &signers, job, miner, price, report).await)
            .await;
    }

    async fn assign(&self, committee: &[NodeHandle], job: &Pubkey, miner: &Pubkey, price: u64) {
        let (chain, signers) = self.quorum(committee).await;
        self.send_attested(attested::assign(&chain, &signers, job, miner, price).await)
            .await;
    }

    /// Assigns `job` to `miner` and completes it with `report` (the path
    /// medium- and high-risk jobs take), each step attested by `committee`.
    pub async fn assign_and_complete(
        &self,
        committee: &[NodeHandle],
        job: &Pubkey,
        miner: &Pubkey,
        price: u64,
        report: CompletionReport,
    ) {
        self.assign(committee, job, miner, price).await;
        let (chain, signers) = self.quorum(committee).await;
        self.send_attested(attested::complete(&chain, &signers, job, report).await)
            .await;
    }

    /// Assigns the job to `miner`, then fails it (the miner is penalized).
    pub async fn assign_and_fail(
        &self,
        committee: &[NodeHandle],
        job: &Pubkey,
        miner: &Pubkey,
        price: u64,
    ) {
        self.assign(committee, job, miner, price).await;
        let (chain, signers) = self.quorum(committee).await;
        self.send_attested(attested::fail(&chain, &signers, job, FailReason::InvalidOutput).await)
            .await;
    }
}

/// A valid, fast response.
pub fn good_report(output: u8, response_ms: u32) -> CompletionReport {
    CompletionReport {
        output_hash: [output; 32],
        response_ms,
        load_ms: 3,
        inference_ms: response_ms.saturating_sub(5),
        success: true,
        sla_met: response_ms <= 500,
        latency_score_bps: 9_000,
    }
}

/// A JSON field as u64 / i64 / str, panicking with the document when absent.
pub fn u(v: &Value, key: &str) -> u64 {
    v[key]
        .as_u64()
        .unwrap_or_else(|| panic!("{key} missing in {v:#}"))
}

pub fn i(v: &Value, key: &str) -> i64 {
    v[key]
        .as_i64()
        .unwrap_or_else(|| panic!("{key} missing in {v:#}"))
}

pub fn s<'a>(v: &'a Value, key: &str) -> &'a str {
    v[key]
        .as_str()
        .unwrap_or_else(|| panic!("{key} missing in {v:#}"))
}

/// The test kit's set-up steps on the harness's chain.
impl Setup for &Harness {
    type Sent = verdict_chain::Landed;
    type Error = verdict_chain::ChainError;

    fn stake_mint(&self) -> Pubkey {
        self.mint
    }

    async fn send(
        &mut self,
        instructions: &[Instruction],
        signers: &[&Keypair],
    ) -> Result<verdict_chain::Landed, verdict_chain::ChainError> {
        let payer = self.chain.payer().await;
        self.chain.send(instructions, &payer, signers).await
    }

    async fn fund_wallet(
        &mut self,
        tokens: u64,
        _rent: u64,
    ) -> Result<User, verdict_chain::ChainError> {
        let keypair = self.wallet(0).await;
        if tokens > 0 {
            self.fund(&keypair.pubkey(), tokens).await;
        }
        Ok(User {
            tokens: self.ata(&keypair.pubkey()),
            keypair,
        })
    }

    async fn pass_slot(&mut self) -> Result<u64, verdict_chain::ChainError> {
        self.chain.next_slot().await;
        self.chain.slot().await
    }

    fn read_failed(error: verdict_sdk::SdkError) -> verdict_chain::ChainError {
        panic!("reading the embedded chain: {error}")
    }
}

impl AccountSource for &Harness {
    async fn account_data(
        &self,
        address: &Pubkey,
    ) -> Result<Option<Vec<u8>>, verdict_sdk::SdkError> {
        AccountSource::account_data(&*self.chain, address).await
    }
}
