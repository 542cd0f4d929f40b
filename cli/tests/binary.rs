//! The real `verdict` binary: help, and bad input that must end in one clear
//! line on stderr, a non-zero exit, and nothing sent. The cluster URL points
//! at a local listener that counts connections, so "nothing sent" is
//! checked, not assumed.

use std::io::Read;
use std::net::TcpListener;
use std::path::Path;
use std::process::{Command, Stdio};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::Duration;

use solana_sdk::signature::{write_keypair_file, Keypair};

/// A TCP listener on loopback that counts (and drops) every connection.
struct CountingListener {
    url: String,
    connections: Arc<AtomicUsize>,
}

impl CountingListener {
    fn start() -> Self {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let url = format!("http://{}", listener.local_addr().unwrap());
        let connections = Arc::new(AtomicUsize::new(0));
        let counter = connections.clone();
        std::thread::spawn(move || {
            for stream in listener.incoming() {
                counter.fetch_add(1, Ordering::SeqCst);
                if let Ok(mut stream) = stream {
                    // Read the request, then hang up without answering.
                    stream
                        .set_read_timeout(Some(Duration::from_millis(200)))
                        .ok();
                    let mut buf = [0u8; 4096];
                    let _ = stream.read(&mut buf);
                }
            }
        });
        CountingListener { url, connections }
    }

    fn count(&self) -> usize {
        self.connections.load(Ordering::SeqCst)
    }
}

struct Run {
    code: i32,
    stdout: String,
    stderr: String,
}

/// Runs the binary with `home` as HOME (no solana config or keypair unless
/// the test writes them) and stdin closed (not a terminal).
fn verdict(home: &Path, args: &[&str]) -> Run {
    let out = Command::new(env!("CARGO_BIN_EXE_verdict"))
        .args(args)
        .env("HOME", home)
        .stdin(Stdio::null())
        .output()
        .expect("run verdict");
    Run {
        code: out.status.code().unwrap_or(-1),
        stdout: String::from_utf8_lossy(&out.stdout).into_owned(),
        stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
    }
}

/// One clear line on stderr, nothing on stdout, the expected exit code.
#[track_caller]
fn assert_one_line(run: &Run, code: i32, contains: &str) {
    assert_eq!(run.code, code, "exit code; stderr: {}", run.stderr);
    assert!(
        run.stdout.is_empty(),
        "stdout should be empty: {}",
        run.stdout
    );
    let lines: Vec<&str> = run.stderr.lines().collect();
    assert_eq!(
        lines.len(),
        1,
        "exactly one line on stderr: {:?}",
        run.stderr
    );
    assert!(lines[0].starts_with("error: "), "{}", lines[0]);
    assert!(
        lines[0].contains(contains),
        "{:?} should contain {contains:?}",
        lines[0]
    );
}

fn keypair_in(dir: &Path) -> String {
    let path = dir.join("id.json");
    write_keypair_file(&Keypair::new(), &path).unwrap();
    path.display().to_string()
}

#[test]
fn help_lists_every_command_group() {
    let home = tempfile::tempdir().unwrap();
    let run = verdict(home.path(), &["--help"]);
    assert_eq!(run.code, 0, "{}", run.stderr);
    for group in [
        "config",
        "node",
        "delegate",
        "undelegate",
        "withdraw-delegation",
        "job",
        "committee",
        "reputation",
        "dispute",
        "slash",
    ] {
        assert!(
            run.stdout.contains(group),
            "--help lists {group}:\n{}",
            run.stdout
        );
    }
    assert!(
        run.stdout.contains("--url")
            && run.stdout.contains("--keypair")
            && run.stdout.contains("--output")
    );
    let node = verdict(home.path(), &["node", "--help"]);
    assert_eq!(node.code, 0);
    for command in [
        "register",
        "update",
        "show",
        "stake",
        "unstake",
        "withdraw",
        "withdraw-owed",
        "heartbeat",
        "rotate-key",
        "close",
    ] {
        assert!(node.stdout.contains(command), "node --help lists {command}");
    }
    let job = verdict(home.path(), &["job", "--help"]);
    assert_eq!(job.code, 0);
    for command in ["submit", "status", "claim", "close", "claim-refund"] {
        assert!(job.stdout.contains(command), "job --help lists {command}");
    }
    let dispute = verdict(home.path(), &["dispute", "--help"]);
    assert_eq!(dispute.code, 0);
    for command in [
        "open",
        "commit",
        "reveal",
        "resolve",
        "liquidate",
        "claim",
        "close-vote",
        "show",
    ] {
        assert!(
            dispute.stdout.contains(command),
            "dispute --help lists {command}"
        );
    }
}

