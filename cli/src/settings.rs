//! Where to connect and whom to sign as, by the `solana` CLI's conventions:
//! flags first, then the solana CLI config file, then its defaults.

use std::path::{Path, PathBuf};

pub use verdict_sdk::paths::expand_home;
use verdict_sdk::paths::home;

use crate::error::CliError;

/// The `solana` CLI's default cluster when nothing is configured.
pub const DEFAULT_URL: &str = "https://api.mainnet-beta.solana.com";

/// Expands the `solana` CLI's cluster monikers; anything else must be an
/// http(s) URL.
pub fn normalize_url(input: &str) -> Result<String, String> {
    let url = match input {
        "m" | "mainnet-beta" => "https://api.mainnet-beta.solana.com",
        "d" | "devnet" => "https://api.devnet.solana.com",
        "t" | "testnet" => "https://api.testnet.solana.com",
        "l" | "localhost" => "http://localhost:8899",
        other => {
            let rest = other
                .strip_prefix("https://")
                .or_else(|| other.strip_prefix("http://"));
            return match rest {
                Some(host) if !host.is_empty() && !host.starts_with('/') && !other.contains(char::is_whitespace) => {
                    Ok(other.to_string())
                }
                _ => Err(format!(
                    "'{other}' is neither an http(s) URL nor a cluster moniker (m, d, t, l, mainnet-beta, devnet, testnet, localhost)"
                )),
            };
        }
    };
    Ok(url.to_string())
}

/// The two keys Verdict reads from the solana CLI's `config.yml`.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct SolanaCliConfig {
    pub json_rpc_url: Option<String>,
    pub keypair_path: Option<String>,
}

/// Reads `json_rpc_url` and `keypair_path` from the YAML the solana CLI
/// writes (flat `key: value` lines, values optionally quoted). The file has
/// no nesting for these keys, so a line reader is enough and adds no
/// dependency.
pub fn parse_solana_config(text: &str) -> SolanaCliConfig {
    let mut config = SolanaCliConfig::default();
    for line in text.lines() {
        if line.starts_with([' ', '\t', '#']) {
            continue;
        }
        let Some((key, value)) = line.split_once(':') else {
            continue;
        };
        let value = unquote(value.trim());
        if value.is_empty() {
            continue;
        }
        match key.trim() {
            "json_rpc_url" => config.json_rpc_url = Some(value),
            "keypair_path" => config.keypair_path = Some(value),
            _ => {}
        }
    }
    config
}

fn unquote(value: &str) -> String {
    for quote in ['"', '\''] {
        if let Some(inner) = value
            .strip_prefix(quote)
            .and_then(|v| v.strip_suffix(quote))
        {
            return inner.to_string();
        }
    }
    value.to_string()
}

/// `~/.config/solana/cli/config.yml`.
pub fn default_config_file() -> Option<PathBuf> {
    home().map(|h| h.join(".config/solana/cli/config.yml"))
}

/// `~/.config/solana/id.json`.
pub fn default_keypair_path() -> PathBuf {
    home().unwrap_or_default().join(".config/solana/id.json")
}

/// Where to connect and which keypair file to sign with.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Settings {
    pub url: String,
    pub keypair_path: PathBuf,
    /// Named by `-k`: a keypair the user asked for must be readable at once;
    /// a configured or default one only when a command needs to sign.
    pub keypair_explicit: bool,
}

/// Flags win over the config file, which wins over the defaults. An
/// explicit `-C` file must exist; the default one is optional.
pub fn resolve(
    url_flag: Option<&str>,
    keypair_flag: Option<&Path>,
    config_flag: Option<&Path>,
) -> Result<Settings, CliError> {
    let file = match config_flag {
        Some(path) => Some(read_config(path)?),
        None => match default_config_file().filter(|p| p.exists()) {
            Some(path) => Some(read_config(&path)?),
            None => None,
        },
    }
    .unwrap_or_default();
    let url = match url_flag.map(str::to_string).or(file.json_rpc_url) {
        Some(url) => normalize_url(&url).map_err(CliError::Input)?,
        None => DEFAULT_URL.to_string(),
    };
    let (keypair_path, keypair_explicit) = match (keypair_flag, file.keypair_path) {
        (Some(flag), _) => (flag.to_path_buf(), true),
        (None, Some(configured)) => (expand_home(&configured), false),
        (None, None) => (default_keypair_path(), false),
    };
    Ok(Settings {
        url,
        keypair_path,
        keypair_explicit,
    })
}

fn read_config(path: &Path) -> Result<SolanaCliConfig, CliError> {
    std::fs::read_to_string(path)
        .map(|text| parse_solana_config(&text))
        .map_err(|e| CliError::File {
            path: path.display().to_string(),
            reason: e.to_string(),
        })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn monikers_expand_like_the_solana_cli() {
        assert_eq!(
            normalize_url("m").unwrap(),
            "https://api.mainnet-beta.solana.com"
        );
        assert_eq!(normalize_url("d").unwrap(), "https://api.devnet.solana.com");
        assert_eq!(
            normalize_url("testnet").unwrap(),
            "https://api.testnet.solana.com"
        );
        assert_eq!(normalize_url("l").unwrap(), "http://localhost:8899");
        assert_eq!(
            normalize_url("http://10.0.0.1:8899").unwrap(),
            "http://10.0.0.1:8899"
        );
        for bad in ["x", "ftp://host", "http://", "localhost:8899", "http://a b"] {
            assert!(normalize_url(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn reads_the_two_keys_of_the_solana_cli_config() {
        let text = "---\njson_rpc_url: \"https://api.devnet.solana.com\"\nwebsocket_url: \"\"\nkeypair_path: /home/me/.config/solana/id.json\naddress_labels:\n  \"11111111111111111111111111111111\": System Program\ncommitment: confirmed\n";
        let config = parse_solana_config(text);
        assert_eq!(
            config.json_rpc_url.as_deref(),
            Some("https://api.devnet.solana.com")
        );
        assert_eq!(
            config.keypair_path.as_deref(),
            Some("/home/me/.config/solana/id.json")
        );
        assert_eq!(
            parse_solana_config("websocket_url: ''\n"),
            SolanaCliConfig::default()
        );
    }

    #[test]
    fn flags_win_over_the_config_file() {
        let dir = std::env::temp_dir().join(format!("verdict-cli-settings-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let file = dir.join("config.yml");
        std::fs::write(&file, "json_rpc_url: d\nkeypair_path: /tmp/k.json\n").unwrap();
        let from_file = resolve(None, None, Some(&file)).unwrap();
        assert_eq!(from_file.url, "https://api.devnet.solana.com");
        assert_eq!(from_file.keypair_path, PathBuf::from("/tmp/k.json"));
        assert!(!from_file.keypair_explicit);
        let flags = resolve(Some("l"), Some(Path::new("/tmp/other.json")), Some(&file)).unwrap();
        assert_eq!(flags.url, "http://localhost:8899");
        assert!(flags.keypair_explicit);
        assert!(matches!(
            resolve(None, None, Some(&dir.join("missing.yml"))),
            Err(CliError::File { .. })
        ));
        std::fs::remove_dir_all(&dir).ok();
    }
}
