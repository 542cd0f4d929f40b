//! Account types, one file each, with their invariants as methods.

/// What every zero-copy account has alike: its size with the discriminator
/// (`SPACE`), `Default` as all zero (the account as it is created), and
/// `AccountSerialize` (the discriminator, then its bytes) for clients and
/// tests that write a whole account; the program itself writes in place,
/// through `AccountLoader`.
macro_rules! zero_copy_account {
    ($account:ty) => {
        impl $account {
            /// Account size, discriminator included.
            pub const SPACE: usize = 8 + std::mem::size_of::<$account>();
        }

        impl Default for $account {
            fn default() -> Self {
                bytemuck::Zeroable::zeroed()
            }
        }

        impl AccountSerialize for $account {
            fn try_serialize<W: std::io::Write>(&self, writer: &mut W) -> Result<()> {
                writer
                    .write_all(<$account>::DISCRIMINATOR)
                    .and_then(|()| writer.write_all(bytemuck::bytes_of(self)))
                    .map_err(|_| ErrorCode::AccountDidNotSerialize.into())
            }
        }
    };
}
pub(crate) use zero_copy_account;

/// Declares an enum a zero-copy account stores as its one-byte
/// discriminant behind typed accessors (the setters write `variant as u8`),
/// with `ALL` (every variant, in declaration order) and `from_stored`.
/// `from_stored` decodes with that same cast, so reordering the variants
/// cannot make the two disagree; a byte no variant has (never written by
/// the program, so only in a forged RPC answer) reads as the default
/// variant.
macro_rules! stored_as_byte {
    (
        $(#[$meta:meta])*
        pub enum $enum:ident {
            $($(#[$variant_meta:meta])* $variant:ident),+ $(,)?
        }
    ) => {
        $(#[$meta])*
        pub enum $enum {
            $($(#[$variant_meta])* $variant),+
        }

        impl $enum {
            /// Every variant, in declaration order.
            pub const ALL: &'static [$enum] = &[$($enum::$variant),+];

            /// The variant stored as `byte`.
            pub fn from_stored(byte: u8) -> Self {
                Self::ALL
                    .iter()
                    .copied()
                    .find(|v| *v as u8 == byte)
                    .unwrap_or_default()
            }
        }
    };
}
pub(crate) use stored_as_byte;

pub mod committee;
pub mod committee_draw;
pub mod config;
pub mod delegation;
pub mod dispute;
pub mod job;
pub mod node;
pub mod node_endpoint;
pub mod params;
pub mod reputation;
pub mod share_pool;
pub mod slash_record;
pub mod timeout_report;
pub mod unbond_ticket;

pub use committee::*;
pub use committee_draw::*;
pub use config::*;
pub use delegation::*;
pub use dispute::*;
pub use job::*;
pub use node::*;
pub use node_endpoint::*;
pub use params::*;
pub use reputation::*;
pub use share_pool::*;
pub use slash_record::*;
pub use timeout_report::*;
pub use unbond_ticket::*;
