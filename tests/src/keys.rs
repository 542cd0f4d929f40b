//! Key files for the processes a test or the main job starts (miners,
//! keepers, the CLI): Solana keypair files of keys generated at run time,
//! readable by their owner only (as the miner and the keeper demand).

use std::path::{Path, PathBuf};

use solana_sdk::signature::Keypair;
use solana_sdk::signer::Signer;
use verdict_wire::keys::KeyError;

/// Writes `key` to `path` as a keypair file, replacing one already there.
pub fn write_keypair(path: &Path, key: &Keypair) -> Result<(), KeyError> {
    verdict_wire::keys::replace_keypair_bytes(path, &key.to_bytes())
}

/// Writes `key` to `<dir>/<its pubkey>.json`; the path.
pub fn try_keypair_file(dir: &Path, key: &Keypair) -> Result<PathBuf, KeyError> {
    let path = dir.join(format!("{}.json", key.pubkey()));
    write_keypair(&path, key)?;
    Ok(path)
}

/// [`try_keypair_file`] for tests: panics if the file cannot be written.
pub fn keypair_file(dir: &Path, key: &Keypair) -> PathBuf {
    try_keypair_file(dir, key)
        .unwrap_or_else(|e| panic!("writing a key file in {}: {e}", dir.display()))
}
