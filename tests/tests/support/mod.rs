//! Shared by `substitution.rs` and `attacks.rs` (not a test target itself:
//! Cargo only builds `tests/*.rs`): a world with every kind of account
//! twice, and one [`Case`] per instruction that moves tokens or stake — the
//! valid transaction in a state where it lands, plus a table of account
//! substitutions that must each be refused with nothing moved.
#![allow(dead_code)]

pub mod cases;

use anchor_lang::error::ErrorCode;
use anchor_lang::prelude::Pubkey;
use anchor_lang::AccountDeserialize;
use anchor_spl::token::{spl_token, TokenAccount};
use solana_sdk::instruction::Instruction;
use solana_sdk::signature::Keypair;
use solana_sdk::signer::Signer;
use verdict::errors::VerdictError;
use verdict::state::{vote_commitment, ProtocolParams, RiskLevel};
use verdict::LiquidationTarget;
use verdict_sdk::{attest, instructions as ix, pda};
use verdict_tests::*;

pub const FEE: u64 = 10 * TOKEN;
pub const PRICE: u64 = 8 * TOKEN;
/// What every validator's operator holds besides its stake (bonds, deposits).
pub const SPARE: u64 = 1_000 * TOKEN;
pub const WRONG: [u8; 32] = [1; 32];
pub const RIGHT: [u8; 32] = [9; 32];

pub fn dup_user(u: &User) -> User {
    User {
        keypair: u.keypair.insecure_clone(),
        tokens: u.tokens,
    }
}

/// A committee, two warm miners, two clients, a thief and a second mint.
pub struct World {
    pub f: Fixture,
    pub params: ProtocolParams,
    /// Validators, the committee's members first (the first three sign).
    pub committee: Vec<NodeHandle>,
    /// Staked at twice the minimum (so half can be unstaked).
    pub miner: NodeHandle,
    pub other_miner: NodeHandle,
    pub client: User,
    pub other_client: User,
    /// An outsider holding stake tokens, who would like more.
    pub thief: User,
    /// A mint other than the stake mint.
    pub other_mint: Pubkey,
}

impl World {
    pub async fn new(validators: usize) -> World {
        let mut f = Fixture::new().await;
        let committee = f.committee_of(validators).await;
        let params = f.config().await.params;
        for v in &committee {
            f.mint_to(&v.operator.tokens, SPARE).await;
        }
        let miner = f.warm_miner(&committee, 2 * params.min_miner_stake).await;
        let other_miner = f.warm_miner(&committee, 2 * params.min_miner_stake).await;
        let client = f.user(100 * FEE).await;
        let other_client = f.user(100 * FEE).await;
        let thief = f.user(FEE).await;
        let other_mint = f.create_mint().await;
        World {
            f,
            params,
            committee,
            miner,
            other_miner,
            client,
            other_client,
            thief,
            other_mint,
        }
    }

    /// A stake-mint token account owned by `owner` (a PDA makes a look-alike
    /// vault: right mint, right authority, wrong address).
    pub async fn lookalike(&mut self, owner: &Pubkey) -> Pubkey {
        let mint = self.f.mint;
        self.f.token_account(owner, &mint).await
    }

    /// A token account of the other mint owned by `owner`.
    pub async fn wrong_mint(&mut self, owner: &Pubkey) -> Pubkey {
        let mint = self.other_mint;
        self.f.token_account(owner, &mint).await
    }

    /// Gives the miner a flawless Tier 1 record (payouts released at once, boosts).
    pub async fn tier_one(&mut self, node: &Pubkey) {
        self.f
            .patch::<verdict::state::Node>(node, |n| {
                n.reputation.buckets[0] = tier_one_record();
            })
            .await;
    }

    /// `client` (0: client, 1: other client) submits low-risk job `id`.
    pub async fn submit(&mut self, client: usize, id: u64, risk: RiskLevel) -> Pubkey {
        let c = dup_user(if client == 0 {
            &self.client
        } else {
            &self.other_client
        });
        let (r, job) = self.f.submit_job(&c, id, risk, FEE).await;
        r.unwrap();
        job
    }

