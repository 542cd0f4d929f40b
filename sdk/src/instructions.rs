//! One builder per program instruction. Each derives every PDA itself and
//! takes only what the caller chooses (signers, token accounts, amounts).

use anchor_lang::prelude::{AccountMeta, Pubkey};
use anchor_lang::solana_program::instruction::Instruction;
use anchor_lang::{Discriminator, InstructionData, ToAccountMetas};
use verdict::accounts as acc;
use verdict::instruction as ix;
use verdict::state::{ModelId, ProtocolParams, SlashingTable};
use verdict::{RegisterNodeArgs, UpdateNodeArgs};

use crate::pda;

const TOKEN_PROGRAM: Pubkey = anchor_spl::token::ID;
const SYSTEM_PROGRAM: Pubkey = anchor_lang::system_program::ID;

fn build(accounts: impl ToAccountMetas, data: impl InstructionData) -> Instruction {
    Instruction { program_id: verdict::ID, accounts: accounts.to_account_metas(None), data: data.data() }
}

/// `program_data` is the program's ProgramData account when it is deployed
/// upgradeable ([`pda::program_data`]); `None` otherwise.
pub fn initialize_config(
    authority: &Pubkey,
    stake_mint: &Pubkey,
    program_data: Option<Pubkey>,
    params: ProtocolParams,
    slashing: SlashingTable,
) -> Instruction {
    build(
        acc::InitializeConfig {
            authority: *authority,
            config: pda::config(),
            stake_mint: *stake_mint,
            stake_vault: pda::stake_vault(),
            program: verdict::ID,
            program_data,
            token_program: TOKEN_PROGRAM,
            system_program: SYSTEM_PROGRAM,
        },
        ix::InitializeConfig { params, slashing },
    )
}

pub fn update_config(authority: &Pubkey, params: ProtocolParams, slashing: SlashingTable) -> Instruction {
    build(acc::UpdateConfig { authority: *authority, config: pda::config() }, ix::UpdateConfig { params, slashing })
}

pub fn set_paused(authority: &Pubkey, paused: bool) -> Instruction {
    build(acc::SetPaused { authority: *authority, config: pda::config() }, ix::SetPaused { paused })
}

pub fn propose_authority(authority: &Pubkey, proposed: &Pubkey) -> Instruction {
    build(
        acc::ProposeAuthority { authority: *authority, config: pda::config() },
        ix::ProposeAuthority { proposed: *proposed },
    )
}

pub fn accept_authority(new_authority: &Pubkey) -> Instruction {
    build(acc::AcceptAuthority { new_authority: *new_authority, config: pda::config() }, ix::AcceptAuthority {})
}

pub fn register_node(
    operator: &Pubkey,
    signing_key: &Pubkey,
    roles: u8,
    models: Vec<ModelId>,
    commission_bps: u16,
) -> Instruction {
    build(
        acc::RegisterNode {
            operator: *operator,
            signing_key: *signing_key,
            config: pda::config(),
            node: pda::node(operator),
            system_program: SYSTEM_PROGRAM,
        },
        ix::RegisterNode { args: RegisterNodeArgs { roles, models, commission_bps } },
    )
}

pub fn update_node(operator: &Pubkey, roles: u8, models: Vec<ModelId>, commission_bps: u16) -> Instruction {
    build(
        acc::UpdateNode { operator: *operator, config: pda::config(), node: pda::node(operator) },
        ix::UpdateNode { args: UpdateNodeArgs { roles, models, commission_bps } },
    )
}

pub fn rotate_signing_key(operator: &Pubkey, new_signing_key: &Pubkey) -> Instruction {
    build(
        acc::RotateSigningKey {
            operator: *operator,
            new_signing_key: *new_signing_key,
            node: pda::node(operator),
        },
        ix::RotateSigningKey {},
    )
}

pub fn close_node(operator: &Pubkey) -> Instruction {
    build(
        acc::CloseNode { operator: *operator, config: pda::config(), node: pda::node(operator) },
        ix::CloseNode {},
    )
}

pub fn stake(operator: &Pubkey, operator_tokens: &Pubkey, amount: u64) -> Instruction {
    build(
        acc::Stake {
            operator: *operator,
            config: pda::config(),
            node: pda::node(operator),
            operator_tokens: *operator_tokens,
            stake_vault: pda::stake_vault(),
            token_program: TOKEN_PROGRAM,
        },
        ix::Stake { amount },
    )
}

