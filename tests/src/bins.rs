//! The workspace's binaries for tests that run them as processes (a miner,
//! the main job, an example): where the test's own build put them.

use std::path::PathBuf;
use std::process::Command;

/// `name` (of package `package`) in the test binary's target directory:
/// `$VERDICT_<NAME>_BIN` when set (`verdict-miner` -> `VERDICT_MINER_BIN`),
/// else `target/<profile>/<name>`, built there first if it is missing
/// (`cargo test -p <one package>` does not build other packages' binaries).
pub fn workspace_bin(name: &str, package: &str) -> PathBuf {
    let var = format!(
        "VERDICT_{}_BIN",
        name.trim_start_matches("verdict-")
            .to_uppercase()
            .replace('-', "_")
    );
    if let Some(path) = std::env::var_os(&var) {
        return path.into();
    }
    // target/<profile>/deps/<test binary> -> target/<profile>/<name>
    let exe = std::env::current_exe().expect("the test binary's path");
    let profile_dir = exe
        .parent()
        .and_then(|deps| deps.parent())
        .expect("target/<profile>/deps");
    let path = profile_dir.join(name);
    if !path.exists() {
        let cargo = std::env::var_os("CARGO").unwrap_or_else(|| "cargo".into());
        let status = Command::new(cargo)
            .args(["build", "-p", package, "--bin", name])
            .env("CARGO_TARGET_DIR", profile_dir.parent().expect("target/"))
            .status()
            .unwrap_or_else(|e| panic!("run cargo build -p {package}: {e}"));
        assert!(
            status.success() && path.exists(),
            "{} not found: run `cargo build -p {package} --bin {name}` first (or set {var})",
            path.display()
        );
    }
    path
}

/// The debug-built reference miner ([`workspace_bin`]).
pub fn miner_bin() -> PathBuf {
    workspace_bin("verdict-miner", "verdict-miner")
}
