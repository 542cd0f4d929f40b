//! Program-derived addresses, from the program crate's seeds.

use anchor_lang::prelude::Pubkey;
use verdict::constants::{
    COMMITTEE_SEED, CONFIG_SEED, DELEGATION_SEED, DISPUTE_SEED, ENDPOINT_SEED, ESCROW_SEED,
    JOB_SEED, NODE_SEED, NODE_VAULT_SEED, SLASH_SEED, STAKE_VAULT_SEED, TIMEOUT_REPORT_SEED,
    UNBOND_SEED, VOTE_SEED,
};

fn find(seeds: &[&[u8]]) -> Pubkey {
    Pubkey::find_program_address(seeds, &verdict::ID).0
}

pub fn config() -> Pubkey {
    find(&[CONFIG_SEED])
}

pub fn stake_vault() -> Pubkey {
    find(&[STAKE_VAULT_SEED])
}

pub fn node(operator: &Pubkey) -> Pubkey {
    find(&[NODE_SEED, operator.as_ref()])
}

/// Where `node` records its service endpoint.
pub fn endpoint(node: &Pubkey) -> Pubkey {
    find(&[ENDPOINT_SEED, node.as_ref()])
}

pub fn delegation(node: &Pubkey, staker: &Pubkey) -> Pubkey {
    find(&[DELEGATION_SEED, node.as_ref(), staker.as_ref()])
}

pub fn unbond_ticket(node: &Pubkey, ticket_id: u64) -> Pubkey {
    find(&[UNBOND_SEED, node.as_ref(), &ticket_id.to_le_bytes()])
}

pub fn committee() -> Pubkey {
    find(&[COMMITTEE_SEED])
}

pub fn node_vault(node: &Pubkey) -> Pubkey {
    find(&[NODE_VAULT_SEED, node.as_ref()])
}

pub fn job(client: &Pubkey, job_id: u64) -> Pubkey {
    find(&[JOB_SEED, client.as_ref(), &job_id.to_le_bytes()])
}

pub fn escrow(job: &Pubkey) -> Pubkey {
    find(&[ESCROW_SEED, job.as_ref()])
}

pub fn timeout_report(validator: &Pubkey, job: &Pubkey) -> Pubkey {
    find(&[TIMEOUT_REPORT_SEED, validator.as_ref(), job.as_ref()])
}

pub fn dispute(job: &Pubkey) -> Pubkey {
    find(&[DISPUTE_SEED, job.as_ref()])
}

pub fn vote(dispute: &Pubkey, voter_node: &Pubkey) -> Pubkey {
    find(&[VOTE_SEED, dispute.as_ref(), voter_node.as_ref()])
}

pub fn slash_record(node: &Pubkey, evidence_hash: &[u8; 32]) -> Pubkey {
    find(&[SLASH_SEED, node.as_ref(), evidence_hash.as_ref()])
}

/// ProgramData account of the program when deployed upgradeable.
pub fn program_data() -> Pubkey {
    Pubkey::find_program_address(
        &[verdict::ID.as_ref()],
        &anchor_lang::solana_program::bpf_loader_upgradeable::ID,
    )
    .0
}
