//! The two ways tokens move through the program: into a program account
//! signed by the user, and out of one signed by its PDA.
//!
//! The program's own token accounts (the stake vault, each node's vault,
//! each job's escrow) are passed as plain accounts: an instruction binds
//! each by the address the chain recorded when the program created it (a
//! compile-time address, `Node::vault`, `Job::escrow`), which proves more
//! than decoding it as a token account would, and costs a 32-byte compare
//! instead of a decode. The SPL Token program checks the rest on transfer.
//!
//! A user's token account (the one a deposit comes from or a payout goes
//! to) is passed undecoded too: the instruction's constraints read its mint
//! and owner from the SPL Token layout's bytes (`mint_of`, `owner_of`) for
//! their typed refusals, instead of decoding all 165 bytes (about 1,580
//! units each on SBF).

use anchor_lang::error::ErrorCode;
use anchor_lang::prelude::*;
use anchor_spl::token::{self, Token, TokenAccount, Transfer};

use crate::errors::VerdictError;

/// Moves `amount` from a user's token account into a program-owned one.
pub fn deposit<'info>(
    token_program: &Program<'info, Token>,
    from: &AccountInfo<'info>,
    to: &AccountInfo<'info>,
    authority: &Signer<'info>,
    amount: u64,
) -> Result<()> {
    require!(amount > 0, VerdictError::ZeroAmount);
    require!(balance(from)? >= amount, VerdictError::InsufficientFunds);
    token::transfer(
        CpiContext::new(
            token_program.key(),
            Transfer {
                from: from.clone(),
                to: to.clone(),
                authority: authority.to_account_info(),
            },
        ),
        amount,
    )
}

/// Pays `amount` out of a program-owned token account whose authority is
/// the PDA with `signer_seeds`.
pub fn pay_out<'info>(
    token_program: &Program<'info, Token>,
    from: &AccountInfo<'info>,
    to: &AccountInfo<'info>,
    authority: &AccountInfo<'info>,
    signer_seeds: &[&[u8]],
    amount: u64,
) -> Result<()> {
    if amount == 0 {
        return Ok(());
    }
    // The SPL Token program takes a transfer into the account it comes from
    // as a no-op, while the caller books the amount as paid out: a
    // destination the caller picked must never be the paying account.
    require_keys_neq!(*from.key, *to.key, VerdictError::WrongDestination);
    token::transfer(
        CpiContext::new_with_signer(
            token_program.key(),
            Transfer {
                from: from.clone(),
                to: to.clone(),
                authority: authority.clone(),
            },
            &[signer_seeds],
        ),
        amount,
    )
}

/// Pays `amount` out of a job's escrow, signed by the job PDA (whose data
/// must not be borrowed meanwhile: `seeds` are a copy).
pub fn pay_from_escrow<'info>(
    token_program: &Program<'info, Token>,
    escrow: &AccountInfo<'info>,
    to: &AccountInfo<'info>,
    job_info: &AccountInfo<'info>,
    seeds: &crate::state::JobSeeds,
    amount: u64,
) -> Result<()> {
    seeds.with(|seeds| pay_out(token_program, escrow, to, job_info, seeds, amount))
}

/// Pays `amount` out of a node's vault, signed by the Node PDA. The node's
/// data must not be borrowed by the caller: its seeds are read here and
/// the borrow dropped before the CPI.
pub fn pay_from_node_vault<'info>(
    token_program: &Program<'info, Token>,
    node_vault: &AccountInfo<'info>,
    to: &AccountInfo<'info>,
    node: &AccountLoader<'info, crate::state::Node>,
    amount: u64,
) -> Result<()> {
    let (operator, bump) = {
        let node = node.load()?;
        (node.operator, node.bump)
    };
    pay_out(
        token_program,
        node_vault,
        to,
        &node.to_account_info(),
        &[crate::constants::NODE_SEED, operator.as_ref(), &[bump]],
        amount,
    )
}

/// Pays `amount` out of the stake vault, signed by the Config PDA.
pub fn pay_from_stake_vault<'info>(
    token_program: &Program<'info, Token>,
    stake_vault: &AccountInfo<'info>,
    to: &AccountInfo<'info>,
    config: &AccountLoader<'info, crate::state::Config>,
    amount: u64,
) -> Result<()> {
    pay_out(
        token_program,
        stake_vault,
        to,
        &config.to_account_info(),
        &crate::state::Config::SIGNER_SEEDS,
        amount,
    )
}

