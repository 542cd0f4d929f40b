//! A test network for the keeper: the embedded chain set up with the test
//! fixture (Config, a 5-member committee, warm staked miners), real
//! `verdict-miner` processes on loopback, and helpers to submit jobs, hand
//! their input to the keeper and wait for the outcome.
//!
//! The miner binary: `$VERDICT_MINER_BIN` when set, else `verdict-miner` next
//! to this test's own target directory (build it first with
//! `cargo build -p verdict-miner`, as `scripts/test.sh` does for the workspace).
#![allow(dead_code)]

use std::sync::Arc;
use std::time::{Duration, Instant};

use anchor_lang::prelude::Pubkey;
use keeper::config::{Endpoint, KeeperConfig};
use keeper::gateway::SendFaults;
use keeper::local_ports::loopback_port;
use keeper::{Deps, KeeperHandle};
use miner::fault::FaultMode;
use miner::pricing::Strategy;
use miner::process::{Bidding, Fault, MinerProcess, ServeOptions, Upkeep};
use sha2::{Digest, Sha256};
use solana_sdk::signature::Keypair;
use solana_sdk::signer::Signer;
use verdict::state::{model_id, Job, Node, RiskLevel, WindowBucket};
use verdict_chain::{Chain, EmbeddedChain};
use verdict_sdk::accounts::AccountSource;
use verdict_sdk::{instructions as ix, pda};
use verdict_tests::{keys, network, Fixture, NodeHandle, User, TEST_MODEL, TOKEN};

pub const FEE: u64 = TOKEN / 10;

/// How a test miner behaves.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Behaviour {
    Honest,
    Slow,
    /// Answers correctly after 700 ms (inside the shard timeout).
    Sluggish,
    Wrong,
    Garbage,
    Drop,
    /// Registered on chain, but no process listens.
    Down,
    /// Generations sampled with another key's seed (`--fault gen-wrong-seed`).
    GenWrongSeed,
    /// Generations sampled among another K (`gen-wrong-k`).
    GenWrongK,
    /// Generations on a cheaper model: the last blocks skipped (`gen-cheap-model`).
    GenCheapModel,
    /// Honest tokens, probes at another key's positions (`gen-copied-probes`).
    GenCopiedProbes,
}

/// The generative model, for tests that serve it (`generative` miners).
pub const GEN_MODEL: &str = verdict_wire::models::SMOLLM2_ID;

pub struct MinerSpec {
    pub behaviour: Behaviour,
    /// Tier 1 record (30 successful, fast jobs), for medium/high-risk jobs.
    pub tier1: bool,
    /// Trust R in bps (routing prefers higher trust): orders the miners.
    pub trust_bps: u32,
    /// Passed its trial already (false: trial pending, the keeper runs it).
    pub warm: bool,
    /// Started by the test with its own upkeep (it records its endpoint
    /// itself); the network only registers, stakes and funds its key.
    pub upkeep: bool,
    /// Also serves [`GEN_MODEL`] (on chain and in its process).
    pub generative: bool,
    /// Bids at this standing price for the test model (`--price`).
    pub price: Option<u64>,
    /// Jobs it takes at once in an auction round (`--capacity`; default 4).
    pub capacity: Option<u32>,
}

/// A warm Tier 1 miner serving the test model and [`GEN_MODEL`].
pub fn generative(behaviour: Behaviour, trust_bps: u32) -> MinerSpec {
    MinerSpec {
        generative: true,
        ..spec(behaviour, true, trust_bps)
    }
}

pub fn spec(behaviour: Behaviour, tier1: bool, trust_bps: u32) -> MinerSpec {
    MinerSpec {
        behaviour,
        tier1,
        trust_bps,
        warm: true,
        upkeep: false,
        generative: false,
        price: None,
        capacity: None,
    }
}

/// A Tier 1 honest miner the test starts itself, with `--rpc-url`
/// ([`spawn_with_upkeep`]): it records its endpoint and heartbeats alone.
pub fn on_its_own() -> MinerSpec {
    MinerSpec {
        upkeep: true,
        ..spec(Behaviour::Honest, true, 10_000)
    }
}

/// A staked miner that has not had its trial yet.
pub fn cold(behaviour: Behaviour) -> MinerSpec {
    MinerSpec {
        behaviour,
        tier1: false,
        trust_bps: 0,
        warm: false,
        upkeep: false,
        generative: false,
        price: None,
        capacity: None,
    }
}

