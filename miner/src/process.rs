//! A `verdict-miner serve` child process, as the main job and the tests run
//! it: bound to a free loopback port, its URL read from the one line the
//! miner prints once it serves, killed and reaped when dropped.

use std::ffi::OsStr;
use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::Duration;

use verdict_wire::client::MinerClient;

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
