//! The keeper's door to the chain: the shared [`Chain`] client (embedded or
//! RPC) plus the fee payer, typed account reads, and an optional fault
//! injector for tests (fail a send, or land it and report a timeout — the
//! case that tempts a naive keeper to post twice).

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;

use anchor_lang::prelude::Pubkey;
use solana_sdk::instruction::Instruction;
use solana_sdk::signature::Keypair;
use solana_sdk::signer::Signer;
use verdict::state::{Committee, Config, Dispute, Job, Node, Vote};
use verdict_chain::{Chain, ChainError, Landed};
use verdict_sdk::accounts::{decode, VerdictAccount};
use verdict_sdk::pda;

use tokio::sync::{mpsc, oneshot};

use crate::error::KeeperError;

/// What the fault injector does to one send.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum FaultAction {
    Proceed,
    /// Report a transport error without sending.
    FailBeforeSend,
    /// Send (it lands), then report that confirmation timed out.
    LandThenTimeout,
}

/// Decides, send by send, whether to inject a fault.
pub trait SendFaults: Send + Sync {
    fn next(&self, instructions: &[Instruction]) -> FaultAction;
}

/// Every Verdict account the keeper cares about, read in one sweep.
#[derive(Clone, Default)]
pub struct ChainView {
    pub config: Option<Config>,
    pub committee: Option<Committee>,
    pub nodes: Vec<(Pubkey, Node)>,
    pub jobs: Vec<(Pubkey, Job)>,
    pub disputes: Vec<(Pubkey, Dispute)>,
    pub votes: Vec<(Pubkey, Vote)>,
    /// Each node's recorded service endpoint: (node, URL).
    pub endpoints: Vec<(Pubkey, String)>,
}

pub struct Gateway {
    chain: ChainThread,
    metrics: Arc<crate::metrics::Metrics>,
    payer: Pubkey,
    faults: Option<Arc<dyn SendFaults>>,
    /// Transactions that landed (for tests and logs).
    pub landed: AtomicU64,
}

impl Gateway {
    pub fn new(
        chain: Chain,
        payer: Keypair,
        faults: Option<Arc<dyn SendFaults>>,
        metrics: Arc<crate::metrics::Metrics>,
    ) -> Self {
        let payer_key = payer.pubkey();
        Gateway {
            chain: ChainThread::start(chain, payer, metrics.clone()),
            metrics,
            payer: payer_key,
            faults,
            landed: AtomicU64::new(0),
        }
    }

    /// The fee payer of every transaction the keeper sends.
    pub fn payer(&self) -> Pubkey {
        self.payer
    }

    /// Reads and decodes an account through the chain client's inherent
    /// read (a concrete, `Send` future the subsystems' tasks can hold).
    async fn fetch_optional<T: anchor_lang::AccountDeserialize>(
        &self,
        address: &Pubkey,
    ) -> Result<Option<T>, KeeperError> {
        match self.chain.account_data(*address).await? {
            None => Ok(None),
            Some(data) => Ok(Some(decode::<T>(address, &data)?)),
        }
    }

    async fn fetch<T: anchor_lang::AccountDeserialize>(
        &self,
        address: &Pubkey,
    ) -> Result<T, KeeperError> {
        self.fetch_optional(address)
            .await?
            .ok_or(KeeperError::Account(
                verdict_sdk::SdkError::AccountNotFound(*address),
            ))
    }

    pub async fn exists(&self, address: &Pubkey) -> Result<bool, KeeperError> {
        Ok(self.chain.account_data(*address).await?.is_some())
    }

    pub async fn job(&self, job: &Pubkey) -> Result<Option<Job>, KeeperError> {
        self.fetch_optional::<Job>(job).await
    }

    pub async fn node(&self, node: &Pubkey) -> Result<Option<Node>, KeeperError> {
        self.fetch_optional::<Node>(node).await
    }

    /// The endpoint `node` records on chain now, if any.
    pub async fn endpoint(&self, node: &Pubkey) -> Result<Option<String>, KeeperError> {
        Ok(self
            .fetch_optional::<verdict::state::NodeEndpoint>(&pda::endpoint(node))
            .await?
            .map(|e| e.url().to_string()))
    }

