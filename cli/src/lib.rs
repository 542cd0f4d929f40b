//! The `verdict` command line as a library: [`run`] executes one parsed
//! command against an [`Env`] (the chain, the signer, the terminal) and
//! returns its [`Output`], text and JSON. `main.rs` only parses, builds the
//! environment over JSON-RPC, prints and maps errors to exit codes, so the
//! tests drive the very same path on the embedded chain.

pub mod amount;
pub mod args;
pub mod commands;
pub mod env;
pub mod error;
pub mod output;
pub mod params;
pub mod settings;
pub mod token;

pub use args::Cli;
pub use env::Env;
pub use error::CliError;
pub use output::{Output, OutputFormat};

use args::Command;
use commands::{committee, config, delegation, dispute, job, node, reputation, slash};
use env::Session;

/// Runs one command. Nothing is sent before every input is checked, and
/// commands that move tokens confirm first (see [`Session::confirm`]).
pub async fn run(cli: Cli, env: &Env) -> Result<Output, CliError> {
    let session = Session {
        env,
        assume_yes: cli.global.yes,
    };
    let s = &session;
    // Each command's future on the heap: together they are too large for
    // a test thread's stack.
    match cli.command {
        Command::Config(command) => Box::pin(config::run(s, command)).await,
        Command::Node(command) => Box::pin(node::run(s, command)).await,
        Command::Delegate(args) => Box::pin(delegation::delegate(s, args)).await,
        Command::Undelegate(args) => Box::pin(delegation::undelegate(s, args)).await,
        Command::WithdrawDelegation(args) => Box::pin(delegation::withdraw(s, args)).await,
        Command::Job(command) => Box::pin(job::run(s, command)).await,
        Command::Committee(command) => Box::pin(committee::run(s, command)).await,
        Command::Reputation(args) => Box::pin(reputation::run(s, args)).await,
        Command::Dispute(command) => Box::pin(dispute::run(s, command)).await,
        Command::Slash(args) => Box::pin(slash::run(s, args)).await,
    }
}
