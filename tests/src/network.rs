//! One way to set a Verdict network up: funded wallets, nodes registered and
//! staked, the committee draw (entries, request, seed, sweep), miners past
//! their trial and listed on chain. Each step works over any chain a set-up
//! sends to ([`Setup`]): the program tests' fixture (and through it the
//! keeper tests), the CLI tests' harness, and the main job, whose chain is
//! embedded or a cluster.
//!
//! Steps return the chain's own result, so a test can assert on a refusal
//! where the main job propagates it with `?`.

use anchor_lang::prelude::Pubkey;
use solana_sdk::instruction::Instruction;
use solana_sdk::signature::Keypair;
use solana_sdk::signer::Signer;
use verdict::state::{Committee, ModelId};
use verdict_sdk::accounts::AccountSource;
use verdict_sdk::{attested, instructions as ix, pda, SdkError};

/// The commission every set-up node charges its delegators (10%).
pub const COMMISSION_BPS: u16 = 1_000;

/// A funded wallet with a token account of the stake mint.
pub struct User {
    pub keypair: Keypair,
    pub tokens: Pubkey,
}

impl User {
    pub fn pubkey(&self) -> Pubkey {
        self.keypair.pubkey()
    }
}

/// A registered node and the keys that drive it.
pub struct NodeHandle {
    pub operator: User,
    pub signing_key: Keypair,
    pub node: Pubkey,
}

impl NodeHandle {
    pub fn operator_pubkey(&self) -> Pubkey {
        self.operator.pubkey()
    }

    /// A second handle on the same node and keys.
    pub fn duplicate(&self) -> NodeHandle {
        NodeHandle {
            operator: User {
                keypair: self.operator.keypair.insecure_clone(),
                tokens: self.operator.tokens,
            },
            signing_key: self.signing_key.insecure_clone(),
            node: self.node,
        }
    }
}

/// What the set-up steps need of a chain.
// Used within the workspace only, from the caller's own task: no `Send`
// bound is needed on the futures.
#[allow(async_fn_in_trait)]
pub trait Setup: AccountSource {
    /// What a landed transaction leaves behind.
    type Sent;
    type Error;

    /// The stake mint of the network's Config.
    fn stake_mint(&self) -> Pubkey;

    /// Sends one transaction signed by `signers` (the chain's payer pays the fee).
    async fn send(
        &mut self,
        instructions: &[Instruction],
        signers: &[&Keypair],
    ) -> Result<Self::Sent, Self::Error>;

    /// A new wallet holding `lamports` (at least) for the rent it will pay
    /// and `tokens` of the stake mint.
    async fn fund_wallet(&mut self, tokens: u64, lamports: u64) -> Result<User, Self::Error>;

    /// Lets a slot pass (a warp on an embedded chain, a wait on a
    /// cluster); the slot the chain is at after it.
    async fn pass_slot(&mut self) -> Result<u64, Self::Error>;

    /// A failed account read, as this chain's error.
    fn read_failed(error: SdkError) -> Self::Error;
}

/// A node to register.
#[derive(Clone, Copy, Debug)]
pub struct NodeSpec<'a> {
    /// `ROLE_MINER` and/or `ROLE_VALIDATOR`.
    pub roles: u8,
    /// Tokens the operator's wallet is funded with (the stake among them).
    pub tokens: u64,
    /// Tokens staked right after registering (0: none).
    pub stake: u64,
    /// Lamports the operator's wallet holds for rent (the fixture's
    /// wallets get a fixed, larger airdrop).
    pub rent: u64,
    pub models: &'a [ModelId],
}

/// Registers a node (its operator's wallet funded, a fresh signing key)
/// and stakes `spec.stake` for it.
pub async fn register<S: Setup>(s: &mut S, spec: NodeSpec<'_>) -> Result<NodeHandle, S::Error> {
    let operator = s.fund_wallet(spec.tokens, spec.rent).await?;
    let signing_key = Keypair::new();
    let register = ix::register_node(
        &operator.pubkey(),
        &signing_key.pubkey(),
        &s.stake_mint(),
        spec.roles,
        spec.models.to_vec(),
        COMMISSION_BPS,
    );
    s.send(&[register], &[&operator.keypair, &signing_key])
        .await?;
    let handle = NodeHandle {
        node: pda::node(&operator.pubkey()),
        operator,
        signing_key,
    };
    if spec.stake > 0 {
        stake(s, &handle, spec.stake).await?;
    }
    Ok(handle)
}

