//! The command-line grammar (clap). Values are parsed into their real types
//! here, so malformed input stops before any command runs.

use std::path::PathBuf;
use std::str::FromStr;

use anchor_lang::prelude::Pubkey;
use clap::{Args, Parser, Subcommand, ValueEnum};
use verdict::constants::{ROLE_MINER, ROLE_VALIDATOR};
use verdict::state::{model_id, ModelId, Offense, RiskLevel};

use crate::amount::TokenAmount;
use crate::output::OutputFormat;
use crate::params::ParamSetting;

#[derive(Parser, Debug)]
#[command(
    name = "verdict",
    version,
    about = "Verdict: stake, delegate, run nodes, submit jobs and read reputation on Solana",
    long_about = "Verdict: stake, delegate, run nodes, submit jobs and read reputation on Solana.\n\n\
        Like the solana CLI, it signs with ~/.config/solana/id.json unless -k names another keypair, \
        and reads json_rpc_url and keypair_path from ~/.config/solana/cli/config.yml when present. \
        Commands that move tokens ask for confirmation unless --yes is given."
)]
pub struct Cli {
    #[command(flatten)]
    pub global: GlobalArgs,
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Args, Debug, Clone, Default)]
pub struct GlobalArgs {
    /// Cluster: an http(s) URL or a moniker (m, d, t, l = mainnet-beta, devnet, testnet, localhost:8899)
    #[arg(
        short = 'u',
        long = "url",
        global = true,
        value_name = "URL_OR_MONIKER"
    )]
    pub url: Option<String>,
    /// Keypair file that signs and pays [default: keypair_path of the solana CLI config, else ~/.config/solana/id.json]
    #[arg(short = 'k', long = "keypair", global = true, value_name = "KEYPAIR")]
    pub keypair: Option<PathBuf>,
    /// solana CLI config file [default: ~/.config/solana/cli/config.yml]
    #[arg(short = 'C', long = "config", global = true, value_name = "PATH")]
    pub config_file: Option<PathBuf>,
    /// Output format
    #[arg(long, global = true, value_enum, default_value_t = OutputFormat::Text)]
    pub output: OutputFormat,
    /// Do not ask before moving tokens (required when stdin is not a terminal)
    #[arg(short = 'y', long, global = true)]
    pub yes: bool,
}

#[derive(Subcommand, Debug)]
pub enum Command {
    /// Protocol configuration (governance)
    #[command(subcommand)]
    Config(ConfigCommand),
    /// Your node: registration, self stake, heartbeat, keys
    #[command(subcommand)]
    Node(NodeCommand),
    /// Delegate tokens to a node (you share its rewards and its slashing)
    Delegate(DelegateArgs),
    /// Start unbonding delegated tokens from a node
    Undelegate(UndelegateArgs),
    /// Withdraw delegated tokens whose unbonding period is over
    WithdrawDelegation(WithdrawArgs),
    /// Inference jobs: submit, follow, claim the payout, close
    #[command(subcommand)]
    Job(JobCommand),
    /// The validator committee that attests job outcomes
    #[command(subcommand)]
    Committee(CommitteeCommand),
    /// A node's reputation, now or epoch by epoch from the program's events
    Reputation(ReputationArgs),
    /// Challenge a solved job and vote on its result: open, commit, reveal, resolve, liquidate, claim, close-vote
    #[command(subcommand)]
    Dispute(DisputeCommand),
    /// Slash a node: any offense the authority may (but collusion and approving an invalid result,
    /// which disputes decide), or downtime by anyone when the node's success rate is below the threshold
    Slash(SlashArgs),
}