#[test]
fn bad_input_is_one_line_and_sends_nothing() {
    let home = tempfile::tempdir().unwrap();
    let cluster = CountingListener::start();
    let keypair = keypair_in(home.path());
    let url = cluster.url.as_str();

    let malformed_pubkey = verdict(
        home.path(),
        &[
            "-u",
            url,
            "-k",
            &keypair,
            "--yes",
            "delegate",
            "--node",
            "not-a-key",
            "5",
        ],
    );
    assert_one_line(&malformed_pubkey, 2, "'not-a-key' is not a public key");

    let too_many_decimals = verdict(
        home.path(),
        &[
            "-u",
            url,
            "-k",
            &keypair,
            "--yes",
            "node",
            "stake",
            "1.0000000001",
        ],
    );
    assert_one_line(
        &too_many_decimals,
        2,
        "has 10 decimal places; the stake token has 9",
    );

    let not_an_amount = verdict(
        home.path(),
        &[
            "-u",
            url,
            "-k",
            &keypair,
            "--yes",
            "job",
            "submit",
            "--model",
            "m",
            "--input",
            "x",
            "--max-fee",
            "1,5",
        ],
    );
    assert_one_line(&not_an_amount, 2, "is not a token amount");

    let missing = home.path().join("missing.json");
    let missing_keypair = verdict(
        home.path(),
        &[
            "-u",
            url,
            "-k",
            missing.to_str().unwrap(),
            "--yes",
            "node",
            "stake",
            "1",
        ],
    );
    assert_one_line(&missing_keypair, 2, "cannot read keypair");

    // No -k, no solana config, no ~/.config/solana/id.json: signing commands refuse.
    let bare_home = tempfile::tempdir().unwrap();
    let no_keypair = verdict(
        bare_home.path(),
        &["-u", url, "--yes", "node", "stake", "1"],
    );
    assert_one_line(&no_keypair, 2, "no keypair at");

    let bad_url = verdict(
        home.path(),
        &["-u", "mainnet", "-k", &keypair, "config", "show"],
    );
    assert_one_line(&bad_url, 2, "neither an http(s) URL nor a cluster moniker");

    let bad_setting = verdict(
        home.path(),
        &[
            "-u",
            url,
            "-k",
            &keypair,
            "config",
            "update",
            "--set",
            "epoch_secs=soon",
        ],
    );
    assert_one_line(&bad_setting, 2, "epoch_secs");

    let missing_signing_key = verdict(
        home.path(),
        &[
            "-u",
            url,
            "-k",
            &keypair,
            "node",
            "register",
            "--roles",
            "miner",
            "--signing-keypair",
            "/nonexistent/key.json",
        ],
    );
    assert_one_line(
        &missing_signing_key,
        2,
        "cannot read keypair /nonexistent/key.json",
    );

    let missing_amount = verdict(
        home.path(),
        &[
            "-u",
            url,
            "-k",
            &keypair,
            "undelegate",
            "--node",
            "11111111111111111111111111111111",
        ],
    );
    assert_one_line(
        &missing_amount,
        2,
        "required arguments were not provided: <AMOUNT>",
    );

    let job = "11111111111111111111111111111111";
    let malformed_result = verdict(
        home.path(),
        &[
            "-u", url, "-k", &keypair, "dispute", "commit", "--job", job, "--result", "09g9",
        ],
    );
    assert_one_line(&malformed_result, 2, "'09g9' is not 32 bytes of hex");

    let short_evidence = verdict(
        home.path(),
        &[
            "-u",
            url,
            "-k",
            &keypair,
            "--yes",
            "slash",
            "--node",
            job,
            "--offense",
            "collusion",
            "--evidence",
            "abcd",
        ],
    );
    assert_one_line(&short_evidence, 2, "'abcd' is not 32 bytes of hex");

    let unknown_offense = verdict(
        home.path(),
        &[
            "-u",
            url,
            "-k",
            &keypair,
            "--yes",
            "slash",
            "--node",
            job,
            "--offense",
            "rudeness",
            "--evidence",
            &"ab".repeat(32),
        ],
    );
    assert_one_line(&unknown_offense, 2, "invalid value 'rudeness'");

    // A challenge names the result the challenger recomputed.
    let open_without_result = verdict(
        home.path(),
        &[
            "-u", url, "-k", &keypair, "--yes", "dispute", "open", "--job", job,
        ],
    );
    assert_one_line(
        &open_without_result,
        2,
        "required arguments were not provided: --result <HEX>",
    );

    // Collusion is decided by disputes: refused before anything is read.
    let collusion = verdict(
        home.path(),
        &[
            "-u",
            url,
            "-k",
            &keypair,
            "--yes",
            "slash",
            "--node",
            job,
            "--offense",
            "collusion",
            "--evidence",
            &"ab".repeat(32),
        ],
    );
    assert_one_line(&collusion, 2, "decided by a dispute");

    // The flat bond is gone: min_bond and bond_multiple price it.
    let old_bond = verdict(
        home.path(),
        &[
            "-u",
            url,
            "-k",
            &keypair,
            "config",
            "update",
            "--set",
            "dispute_bond=100",
        ],
    );
    assert_one_line(&old_bond, 2, "unknown parameter 'dispute_bond'");

    let liquidate_nothing = verdict(
        home.path(),
        &[
            "-u",
            url,
            "-k",
            &keypair,
            "dispute",
            "liquidate",
            "--job",
            job,
        ],
    );
    assert_one_line(
        &liquidate_nothing,
        2,
        "required arguments were not provided",
    );

    assert_eq!(cluster.count(), 0, "bad input must not reach the cluster");
}

