//! The singleton Config: authority, stake mint and vault, parameters, the
//! slashing table, and the totals the stake vault must always equal.

use anchor_lang::prelude::*;

use super::{ProtocolParams, SlashingTable};
use crate::errors::VerdictError;
use crate::math::{add, sub};

/// Zero-copy: nearly every instruction reads the parameters, and loading
/// them in place costs nothing per byte (see `docs/compute-units.md`).
/// Widest fields first, no padding; `paused` is a byte behind `is_paused()`.
#[account(zero_copy)]
#[derive(Debug, PartialEq, Eq)]
pub struct Config {
    pub authority: Pubkey,
    /// Proposed next authority (`Pubkey::default()` when none).
    pub pending_authority: Pubkey,
    pub stake_mint: Pubkey,
    pub stake_vault: Pubkey,
    pub totals: StakeTotals,
    /// Nodes registered and not closed.
    pub nodes_registered: u64,
    /// Nodes whose active self stake meets the minimum of their roles.
    pub active_nodes: u64,
    /// Validators among the active nodes.
    pub active_validators: u64,
    pub params: ProtocolParams,
    pub slashing: SlashingTable,
    pub bump: u8,
    pub vault_bump: u8,
    /// 1 while paused; read it through `is_paused()`.
    paused: u8,
    reserved: [u8; 3],
}

super::zero_copy_account!(Config);

/// What the stake vault holds, by purpose. The vault's token balance equals
/// their sum after every instruction (checked by the test suite).
#[zero_copy]
#[derive(Debug, Default, PartialEq, Eq)]
pub struct StakeTotals {
    /// Sum of every node's active self stake.
    pub self_stake: u64,
    /// Sum of every node's delegation pool.
    pub delegated: u64,
    /// Sum of every node's unbonding pool.
    pub unbonding: u64,
    /// Slashed tokens, rounding dust and forfeits, paid out as reward boosts.
    pub reward_pool: u64,
    /// Held for disputes: open bonds and deposits, dispute pools, and the
    /// refund reserves of liquidated nodes.
    pub disputes: u64,
}

impl StakeTotals {
    /// Moves `amount` held for disputes to the reward pool: a refund
    /// reserve no longer needed, a dissenter's stake, forfeited deposits, a
    /// pool nobody can claim.
    pub fn disputes_to_reward_pool(&mut self, amount: u64) -> Result<()> {
        self.disputes = crate::math::sub(self.disputes, amount)?;
        self.reward_pool = crate::math::add(self.reward_pool, amount)?;
        Ok(())
    }

    /// Tokens the stake vault must hold.
    pub fn vault_total(&self) -> Option<u64> {
        self.self_stake
            .checked_add(self.delegated)?
            .checked_add(self.unbonding)?
            .checked_add(self.reward_pool)?
            .checked_add(self.disputes)
    }
}

impl Config {
    pub fn is_paused(&self) -> bool {
        self.paused != 0
    }

    pub fn set_paused(&mut self, paused: bool) {
        self.paused = paused as u8;
    }

    pub fn require_not_paused(&self) -> Result<()> {
        require!(!self.is_paused(), VerdictError::Paused);
        Ok(())
    }

    /// What the Config PDA signs the stake vault's transfers with.
    pub const SIGNER_SEEDS: [&'static [u8]; 2] = [
        crate::constants::CONFIG_SEED,
        &[crate::constants::CONFIG_BUMP],
    ];

    /// Books a node's change of activity (stake or roles moved) in the
    /// active-node counters.
    pub fn record_activity(&mut self, before: Activity, after: Activity) -> Result<()> {
        self.active_nodes = shift(self.active_nodes, before.active, after.active)?;
        self.active_validators = shift(
            self.active_validators,
            before.active_validator(),
            after.active_validator(),
        )?;
        Ok(())
    }
}

/// Whether a node counts as active, and as an active validator.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Activity {
    pub active: bool,
    pub validator: bool,
}

impl Activity {
    pub fn active_validator(&self) -> bool {
        self.active && self.validator
    }
}

fn shift(count: u64, before: bool, after: bool) -> Result<u64> {
    match (before, after) {
        (false, true) => add(count, 1),
        (true, false) => sub(count, 1),
        _ => Ok(count),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn layout_is_fixed() {
        assert_eq!(std::mem::size_of::<Config>(), 392);
        assert_eq!(Config::SPACE, 400);
        assert_eq!(std::mem::offset_of!(Config, totals), 128);
        assert_eq!(std::mem::offset_of!(Config, params), 192);
        assert_eq!(std::mem::offset_of!(Config, slashing), 376);
        assert_eq!(std::mem::offset_of!(Config, bump), 386);
        assert_eq!(std::mem::size_of::<ProtocolParams>(), 184);
    }

    /// The parameters travel as instruction arguments (Borsh) and sit in
    /// the account as bytes: both encodings are the same, so a client
    /// decodes either with one layout.
    #[test]
    fn borsh_encoding_is_the_stored_bytes() {
        let params = ProtocolParams {
            selection_strategy: super::super::SelectionStrategy::Weighted as u8,
            ..ProtocolParams::default()
        };
        let encoded = anchor_lang::prelude::borsh::to_vec(&params).unwrap();
        assert_eq!(encoded, bytemuck::bytes_of(&params));
        let slashing = SlashingTable::default();
        assert_eq!(
            anchor_lang::prelude::borsh::to_vec(&slashing).unwrap(),
            bytemuck::bytes_of(&slashing)
        );
        let mut config = Config::default();
        config.set_paused(true);
        assert!(config.is_paused());
        config.params = params;
        assert_eq!(
            config.params.strategy(),
            super::super::SelectionStrategy::Weighted
        );
    }
}
