//! Who signs the committee's attestations. A keeper asks an [`Attester`]
//! for a quorum of signatures over a message; [`LocalQuorum`] signs with
//! keys held in this process (a keeper's own validator key, or a test
//! network's whole local quorum); [`CommitteeAttester`] is a committee
//! member's keeper gathering its peers' signatures over authenticated HTTP.

use std::collections::HashMap;
use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;

use anchor_lang::prelude::Pubkey;
use solana_sdk::signature::{Keypair, Signature};
use solana_sdk::signer::Signer;
use tokio::sync::mpsc;
use tokio::task::JoinSet;
use verdict::state::Committee;
use verdict_sdk::attest::{sign, MemberSignature};

use crate::core::cosign::{Claim, CosignRequest};
use crate::peer::{PeerClient, PeerError};

pub use crate::error::AttestError;

/// One request for signatures: the message and the claim it was built from
/// (peers re-check the claim and sign the message they rebuild from it).
pub struct AttestRequest<'a> {
    pub message: &'a [u8],
    pub claim: &'a Claim,
}

pub type AttestFuture<'a> =
    Pin<Box<dyn Future<Output = Result<Vec<MemberSignature>, AttestError>> + Send + 'a>>;

pub trait Attester: Send + Sync {
    /// At least `committee.quorum` signatures of distinct members over the message.
    fn attest<'a>(
        &'a self,
        request: AttestRequest<'a>,
        committee: &'a Committee,
    ) -> AttestFuture<'a>;
}

/// Signs with the member keys it holds, as many as the quorum needs.
pub struct LocalQuorum {
    keys: Vec<Keypair>,
}

impl LocalQuorum {
    pub fn new(keys: Vec<Keypair>) -> Self {
        LocalQuorum { keys }
    }

    pub fn sign_now(
        &self,
        message: &[u8],
        committee: &Committee,
    ) -> Result<Vec<MemberSignature>, AttestError> {
        self.sign_excluding(message, committee, None)
    }

    /// As [`LocalQuorum::sign_now`], without the member whose node is
    /// `excluded` (a job's miner may not co-sign its own outcome).
    pub fn sign_excluding(
        &self,
        message: &[u8],
        committee: &Committee,
        excluded: Option<Pubkey>,
    ) -> Result<Vec<MemberSignature>, AttestError> {
        let need = committee.quorum as usize;
        let signatures: Vec<MemberSignature> = self
            .keys
            .iter()
            .filter(|k| {
                committee
                    .index_of_key(&k.pubkey())
                    .is_some_and(|i| Some(committee.members()[i]) != excluded)
            })
            .take(need)
            .map(|k| sign(k, message))
            .collect();
        if signatures.len() < need {
            return Err(AttestError::NoQuorum {
                have: signatures.len(),
                need,
                epoch: committee.epoch,
                refused: 0,
                unreachable: 0,
                reasons: vec![],
            });
        }
        Ok(signatures)
    }
}

impl Attester for LocalQuorum {
    fn attest<'a>(
        &'a self,
        request: AttestRequest<'a>,
        committee: &'a Committee,
    ) -> AttestFuture<'a> {
        Box::pin(async move {
            self.sign_excluding(request.message, committee, request.claim.completing_miner())
        })
    }
}

/// A member that did not answer a co-sign request before the deadline.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Missed {
    /// The member's Node account.
    pub validator: Pubkey,
    pub job: Pubkey,
}

/// A committee member's keeper: signs with its own key and asks the other
/// members' keepers to co-sign over authenticated HTTP, in parallel. Returns
/// as soon as a quorum of valid signatures is in; members that let the
/// deadline pass are reported on `missed` (for the −5 timeout report).
pub struct CommitteeAttester {
    me: Arc<Keypair>,
    /// Member Node account -> its keeper's base URL.
    peers: HashMap<Pubkey, String>,
    client: PeerClient,
    missed: mpsc::UnboundedSender<Missed>,
    /// How long a member may take to co-sign.
    deadline: CosignDeadline,
}

