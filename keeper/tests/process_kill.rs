//! The real `verdict-keeper` binary as an OS process, over JSON-RPC (the
//! verdict-chain bridge serving the embedded chain), with real miner
//! processes: SIGKILLed while jobs are in flight — once while a send's
//! answer is on its way back — and restarted on its database; and run under
//! injected RPC faults (errors, timeouts, unknown blockhashes, answers
//! dropped after the transaction landed). Every job ends exactly once: its
//! history, read back over RPC, holds one submission, one assignment and one
//! completion, nothing failed or posted twice, and no token is created or
//! lost.

mod common;

use std::io::{BufRead, BufReader, Read};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::Arc;
use std::time::{Duration, Instant};

use anchor_lang::prelude::Pubkey;
use common::*;
use keeper::config::KeeperConfig;
use solana_sdk::signature::Keypair;
use solana_sdk::signer::Signer;
use verdict::state::{JobStatus, RiskLevel};
use verdict_chain::bridge::{Fault, RpcBridge};
use verdict_chain::{Chain, RpcChain, RpcConfig};
use verdict_sdk::events::{parse_logs, VerdictEvent};
use verdict_sdk::invariants::{self, Snapshot};
use verdict_sdk::pda;
use verdict_tests::keys;

const WAIT: Duration = Duration::from_secs(90);

/// A `verdict-keeper run` process. Dropped, it is SIGKILLed; dropped by a
/// failing test, it prints the end of its log first.
struct KeeperProcess {
    child: Child,
    api: String,
    log: PathBuf,
}

impl KeeperProcess {
    /// Starts the binary and waits for its `listening on <url>` line.
    async fn start(config: &Path, log: &Path, rpc_timeout_ms: u64) -> KeeperProcess {
        let stderr = std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(log)
            .unwrap();
        let mut child = Command::new(env!("CARGO_BIN_EXE_verdict-keeper"))
            .arg("run")
            .arg("--config")
            .arg(config)
            .arg("--rpc-timeout-ms")
            .arg(rpc_timeout_ms.to_string())
            // The embedded chain set RUST_LOG=error for this test process.
            .env("RUST_LOG", "info")
            .stdout(Stdio::piped())
            .stderr(stderr)
            .spawn()
            .expect("spawn verdict-keeper");
        // Read stdout on a thread (to its end, so the keeper never writes
        // into a closed pipe); a keeper that dies before binding closes it.
        let stdout = child.stdout.take().unwrap();
        let (first_line, line) = tokio::sync::oneshot::channel();
        std::thread::spawn(move || {
            let mut reader = BufReader::new(stdout);
            let mut line = String::new();
            let _ = reader.read_line(&mut line);
            let _ = first_line.send(line);
            let _ = std::io::copy(&mut reader, &mut std::io::sink());
        });
        let line = match tokio::time::timeout(Duration::from_secs(60), line).await {
            Ok(Ok(line)) => line,
            _ => String::new(),
        };
        let Some(api) = line
            .trim()
            .strip_prefix("listening on ")
            .map(str::to_string)
        else {
            panic!(
                "the keeper did not start (stdout {line:?}); its log:\n{}",
                tail(log)
            );
        };
        KeeperProcess {
            child,
            api,
            log: log.to_path_buf(),
        }
    }

    /// SIGKILL: no shutdown code of any kind runs.
    fn kill(mut self) {
        self.kill_now();
    }

