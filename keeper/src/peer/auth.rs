//! Authentication of keeper-to-keeper requests: the sender signs the path,
//! a timestamp, a nonce and the body's hash with its validator signing key;
//! the receiver accepts only a current committee member's key, a timestamp
//! within the allowed skew, and a nonce it has not seen from that key.

use std::collections::HashMap;
use std::sync::Mutex;

use anchor_lang::prelude::Pubkey;
use sha2::{Digest, Sha256};
use solana_sdk::signature::{Keypair, Signature};
use solana_sdk::signer::Signer;

pub const HEADER_KEY: &str = "x-verdict-peer";
pub const HEADER_TIME: &str = "x-verdict-peer-time";
pub const HEADER_NONCE: &str = "x-verdict-peer-nonce";
pub const HEADER_SIGNATURE: &str = "x-verdict-peer-signature";

/// A request is refused if its clock is further than this from ours.
pub const MAX_SKEW_SECS: i64 = 30;

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum AuthError {
    #[error("missing header {0}")]
    Missing(&'static str),
    #[error("malformed header {0}")]
    Malformed(&'static str),
    #[error("the signature does not match the request")]
    BadSignature,
    #[error("{0} is not a signing key of the current committee")]
    NotAMember(String),
    #[error("{0} is not the signing key of a registered, active node")]
    NotAnActiveNode(String),
    #[error("the request is {0} s away from this keeper's clock (stale or replayed later)")]
    Stale(i64),
    #[error("this nonce was already used by the sender (replay)")]
    Replayed,
}

impl AuthError {
    /// Stable code for the HTTP error body.
    pub fn code(&self) -> &'static str {
        match self {
            AuthError::Missing(_) | AuthError::Malformed(_) => "malformed_peer_request",
            AuthError::BadSignature => "bad_peer_signature",
            AuthError::NotAMember(_) => "not_a_committee_member",
            AuthError::NotAnActiveNode(_) => "not_an_active_node",
            AuthError::Stale(_) => "stale_peer_request",
            AuthError::Replayed => "replayed_peer_request",
        }
    }
}

/// The authentication headers of one request.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PeerHeaders {
    pub key: Pubkey,
    pub time: i64,
    pub nonce: u64,
    pub signature: Signature,
}

fn signed_bytes(path: &str, time: i64, nonce: u64, body: &[u8]) -> Vec<u8> {
    let body_hash = hex::encode(Sha256::digest(body));
    format!("verdict-peer-v1\n{path}\n{time}\n{nonce}\n{body_hash}").into_bytes()
}

impl PeerHeaders {
    pub fn sign(key: &Keypair, path: &str, body: &[u8], time: i64, nonce: u64) -> Self {
        let signature = key.sign_message(&signed_bytes(path, time, nonce, body));
        PeerHeaders {
            key: key.pubkey(),
            time,
            nonce,
            signature,
        }
    }

    /// As (name, value) pairs for an HTTP client.
    pub fn to_pairs(&self) -> [(&'static str, String); 4] {
        [
            (HEADER_KEY, self.key.to_string()),
            (HEADER_TIME, self.time.to_string()),
            (HEADER_NONCE, self.nonce.to_string()),
            (HEADER_SIGNATURE, self.signature.to_string()),
        ]
    }

    /// Parses the headers through `get` (name -> value).
    pub fn parse<'a>(get: impl Fn(&'static str) -> Option<&'a str>) -> Result<Self, AuthError> {
        let field = |name: &'static str| get(name).ok_or(AuthError::Missing(name));
        Ok(PeerHeaders {
            key: field(HEADER_KEY)?
                .parse()
                .map_err(|_| AuthError::Malformed(HEADER_KEY))?,
            time: field(HEADER_TIME)?
                .parse()
                .map_err(|_| AuthError::Malformed(HEADER_TIME))?,
            nonce: field(HEADER_NONCE)?
                .parse()
                .map_err(|_| AuthError::Malformed(HEADER_NONCE))?,
            signature: field(HEADER_SIGNATURE)?
                .parse()
                .map_err(|_| AuthError::Malformed(HEADER_SIGNATURE))?,
        })
    }
}

/// The receiving side: checks signatures, membership, clocks and replays.
#[derive(Default)]
pub struct PeerAuth {
    /// (sender, nonce) -> when it may be forgotten (its timestamp + 2 skews).
    seen: Mutex<HashMap<(Pubkey, u64), i64>>,
}