#[derive(Subcommand, Debug)]
pub enum ConfigCommand {
    /// Create the Config with the protocol's defaults (the signer becomes the authority)
    Init {
        /// Mint of the stake token (9 decimals)
        #[arg(long, value_parser = parse_pubkey)]
        mint: Pubkey,
        /// Override a default: NAME=VALUE (repeatable; names as in `config show`)
        #[arg(long = "set", value_name = "NAME=VALUE", value_parser = ParamSetting::parse)]
        settings: Vec<ParamSetting>,
    },
    /// Print the Config: authority, parameters, slashing table, totals
    Show,
    /// Change parameters (signed by the authority)
    Update {
        /// NAME=VALUE (repeatable); token amounts in tokens, e.g. min_miner_stake=1000
        #[arg(long = "set", value_name = "NAME=VALUE", value_parser = ParamSetting::parse)]
        settings: Vec<ParamSetting>,
        /// Pause or resume every instruction that moves tokens or stake
        #[arg(long, value_name = "BOOL")]
        paused: Option<bool>,
    },
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub enum Role {
    Miner,
    Validator,
}

/// Role flags as the program stores them.
pub fn role_bits(roles: &[Role]) -> u8 {
    roles.iter().fold(0, |bits, role| {
        bits | match role {
            Role::Miner => ROLE_MINER,
            Role::Validator => ROLE_VALIDATOR,
        }
    })
}

#[derive(Subcommand, Debug)]
pub enum NodeCommand {
    /// Register the signer as a node operator
    Register {
        /// miner, validator, or both (comma-separated)
        #[arg(long, value_enum, value_delimiter = ',', required = true)]
        roles: Vec<Role>,
        /// A model the node serves (repeatable)
        #[arg(long = "model", value_name = "MODEL", value_parser = parse_model)]
        models: Vec<ModelId>,
        /// Commission on delegators' rewards, in basis points (100 = 1%)
        #[arg(long, default_value_t = 0)]
        commission_bps: u16,
        /// Keypair file of the key the node signs attestations with (it must sign registration)
        #[arg(long, value_name = "KEYPAIR")]
        signing_keypair: PathBuf,
        /// Where the node serves (http(s)://host[:port][/path]): keepers find miners by it
        #[arg(long, value_name = "URL")]
        endpoint: Option<String>,
    },
    /// Change roles, models, commission or endpoint (unnamed ones stay as they are)
    Update {
        #[arg(long, value_enum, value_delimiter = ',')]
        roles: Option<Vec<Role>>,
        /// Replaces the model list (repeatable)
        #[arg(long = "model", value_name = "MODEL", value_parser = parse_model)]
        models: Vec<ModelId>,
        #[arg(long)]
        commission_bps: Option<u16>,
        /// Where the node serves (http(s)://host[:port][/path]): keepers find miners by it
        #[arg(long, value_name = "URL", conflicts_with = "clear_endpoint")]
        endpoint: Option<String>,
        /// Stop advertising an endpoint (the account's rent comes back)
        #[arg(long)]
        clear_endpoint: bool,
    },
    /// Print a node [default: the signer's]
    Show(NodeSelector),
    /// Add self stake from your token account
    Stake {
        /// Tokens, e.g. 1000 or 1000.5
        #[arg(value_parser = parse_amount)]
        amount: TokenAmount,
        /// Token account to take from [default: your associated token account]
        #[arg(long, value_parser = parse_pubkey)]
        from: Option<Pubkey>,
    },
    /// Start unbonding self stake (withdraw it after the unbonding period)
    Unstake {
        #[arg(value_parser = parse_amount)]
        amount: TokenAmount,
    },
    /// Withdraw self stake whose unbonding period is over
    Withdraw(WithdrawTarget),
    /// Withdraw what the node is owed (payouts, validator fees, bonds back, dispute fees) to your token account
    WithdrawOwed {
        /// Token account to receive the tokens [default: your associated token account, created if missing]
        #[arg(long, value_parser = parse_pubkey)]
        to: Option<Pubkey>,
    },
    /// Tell the program the node is alive (signed by the operator or the signing key)
    Heartbeat(NodeSelector),
    /// Switch to a new attestation signing key (it must sign)
    RotateKey {
        #[arg(long, value_name = "KEYPAIR")]
        new_signing_keypair: PathBuf,
    },
    /// Close an empty node and recover its rent
    Close,
}

#[derive(Args, Debug, Clone)]
pub struct NodeSelector {
    /// Node account, or its operator's key [default: the signer's node]
    #[arg(long, value_parser = parse_pubkey)]
    pub node: Option<Pubkey>,
}

#[derive(Args, Debug, Clone)]
pub struct WithdrawTarget {
    /// One unbonding ticket [default: every released ticket of yours]
    #[arg(long, value_parser = parse_pubkey)]
    pub ticket: Option<Pubkey>,
    /// Token account to receive the tokens [default: your associated token account, created if missing]
    #[arg(long, value_parser = parse_pubkey)]
    pub to: Option<Pubkey>,
}

#[derive(Args, Debug)]
pub struct DelegateArgs {
    /// Node account, or its operator's key
    #[arg(long, value_parser = parse_pubkey)]
    pub node: Pubkey,
    /// Tokens, e.g. 250 or 250.75
    #[arg(value_parser = parse_amount)]
    pub amount: TokenAmount,
    /// Token account to take from [default: your associated token account]
    #[arg(long, value_parser = parse_pubkey)]
    pub from: Option<Pubkey>,
}

#[derive(Args, Debug)]
pub struct UndelegateArgs {
    /// Node account, or its operator's key
    #[arg(long, value_parser = parse_pubkey)]
    pub node: Pubkey,
    /// Tokens to unbond (converted to pool shares, rounded up, never more than you hold)
    #[arg(value_parser = parse_amount, required_unless_present = "all", conflicts_with = "all")]
    pub amount: Option<TokenAmount>,
    /// Unbond your whole delegation
    #[arg(long)]
    pub all: bool,
}

#[derive(Args, Debug)]
pub struct WithdrawArgs {
    /// Node account, or its operator's key
    #[arg(long, value_parser = parse_pubkey)]
    pub node: Pubkey,
    #[command(flatten)]
    pub target: WithdrawTarget,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub enum Risk {
    Low,
    Medium,
    High,
}

impl From<Risk> for RiskLevel {
    fn from(risk: Risk) -> Self {
        match risk {
            Risk::Low => RiskLevel::Low,
            Risk::Medium => RiskLevel::Medium,
            Risk::High => RiskLevel::High,
        }
    }
}

#[derive(Subcommand, Debug)]
pub enum JobCommand {
    /// Submit a job, escrowing its maximum fee
    Submit(SubmitArgs),
    /// Print a job; with --keeper, also its output once it checks out against the chain
    /// (for a generation, the generated text)
    #[command(visible_alias = "show")]
    Status {
        #[arg(value_parser = parse_pubkey)]
        job: Pubkey,
        /// A keeper's API URL to read the output from (repeat, or comma-separate: tried in order)
        #[arg(long = "keeper", value_delimiter = ',', value_name = "URL")]
        keepers: Vec<String>,
    },
    /// What the miners ask now for a job of a model at a risk level (their standing prices, as
    /// the keepers read them): set an informed --max-fee before submitting
    Quote {
        /// Model id, e.g. all-minilm-l6-v2
        #[arg(long)]
        model: String,
        #[arg(long, value_enum, default_value_t = Risk::Low)]
        risk: Risk,
        /// A keeper's API URL (repeat, or comma-separate: tried in order)
        #[arg(
            long = "keeper",
            value_delimiter = ',',
            value_name = "URL",
            required = true
        )]
        keepers: Vec<String>,
    },
    /// Release a solved job's payout (anyone may, once released): the operator's part is credited
    /// to the miner node's owed balance, the co-signers' fee is held until close
    Claim {
        #[arg(value_parser = parse_pubkey)]
        job: Pubkey,
    },
    /// Close a finished job, returning its rent to the client and paying the co-signers' fee (anyone may)
    Close {
        #[arg(value_parser = parse_pubkey)]
        job: Pubkey,
    },
    /// Take a refund your job's recorded refund account could not receive (signed by the client)
    ClaimRefund {
        #[arg(value_parser = parse_pubkey)]
        job: Pubkey,
        /// Token account to receive the refund [default: your associated token account, created if missing]
        #[arg(long, value_parser = parse_pubkey)]
        to: Option<Pubkey>,
    },
}

