//! The fixture every integration test starts from: a bank with the program
//! and SPL Token, a stake mint, funded users, registered nodes, a movable
//! clock, and the accounting invariants checked after every transaction.

use std::collections::BTreeSet;

use anchor_lang::prelude::Pubkey;
use anchor_lang::{AccountDeserialize, AccountSerialize};
use anchor_spl::token::TokenAccount;
use solana_program_test::BanksClientError;
use solana_sdk::instruction::Instruction;
use solana_sdk::signature::Keypair;
use solana_sdk::signer::Signer;
use verdict::attestation::CompletionReport;
use verdict::constants::{ROLE_MINER, ROLE_VALIDATOR};
use verdict::state::{
    model_id, Committee, Config, Job, ModelId, Node, ProtocolParams, RiskLevel, SlashingTable,
};
use verdict_chain::EmbeddedChain;
use verdict_sdk::accounts::AccountSource;
use verdict_sdk::events::{parse_logs, VerdictEvent};
use verdict_sdk::invariants::{self, Snapshot};
use verdict_sdk::transaction::{build_transaction, ComputeBudget};
use verdict_sdk::{attest, attested};
use verdict_sdk::{instructions as ix, pda, SdkError};

use crate::compute_units;
use crate::errors::TxResult;
use crate::network::{self, NodeHandle, NodeSpec, Setup, User};

/// One token of the test mint (9 decimals).
pub use verdict::constants::defaults::TOKEN;
const USER_LAMPORTS: u64 = 10_000_000_000;

pub use verdict_chain::embedded::program_test;

/// What a successful transaction left behind.
#[derive(Debug, Clone)]
pub struct TxOutcome {
    pub logs: Vec<String>,
    pub compute_units: u64,
    pub events: Vec<VerdictEvent>,
}

/// The model every test miner serves.
pub const TEST_MODEL: &str = verdict_wire::models::TEST_PROJECTION_ID;

pub fn test_model() -> ModelId {
    model_id(TEST_MODEL).unwrap()
}

/// A report of a valid, fast response.
pub fn good_report(output: u8) -> CompletionReport {
    CompletionReport {
        output_hash: [output; 32],
        response_ms: 25,
        load_ms: 3,
        inference_ms: 20,
        success: true,
        sla_met: true,
        latency_score_bps: 9_000,
    }
}

/// A flawless record of 100 jobs (every one a success within the SLA, at
/// the top latency score, 25 ms each), set as a window bucket: Tier 1,
/// eligible for every risk, paid at once.
pub fn tier_one_record() -> verdict::state::WindowBucket {
    verdict::state::WindowBucket {
        jobs: 100,
        successes: 100,
        sla_met: 100,
        latency_score_sum: 100 * 10_000,
        response_ms_sum: 2_500,
        ..Default::default()
    }
}

pub struct Fixture {
    /// The bank, through the same embedded chain the demo and keepers use.
    pub chain: EmbeddedChain,
    pub authority: Keypair,
    pub mint: Pubkey,
    mint_authority: Keypair,
    /// The bank's unix time, as the fixture last set it.
    pub now: i64,
    /// Every account any transaction touched: the invariants' universe.
    seen: BTreeSet<Pubkey>,
    /// Invariants after every transaction (on by default).
    pub check_each_transaction: bool,
}

impl Fixture {
    /// A bank with the program, a stake mint and a funded authority; no Config yet.
    pub async fn bare() -> Self {
        Self::bare_on(EmbeddedChain::start().await).await
    }

