//! One file per instruction: its args, its accounts, a `validate`, a `handler`.
//! Instructions that check a committee attestation call `validate` from the
//! handler (it returns who signed); the others run it as access control.
// Each module has its own `handler`; lib.rs calls them by full path.
#![allow(ambiguous_glob_reexports)]

pub mod accept_authority;
pub mod assign_job;
pub mod claim_boost;
pub mod claim_payout;
pub mod close_job;
pub mod close_node;
pub mod complete_job;
pub mod compound_rewards;
pub mod delegate;
pub mod expire_job;
pub mod fail_job;
pub mod fund_reward_pool;
pub mod heartbeat;
pub mod initialize_config;
pub mod propose_authority;
pub mod record_trial;
pub mod register_node;
pub mod reject_job;
pub mod report_validator_timeout;
pub mod request_undelegate;
pub mod request_unstake;
pub mod rotate_committee;
pub mod rotate_signing_key;
pub mod set_paused;
pub mod settle_job;
pub mod stake;
pub mod submit_job;
pub mod update_config;
pub mod update_node;
pub mod withdraw_unbonded;

pub use accept_authority::*;
pub use assign_job::*;
pub use claim_boost::*;
pub use claim_payout::*;
pub use close_job::*;
pub use close_node::*;
pub use complete_job::*;
pub use compound_rewards::*;
pub use delegate::*;
pub use expire_job::*;
pub use fail_job::*;
pub use fund_reward_pool::*;
pub use heartbeat::*;
pub use initialize_config::*;
pub use propose_authority::*;
pub use record_trial::*;
pub use register_node::*;
pub use reject_job::*;
pub use report_validator_timeout::*;
pub use request_undelegate::*;
pub use request_unstake::*;
pub use rotate_committee::*;
pub use rotate_signing_key::*;
pub use set_paused::*;
pub use settle_job::*;
pub use stake::*;
pub use submit_job::*;
pub use update_config::*;
pub use update_node::*;
pub use withdraw_unbonded::*;
