//! A `verdict-miner serve` child process, as the main job and the tests run
//! it: bound to a free loopback port, its URL read from the one line the
//! miner prints once it serves, killed and reaped when dropped.

use std::ffi::OsStr;
use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::Duration;

use verdict_wire::client::MinerClient;

use crate::fault::FaultMode;
use crate::pricing::Strategy;

/// Why a miner process did not come up.
#[derive(Debug, thiserror::Error)]
pub enum SpawnError {
    #[error("{bin}: {source} (build it: cargo build -p verdict-miner)")]
    Start {
        bin: PathBuf,
        source: std::io::Error,
    },
    #[error("the miner exited before listening (is the model fetched? bash scripts/setup.sh){}", log_tail(.log))]
    Exited { log: String },
    #[error("the miner printed {0:?}, not the address it listens on")]
    Unexpected(String),
    #[error("the miner printed nothing within {0:?} (killed)")]
    Silent(Duration),
    #[error("the miner's log {path}: {source}")]
    Log {
        path: PathBuf,
        source: std::io::Error,
    },
}

fn log_tail(log: &str) -> String {
    if log.trim().is_empty() {
        String::new()
    } else {
        format!(":\n{log}")
    }
}

/// How long the main job and the keeper's tests let a miner take to start
/// (a `--preload` of the largest model on a busy machine, with room).
pub const STARTUP: Duration = Duration::from_secs(120);

/// How a `verdict-miner serve` is started, as the main job and the tests
/// start it: the flags built in one place, from typed values.
#[derive(Debug, Clone, Default)]
pub struct ServeOptions {
    /// Its signing key's keypair file (owner-only).
    pub keypair: PathBuf,
    /// The model ids it serves.
    pub models: Vec<String>,
    pub fault: Option<Fault>,
    /// Its standing prices, if it bids in keepers' auctions.
    pub bidding: Option<Bidding>,
    /// Loads its models before it listens.
    pub preload: bool,
    /// Models kept in memory at once (`None`: all it serves).
    pub max_loaded_models: Option<usize>,
    /// Does its own upkeep (records its endpoint, heartbeats) on a cluster.
    pub upkeep: Option<Upkeep>,
}

/// A deliberate misbehaviour (`--fault`), for tests and the main job.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Fault {
    pub mode: FaultMode,
    /// Delay of [`FaultMode::Slow`] (the miner's default when `None`).
    pub slow: Option<Duration>,
    /// Probability and seed of [`FaultMode::Flaky`].
    pub flaky: Option<(f64, u64)>,
}

impl Fault {
    pub const fn new(mode: FaultMode) -> Self {
        Fault {
            mode,
            slow: None,
            flaky: None,
        }
    }

    /// Answers correctly after `delay`.
    pub const fn slow(delay: Duration) -> Self {
        Fault {
            slow: Some(delay),
            ..Fault::new(FaultMode::Slow)
        }
    }

    /// Misbehaves on a request with probability `rate` (drawn from `seed`).
    pub const fn flaky(rate: f64, seed: u64) -> Self {
        Fault {
            flaky: Some((rate, seed)),
            ..Fault::new(FaultMode::Flaky)
        }
    }
}

/// A miner's standing prices (`--price`, `--price-strategy`, `--capacity`).
#[derive(Debug, Clone, PartialEq)]
pub struct Bidding {
    /// (model id, price in base units of the stake token).
    pub prices: Vec<(String, u64)>,
    pub strategy: Strategy,
    /// Jobs it bids for at once (the miner's default when `None`).
    pub capacity: Option<u32>,
}

/// Upkeep against a cluster: `--rpc-url`, `--node`, `--upkeep-secs`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Upkeep {
    pub rpc_url: String,
    /// The node's account (base58).
    pub node: String,
    pub every: Duration,
}

impl ServeOptions {
    /// Serving `models` with the key in `keypair`, honestly, not bidding.
    pub fn new(keypair: PathBuf, models: &[&str]) -> Self {
        ServeOptions {
            keypair,
            models: models.iter().map(|m| m.to_string()).collect(),
            ..ServeOptions::default()
        }
    }

    /// The `serve` flags (after `--bind`).
    pub fn args(&self) -> Vec<String> {
        let mut args = vec![
            "--models".to_string(),
            self.models.join(","),
            "--keypair".into(),
            self.keypair.display().to_string(),
        ];
        if self.preload {
            args.push("--preload".into());
        }
        if let Some(max) = self.max_loaded_models {
            args.extend(["--max-loaded-models".into(), max.to_string()]);
        }
        if let Some(fault) = &self.fault {
            args.extend(["--fault".into(), value_name(fault.mode)]);
            if let Some(delay) = fault.slow {
                args.extend(["--slow-ms".into(), delay.as_millis().to_string()]);
            }
            if let Some((rate, seed)) = fault.flaky {
                args.extend(["--flaky-rate".into(), rate.to_string()]);
                args.extend(["--seed".into(), seed.to_string()]);
            }
        }
        if let Some(bidding) = &self.bidding {
            for (model, price) in &bidding.prices {
                args.extend(["--price".into(), format!("{model}={price}")]);
            }
            args.extend(["--price-strategy".into(), value_name(bidding.strategy)]);
            if let Some(capacity) = bidding.capacity {
                args.extend(["--capacity".into(), capacity.to_string()]);
            }
        }
        if let Some(upkeep) = &self.upkeep {
            args.extend(["--rpc-url".into(), upkeep.rpc_url.clone()]);
            args.extend(["--node".into(), upkeep.node.clone()]);
            args.extend(["--upkeep-secs".into(), upkeep.every.as_secs().to_string()]);
        }
        args
    }
}