    /// [`Fixture::bare`] on a chain the caller started.
    pub async fn bare_on(chain: EmbeddedChain) -> Self {
        let now = chain.unix_time().await.unwrap();
        let mut f = Fixture {
            chain,
            authority: Keypair::new(),
            mint: Pubkey::default(),
            mint_authority: Keypair::new(),
            now,
            seen: BTreeSet::new(),
            check_each_transaction: true,
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
        Self::initialized(Self::bare().await, params).await
    }

    /// The defaults on a chain the caller started (with another program
    /// loaded, say).
    pub async fn on(chain: EmbeddedChain) -> Self {
        Self::initialized(Self::bare_on(chain).await, ProtocolParams::default()).await
    }

    async fn initialized(mut f: Fixture, params: ProtocolParams) -> Self {
        let init = ix::initialize_config(
            &f.authority.pubkey(),
            &f.mint,
            None,
            params,
            SlashingTable::default(),
        );
        let authority = f.authority.insecure_clone();
        f.send(&[init], &[&authority])
            .await
            .expect("initialize_config");
        f
    }

    /// Signs with `signers` (the fee payer is the bank's payer), processes,
    /// records compute units, then checks every invariant whatever the result.
    pub async fn send(&mut self, instructions: &[Instruction], signers: &[&Keypair]) -> TxResult {
        let result = self.process(instructions, signers).await;
        if self.check_each_transaction {
            self.check_invariants().await;
        }
        result
    }

    async fn process(&mut self, instructions: &[Instruction], signers: &[&Keypair]) -> TxResult {
        for ix in instructions {
            self.seen.extend(ix.accounts.iter().map(|m| m.pubkey));
        }
        let payer = self.chain.payer().await;
        let processed = self.chain.process(instructions, &payer, signers).await?;
        processed
            .result
            .map_err(BanksClientError::TransactionError)?;
        let main = instructions.iter().find(|i| i.program_id == verdict::ID);
        if let Some(name) = main.and_then(|i| ix::instruction_name(&i.data)) {
            compute_units::record(name, processed.compute_units);
        }
        let events = parse_logs(&processed.logs);
        Ok(TxOutcome {
            logs: processed.logs,
            compute_units: processed.compute_units,
            events,
        })
    }

    /// Advances slots (fresh blockhash, SlotHashes entry), keeping the time.
    pub async fn next_slot(&mut self) {
        self.chain.next_slot().await;
    }

    /// Sets the bank's unix time.
    pub async fn set_time(&mut self, unix_timestamp: i64) {
        self.chain.set_time(unix_timestamp).await;
        self.now = unix_timestamp;
    }

    /// Moves the clock forward by `secs`.
    pub async fn advance(&mut self, secs: i64) {
        self.set_time(self.now + secs).await;
    }

    // Accounts and balances.

    pub async fn airdrop(&mut self, to: &Pubkey) {
        self.chain
            .airdrop(to, USER_LAMPORTS)
            .await
            .expect("airdrop");
    }

    pub async fn create_mint(&mut self) -> Pubkey {
        self.chain
            .create_mint(&self.mint_authority.pubkey())
            .await
            .expect("create mint")
    }

    /// A new token account of `mint` owned by `owner`.
    pub async fn token_account(&mut self, owner: &Pubkey, mint: &Pubkey) -> Pubkey {
        self.chain
            .create_token_account(owner, mint)
            .await
            .expect("create token account")
    }

    /// Mints stake tokens (only the fixture's mint has a known authority).
    pub async fn mint_to(&mut self, account: &Pubkey, amount: u64) {
        self.chain
            .mint_to(&self.mint, &self.mint_authority, account, amount)
            .await
            .expect("mint_to");
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
        User {
            keypair,
            tokens: account,
        }
    }

    /// Registers a node with `roles` serving the test model, without stake.
    pub async fn register(&mut self, roles: u8, tokens: u64) -> NodeHandle {
        let spec = NodeSpec {
            roles,
            tokens,
            stake: 0,
            rent: 0,
            models: &[test_model()],
        };
        network::register(self, spec).await.expect("register_node")
    }

    /// Registers a node with `roles` and stakes `stake` tokens for it.
    pub async fn staked(&mut self, roles: u8, stake: u64) -> NodeHandle {
        let spec = NodeSpec {
            roles,
            tokens: stake,
            stake,
            rent: 0,
            models: &[test_model()],
        };
        network::register(self, spec).await.expect("staked node")
    }

    /// Registers a miner and stakes `stake` tokens for it.
    pub async fn staked_miner(&mut self, stake: u64) -> NodeHandle {
        self.staked(ROLE_MINER, stake).await
    }

    pub async fn stake(&mut self, handle: &NodeHandle, amount: u64) -> TxResult {
        network::stake(self, handle, amount).await
    }

    pub async fn request_unstake(
        &mut self,
        handle: &NodeHandle,
        amount: u64,
    ) -> (TxResult, Pubkey) {
        let ticket_id = self.node(&handle.node).await.next_ticket_id;
        let ix = ix::request_unstake(&handle.operator.pubkey(), ticket_id, amount);
        let result = self.send(&[ix], &[&handle.operator.keypair]).await;
        (result, pda::unbond_ticket(&handle.node, ticket_id))
    }

    pub async fn delegate(&mut self, staker: &User, node: &Pubkey, amount: u64) -> TxResult {
        let ix = ix::delegate(&staker.pubkey(), node, &staker.tokens, amount);
        self.send(&[ix], &[&staker.keypair]).await
    }

    pub async fn request_undelegate(
        &mut self,
        staker: &User,
        node: &Pubkey,
        shares: u64,
    ) -> (TxResult, Pubkey) {
        let ticket_id = self.node(node).await.next_ticket_id;
        let ix = ix::request_undelegate(&staker.pubkey(), node, ticket_id, shares);
        let result = self.send(&[ix], &[&staker.keypair]).await;
        (result, pda::unbond_ticket(node, ticket_id))
    }

    // Committee and jobs.

    /// Registers `n` validators with the minimum stake and draws the
    /// committee from them; returns them in committee order.
    pub async fn committee_of(&mut self, n: usize) -> Vec<NodeHandle> {
        let min = self.config().await.params.min_validator_stake;
        let mut all = Vec::new();
        for _ in 0..n {
            all.push(self.staked(ROLE_VALIDATOR, min).await);
        }
        let entrants: Vec<&NodeHandle> = all.iter().collect();
        self.rotate(&entrants).await.expect("committee draw");
        let committee = self.committee().await;
        network::in_committee_order(&committee, all)
    }

    /// A whole committee draw ([`network::rotate`]): the first refusal, or
    /// the last sweep (the one that seats the committee).
    pub async fn rotate(&mut self, entrants: &[&NodeHandle]) -> TxResult {
        network::rotate(self, entrants).await
    }

    /// `n` validators at the minimum stake, each entered in the open draw.
    pub async fn entered_validators(&mut self, n: usize) -> Vec<NodeHandle> {
        let min = self.config().await.params.min_validator_stake;
        let mut all = Vec::with_capacity(n);
        for _ in 0..n {
            let h = self.staked(ROLE_VALIDATOR, min).await;
            self.enter_draw(&h).await.expect("draw entry");
            all.push(h);
        }
        all
    }

    pub async fn enter_draw(&mut self, h: &NodeHandle) -> TxResult {
        network::enter_draw(self, h).await
    }

    /// Requests, seeds and sweeps `entrants` in batches.
    pub async fn run_draw(&mut self, entrants: &[Pubkey]) -> TxResult {
        network::run_draw(self, entrants).await
    }

    /// Moves slots until the seed slot has passed, then seeds the draw.
    pub async fn seed_draw(&mut self) -> TxResult {
        network::seed_draw(self).await
    }

    pub async fn sweep_draw(&mut self, entrants: &[Pubkey]) -> TxResult {
        network::sweep_draw(self, entrants).await
    }

    pub async fn committee(&self) -> Committee {
        self.fetch(&pda::committee()).await.expect("committee")
    }

    pub async fn job(&self, job: &Pubkey) -> Job {
        self.fetch(job).await.expect("job")
    }

    /// Sends `[ed25519 over message signed by signers, instruction]`.
    pub async fn attest(
        &mut self,
        signers: &[&NodeHandle],
        message: &[u8],
        instruction: Instruction,
    ) -> TxResult {
        let keys: Vec<&Keypair> = signers.iter().map(|h| &h.signing_key).collect();
        self.send(&attest::attest_with(&keys, message, instruction), &[])
            .await
    }

    /// A staked miner that passed its trial (signed by the first `quorum` members).
    pub async fn warm_miner(&mut self, committee: &[NodeHandle], stake: u64) -> NodeHandle {
        let miner = self.staked_miner(stake).await;
        self.record_trial(committee, &miner.node, true)
            .await
            .expect("record_trial");
        miner
    }

    pub async fn record_trial(
        &mut self,
        committee: &[NodeHandle],
        miner: &Pubkey,
        passed: bool,
    ) -> TxResult {
        let members: Vec<&Keypair> = committee.iter().map(|h| &h.signing_key).collect();
        network::record_trial(self, &members, miner, passed).await
    }

    /// The first `quorum` members.
    pub async fn quorum<'a>(&self, committee: &'a [NodeHandle]) -> Vec<&'a NodeHandle> {
        let q = self.committee().await.quorum as usize;
        committee.iter().take(q).collect()
    }

    /// The signing keys of the first `quorum` members.
    async fn quorum_keys<'a>(&self, committee: &'a [NodeHandle]) -> Vec<&'a Keypair> {
        let quorum = self.quorum(committee).await;
        quorum.into_iter().map(|h| &h.signing_key).collect()
    }

    pub async fn submit_job(
        &mut self,
        client: &User,
        job_id: u64,
        risk: RiskLevel,
        max_fee: u64,
    ) -> (TxResult, Pubkey) {
        let ix = ix::submit_job(
            &client.pubkey(),
            &client.tokens,
            &self.mint,
            job_id,
            test_model(),
            [job_id as u8; 32],
            risk,
            max_fee,
        );
        let result = self.send(&[ix], &[&client.keypair]).await;
        (result, pda::job(&client.pubkey(), job_id))
    }

    pub async fn settle(
        &mut self,
        committee: &[NodeHandle],
        job: &Pubkey,
        miner: &Pubkey,
        price: u64,
        report: CompletionReport,
    ) -> TxResult {
        let quorum = self.quorum_keys(committee).await;
        let ixs = attested::settle(self, &quorum, job, miner, price, report)
            .await
            .expect("settle");
        self.send(&ixs, &[]).await
    }

    pub async fn assign(
        &mut self,
        committee: &[NodeHandle],
        job: &Pubkey,
        miner: &Pubkey,
        price: u64,
    ) -> TxResult {
        let quorum = self.quorum_keys(committee).await;
        let ixs = attested::assign(self, &quorum, job, miner, price)
            .await
            .expect("assign");
        self.send(&ixs, &[]).await
    }

    pub async fn complete(
        &mut self,
        committee: &[NodeHandle],
        job: &Pubkey,
        report: CompletionReport,
    ) -> TxResult {
        let quorum = self.quorum_keys(committee).await;
        let ixs = attested::complete(self, &quorum, job, report)
            .await
            .expect("complete");
        self.send(&ixs, &[]).await
    }

    pub async fn fail(
        &mut self,
        committee: &[NodeHandle],
        job: &Pubkey,
        reason: verdict::state::FailReason,
    ) -> TxResult {
        let quorum = self.quorum_keys(committee).await;
        let ixs = attested::fail(self, &quorum, job, reason)
            .await
            .expect("fail");
        self.send(&ixs, &[]).await
    }

    pub async fn claim(&mut self, job: &Pubkey, miner: &NodeHandle) -> TxResult {
        let j = self.job(job).await;
        self.claim_raw(job, miner, &j.refund_account).await
    }

    /// `claim_payout` without reading the job first (it may be gone).
    pub async fn claim_raw(
        &mut self,
        job: &Pubkey,
        miner: &NodeHandle,
        refund_account: &Pubkey,
    ) -> TxResult {
        let ix = ix::claim_payout(job, &miner.node, refund_account);
        self.send(&[ix], &[]).await
    }

    /// The node's operator withdraws what the node is owed into its token account.
    pub async fn withdraw_owed(&mut self, node: &NodeHandle) -> TxResult {
        let k = node.operator.keypair.insecure_clone();
        self.send(
            &[ix::withdraw_owed(&k.pubkey(), &node.operator.tokens)],
            &[&k],
        )
        .await
    }

    /// Closes a finished job as read from the chain.
    pub async fn close_job(&mut self, job: &Pubkey) -> TxResult {
        let j = self.job(job).await;
        self.send(&[ix::close_job(job, &j)], &[]).await
    }

    /// Overwrites a program account's data (test-only surgery, e.g. to put a
    /// validator's score below the minimum without a long history).
    pub async fn patch<T: AccountSerialize + AccountDeserialize>(
        &mut self,
        address: &Pubkey,
        edit: impl FnOnce(&mut T),
    ) {
        self.chain.patch(address, edit).await.unwrap();
    }

    pub async fn token_balance(&mut self, account: &Pubkey) -> u64 {
        let data = self
            .chain
            .account_data(account)
            .await
            .unwrap()
            .expect("token account");
        TokenAccount::try_deserialize(&mut data.as_slice())
            .unwrap()
            .amount
    }

    pub async fn lamports(&mut self, account: &Pubkey) -> u64 {
        self.chain
            .context()
            .await
            .banks_client
            .get_balance(*account)
            .await
            .unwrap()
    }

    pub async fn exists(&mut self, account: &Pubkey) -> bool {
        self.chain.account_data(account).await.unwrap().is_some()
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
        {
            let ctx = self.chain.context().await;
            for key in &self.seen {
                if let Some(account) = ctx.banks_client.get_account(*key).await.unwrap() {
                    if account.owner == verdict::ID {
                        accounts.push((*key, account.data));
                    }
                }
            }
        }
        let vault = pda::stake_vault();
        let balance = if self.exists(&vault).await {
            self.token_balance(&vault).await
        } else {
            0
        };
        let mut snapshot =
            Snapshot::from_accounts(accounts.iter().map(|(k, d)| (*k, d.as_slice())), balance)
                .expect("decodable accounts");
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
            panic!(
                "accounting invariants violated:\n  {}",
                violations.join("\n  ")
            );
        }
    }
}