impl PeerAuth {
    /// The sender's signing key once every check passes. `is_member` answers
    /// for the committee in force.
    pub fn verify(
        &self,
        headers: &PeerHeaders,
        path: &str,
        body: &[u8],
        now: i64,
        is_member: impl Fn(&Pubkey) -> bool,
    ) -> Result<Pubkey, AuthError> {
        if !headers.signature.verify(
            headers.key.as_ref(),
            &signed_bytes(path, headers.time, headers.nonce, body),
        ) {
            return Err(AuthError::BadSignature);
        }
        if !is_member(&headers.key) {
            return Err(AuthError::NotAMember(headers.key.to_string()));
        }
        let skew = headers.time - now;
        if skew.abs() > MAX_SKEW_SECS {
            return Err(AuthError::Stale(skew));
        }
        let mut seen = self.seen.lock().unwrap();
        seen.retain(|_, forget_at| *forget_at >= now);
        if seen
            .insert(
                (headers.key, headers.nonce),
                headers.time + 2 * MAX_SKEW_SECS,
            )
            .is_some()
        {
            return Err(AuthError::Replayed);
        }
        Ok(headers.key)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_member_request_passes_once_and_every_forgery_is_refused_by_name() {
        let member = Keypair::new();
        let outsider = Keypair::new();
        let is_member = |k: &Pubkey| *k == member.pubkey();
        let auth = PeerAuth::default();
        let body = br#"{"job":"x"}"#;
        let good = PeerHeaders::sign(&member, "/v1/peer/cosign", body, 1_000, 7);
        assert_eq!(
            auth.verify(&good, "/v1/peer/cosign", body, 1_005, is_member),
            Ok(member.pubkey())
        );
        assert_eq!(
            auth.verify(&good, "/v1/peer/cosign", body, 1_006, is_member),
            Err(AuthError::Replayed)
        );

        let other_body = PeerHeaders::sign(&member, "/v1/peer/cosign", body, 1_000, 8);
        assert_eq!(
            auth.verify(
                &other_body,
                "/v1/peer/cosign",
                br#"{"job":"y"}"#,
                1_000,
                is_member
            ),
            Err(AuthError::BadSignature)
        );
        assert_eq!(
            auth.verify(&other_body, "/v1/peer/input", body, 1_000, is_member),
            Err(AuthError::BadSignature),
            "path is signed"
        );

        let mut wrong_key = PeerHeaders::sign(&outsider, "/v1/peer/cosign", body, 1_000, 9);
        wrong_key.key = member.pubkey();
        assert_eq!(
            auth.verify(&wrong_key, "/v1/peer/cosign", body, 1_000, is_member),
            Err(AuthError::BadSignature),
            "signed by another key"
        );

        let outsider_req = PeerHeaders::sign(&outsider, "/v1/peer/cosign", body, 1_000, 10);
        assert_eq!(
            auth.verify(&outsider_req, "/v1/peer/cosign", body, 1_000, is_member),
            Err(AuthError::NotAMember(outsider.pubkey().to_string()))
        );

        let old = PeerHeaders::sign(&member, "/v1/peer/cosign", body, 1_000, 11);
        assert_eq!(
            auth.verify(
                &old,
                "/v1/peer/cosign",
                body,
                1_000 + MAX_SKEW_SECS + 1,
                is_member
            ),
            Err(AuthError::Stale(-MAX_SKEW_SECS - 1))
        );
    }

    #[test]
    fn headers_round_trip_and_bad_ones_are_named() {
        let key = Keypair::new();
        let h = PeerHeaders::sign(&key, "/p", b"", 5, 6);
        let pairs = h.to_pairs();
        let get = |name: &'static str| {
            pairs
                .iter()
                .find(|(n, _)| *n == name)
                .map(|(_, v)| v.as_str())
        };
        assert_eq!(PeerHeaders::parse(get), Ok(h));
        assert_eq!(
            PeerHeaders::parse(|_| None),
            Err(AuthError::Missing(HEADER_KEY))
        );
        assert_eq!(
            PeerHeaders::parse(|n| if n == HEADER_KEY {
                Some("nope")
            } else {
                Some("1")
            }),
            Err(AuthError::Malformed(HEADER_KEY))
        );
    }
}
