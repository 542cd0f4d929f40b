//! What a command runs against: the chain, the signer, whether a person is
//! at the terminal; and the session helpers every command shares (reads with
//! clear "not found" errors, sending, confirmation, node lookup).

use std::io::{BufRead, Write};
use std::path::PathBuf;

use anchor_lang::prelude::Pubkey;
use anchor_lang::solana_program::instruction::Instruction;
use anchor_lang::{AccountDeserialize, Discriminator};
use solana_sdk::signature::Keypair;
use solana_sdk::signer::Signer;
use verdict::state::{Config, Node};
use verdict_chain::{Chain, Landed};
use verdict_sdk::accounts::decode;
use verdict_sdk::pda;

use crate::amount::format_tokens;
use crate::error::CliError;
use crate::token;

/// The world a command runs in. `main` builds it over JSON-RPC; tests build
/// it over the embedded chain.
pub struct Env {
    pub chain: Chain,
    /// `None` when no keypair file was found; commands that sign then fail
    /// with a clear line, read-only ones still work.
    pub signer: Option<Keypair>,
    /// Where the signer was (or would have been) read from, for messages.
    pub keypair_path: PathBuf,
    /// The cluster's URL, shown in prompts and errors.
    pub url: String,
    /// A person can answer a confirmation prompt.
    pub stdin_is_tty: bool,
}

impl Env {
    /// An environment with a signer and no terminal (tests, scripts).
    pub fn with_signer(chain: Chain, signer: Keypair, url: impl Into<String>) -> Self {
        Env {
            chain,
            signer: Some(signer),
            keypair_path: PathBuf::from("(in memory)"),
            url: url.into(),
            stdin_is_tty: false,
        }
    }
}

/// One command's view of the environment, with the global flags it needs.
pub struct Session<'a> {
    pub env: &'a Env,
    /// `--yes`: do not ask before moving tokens.
    pub assume_yes: bool,
}