/// The node's operator stakes `amount` from its token account.
pub async fn stake<S: Setup>(s: &mut S, h: &NodeHandle, amount: u64) -> Result<S::Sent, S::Error> {
    let stake = ix::stake(&h.operator.pubkey(), &h.operator.tokens, amount);
    s.send(&[stake], &[&h.operator.keypair]).await
}

/// The node enters the open committee draw, signed by its signing key (as
/// its keeper would).
pub async fn enter_draw<S: Setup>(s: &mut S, h: &NodeHandle) -> Result<S::Sent, S::Error> {
    let enter = ix::enter_committee_draw(&h.signing_key.pubkey(), &h.node);
    s.send(&[enter], &[&h.signing_key]).await
}

/// Lets slots pass until the requested draw's seed slot has, then seeds it.
pub async fn seed_draw<S: Setup>(s: &mut S) -> Result<S::Sent, S::Error> {
    let committee: Committee = s.fetch(&pda::committee()).await.map_err(S::read_failed)?;
    while s.pass_slot().await? <= committee.draw.target_slot {}
    s.send(&[ix::seed_committee_draw()], &[]).await
}

/// Sweeps `entrants` through the seeded draw in batches; the last sweep's result.
pub async fn sweep_draw<S: Setup>(s: &mut S, entrants: &[Pubkey]) -> Result<S::Sent, S::Error> {
    let mut last = None;
    for batch in entrants.chunks(verdict_sdk::draw::SWEEP_BATCH) {
        last = Some(s.send(&[ix::sweep_committee_draw(batch)], &[]).await?);
    }
    Ok(last.expect("at least one entrant"))
}

/// Requests, seeds and sweeps a draw over `entrants` (already entered).
pub async fn run_draw<S: Setup>(s: &mut S, entrants: &[Pubkey]) -> Result<S::Sent, S::Error> {
    s.send(&[ix::request_committee_draw()], &[]).await?;
    seed_draw(s).await?;
    sweep_draw(s, entrants).await
}

/// A whole committee draw: each of `entrants` enters, then the draw runs.
/// The first refusal is returned; on success, the last sweep (the one that
/// seats the committee).
pub async fn rotate<S: Setup>(s: &mut S, entrants: &[&NodeHandle]) -> Result<S::Sent, S::Error> {
    for h in entrants {
        enter_draw(s, h).await?;
    }
    let nodes: Vec<Pubkey> = entrants.iter().map(|h| h.node).collect();
    run_draw(s, &nodes).await
}

/// `nodes` in the seated committee's order (members first), the rest after.
pub fn in_committee_order(committee: &Committee, mut nodes: Vec<NodeHandle>) -> Vec<NodeHandle> {
    let mut ordered = Vec::with_capacity(nodes.len());
    for member in committee.members() {
        if let Some(at) = nodes.iter().position(|h| h.node == *member) {
            ordered.push(nodes.remove(at));
        }
    }
    ordered.extend(nodes);
    ordered
}

/// The committee records `miner`'s trial, signed by a quorum of the held
/// `members` keys (`verdict_sdk::attested`).
pub async fn record_trial<S: Setup>(
    s: &mut S,
    members: &[&Keypair],
    miner: &Pubkey,
    passed: bool,
) -> Result<S::Sent, S::Error> {
    let committee: Committee = s.fetch(&pda::committee()).await.map_err(S::read_failed)?;
    let quorum = attested::quorum(&committee, members);
    let trial = attested::record_trial(s, &quorum, miner, passed)
        .await
        .map_err(S::read_failed)?;
    s.send(&trial, &[]).await
}

/// The operator records where the node's miner serves (keepers find it there).
pub async fn list_endpoint<S: Setup>(
    s: &mut S,
    h: &NodeHandle,
    url: &str,
) -> Result<S::Sent, S::Error> {
    let record = ix::set_node_endpoint(&h.operator_pubkey(), &h.node, url);
    s.send(&[record], &[&h.operator.keypair]).await
}