/// How long a member may take to co-sign a claim: `base`, plus, for a claim
/// over a generation, the time of the reruns its checks may make (up to
/// [`CosignDeadline::RERUNS`] generations of the job's `max_tokens` at
/// `ms_per_token`). A member still checking is not a member that missed
/// its deadline.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct CosignDeadline {
    pub base: std::time::Duration,
    pub ms_per_token: u32,
}

impl CosignDeadline {
    /// A co-signer's high-risk check asks up to three miners for a rerun.
    pub const RERUNS: u32 = 3;

    pub fn for_claim(&self, claim: &Claim) -> std::time::Duration {
        let tokens = match claim {
            Claim::Job { evidence, .. } => evidence
                .input
                .as_deref()
                .and_then(|input| verdict_wire::generation::GenerationInput::parse(input).ok())
                .map_or(0, |g| g.max_tokens),
            _ => 0,
        };
        self.base
            + std::time::Duration::from_millis(
                u64::from(Self::RERUNS) * u64::from(tokens) * u64::from(self.ms_per_token),
            )
    }
}

impl CommitteeAttester {
    pub fn new(
        me: Arc<Keypair>,
        peers: HashMap<Pubkey, String>,
        client: PeerClient,
        missed: mpsc::UnboundedSender<Missed>,
        deadline: CosignDeadline,
    ) -> Self {
        CommitteeAttester {
            me,
            peers,
            client,
            missed,
            deadline,
        }
    }

    pub fn peer_url(&self, node: &Pubkey) -> Option<&str> {
        self.peers.get(node).map(String::as_str)
    }

    async fn gather(
        &self,
        request: AttestRequest<'_>,
        committee: &Committee,
    ) -> Result<Vec<MemberSignature>, AttestError> {
        let need = committee.quorum as usize;
        let mut signatures = Vec::with_capacity(need);
        // The job's miner (a node that is also a validator) does not co-sign its own outcome.
        let excluded = request.claim.completing_miner();
        if committee
            .index_of_key(&self.me.pubkey())
            .is_some_and(|i| Some(committee.members()[i]) != excluded)
        {
            signatures.push(sign(&self.me, request.message));
        }
        let body = Arc::new(CosignRequest {
            epoch: committee.epoch,
            claim: request.claim.clone(),
        });
        let deadline = self.deadline.for_claim(request.claim);
        let mut asks = JoinSet::new();
        for (i, (node, key)) in committee
            .members()
            .iter()
            .zip(committee.signing_keys())
            .enumerate()
        {
            if *key == self.me.pubkey() || Some(*node) == excluded {
                continue;
            }
            let Some(url) = self.peers.get(node).cloned() else {
                continue;
            };
            let (client, body, node, key) = (self.client.clone(), body.clone(), *node, *key);
            asks.spawn(async move { (i, node, key, client.cosign(&url, &body, deadline).await) });
        }
        let (mut refused, mut unreachable, mut reasons) = (0, 0, Vec::new());
        while signatures.len() < need {
            let Some(joined) = asks.join_next().await else {
                break;
            };
            let Ok((_, node, key, answer)) = joined else {
                continue;
            };
            match answer {
                Ok(s)
                    if s.signing_key == key
                        && Signature::from(s.signature).verify(key.as_ref(), request.message) =>
                {
                    signatures.push(s)
                }
                Ok(_) => {
                    refused += 1;
                    reasons.push(format!("{node}: a signature that does not verify"));
                }
                Err(PeerError::Refused(why)) => {
                    refused += 1;
                    reasons.push(format!("{node}: {why}"));
                }
                Err(PeerError::Unreachable(e)) => {
                    unreachable += 1;
                    self.report_missed(node, request.claim);
                    tracing::debug!(%node, error = %e, "member did not answer");
                }
                Err(e) => {
                    unreachable += 1;
                    reasons.push(format!("{node}: {e}"));
                }
            }
        }
        if signatures.len() < need {
            return Err(AttestError::NoQuorum {
                have: signatures.len(),
                need,
                epoch: committee.epoch,
                refused,
                unreachable,
                reasons,
            });
        }
        // Quorum: the stragglers get until their deadline, then are reported.
        let (missed, claim) = (self.missed.clone(), request.claim.clone());
        tokio::spawn(async move {
            while let Some(joined) = asks.join_next().await {
                if let Ok((_, node, _, Err(PeerError::Unreachable(_)))) = joined {
                    if let Claim::Job { job, .. } = claim {
                        let _ = missed.send(Missed {
                            validator: node,
                            job,
                        });
                    }
                }
            }
        });
        Ok(signatures)
    }

