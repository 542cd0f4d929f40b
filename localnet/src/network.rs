//! A whole local Verdict network in one process: the embedded chain with the
//! program, a stake mint and the Config; 5 validators, each running its own
//! keeper, co-signing each other's outcomes 3-of-5 over HTTP and gossiping
//! miner health; 8 real miner processes (5 honest, slow, wrong, flaky) on
//! loopback; delegators; clients streaming jobs of every risk level to any
//! keeper, which reserve a share of low-risk jobs for Tier 3 miners (fair
//! entry); a keeper killed and restarted, a committee rotation cranked by the
//! keepers, a dispute the keepers open, vote and settle against the wrong
//! miner, and a griefing dispute against an honest miner's correct answer
//! that the keepers vote down. Then the report, read back from the chain.
//!
//! The chain is either embedded in this process (long protocol phases are
//! skipped by warping its clock) or a cluster reached over JSON-RPC where the
//! program is deployed ([`Target::Cluster`]): there time passes for real, so
//! the run initializes the Config with minute-long phases
//! ([`cluster_params`]) and waits them out.

use std::collections::BTreeMap;
use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::Arc;
use std::time::{Duration, Instant};

use anchor_lang::prelude::Pubkey;
use anchor_lang::Space;
use indicatif::{ProgressBar, ProgressStyle};
use keeper::config::{Endpoint, KeeperConfig};
use keeper::{Deps, KeeperHandle};
use sha2::{Digest, Sha256};
use solana_sdk::signature::Keypair;
use solana_sdk::signer::Signer;
use verdict::constants::{ROLE_MINER, ROLE_VALIDATOR};
use verdict::state::{
    model_id, vote_commitment, Config, Delegation, Dispute, DisputeStatus, Job, JobStatus, Node,
    NodeEndpoint, NodeStatus, ProtocolParams, RiskLevel, SlashingTable, Vote,
};
use verdict_chain::{tokens, Chain, EmbeddedChain, RpcChain, RpcConfig};
use verdict_sdk::accounts::AccountSource;
use verdict_sdk::client::{await_result, submit_job, InferError, InferRequest, KeeperClient};
use verdict_sdk::events::{parse_logs, VerdictEvent};
use verdict_sdk::invariants::{self, Snapshot};
use verdict_sdk::{attest, instructions as ix, pda};

use crate::ledger;
use crate::report::{
    write_report, DisputeRow, Income, MinerRecord, NodeRow, ReportInput, SettlementRow, VoterRow,
    Written,
};
use crate::stats::Timing;

pub const TOKEN: u64 = 1_000_000_000;
/// The second model every miner serves (the fast test projection); one job
/// in four asks for it, and each miner has room for one model at a time.
const SECOND_MODEL: &str = "test-projection-v1";

/// The chain the network runs on.
#[derive(Debug)]
pub enum Target {
    /// A chain embedded in this process, started fresh.
    Embedded,
    /// A cluster over JSON-RPC (several URLs fail over) where the program is
    /// deployed and its Config not yet initialized. `payer` pays every fee
    /// and funds the run's wallets (what they do not spend comes back at the
    /// end); deployed upgradeable, it must be the upgrade authority.
    Cluster {
        urls: Vec<String>,
        payer: Box<Keypair>,
    },
}

#[derive(Debug)]
pub struct Options {
    pub target: Target,
    pub jobs: usize,
    /// The model clients ask for (`all-minilm-l6-v2`, or `test-projection-v1` for a quick run).
    pub model: String,
    pub out: PathBuf,
    pub miner_bin: PathBuf,
    pub concurrency: usize,
    pub show_progress: bool,
    /// The keepers' fair-entry share: bps of low-risk dispatches reserved
    /// for Tier 3 miners (`routing.tier3_reserved_bps`).
    pub tier3_reserved_bps: u16,
}

