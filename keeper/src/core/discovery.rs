//! Which miners this keeper can call, from what the chain records: each
//! active miner's endpoint, unless it names an address a keeper must not
//! be pointed at. Pure: the watcher hands it the chain's view.

use std::collections::BTreeMap;
use std::net::IpAddr;

use anchor_lang::prelude::Pubkey;

/// Why an on-chain endpoint is not called.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Refused {
    /// Not a URL this keeper can parse (the program checks the shape; this
    /// is the last line).
    Malformed,
    /// A loopback, private, link-local or unspecified address: a miner
    /// could otherwise aim keepers at their own internal services. Allowed
    /// with `allow_private_endpoints` (local and LAN networks).
    Private,
}

impl Refused {
    /// The metric label.
    pub fn label(self) -> &'static str {
        match self {
            Refused::Malformed => "malformed",
            Refused::Private => "private",
        }
    }
}

fn private(ip: IpAddr) -> bool {
    match ip {
        IpAddr::V4(v4) => {
            v4.is_loopback()
                || v4.is_private()
                || v4.is_link_local()
                || v4.is_unspecified()
                || v4.is_broadcast()
                // Carrier-grade NAT, 100.64.0.0/10.
                || (v4.octets()[0] == 100 && (v4.octets()[1] & 0xc0) == 64)
        }
        IpAddr::V6(v6) => {
            let first = v6.segments()[0];
            v6.is_loopback()
                || v6.is_unspecified()
                || (first & 0xfe00) == 0xfc00 // unique local
                || (first & 0xffc0) == 0xfe80 // link local
                || v6.to_ipv4_mapped().is_some_and(|v4| private(IpAddr::V4(v4)))
        }
    }
}

/// Whether this keeper may call `url`. Host names are taken as they are
/// (what they resolve to is the network's policy, not this check's).
pub fn check(url: &str, allow_private: bool) -> Result<(), Refused> {
    let parsed = reqwest::Url::parse(url).map_err(|_| Refused::Malformed)?;
    if !matches!(parsed.scheme(), "http" | "https") || !parsed.username().is_empty() {
        return Err(Refused::Malformed);
    }
    let ip = match parsed.host() {
        Some(url::Host::Ipv4(v4)) => Some(IpAddr::V4(v4)),
        Some(url::Host::Ipv6(v6)) => Some(IpAddr::V6(v6)),
        Some(url::Host::Domain(d)) if d.eq_ignore_ascii_case("localhost") => {
            Some(IpAddr::V4(std::net::Ipv4Addr::LOCALHOST))
        }
        Some(url::Host::Domain(_)) => None,
        None => return Err(Refused::Malformed),
    };
    if !allow_private && ip.is_some_and(private) {
        return Err(Refused::Private);
    }
    Ok(())
}

/// The miners to call: each miner node's endpoint that passes [`check`],
/// and the refusals by node (reported once per change by the caller).
pub fn usable(
    endpoints: &[(Pubkey, String)],
    is_miner: impl Fn(&Pubkey) -> bool,
    allow_private: bool,
) -> (BTreeMap<Pubkey, String>, BTreeMap<Pubkey, Refused>) {
    let mut ok = BTreeMap::new();
    let mut refused = BTreeMap::new();
    for (node, url) in endpoints {
        if !is_miner(node) {
            continue;
        }
        match check(url, allow_private) {
            Ok(()) => {
                ok.insert(*node, url.clone());
            }
            Err(why) => {
                refused.insert(*node, why);
            }
        }
    }
    (ok, refused)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn public_hosts_pass_and_internal_addresses_need_the_switch() {
        for url in [
            "https://miner.example.org:8443",
            "http://203.0.113.7:9000/v",
        ] {
            assert_eq!(check(url, false), Ok(()), "{url}");
        }
        for url in [
            "http://127.0.0.1:8080",
            "http://localhost:8080",
            "http://10.1.2.3",
            "http://192.168.0.9",
            "http://172.16.4.4",
            "http://169.254.169.254/latest/meta-data",
            "http://100.64.1.1",
            "http://0.0.0.0:80",
            "http://[::1]:9000",
            "http://[fd00::1]",
            "http://[fe80::1]",
            "http://[::ffff:10.0.0.1]",
        ] {
            assert_eq!(check(url, false), Err(Refused::Private), "{url}");
            assert_eq!(check(url, true), Ok(()), "{url}");
        }
        for url in ["ftp://x", "not a url", "http://u:p@host"] {
            assert_eq!(check(url, true), Err(Refused::Malformed), "{url}");
        }
    }

    #[test]
    fn only_miners_with_usable_endpoints_are_called() {
        let (a, b, c) = (
            Pubkey::new_unique(),
            Pubkey::new_unique(),
            Pubkey::new_unique(),
        );
        let endpoints = vec![
            (a, "https://a.example".to_string()),
            (b, "http://127.0.0.1:1".to_string()),
            (c, "https://c.example".to_string()),
        ];
        let (ok, refused) = usable(&endpoints, |n| *n != c, false);
        assert_eq!(ok.keys().collect::<Vec<_>>(), vec![&a]);
        assert_eq!(refused.get(&b), Some(&Refused::Private));
        assert!(!refused.contains_key(&c), "validators are not miners");
    }
}