    /// Submits and settles a low-risk job of `client` by `miner` with `output`.
    pub async fn settled(
        &mut self,
        client: usize,
        id: u64,
        miner: &Pubkey,
        output: [u8; 32],
    ) -> Pubkey {
        let job = self.submit(client, id, RiskLevel::Low).await;
        let mut report = good_report(0);
        report.output_hash = output;
        self.f
            .settle(&self.committee, &job, miner, PRICE, report)
            .await
            .unwrap();
        job
    }

    /// `[ed25519 over message by the committee's quorum, instruction]`.
    pub async fn attested(&self, message: &[u8], instruction: Instruction) -> Vec<Instruction> {
        let quorum = self.f.quorum(&self.committee).await;
        let keys: Vec<&Keypair> = quorum.iter().map(|h| &h.signing_key).collect();
        attest::attest_with(&keys, message, instruction)
    }

    pub async fn pause(&mut self, paused: bool) {
        let authority = self.f.authority.insecure_clone();
        self.f
            .send(
                &[ix::set_paused(&authority.pubkey(), paused)],
                &[&authority],
            )
            .await
            .unwrap();
    }

    // Disputes, by validator index.

    pub async fn open(&mut self, challenger: usize, job: &Pubkey, result: [u8; 32]) {
        let c = self.committee[challenger].duplicate();
        let j = self.f.job(job).await;
        let open = ix::open_dispute(&c.operator.pubkey(), &c.operator.tokens, job, &j, result);
        self.f.send(&[open], &[&c.operator.keypair]).await.unwrap();
    }

    fn salt(voter: &NodeHandle) -> [u8; 32] {
        [voter.node.to_bytes()[0]; 32]
    }

    pub fn commit_ix(
        &self,
        voter: usize,
        job: &Pubkey,
        result: [u8; 32],
    ) -> (Instruction, Keypair) {
        let v = &self.committee[voter];
        let commitment = vote_commitment(&result, &Self::salt(v), &v.node);
        let k = v.operator.keypair.insecure_clone();
        let ix = ix::commit_vote(
            &k.pubkey(),
            &v.operator.tokens,
            &pda::dispute(job),
            commitment,
        );
        (ix, k)
    }

    pub fn reveal_ix(
        &self,
        voter: usize,
        job: &Pubkey,
        result: [u8; 32],
    ) -> (Instruction, Keypair) {
        let v = &self.committee[voter];
        let k = v.operator.keypair.insecure_clone();
        let ix = ix::reveal_vote(
            &k.pubkey(),
            &v.operator.tokens,
            &pda::dispute(job),
            result,
            Self::salt(v),
        );
        (ix, k)
    }

    pub async fn commit(&mut self, voter: usize, job: &Pubkey, result: [u8; 32]) {
        let (ix, k) = self.commit_ix(voter, job, result);
        self.f.send(&[ix], &[&k]).await.unwrap();
    }

    pub async fn reveal(&mut self, voter: usize, job: &Pubkey, result: [u8; 32]) {
        let (ix, k) = self.reveal_ix(voter, job, result);
        self.f.send(&[ix], &[&k]).await.unwrap();
    }

    pub async fn resolve_ix(&self, job: &Pubkey) -> Instruction {
        let j = self.f.job(job).await;
        let d = self.f.fetch_account(&pda::dispute(job)).await;
        ix::resolve_dispute(job, &j, &d)
    }

    pub async fn liquidate_ix(
        &self,
        job: &Pubkey,
        node: &Pubkey,
        target: LiquidationTarget,
    ) -> Instruction {
        let j = self.f.job(job).await;
        ix::liquidate(
            &pda::dispute(job),
            node,
            target,
            Some((*job, j.refund_account)),
        )
    }

    pub fn claim_reward_ix(&self, voter: usize, job: &Pubkey) -> (Instruction, Keypair) {
        let v = &self.committee[voter];
        let k = v.operator.keypair.insecure_clone();
        let ix = ix::claim_dispute_reward(&k.pubkey(), &pda::dispute(job), &v.operator.tokens);
        (ix, k)
    }
}

