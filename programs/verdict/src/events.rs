//! Events for every state change clients care about, and the one way to emit them.

use anchor_lang::prelude::*;

use crate::state::{ProtocolParams, SlashingTable, TicketKind};

/// Logs `event` as `Program data: <base64>`, the line Anchor clients parse.
/// On the host (native tests, the embedded chain) Anchor's `sol_log_data`
/// is a no-op and `msg!` prints to stdout, so the same line goes through the
/// runtime's syscall stubs into the transaction log: clients read one format
/// in both worlds.
pub fn emit_event<E: anchor_lang::Event>(event: &E) {
    let data = event.data();
    #[cfg(target_os = "solana")]
    anchor_lang::solana_program::log::sol_log_data(&[&data]);
    #[cfg(not(target_os = "solana"))]
    {
        use base64::Engine;
        let line = format!("Program data: {}", base64::engine::general_purpose::STANDARD.encode(&data));
        anchor_lang::compat::solana_sysvar::program_stubs::sol_log(&line);
    }
}

#[event]
#[derive(Debug, Clone, PartialEq)]
pub struct ConfigInitialized {
    pub authority: Pubkey,
    pub stake_mint: Pubkey,
    pub stake_vault: Pubkey,
}

#[event]
#[derive(Debug, Clone, PartialEq)]
pub struct ConfigUpdated {
    pub params: ProtocolParams,
    pub slashing: SlashingTable,
}

#[event]
#[derive(Debug, Clone, PartialEq)]
pub struct PausedSet {
    pub paused: bool,
}

#[event]
#[derive(Debug, Clone, PartialEq)]
pub struct AuthorityProposed {
    pub authority: Pubkey,
    pub proposed: Pubkey,
}

#[event]
#[derive(Debug, Clone, PartialEq)]
pub struct AuthorityAccepted {
    pub previous: Pubkey,
    pub authority: Pubkey,
}

#[event]
#[derive(Debug, Clone, PartialEq)]
pub struct NodeRegistered {
    pub node: Pubkey,
    pub operator: Pubkey,
    pub signing_key: Pubkey,
    pub roles: u8,
    pub commission_bps: u16,
}

#[event]
#[derive(Debug, Clone, PartialEq)]
pub struct NodeUpdated {
    pub node: Pubkey,
    pub roles: u8,
    pub commission_bps: u16,
    pub model_count: u8,
}

#[event]
#[derive(Debug, Clone, PartialEq)]
pub struct SigningKeyRotated {
    pub node: Pubkey,
    pub previous: Pubkey,
    pub signing_key: Pubkey,
}

#[event]
#[derive(Debug, Clone, PartialEq)]
pub struct Staked {
    pub node: Pubkey,
    pub amount: u64,
    pub self_stake: u64,
    pub active: bool,
}

#[event]
#[derive(Debug, Clone, PartialEq)]
pub struct UnbondingQueued {
    pub node: Pubkey,
    pub ticket: Pubkey,
    pub owner: Pubkey,
    pub kind: TicketKind,
    pub amount: u64,
    pub shares: u64,
    pub release_at: i64,
}

#[event]
#[derive(Debug, Clone, PartialEq)]
pub struct UnbondingWithdrawn {
    pub node: Pubkey,
    pub ticket: Pubkey,
    pub owner: Pubkey,
    pub kind: TicketKind,
    /// Tokens paid out (below the requested amount if slashed meanwhile).
    pub amount: u64,
}

#[event]
#[derive(Debug, Clone, PartialEq)]
pub struct Delegated {
    pub node: Pubkey,
    pub staker: Pubkey,
    pub amount: u64,
    pub shares: u64,
    pub pool_amount: u64,
    pub pool_shares: u64,
}

#[event]
#[derive(Debug, Clone, PartialEq)]
pub struct NodeClosed {
    pub node: Pubkey,
    pub operator: Pubkey,
}