    fn kill_now(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl Drop for KeeperProcess {
    fn drop(&mut self) {
        if std::thread::panicking() {
            eprintln!(
                "--- end of the keeper's log ({}):\n{}",
                self.log.display(),
                tail(&self.log)
            );
        }
        self.kill_now();
    }
}

fn tail(log: &Path) -> String {
    let mut text = String::new();
    let _ = std::fs::File::open(log).and_then(|mut f| f.read_to_string(&mut text));
    let lines: Vec<&str> = text.lines().collect();
    lines[lines.len().saturating_sub(60)..].join("\n")
}

fn dead_url() -> String {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    format!("http://{}", listener.local_addr().unwrap())
}

/// The configuration file, written with the toml crate.
fn keeper_toml(cfg: &KeeperConfig) -> String {
    toml::to_string(cfg).expect("a configuration serializes")
}

/// A test network served over JSON-RPC, and a keeper configuration for it
/// whose keys are made now: its own fee payer (funded here) and the
/// committee's signing keys.
struct Setup {
    net: Net,
    bridge: RpcBridge,
    /// Reads back over the same JSON-RPC the keeper uses.
    rpc: Chain,
    config: PathBuf,
    log: PathBuf,
    _dir: tempfile::TempDir,
}

/// `tune` adjusts the test network's keeper configuration.
async fn setup(miners: &[MinerSpec], tune: impl FnOnce(KeeperConfig) -> KeeperConfig) -> Setup {
    let net = Net::new(miners).await;
    let bridge = RpcBridge::start(net.chain.clone(), "127.0.0.1:0".parse().unwrap()).unwrap();
    let dir = tempfile::tempdir().unwrap();
    let payer = Keypair::new();
    net.chain
        .airdrop(&payer.pubkey(), 100_000_000_000)
        .await
        .unwrap();
    let payer_path = dir.path().join("payer.json");
    keys::write_keypair(&payer_path, &payer).unwrap();
    let mut signing = Vec::new();
    for (i, member) in net.committee.iter().enumerate() {
        let path = dir.path().join(format!("signing-{i}.json"));
        keys::write_keypair(&path, &member.signing_key).unwrap();
        signing.push(path);
    }
    let cfg = tune(KeeperConfig {
        // A dead node first: the binary fails over on its own.
        rpc_urls: vec![dead_url(), bridge.url()],
        payer_keypair: Some(payer_path),
        signing_keypairs: signing,
        ..net.config()
    });
    let text = keeper_toml(&cfg);
    assert_eq!(
        KeeperConfig::from_toml(&text).unwrap(),
        cfg,
        "the file says what the test means:\n{text}"
    );
    let config = dir.path().join("keeper.toml");
    std::fs::write(&config, text).unwrap();
    let rpc = Chain::Rpc(Arc::new(RpcChain::new(RpcConfig {
        urls: vec![bridge.url()],
        ..RpcConfig::default()
    })));
    Setup {
        net,
        bridge,
        rpc,
        config,
        log: dir.path().join("keeper.log"),
        _dir: dir,
    }
}

impl Setup {
    /// Submits jobs on chain (as their client) and hands each its input.
    async fn submit(
        &mut self,
        keeper: &KeeperProcess,
        tag: &str,
        risks: &[RiskLevel],
    ) -> Vec<(Pubkey, RiskLevel)> {
        let mut jobs = Vec::new();
        for (i, risk) in risks.iter().enumerate() {
            let input = format!("{tag} job {i}");
            let job = self.net.submit(&input, *risk).await;
            // 503: the keeper could not read the job on chain (the RPC
            // faults); a client tries again, as HTTP says.
            let start = Instant::now();
            loop {
                let status = give_input_at(&keeper.api, &job, &input).await.status();
                if status != 503 {
                    assert_eq!(status, 202, "{job}");
                    break;
                }
                assert!(
                    start.elapsed() < WAIT,
                    "the keeper kept answering 503 for {job}"
                );
                tokio::time::sleep(Duration::from_millis(100)).await;
            }
            jobs.push((job, *risk));
        }
        jobs
    }

    async fn solved(&self, jobs: &[(Pubkey, RiskLevel)]) -> usize {
        let mut n = 0;
        for (job, _) in jobs {
            n += (self.net.job(job).await.status() == JobStatus::Solved) as usize;
        }
        n
    }

    /// Jobs whose on-chain state moved past submission.
    async fn progressed(&self, jobs: &[(Pubkey, RiskLevel)]) -> usize {
        let mut n = 0;
        for (job, _) in jobs {
            n += (self.net.job(job).await.status() != JobStatus::Sent) as usize;
        }
        n
    }

    /// Waits until every job is done per the keeper, then checks each one's
    /// history on chain and the accounting.
    async fn assert_each_job_ended_exactly_once(
        &self,
        keeper: &KeeperProcess,
        jobs: &[(Pubkey, RiskLevel)],
        client_before: u64,
    ) {
        for (job, risk) in jobs {
            let (code, body) = wait_outcome_at(&keeper.api, job, WAIT).await;
            assert_eq!(code, 200, "{job} ({risk:?}): {body}");
            let j = self.net.job(job).await;
            assert_eq!(
                (j.status(), j.attempts),
                (JobStatus::Solved, 1),
                "{job} ({risk:?})"
            );

            // Its history, read over RPC: one of each step, in order.
            let history = self.rpc.history(job).await.unwrap();
            let steps: Vec<&str> = history
                .iter()
                .flat_map(|landed| parse_logs(&landed.logs))
                .filter_map(|event| match event {
                    VerdictEvent::JobSubmitted(_) => Some("submitted"),
                    VerdictEvent::JobAssigned(_) => Some("assigned"),
                    VerdictEvent::JobCompleted(_) => Some("completed"),
                    VerdictEvent::JobFailed(_) => Some("failed"),
                    VerdictEvent::JobRefunded(_) => Some("refunded"),
                    _ => None,
                })
                .collect();
            assert_eq!(
                steps,
                ["submitted", "assigned", "completed"],
                "{job} ({risk:?}): one final outcome"
            );
            // submit + settle (low), or submit + assign + complete.
            let transactions = if *risk == RiskLevel::Low { 2 } else { 3 };
            assert_eq!(
                history.len(),
                transactions,
                "{job} ({risk:?}): each step landed once"
            );
            let landed = self.net.chain.transactions_for(job);
            assert_eq!(
                landed.len(),
                transactions,
                "{job}: no failed transaction landed either"
            );
        }
        self.assert_funds_conserved(jobs.len() as u64, client_before)
            .await;
    }

    async fn assert_funds_conserved(&self, jobs: u64, client_before: u64) {
        // The accounting invariants over every Verdict account, read over RPC.
        let accounts = self.rpc.program_accounts().await.unwrap();
        let stake_vault = self.rpc.token_balance(&pda::stake_vault()).await.unwrap();
        let mut snapshot = Snapshot::from_accounts(
            accounts.iter().map(|(k, d)| (*k, d.as_slice())),
            stake_vault,
        )
        .unwrap();
        for vault in snapshot.vaults() {
            snapshot
                .token_balances
                .insert(vault, self.rpc.token_balance(&vault).await.unwrap());
        }
        if let Err(violations) = invariants::check(&snapshot) {
            panic!(
                "accounting invariants violated:\n  {}",
                violations.join("\n  ")
            );
        }
        // Every token of the mint is in some token account: none created or lost.
        let token_program: Pubkey = "TokenkegQfeZyiNwAJbNbGKPFXCWuBvf9Ss623VQ5DA"
            .parse()
            .unwrap();
        let mint = self
            .net
            .chain
            .account(&self.net.mint)
            .await
            .unwrap()
            .expect("mint");
        // SPL Token layouts: a mint's supply at bytes 36..44; an account's
        // mint at 0..32 and its amount at 64..72.
        let supply = u64::from_le_bytes(mint.data[36..44].try_into().unwrap());
        let held: u64 = self
            .net
            .chain
            .accounts_owned_by(&token_program)
            .await
            .unwrap()
            .iter()
            .filter(|(_, a)| a.data.len() == 165 && a.data[..32] == self.net.mint.to_bytes())
            .map(|(_, a)| u64::from_le_bytes(a.data[64..72].try_into().unwrap()))
            .sum();
        assert_eq!(held, supply, "every token of the mint is accounted for");
        // The client paid each job's fee once, and got nothing back twice.
        assert_eq!(
            self.net.balance(&self.net.client.tokens).await,
            client_before - jobs * FEE
        );
    }
}

/// Polls `done` until it holds.
async fn until(what: &str, mut done: impl AsyncFnMut() -> bool) {
    let start = Instant::now();
    while !done().await {
        assert!(start.elapsed() < WAIT, "timed out waiting until {what}");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_keeper_process_killed_mid_job_restarts_on_its_database_and_every_job_ends_once() {
    let mut s = setup(
        &[
            spec(Behaviour::Sluggish, true, 10_000),
            spec(Behaviour::Sluggish, true, 9_000),
        ],
        |cfg| cfg,
    )
    .await;
    let client_before = s.net.balance(&s.net.client.tokens).await;
    use RiskLevel::{High, Low, Medium};
    let risks = [Low, Medium, High, Low, Medium, High, Low, Medium];

    // First kill: as soon as a job has moved on chain, the others in flight.
    let keeper = KeeperProcess::start(&s.config, &s.log, 30_000).await;
    let jobs = s.submit(&keeper, "kill", &risks).await;
    until("a job moves on chain", async || {
        s.progressed(&jobs).await > 0
    })
    .await;
    keeper.kill();
    let solved_at_first_kill = s.solved(&jobs).await;
    assert!(
        solved_at_first_kill < jobs.len(),
        "the kill must interrupt jobs in flight"
    );

    // Second kill: while the answer to a send is on its way back. The
    // bridge lands the transaction at once and holds its answer; the keeper
    // dies without learning it landed.
    s.bridge
        .inject("sendTransaction", Fault::Delay(Duration::from_secs(3)), 1)
        .unwrap();
    let sends = s.bridge.calls("sendTransaction");
    let keeper = KeeperProcess::start(&s.config, &s.log, 30_000).await;
    until("the restarted keeper sends", async || {
        s.bridge.calls("sendTransaction") > sends
    })
    .await;
    keeper.kill();
    assert_eq!(
        s.bridge.pending("sendTransaction"),
        0,
        "the kill came during the held answer"
    );
    assert!(
        s.solved(&jobs).await < jobs.len(),
        "jobs still in flight at the second kill"
    );

    // A last start on the same database finishes everything, exactly once.
    let keeper = KeeperProcess::start(&s.config, &s.log, 30_000).await;
    s.assert_each_job_ended_exactly_once(&keeper, &jobs, client_before)
        .await;
    keeper.kill();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn injected_rpc_faults_while_the_keeper_process_runs_still_end_every_job_once() {
    // The faults slow the keeper down by seconds (its poster sends one
    // transaction at a time): a 12 s end-to-end deadline could expire and
    // fail a job for the client, which is not what this test is about.
    let patient = |cfg| KeeperConfig {
        end_to_end_timeout_ms: 60_000,
        ..cfg
    };
    let mut s = setup(
        &[
            spec(Behaviour::Honest, true, 10_000),
            spec(Behaviour::Honest, true, 9_000),
        ],
        patient,
    )
    .await;
    let client_before = s.net.balance(&s.net.client.tokens).await;
    // A 1 s request timeout, so a held answer times out in the keeper.
    let keeper = KeeperProcess::start(&s.config, &s.log, 1_000).await;
    let late = Fault::Delay(Duration::from_millis(2_500));
    let schedule: Vec<(&str, Vec<Fault>)> = vec![
        (
            "sendTransaction",
            vec![
                Fault::DropAnswer,
                Fault::BlockhashNotFound,
                Fault::Unavailable,
                late.clone(),
                Fault::BlockhashNotFound,
                Fault::DropAnswer,
                Fault::NodeUnhealthy,
            ],
        ),
        (
            "getAccountInfo",
            vec![
                Fault::Unavailable,
                late.clone(),
                Fault::DropAnswer,
                Fault::NodeUnhealthy,
            ],
        ),
        (
            "getProgramAccounts",
            vec![Fault::NodeUnhealthy, Fault::DropAnswer, Fault::Unavailable],
        ),
        (
            "getSignatureStatuses",
            vec![Fault::Unavailable, Fault::DropAnswer, late.clone()],
        ),
        ("getLatestBlockhash", vec![late, Fault::Unavailable]),
        (
            "getTransaction",
            vec![Fault::DropAnswer, Fault::Unavailable],
        ),
        ("getRecentPrioritizationFees", vec![Fault::Unavailable]),
    ];
    for (method, faults) in &schedule {
        for fault in faults {
            s.bridge.inject(method, fault.clone(), 1).unwrap();
        }
    }
    use RiskLevel::{High, Low, Medium};
    let jobs = s
        .submit(
            &keeper,
            "faults",
            &[Low, Medium, High, Low, Medium, High, Low, Medium],
        )
        .await;
    s.assert_each_job_ended_exactly_once(&keeper, &jobs, client_before)
        .await;
    for (method, faults) in &schedule {
        assert_eq!(s.bridge.pending(method), 0, "every fault on {method} fired");
        assert!(s.bridge.calls(method) >= faults.len() as u64);
    }
    keeper.kill();
}