/// Why a substituted transaction must fail.
#[derive(Clone, Copy, Debug)]
pub enum Why {
    V(VerdictError),
    A(ErrorCode),
}

impl Why {
    fn code(self) -> u32 {
        match self {
            Why::V(e) => e as u32 + anchor_lang::error::ERROR_CODE_OFFSET,
            Why::A(e) => e.into(),
        }
    }
}

/// The refusal a result carries, by name.
pub fn describe(result: &TxResult) -> String {
    if result.is_ok() {
        return "LANDED".into();
    }
    match custom_code(result) {
        Some(code) if code >= anchor_lang::error::ERROR_CODE_OFFSET => {
            VerdictError::from_code(code)
                .map(|e| format!("VerdictError::{e:?}"))
                .unwrap_or_else(|| format!("custom error {code}"))
        }
        Some(code) => ANCHOR_ERRORS
            .iter()
            .find(|e| u32::from(**e) == code)
            .map(|e| format!("anchor {e:?}"))
            .unwrap_or_else(|| format!("custom error {code} (SPL Token below 100)")),
        None => format!("{:?}", tx_error(result)),
    }
}

const ANCHOR_ERRORS: &[ErrorCode] = &[
    ErrorCode::ConstraintMut,
    ErrorCode::ConstraintHasOne,
    ErrorCode::ConstraintSigner,
    ErrorCode::ConstraintRaw,
    ErrorCode::ConstraintOwner,
    ErrorCode::ConstraintSeeds,
    ErrorCode::ConstraintAddress,
    ErrorCode::ConstraintTokenMint,
    ErrorCode::ConstraintTokenOwner,
    ErrorCode::ConstraintDuplicateMutableAccount,
    ErrorCode::AccountDiscriminatorMismatch,
    ErrorCode::AccountDidNotDeserialize,
    ErrorCode::AccountNotInitialized,
    ErrorCode::AccountOwnedByWrongProgram,
    ErrorCode::AccountNotMutable,
    ErrorCode::InvalidProgramId,
    ErrorCode::RequireKeysEqViolated,
];

/// One substitution: the account at `index` of the Verdict instruction
/// replaced by `with`.
pub struct Row {
    pub label: String,
    pub index: usize,
    pub with: Pubkey,
    pub why: Why,
}

/// A valid transaction in a world where it lands, and its substitution table.
pub struct Case {
    pub name: &'static str,
    pub w: World,
    /// The Verdict instruction last (after its ed25519 verification when attested).
    pub tx: Vec<Instruction>,
    pub signers: Vec<Keypair>,
    pub rows: Vec<Row>,
}

impl Case {
    pub fn new(name: &'static str, w: World, tx: Vec<Instruction>, signers: Vec<Keypair>) -> Case {
        Case {
            name,
            w,
            tx,
            signers,
            rows: Vec::new(),
        }
    }

    fn ix(&self) -> &Instruction {
        self.tx.last().unwrap()
    }

    /// Replaces the (first) account `original` by `with`.
    pub fn sub(&mut self, label: &str, original: &Pubkey, with: Pubkey, why: Why) {
        let index = self
            .ix()
            .accounts
            .iter()
            .position(|m| m.pubkey == *original)
            .unwrap_or_else(|| {
                panic!(
                    "{}: {label}: {original} is not in the instruction",
                    self.name
                )
            });
        self.sub_at(label, index, with, why);
    }

    /// Replaces the account at `index` (remaining accounts: past the named ones).
    pub fn sub_at(&mut self, label: &str, index: usize, with: Pubkey, why: Why) {
        self.rows.push(Row {
            label: label.into(),
            index,
            with,
            why,
        });
    }