#[derive(Args, Debug)]
#[command(group(clap::ArgGroup::new("input_source").required(true).args(["input", "input_file", "input_hash", "prompt"])))]
pub struct SubmitArgs {
    /// Model id, e.g. all-minilm-l6-v2, or smollm2-135m-instruct-q4 for text generation
    #[arg(long, value_parser = parse_model)]
    pub model: ModelId,
    /// The input text (its sha256 is recorded, as miners compute it)
    #[arg(long)]
    pub input: Option<String>,
    /// Text generation: the prompt (needs a generative --model; the job's input is the
    /// request as JSON, so its hash binds the prompt and the sampling parameters)
    #[arg(long)]
    pub prompt: Option<String>,
    /// With --prompt: most tokens to generate [default: 48]
    #[arg(long, conflicts_with_all = ["input", "input_file", "input_hash"], value_name = "N")]
    pub max_tokens: Option<u32>,
    /// With --prompt: sample among the K most likely tokens, 1 is greedy [default: 40]
    #[arg(long, conflicts_with_all = ["input", "input_file", "input_hash"], value_name = "K")]
    pub top_k: Option<u32>,
    /// With --prompt: sampling temperature, a decimal with at most 3 places, 0 is greedy
    /// [default: 0.7]
    #[arg(long, conflicts_with_all = ["input", "input_file", "input_hash"], value_name = "T", value_parser = parse_temperature)]
    pub temperature: Option<u32>,
    /// A file whose bytes are the input
    #[arg(long, value_name = "PATH")]
    pub input_file: Option<PathBuf>,
    /// sha256 of the input, 64 hex digits
    #[arg(long, value_name = "HEX", value_parser = parse_hash)]
    pub input_hash: Option<[u8; 32]>,
    #[arg(long, value_enum, default_value_t = Risk::Low)]
    pub risk: Risk,
    /// Most you pay, in tokens (escrowed now; the unused part comes back)
    #[arg(long, value_parser = parse_amount)]
    pub max_fee: TokenAmount,
    /// Job number, unique per client [default: derived from the clock]
    #[arg(long)]
    pub job_id: Option<u64>,
    /// Token account to pay from [default: your associated token account]
    #[arg(long, value_parser = parse_pubkey)]
    pub from: Option<Pubkey>,
    /// Hand the input to a keeper, wait for the result and print its output
    /// once it checks out against the chain (output hash, miner's signature)
    #[arg(long, requires = "keepers")]
    pub wait: bool,
    /// A keeper's API URL (repeat, or comma-separate: tried in order)
    #[arg(
        long = "keeper",
        env = "VERDICT_KEEPERS",
        value_delimiter = ',',
        value_name = "URL"
    )]
    pub keepers: Vec<String>,
    /// With --wait: longest to wait for the verified result
    #[arg(long, default_value_t = 60, value_name = "SECS")]
    pub timeout_secs: u64,
}

