//! Decoding Verdict accounts, and fetching them through any account source.

use anchor_lang::prelude::Pubkey;
use anchor_lang::{AccountDeserialize, Discriminator};
use verdict::state::{
    Committee, Config, Delegation, Dispute, Job, Node, NodeEndpoint, SlashRecord, TimeoutReport,
    UnbondTicket, Vote,
};

use crate::SdkError;

/// Decodes an account's data as `T`, checking its discriminator.
pub fn decode<T: AccountDeserialize>(address: &Pubkey, mut data: &[u8]) -> Result<T, SdkError> {
    T::try_deserialize(&mut data).map_err(|e| SdkError::Decode {
        address: *address,
        kind: std::any::type_name::<T>()
            .rsplit("::")
            .next()
            .unwrap_or("account"),
        reason: e.to_string(),
    })
}

/// Any Verdict account, recognised by its discriminator.
#[derive(Debug)]
pub enum VerdictAccount {
    Config(Box<Config>),
    Node(Box<Node>),
    Delegation(Delegation),
    UnbondTicket(UnbondTicket),
    Committee(Box<Committee>),
    Job(Box<Job>),
    TimeoutReport(TimeoutReport),
    Dispute(Box<Dispute>),
    Vote(Vote),
    SlashRecord(SlashRecord),
    NodeEndpoint(Box<NodeEndpoint>),
}

impl VerdictAccount {
    /// Decodes any Verdict account; `None` for data of no known type.
    pub fn decode(address: &Pubkey, data: &[u8]) -> Option<Result<Self, SdkError>> {
        let of = |d: &[u8]| data.starts_with(d);
        Some(if of(Config::DISCRIMINATOR) {
            decode(address, data).map(|a| Self::Config(Box::new(a)))
        } else if of(Node::DISCRIMINATOR) {
            decode(address, data).map(|a| Self::Node(Box::new(a)))
        } else if of(Delegation::DISCRIMINATOR) {
            decode(address, data).map(Self::Delegation)
        } else if of(UnbondTicket::DISCRIMINATOR) {
            decode(address, data).map(Self::UnbondTicket)
        } else if of(Committee::DISCRIMINATOR) {
            decode(address, data).map(|a| Self::Committee(Box::new(a)))
        } else if of(Job::DISCRIMINATOR) {
            decode(address, data).map(|a| Self::Job(Box::new(a)))
        } else if of(TimeoutReport::DISCRIMINATOR) {
            decode(address, data).map(Self::TimeoutReport)
        } else if of(Dispute::DISCRIMINATOR) {
            decode(address, data).map(|a| Self::Dispute(Box::new(a)))
        } else if of(Vote::DISCRIMINATOR) {
            decode(address, data).map(Self::Vote)
        } else if of(SlashRecord::DISCRIMINATOR) {
            decode(address, data).map(Self::SlashRecord)
        } else if of(NodeEndpoint::DISCRIMINATOR) {
            decode(address, data).map(|a| Self::NodeEndpoint(Box::new(a)))
        } else {
            return None;
        })
    }
}

/// Where accounts are read from: an RPC node, a test bank, the embedded chain.
#[allow(async_fn_in_trait)]
pub trait AccountSource {
    /// Raw data of the account, `None` when it does not exist.
    async fn account_data(&self, address: &Pubkey) -> Result<Option<Vec<u8>>, SdkError>;

    /// Fetches and decodes an account that must exist.
    async fn fetch<T: AccountDeserialize>(&self, address: &Pubkey) -> Result<T, SdkError> {
        let data = self
            .account_data(address)
            .await?
            .ok_or(SdkError::AccountNotFound(*address))?;
        decode(address, &data)
    }

    /// Fetches and decodes an account that may not exist.
    async fn fetch_optional<T: AccountDeserialize>(
        &self,
        address: &Pubkey,
    ) -> Result<Option<T>, SdkError> {
        match self.account_data(address).await? {
            Some(data) => decode(address, &data).map(Some),
            None => Ok(None),
        }
    }
}