/// A `clap::ValueEnum`'s flag value (`gen-wrong-seed`, `adaptive`).
fn value_name(value: impl clap::ValueEnum) -> String {
    value
        .to_possible_value()
        .expect("every variant is a flag value")
        .get_name()
        .to_string()
}

/// A running miner, killed when dropped.
pub struct MinerProcess {
    child: Child,
    /// Its base URL (`http://127.0.0.1:<port>`).
    pub url: String,
    log: Option<PathBuf>,
}

impl MinerProcess {
    /// Starts `bin serve --bind 127.0.0.1:0 <args>` with `env` and waits,
    /// up to `startup` (a `--preload` included), for the line that names
    /// its address; a miner silent that long is killed. Its stderr goes to
    /// the file `log` (created or truncated, and removed with the process)
    /// or nowhere.
    pub fn spawn<S: AsRef<OsStr>>(
        bin: &Path,
        args: &[S],
        env: &[(&str, &str)],
        log: Option<&Path>,
        startup: Duration,
    ) -> Result<MinerProcess, SpawnError> {
        let stderr = match log {
            Some(path) => {
                Stdio::from(
                    std::fs::File::create(path).map_err(|source| SpawnError::Log {
                        path: path.to_path_buf(),
                        source,
                    })?,
                )
            }
            None => Stdio::null(),
        };
        let mut child = Command::new(bin)
            .args(["serve", "--bind", "127.0.0.1:0"])
            .args(args)
            .envs(env.iter().copied())
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(stderr)
            .spawn()
            .map_err(|source| SpawnError::Start {
                bin: bin.to_path_buf(),
                source,
            })?;
        // The first line is read on a thread of its own, so a miner that
        // never prints can be given up on (killing it ends the read).
        let stdout = child.stdout.take().expect("piped stdout");
        let (tx, rx) = std::sync::mpsc::channel();
        std::thread::spawn(move || {
            let mut line = String::new();
            let read = BufReader::new(stdout).read_line(&mut line);
            let _ = tx.send(read.map(|_| line));
        });
        let mut process = MinerProcess {
            child,
            url: String::new(),
            log: log.map(Path::to_path_buf),
        };
        let line = match rx.recv_timeout(startup) {
            Ok(Ok(line)) if !line.is_empty() => line,
            Ok(_) => {
                let _ = process.child.wait();
                return Err(SpawnError::Exited { log: process.log() });
            }
            Err(_) => return Err(SpawnError::Silent(startup)),
        };
        match line.trim().strip_prefix("listening on ") {
            Some(url) => {
                process.url = url.to_string();
                Ok(process)
            }
            None => Err(SpawnError::Unexpected(line.trim().to_string())),
        }
    }

    /// Starts `bin serve` with `options` ([`MinerProcess::spawn`], no log),
    /// giving it [`STARTUP`] to listen.
    pub fn serve(bin: &Path, options: &ServeOptions) -> Result<MinerProcess, SpawnError> {
        Self::spawn(bin, &options.args(), &[], None, STARTUP)
    }

    /// A client of this miner whose calls give up after `timeout`.
    pub fn client(&self, timeout: Duration) -> MinerClient {
        MinerClient::new(&self.url, timeout).expect("the miner's own URL is valid")
    }

    /// What the miner wrote to its log so far (empty without one).
    pub fn log(&self) -> String {
        self.log
            .as_ref()
            .and_then(|path| std::fs::read_to_string(path).ok())
            .unwrap_or_default()
    }

    /// Stops the miner now (as a crash or an operator would) and reaps it.
    pub fn kill(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl Drop for MinerProcess {
    fn drop(&mut self) {
        self.kill();
        if let Some(log) = &self.log {
            let _ = std::fs::remove_file(log);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_option_becomes_its_serve_flag() {
        let options = ServeOptions {
            preload: true,
            max_loaded_models: Some(1),
            fault: Some(Fault::flaky(0.3, 7)),
            bidding: Some(Bidding {
                prices: vec![("a".into(), 5), ("b".into(), 6)],
                strategy: Strategy::Adaptive,
                capacity: Some(2),
            }),
            upkeep: Some(Upkeep {
                rpc_url: "http://rpc".into(),
                node: "Node1".into(),
                every: Duration::from_secs(3),
            }),
            ..ServeOptions::new("k.json".into(), &["a", "b"])
        };
        let expected = "--models a,b --keypair k.json --preload --max-loaded-models 1 \
             --fault flaky --flaky-rate 0.3 --seed 7 --price a=5 --price b=6 \
             --price-strategy adaptive --capacity 2 --rpc-url http://rpc --node Node1 --upkeep-secs 3";
        assert_eq!(options.args().join(" "), expected);

        let slow = ServeOptions {
            fault: Some(Fault::slow(Duration::from_millis(700))),
            ..ServeOptions::new("k.json".into(), &["a"])
        };
        assert_eq!(
            slow.args().join(" "),
            "--models a --keypair k.json --fault slow --slow-ms 700"
        );
        let wrong = Fault::new(FaultMode::GenWrongSeed);
        let args = ServeOptions {
            fault: Some(wrong),
            ..ServeOptions::new("k.json".into(), &["a"])
        }
        .args();
        assert_eq!(args[4..], ["--fault", "gen-wrong-seed"]);
    }
}