    fn report_missed(&self, validator: Pubkey, claim: &Claim) {
        if let Claim::Job { job, .. } = claim {
            let _ = self.missed.send(Missed {
                validator,
                job: *job,
            });
        }
    }
}

impl Attester for CommitteeAttester {
    fn attest<'a>(
        &'a self,
        request: AttestRequest<'a>,
        committee: &'a Committee,
    ) -> AttestFuture<'a> {
        Box::pin(self.gather(request, committee))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use anchor_lang::prelude::Pubkey;

    fn committee(keys: &[&Keypair], quorum: u8) -> Committee {
        let mut signing_keys = [Pubkey::default(); 8];
        for (i, k) in keys.iter().enumerate() {
            signing_keys[i] = k.pubkey();
        }
        // Zeroed like a fresh account: strategy Random, no draw.
        let mut committee = Committee::default();
        committee.epoch = 7;
        committee.size = keys.len() as u8;
        committee.quorum = quorum;
        committee.members = [Pubkey::new_unique(); 8];
        committee.signing_keys = signing_keys;
        committee
    }

    #[test]
    fn a_claim_over_a_generation_gives_members_time_for_their_reruns() {
        let deadline = CosignDeadline {
            base: std::time::Duration::from_secs(5),
            ms_per_token: 100,
        };
        let claim = |input: Option<String>| Claim::Job {
            job: Pubkey::new_unique(),
            intent: crate::core::lifecycle::Intent::Expire,
            evidence: crate::core::cosign::Evidence {
                input,
                response: None,
                response_ms: 0,
                bid: None,
            },
        };
        let generation = verdict_wire::generation::GenerationInput::greedy("hi", 20).to_input();
        assert_eq!(
            deadline.for_claim(&claim(Some(generation))),
            std::time::Duration::from_millis(5_000 + 3 * 20 * 100)
        );
        assert_eq!(
            deadline.for_claim(&claim(Some("A sentence.".into()))),
            std::time::Duration::from_secs(5)
        );
        assert_eq!(
            deadline.for_claim(&claim(None)),
            std::time::Duration::from_secs(5)
        );
    }

    #[test]
    fn signs_with_exactly_a_quorum_of_members_and_ignores_outsiders() {
        let members: Vec<Keypair> = (0..5).map(|_| Keypair::new()).collect();
        let outsider = Keypair::new();
        let c = committee(&members.iter().collect::<Vec<_>>(), 3);
        let mut keys = vec![outsider.insecure_clone()];
        keys.extend(members.iter().map(|k| k.insecure_clone()));
        let sigs = LocalQuorum::new(keys).sign_now(b"message", &c).unwrap();
        assert_eq!(sigs.len(), 3);
        assert!(sigs.iter().all(|s| s.signing_key != outsider.pubkey()));

        // A member whose node is the job's miner does not co-sign its outcome.
        let mut c = c;
        for i in 0..5 {
            c.members[i] = Pubkey::new_unique();
        }
        let miner = c.members[0];
        let all = LocalQuorum::new(members.iter().map(|k| k.insecure_clone()).collect());
        let sigs = all.sign_excluding(b"message", &c, Some(miner)).unwrap();
        assert_eq!(sigs.len(), 3);
        assert!(sigs.iter().all(|s| s.signing_key != members[0].pubkey()));

        let too_few = LocalQuorum::new(vec![members[0].insecure_clone(), outsider]);
        assert_eq!(
            too_few.sign_now(b"message", &c),
            Err(AttestError::NoQuorum {
                have: 1,
                need: 3,
                epoch: 7,
                refused: 0,
                unreachable: 0,
                reasons: vec![]
            })
        );
    }
}