    /// Balance of an SPL token account (0 when it does not exist): its
    /// `amount`, after the mint and the owner in the account's layout.
    pub async fn token_balance(&self, account: &Pubkey) -> Result<u64, KeeperError> {
        const AMOUNT_AT: usize = 64;
        match self.chain.account_data(*account).await? {
            None => Ok(0),
            Some(data) => data
                .get(AMOUNT_AT..AMOUNT_AT + 8)
                .map(|b| u64::from_le_bytes(b.try_into().expect("8 bytes")))
                .ok_or_else(|| {
                    let reason = format!("{} bytes", data.len());
                    KeeperError::Account(verdict_sdk::SdkError::Decode {
                        address: *account,
                        kind: "token account",
                        reason,
                    })
                }),
        }
    }

    pub async fn config(&self) -> Result<Config, KeeperError> {
        self.fetch::<Config>(&pda::config()).await
    }

    pub async fn committee(&self) -> Result<Committee, KeeperError> {
        self.fetch::<Committee>(&pda::committee()).await
    }

    pub async fn now(&self) -> Result<i64, KeeperError> {
        self.chain.unix_time().await
    }

    /// The fee payer's balance in lamports (also published as a metric).
    pub async fn payer_balance(&self) -> Result<u64, KeeperError> {
        let lamports = self.chain.ask(|r| Call::Lamports(self.payer, r)).await?;
        self.metrics
            .payer_balance_lamports
            .set(i64::try_from(lamports).unwrap_or(i64::MAX));
        Ok(lamports)
    }

    pub async fn slot(&self) -> Result<u64, KeeperError> {
        Ok(self.chain.ask(Call::Slot).await?)
    }

    pub async fn view(&self) -> Result<ChainView, KeeperError> {
        let mut view = ChainView::default();
        for (key, data) in self.chain.program_accounts().await? {
            match VerdictAccount::decode(&key, &data) {
                Some(Ok(VerdictAccount::Config(c))) => view.config = Some(*c),
                Some(Ok(VerdictAccount::Committee(c))) => view.committee = Some(*c),
                Some(Ok(VerdictAccount::Node(n))) => view.nodes.push((key, *n)),
                Some(Ok(VerdictAccount::Job(j))) => view.jobs.push((key, *j)),
                Some(Ok(VerdictAccount::Dispute(d))) => view.disputes.push((key, *d)),
                Some(Ok(VerdictAccount::Vote(v))) => view.votes.push((key, v)),
                Some(Ok(VerdictAccount::NodeEndpoint(e))) => {
                    view.endpoints.push((e.node, e.url().to_string()))
                }
                _ => {}
            }
        }
        Ok(view)
    }

    /// Signs with the fee payer and `signer` (an operator key, for the
    /// instructions that act for the validator's node) and sends. No fault
    /// injection: the dispute and crank paths are idempotent by reading first.
    pub async fn send_signed(
        &self,
        instructions: &[Instruction],
        signer: Arc<Keypair>,
    ) -> Result<Landed, ChainError> {
        // Only when an instruction asks for it: an unneeded signature fails signing.
        let needed = instructions
            .iter()
            .flat_map(|i| &i.accounts)
            .any(|a| a.is_signer && a.pubkey == signer.pubkey());
        let landed = self
            .chain
            .ask(|r| Call::Send(instructions.to_vec(), needed.then_some(signer), r))
            .await?;
        self.paid(instructions, if needed { 2 } else { 1 });
        Ok(landed)
    }

    /// Signs with the fee payer and sends.
    pub async fn send(&self, instructions: &[Instruction]) -> Result<Landed, ChainError> {
        let action = self
            .faults
            .as_ref()
            .map(|f| f.next(instructions))
            .unwrap_or(FaultAction::Proceed);
        match action {
            FaultAction::FailBeforeSend => {
                return Err(ChainError::Rpc("injected: connection reset".into()))
            }
            FaultAction::LandThenTimeout => {
                let landed = self.chain.send(instructions.to_vec()).await;
                if landed.is_ok() {
                    self.paid(instructions, 1);
                }
                return Err(ChainError::Timeout("injected: confirmation lost".into()));
            }
            FaultAction::Proceed => {}
        }
        let landed = self.chain.send(instructions.to_vec()).await?;
        self.paid(instructions, 1);
        Ok(landed)
    }

    /// Counts a landed transaction and its fee: the base fee per signature
    /// (priority fees, paid on congested clusters only, are not counted).
    fn paid(&self, instructions: &[Instruction], signatures: u64) {
        const LAMPORTS_PER_SIGNATURE: u64 = 5_000;
        self.landed.fetch_add(1, Ordering::Relaxed);
        let name = instructions
            .iter()
            .rev()
            .filter(|i| i.program_id == verdict::ID)
            .find_map(|i| verdict_sdk::instructions::instruction_name(&i.data))
            .unwrap_or("other");
        self.metrics
            .fees_lamports_total
            .with_label_values(&[name])
            .inc_by(signatures * LAMPORTS_PER_SIGNATURE);
    }
}

