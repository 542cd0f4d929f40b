//! The committee draw from a client's side: which step is due next, and
//! whether a validator should enter. Pure, so every crank (keepers, the
//! CLI, the main job) decides the same way.

use anchor_lang::prelude::Pubkey;
use verdict::state::{Committee, DrawPhase, Node, ProtocolParams};

/// Entrants one sweep transaction names. Bound by compute, not by size:
/// on the SBF build each entrant costs about 14.5k CU (its whole Node is
/// read and written back) on top of ~14k, so 8 of them (~130k) stay well
/// under the 200k a transaction gets by default; 20 cost 305k.
pub const SWEEP_BATCH: usize = 8;

/// The next permissionless step of the draw.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum DrawStep {
    /// Close entry and name the seed slot.
    Request,
    /// Read the seed slot's hash.
    Seed,
    /// Sweep these entrants (at most [`SWEEP_BATCH`]).
    Sweep(Vec<Pubkey>),
    /// Nothing to do yet, and why.
    Wait(&'static str),
}

/// What is due, given the committee, the chain's clock and slot, and every
/// node the caller knows of.
pub fn next_step(
    committee: &Committee,
    params: &ProtocolParams,
    now: i64,
    slot: u64,
    nodes: &[(Pubkey, Node)],
) -> DrawStep {
    let draw = &committee.draw;
    match draw.phase() {
        DrawPhase::Entry => {
            if !committee.rotation_due(now, params.committee_rotation_secs) {
                DrawStep::Wait("rotation not due")
            } else if draw.entrants < params.committee_quorum as u32 {
                DrawStep::Wait("fewer entrants than the quorum")
            } else {
                DrawStep::Request
            }
        }
        DrawPhase::Seeding if slot > draw.target_slot => DrawStep::Seed,
        DrawPhase::Seeding => DrawStep::Wait("seed slot not reached"),
        DrawPhase::Sweeping => {
            let mut unswept: Vec<Pubkey> = unswept(committee, nodes).collect();
            if unswept.is_empty() {
                return DrawStep::Wait("entrants not visible yet");
            }
            unswept.sort();
            unswept.truncate(SWEEP_BATCH);
            DrawStep::Sweep(unswept)
        }
    }
}

/// Entrants of the current round not swept yet.
pub fn unswept<'a>(
    committee: &'a Committee,
    nodes: &'a [(Pubkey, Node)],
) -> impl Iterator<Item = Pubkey> + 'a {
    let round = committee.draw.round;
    nodes
        .iter()
        .filter(move |(_, n)| n.draw_entry.entered(round) && !n.draw_entry.swept(round))
        .map(|(k, _)| *k)
}

/// True when `node` may and should enter the draw now.
pub fn should_enter(committee: &Committee, node: &Node, params: &ProtocolParams) -> bool {
    committee.draw.phase() == DrawPhase::Entry
        && !node.draw_entry.entered(committee.draw.round)
        && node.is_eligible_validator(params)
}