#[test]
fn unreachable_cluster_is_one_line() {
    let home = tempfile::tempdir().unwrap();
    let keypair = keypair_in(home.path());
    // A port that was free a moment ago: nothing listens there.
    let port = TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let url = format!("http://127.0.0.1:{port}");
    let run = verdict(
        home.path(),
        &["-u", &url, "-k", &keypair, "--yes", "node", "stake", "1"],
    );
    assert_one_line(&run, 1, &format!("RPC request to {url} failed"));
}

#[test]
fn the_solana_cli_config_names_the_cluster() {
    let home = tempfile::tempdir().unwrap();
    let cluster = CountingListener::start();
    let keypair = keypair_in(home.path());
    let config_dir = home.path().join(".config/solana/cli");
    std::fs::create_dir_all(&config_dir).unwrap();
    std::fs::write(
        config_dir.join("config.yml"),
        format!(
            "---\njson_rpc_url: \"{}\"\nkeypair_path: {keypair}\ncommitment: confirmed\n",
            cluster.url
        ),
    )
    .unwrap();
    let run = verdict(home.path(), &["--output", "json", "config", "show"]);
    assert_one_line(&run, 1, &format!("RPC request to {} failed", cluster.url));
    assert!(cluster.count() > 0, "the configured json_rpc_url was used");
}
