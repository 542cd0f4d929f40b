//! Who signs the committee's attestations. A keeper asks an [`Attester`]
//! for a quorum of signatures over a message; [`LocalQuorum`] signs with
//! keys held in this process (a keeper's own validator key, or a test
//! network's whole local quorum). A networked signer gathering peers'
//! signatures over HTTP replaces it behind the same trait.

use std::future::Future;
use std::pin::Pin;

use solana_sdk::signature::Keypair;
use solana_sdk::signer::Signer;
use verdict::state::Committee;
use verdict_sdk::attest::{sign, MemberSignature};

#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum AttestError {
    #[error("only {have} of the {need} committee signatures needed are available (epoch {epoch})")]
    NoQuorum { have: usize, need: usize, epoch: u64 },
}

pub type AttestFuture<'a> = Pin<Box<dyn Future<Output = Result<Vec<MemberSignature>, AttestError>> + Send + 'a>>;

pub trait Attester: Send + Sync {
    /// At least `committee.quorum` signatures of distinct members over `message`.
    fn attest<'a>(&'a self, message: &'a [u8], committee: &'a Committee) -> AttestFuture<'a>;
}

/// Signs with the member keys it holds, as many as the quorum needs.
pub struct LocalQuorum {
    keys: Vec<Keypair>,
}

impl LocalQuorum {
    pub fn new(keys: Vec<Keypair>) -> Self {
        LocalQuorum { keys }
    }

    pub fn sign_now(&self, message: &[u8], committee: &Committee) -> Result<Vec<MemberSignature>, AttestError> {
        let need = committee.quorum as usize;
        let signatures: Vec<MemberSignature> = self
            .keys
            .iter()
            .filter(|k| committee.index_of_key(&k.pubkey()).is_some())
            .take(need)
            .map(|k| sign(k, message))
            .collect();
        if signatures.len() < need {
            return Err(AttestError::NoQuorum { have: signatures.len(), need, epoch: committee.epoch });
        }
        Ok(signatures)
    }
}

impl Attester for LocalQuorum {
    fn attest<'a>(&'a self, message: &'a [u8], committee: &'a Committee) -> AttestFuture<'a> {
        Box::pin(async move { self.sign_now(message, committee) })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use anchor_lang::prelude::Pubkey;
    use verdict::state::SelectionStrategy;

    fn committee(keys: &[&Keypair], quorum: u8) -> Committee {
        let mut signing_keys = [Pubkey::default(); 8];
        for (i, k) in keys.iter().enumerate() {
            signing_keys[i] = k.pubkey();
        }
        Committee {
            epoch: 7,
            size: keys.len() as u8,
            quorum,
            members: [Pubkey::new_unique(); 8],
            signing_keys,
            rotated_at: 0,
            strategy: SelectionStrategy::Random,
            seed: [0; 32],
            bump: 0,
        }
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

        let too_few = LocalQuorum::new(vec![members[0].insecure_clone(), outsider]);
        assert_eq!(too_few.sign_now(b"message", &c), Err(AttestError::NoQuorum { have: 1, need: 3, epoch: 7 }));
    }
}
