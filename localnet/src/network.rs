//! Setting up a whole local Verdict network in one process: the embedded
//! chain with the program (or a cluster over JSON-RPC), a stake mint and the
//! Config; validators staked and drawn into the committee; miner processes
//! registered, staked, past their trial and listed on chain; and `Net`, the
//! handle the scenario ([`crate::scenario`]) and the judging
//! ([`crate::judging`]) work through: sending, attesting, moving the clock,
//! starting keepers.
//!
//! The chain is either embedded in this process (long protocol phases are
//! skipped by warping its clock) or a cluster reached over JSON-RPC where the
//! program is deployed ([`Target::Cluster`]): there time passes for real, so
//! the run initializes the Config with minute-long phases
//! ([`cluster_params`]) and waits them out.

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::{Duration, Instant};

use anchor_lang::prelude::Pubkey;
use anchor_lang::Space;
use indicatif::{ProgressBar, ProgressStyle};
use keeper::config::{Endpoint, KeeperConfig};
use keeper::{Deps, KeeperHandle};
use miner::pricing::Strategy;
use miner::process::{Fault, MinerProcess, ServeOptions};
use solana_sdk::signature::Keypair;
use solana_sdk::signer::Signer;
use verdict::constants::{ROLE_MINER, ROLE_VALIDATOR};
use verdict::state::{
    model_id, Config, Dispute, Job, Node, NodeEndpoint, ProtocolParams, SlashingTable, Vote,
};
use verdict_chain::{tokens, Chain, EmbeddedChain, RpcChain, RpcConfig};
use verdict_sdk::accounts::AccountSource;
use verdict_sdk::client::InferError;
use verdict_sdk::{instructions as ix, pda};
use verdict_tests::keys;
use verdict_tests::network::{self, NodeHandle, NodeSpec, Setup, User};

use crate::report::{ReportInput, Written};

pub use crate::scenario::run;

