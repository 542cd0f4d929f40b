//! `verdict-keeper init`: a first run's files — a commented configuration
//! and the keys (created, or imported; readable by the owner only) — and
//! the `verdict` commands that register and stake the validator.

use std::path::{Path, PathBuf};

use anchor_lang::prelude::Pubkey;
use ed25519_dalek::SigningKey;
use verdict_sdk::pda;

use crate::KeeperError;

pub struct InitOptions {
    /// Where the configuration and the keys go (e.g. /etc/verdict).
    pub dir: PathBuf,
    pub rpc_url: String,
    /// The keeper's database (under the service's state directory).
    pub database: PathBuf,
    /// The validator operator's wallet: names the node in the configuration.
    pub operator: Option<Pubkey>,
    /// Existing keys to use instead of new ones.
    pub signing_keypair: Option<PathBuf>,
    pub payer_keypair: Option<PathBuf>,
}

/// What `init` wrote, and what the operator does next.
#[derive(Debug)]
pub struct Initialized {
    pub config: PathBuf,
    pub signing_key: Pubkey,
    pub payer: Pubkey,
    pub node: Option<Pubkey>,
    pub next_steps: Vec<String>,
}

fn config_error(what: impl std::fmt::Display) -> KeeperError {
    KeeperError::Config(what.to_string())
}

/// A key at `path`: the imported one (copied), the one already there, or a
/// new one; always owner-only.
fn key_file(path: &Path, import: Option<&Path>) -> Result<SigningKey, KeeperError> {
    let key = match import {
        Some(from) => verdict_wire::keys::load_keypair(from).map_err(config_error)?,
        None if path.exists() => {
            return verdict_wire::keys::load_keypair(path).map_err(config_error)
        }
        None => verdict_wire::keys::generate(),
    };
    if path.exists() {
        let existing = verdict_wire::keys::load_keypair(path).map_err(config_error)?;
        if existing.to_bytes() != key.to_bytes() {
            return Err(config_error(format!(
                "{} holds another key: move it away to import this one",
                path.display()
            )));
        }
        return Ok(key);
    }
    verdict_wire::keys::write_keypair(path, &key).map_err(config_error)?;
    Ok(key)
}

fn pubkey(key: &SigningKey) -> Pubkey {
    Pubkey::new_from_array(key.verifying_key().to_bytes())
}