pub struct TestMiner {
    pub handle: NodeHandle,
    pub url: String,
    pub process: Option<MinerProcess>,
    _dir: tempfile::TempDir,
}

pub struct Net {
    pub chain: Arc<EmbeddedChain>,
    pub payer: Keypair,
    pub committee: Vec<NodeHandle>,
    pub miners: Vec<TestMiner>,
    pub client: User,
    pub mint: Pubkey,
    pub dir: tempfile::TempDir,
    next_job: u64,
}

/// Starts an honest miner that does its own upkeep against `rpc_url`:
/// records its endpoint and heartbeats, a round every second.
pub fn spawn_with_upkeep(m: &TestMiner, rpc_url: &str) -> MinerProcess {
    let keypair = keys::keypair_file(m._dir.path(), &m.handle.signing_key);
    let options = ServeOptions {
        upkeep: Some(Upkeep {
            rpc_url: rpc_url.to_string(),
            node: m.handle.node.to_string(),
            every: Duration::from_secs(1),
        }),
        ..ServeOptions::new(keypair, &[TEST_MODEL])
    };
    MinerProcess::serve(&verdict_tests::bins::miner_bin(), &options).expect("spawn verdict-miner")
}

fn spawn_miner(
    key: &Keypair,
    s: &MinerSpec,
    dir: &std::path::Path,
) -> (Option<MinerProcess>, String) {
    let slow = |ms| Some(Fault::slow(Duration::from_millis(ms)));
    let fault = match s.behaviour {
        Behaviour::GenWrongSeed => Some(Fault::new(FaultMode::GenWrongSeed)),
        Behaviour::GenWrongK => Some(Fault::new(FaultMode::GenWrongK)),
        Behaviour::GenCheapModel => Some(Fault::new(FaultMode::GenCheapModel)),
        Behaviour::GenCopiedProbes => Some(Fault::new(FaultMode::GenCopiedProbes)),
        Behaviour::Honest => None,
        Behaviour::Slow => slow(6_000),
        Behaviour::Sluggish => slow(700),
        Behaviour::Wrong => Some(Fault::new(FaultMode::Wrong)),
        Behaviour::Garbage => Some(Fault::new(FaultMode::Garbage)),
        Behaviour::Drop => Some(Fault::new(FaultMode::Drop)),
        Behaviour::Down => {
            // A port nothing listens on: bind, read the port, close.
            let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
            let url = format!("http://{}", l.local_addr().unwrap());
            return (None, url);
        }
    };
    let models: &[&str] = if s.generative {
        &[TEST_MODEL, GEN_MODEL]
    } else {
        &[TEST_MODEL]
    };
    let options = ServeOptions {
        fault,
        bidding: s.price.map(|price| Bidding {
            prices: vec![(TEST_MODEL.to_string(), price)],
            strategy: Strategy::Fixed,
            capacity: s.capacity,
        }),
        ..ServeOptions::new(keys::keypair_file(dir, key), models)
    };
    let process = MinerProcess::serve(&verdict_tests::bins::miner_bin(), &options)
        .expect("spawn verdict-miner");
    let url = process.url.clone();
    (Some(process), url)
}

impl Net {
    pub async fn new(specs: &[MinerSpec]) -> Net {
        Self::with_params(specs, verdict::state::ProtocolParams::default()).await
    }

    pub async fn with_params(specs: &[MinerSpec], params: verdict::state::ProtocolParams) -> Net {
        Self::with_member_stake(specs, params, |_| 0).await
    }