pub use verdict::constants::defaults::TOKEN;
/// The second model every miner serves (the fast test projection); one job
/// in four asks for it, and each miner has room for one model at a time.
pub(crate) const SECOND_MODEL: &str = verdict_wire::models::TEST_PROJECTION_ID;

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
    /// A generative model one job in sixteen asks for (`smollm2-135m-instruct-q4`), if any.
    pub generative_model: Option<String>,
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
    #[error("key file: {0}")]
    Key(#[from] verdict_wire::keys::KeyError),
    #[error("miner process: {0}")]
    Miner(String),
    #[error("report: {0}")]
    Report(#[from] crate::report::ReportError),
    #[error("{0}")]
    Other(String),
}

/// A node of the run: its name in the report and its keys.
pub(crate) struct NodeKeys {
    pub(crate) name: String,
    pub(crate) handle: NodeHandle,
}

impl std::ops::Deref for NodeKeys {
    type Target = NodeHandle;

    fn deref(&self) -> &NodeHandle {
        &self.handle
    }
}

/// A miner of the run: its keys, how it behaves, and its process (stopped
/// when this is dropped).
pub(crate) struct RunMiner {
    pub(crate) keys: NodeKeys,
    pub(crate) behaviour: &'static str,
    pub(crate) _process: MinerProcess,
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
    pub(crate) miners: Vec<RunMiner>,
    pub(crate) work: PathBuf,
    /// Each validator's keeper API port and gossip port.
    pub(crate) ports: Vec<(u16, u16)>,
}

/// The validator whose keeper re-checks every solved job (the others sample none).
pub(crate) const AUDITOR: usize = 0;

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
pub(crate) const DISPUTES_FUNDED: u64 = 8;

/// Lamports a client's submit costs in fees (one signature), with room to spare.
pub(crate) const CLIENT_FEE_LAMPORTS: u64 = 10_000;

/// The fee every client job escrows (its max fee; the keepers price at most this).
pub const JOB_FEE: u64 = TOKEN / 100;

/// What a validator's keeper posts from its operator's token account over
/// `DISPUTES_FUNDED` disputes: a challenge's bond (max(min bond, price ×
/// bond multiple)) and a vote's deposit (returned at reveal) in each.
pub(crate) fn validator_funds(params: &ProtocolParams) -> u64 {
    DISPUTES_FUNDED * (params.dispute_bond(JOB_FEE) + params.vote_deposit)
}

/// Longest the run waits for a cluster's clock to reach a time while it
/// does not move at all (a stalled or frozen chain).
pub(crate) const CLOCK_STALL: Duration = Duration::from_secs(60);

impl Net {
    /// A wallet holding `tokens` of the stake mint and `lamports` for the
    /// rent of the accounts it will pay for (fees are the payer's).
    pub(crate) async fn wallet(&self, tokens: u64, lamports: u64) -> Result<User, NetworkError> {
        let keypair = Keypair::new();
        // A system account must stay rent-exempt or empty.
        let lamports = lamports + self.chain.rent_exempt_minimum(0).await?;
        self.chain
            .transfer(&self.payer, &self.payer, &keypair.pubkey(), lamports)
            .await?;
        let account = self
            .chain
            .create_token_account(&self.payer, &keypair.pubkey(), &self.mint)
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
        Ok(User {
            keypair,
            tokens: account,
        })
    }

    /// What a client's submit costs it: the Job's and the escrow's rent,
    /// and the fee.
    pub(crate) async fn job_cost(&self) -> Result<u64, NetworkError> {
        Ok(self.rent(Job::SPACE, 1).await?
            + self.rent(tokens::TOKEN_ACCOUNT_LEN, 1).await?
            + CLIENT_FEE_LAMPORTS)
    }

    /// Rent for `count` accounts of `len` bytes each.
    pub(crate) async fn rent(&self, len: usize, count: u64) -> Result<u64, NetworkError> {
        Ok(self.chain.rent_exempt_minimum(len).await? * count)
    }

    /// Brings the chain's clock to `at` or later: a warp on the embedded
    /// chain; on a cluster, a wait (refused if its clock stands still).
    pub(crate) async fn reach(&self, at: i64) -> Result<(), NetworkError> {
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

    pub(crate) async fn send(
        &self,
        ixs: &[solana_sdk::instruction::Instruction],
        signers: &[&Keypair],
    ) -> Result<verdict_chain::Landed, NetworkError> {
        Ok(self.chain.send(ixs, &self.payer, signers).await?)
    }

    /// Registers and stakes a node; its operator's wallet keeps 1,000
    /// tokens besides, and a validator's also what its keeper posts in
    /// disputes ([`validator_funds`]).
    pub(crate) async fn register(
        &self,
        name: String,
        roles: u8,
        stake: u64,
        models: &[&str],
    ) -> Result<NodeKeys, NetworkError> {
        let mut rent =
            self.rent(Node::SPACE, 1).await? + self.rent(tokens::TOKEN_ACCOUNT_LEN, 1).await?;
        let mut funds = 1_000 * TOKEN;
        if roles & ROLE_MINER != 0 {
            rent += self.rent(8 + NodeEndpoint::INIT_SPACE, 1).await?;
        }
        if roles & ROLE_VALIDATOR != 0 {
            rent += self.rent(Vote::SPACE, DISPUTES_FUNDED).await?
                + self.rent(Dispute::SPACE, DISPUTES_FUNDED).await?;
            funds += validator_funds(&self.params);
        }
        let models: Vec<_> = models.iter().map(|m| model_id(m).unwrap()).collect();
        let spec = NodeSpec {
            roles,
            tokens: stake + funds,
            stake,
            rent,
            models: &models,
        };
        let handle = network::register(&mut &*self, spec).await?;
        Ok(NodeKeys { name, handle })
    }

    /// A node's name in the run (its address if it is not one of the run's).
    pub(crate) fn name_of(&self, node: &Pubkey) -> String {
        self.validators
            .iter()
            .chain(self.miners.iter().map(|m| &m.keys))
            .find(|k| k.node == *node)
            .map_or_else(|| node.to_string(), |k| k.name.clone())
    }

    pub(crate) async fn committee(&self) -> Result<verdict::state::Committee, NetworkError> {
        Ok(self.chain.fetch(&pda::committee()).await?)
    }

    /// Draws the first committee: every validator enters, then the draw is
    /// requested, seeded once its slot has passed, and swept in batches
    /// (later draws are the keepers' to crank).
    pub(crate) async fn rotate(&self) -> Result<(), NetworkError> {
        let entrants: Vec<&NodeHandle> = self.validators.iter().map(|v| &v.handle).collect();
        network::rotate(&mut &*self, &entrants).await?;
        Ok(())
    }

    /// Moves the embedded chain on by a slot (a cluster's slots move by
    /// themselves: there, wait for one).
    pub(crate) async fn next_slot(&self) {
        match &self.embedded {
            Some(embedded) => embedded.next_slot().await,
            None => tokio::time::sleep(Duration::from_millis(400)).await,
        }
    }

    /// Validator `i`'s keeper: its own database, port and gossip port, the
    /// other validators' keepers as peers.
    pub(crate) fn keeper_config(&self, i: usize) -> KeeperConfig {
        let (port, gossip) = self.ports[i];
        let peers = self
            .validators
            .iter()
            .zip(&self.ports)
            .map(|(v, (p, _))| Endpoint {
                node: v.node,
                url: format!("http://127.0.0.1:{p}"),
            })
            .collect();
        let committee = keeper::config::CommitteeConfig {
            node: Some(self.validators[i].node),
            operator_tokens: Some(self.validators[i].operator.tokens),
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
            // Thirteen processes share this machine's cores: a generation
            // gets twice the keeper's default time per token.
            generation_ms_per_token: 300,
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
            signing: keeper::Signing::Member(v.signing_key.insecure_clone()),
            operator: Some(v.operator.keypair.insecure_clone()),
            faults: None,
        };
        Ok(keeper::start(self.keeper_config(i), deps).await?)
    }
}

/// What a miner bidding [`Bidding::Standing`] asks for a low-risk job of
/// any model (half the clients' usual maximum fee).
pub const STANDING_PRICE: u64 = JOB_FEE / 2;

/// Jobs a miner of the network takes at once in an auction round: a burst
/// of jobs soon exceeds the miners' capacity.
pub const MINER_CAPACITY: u32 = 1;

/// How a miner of the network bids: its standing price for every model it
/// serves (`--price`; +25% at medium risk, +50% at high) and how it
/// follows its load (`--price-strategy`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Bidding {
    /// 30% of the clients' usual fee, whatever the load.
    Cheap,
    /// Half of it ([`STANDING_PRICE`]).
    Standing,
    /// 80% of it (above the fee at high risk: it never wins those).
    Expensive,
    /// 35% of it when idle, twice that when full.
    Adaptive,
}

impl Bidding {
    /// The low-risk price when idle.
    pub fn price(self) -> u64 {
        match self {
            Bidding::Cheap => JOB_FEE * 3 / 10,
            Bidding::Standing => STANDING_PRICE,
            Bidding::Expensive => JOB_FEE * 8 / 10,
            Bidding::Adaptive => JOB_FEE * 35 / 100,
        }
    }

    pub fn name(self) -> &'static str {
        match self {
            Bidding::Cheap => "cheap",
            Bidding::Standing => "standing",
            Bidding::Expensive => "expensive",
            Bidding::Adaptive => "adaptive",
        }
    }

    /// Its standing prices for the `models` it serves.
    fn options(self, models: &[&str]) -> miner::process::Bidding {
        miner::process::Bidding {
            prices: models
                .iter()
                .map(|m| (m.to_string(), self.price()))
                .collect(),
            strategy: if self == Bidding::Adaptive {
                Strategy::Adaptive
            } else {
                Strategy::Fixed
            },
            capacity: Some(MINER_CAPACITY),
        }
    }
}