#[derive(Subcommand, Debug)]
pub enum CommitteeCommand {
    /// Print the current committee and the draw in progress
    Show,
    /// Enter a validator in the next committee draw (signed by its operator or signing key)
    Enter(CommitteeEnterArgs),
    /// Crank the committee draw: request it once the rotation is due, seed it once its slot has
    /// passed, sweep every entrant in batches (anyone may)
    Draw(CommitteeDrawArgs),
}

#[derive(Args, Debug)]
pub struct CommitteeEnterArgs {
    /// Node account, or its operator's key [default: the signer's node]
    #[arg(long, value_parser = parse_pubkey)]
    pub node: Option<Pubkey>,
}

#[derive(Args, Debug)]
pub struct CommitteeDrawArgs {
    /// Wait (up to this many seconds) for the seed slot to pass instead of stopping there
    #[arg(long, default_value_t = 0)]
    pub wait_secs: u64,
}

#[derive(Args, Debug)]
pub struct ReputationArgs {
    /// Node account, or its operator's key [default: the signer's node]
    #[arg(long, value_parser = parse_pubkey)]
    pub node: Option<Pubkey>,
    /// Reputation per Verdict epoch (last value in each), rebuilt from the program's events
    #[arg(long)]
    pub history: bool,
}

/// The job a dispute is about (the dispute's address derives from it).
#[derive(Args, Debug, Clone)]
pub struct JobArg {
    /// The disputed job's account
    #[arg(long, value_parser = parse_pubkey)]
    pub job: Pubkey,
}

