//! The keeper's private randomness (rule 10): which solved jobs it re-checks,
//! whether a low-risk dispatch falls in the share reserved for Tier 3 miners
//! (`routing.tier3_reserved_bps`), and which miner a dispatch goes to are
//! drawn from seeds only this keeper can compute. A seed is sha256 of the keeper's
//! own ed25519 signature over a domain-separated message. Ed25519 signatures
//! are deterministic, so a restarted keeper draws the same seeds; nobody
//! without the key can predict them, so a miner cannot tell which of its
//! answers are audited, and a client cannot grind job ids to steer its work
//! to a miner of its choice. The signature itself never leaves the keeper.
//!
//! The pure core takes the seeds as bytes ([`crate::core::disputes::sampled`],
//! [`crate::core::routing::RoutingSnapshot::pick`]); they are computed here,
//! at the edge.

use std::sync::Arc;

use anchor_lang::prelude::Pubkey;
use sha2::{Digest, Sha256};
use solana_sdk::signature::Keypair;
use solana_sdk::signer::Signer;

/// Domain of the re-check sample's seed: `RECHECK_DOMAIN ‖ job`.
pub const RECHECK_DOMAIN: &[u8] = b"verdict-recheck";
/// Domain of a dispatch's routing seed: `ROUTE_DOMAIN ‖ job ‖ attempt`.
pub const ROUTE_DOMAIN: &[u8] = b"verdict-route";

/// Domain of an auction round's id and tie-break seed: `AUCTION_DOMAIN ‖ nonce`.
pub const AUCTION_DOMAIN: &[u8] = b"verdict-auction-round";

/// The key a keeper draws its seeds with: a committee member's validator
/// signing key, or (a keeper alone) the first key of its local quorum.
#[derive(Clone)]
pub struct DrawKey {
    key: Arc<Keypair>,
}

impl DrawKey {
    pub fn new(key: Arc<Keypair>) -> Self {
        DrawKey { key }
    }

    fn seed(&self, message: &[u8]) -> [u8; 32] {
        Sha256::digest(self.key.sign_message(message).as_ref()).into()
    }

    /// Seed of the decision whether this keeper re-checks `job`.
    pub fn recheck_seed(&self, job: &Pubkey) -> [u8; 32] {
        self.seed(&[RECHECK_DOMAIN, job.as_ref()].concat())
    }

    /// An auction round's id (sent to the miners) and its tie-break seed
    /// (kept secret), from a nonce never used before by this key: the id
    /// is fresh, so a bid answers one round; the seed is the hash of a
    /// signature over the id, so knowing the id does not reveal it.
    pub fn auction_round(&self, nonce: &[u8]) -> ([u8; 32], [u8; 32]) {
        let id = self.seed(&[AUCTION_DOMAIN, nonce].concat());
        (id, self.seed(&[AUCTION_DOMAIN, &id].concat()))
    }

