//! What can go wrong talking to the chain, with the program's own error
//! name and message when the program refused.

pub use verdict_sdk::ProgramFailure;

#[derive(Debug, thiserror::Error)]
pub enum ChainError {
    #[error("the program refused: {failure}")]
    Program {
        failure: ProgramFailure,
        logs: Vec<String>,
    },
    #[error("rpc error: {0}")]
    Rpc(String),
    #[error("not confirmed in time: {0}")]
    Timeout(String),
    #[error("cannot decode: {0}")]
    Decode(String),
}

impl ChainError {
    /// The program's error name, when the program refused.
    pub fn program_error_name(&self) -> Option<&str> {
        match self {
            ChainError::Program { failure, .. } => failure.name.as_deref(),
            _ => None,
        }
    }
}