#[derive(Debug, thiserror::Error)]
pub enum NetworkError {
    #[error("chain: {0}")]
    Chain(#[from] verdict_chain::ChainError),
    #[error("reading an account: {0}")]
    Account(#[from] verdict_sdk::SdkError),
    #[error("keeper: {0}")]
    Keeper(#[from] keeper::KeeperError),
    #[error("client: {0}")]
    Client(#[from] InferError),
    #[error("keeper API: {0}")]
    KeeperApi(#[from] verdict_sdk::client::KeeperError),
    #[error("miner process: {0}")]
    Miner(String),
    #[error("report: {0}")]
    Report(#[from] crate::report::ReportError),
    #[error("{0}")]
    Other(String),
}

/// A wallet with a token account of the stake mint.
pub(crate) struct Wallet {
    pub(crate) key: Keypair,
    pub(crate) tokens: Pubkey,
}

pub(crate) struct NodeKeys {
    pub(crate) name: String,
    pub(crate) wallet: Wallet,
    pub(crate) signing: Keypair,
    pub(crate) node: Pubkey,
}

pub(crate) struct MinerProcess {
    pub(crate) keys: NodeKeys,
    pub(crate) behaviour: &'static str,
    pub(crate) child: Child,
}

impl Drop for MinerProcess {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

pub(crate) struct Net {
    pub(crate) chain: Chain,
    /// The keepers' fair-entry share (bps of low-risk dispatches).
    tier3_reserved_bps: u16,
    /// Keepers claim and close the jobs they co-signed. Off in the main
    /// job: the run claims and closes at the end itself, after reading each
    /// job's final state for the report.
    pub(crate) keepers_claim: bool,
    /// The embedded chain, whose clock the run warps; `None` on a cluster.
    pub(crate) embedded: Option<Arc<EmbeddedChain>>,
    pub(crate) params: ProtocolParams,
    pub(crate) payer: Keypair,
    pub(crate) mint: Pubkey,
    pub(crate) mint_authority: Keypair,
    pub(crate) validators: Vec<NodeKeys>,
    pub(crate) miners: Vec<MinerProcess>,
    pub(crate) work: PathBuf,
    /// Each validator's keeper API port and gossip port.
    pub(crate) ports: Vec<(u16, u16)>,
}

/// The validator whose keeper re-checks every solved job (the others sample none).
const AUDITOR: usize = 0;
/// The validator whose operator, outside its keeper, challenges an honest
/// miner's correct answer naming a made-up result (griefing).
const GRIEFER: usize = 4;
/// The validator whose operator, outside its keeper, votes with the griefer
/// in its second challenge, so the vote cannot clear the 66% bar.
const ACCOMPLICE: usize = 3;

/// A griefing challenge the run opened; with an accomplice, the task that
/// reveals its vote for the made-up result (the run does, not a keeper).
struct Griefing {
    dispute: Pubkey,
    accomplice_reveal: Option<std::thread::JoinHandle<Result<(), NetworkError>>>,
}

/// Protocol parameters for a run on a cluster, where every phase takes real
/// time: the defaults, with minute-long epochs, TTLs and vote phases.
pub fn cluster_params() -> ProtocolParams {
    ProtocolParams {
        epoch_secs: 60,
        committee_rotation_secs: 120,
        sent_ttl_secs: 120,
        allocated_ttl_secs: 120,
        challenge_window_epochs: 2,
        vote_commit_secs: 30,
        vote_reveal_secs: 30,
        // Above the minimum: two epochs of payout hold, the challenge window and the vote.
        unbonding_secs: 600,
        ..ProtocolParams::default()
    }
}

/// Disputes a validator's wallet can pay its accounts for (its votes, its challenges).
const DISPUTES_FUNDED: u64 = 8;

/// Lamports a client's submit costs in fees (one signature), with room to spare.
pub(crate) const CLIENT_FEE_LAMPORTS: u64 = 10_000;

/// Longest the run waits for a batch's verified results; a job no miner may
/// take yet (high risk before any miner left Tier 3) stays SENT and expires
/// at the end.
const BATCH_WAIT: Duration = Duration::from_secs(15);

/// The fee every client job escrows (its max fee; the keepers price at most this).
pub const JOB_FEE: u64 = TOKEN / 100;

/// What a validator's keeper posts from its operator's token account over
/// `DISPUTES_FUNDED` disputes: a challenge's bond (max(min bond, price ×
/// bond multiple)) and a vote's deposit (returned at reveal) in each.
fn validator_funds(params: &ProtocolParams) -> u64 {
    DISPUTES_FUNDED * (params.dispute_bond(JOB_FEE) + params.vote_deposit)
}

/// Longest the run waits for a cluster's clock to reach a time while it
/// does not move at all (a stalled or frozen chain).
const CLOCK_STALL: Duration = Duration::from_secs(60);

impl Net {
    /// A wallet holding `tokens` of the stake mint and `lamports` for the
    /// rent of the accounts it will pay for (fees are the payer's).
    pub(crate) async fn wallet(&self, tokens: u64, lamports: u64) -> Result<Wallet, NetworkError> {
        let key = Keypair::new();
        // A system account must stay rent-exempt or empty.
        let lamports = lamports + self.chain.rent_exempt_minimum(0).await?;
        self.chain
            .transfer(&self.payer, &self.payer, &key.pubkey(), lamports)
            .await?;
        let account = self
            .chain
            .create_token_account(&self.payer, &key.pubkey(), &self.mint)
            .await?;
        if tokens > 0 {
            self.chain
                .mint_to(
                    &self.payer,
                    &self.mint,
                    &self.mint_authority,
                    &account,
                    tokens,
                )
                .await?;
        }
        Ok(Wallet {
            key,
            tokens: account,
        })
    }

    /// What a client's submit costs it: the Job's and the escrow's rent,
    /// and the fee.
    pub(crate) async fn job_cost(&self) -> Result<u64, NetworkError> {
        Ok(self.rent(8 + Job::INIT_SPACE, 1).await?
            + self.rent(tokens::TOKEN_ACCOUNT_LEN, 1).await?
            + CLIENT_FEE_LAMPORTS)
    }

    /// Rent for `count` accounts of `len` bytes each.
    pub(crate) async fn rent(&self, len: usize, count: u64) -> Result<u64, NetworkError> {
        Ok(self.chain.rent_exempt_minimum(len).await? * count)
    }

    /// Brings the chain's clock to `at` or later: a warp on the embedded
    /// chain; on a cluster, a wait (refused if its clock stands still).
    async fn reach(&self, at: i64) -> Result<(), NetworkError> {
        if let Some(embedded) = &self.embedded {
            if embedded.unix_time().await? < at {
                embedded.set_time(at).await;
            }
            return Ok(());
        }
        let (mut last, mut moved) = (self.chain.unix_time().await?, Instant::now());
        while last < at {
            if moved.elapsed() > CLOCK_STALL {
                return Err(NetworkError::Other(format!(
                    "the cluster's clock stands still at {last} (waiting for {at})"
                )));
            }
            tokio::time::sleep(Duration::from_millis(500)).await;
            let now = self.chain.unix_time().await?;
            if now != last {
                (last, moved) = (now, Instant::now());
            }
        }
        Ok(())
    }

    async fn send(
        &self,
        ixs: &[solana_sdk::instruction::Instruction],
        signers: &[&Keypair],
    ) -> Result<verdict_chain::Landed, NetworkError> {
        Ok(self.chain.send(ixs, &self.payer, signers).await?)
    }

    /// Registers and stakes a node; its operator's wallet keeps 1,000
    /// tokens besides, and a validator's also what its keeper posts in
    /// disputes ([`validator_funds`]).
    async fn register(
        &self,
        name: String,
        roles: u8,
        stake: u64,
        models: &[&str],
    ) -> Result<NodeKeys, NetworkError> {
        let mut rent = self.rent(8 + Node::INIT_SPACE, 1).await?
            + self.rent(tokens::TOKEN_ACCOUNT_LEN, 1).await?;
        let mut funds = 1_000 * TOKEN;
        if roles & ROLE_MINER != 0 {
            rent += self.rent(8 + NodeEndpoint::INIT_SPACE, 1).await?;
        }
        if roles & ROLE_VALIDATOR != 0 {
            rent += self.rent(8 + Vote::INIT_SPACE, DISPUTES_FUNDED).await?
                + self.rent(8 + Dispute::INIT_SPACE, DISPUTES_FUNDED).await?;
            funds += validator_funds(&self.params);
        }
        let wallet = self.wallet(stake + funds, rent).await?;
        let signing = Keypair::new();
        let models = models.iter().map(|m| model_id(m).unwrap()).collect();
        let reg = ix::register_node(
            &wallet.key.pubkey(),
            &signing.pubkey(),
            &self.mint,
            roles,
            models,
            1_000,
        );
        self.send(&[reg], &[&wallet.key, &signing]).await?;
        self.send(
            &[ix::stake(&wallet.key.pubkey(), &wallet.tokens, stake)],
            &[&wallet.key],
        )
        .await?;
        let node = pda::node(&wallet.key.pubkey());
        Ok(NodeKeys {
            name,
            wallet,
            signing,
            node,
        })
    }

    /// A node's name in the run (its address if it is not one of the run's).
    fn name_of(&self, node: &Pubkey) -> String {
        self.validators
            .iter()
            .chain(self.miners.iter().map(|m| &m.keys))
            .find(|k| k.node == *node)
            .map_or_else(|| node.to_string(), |k| k.name.clone())
    }

    async fn committee(&self) -> Result<verdict::state::Committee, NetworkError> {
        Ok(self.chain.fetch(&pda::committee()).await?)
    }

    /// Sends `[ed25519 quorum signatures, instruction]` signed by the committee.
    async fn attest(
        &self,
        message: &[u8],
        instruction: solana_sdk::instruction::Instruction,
    ) -> Result<(), NetworkError> {
        let committee = self.committee().await?;
        let keys: Vec<&Keypair> = self
            .validators
            .iter()
            .map(|v| &v.signing)
            .filter(|k| committee.index_of_key(&k.pubkey()).is_some())
            .take(committee.quorum as usize)
            .collect();
        self.send(&attest::attest_with(&keys, message, instruction), &[])
            .await
            .map(|_| ())
    }

    /// Draws the first committee: every validator enters, then the draw is
    /// requested, seeded once its slot has passed, and swept in batches
    /// (later draws are the keepers' to crank).
    async fn rotate(&self) -> Result<(), NetworkError> {
        for v in &self.validators {
            let enter = ix::enter_committee_draw(&v.signing.pubkey(), &v.node);
            self.send(&[enter], &[&v.signing]).await?;
        }
        self.send(&[ix::request_committee_draw()], &[]).await?;
        loop {
            self.next_slot().await;
            let committee = self.committee().await?;
            if self.chain.slot().await? > committee.draw.target_slot {
                self.send(&[ix::seed_committee_draw()], &[]).await?;
                break;
            }
        }
        let nodes: Vec<Pubkey> = self.validators.iter().map(|v| v.node).collect();
        for batch in nodes.chunks(verdict_sdk::draw::SWEEP_BATCH) {
            self.send(&[ix::sweep_committee_draw(batch)], &[]).await?;
        }
        Ok(())
    }

    /// Moves the embedded chain on by a slot (a cluster's slots move by
    /// themselves: there, wait for one).
    async fn next_slot(&self) {
        match &self.embedded {
            Some(embedded) => embedded.next_slot().await,
            None => tokio::time::sleep(Duration::from_millis(400)).await,
        }
    }

    /// Validator `i`'s keeper: its own database, port and gossip port, the
    /// other validators' keepers as peers.
    fn keeper_config(&self, i: usize) -> KeeperConfig {
        let (port, gossip) = self.ports[i];
        let peers = self
            .validators
            .iter()
            .zip(&self.ports)
            .map(|(v, (p, _))| Endpoint {
                node: v.node.to_string(),
                url: format!("http://127.0.0.1:{p}"),
            })
            .collect();
        let committee = keeper::config::CommitteeConfig {
            node: Some(self.validators[i].node.to_string()),
            operator_tokens: Some(self.validators[i].wallet.tokens.to_string()),
            peers,
            takeover_ms: 4_000,
            cosign_timeout_ms: 5_000,
            recheck_bps: if i == AUDITOR { 10_000 } else { 0 },
            gossip_listen: Some(format!("127.0.0.1:{gossip}")),
            gossip_seeds: self
                .ports
                .iter()
                .filter(|(_, g)| *g != gossip)
                .map(|(_, g)| format!("127.0.0.1:{g}"))
                .collect(),
            ..Default::default()
        };
        KeeperConfig {
            database: self.work.join(format!("keeper-{}.redb", i + 1)),
            listen: format!("127.0.0.1:{port}"),
            committee,
            // The best four share the work by score: the delegated miners
            // (stake counts in the score) and whoever earns its place; the
            // fair-entry share brings the others in, fewest jobs first.
            routing: keeper::core::routing::RoutingWeights {
                spread: 4,
                tier3_reserved_bps: self.tier3_reserved_bps,
                ..Default::default()
            },
            shard_timeout_ms: 2_500,
            end_to_end_timeout_ms: 12_000,
            // A cluster's RPC node is shared and rate-limited: each keeper
            // reads the program's accounts once a second there.
            poll_interval_ms: if self.embedded.is_some() { 250 } else { 1_000 },
            client_requests_per_sec: 1_000.0,
            client_burst: 1_000,
            // Miners are found on chain; here they listen on loopback.
            allow_private_endpoints: true,
            cranks: keeper::config::CrankConfig {
                claims: self.keepers_claim,
                ..Default::default()
            },
            ..KeeperConfig::default()
        }
    }

    pub(crate) async fn start_keeper(&self, i: usize) -> Result<KeeperHandle, NetworkError> {
        let v = &self.validators[i];
        let deps = Deps {
            chain: self.chain.clone(),
            payer: self.payer.insecure_clone(),
            signing: keeper::Signing::Member(v.signing.insecure_clone()),
            operator: Some(v.wallet.key.insecure_clone()),
            faults: None,
        };
        Ok(keeper::start(self.keeper_config(i), deps).await?)
    }
}

fn spawn_miner(
    bin: &Path,
    dir: &Path,
    key: &Keypair,
    models: &str,
    fault: &[&str],
) -> Result<(Child, String), NetworkError> {
    let key_path = dir.join(format!("{}.json", key.pubkey()));
    write_keypair(&key_path, key)?;
    let mut cmd = Command::new(bin);
    // Room for one model in memory: a job for the other model unloads it and
    // the next job pays its load again, so loading time is real and skewed
    // (mostly 0, a load on every switch), as in the seed's measurements.
    cmd.args([
        "serve",
        "--bind",
        "127.0.0.1:0",
        "--preload",
        "--max-loaded-models",
        "1",
        "--models",
        models,
        "--keypair",
    ])
    .arg(&key_path)
    .args(fault);
    let mut child = cmd
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .map_err(|e| {
            NetworkError::Miner(format!(
                "{}: {e} (build it: cargo build --release -p verdict-miner)",
                bin.display()
            ))
        })?;
    let mut line = String::new();
    BufReader::new(child.stdout.take().unwrap())
        .read_line(&mut line)
        .map_err(|e| NetworkError::Miner(e.to_string()))?;
    let url = line
        .trim()
        .strip_prefix("listening on ")
        .ok_or_else(|| {
            NetworkError::Miner(format!(
                "the miner did not start: {line:?} (is the model fetched? bash scripts/setup.sh)"
            ))
        })?
        .to_string();
    Ok((child, url))
}

/// A Solana keypair file (JSON array of its 64 bytes), readable by its
/// owner only (the miner and the keeper refuse any other); replaces one
/// already there.
pub(crate) fn write_keypair(path: &Path, key: &Keypair) -> Result<(), NetworkError> {
    let _ = std::fs::remove_file(path);
    miner::keys::write_keypair_bytes(path, &key.to_bytes())
        .map_err(|e| NetworkError::Other(e.to_string()))
}

/// A job the run's client submitted: its account, the model it asks for, its input.
struct ClientJob {
    key: Pubkey,
    model: String,
    input: String,
}

fn input_for(i: usize) -> String {
    const SUBJECTS: [&str; 6] = [
        "A man",
        "A woman",
        "The child",
        "A chef",
        "The old dog",
        "A robot",
    ];
    const ACTIONS: [&str; 6] = [
        "is eating food",
        "plays the guitar",
        "reads a book",
        "rides a horse",
        "cooks pasta",
        "watches the sea",
    ];
    format!(
        "{} {} (request {i}).",
        SUBJECTS[i % 6],
        ACTIONS[(i / 6) % 6]
    )
}

/// What a run leaves: the report, and the chain it was read from.
pub struct Finished {
    pub written: Written,
    pub report: ReportInput,
    pub chain: Chain,
    /// What the run cost the payer: fees, and rent of the accounts it left on chain.
    pub lamports_spent: u64,
    /// The miners' Node accounts, in the report's order.
    pub miner_nodes: Vec<Pubkey>,
}

/// A spinner with a message line (hidden when progress is not shown).
pub(crate) fn spinner(show: bool) -> ProgressBar {
    let progress = if show {
        ProgressBar::new_spinner()
    } else {
        ProgressBar::hidden()
    };
    progress.set_style(ProgressStyle::with_template("{spinner} {msg}").unwrap());
    progress.enable_steady_tick(Duration::from_millis(120));
    progress
}

/// The miners of the main job: five honest, and one each slow, wrong and flaky.
const MAIN_JOB_MINERS: [Behaviour; 8] = [
    ("honest", &[]),
    ("honest", &[]),
    ("honest", &[]),
    ("honest", &[]),
    ("honest", &[]),
    ("slow", &["--fault", "slow", "--slow-ms", "6000"]),
    ("wrong", &["--fault", "wrong"]),
    (
        "flaky",
        &["--fault", "flaky", "--flaky-rate", "0.3", "--seed", "7"],
    ),
];

/// A miner's name and the `verdict-miner serve` arguments that make it so.
pub(crate) type Behaviour = (&'static str, &'static [&'static str]);

/// Sets the network up to the point where the keepers start: the chain and
/// its Config with a new stake mint, 5 validators staked and drawn into the
/// committee, one miner process per behaviour, registered, staked and past
/// its trial. Returns the network and the payer's lamports before it all.
pub(crate) async fn build(
    target: &Target,
    model: &str,
    miner_bin: &Path,
    tier3_reserved_bps: u16,
    behaviours: &[Behaviour],
    progress: &ProgressBar,
) -> Result<(Net, u64), NetworkError> {
    let work = std::env::temp_dir().join(format!("verdict-localnet-{}", std::process::id()));
    std::fs::create_dir_all(&work).map_err(|e| NetworkError::Other(e.to_string()))?;
    let step = |m: &str| progress.set_message(m.to_string());

    let (chain, embedded, payer, params) = match target {
        Target::Embedded => {
            step("starting the embedded chain");
            let embedded = Arc::new(EmbeddedChain::start().await);
            let payer = embedded.payer().await;
            (
                Chain::Embedded(embedded.clone()),
                Some(embedded),
                payer,
                ProtocolParams::default(),
            )
        }
        Target::Cluster { urls, payer } => {
            step(&format!("connecting to {}", urls.join(", ")));
            let rpc = RpcChain::new(RpcConfig {
                urls: urls.clone(),
                ..RpcConfig::default()
            });
            (
                Chain::Rpc(Arc::new(rpc)),
                None,
                payer.insecure_clone(),
                cluster_params(),
            )
        }
    };
    if let Some(config) = chain.fetch_optional::<Config>(&pda::config()).await? {
        return Err(NetworkError::Other(format!(
            "the program's Config already exists (authority {}): a run needs a fresh deployment, whose Config it \
             initializes with its own mint and phases (README: \"The main job on your cluster\")",
            config.authority
        )));
    }
    let payer_lamports = chain.lamports(&payer.pubkey()).await?;
    step("creating the stake mint and initializing the Config");
    let mint_authority = Keypair::new();
    let mint = chain.create_mint(&payer, &mint_authority.pubkey()).await?;
    // The payer becomes the Config's authority. Deployed upgradeable, the
    // program lets only its upgrade authority initialize, and wants its
    // ProgramData account to check that.
    let program_data = chain
        .account_data(&pda::program_data())
        .await?
        .map(|_| pda::program_data());
    let init = ix::initialize_config(
        &payer.pubkey(),
        &mint,
        program_data,
        params.clone(),
        SlashingTable::default(),
    );
    let port = |udp| {
        keeper::local_ports::loopback_port(udp)
            .map_err(|e| NetworkError::Other(format!("no free port: {e}")))
    };
    let ports = (0..5)
        .map(|_| Ok((port(false)?, port(true)?)))
        .collect::<Result<Vec<_>, NetworkError>>()?;
    let mut net = Net {
        chain,
        tier3_reserved_bps,
        keepers_claim: false,
        embedded,
        params: params.clone(),
        payer,
        mint,
        mint_authority,
        validators: vec![],
        miners: vec![],
        work: work.clone(),
        ports,
    };
    net.send(&[init], &[]).await?;

    step("registering 5 validators and drawing the committee");
    for i in 0..5 {
        // Twice the minimum: co-signing a high-risk outcome a dispute later
        // overturns costs 30% of the stake, which must not drop a validator
        // out of the committee draw (operators keep such a buffer).
        // It also decides the disputes: a vote weighs stake in vote units
        // (the minimum miner stake, 1,000 tokens), so each validator weighs
        // 20 units, and all staked weight is 5 × 20 + 8 miners × 1 + 1,000
        // delegated tokens = 109 units. The challenger may not vote; the
        // other four reveal 80 units, over the 20% turnout quorum (22) with
        // more than the 3 voters needed, and n = 81 > 10 × m = 10 decides.
        let v = net
            .register(
                format!("validator-{}", i + 1),
                ROLE_VALIDATOR,
                2 * params.min_validator_stake,
                &[],
            )
            .await?;
        net.validators.push(v);
    }
    net.rotate().await?;

    let models = format!("{},{}", model, SECOND_MODEL);
    for (i, (behaviour, fault)) in behaviours.iter().enumerate() {
        step(&format!(
            "starting miner {} of {} ({behaviour}) and registering it",
            i + 1,
            behaviours.len()
        ));
        let keys = net
            .register(
                format!("miner-{}-{behaviour}", i + 1),
                ROLE_MINER,
                params.min_miner_stake,
                &[model, SECOND_MODEL],
            )
            .await?;
        let (child, url) = spawn_miner(miner_bin, &work, &keys.signing, &models, fault)?;
        // Keepers find it on chain: its operator records where it serves.
        let record = ix::set_node_endpoint(&keys.wallet.key.pubkey(), &keys.node, &url);
        net.send(&[record], &[&keys.wallet.key]).await?;
        // Every miner passed its trial (the wrong one cheats only later).
        let epoch = net.committee().await?.epoch;
        let registered_at = net.chain.fetch::<Node>(&keys.node).await?.registered_at;
        let message = attest::trial_message(epoch, &keys.node, registered_at, true, 1);
        net.attest(&message, ix::record_trial(&keys.node, true))
            .await?;
        net.miners.push(MinerProcess {
            keys,
            behaviour,
            child,
        });
    }

    // Votes count only from nodes active before a dispute opens (strictly,
    // in whole seconds): let the clock pass the registrations.
    let registered = net.chain.unix_time().await?;
    net.reach(registered + 2).await?;
    Ok((net, payer_lamports))
}

/// Runs the whole network and writes the report.
pub async fn run(opts: &Options) -> Result<Finished, NetworkError> {
    let started = Instant::now();
    let progress = spinner(opts.show_progress);
    let (net, payer_lamports) = build(
        &opts.target,
        &opts.model,
        &opts.miner_bin,
        opts.tier3_reserved_bps,
        &MAIN_JOB_MINERS,
        &progress,
    )
    .await?;
    let params = net.params.clone();
    let work = net.work.clone();
    let step = |m: &str| progress.set_message(m.to_string());

    // One delegator backs an honest miner, one the wrong miner: the second
    // shares its liquidation.
    step("delegating to two miners");
    let wrong_index = MAIN_JOB_MINERS
        .iter()
        .position(|(b, _)| *b == "wrong")
        .expect("a wrong miner");
    let mut stakers = Vec::new();
    for target in [0usize, wrong_index] {
        let staker = net
            .wallet(500 * TOKEN, net.rent(8 + Delegation::INIT_SPACE, 1).await?)
            .await?;
        let node = net.miners[target].keys.node;
        net.send(
            &[ix::delegate(
                &staker.key.pubkey(),
                &node,
                &staker.tokens,
                500 * TOKEN,
            )],
            &[&staker.key],
        )
        .await?;
        stakers.push(staker);
    }

    step(&format!(
        "starting 5 keepers, one per validator ({}% of low-risk jobs reserved for Tier 3 miners)",
        opts.tier3_reserved_bps as f64 / 100.0
    ));
    let mut keepers = Vec::new();
    for i in 0..5 {
        keepers.push(net.start_keeper(i).await?);
    }
    // The client signs and pays for its own submits (rent and fees).
    let client = net
        .wallet(1_000 * TOKEN, net.job_cost().await? * opts.jobs as u64)
        .await?;
    let keeper_urls: Vec<String> = keepers.iter().map(|k| k.api_url()).collect();
    let keeper_client = KeeperClient::new(keeper_urls, Duration::from_secs(5))
        .map_err(|e| NetworkError::Other(e.to_string()))?;

    progress.finish_and_clear();
    let bar = if opts.show_progress {
        ProgressBar::new(opts.jobs as u64)
    } else {
        ProgressBar::hidden()
    };
    bar.set_style(
        ProgressStyle::with_template("{bar:40} {pos}/{len} jobs  {msg}")
            .unwrap()
            .progress_chars("=> "),
    );
    let mut jobs: Vec<ClientJob> = Vec::new();
    let fee = JOB_FEE;
    let mut next = 0usize;
    let mut rotated = false;
    let mut restarted = false;
    let mut griefed = false;
    let mut griefings: Vec<Griefing> = Vec::new();
    let (mut solved, mut refunded, mut waiting_total) = (0usize, 0usize, 0usize);
    let mut mixed = false;
    while next < opts.jobs {
        let batch_end = (next + opts.concurrency).min(opts.jobs);
        let mut batch = Vec::new();
        for i in next..batch_end {
            // Low risk first, so miners build a record; every risk level once
            // three miners left Tier 3 (or past 60% of the jobs).
            let risk = if !mixed {
                RiskLevel::Low
            } else {
                [RiskLevel::Low, RiskLevel::Medium, RiskLevel::High][i % 3]
            };
            let input = input_for(i);
            // One job in four asks for the second model, so miners switch models.
            let model = if i % 4 == 3 {
                SECOND_MODEL
            } else {
                opts.model.as_str()
            };
            let mut request = InferRequest::new(model, &input, risk, fee, client.tokens);
            request.job_id = Some(i as u64);
            let job = submit_job(&net.chain, &client.key, &request).await?.job;
            // Any keeper takes a job's input and shares it with the others.
            let keepers_from_i = keeper_client.rotated(i);
            keepers_from_i.submit_input(&job, &input, false).await?;
            batch.push((job, input.clone()));
            jobs.push(ClientJob {
                key: job,
                model: model.to_string(),
                input,
            });
        }
        next = batch_end;
        // Midway: a keeper is killed (no graceful stop) and restarted on
        // its database; the others take over the jobs it led meanwhile.
        if !restarted && next >= opts.jobs / 3 {
            restarted = true;
            bar.println("killing keeper 2 mid-batch; the other members take over its jobs");
            keepers.remove(1).crash().await;
            tokio::time::sleep(Duration::from_millis(500)).await;
            keepers.insert(1, net.start_keeper(1).await?);
            bar.println("keeper 2 restarted on its database");
        }
        // Wait for the batch, within the keeper's end-to-end budget; a job no
        // miner may take (e.g. high risk before any miner reached Tier 2)
        // stays SENT and expires at the end.
        // Each job's result, verified against the chain as any client would.
        let awaited = batch.iter().map(|(job, input)| {
            await_result(&net.chain, &keeper_client, None, job, input, BATCH_WAIT)
        });
        let results = futures_util::future::join_all(awaited).await;
        let mut waiting = Vec::new();
        for ((job, _), result) in batch.iter().zip(results) {
            match result {
                Ok(_) => solved += 1,
                Err(InferError::Refunded(_) | InferError::JobFailed(_)) => refunded += 1,
                Err(InferError::Timeout(_)) => waiting.push(*job),
                Err(e) => return Err(NetworkError::Other(format!("job {job}: {e}"))),
            }
            bar.inc(1);
        }
        // Left waiting: no miner may take them yet; they expire at the end.
        waiting_total += waiting.len();
        let elapsed = started.elapsed().as_secs_f64();
        let mut tiers = [0usize; 3];
        for m in &net.miners {
            let n: Node = net.chain.fetch(&m.keys.node).await?;
            tiers[(n.reputation.tier(&params) as usize).clamp(1, 3) - 1] += 1;
        }
        mixed = mixed || tiers[0] + tiers[1] >= 3 || next * 5 >= opts.jobs * 3;
        bar.set_message(format!(
            "solved {solved} · refunded {refunded} · waiting {waiting_total} · {:.1} jobs/s · miners in tiers 1/2/3: {}/{}/{}",
            next as f64 / elapsed,
            tiers[0],
            tiers[1],
            tiers[2]
        ));
        // Midway: a griefing challenge of an honest miner's correct answer,
        // well inside its challenge window (on a cluster, minutes).
        if !griefed && next * 2 >= opts.jobs {
            griefed = true;
            // Alone: the honest keepers' votes uphold the answer. With an
            // accomplice: the made-up result's weight keeps the answer
            // below 66% of the active weight, so the vote is unresolved.
            for accomplice in [None, Some(ACCOMPLICE)] {
                griefings.extend(grief(&net, &jobs, &bar, accomplice).await?);
            }
        }
        // Midway too: the rotation falls due and the keepers crank it.
        if !rotated && next >= opts.jobs * 2 / 3 {
            rotated = true;
            let committee = net.committee().await?;
            net.reach(committee.rotated_at + params.committee_rotation_secs)
                .await?;
            let waited = Instant::now();
            while net.committee().await?.epoch == committee.epoch
                && waited.elapsed() < Duration::from_secs(30)
            {
                // Slots pass as they would on a cluster, so the draw's seed slot comes.
                net.next_slot().await;
                tokio::time::sleep(Duration::from_millis(100)).await;
            }
            bar.println(format!(
                "{} s pass: the keepers rotated the committee to epoch {}",
                params.committee_rotation_secs,
                net.committee().await?.epoch
            ));
        }
    }
    // Fair entry at work: every miner's record so far, from its Node.
    let mut records = Vec::new();
    for m in &net.miners {
        let n: Node = net.chain.fetch(&m.keys.node).await?;
        let (jobs, ok) = n.reputation.buckets.iter().fold((0u32, 0u32), |(j, o), b| {
            (j + u32::from(b.jobs), o + u32::from(b.successes))
        });
        records.push(format!(
            "{} {ok}+{} (trust {:.2})",
            m.keys.name,
            jobs - ok,
            n.reputation.trust_bps as f64 / 10_000.0
        ));
    }
    bar.println(format!(
        "jobs per miner (answered+failed): {}",
        records.join(", ")
    ));
    bar.finish_and_clear();

    // The disputes: the auditing keeper re-runs solved jobs on a miner it
    // trusts and challenges the wrong miner's answers; a griefing operator
    // challenges an honest miner's correct answer; every other keeper
    // re-runs, commits and reveals its vote as the phases pass (the
    // challenger may not vote), then they resolve, liquidate, claim and close
    // their votes. Only the clock is moved here.
    let progress = spinner(opts.show_progress);
    progress.set_message("the auditing keeper re-checks solved jobs");
    settle_disputes(&net, &jobs, griefings, &progress).await?;
    progress.finish_and_clear();
    for k in keepers {
        k.shutdown().await;
    }

    // Once every held payout is released and every job nobody could take
    // has expired, anyone may crank both (the keepers are down, so the jobs
    // stay as read here).
    let mut open_jobs = Vec::new();
    for ClientJob { key: job, .. } in &jobs {
        let j: Job = net.chain.fetch(job).await?;
        let crankable_at = match j.status {
            JobStatus::Solved if !j.dispute_open => Some(j.release_at),
            _ => j.expires_at(&params),
        };
        if let Some(at) = crankable_at {
            open_jobs.push((*job, j, at));
        }
    }
    let settle_at = open_jobs.iter().map(|(_, _, at)| *at).max().unwrap_or(0);
    let progress = spinner(opts.show_progress);
    let wait = (settle_at - net.chain.unix_time().await?).max(0);
    progress.set_message(format!(
        "{wait} s until held payouts are released and unassigned jobs expire"
    ));
    net.reach(settle_at).await?;
    progress.finish_and_clear();
    for (job, j, _) in &open_jobs {
        match j.status {
            // The miner operator's part is credited to its node (withdrawn below).
            JobStatus::Solved => {
                net.send(&[ix::claim_payout(job, &j.miner, &j.refund_account)], &[])
                    .await?;
            }
            JobStatus::Sent => {
                net.send(&[ix::expire_job(job, None, &j.refund_account)], &[])
                    .await?;
            }
            JobStatus::Allocated => {
                net.send(
                    &[ix::expire_job(job, Some(j.miner), &j.refund_account)],
                    &[],
                )
                .await?;
            }
            _ => {}
        }
    }

    // Every job is final now: the report reads them as they end. Past a
    // paid job's challenge window, `close_job` pays its co-signers their fee
    // (a share of the price, to their nodes' owed balances) and frees the
    // miner's exposure; every other finished job closes too. Rent goes back
    // to the client.
    let mut finals: BTreeMap<Pubkey, Job> = BTreeMap::new();
    for ClientJob { key: job, .. } in &jobs {
        finals.insert(*job, net.chain.fetch(job).await?);
    }
    let window = params.challenge_window_epochs as i64 * params.epoch_secs;
    let close_at = finals
        .values()
        .filter(|j| j.status == JobStatus::Paid)
        .map(|j| j.solved_at + window)
        .max()
        .unwrap_or(0);
    let progress = spinner(opts.show_progress);
    let wait = (close_at - net.chain.unix_time().await?).max(0);
    progress.set_message(format!(
        "{wait} s until the paid jobs' challenge windows end; then every job closes"
    ));
    net.reach(close_at).await?;
    progress.finish_and_clear();
    for (job, j) in &finals {
        if j.is_final() && j.client_owed == 0 && !j.dispute_open {
            net.send(&[ix::close_job(job, j)], &[]).await?;
        }
    }
    // Every operator takes what its node is owed (payouts, validator fees,
    // bonds back) into its own token account.
    for keys in net
        .validators
        .iter()
        .chain(net.miners.iter().map(|m| &m.keys))
    {
        let n: Node = net.chain.fetch(&keys.node).await?;
        if n.owed > 0 {
            let withdraw = ix::withdraw_owed(&keys.wallet.key.pubkey(), &keys.wallet.tokens);
            net.send(&[withdraw], &[&keys.wallet.key]).await?;
        }
    }

    // What the wallets did not spend on rent goes back to the payer.
    let wallets = net
        .validators
        .iter()
        .chain(net.miners.iter().map(|m| &m.keys))
        .map(|n| &n.wallet.key);
    for key in wallets
        .chain(stakers.iter().map(|s| &s.key))
        .chain([&client.key])
    {
        let left = net.chain.lamports(&key.pubkey()).await?;
        if left > 0 {
            net.chain
                .transfer(&net.payer, key, &net.payer.pubkey(), left)
                .await?;
        }
    }
    let lamports_spent =
        payer_lamports.saturating_sub(net.chain.lamports(&net.payer.pubkey()).await?);

    let report = read_report(&net, &jobs, &finals, started.elapsed().as_secs_f64()).await?;
    let written = write_report(&opts.out, &report)?;
    let _ = std::fs::remove_dir_all(&work);
    let miner_nodes = net.miners.iter().map(|m| m.keys.node).collect();
    Ok(Finished {
        written,
        report,
        chain: net.chain.clone(),
        miner_nodes,
        lamports_spent,
    })
}

/// The disputes over the run's jobs, as they stand.
async fn read_disputes(
    chain: &Chain,
    jobs: &[ClientJob],
) -> Result<Vec<(Pubkey, Dispute)>, NetworkError> {
    let mut out = Vec::new();
    for ClientJob { key: job, .. } in jobs {
        let key = pda::dispute(job);
        if let Some(d) = chain.fetch_optional::<Dispute>(&key).await? {
            out.push((key, d));
        }
    }
    Ok(out)
}

/// Waits until every dispute satisfies `done` or `within` passes (a run never hangs).
async fn wait_disputes(
    chain: &Chain,
    jobs: &[ClientJob],
    done: impl Fn(&Dispute) -> bool,
    within: Duration,
) -> Result<Vec<(Pubkey, Dispute)>, NetworkError> {
    let started = Instant::now();
    loop {
        let disputes = read_disputes(chain, jobs).await?;
        if disputes.iter().all(|(_, d)| done(d)) || started.elapsed() > within {
            return Ok(disputes);
        }
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
}

/// Waits for the keepers' disputes against wrong answers and moves the
/// clock through the commit and reveal phases; returns once every dispute
/// is decided, its liquidations and claims done and its votes closed
/// (bounded waits: a run never hangs).
async fn settle_disputes(
    net: &Net,
    jobs: &[ClientJob],
    griefings: Vec<Griefing>,
    progress: &ProgressBar,
) -> Result<(), NetworkError> {
    let chain = &net.chain;
    let wrong = net
        .miners
        .iter()
        .find(|m| m.behaviour == "wrong")
        .map(|m| m.keys.node);
    let mut wrong_solved = 0;
    for ClientJob { key: job, .. } in jobs {
        let j: Job = chain.fetch(job).await?;
        if Some(j.miner) == wrong && matches!(j.status, JobStatus::Solved | JobStatus::Paid) {
            wrong_solved += 1;
        }
    }
    // The auditor needs a few rounds to re-check every solved job: wait
    // until it has challenged something and then opened nothing new for 3 s.
    // (The griefing dispute, opened midway, does not count.)
    let griefer = net.validators[GRIEFER].node;
    let started = Instant::now();
    let (mut count, mut stable_since) = (0, Instant::now());
    while started.elapsed() < Duration::from_secs(60) {
        let now_open = read_disputes(chain, jobs)
            .await?
            .iter()
            .filter(|(_, d)| d.challenger != griefer)
            .count();
        if now_open != count {
            (count, stable_since) = (now_open, Instant::now());
        }
        if count >= wrong_solved.min(1) && stable_since.elapsed() > Duration::from_secs(3) {
            break;
        }
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    let opened = read_disputes(chain, jobs).await?;
    if opened.is_empty() {
        return Ok(());
    }
    // Every validator that is no party commits: the challenger, the miner
    // and a high-risk outcome's co-signers may not vote.
    let validators: Vec<Pubkey> = net.validators.iter().map(|v| v.node).collect();
    let voters = move |d: &Dispute| validators.iter().filter(|v| !d.is_party(v)).count() as u32;
    progress.set_message(format!(
        "{} dispute(s) open: the keepers re-run and commit their votes",
        opened.len()
    ));
    let committed = wait_disputes(
        chain,
        jobs,
        |d| d.commits >= voters(d),
        Duration::from_secs(30),
    )
    .await?;
    let commit_end = committed
        .iter()
        .map(|(_, d)| d.commit_end)
        .max()
        .unwrap_or(0);
    progress.set_message(format!(
        "the chain's clock passes the commit phase ({} s)",
        net.params.vote_commit_secs
    ));
    net.reach(commit_end + 1).await?;
    progress.set_message("the keepers reveal");
    for g in griefings {
        if let Some(reveal) = g.accomplice_reveal {
            // Revealed as soon as the commit phase ended (on a cluster,
            // maybe long before now): wait for it, briefly.
            let started = Instant::now();
            while !reveal.is_finished() && started.elapsed() < Duration::from_secs(30) {
                tokio::time::sleep(Duration::from_millis(200)).await;
            }
            let failed = match reveal.is_finished().then(|| reveal.join()) {
                Some(Ok(Ok(()))) => None,
                Some(Ok(Err(e))) => Some(e.to_string()),
                Some(Err(_)) => Some("its thread panicked".into()),
                None => Some("still waiting".into()),
            };
            if let Some(why) = failed {
                progress.println(format!(
                    "the accomplice's vote in dispute {} was not revealed: {why}",
                    g.dispute
                ));
            }
        }
    }
    let revealed = wait_disputes(
        chain,
        jobs,
        |d| d.voters_revealed >= d.commits,
        Duration::from_secs(30),
    )
    .await?;
    let reveal_end = revealed
        .iter()
        .map(|(_, d)| d.reveal_end)
        .max()
        .unwrap_or(0);
    progress.set_message(format!(
        "the chain's clock passes the reveal phase ({} s)",
        net.params.vote_reveal_secs
    ));
    net.reach(reveal_end + 1).await?;
    progress.set_message("resolution, liquidations and reward claims");
    let settled = |d: &Dispute| match d.status {
        DisputeStatus::Voting => false,
        DisputeStatus::Unresolved => true,
        DisputeStatus::Upheld | DisputeStatus::Overturned => {
            d.pending_liquidations == 0 && d.claims >= d.winning_voters()
        }
    };
    let decided = wait_disputes(chain, jobs, settled, Duration::from_secs(30)).await?;
    // The keepers close their settled votes (claiming closes the correct ones).
    progress.set_message("the keepers close their votes");
    let keys: Vec<Pubkey> = decided.iter().map(|(k, _)| *k).collect();
    let started = Instant::now();
    while started.elapsed() < Duration::from_secs(30) {
        let open_votes = chain
            .program_accounts()
            .await?
            .iter()
            .filter_map(|(_, data)| {
                verdict_sdk::accounts::decode::<Vote>(&Pubkey::default(), data).ok()
            })
            .filter(|v| keys.contains(&v.dispute))
            .count();
        if open_votes == 0 {
            break;
        }
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    // Each dispute's outcome, as the chain settled it.
    let events = run_events(chain, keys.clone()).await?;
    let name_of = |node: &Pubkey| net.name_of(node);
    for (key, d) in read_disputes(chain, jobs).await? {
        let t = ledger::settlement(&key, &events);
        let tokens = |amount: u64| amount as f64 / TOKEN as f64;
        let turnout = d.weight_disputed + d.weight_challenger + d.weight_other;
        progress.println(format!(
            "dispute over {}'s job, challenged by {}: {:?} (n = {}, m = {}; turnout {turnout} of {} active weight); {} lost {:.3} of its {:.3} bond, {} credited {:.3}, {} liquidated, voters' rewards {:.3}",
            name_of(&d.miner),
            name_of(&d.challenger),
            d.status,
            d.n,
            d.m,
            d.active_weight,
            name_of(&d.challenger),
            tokens(t.challenger_lost()),
            tokens(d.bond),
            name_of(&d.miner),
            tokens(t.unresolved_fee),
            t.liquidated.len(),
            tokens(t.rewards.iter().map(|(_, a)| a).sum()),
        ));
    }
    Ok(())
}

/// A griefing challenge: the griefer's operator (a staked validator, acting
/// outside its keeper) disputes a correct answer of an honest miner — the
/// one with the fewest jobs, a newcomer a rival might want to keep down —
/// naming a made-up result, and posts the bond. The keepers re-run the job
/// and vote for the disputed output as the phases pass (settled with the
/// other disputes at the end). Returns the job, if one was found.
async fn grief(
    net: &Net,
    jobs: &[ClientJob],
    progress: &ProgressBar,
    accomplice: Option<usize>,
) -> Result<Option<Griefing>, NetworkError> {
    let chain = &net.chain;
    // A margin for the time the checks below take on a cluster.
    let soon = chain.unix_time().await? + 10;
    let mut candidates: Vec<(u32, &ClientJob, Job)> = Vec::new();
    for job in jobs {
        let j: Job = chain.fetch(&job.key).await?;
        let honest = net
            .miners
            .iter()
            .find(|m| m.keys.node == j.miner && m.behaviour == "honest");
        // High-risk outcomes make their co-signers parties: keep to the others.
        let open = matches!(j.status, JobStatus::Solved | JobStatus::Paid)
            && !j.dispute_open
            && j.risk != RiskLevel::High
            && !j.challenge_window_over(soon, &net.params);
        if let (Some(m), true) = (honest, open) {
            if chain
                .fetch_optional::<Dispute>(&pda::dispute(&job.key))
                .await?
                .is_none()
            {
                let n: Node = chain.fetch(&m.keys.node).await?;
                candidates.push((n.reputation.window(&net.params).jobs, job, j));
            }
        }
    }
    candidates.sort_by_key(|(served, _, _)| *served);
    for (_, job, j) in candidates {
        // Only a correct answer: checked against this process's own run.
        let reference = reference_hashes(std::slice::from_ref(job)).await?;
        if reference.get(&job.key) != Some(&j.output_hash) {
            continue;
        }
        let griefer = &net.validators[GRIEFER];
        let bogus: [u8; 32] = Sha256::new()
            .chain_update(b"a made-up result")
            .chain_update(job.key.as_ref())
            .finalize()
            .into();
        let open = ix::open_dispute(
            &griefer.wallet.key.pubkey(),
            &griefer.wallet.tokens,
            &job.key,
            &j,
            bogus,
        );
        let dispute = pda::dispute(&job.key);
        let bond = net.params.dispute_bond(j.price) as f64 / TOKEN as f64;
        let Some(i) = accomplice else {
            net.send(&[open], &[&griefer.wallet.key]).await?;
            progress.println(format!(
                "{} (griefing) disputes {}'s correct answer on job {}, naming a made-up result; bond {bond:.3} tokens",
                griefer.name,
                net.name_of(&j.miner),
                job.key,
            ));
            return Ok(Some(Griefing {
                dispute,
                accomplice_reveal: None,
            }));
        };
        // The accomplice commits in the same transaction, before any keeper
        // sees the dispute (its own keeper then leaves the vote alone).
        let accomplice = &net.validators[i];
        let salt: [u8; 32] = Sha256::new()
            .chain_update(b"the accomplice's salt")
            .chain_update(dispute.as_ref())
            .finalize()
            .into();
        let commitment = vote_commitment(&bogus, &salt, &accomplice.node);
        let commit = ix::commit_vote(
            &accomplice.wallet.key.pubkey(),
            &accomplice.wallet.tokens,
            &dispute,
            commitment,
        );
        net.send(
            &[open, commit],
            &[&griefer.wallet.key, &accomplice.wallet.key],
        )
        .await?;
        progress.println(format!(
            "{} (griefing) disputes {}'s correct answer on job {}, naming a made-up result; bond {bond:.3} tokens; {} votes with it",
            griefer.name,
            net.name_of(&j.miner),
            job.key,
            accomplice.name,
        ));
        let d: Dispute = chain.fetch(&dispute).await?;
        let reveal = ix::reveal_vote(
            &accomplice.wallet.key.pubkey(),
            &accomplice.wallet.tokens,
            &dispute,
            bogus,
            salt,
        );
        let (chain, payer, signer) = (
            chain.clone(),
            net.payer.insecure_clone(),
            accomplice.wallet.key.insecure_clone(),
        );
        // Its own thread and runtime: a chain call's future is not `Send`
        // (as the keepers' chain thread, which does the same).
        let task = std::thread::spawn(move || {
            tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
                .map_err(|e| NetworkError::Other(e.to_string()))?
                .block_on(reveal_in_phase(chain, payer, signer, reveal, d))
        });
        return Ok(Some(Griefing {
            dispute,
            accomplice_reveal: Some(task),
        }));
    }
    progress.println("no honest miner's correct answer is open to a griefing dispute");
    Ok(None)
}

/// Sends `reveal` (signed by `signer`) in the dispute's reveal phase,
/// whenever that comes: a cluster's clock runs on its own, the embedded one
/// is moved by the run.
async fn reveal_in_phase(
    chain: Chain,
    payer: Keypair,
    signer: Keypair,
    reveal: solana_sdk::instruction::Instruction,
    d: Dispute,
) -> Result<(), NetworkError> {
    loop {
        let now = chain.unix_time().await?;
        if now >= d.reveal_end {
            return Err(NetworkError::Other(
                "the accomplice's reveal phase passed".into(),
            ));
        }
        if now >= d.commit_end {
            let signers = [&signer];
            chain.send(&[reveal], &payer, &signers).await?;
            return Ok(());
        }
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
}

/// Every Verdict event of the run, each transaction once: the histories of
/// every node and every dispute cover them all.
async fn run_events(
    chain: &Chain,
    accounts: impl IntoIterator<Item = Pubkey>,
) -> Result<Vec<VerdictEvent>, NetworkError> {
    let mut seen = std::collections::HashSet::new();
    let mut events = Vec::new();
    for account in accounts {
        for landed in chain.history(&account).await? {
            if seen.insert(landed.signature) {
                events.extend(parse_logs(&landed.logs));
            }
        }
    }
    Ok(events)
}

/// Reads everything the report shows back from the chain; `finals`: every
/// job as it ended (read before the jobs were closed).
async fn read_report(
    net: &Net,
    jobs: &[ClientJob],
    finals: &BTreeMap<Pubkey, Job>,
    seconds: f64,
) -> Result<ReportInput, NetworkError> {
    let chain = &net.chain;
    let params = &net.params;
    let mut counts: BTreeMap<String, u64> = BTreeMap::new();
    let mut timings = Vec::new();
    for j in finals.values() {
        *counts
            .entry(format!("{:?}", j.status).to_lowercase())
            .or_default() += 1;
        if matches!(j.status, JobStatus::Solved | JobStatus::Paid) || j.response_ms > 0 {
            timings.push(Timing {
                response_ms: j.response_ms as f64,
                load_ms: j.load_ms as f64,
                inference_ms: j.inference_ms as f64,
            });
        }
    }
    let disputes = read_disputes(chain, jobs).await?;
    let nodes_and_names: Vec<(&NodeKeys, &str)> = net
        .miners
        .iter()
        .map(|m| (&m.keys, "miner"))
        .chain(net.validators.iter().map(|v| (v, "validator")))
        .collect();
    let accounts = nodes_and_names
        .iter()
        .map(|(k, _)| k.node)
        .chain(disputes.iter().map(|(k, _)| *k));
    let events = run_events(chain, accounts.collect::<Vec<_>>()).await?;
    let ledgers = ledger::ledgers(&events);
    let name_of = |node: &Pubkey| {
        nodes_and_names
            .iter()
            .find(|(k, _)| k.node == *node)
            .map_or_else(|| node.to_string(), |(k, _)| k.name.clone())
    };

    let right_answers = reference_hashes(jobs).await?;
    let mut miners = Vec::new();
    let mut nodes = Vec::new();
    let mut penalties = Vec::new();
    for (keys, role) in &nodes_and_names {
        let n: Node = chain.fetch(&keys.node).await?;
        let ledger = ledgers.get(&keys.node).copied().unwrap_or_default();
        let mut row = node_row(&keys.name, role, &n, params, &ledger);
        if *role == "miner" {
            let record = judged_record(
                &keys.name,
                &keys.node,
                &chain.history(&keys.node).await?,
                &right_answers,
            );
            row.wrong_answers = Some(record.wrong_accepted);
            miners.push(record);
        } else {
            row.jobs_served = finals
                .values()
                .filter(|j| j.signers().contains(&keys.node))
                .count() as u64;
        }
        nodes.push(row);
    }
    for e in &events {
        match e {
            VerdictEvent::NodeSlashed(s) => {
                penalties.push(format!(
                    "{} slashed {:.3} tokens ({:?})",
                    name_of(&s.node),
                    s.amount as f64 / TOKEN as f64,
                    s.offense
                ));
            }
            VerdictEvent::NodeLiquidated(l) => penalties.push(format!(
                "{} liquidated: {:.3} tokens to dispute {} ({:.3} of them refunded the client)",
                name_of(&l.node),
                l.amount as f64 / TOKEN as f64,
                l.dispute,
                l.client_refund as f64 / TOKEN as f64
            )),
            _ => {}
        }
    }
    let griefer = net.validators[GRIEFER].node;
    let disputes = disputes
        .iter()
        .map(|(key, d)| dispute_row(key, d, params, &events, &name_of, &griefer))
        .collect();

    let accounts = chain.program_accounts().await?;
    let vault = chain.token_balance(&pda::stake_vault()).await?;
    let mut snapshot =
        Snapshot::from_accounts(accounts.iter().map(|(k, d)| (*k, d.as_slice())), vault)
            .map_err(|e| NetworkError::Other(e.to_string()))?;
    for v in snapshot.vaults() {
        let balance = chain.token_balance(&v).await?;
        snapshot.token_balances.insert(v, balance);
    }
    let conservation_violations = invariants::check(&snapshot).err().unwrap_or_default();
    Ok(ReportInput {
        jobs_by_outcome: counts,
        timings,
        miners,
        nodes,
        penalties,
        disputes,
        conservation_violations,
        seconds,
    })
}

/// A dispute as it ended: candidates, weights, turnout and every ballot.
fn dispute_row(
    key: &Pubkey,
    d: &Dispute,
    params: &ProtocolParams,
    events: &[VerdictEvent],
    name_of: &dyn Fn(&Pubkey) -> String,
    griefer: &Pubkey,
) -> DisputeRow {
    let side = |result: &[u8; 32]| {
        if *result == d.disputed_output {
            "disputed output"
        } else if *result == d.challenger_result {
            "challenger's result"
        } else {
            "another result"
        }
    };
    let decided = matches!(d.status, DisputeStatus::Upheld | DisputeStatus::Overturned);
    let voters = ledger::ballots(key, events)
        .into_iter()
        .map(|b| VoterRow {
            name: name_of(&b.voter),
            weight: b.weight,
            vote: b.result.as_ref().map_or("not revealed", side).to_string(),
        })
        .collect();
    let t = ledger::settlement(key, events);
    let tokens = |amount: u64| amount as f64 / TOKEN as f64;
    let named = |items: &[(Pubkey, u64)]| {
        items
            .iter()
            .map(|(node, amount)| (name_of(node), tokens(*amount)))
            .collect()
    };
    let settlement = SettlementRow {
        challenger_lost: tokens(t.challenger_lost()),
        bond_returned: tokens(t.bond_returned.unwrap_or(0)),
        miner_credited: tokens(t.unresolved_fee),
        deposits_forfeited: tokens(t.deposits_forfeited),
        liquidated: named(&t.liquidated),
        rewards: named(&t.rewards),
    };
    DisputeRow {
        kind: if d.challenger == *griefer {
            "griefing"
        } else {
            "audit"
        }
        .to_string(),
        dispute: key.to_string(),
        miner: name_of(&d.miner),
        challenger: name_of(&d.challenger),
        status: format!("{:?}", d.status),
        disputed_output: hex32(&d.disputed_output),
        challenger_result: hex32(&d.challenger_result),
        standing: decided.then(|| side(&d.result).to_string()),
        bond: d.bond as f64 / TOKEN as f64,
        n: d.n,
        m: d.m,
        turnout: d.weight_disputed + d.weight_challenger + d.weight_other,
        active_weight: d.active_weight,
        quorum_bps: params.dispute_quorum_bps,
        voters,
        settlement,
    }
}

fn hex32(bytes: &[u8; 32]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// The right output hash of every job, from this process's own run of its
/// model (the miners' model code, on the same pinned weights): the report
/// judges each answer the chain accepted against it.
async fn reference_hashes(jobs: &[ClientJob]) -> Result<BTreeMap<Pubkey, [u8; 32]>, NetworkError> {
    let ids = jobs
        .iter()
        .map(|job| {
            job.model
                .parse()
                .map_err(|e| NetworkError::Other(format!("model {:?}: {e}", job.model)))
        })
        .collect::<Result<Vec<miner::api::ModelId>, _>>()?;
    let mut models = ids.clone();
    models.sort();
    models.dedup();
    let reference_error = |e: miner::models::ModelError| {
        NetworkError::Other(format!("the report's reference model: {e}"))
    };
    let registry = miner::models::ModelRegistry::new(&models).map_err(reference_error)?;
    let mut hashes = BTreeMap::new();
    for (job, id) in jobs.iter().zip(&ids) {
        let (model, _) = registry.ready(id).await.map_err(reference_error)?;
        let input = job.input.clone();
        let output = tokio::task::spawn_blocking(move || model.run(&input))
            .await
            .map_err(|e| NetworkError::Other(e.to_string()))?
            .map_err(reference_error)?;
        let tensor = miner::api::OutputTensor::from_f32(&output.embedding)
            .map_err(|e| NetworkError::Other(e.to_string()))?;
        hashes.insert(job.key, tensor.hash().0);
    }
    Ok(hashes)
}

/// A miner's outcomes in order, from its history: each job the chain
/// failed or expired on it counts as a mistake, each it accepted counts as
/// right only if the output matches the reference (a wrong answer the
/// committee's checks let through is a mistake too, found out or not).
fn judged_record(
    name: &str,
    node: &Pubkey,
    history: &[verdict_chain::Landed],
    right_answers: &BTreeMap<Pubkey, [u8; 32]>,
) -> MinerRecord {
    let mut outcomes = Vec::new();
    let mut wrong_accepted = 0;
    // The first trust update is the trial's: not a job.
    let mut last_trust: Option<u32> = None;
    for landed in history {
        let events = parse_logs(&landed.logs);
        let wrong = events.iter().any(|e| {
            matches!(e, VerdictEvent::JobCompleted(c) if c.miner == *node && right_answers.get(&c.job).is_some_and(|h| *h != c.output_hash))
        });
        for e in &events {
            if let VerdictEvent::ReputationChanged(r) = e {
                if r.node != *node {
                    continue;
                }
                if let Some(prev) = last_trust {
                    if r.window_jobs > 0 {
                        let accepted = r.trust_bps >= prev;
                        wrong_accepted += u64::from(accepted && wrong);
                        outcomes.push(accepted && !wrong);
                    }
                }
                last_trust = Some(r.trust_bps);
            }
        }
    }
    MinerRecord {
        name: name.to_string(),
        outcomes,
        wrong_accepted,
    }
}

fn node_row(
    name: &str,
    role: &str,
    n: &Node,
    params: &ProtocolParams,
    ledger: &ledger::Ledger,
) -> NodeRow {
    let miner = role == "miner";
    let tokens = |amount: u64| amount as f64 / TOKEN as f64;
    NodeRow {
        name: name.to_string(),
        role: role.to_string(),
        trust: miner.then(|| n.reputation.trust_bps as f64 / 10_000.0),
        composite: miner.then(|| n.reputation.window(params).composite_bps as f64 / 10_000.0),
        tier: miner.then(|| n.reputation.tier(params)),
        score: (!miner).then_some(n.validator_score),
        stake: n.slashable_stake().unwrap_or(0) as f64 / TOKEN as f64,
        earnings: n.total_earned as f64 / TOKEN as f64,
        slashed: tokens(ledger.slashed + ledger.liquidated),
        wrong_answers: None,
        status: match n.status {
            NodeStatus::Active => "active".into(),
            NodeStatus::Liquidated => "liquidated".into(),
        },
        jobs_served: if miner { ledger.jobs_completed } else { 0 },
        jobs_failed: if miner { ledger.jobs_failed } else { 0 },
        income: Income {
            payouts: tokens(ledger.payouts),
            boosts: tokens(ledger.boosts),
            validator_fees: tokens(ledger.validator_fees),
            dispute_rewards: tokens(ledger.dispute_rewards),
            unresolved_fees: tokens(ledger.unresolved_fees),
            bonds_returned: tokens(ledger.bonds_returned),
            bonds_lost: tokens(ledger.bonds_lost),
            deposits_lost: tokens(ledger.deposits_lost),
            slashed: tokens(ledger.slashed),
            liquidated: tokens(ledger.liquidated),
        },
    }
}