/// `ticket_id` is the node's current `next_ticket_id`.
pub fn request_unstake(operator: &Pubkey, ticket_id: u64, amount: u64) -> Instruction {
    let node = pda::node(operator);
    build(
        acc::RequestUnstake {
            operator: *operator,
            config: pda::config(),
            node,
            ticket: pda::unbond_ticket(&node, ticket_id),
            system_program: SYSTEM_PROGRAM,
        },
        ix::RequestUnstake { amount },
    )
}

fn withdraw_accounts(owner: &Pubkey, node: &Pubkey, ticket: &Pubkey, destination: &Pubkey) -> acc::WithdrawUnbonded {
    acc::WithdrawUnbonded {
        owner: *owner,
        config: pda::config(),
        node: *node,
        ticket: *ticket,
        destination: *destination,
        stake_vault: pda::stake_vault(),
        token_program: TOKEN_PROGRAM,
    }
}

pub fn withdraw_unbonded(owner: &Pubkey, node: &Pubkey, ticket: &Pubkey, destination: &Pubkey) -> Instruction {
    build(withdraw_accounts(owner, node, ticket, destination), ix::WithdrawUnbonded {})
}

pub fn delegate(staker: &Pubkey, node: &Pubkey, staker_tokens: &Pubkey, amount: u64) -> Instruction {
    build(
        acc::Delegate {
            staker: *staker,
            config: pda::config(),
            node: *node,
            delegation: pda::delegation(node, staker),
            staker_tokens: *staker_tokens,
            stake_vault: pda::stake_vault(),
            token_program: TOKEN_PROGRAM,
            system_program: SYSTEM_PROGRAM,
        },
        ix::Delegate { amount },
    )
}

/// `ticket_id` is the node's current `next_ticket_id`.
pub fn request_undelegate(staker: &Pubkey, node: &Pubkey, ticket_id: u64, shares: u64) -> Instruction {
    build(
        acc::RequestUndelegate {
            staker: *staker,
            config: pda::config(),
            node: *node,
            delegation: pda::delegation(node, staker),
            ticket: pda::unbond_ticket(node, ticket_id),
            system_program: SYSTEM_PROGRAM,
        },
        ix::RequestUndelegate { shares },
    )
}

pub fn withdraw_undelegated(owner: &Pubkey, node: &Pubkey, ticket: &Pubkey, destination: &Pubkey) -> Instruction {
    build(withdraw_accounts(owner, node, ticket, destination), ix::WithdrawUndelegated {})
}

/// Name of the Verdict instruction encoded in `data`, from its discriminator.
pub fn instruction_name(data: &[u8]) -> Option<&'static str> {
    const NAMES: &[(&[u8], &str)] = &[
        (ix::InitializeConfig::DISCRIMINATOR, "initialize_config"),
        (ix::UpdateConfig::DISCRIMINATOR, "update_config"),
        (ix::SetPaused::DISCRIMINATOR, "set_paused"),
        (ix::ProposeAuthority::DISCRIMINATOR, "propose_authority"),
        (ix::AcceptAuthority::DISCRIMINATOR, "accept_authority"),
        (ix::RegisterNode::DISCRIMINATOR, "register_node"),
        (ix::UpdateNode::DISCRIMINATOR, "update_node"),
        (ix::RotateSigningKey::DISCRIMINATOR, "rotate_signing_key"),
        (ix::CloseNode::DISCRIMINATOR, "close_node"),
        (ix::Stake::DISCRIMINATOR, "stake"),
        (ix::RequestUnstake::DISCRIMINATOR, "request_unstake"),
        (ix::WithdrawUnbonded::DISCRIMINATOR, "withdraw_unbonded"),
        (ix::Delegate::DISCRIMINATOR, "delegate"),
        (ix::RequestUndelegate::DISCRIMINATOR, "request_undelegate"),
        (ix::WithdrawUndelegated::DISCRIMINATOR, "withdraw_undelegated"),
    ];
    NAMES.iter().find(|(d, _)| data.starts_with(d)).map(|(_, n)| *n)
}

/// Replaces every occurrence of account `from` in `ix` by `to` (handy for
/// tests that feed the program a wrong account).
pub fn replace_account(mut ix: Instruction, from: &Pubkey, to: &Pubkey) -> Instruction {
    for meta in ix.accounts.iter_mut().filter(|m| m.pubkey == *from) {
        *meta = AccountMeta { pubkey: *to, ..meta.clone() };
    }
    ix
}
