//! One file per instruction: its args, its accounts, a `validate`, a `handler`.
// Each module has its own `handler`; lib.rs calls them by full path.
#![allow(ambiguous_glob_reexports)]

pub mod accept_authority;
pub mod close_node;
pub mod delegate;
pub mod initialize_config;
pub mod propose_authority;
pub mod register_node;
pub mod request_undelegate;
pub mod request_unstake;
pub mod rotate_signing_key;
pub mod set_paused;
pub mod stake;
pub mod update_config;
pub mod update_node;
pub mod withdraw_unbonded;

pub use accept_authority::*;
pub use close_node::*;
pub use delegate::*;
pub use initialize_config::*;
pub use propose_authority::*;
pub use register_node::*;
pub use request_undelegate::*;
pub use request_unstake::*;
pub use rotate_signing_key::*;
pub use set_paused::*;
pub use stake::*;
pub use update_config::*;
pub use update_node::*;
pub use withdraw_unbonded::*;