#[derive(Subcommand, Debug)]
pub enum DisputeCommand {
    /// Challenge a solved job with your node, naming the result you recomputed and posting the bond
    /// (max(min_bond, price × bond_multiple))
    Open {
        #[command(flatten)]
        job: JobArg,
        /// The result you recomputed (it must differ from the job's output hash), 64 hex digits
        #[arg(long, value_name = "HEX", value_parser = parse_bytes32)]
        result: [u8; 32],
        /// Token account the bond is taken from [default: your associated token account]
        #[arg(long, value_parser = parse_pubkey)]
        from: Option<Pubkey>,
    },
    /// Commit your node's vote: the hash of the result and a salt (keep the salt to reveal);
    /// posts the vote deposit, returned at reveal
    Commit {
        #[command(flatten)]
        job: JobArg,
        /// The result you vote for (the job's correct output hash), 64 hex digits
        #[arg(long, value_name = "HEX", value_parser = parse_bytes32)]
        result: [u8; 32],
        /// 64 hex digits [default: a fresh random salt, printed]
        #[arg(long, value_name = "HEX", value_parser = parse_bytes32)]
        salt: Option<[u8; 32]>,
        /// Token account the vote deposit is taken from [default: your associated token account]
        #[arg(long, value_parser = parse_pubkey)]
        from: Option<Pubkey>,
    },
    /// Reveal your committed vote (in the reveal phase); the vote deposit comes back
    Reveal {
        #[command(flatten)]
        job: JobArg,
        /// The result you committed to, 64 hex digits
        #[arg(long, value_name = "HEX", value_parser = parse_bytes32)]
        result: [u8; 32],
        /// The salt you committed with, 64 hex digits
        #[arg(long, value_name = "HEX", value_parser = parse_bytes32)]
        salt: [u8; 32],
        /// Your token account to receive the deposit back [default: your associated token account, created if missing]
        #[arg(long, value_parser = parse_pubkey)]
        to: Option<Pubkey>,
    },
    /// Decide the dispute once the vote is over (anyone may); the challenger's and the miner's
    /// shares are credited to their nodes' owed balances
    Resolve {
        #[command(flatten)]
        job: JobArg,
    },
    /// Liquidate a node the decided dispute condemned (anyone may)
    Liquidate(LiquidateArgs),
    /// Claim your node's share of the pool for voting with the result (pro rata to vote weight)
    Claim {
        #[command(flatten)]
        job: JobArg,
        /// Token account to receive the reward [default: your associated token account, created if missing]
        #[arg(long, value_parser = parse_pubkey)]
        to: Option<Pubkey>,
    },
    /// Close your settled vote (never revealed, unresolved dispute, or liquidated) and recover its rent
    CloseVote {
        #[command(flatten)]
        job: JobArg,
    },
    /// Print a dispute: status, phases, candidates and their weights, turnout, liquidations, pool
    Show {
        #[command(flatten)]
        job: JobArg,
    },
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub enum Target {
    /// A node whose revealed vote differs from the result
    Voter,
    /// The miner of an overturned outcome
    Miner,
    /// A validator that signed an overturned outcome
    Signer,
}

#[derive(Args, Debug)]
pub struct LiquidateArgs {
    #[command(flatten)]
    pub job: JobArg,
    /// Node account, or its operator's key
    #[arg(long, value_parser = parse_pubkey, required_unless_present = "all", conflicts_with = "all")]
    pub node: Option<Pubkey>,
    #[arg(
        long,
        value_enum,
        required_unless_present = "all",
        conflicts_with = "all"
    )]
    pub target: Option<Target>,
    /// The signer's position in the outcome's signers [default: found from --node]
    #[arg(long, requires = "target")]
    pub index: Option<u8>,
    /// Every liquidation still pending: the miner, the signers, the voters against the result
    #[arg(long)]
    pub all: bool,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub enum OffenseArg {
    InvalidSignature,
    Collusion,
    ApproveInvalid,
    Downtime,
    FrontRunning,
}

impl From<OffenseArg> for Offense {
    fn from(offense: OffenseArg) -> Self {
        match offense {
            OffenseArg::InvalidSignature => Offense::InvalidSignature,
            OffenseArg::Collusion => Offense::Collusion,
            OffenseArg::ApproveInvalid => Offense::ApproveInvalid,
            OffenseArg::Downtime => Offense::Downtime,
            OffenseArg::FrontRunning => Offense::FrontRunning,
        }
    }
}

#[derive(Args, Debug)]
pub struct SlashArgs {
    /// Node account, or its operator's key
    #[arg(long, value_parser = parse_pubkey)]
    pub node: Pubkey,
    #[arg(long, value_enum)]
    pub offense: OffenseArg,
    /// Hash of the evidence, 64 hex digits (one slash per node and evidence)
    /// [default for downtime: the current Verdict epoch's downtime evidence; required otherwise]
    #[arg(long, value_name = "HEX", value_parser = parse_bytes32)]
    pub evidence: Option<[u8; 32]>,
}

pub fn parse_pubkey(input: &str) -> Result<Pubkey, String> {
    Pubkey::from_str(input).map_err(|_| format!("'{input}' is not a public key (base58, 32 bytes)"))
}

