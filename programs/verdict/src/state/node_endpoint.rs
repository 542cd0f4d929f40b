//! Where a node serves (its miner's or keeper's HTTP API), recorded on chain
//! so keepers discover miners without configuration. A small account of its
//! own, not a field of Node, so the hot paths that load Node do not pay for it.

use anchor_lang::prelude::*;

use crate::constants::MAX_ENDPOINT_LEN;
use crate::errors::VerdictError;

#[account]
#[derive(InitSpace, Debug)]
pub struct NodeEndpoint {
    pub node: Pubkey,
    pub len: u8,
    /// The URL's bytes, `len` of them, zero padded.
    pub url: [u8; MAX_ENDPOINT_LEN],
    pub updated_at: i64,
    pub bump: u8,
}

impl NodeEndpoint {
    /// The recorded URL (valid ASCII: only [`NodeEndpoint::check`]ed URLs are stored).
    pub fn url(&self) -> &str {
        let len = usize::from(self.len).min(MAX_ENDPOINT_LEN);
        core::str::from_utf8(&self.url[..len]).unwrap_or("")
    }

    /// Records `url` after [`NodeEndpoint::check`].
    pub fn set(&mut self, url: &str, now: i64) -> Result<()> {
        Self::check(url)?;
        self.url = [0; MAX_ENDPOINT_LEN];
        self.url[..url.len()].copy_from_slice(url.as_bytes());
        self.len = url.len() as u8;
        self.updated_at = now;
        Ok(())
    }

    /// `http://` or `https://`, a host, at most [`MAX_ENDPOINT_LEN`]
    /// printable ASCII bytes, and nothing a URL could carry a secret in:
    /// no user or password (`@` before the path), no query, no fragment.
    pub fn check(url: &str) -> Result<()> {
        let rest = url
            .strip_prefix("https://")
            .or_else(|| url.strip_prefix("http://"))
            .ok_or(VerdictError::InvalidEndpoint)?;
        let authority = rest.split('/').next().unwrap_or("");
        require!(
            url.len() <= MAX_ENDPOINT_LEN
                && url.bytes().all(|b| b.is_ascii_graphic())
                && !authority.is_empty()
                && !authority.starts_with(':')
                && !authority.contains('@')
                && !url.contains('?')
                && !url.contains('#'),
            VerdictError::InvalidEndpoint
        );
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn accepts_plain_service_urls() {
        for url in [
            "http://10.0.0.7:8080",
            "https://miner.example.org",
            "https://miner.example.org:8443/verdict/",
            "http://[::1]:9000",
        ] {
            assert!(NodeEndpoint::check(url).is_ok(), "{url}");
        }
    }

    #[test]
    fn refuses_schemes_credentials_secrets_and_long_urls() {
        let long = format!("http://{}", "a".repeat(MAX_ENDPOINT_LEN));
        for url in [
            "",
            "ftp://host",
            "host:8080",
            "http://",
            "http://:8080",
            "http://user:pass@host",
            "http://token@host/path",
            "http://host/?key=secret",
            "http://host/#frag",
            "http://ho st",
            "http://hôst",
            long.as_str(),
        ] {
            assert!(NodeEndpoint::check(url).is_err(), "{url}");
        }
        let mut e = NodeEndpoint {
            node: Pubkey::default(),
            len: 0,
            url: [0; MAX_ENDPOINT_LEN],
            updated_at: 0,
            bump: 0,
        };
        e.set("http://a:1", 5).unwrap();
        assert_eq!((e.url(), e.updated_at), ("http://a:1", 5));
        e.set("http://b", 6).unwrap();
        assert_eq!(e.url(), "http://b", "a shorter URL leaves no tail");
    }
}
