//! Program-derived addresses, from the program crate's seeds.

use anchor_lang::prelude::Pubkey;
use verdict::constants::{CONFIG_SEED, DELEGATION_SEED, NODE_SEED, STAKE_VAULT_SEED, UNBOND_SEED};

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

pub fn delegation(node: &Pubkey, staker: &Pubkey) -> Pubkey {
    find(&[DELEGATION_SEED, node.as_ref(), staker.as_ref()])
}

pub fn unbond_ticket(node: &Pubkey, ticket_id: u64) -> Pubkey {
    find(&[UNBOND_SEED, node.as_ref(), &ticket_id.to_le_bytes()])
}

/// ProgramData account of the program when deployed upgradeable.
pub fn program_data() -> Pubkey {
    Pubkey::find_program_address(&[verdict::ID.as_ref()], &anchor_lang::solana_program::bpf_loader_upgradeable::ID).0
}