/// Whether `account` can take a transfer of `mint` now: a live SPL Token
/// account of that mint, not frozen. A recorded destination that cannot
/// (closed, frozen, re-created for another mint) must not block anyone else.
/// Reads the two fields from the account's bytes (the SPL Token layout)
/// instead of decoding all 165.
pub fn can_receive(account: &AccountInfo, mint: &Pubkey) -> bool {
    token_data(account).is_ok_and(|data| {
        data[TOKEN_MINT_OFFSET..TOKEN_MINT_OFFSET + 32] == mint.to_bytes()
            && data[TOKEN_STATE_OFFSET] == TOKEN_STATE_INITIALIZED
    })
}

/// The mint of an SPL Token account, read from its bytes.
pub fn mint_of(account: &AccountInfo) -> Result<Pubkey> {
    token_key(account, TOKEN_MINT_OFFSET)
}

/// The owner of an SPL Token account, read from its bytes.
pub fn owner_of(account: &AccountInfo) -> Result<Pubkey> {
    token_key(account, TOKEN_OWNER_OFFSET)
}

/// The key at `offset` of an SPL Token account. An uninitialized one reads
/// as the default mint and owner, which no constraint accepts.
fn token_key(account: &AccountInfo, offset: usize) -> Result<Pubkey> {
    let data = token_data(account)?;
    let key: [u8; 32] = data[offset..offset + 32].try_into().expect("32 bytes");
    Ok(Pubkey::new_from_array(key))
}

/// The bytes of an SPL Token account, refused as Anchor refuses an account
/// it cannot decode as one: owned by another program, or not the size of a
/// token account.
fn token_data<'a>(account: &'a AccountInfo) -> Result<std::cell::Ref<'a, &'a mut [u8]>> {
    if account.owner != &anchor_spl::token::ID {
        return Err(ErrorCode::AccountOwnedByWrongProgram.into());
    }
    let data = account.try_borrow_data()?;
    if data.len() != TokenAccount::LEN {
        return Err(ErrorCode::AccountDidNotDeserialize.into());
    }
    Ok(data)
}

/// The balance of a token account, read from its bytes.
pub fn balance(vault: &AccountInfo) -> Result<u64> {
    let data = vault.try_borrow_data()?;
    let amount = data
        .get(TOKEN_AMOUNT_OFFSET..TOKEN_AMOUNT_OFFSET + 8)
        .ok_or(VerdictError::WrongVault)?;
    Ok(u64::from_le_bytes(amount.try_into().expect("8 bytes")))
}

/// Offsets in an SPL Token account: mint (32), owner (32), amount (8),
/// delegate (36), state (1: 1 initialized, 2 frozen), ...
const TOKEN_MINT_OFFSET: usize = 0;
const TOKEN_OWNER_OFFSET: usize = 32;
const TOKEN_AMOUNT_OFFSET: usize = 64;
const TOKEN_STATE_OFFSET: usize = 108;
const TOKEN_STATE_INITIALIZED: u8 = 1;

/// Pays a client refund out of the job's escrow to the job's recorded
/// refund account; if that account cannot take it, the refund stays in the
/// escrow as the job's `client_owed`, for `claim_refund`. The job's data is
/// unborrowed during the transfer.
pub fn refund_from_escrow<'info>(
    token_program: &Program<'info, Token>,
    escrow: &AccountInfo<'info>,
    refund_account: &AccountInfo<'info>,
    job: &AccountLoader<'info, crate::state::Job>,
    mint: &Pubkey,
    amount: u64,
) -> Result<()> {
    let (recorded, seeds) = {
        let job = job.load()?;
        (job.refund_account, job.seeds())
    };
    require_keys_eq!(
        *refund_account.key,
        recorded,
        VerdictError::WrongDestination
    );
    if amount == 0 {
        return Ok(());
    }
    if can_receive(refund_account, mint) {
        pay_from_escrow(
            token_program,
            escrow,
            refund_account,
            &job.to_account_info(),
            &seeds,
            amount,
        )
    } else {
        owe_client(job, amount)
    }
}

/// Books a refund the client's recorded account could not take, for `claim_refund`.
fn owe_client(job: &AccountLoader<crate::state::Job>, amount: u64) -> Result<()> {
    let mut job = job.load_mut()?;
    job.client_owed = crate::math::add(job.client_owed, amount)?;
    Ok(())
}