pub fn parse_amount(input: &str) -> Result<TokenAmount, String> {
    input
        .parse()
        .map_err(|e: crate::amount::AmountError| e.to_string())
}

/// A temperature like `0.7` in thousandths (700): a decimal with at most
/// three places, read digit by digit (no float rounding).
pub fn parse_temperature(input: &str) -> Result<u32, String> {
    let bad =
        || format!("'{input}' is not a temperature (a decimal like 0.7, at most 3 decimal places)");
    let (whole, fraction) = input.split_once('.').unwrap_or((input, ""));
    let digits = |part: &str| part.bytes().all(|b| b.is_ascii_digit());
    if (whole.is_empty() && fraction.is_empty())
        || !digits(whole)
        || !digits(fraction)
        || fraction.len() > 3
        || (input.contains('.') && fraction.is_empty())
    {
        return Err(bad());
    }
    let whole: u32 = if whole.is_empty() {
        0
    } else {
        whole.parse().map_err(|_| bad())?
    };
    let fraction: u32 = format!("{fraction:0<3}").parse().map_err(|_| bad())?;
    whole
        .checked_mul(1_000)
        .and_then(|milli| milli.checked_add(fraction))
        .ok_or_else(bad)
}

pub fn parse_model(input: &str) -> Result<ModelId, String> {
    model_id(input).map_err(|_| {
        format!("'{input}' is not a model id (1 to 32 printable ASCII characters, no spaces)")
    })
}

pub fn parse_hash(input: &str) -> Result<[u8; 32], String> {
    let bad = || format!("'{input}' is not a sha256 hash (64 hex digits)");
    if input.len() != 64 || !input.is_ascii() {
        return Err(bad());
    }
    let mut out = [0u8; 32];
    for (i, byte) in out.iter_mut().enumerate() {
        *byte = u8::from_str_radix(&input[2 * i..2 * i + 2], 16).map_err(|_| bad())?;
    }
    Ok(out)
}

/// 32 bytes as 64 hex digits (a result, a salt, an evidence hash).
pub fn parse_bytes32(input: &str) -> Result<[u8; 32], String> {
    let bad = || format!("'{input}' is not 32 bytes of hex (64 hex digits)");
    if !input.bytes().all(|b| b.is_ascii_hexdigit()) {
        return Err(bad());
    }
    parse_hash(input).map_err(|_| bad())
}

#[cfg(test)]
mod tests {
    use super::*;
    use clap::CommandFactory;

    #[test]
    fn grammar_is_consistent() {
        Cli::command().debug_assert();
    }

    #[test]
    fn hashes_are_64_hex_digits() {
        assert_eq!(parse_hash(&"ab".repeat(32)).unwrap(), [0xab; 32]);
        assert!(parse_hash("ab").is_err());
        assert!(parse_hash(&"zz".repeat(32)).is_err());
        assert_eq!(parse_bytes32(&"0A".repeat(32)).unwrap(), [10; 32]);
        assert!(parse_bytes32(&"0a".repeat(31))
            .unwrap_err()
            .contains("64 hex digits"));
    }

    #[test]
    fn temperatures_are_decimals_in_thousandths() {
        for (text, milli) in [
            ("0.7", 700),
            ("0", 0),
            ("1", 1_000),
            ("1.25", 1_250),
            (".5", 500),
            ("0.001", 1),
            ("2.000", 2_000),
            ("0.07", 70),
        ] {
            assert_eq!(parse_temperature(text), Ok(milli), "{text}");
        }
        for bad in [
            "", ".", "1.", "-0.5", "0.0001", "1e3", "0,7", " 1", "nan", "4294968",
        ] {
            assert!(parse_temperature(bad).is_err(), "{bad:?}");
        }
    }

    #[test]
    fn a_prompt_excludes_the_other_inputs_and_sampling_needs_a_prompt() {
        let parse = |extra: &[&str]| {
            let mut argv = vec!["verdict", "job", "submit", "--model", "m", "--max-fee", "1"];
            argv.extend_from_slice(extra);
            Cli::try_parse_from(argv)
        };
        assert!(parse(&["--prompt", "hi", "--temperature", "0.7", "--top-k", "1"]).is_ok());
        assert!(parse(&["--prompt", "hi", "--input", "x"]).is_err());
        assert!(parse(&["--input", "x", "--max-tokens", "4"]).is_err());
        assert!(parse(&["--prompt", "hi", "--temperature", "0.7777"]).is_err());
    }
}