    /// As [`Net::with_params`], member i (in committee order) staking
    /// `extra_stake(i)` on top of the validator minimum.
    pub async fn with_member_stake(
        specs: &[MinerSpec],
        params: verdict::state::ProtocolParams,
        extra_stake: impl Fn(usize) -> u64,
    ) -> Net {
        verdict_tests::logs::keep_logs();
        let mut f = Fixture::with_params(params).await;
        f.check_each_transaction = false;
        let committee = f.committee_of(5).await;
        // Committee operators hold tokens for dispute bonds (max(100 tokens,
        // price × 10)) and vote deposits (10 tokens each).
        for (i, member) in committee.iter().enumerate() {
            let extra = extra_stake(i);
            f.mint_to(&member.operator.tokens, 500 * TOKEN + extra)
                .await;
            if extra > 0 {
                f.stake(member, extra).await.expect("extra member stake");
            }
        }
        let min = f.config().await.params.min_miner_stake;
        let mut miners = Vec::new();
        for s in specs {
            let handle = if s.warm {
                f.warm_miner(&committee, min).await
            } else {
                f.staked_miner(min).await
            };
            let (tier1, trust, warm) = (s.tier1, s.trust_bps, s.warm);
            let serves_gen = s.generative;
            f.patch::<Node>(&handle.node, |n| {
                if serves_gen {
                    n.models[n.model_count as usize] = model_id(GEN_MODEL).unwrap();
                    n.model_count += 1;
                }
                if !warm {
                    return;
                }
                n.reputation.trust_bps = trust;
                if tier1 {
                    n.reputation.buckets[0] = WindowBucket {
                        jobs: 30,
                        successes: 30,
                        sla_met: 30,
                        latency_score_sum: 30 * 9_900,
                        response_ms_sum: 300,
                        ..Default::default()
                    };
                }
            })
            .await;
            let dir = tempfile::tempdir().unwrap();
            let (process, url) = if s.upkeep {
                // Its key pays its own upkeep's fees and rent.
                f.airdrop(&handle.signing_key.pubkey()).await;
                (None, String::new())
            } else {
                let (process, url) = spawn_miner(&handle.signing_key, s, dir.path());
                // Keepers find miners on chain: the operator records where it serves.
                network::list_endpoint(&mut f, &handle, &url)
                    .await
                    .expect("endpoint recorded");
                (process, url)
            };
            miners.push(TestMiner {
                handle,
                url,
                process,
                _dir: dir,
            });
        }
        let client = f.user(1_000 * TOKEN).await;
        let mint = f.mint;
        // The keeper needs the chain behind an Arc; the fixture's job is done.
        let chain = Arc::new(std::mem::replace(
            &mut f.chain,
            EmbeddedChain::start().await,
        ));
        let payer = chain.payer().await;
        Net {
            chain,
            payer,
            committee,
            miners,
            client,
            mint,
            dir: tempfile::tempdir().unwrap(),
            next_job: 1,
        }
    }

    pub fn config(&self) -> KeeperConfig {
        KeeperConfig {
            database: self.dir.path().join("keeper.redb"),
            listen: "127.0.0.1:0".into(),
            shard_timeout_ms: 1_500,
            end_to_end_timeout_ms: 12_000,
            poll_interval_ms: 200,
            client_requests_per_sec: 100.0,
            client_burst: 100,
            // Tests set the miners' order: always the best first (no share
            // reserved for Tier 3 miners; the routing unit tests cover it).
            routing: keeper::core::routing::RoutingWeights {
                spread: 1,
                tier3_reserved_bps: 0,
                ..Default::default()
            },
            // The miners listen on loopback.
            allow_private_endpoints: true,
            // Tests count each job's transactions: claims are tested on their own.
            cranks: keeper::config::CrankConfig {
                claims: false,
                ..Default::default()
            },
            ..KeeperConfig::default()
        }
    }

    pub async fn start_keeper(
        &self,
        cfg: KeeperConfig,
        faults: Option<Arc<dyn SendFaults>>,
    ) -> KeeperHandle {
        let keys = self
            .committee
            .iter()
            .map(|h| h.signing_key.insecure_clone())
            .collect();
        let deps = Deps {
            chain: Chain::Embedded(self.chain.clone()),
            payer: self.payer.insecure_clone(),
            signing: keeper::Signing::LocalQuorum(keys),
            operator: None,
            faults,
        };
        keeper::start(cfg, deps).await.expect("keeper starts")
    }

    /// Submits a job on chain for `input`; returns its address.
    pub async fn submit(&mut self, input: &str, risk: RiskLevel) -> Pubkey {
        self.submit_for(TEST_MODEL, input, risk).await
    }

    /// Submits a job on chain for `model` and `input`; returns its address.
    pub async fn submit_for(&mut self, model: &str, input: &str, risk: RiskLevel) -> Pubkey {
        let id = self.next_job;
        self.next_job += 1;
        let hash: [u8; 32] = Sha256::digest(input.as_bytes()).into();
        let i = ix::submit_job(
            &self.client.pubkey(),
            &self.client.tokens,
            &self.mint,
            id,
            model_id(model).unwrap(),
            hash,
            risk,
            FEE,
        );
        self.chain
            .send(&[i], &self.payer, &[&self.client.keypair])
            .await
            .expect("submit_job");
        pda::job(&self.client.pubkey(), id)
    }

