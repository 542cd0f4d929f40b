//! The miner's ed25519 node signing key: read from / written to a Solana keypair JSON file (64 bytes: secret || public), or generated for a run.

use std::path::Path;

use ed25519_dalek::SigningKey;
use rand::rngs::OsRng;

#[derive(Debug, thiserror::Error)]
pub enum KeyError {
    #[error("cannot read keypair file {path}: {source}")]
    Read {
        path: String,
        source: std::io::Error,
    },
    #[error("cannot write keypair file {path}: {source}")]
    Write {
        path: String,
        source: std::io::Error,
    },
    #[error("keypair file {path} is not a JSON array of 64 bytes (Solana keypair format)")]
    Format { path: String },
    #[error("keypair file {path}: the public half does not match the secret half")]
    Mismatch { path: String },
    #[error("keypair file {path} is readable by others (mode {mode:o}): run `chmod 600 {path}`")]
    Exposed { path: String, mode: u32 },
}

/// Parses a Solana keypair JSON array of 64 bytes.
pub fn keypair_from_json(text: &str, path: &str) -> Result<SigningKey, KeyError> {
    let bytes: Vec<u8> = serde_json::from_str(text).map_err(|_| KeyError::Format {
        path: path.to_owned(),
    })?;
    let bytes: [u8; 64] = bytes.try_into().map_err(|_| KeyError::Format {
        path: path.to_owned(),
    })?;
    // Checks that the stored public half is the one the secret derives.
    SigningKey::from_keypair_bytes(&bytes).map_err(|_| KeyError::Mismatch {
        path: path.to_owned(),
    })
}

/// The Solana keypair JSON for a key.
pub fn keypair_to_json(key: &SigningKey) -> String {
    serde_json::to_string(&key.to_keypair_bytes().to_vec()).expect("a byte array always serializes")
}

/// Reads a key file, refusing one that anyone but its owner can read (a
/// key others could copy signs for the node).
pub fn load_keypair(path: &Path) -> Result<SigningKey, KeyError> {
    let shown = path.display().to_string();
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let mode = std::fs::metadata(path)
            .map_err(|source| KeyError::Read {
                path: shown.clone(),
                source,
            })?
            .permissions()
            .mode();
        if mode & 0o077 != 0 {
            return Err(KeyError::Exposed {
                path: shown,
                mode: mode & 0o777,
            });
        }
    }
    let text = std::fs::read_to_string(path).map_err(|source| KeyError::Read {
        path: shown.clone(),
        source,
    })?;
    keypair_from_json(&text, &shown)
}

/// Writes a keypair file readable by its owner only; refuses to overwrite one.
pub fn write_keypair(path: &Path, key: &SigningKey) -> Result<(), KeyError> {
    write_keypair_bytes(path, &key.to_keypair_bytes())
}

/// [`write_keypair_bytes`], replacing a file already at `path` (run-time
/// keys for tests and the main job).
pub fn replace_keypair_bytes(path: &Path, bytes: &[u8; 64]) -> Result<(), KeyError> {
    match std::fs::remove_file(path) {
        Err(e) if e.kind() != std::io::ErrorKind::NotFound => {
            return Err(KeyError::Write {
                path: path.display().to_string(),
                source: e,
            })
        }
        _ => {}
    }
    write_keypair_bytes(path, bytes)
}

/// [`write_keypair`] for a key held as its 64 Solana keypair bytes (secret
/// then public), as `solana_sdk`'s `Keypair::to_bytes` gives them.
pub fn write_keypair_bytes(path: &Path, bytes: &[u8; 64]) -> Result<(), KeyError> {
    use std::io::Write;
    let shown = path.display().to_string();
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create_new(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        options.mode(0o600);
    }
    let mut file = options.open(path).map_err(|source| KeyError::Write {
        path: shown.clone(),
        source,
    })?;
    let json = serde_json::to_string(&bytes.to_vec()).expect("a byte array always serializes");
    file.write_all(json.as_bytes())
        .map_err(|source| KeyError::Write {
            path: shown,
            source,
        })
}

/// A fresh key from the OS random source.
pub fn generate() -> SigningKey {
    SigningKey::generate(&mut OsRng)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keypair_json_round_trips_and_rejects_bad_files() {
        let key = SigningKey::from_bytes(&[5u8; 32]);
        let json = keypair_to_json(&key);
        assert_eq!(
            keypair_from_json(&json, "k").unwrap().to_bytes(),
            key.to_bytes()
        );
        assert!(matches!(
            keypair_from_json("[1,2,3]", "k"),
            Err(KeyError::Format { .. })
        ));
        let mut wrong_public = key.to_keypair_bytes();
        wrong_public[40] ^= 1;
        let text = serde_json::to_string(&wrong_public.to_vec()).unwrap();
        assert!(matches!(
            keypair_from_json(&text, "k"),
            Err(KeyError::Mismatch { .. })
        ));
    }

    #[cfg(unix)]
    #[test]
    fn a_key_others_can_read_is_refused() {
        use std::os::unix::fs::PermissionsExt;
        let dir = std::env::temp_dir().join(format!("verdict-keys-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let path = dir.join("key.json");
        let _ = std::fs::remove_file(&path);
        let key = SigningKey::from_bytes(&[6u8; 32]);
        write_keypair(&path, &key).unwrap();
        assert_eq!(load_keypair(&path).unwrap().to_bytes(), key.to_bytes());
        std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o644)).unwrap();
        assert!(matches!(
            load_keypair(&path),
            Err(KeyError::Exposed { mode: 0o644, .. })
        ));
        let _ = std::fs::remove_dir_all(&dir);
    }
}
