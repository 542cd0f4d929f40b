//! Chain access for Verdict's off-chain services (keeper, CLI, demo): one
//! small client type, [`Chain`], over either a real cluster through JSON-RPC
//! (failover, retries, blockhash refresh, priority fees, confirmation) or an
//! embedded in-process chain running the program natively — the same runtime
//! the test suite uses.
//!
//! A send over RPC never posts twice by itself: it re-signs (a new
//! transaction) only after checking that no copy it already sent landed, and
//! reports a copy that landed even when every answer to it was lost. It can
//! still fail with the outcome unknown (the cluster unreachable throughout):
//! callers of non-idempotent instructions re-read the state they change
//! before sending again, as the keeper's poster does.
//!
//! With the `bridge` feature, [`bridge::RpcBridge`] serves an embedded chain
//! as a Solana JSON-RPC node, with faults injected per method (errors, late
//! answers, answers cut after the work, unknown blockhashes): the RPC client
//! and the binaries using it (`verdict-keeper run`) are tested without a
//! validator (`cargo test -p verdict-chain --features bridge`).
// solana-program-test marks its whole API deprecated (unstable-API notice).
#![allow(deprecated)]

#[cfg(feature = "bridge")]
pub mod bridge;
pub mod embedded;
pub mod error;
pub mod rpc;
pub mod tokens;

use std::sync::Arc;

use anchor_lang::prelude::Pubkey;
use solana_sdk::instruction::Instruction;
use solana_sdk::signature::{Keypair, Signature};
use solana_sdk::signer::Signer;
use verdict_sdk::accounts::AccountSource;
use verdict_sdk::SdkError;

pub use embedded::EmbeddedChain;
pub use error::{ChainError, ProgramFailure};
pub use rpc::{RpcChain, RpcConfig};

/// A landed transaction.
#[derive(Clone, Debug)]
pub struct Landed {
    pub signature: Signature,
    pub slot: u64,
    pub logs: Vec<String>,
}

/// The chain, whichever backend serves it. Cheap to clone.
#[derive(Clone)]
pub enum Chain {
    Embedded(Arc<EmbeddedChain>),
    Rpc(Arc<RpcChain>),
}

impl Chain {
    /// Raw data of an account, `None` when it does not exist.
    pub async fn account_data(&self, address: &Pubkey) -> Result<Option<Vec<u8>>, ChainError> {
        match self {
            Chain::Embedded(c) => c.account_data(address).await,
            Chain::Rpc(c) => c.account_data(address).await,
        }
    }

    /// Signs with `payer` and `signers`, sends, and waits for confirmation.
    pub async fn send(
        &self,
        instructions: &[Instruction],
        payer: &Keypair,
        signers: &[&Keypair],
    ) -> Result<Landed, ChainError> {
        match self {
            Chain::Embedded(c) => c.send(instructions, payer, signers).await,
            Chain::Rpc(c) => c.send(instructions, payer, signers).await,
        }
    }

    /// The cluster's unix time (the Clock sysvar).
    pub async fn unix_time(&self) -> Result<i64, ChainError> {
        match self {
            Chain::Embedded(c) => c.unix_time().await,
            Chain::Rpc(c) => c.unix_time().await,
        }
    }

    /// The cluster's current slot (the Clock sysvar).
    pub async fn slot(&self) -> Result<u64, ChainError> {
        match self {
            Chain::Embedded(c) => c.slot().await,
            Chain::Rpc(c) => c.slot().await,
        }
    }

    /// Every account the Verdict program owns.
    pub async fn program_accounts(&self) -> Result<Vec<(Pubkey, Vec<u8>)>, ChainError> {
        match self {
            Chain::Embedded(c) => c.program_accounts().await,
            Chain::Rpc(c) => c.program_accounts().await,
        }
    }

    /// Logs of the successful transactions that touched `address`, oldest first.
    pub async fn history(&self, address: &Pubkey) -> Result<Vec<Landed>, ChainError> {
        match self {
            Chain::Embedded(c) => Ok(c.history(address)),
            Chain::Rpc(c) => c.history(address).await,
        }
    }