    pub async fn job(&self, job: &Pubkey) -> Job {
        Chain::Embedded(self.chain.clone())
            .fetch::<Job>(job)
            .await
            .unwrap()
    }

    pub async fn node(&self, node: &Pubkey) -> Node {
        Chain::Embedded(self.chain.clone())
            .fetch::<Node>(node)
            .await
            .unwrap()
    }

    pub async fn balance(&self, account: &Pubkey) -> u64 {
        Chain::Embedded(self.chain.clone())
            .token_balance(account)
            .await
            .unwrap()
    }

    /// Successful transactions that touched `account`, other than timeout
    /// reports (a report against a member names the job it missed: not a
    /// step of the job).
    pub fn landed(&self, account: &Pubkey) -> usize {
        self.chain
            .history(account)
            .iter()
            .filter(|l| !is_timeout_report(l))
            .count()
    }
}

/// The committee's five keepers, one per member, each with its own
/// signing key, operator wallet, database, API port and gossip port,
/// configured with the others as peers. Keepers can be killed (every task
/// aborted, only the database survives) and restarted on the same port.
pub struct Keepers {
    pub handles: Vec<Option<KeeperHandle>>,
    pub configs: Vec<KeeperConfig>,
    _dirs: Vec<tempfile::TempDir>,
}

impl Keepers {
    /// Starts all five; `tweak` adjusts member i's configuration.
    pub async fn start(net: &Net, tweak: impl Fn(usize, &mut KeeperConfig)) -> Keepers {
        let n = net.committee.len();
        let ports: Vec<u16> = (0..n).map(|_| loopback_port(false).unwrap()).collect();
        let gossip: Vec<u16> = (0..n).map(|_| loopback_port(true).unwrap()).collect();
        let mut configs = Vec::new();
        let mut dirs = Vec::new();
        for (i, member) in net.committee.iter().enumerate() {
            let dir = tempfile::tempdir().unwrap();
            let mut cfg = net.config();
            cfg.database = dir.path().join("keeper.redb");
            cfg.listen = format!("127.0.0.1:{}", ports[i]);
            let c = &mut cfg.committee;
            c.node = Some(member.node);
            c.operator_tokens = Some(member.operator.tokens);
            c.peers = net
                .committee
                .iter()
                .zip(&ports)
                .map(|(m, p)| Endpoint {
                    node: m.node,
                    url: format!("http://127.0.0.1:{p}"),
                })
                .collect();
            c.takeover_ms = 2_000;
            c.cosign_timeout_ms = 4_000;
            c.recheck_bps = 0;
            c.gossip_listen = Some(format!("127.0.0.1:{}", gossip[i]));
            c.gossip_seeds = gossip
                .iter()
                .filter(|&&g| g != gossip[i])
                .map(|g| format!("127.0.0.1:{g}"))
                .collect();
            tweak(i, &mut cfg);
            configs.push(cfg);
            dirs.push(dir);
        }
        let mut keepers = Keepers {
            handles: Vec::new(),
            configs,
            _dirs: dirs,
        };
        for i in 0..n {
            let handle = keepers.launch(net, i).await;
            keepers.handles.push(Some(handle));
        }
        keepers
    }

    async fn launch(&self, net: &Net, i: usize) -> KeeperHandle {
        let member = &net.committee[i];
        let deps = Deps {
            chain: Chain::Embedded(net.chain.clone()),
            payer: net.payer.insecure_clone(),
            signing: keeper::Signing::Member(member.signing_key.insecure_clone()),
            operator: Some(member.operator.keypair.insecure_clone()),
            faults: None,
        };
        keeper::start(self.configs[i].clone(), deps)
            .await
            .expect("keeper starts")
    }

    pub fn get(&self, i: usize) -> &KeeperHandle {
        self.handles[i].as_ref().expect("keeper is running")
    }

    /// Kills keeper i (a crash: nothing but its database survives).
    pub async fn kill(&mut self, i: usize) {
        if let Some(h) = self.handles[i].take() {
            h.crash().await;
        }
    }