impl Setup for Fixture {
    type Sent = TxOutcome;
    type Error = BanksClientError;

    fn stake_mint(&self) -> Pubkey {
        self.mint
    }

    async fn send(&mut self, instructions: &[Instruction], signers: &[&Keypair]) -> TxResult {
        Fixture::send(self, instructions, signers).await
    }

    async fn fund_wallet(&mut self, tokens: u64, lamports: u64) -> Result<User, BanksClientError> {
        let user = self.user(tokens).await;
        if lamports > USER_LAMPORTS {
            self.chain
                .airdrop(&user.pubkey(), lamports - USER_LAMPORTS)
                .await
                .expect("airdrop");
        }
        Ok(user)
    }

    async fn pass_slot(&mut self) -> Result<u64, BanksClientError> {
        self.next_slot().await;
        Ok(self.chain.slot().await.expect("the bank's slot"))
    }

    fn read_failed(error: SdkError) -> BanksClientError {
        // The in-process bank has every account the fixture reads.
        panic!("reading the bank: {error}")
    }
}

impl AccountSource for Fixture {
    async fn account_data(&self, address: &Pubkey) -> Result<Option<Vec<u8>>, SdkError> {
        AccountSource::account_data(&self.chain, address).await
    }
}

/// The bytes `instructions` take as one transaction paid by a fresh fee
/// payer, with (`priced`) or without both compute-budget instructions.
pub fn transaction_size(
    instructions: &[Instruction],
    priced: bool,
    blockhash: solana_sdk::hash::Hash,
) -> usize {
    let budget = if priced {
        ComputeBudget {
            unit_limit: Some(40_000),
            micro_lamports_per_unit: Some(1_000),
        }
    } else {
        ComputeBudget::default()
    };
    let tx = build_transaction(instructions, &Keypair::new(), &[], budget, blockhash);
    bincode::serialize(&tx)
        .expect("a transaction serializes")
        .len()
}