    /// Lamports and token amount of each account.
    async fn holdings(&self, keys: &[Pubkey]) -> Vec<(Pubkey, u64, Option<u64>)> {
        let mut out = Vec::new();
        for key in keys {
            let account = self.w.f.chain.account(key).await.unwrap();
            let (lamports, tokens) = match account {
                None => (0, None),
                Some(a) => {
                    let tokens = (a.owner == spl_token::ID)
                        .then(|| TokenAccount::try_deserialize(&mut a.data.as_slice()).ok())
                        .flatten()
                        .map(|t| t.amount);
                    (a.lamports, tokens)
                }
            };
            out.push((*key, lamports, tokens));
        }
        out
    }

    /// Every account the transaction and the substitute name, the stake
    /// vault, but not the bank's fee payer.
    async fn watched(&self, tx: &[Instruction]) -> Vec<Pubkey> {
        let payer = self.w.f.chain.payer().await.pubkey();
        let mut keys: Vec<Pubkey> = tx
            .iter()
            .flat_map(|i| i.accounts.iter().map(|m| m.pubkey))
            .chain(self.ix().accounts.iter().map(|m| m.pubkey))
            .chain([pda::stake_vault()])
            .filter(|k| *k != payer)
            .collect();
        keys.sort();
        keys.dedup();
        keys
    }

    /// Every writable account that is not a signer has at least one row;
    /// each row is refused with its error and moves nothing; then the
    /// unmodified transaction lands. All failures are reported together.
    pub async fn run(mut self) {
        let ix = self.ix().clone();
        for (i, meta) in ix.accounts.iter().enumerate() {
            if meta.is_writable && !meta.is_signer {
                assert!(
                    self.rows.iter().any(|r| r.index == i),
                    "{}: writable account #{i} ({}) has no substitution",
                    self.name,
                    meta.pubkey
                );
            }
        }
        let signers: Vec<Keypair> = self.signers.iter().map(|k| k.insecure_clone()).collect();
        let signers: Vec<&Keypair> = signers.iter().collect();
        let mut failures = Vec::new();
        let rows = std::mem::take(&mut self.rows);
        for row in &rows {
            let mut tx = self.tx.clone();
            let meta = &mut tx.last_mut().unwrap().accounts[row.index];
            assert_ne!(
                meta.pubkey, row.with,
                "{}: {}: no change",
                self.name, row.label
            );
            meta.pubkey = row.with;
            let watched = self.watched(&tx).await;
            let before = self.holdings(&watched).await;
            let result = self.w.f.send(&tx, &signers).await;
            let after = self.holdings(&watched).await;
            let got = describe(&result);
            if result.is_ok() || custom_code(&result) != Some(row.why.code()) {
                failures.push(format!("{}: expected {:?}, got {got}", row.label, row.why));
            }
            for (b, a) in before.iter().zip(&after) {
                if b != a {
                    failures.push(format!("{}: {} moved: {b:?} -> {a:?}", row.label, b.0));
                }
            }
        }
        let control = self.w.f.send(&self.tx, &signers).await;
        if control.is_err() {
            failures.push(format!(
                "the unmodified transaction: {}",
                describe(&control)
            ));
        }
        assert!(
            failures.is_empty(),
            "{} ({} substitutions):\n  {}",
            self.name,
            rows.len(),
            failures.join("\n  ")
        );
    }

    /// While paused the transaction is refused with `Paused` and nothing
    /// moves; once unpaused it lands.
    pub async fn paused_then_lands(mut self) {
        let signers: Vec<Keypair> = self.signers.iter().map(|k| k.insecure_clone()).collect();
        let signers: Vec<&Keypair> = signers.iter().collect();
        self.w.pause(true).await;
        let watched = self.watched(&self.tx.clone()).await;
        let before = self.holdings(&watched).await;
        let result = self.w.f.send(&self.tx, &signers).await;
        assert_eq!(
            custom_code(&result),
            Some(Why::V(VerdictError::Paused).code()),
            "{} while paused: {}",
            self.name,
            describe(&result)
        );
        assert_eq!(
            before,
            self.holdings(&watched).await,
            "{}: moved while paused",
            self.name
        );
        self.w.pause(false).await;
        let result = self.w.f.send(&self.tx, &signers).await;
        assert!(
            result.is_ok(),
            "{} unpaused: {}",
            self.name,
            describe(&result)
        );
    }
}