/// Writes `keeper.toml`, `payer.json` and `validator-signing.json` into
/// `dir` (refusing to overwrite a configuration), and lists the next steps.
pub fn init(opts: &InitOptions) -> Result<Initialized, KeeperError> {
    std::fs::create_dir_all(&opts.dir).map_err(config_error)?;
    let config = opts.dir.join("keeper.toml");
    if config.exists() {
        return Err(config_error(format!(
            "{} exists: init writes a fresh configuration only",
            config.display()
        )));
    }
    let signing_path = opts.dir.join("validator-signing.json");
    let payer_path = opts.dir.join("payer.json");
    let signing = pubkey(&key_file(&signing_path, opts.signing_keypair.as_deref())?);
    let payer = pubkey(&key_file(&payer_path, opts.payer_keypair.as_deref())?);
    let node = opts.operator.map(|o| pda::node(&o));

    let example = include_str!("../keeper.example.toml");
    let (top, committee) = example
        .split_once("\n# A committee member's keeper")
        .expect("the example has a committee section");
    let mut text = String::from(
        "# Written by `verdict-keeper init`: every key below is the default unless\n\
         # this run set it; edit freely, then `verdict-keeper check-config --config <this file>`.\n",
    );
    for line in top.lines().skip_while(|l| l.starts_with('#')) {
        let set = |key: &str, value: String| -> Option<String> {
            line.starts_with(&format!("{key} ="))
                .then(|| format!("{key} = {value}"))
        };
        let line = set("rpc_urls", format!("[{:?}]", opts.rpc_url))
            .or_else(|| {
                set(
                    "payer_keypair",
                    format!("{:?}", payer_path.display().to_string()),
                )
            })
            .or_else(|| {
                set(
                    "signing_keypairs",
                    format!("[{:?}]", signing_path.display().to_string()),
                )
            })
            .or_else(|| {
                set(
                    "database",
                    format!("{:?}", opts.database.display().to_string()),
                )
            })
            .unwrap_or_else(|| line.to_string());
        text.push_str(&line);
        text.push('\n');
    }
    text.push_str("\n# A committee member's keeper");
    match node {
        // The validator's node is known: its committee section is on.
        Some(node) => text.push_str(&committee.replace("# [committee]", "[committee]").replace(
            "# node = \"<this validator's Node account>\"",
            &format!("node = \"{node}\""),
        )),
        None => text.push_str(committee),
    }
    std::fs::write(&config, text).map_err(config_error)?;

    let url = &opts.rpc_url;
    let operator_key = "<operator keypair>";
    let next_steps = vec![
        format!("solana -u {url} transfer {payer} 1 --allow-unfunded-recipient   # the keeper's fees"),
        format!(
            "verdict -u {url} -k {operator_key} node register --roles validator --signing-keypair {}",
            signing_path.display()
        ),
        format!("verdict -u {url} -k {operator_key} node stake <at least the minimum validator stake>"),
        format!("verdict -u {url} -k {operator_key} committee enter   # the keeper enters later draws itself"),
        match node {
            Some(_) => format!("verdict-keeper run --config {}", config.display()),
            None => format!(
                "set [committee] node in {} (the Node account of your operator wallet, `verdict node show`), then: verdict-keeper run --config {}",
                config.display(),
                config.display()
            ),
        },
    ];
    Ok(Initialized {
        config,
        signing_key: signing,
        payer,
        node,
        next_steps,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::KeeperConfig;

    #[test]
    fn init_writes_a_config_that_loads_and_owner_only_keys() {
        use std::os::unix::fs::PermissionsExt;
        let dir = tempfile::tempdir().unwrap();
        let operator = Pubkey::new_unique();
        let opts = InitOptions {
            dir: dir.path().join("etc"),
            rpc_url: "https://api.devnet.solana.com".into(),
            database: "/var/lib/verdict/keeper.redb".into(),
            operator: Some(operator),
            signing_keypair: None,
            payer_keypair: None,
        };
        let done = init(&opts).unwrap();
        let cfg = KeeperConfig::from_toml(&std::fs::read_to_string(&done.config).unwrap()).unwrap();
        cfg.check().unwrap();
        assert_eq!(
            cfg.rpc_urls,
            vec!["https://api.devnet.solana.com".to_string()]
        );
        assert_eq!(cfg.committee.node, Some(pda::node(&operator)));
        assert_eq!(
            cfg.signing_keypairs,
            vec![opts.dir.join("validator-signing.json")]
        );
        for key in ["validator-signing.json", "payer.json"] {
            let mode = std::fs::metadata(opts.dir.join(key))
                .unwrap()
                .permissions()
                .mode();
            assert_eq!(mode & 0o777, 0o600, "{key}");
        }
        assert!(done
            .next_steps
            .iter()
            .any(|s| s.contains("node register --roles validator")));
        assert!(
            init(&opts).is_err(),
            "a second init does not overwrite the configuration"
        );

        // Importing keys: the same files again are fine, an exposed one is refused.
        let again = InitOptions {
            dir: dir.path().join("etc2"),
            operator: None,
            signing_keypair: Some(opts.dir.join("validator-signing.json")),
            ..opts
        };
        let imported = init(&again).unwrap();
        assert_eq!(imported.signing_key, done.signing_key);
        assert!(imported.node.is_none());
        let exposed = dir.path().join("exposed.json");
        verdict_wire::keys::write_keypair(&exposed, &verdict_wire::keys::generate()).unwrap();
        std::fs::set_permissions(&exposed, std::fs::Permissions::from_mode(0o644)).unwrap();
        let refused = InitOptions {
            dir: dir.path().join("etc3"),
            payer_keypair: Some(exposed),
            ..again
        };
        assert!(init(&refused)
            .unwrap_err()
            .to_string()
            .contains("chmod 600"));
    }
}