pub(crate) fn spawn_miner(
    bin: &Path,
    dir: &Path,
    key: &Keypair,
    models: &[&str],
    plan: &MinerPlan,
) -> Result<MinerProcess, NetworkError> {
    let keypair = keys::try_keypair_file(dir, key)?;
    // Room for one model in memory: a job for the other model unloads it and
    // the next job pays its load again, so loading time is real and skewed
    // (mostly 0, a load on every switch), as real miners' timings are.
    let options = ServeOptions {
        preload: true,
        max_loaded_models: Some(1),
        fault: plan.fault,
        // Every miner bids, so clients can ask keepers for a quote (`verdict job quote`).
        bidding: Some(plan.bidding.options(models)),
        ..ServeOptions::new(keypair, models)
    };
    MinerProcess::serve(bin, &options).map_err(|e| NetworkError::Miner(e.to_string()))
}

/// What a run leaves: the report, and the chain it was read from.
pub struct Finished {
    /// Every job the client submitted: the run's own and any it added for
    /// a griefing challenge to find an honest answer.
    pub jobs_submitted: u64,
    pub written: Written,
    pub report: ReportInput,
    pub chain: Chain,
    /// What the run cost the payer: fees, and rent of the accounts it left on chain.
    pub lamports_spent: u64,
    /// The miners' Node accounts, in the report's order.
    pub miner_nodes: Vec<Pubkey>,
    /// The jobs that asked for a generation, each with its final status
    /// (read before the run closed the jobs).
    pub generative_jobs: Vec<(Pubkey, verdict::state::JobStatus)>,
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

/// A miner of the network: its behaviour (part of its name), the
/// `verdict-miner serve` arguments that make it so, and how it bids.
pub(crate) struct MinerPlan {
    pub(crate) behaviour: &'static str,
    pub(crate) fault: Option<Fault>,
    pub(crate) bidding: Bidding,
}

impl MinerPlan {
    pub(crate) const fn new(
        behaviour: &'static str,
        fault: Option<Fault>,
        bidding: Bidding,
    ) -> Self {
        MinerPlan {
            behaviour,
            fault,
            bidding,
        }
    }
}

/// Sets the network up to the point where the keepers start: the chain and
/// its Config with a new stake mint, 5 validators staked and drawn into the
/// committee, one miner process per behaviour, registered, staked and past
/// its trial. Returns the network and the payer's lamports before it all.
pub(crate) async fn build(
    target: &Target,
    models: &[&str],
    miner_bin: &Path,
    tier3_reserved_bps: u16,
    plans: &[MinerPlan],
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
        params,
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
        params,
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

    for (i, plan) in plans.iter().enumerate() {
        let (behaviour, bidding) = (plan.behaviour, plan.bidding.name());
        step(&format!(
            "starting miner {} of {} ({behaviour}, bidding {bidding}) and registering it",
            i + 1,
            plans.len()
        ));
        let keys = net
            .register(
                format!("miner-{}-{behaviour}-{bidding}", i + 1),
                ROLE_MINER,
                params.min_miner_stake,
                models,
            )
            .await?;
        let process = spawn_miner(miner_bin, &work, &keys.signing_key, models, plan)?;
        // Keepers find it on chain: its operator records where it serves.
        network::list_endpoint(&mut &net, &keys, &process.url).await?;
        // Every miner passed its trial (the wrong one cheats only later).
        let members: Vec<&Keypair> = net.validators.iter().map(|v| &v.signing_key).collect();
        network::record_trial(&mut &net, &members, &keys.node, true).await?;
        net.miners.push(RunMiner {
            keys,
            behaviour,
            _process: process,
        });
    }

    // Votes count only from nodes active before a dispute opens (strictly,
    // in whole seconds): let the clock pass the registrations.
    let registered = net.chain.unix_time().await?;
    net.reach(registered + 2).await?;
    Ok((net, payer_lamports))
}

/// The set-up steps of the test kit (`verdict_tests::network`) run on the
/// run's chain, embedded or a cluster.
impl Setup for &Net {
    type Sent = verdict_chain::Landed;
    type Error = NetworkError;

    fn stake_mint(&self) -> Pubkey {
        self.mint
    }

    async fn send(
        &mut self,
        instructions: &[solana_sdk::instruction::Instruction],
        signers: &[&Keypair],
    ) -> Result<verdict_chain::Landed, NetworkError> {
        Net::send(self, instructions, signers).await
    }

    async fn fund_wallet(&mut self, tokens: u64, lamports: u64) -> Result<User, NetworkError> {
        self.wallet(tokens, lamports).await
    }

    async fn pass_slot(&mut self) -> Result<u64, NetworkError> {
        self.next_slot().await;
        Ok(self.chain.slot().await?)
    }

    fn read_failed(error: verdict_sdk::SdkError) -> NetworkError {
        NetworkError::Account(error)
    }
}

impl AccountSource for &Net {
    async fn account_data(
        &self,
        address: &Pubkey,
    ) -> Result<Option<Vec<u8>>, verdict_sdk::SdkError> {
        AccountSource::account_data(&self.chain, address).await
    }
}