    /// Token balance of an SPL token account (0 when it does not exist).
    pub async fn token_balance(&self, address: &Pubkey) -> Result<u64, ChainError> {
        use anchor_lang::AccountDeserialize;
        match self.account_data(address).await? {
            None => Ok(0),
            Some(data) => anchor_spl::token::TokenAccount::try_deserialize(&mut data.as_slice())
                .map(|a| a.amount)
                .map_err(|e| ChainError::Decode(format!("token account {address}: {e}"))),
        }
    }
}

/// Set-up over either backend (the demo's wallets, mint and token
/// accounts): `payer` pays the fees and the rent.
impl Chain {
    /// Lamports an account of `len` bytes needs to be rent-exempt.
    pub async fn rent_exempt_minimum(&self, len: usize) -> Result<u64, ChainError> {
        match self {
            Chain::Embedded(c) => c.rent_exempt_minimum(len).await,
            Chain::Rpc(c) => c.rent_exempt_minimum(len).await,
        }
    }

    /// An account's lamports (0 when it does not exist).
    pub async fn lamports(&self, address: &Pubkey) -> Result<u64, ChainError> {
        match self {
            Chain::Embedded(c) => c.lamports(address).await,
            Chain::Rpc(c) => c.lamports(address).await,
        }
    }

    /// Moves `lamports` from `from` to `to` (`payer` pays the fee, so `from` may be emptied).
    pub async fn transfer(
        &self,
        payer: &Keypair,
        from: &Keypair,
        to: &Pubkey,
        lamports: u64,
    ) -> Result<(), ChainError> {
        let ix =
            anchor_lang::solana_program::system_instruction::transfer(&from.pubkey(), to, lamports);
        self.send(&[ix], payer, &[from]).await.map(|_| ())
    }

    /// A new mint with `authority` and [`tokens::DECIMALS`] decimals.
    pub async fn create_mint(
        &self,
        payer: &Keypair,
        authority: &Pubkey,
    ) -> Result<Pubkey, ChainError> {
        let mint = Keypair::new();
        let rent = self.rent_exempt_minimum(tokens::MINT_LEN).await?;
        self.send(
            &tokens::create_mint(&payer.pubkey(), &mint.pubkey(), authority, rent)?,
            payer,
            &[&mint],
        )
        .await?;
        Ok(mint.pubkey())
    }

    /// A new token account of `mint` owned by `owner`.
    pub async fn create_token_account(
        &self,
        payer: &Keypair,
        owner: &Pubkey,
        mint: &Pubkey,
    ) -> Result<Pubkey, ChainError> {
        let account = Keypair::new();
        let rent = self.rent_exempt_minimum(tokens::TOKEN_ACCOUNT_LEN).await?;
        let ixs =
            tokens::create_token_account(&payer.pubkey(), &account.pubkey(), mint, owner, rent)?;
        self.send(&ixs, payer, &[&account]).await?;
        Ok(account.pubkey())
    }

    pub async fn mint_to(
        &self,
        payer: &Keypair,
        mint: &Pubkey,
        authority: &Keypair,
        to: &Pubkey,
        amount: u64,
    ) -> Result<(), ChainError> {
        self.send(
            &[tokens::mint_to(mint, &authority.pubkey(), to, amount)?],
            payer,
            &[authority],
        )
        .await
        .map(|_| ())
    }
}

impl AccountSource for Chain {
    async fn account_data(&self, address: &Pubkey) -> Result<Option<Vec<u8>>, SdkError> {
        Chain::account_data(self, address)
            .await
            .map_err(|e| SdkError::Client(e.to_string()))
    }
}

impl AccountSource for EmbeddedChain {
    async fn account_data(&self, address: &Pubkey) -> Result<Option<Vec<u8>>, SdkError> {
        EmbeddedChain::account_data(self, address)
            .await
            .map_err(|e| SdkError::Client(e.to_string()))
    }
}

impl verdict_sdk::client::Ledger for Chain {
    async fn send(
        &self,
        instructions: &[Instruction],
        signer: &Keypair,
    ) -> Result<Signature, SdkError> {
        Chain::send(self, instructions, signer, &[])
            .await
            .map(|landed| landed.signature)
            .map_err(|e| match e {
                ChainError::Program { failure, .. } => SdkError::Refused(failure),
                other => SdkError::Client(other.to_string()),
            })
    }
}
