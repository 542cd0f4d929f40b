//! Account types, one file each, with their invariants as methods.

pub mod config;
pub mod delegation;
pub mod node;
pub mod params;
pub mod share_pool;
pub mod unbond_ticket;

pub use config::*;
pub use delegation::*;
pub use node::*;
pub use params::*;
pub use share_pool::*;
pub use unbond_ticket::*;
