//! `verdict-miner init`: a first run's files — the node signing key (new or
//! imported, owner-only) and a commented environment file the service
//! reads — and the `verdict` commands that register and stake the node.

use std::path::{Path, PathBuf};

use verdict_wire::keys::{self, KeyError};

pub struct InitOptions {
    /// Where miner.env and miner-signing.json go (e.g. /etc/verdict).
    pub dir: PathBuf,
    pub rpc_url: String,
    /// The URL keepers call (recorded on chain by the miner).
    pub advertise: String,
    /// The node's account, when the operator already registered it.
    pub node: Option<String>,
    pub models: Vec<String>,
    pub model_dir: PathBuf,
    pub signing_keypair: Option<PathBuf>,
}

#[derive(Debug)]
pub struct Initialized {
    pub env_file: PathBuf,
    pub key_file: PathBuf,
    /// The signing key's public half (base58).
    pub signing_key: String,
    pub next_steps: Vec<String>,
}

#[derive(Debug, thiserror::Error)]
pub enum InitError {
    #[error(transparent)]
    Key(#[from] KeyError),
    #[error("{0}")]
    Refused(String),
    #[error("{path}: {source}")]
    Io {
        path: String,
        source: std::io::Error,
    },
}

fn io(path: &Path) -> impl FnOnce(std::io::Error) -> InitError + '_ {
    move |source| InitError::Io {
        path: path.display().to_string(),
        source,
    }
}

pub fn init(opts: &InitOptions) -> Result<Initialized, InitError> {
    std::fs::create_dir_all(&opts.dir).map_err(io(&opts.dir))?;
    let env_file = opts.dir.join("miner.env");
    if env_file.exists() {
        return Err(InitError::Refused(format!(
            "{} exists: init writes a fresh configuration only",
            env_file.display()
        )));
    }
    let key_file = opts.dir.join("miner-signing.json");
    let key = match &opts.signing_keypair {
        Some(from) => keys::load_keypair(from)?,
        None if key_file.exists() => keys::load_keypair(&key_file)?,
        None => keys::generate(),
    };
    if !key_file.exists() {
        keys::write_keypair(&key_file, &key)?;
    } else if keys::load_keypair(&key_file)?.to_bytes() != key.to_bytes() {
        return Err(InitError::Refused(format!(
            "{} holds another key: move it away to import this one",
            key_file.display()
        )));
    }
    let signing_key = crate::api::MinerPubkey::from(&key).to_string();
    let node = opts
        .node
        .clone()
        .unwrap_or_else(|| "<the node's account: `verdict node show` after registering>".into());
    let text = format!(
        "# Written by `verdict-miner init`; the verdict-miner service reads it\n\
         # (EnvironmentFile). Every variable matches a `verdict-miner serve` flag.\n\
         \n\
         # The node signing key: signs answers, heartbeats and the endpoint record.\n\
         # Fund it with a little SOL for their fees (and the endpoint account's rent).\n\
         VERDICT_MINER_KEYPAIR={key}\n\
         # Where the HTTP server listens.\n\
         VERDICT_MINER_BIND=0.0.0.0:8080\n\
         # The URL keepers call: the miner records it on chain and keeps it current.\n\
         VERDICT_MINER_ADVERTISE={advertise}\n\
         # The cluster for that upkeep (endpoint record, heartbeats on schedule).\n\
         VERDICT_MINER_RPC_URL={rpc}\n\
         # The node's account.\n\
         VERDICT_MINER_NODE={node}\n\
         # The models it serves, and where their weights are (scripts/fetch-model.sh).\n\
         VERDICT_MINER_MODELS={models}\n\
         VERDICT_MODEL_DIR={model_dir}\n\
         # To bid in the keepers' auctions: a standing price per model (MODEL=AMOUNT,\n\
         # comma-separated, base units of the stake token; +25% at medium risk, +50%\n\
         # at high), how it follows the load (fixed or adaptive), jobs taken at once.\n\
         # Without prices the miner does not bid and is paid the keepers' list price.\n\
         # VERDICT_MINER_PRICES={first_model}=2000000\n\
         # VERDICT_MINER_PRICE_STRATEGY=fixed\n\
         # VERDICT_MINER_CAPACITY=4\n",
        key = key_file.display(),
        advertise = opts.advertise,
        rpc = opts.rpc_url,
        models = opts.models.join(","),
        first_model = opts.models.first().map_or("MODEL", String::as_str),
        model_dir = opts.model_dir.display(),
    );
    std::fs::write(&env_file, text).map_err(io(&env_file))?;
    let url = &opts.rpc_url;
    let operator = "<operator keypair>";
    let model_flags: String = opts
        .models
        .iter()
        .map(|m| format!(" --model {m}"))
        .collect();
    let next_steps = vec![
        format!("solana -u {url} transfer {signing_key} 0.05 --allow-unfunded-recipient   # the miner's fees"),
        format!(
            "verdict -u {url} -k {operator} node register --roles miner{model_flags} --signing-keypair {} --endpoint {}",
            key_file.display(),
            opts.advertise
        ),
        format!("verdict -u {url} -k {operator} node stake <at least the minimum miner stake>"),
        format!(
            "VERDICT_MODEL_DIR={} bash scripts/fetch-model.sh   # the pinned weights",
            opts.model_dir.display()
        ),
        format!(
            "set VERDICT_MINER_NODE in {} if needed, then: systemctl enable --now verdict-miner",
            env_file.display()
        ),
    ];
    Ok(Initialized {
        env_file,
        key_file,
        signing_key,
        next_steps,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn init_writes_the_environment_and_an_owner_only_key() {
        use std::os::unix::fs::PermissionsExt;
        let dir = std::env::temp_dir().join(format!("verdict-miner-init-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        let opts = InitOptions {
            dir: dir.clone(),
            rpc_url: "https://api.devnet.solana.com".into(),
            advertise: "https://miner.example.org:8080".into(),
            node: None,
            models: vec!["all-minilm-l6-v2".into()],
            model_dir: "/var/lib/verdict/models".into(),
            signing_keypair: None,
        };
        let done = init(&opts).unwrap();
        let env = std::fs::read_to_string(&done.env_file).unwrap();
        assert!(env.contains("VERDICT_MINER_ADVERTISE=https://miner.example.org:8080"));
        assert!(
            env.contains("# VERDICT_MINER_PRICES="),
            "bidding is documented, off"
        );
        assert!(env.contains(&format!(
            "VERDICT_MINER_KEYPAIR={}",
            done.key_file.display()
        )));
        let mode = std::fs::metadata(&done.key_file)
            .unwrap()
            .permissions()
            .mode();
        assert_eq!(mode & 0o777, 0o600);
        assert!(keys::load_keypair(&done.key_file).is_ok());
        assert!(done.next_steps[1].contains("--roles miner --model all-minilm-l6-v2"));
        assert!(matches!(init(&opts), Err(InitError::Refused(_))));
        let _ = std::fs::remove_dir_all(&dir);
    }
}