    /// Seed of the miner draw for dispatch `attempt` of `job`.
    pub fn route_seed(&self, job: &Pubkey, attempt: u8) -> [u8; 32] {
        self.seed(&[ROUTE_DOMAIN, job.as_ref(), &[attempt]].concat())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::core::disputes::sampled;
    use crate::core::routing::tests::miner;
    use crate::core::routing::{RouteRequest, RoutingSnapshot, RoutingWeights};
    use verdict::state::RiskLevel;

    fn key() -> DrawKey {
        DrawKey::new(Arc::new(Keypair::new()))
    }

    #[test]
    fn seeds_are_stable_for_one_key_and_differ_between_keys() {
        let (a, b) = (key(), key());
        let job = Pubkey::new_unique();
        assert_eq!(
            a.recheck_seed(&job),
            a.recheck_seed(&job),
            "a restart samples the same jobs"
        );
        assert_eq!(
            a.route_seed(&job, 1),
            a.route_seed(&job, 1),
            "and draws the same miners"
        );
        let again = DrawKey::new(Arc::new(a.key.insecure_clone()));
        assert_eq!(
            again.recheck_seed(&job),
            a.recheck_seed(&job),
            "the seed is a function of the key, not of the instance"
        );
        assert_ne!(a.recheck_seed(&job), b.recheck_seed(&job));
        assert_ne!(a.route_seed(&job, 1), b.route_seed(&job, 1));
        assert_ne!(
            a.route_seed(&job, 1),
            a.route_seed(&job, 2),
            "each attempt draws anew"
        );
        assert_ne!(
            a.route_seed(&job, 1),
            a.recheck_seed(&job),
            "the domains are separate"
        );
    }

    /// What a miner or a client could compute before rule 10.
    fn public_seed(job: &Pubkey) -> [u8; 32] {
        Sha256::new()
            .chain_update(RECHECK_DOMAIN)
            .chain_update(job.as_ref())
            .finalize()
            .into()
    }

    #[test]
    fn the_public_function_of_the_job_no_longer_predicts_the_sample() {
        let (a, b) = (key(), key());
        let jobs: Vec<Pubkey> = (0..1_000).map(|_| Pubkey::new_unique()).collect();
        let sample = |seed: &dyn Fn(&Pubkey) -> [u8; 32]| -> Vec<bool> {
            jobs.iter().map(|j| sampled(&seed(j), 1_000)).collect()
        };
        let (mine, other, public) = (
            sample(&|j| a.recheck_seed(j)),
            sample(&|j| b.recheck_seed(j)),
            sample(&public_seed),
        );
        let count = |s: &[bool]| s.iter().filter(|&&x| x).count();
        assert!(
            (50..160).contains(&count(&mine)),
            "about 10% re-checked: {}",
            count(&mine)
        );
        assert_ne!(mine, public, "the job key alone does not give the sample");
        assert_ne!(mine, other, "two keepers sample different jobs");
        // A miner answering honestly only where the public hash says "audited"
        // is caught about as often as one that never guesses at all.
        let predicted = mine.iter().zip(&public).filter(|(m, p)| **m && **p).count();
        assert!(
            predicted * 3 < count(&mine),
            "the public hash finds only chance overlap: {predicted} of {}",
            count(&mine)
        );
    }

    #[test]
    fn two_keepers_route_the_same_job_differently() {
        let weights = RoutingWeights::default();
        let snapshot = RoutingSnapshot::build(
            (1..=3).map(|s| miner(s, 1, 1.0, Some(10.0))).collect(),
            &weights,
            10,
        );
        let request = RouteRequest {
            risk: RiskLevel::Low,
            model: verdict::state::model_id("test-projection-v1").unwrap(),
            realtime: true,
            now: 10,
            exclude: &[],
        };
        let (a, b) = (key(), key());
        let jobs: Vec<Pubkey> = (0..200).map(|_| Pubkey::new_unique()).collect();
        let route = |k: &DrawKey| -> Vec<Pubkey> {
            jobs.iter()
                .map(|j| {
                    snapshot
                        .pick(&request, &weights, &k.route_seed(j, 1))
                        .unwrap()
                        .profile
                        .node
                })
                .collect()
        };
        assert_eq!(route(&a), route(&a), "stable for one key");
        let differ = route(&a)
            .iter()
            .zip(route(&b))
            .filter(|(x, y)| **x != *y)
            .count();
        assert!(
            differ > 50,
            "two keys pick differently for many jobs: {differ} of 200"
        );
    }

    #[test]
    fn a_client_grinding_job_ids_cannot_choose_the_reserved_share() {
        let weights = RoutingWeights::default();
        let low = RouteRequest {
            risk: RiskLevel::Low,
            model: verdict::state::model_id("test-projection-v1").unwrap(),
            realtime: true,
            now: 10,
            exclude: &[],
        };
        let keeper = key();
        // A client that wants its jobs to reach a Tier 3 miner (its own new
        // node) keeps only the job ids whose public hash of the route
        // message falls in the reserved share: all it can compute.
        let public = |job: &Pubkey| -> [u8; 32] {
            Sha256::new()
                .chain_update(ROUTE_DOMAIN)
                .chain_update(job.as_ref())
                .chain_update([1u8])
                .finalize()
                .into()
        };
        let jobs: Vec<Pubkey> = (0..5_000).map(|_| Pubkey::new_unique()).collect();
        let reserved = |seed: &[u8; 32]| RoutingSnapshot::in_reserved_share(&low, &weights, seed);
        let ground: Vec<&Pubkey> = jobs.iter().filter(|j| reserved(&public(j))).collect();
        assert!(
            (800..1_200).contains(&ground.len()),
            "the public hash marks about 20%: {}",
            ground.len()
        );
        // Under the keeper's secret seed the ground ids fare like any others.
        let hits = ground
            .iter()
            .filter(|j| reserved(&keeper.route_seed(j, 1)))
            .count();
        let rate = hits as f64 / ground.len() as f64;
        assert!(
            (0.14..0.26).contains(&rate),
            "ground ids are reserved at the base rate, not at will: {rate:.3}"
        );
        let all = jobs
            .iter()
            .filter(|j| reserved(&keeper.route_seed(j, 1)))
            .count();
        assert!((850..1_150).contains(&all), "20% of every job: {all}");
    }
}