/// Pays a client refund out of the stake vault to the job's recorded
/// refund account, or into the job's escrow as `client_owed` when that
/// account cannot take it.
pub fn refund_from_stake_vault<'info>(
    token_program: &Program<'info, Token>,
    stake_vault: &AccountInfo<'info>,
    refund_account: &AccountInfo<'info>,
    escrow: &AccountInfo<'info>,
    config: &AccountLoader<'info, crate::state::Config>,
    job: &AccountLoader<'info, crate::state::Job>,
    amount: u64,
) -> Result<()> {
    let recorded = job.load()?.refund_account;
    require_keys_eq!(
        *refund_account.key,
        recorded,
        VerdictError::WrongDestination
    );
    if amount == 0 {
        return Ok(());
    }
    let mint = config.load()?.stake_mint;
    if can_receive(refund_account, &mint) {
        pay_from_stake_vault(token_program, stake_vault, refund_account, config, amount)
    } else {
        pay_from_stake_vault(token_program, stake_vault, escrow, config, amount)?;
        owe_client(job, amount)
    }
}

/// Credits `amount` from the stake vault to a node's `owed` balance (moved
/// into its node vault): what a node is owed never depends on a token
/// account someone else picks, and the operator withdraws it when it likes.
pub fn credit_node_from_stake_vault<'info>(
    token_program: &Program<'info, Token>,
    stake_vault: &AccountInfo<'info>,
    node_vault: &AccountInfo<'info>,
    config: &AccountLoader<'info, crate::state::Config>,
    node: &mut crate::state::Node,
    amount: u64,
) -> Result<()> {
    pay_from_stake_vault(token_program, stake_vault, node_vault, config, amount)?;
    node.owed = crate::math::add(node.owed, amount)?;
    Ok(())
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;
    use anchor_lang::solana_program::program_pack::Pack;
    use anchor_spl::token::spl_token::state::{Account as SplAccount, AccountState};

    fn packed(mint: Pubkey, amount: u64, state: AccountState) -> Vec<u8> {
        let account = SplAccount {
            mint,
            owner: Pubkey::new_unique(),
            amount,
            delegate: Some(Pubkey::new_unique()).into(),
            state,
            delegated_amount: 3,
            ..Default::default()
        };
        let mut data = vec![0; SplAccount::LEN];
        account.pack_into_slice(&mut data);
        data
    }

    /// `f` of an account holding `data`, owned by `owner`.
    pub(crate) fn with_account<T>(
        mut data: Vec<u8>,
        owner: &Pubkey,
        f: impl FnOnce(&AccountInfo) -> T,
    ) -> T {
        let (key, mut lamports) = (Pubkey::new_unique(), 0);
        f(&AccountInfo::new(
            &key,
            false,
            true,
            &mut lamports,
            &mut data,
            owner,
            false,
        ))
    }

    #[test]
    fn the_byte_reads_agree_with_the_spl_token_layout() {
        let (mint, token) = (Pubkey::new_unique(), anchor_spl::token::ID);
        for (state, live) in [
            (AccountState::Initialized, true),
            (AccountState::Frozen, false),
            (AccountState::Uninitialized, false),
        ] {
            let data = packed(mint, 1_234_567, state);
            let owner = SplAccount::unpack_unchecked(&data).unwrap().owner;
            with_account(data, &token, |info| {
                assert_eq!(balance(info).unwrap(), 1_234_567);
                assert_eq!(mint_of(info).unwrap(), mint);
                assert_eq!(owner_of(info).unwrap(), owner);
                assert_eq!(can_receive(info, &mint), live, "{state:?}");
                assert!(!can_receive(info, &Pubkey::new_unique()), "another mint");
            });
        }
        let data = packed(mint, 5, AccountState::Initialized);
        with_account(data, &Pubkey::new_unique(), |info| {
            assert!(!can_receive(info, &mint), "not owned by SPL Token");
            let refusal = mint_of(info).unwrap_err();
            assert_eq!(refusal, ErrorCode::AccountOwnedByWrongProgram.into());
        });
        with_account(vec![0; 40], &token, |info| {
            assert!(balance(info).is_err() && !can_receive(info, &mint));
            let refusal = owner_of(info).unwrap_err();
            assert_eq!(refusal, ErrorCode::AccountDidNotDeserialize.into());
        });
    }
}