impl Session<'_> {
    pub fn signer(&self) -> Result<&Keypair, CliError> {
        self.env.signer.as_ref().ok_or_else(|| CliError::NoKeypair {
            path: self.env.keypair_path.display().to_string(),
        })
    }

    pub fn signer_pubkey(&self) -> Result<Pubkey, CliError> {
        self.signer().map(|k| k.pubkey())
    }

    fn chain_error(&self, error: verdict_chain::ChainError) -> CliError {
        CliError::from_chain(error, &self.env.url)
    }

    pub async fn account_data(&self, address: &Pubkey) -> Result<Option<Vec<u8>>, CliError> {
        self.env
            .chain
            .account_data(address)
            .await
            .map_err(|e| self.chain_error(e))
    }

    /// Fetches and decodes an account that may not exist.
    pub async fn fetch_optional<T: AccountDeserialize>(
        &self,
        address: &Pubkey,
    ) -> Result<Option<T>, CliError> {
        match self.account_data(address).await? {
            None => Ok(None),
            Some(data) => decode(address, &data)
                .map(Some)
                .map_err(|e| CliError::Chain(e.to_string())),
        }
    }

    /// Fetches and decodes an account that must exist; `what` names it in the error.
    pub async fn fetch<T: AccountDeserialize>(
        &self,
        address: &Pubkey,
        what: &'static str,
    ) -> Result<T, CliError> {
        self.fetch_optional(address)
            .await?
            .ok_or_else(|| CliError::NotFound {
                what,
                address: *address,
                url: self.env.url.clone(),
            })
    }

    pub async fn config(&self) -> Result<Config, CliError> {
        self.fetch_optional(&pda::config()).await?.ok_or_else(|| {
            CliError::Refused(format!(
                "Verdict is not initialized on {} (no Config account): run `verdict config init`",
                self.env.url
            ))
        })
    }

    pub async fn now(&self) -> Result<i64, CliError> {
        self.env
            .chain
            .unix_time()
            .await
            .map_err(|e| self.chain_error(e))
    }

    pub async fn slot(&self) -> Result<u64, CliError> {
        self.env.chain.slot().await.map_err(|e| self.chain_error(e))
    }

    pub async fn program_accounts(&self) -> Result<Vec<(Pubkey, Vec<u8>)>, CliError> {
        self.env
            .chain
            .program_accounts()
            .await
            .map_err(|e| self.chain_error(e))
    }

    /// Every Verdict account of type `T`.
    pub async fn accounts_of<T: AccountDeserialize + Discriminator>(
        &self,
    ) -> Result<Vec<(Pubkey, T)>, CliError> {
        let mut out = Vec::new();
        for (address, data) in self.program_accounts().await? {
            if data.starts_with(T::DISCRIMINATOR) {
                out.push((
                    address,
                    decode(&address, &data).map_err(|e| CliError::Chain(e.to_string()))?,
                ));
            }
        }
        Ok(out)
    }

    pub async fn history(&self, address: &Pubkey) -> Result<Vec<Landed>, CliError> {
        self.env
            .chain
            .history(address)
            .await
            .map_err(|e| self.chain_error(e))
    }

    /// Signs with the signer (who pays) and `extra_signers`, and sends.
    pub async fn send(
        &self,
        instructions: &[Instruction],
        extra_signers: &[&Keypair],
    ) -> Result<Landed, CliError> {
        let payer = self.signer()?;
        self.env
            .chain
            .send(instructions, payer, extra_signers)
            .await
            .map_err(|e| self.chain_error(e))
    }

    /// Asks before a command moves tokens: `--yes` skips the question, and
    /// without a terminal there is nobody to ask, so the command refuses.
    pub fn confirm(&self, action: &str) -> Result<(), CliError> {
        if self.assume_yes {
            return Ok(());
        }
        if !self.env.stdin_is_tty {
            return Err(CliError::ConfirmationRequired);
        }
        let signer = self.signer_pubkey()?;
        let mut stderr = std::io::stderr();
        let _ = write!(
            stderr,
            "{action}\n  cluster: {}\n  signer:  {signer}\nProceed? [y/N] ",
            self.env.url
        );
        let _ = stderr.flush();
        let mut answer = String::new();
        std::io::stdin()
            .lock()
            .read_line(&mut answer)
            .map_err(|e| CliError::Input(format!("cannot read the answer: {e}")))?;
        match answer.trim().to_ascii_lowercase().as_str() {
            "y" | "yes" => Ok(()),
            _ => Err(CliError::Declined),
        }
    }

    /// A node named by its account or its operator's key; the signer's node
    /// when none is named.
    pub async fn resolve_node(&self, given: Option<Pubkey>) -> Result<(Pubkey, Node), CliError> {
        let given = match given {
            Some(key) => key,
            None => pda::node(&self.signer_pubkey()?),
        };
        if let Some(node) = self.fetch_optional::<Node>(&given).await.unwrap_or(None) {
            return Ok((given, node));
        }
        let by_operator = pda::node(&given);
        match self.fetch_optional::<Node>(&by_operator).await? {
            Some(node) => Ok((by_operator, node)),
            None => Err(CliError::NotFound {
                what: "node (neither a node account nor an operator with a node)",
                address: given,
                url: self.env.url.clone(),
            }),
        }
    }

    /// The token account tokens are taken from: `--from`, else the signer's
    /// associated account; checked to exist, hold the stake mint, belong to
    /// the signer and cover `amount`, so a short balance never reaches the chain.
    pub async fn source_tokens(
        &self,
        from: Option<Pubkey>,
        mint: &Pubkey,
        amount: u64,
    ) -> Result<Pubkey, CliError> {
        let owner = self.signer_pubkey()?;
        let address = from.unwrap_or_else(|| token::associated_address(&owner, mint));
        let data = self.account_data(&address).await?.ok_or_else(|| {
            CliError::Refused(format!("token account {address} does not exist (no stake tokens there); pass --from with a token account of mint {mint}"))
        })?;
        let account = token::decode_account(&data)
            .ok_or_else(|| CliError::Input(format!("{address} is not a token account")))?;
        if account.mint != *mint {
            return Err(CliError::Input(format!(
                "token account {address} holds mint {}, not the stake mint {mint}",
                account.mint
            )));
        }
        if account.owner != owner {
            return Err(CliError::Input(format!(
                "token account {address} belongs to {}, not to the signer {owner}",
                account.owner
            )));
        }
        if account.amount < amount {
            return Err(CliError::Refused(format!(
                "token account {address} holds {}, less than {}",
                format_tokens(account.amount),
                format_tokens(amount)
            )));
        }
        Ok(address)
    }

    /// Where tokens are paid to: `to`, else `owner`'s associated account,
    /// with the instruction that creates it when missing (paid by the signer).
    pub fn destination_tokens(
        &self,
        to: Option<Pubkey>,
        owner: &Pubkey,
        mint: &Pubkey,
    ) -> Result<(Pubkey, Vec<Instruction>), CliError> {
        Ok(match to {
            Some(address) => (address, Vec::new()),
            None => (
                token::associated_address(owner, mint),
                vec![token::create_associated_idempotent(
                    &self.signer_pubkey()?,
                    owner,
                    mint,
                )],
            ),
        })
    }
}

/// Reads a keypair file named on the command line (e.g. a signing key).
pub fn read_keypair(path: &std::path::Path) -> Result<Keypair, CliError> {
    solana_sdk::signature::read_keypair_file(path).map_err(|e| CliError::Keypair {
        path: path.display().to_string(),
        reason: crate::error::one_line(&e.to_string()),
    })
}
