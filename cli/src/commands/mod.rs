//! One module per command group; each builds its instructions through the
//! SDK and returns an [`Output`](crate::output::Output).

pub mod committee;
pub mod config;
pub mod delegation;
pub mod dispute;
pub mod job;
pub mod node;
pub mod reputation;
pub mod slash;
pub mod unbonding;

use serde_json::{json, Value};
use verdict_chain::Landed;
use verdict_sdk::events::{parse_logs, VerdictEvent};

/// The transaction part of a command's JSON.
pub fn landed_json(landed: &Landed) -> Value {
    json!({ "signature": landed.signature.to_string(), "slot": landed.slot })
}

/// The program's events in a landed transaction.
pub fn events(landed: &Landed) -> Vec<VerdictEvent> {
    parse_logs(&landed.logs)
}

/// Merges `extra` into the object `base`.
pub fn with(mut base: Value, extra: Value) -> Value {
    if let (Some(b), Value::Object(e)) = (base.as_object_mut(), extra) {
        b.extend(e);
    }
    base
}

pub fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// A model id's name (its bytes up to the zero padding).
pub fn model_name(id: &[u8]) -> String {
    let len = id.iter().position(|&b| b == 0).unwrap_or(id.len());
    String::from_utf8_lossy(&id[..len]).into_owned()
}
