//! The Solana CLI's path conventions, shared by every Verdict binary that
//! reads a keypair a user names (`~/` is the home folder).

use std::path::PathBuf;

/// The user's home folder (`$HOME`), if set.
pub fn home() -> Option<PathBuf> {
    std::env::var_os("HOME")
        .filter(|h| !h.is_empty())
        .map(PathBuf::from)
}

/// `path` with a leading `~/` replaced by the home folder.
pub fn expand_home(path: &str) -> PathBuf {
    match (path.strip_prefix("~/"), home()) {
        (Some(rest), Some(home)) => home.join(rest),
        _ => PathBuf::from(path),
    }
}