    pub async fn restart(&mut self, net: &Net, i: usize) {
        assert!(self.handles[i].is_none(), "keeper {i} is running");
        let handle = self.launch(net, i).await;
        self.handles[i] = Some(handle);
    }

    /// Index of the member leading `job` in the current committee epoch.
    pub async fn leader_of(&self, net: &Net, job: &Pubkey) -> usize {
        let committee = Chain::Embedded(net.chain.clone())
            .fetch::<verdict::state::Committee>(&pda::committee())
            .await
            .unwrap();
        let at =
            keeper::core::leader::leader_index(job, committee.epoch, committee.members().len());
        let node = committee.members()[at];
        net.committee.iter().position(|m| m.node == node).unwrap()
    }

    pub async fn shutdown(self) {
        for h in self.handles.into_iter().flatten() {
            h.shutdown().await;
        }
    }
}

/// Whether a landed transaction is a validator timeout report: its only
/// event is the reported member's −5.
pub fn is_timeout_report(landed: &verdict_chain::Landed) -> bool {
    use verdict::instructions::report_validator_timeout::TIMEOUT_PENALTY;
    use verdict_sdk::events::{parse_logs, VerdictEvent};
    let events = parse_logs(&landed.logs);
    !events.is_empty()
        && events.iter().all(
            |e| matches!(e, VerdictEvent::ValidatorScoreChanged(c) if c.delta == TIMEOUT_PENALTY),
        )
}

pub fn http() -> reqwest::Client {
    reqwest::Client::builder().no_proxy().build().unwrap()
}

/// Hands the input to the keeper.
pub async fn give_input(keeper: &KeeperHandle, job: &Pubkey, input: &str) -> reqwest::Response {
    give_input_at(&keeper.api_url(), job, input).await
}

/// Hands the input to the keeper serving its API at `api` (`http://host:port`).
pub async fn give_input_at(api: &str, job: &Pubkey, input: &str) -> reqwest::Response {
    http()
        .post(format!("{api}/v1/jobs"))
        .json(&serde_json::json!({ "job": job.to_string(), "input": input }))
        .send()
        .await
        .unwrap()
}

/// Polls the keeper until the job is done or failed.
pub async fn wait_outcome(
    keeper: &KeeperHandle,
    job: &Pubkey,
    within: Duration,
) -> (u16, serde_json::Value) {
    wait_outcome_at(&keeper.api_url(), job, within).await
}

/// Polls the keeper serving its API at `api` until the job is done or failed.
pub async fn wait_outcome_at(
    api: &str,
    job: &Pubkey,
    within: Duration,
) -> (u16, serde_json::Value) {
    let start = Instant::now();
    loop {
        let r = http()
            .get(format!("{api}/v1/jobs/{job}"))
            .send()
            .await
            .unwrap();
        let code = r.status().as_u16();
        let body: serde_json::Value = r.json().await.unwrap();
        if body["status"] == "done" || body["status"] == "failed" {
            return (code, body);
        }
        assert!(
            start.elapsed() < within,
            "job {job} not finished in {within:?}: {body}"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

/// Polls the dispute at `dispute` until `done` holds; fails after `within`.
pub async fn wait_dispute(
    chain: &Chain,
    dispute: &Pubkey,
    within: Duration,
    done: impl Fn(&verdict::state::Dispute) -> bool,
) -> verdict::state::Dispute {
    let start = Instant::now();
    loop {
        if let Ok(d) = chain.fetch::<verdict::state::Dispute>(dispute).await {
            if done(&d) {
                return d;
            }
        }
        assert!(start.elapsed() < within, "the dispute did not progress");
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
}

/// Waits until the on-chain job satisfies `done`.
pub async fn wait_chain(
    net: &Net,
    job: &Pubkey,
    within: Duration,
    done: impl Fn(&Job) -> bool,
) -> Job {
    let start = Instant::now();
    loop {
        let j = net.job(job).await;
        if done(&j) {
            return j;
        }
        assert!(
            start.elapsed() < within,
            "job {job} did not reach the expected state: {:?} attempts {}",
            j.status(),
            j.attempts
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

pub fn operator_tokens(m: &TestMiner) -> Pubkey {
    m.handle.operator.tokens
}

pub fn signer_pubkey(k: &Keypair) -> Pubkey {
    k.pubkey()
}