/// Every Verdict account, address and data.
type Accounts = Vec<(Pubkey, Vec<u8>)>;

/// A call to the chain thread.
enum Call {
    AccountData(Pubkey, oneshot::Sender<Result<Option<Vec<u8>>, ChainError>>),
    ProgramAccounts(oneshot::Sender<Result<Accounts, ChainError>>),
    UnixTime(oneshot::Sender<Result<i64, ChainError>>),
    Slot(oneshot::Sender<Result<u64, ChainError>>),
    Lamports(Pubkey, oneshot::Sender<Result<u64, ChainError>>),
    Send(
        Vec<Instruction>,
        Option<Arc<Keypair>>,
        oneshot::Sender<Result<Landed, ChainError>>,
    ),
}

/// Runs the chain client on a thread of its own (a current-thread runtime
/// with a local task set). Some of the client's futures cannot be proven
/// `Send` by the compiler (higher-ranked closures inside), so the keeper's
/// multi-threaded tasks talk to it through a channel instead of holding them.
struct ChainThread {
    tx: mpsc::UnboundedSender<Call>,
    metrics: Arc<crate::metrics::Metrics>,
}

fn gone() -> ChainError {
    ChainError::Rpc("the chain thread has stopped".into())
}

impl ChainThread {
    fn start(chain: Chain, payer: Keypair, metrics: Arc<crate::metrics::Metrics>) -> Self {
        let (tx, mut rx) = mpsc::unbounded_channel::<Call>();
        std::thread::Builder::new()
            .name("keeper-chain".into())
            .spawn(move || {
                let runtime = tokio::runtime::Builder::new_current_thread()
                    .enable_all()
                    .build()
                    .expect("chain runtime");
                let local = tokio::task::LocalSet::new();
                let payer = std::rc::Rc::new(payer);
                local.block_on(&runtime, async move {
                    while let Some(call) = rx.recv().await {
                        let (chain, payer) = (chain.clone(), payer.clone());
                        tokio::task::spawn_local(async move {
                            match call {
                                Call::AccountData(k, r) => {
                                    let _ = r.send(chain.account_data(&k).await);
                                }
                                Call::ProgramAccounts(r) => {
                                    let _ = r.send(chain.program_accounts().await);
                                }
                                Call::UnixTime(r) => {
                                    let _ = r.send(chain.unix_time().await);
                                }
                                Call::Slot(r) => {
                                    let _ = r.send(chain.slot().await);
                                }
                                Call::Lamports(k, r) => {
                                    let _ = r.send(chain.lamports(&k).await);
                                }
                                Call::Send(ixs, signer, r) => {
                                    let signers: Vec<&Keypair> =
                                        signer.iter().map(|k| k.as_ref()).collect();
                                    let _ = r.send(chain.send(&ixs, &payer, &signers).await);
                                }
                            }
                        });
                    }
                });
            })
            .expect("spawn the chain thread");
        ChainThread { tx, metrics }
    }

    async fn ask<T>(
        &self,
        make: impl FnOnce(oneshot::Sender<Result<T, ChainError>>) -> Call,
    ) -> Result<T, ChainError> {
        let (reply, rx) = oneshot::channel();
        let call = make(reply);
        let op = match call {
            Call::Send(..) => "send",
            _ => "read",
        };
        self.tx.send(call).map_err(|_| gone())?;
        let result = rx.await.map_err(|_| gone())?;
        match &result {
            Ok(_) => self
                .metrics
                .chain_last_success_timestamp_seconds
                .set(crate::clock::wall_secs()),
            // A refusal is the chain answering: only transport failures count.
            Err(ChainError::Program { .. }) => {}
            Err(_) => self
                .metrics
                .chain_errors_total
                .with_label_values(&[op])
                .inc(),
        }
        result
    }

    async fn account_data(&self, key: Pubkey) -> Result<Option<Vec<u8>>, ChainError> {
        self.ask(|r| Call::AccountData(key, r)).await
    }

    async fn program_accounts(&self) -> Result<Accounts, ChainError> {
        self.ask(Call::ProgramAccounts).await
    }

    async fn unix_time(&self) -> Result<i64, KeeperError> {
        Ok(self.ask(Call::UnixTime).await?)
    }

    async fn send(&self, ixs: Vec<Instruction>) -> Result<Landed, ChainError> {
        self.ask(|r| Call::Send(ixs, None, r)).await
    }
}
