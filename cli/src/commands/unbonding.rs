//! Unbonding tickets, shared by `node unstake`/`node withdraw` (self stake)
//! and `undelegate`/`withdraw-delegation` (delegations): what a request
//! queued, and withdrawing released tickets.

use anchor_lang::prelude::Pubkey;
use serde_json::{json, Value};
use verdict::state::{TicketKind, UnbondTicket};
use verdict_chain::Landed;
use verdict_sdk::events::VerdictEvent;
use verdict_sdk::instructions as ix;

use super::{events, landed_json, with};
use crate::amount::format_tokens;
use crate::args::WithdrawTarget;
use crate::env::Session;
use crate::error::CliError;
use crate::output::{labelled, Output};

/// Withdrawals per transaction: each adds a ticket and a node to the
/// message; four stay well inside the transaction size limit.
const WITHDRAWALS_PER_TRANSACTION: usize = 4;

fn kind_name(kind: TicketKind) -> &'static str {
    match kind {
        TicketKind::SelfStake => "self stake",
        TicketKind::Delegation => "delegation",
    }
}

/// The ticket a request opened, read from its `UnbondingQueued` event.
pub fn queued(landed: &Landed) -> Result<Output, CliError> {
    let queued = events(landed)
        .into_iter()
        .find_map(|e| match e {
            VerdictEvent::UnbondingQueued(e) => Some(e),
            _ => None,
        })
        .ok_or_else(|| {
            CliError::Chain("the transaction landed without an UnbondingQueued event".into())
        })?;
    let json = with(
        json!({
            "node": queued.node.to_string(),
            "ticket": queued.ticket.to_string(),
            "kind": kind_name(queued.kind),
            "amount": queued.amount,
            "shares": queued.shares,
            "release_at": queued.release_at,
        }),
        landed_json(landed),
    );
    let text = labelled(&[
        (
            "Unbonding",
            format!(
                "{} tokens ({})",
                format_tokens(queued.amount),
                kind_name(queued.kind)
            ),
        ),
        ("Node", queued.node.to_string()),
        ("Ticket", queued.ticket.to_string()),
        ("Withdrawable At", queued.release_at.to_string()),
        ("Signature", landed.signature.to_string()),
    ]);
    Ok(Output::new(text, json))
}

/// Withdraws one named ticket, or every released ticket of the signer's of
/// `kind` on `node`, to `target.to` (default: the signer's associated account).
pub async fn withdraw(
    s: &Session<'_>,
    node: Pubkey,
    kind: TicketKind,
    target: WithdrawTarget,
) -> Result<Output, CliError> {
    let owner = s.signer_pubkey()?;
    let config = s.config().await?;
    let now = s.now().await?;
    let tickets: Vec<(Pubkey, UnbondTicket)> = match target.ticket {
        Some(address) => vec![(address, s.fetch(&address, "unbonding ticket").await?)],
        None => {
            let mine: Vec<_> = s
                .accounts_of::<UnbondTicket>()
                .await?
                .into_iter()
                .filter(|(_, t)| t.node == node && t.owner == owner && t.kind == kind)
                .collect();
            let next = mine
                .iter()
                .filter(|(_, t)| t.release_at > now)
                .map(|(_, t)| t.release_at)
                .min();
            let released: Vec<_> = mine
                .into_iter()
                .filter(|(_, t)| t.release_at <= now)
                .collect();
            if released.is_empty() {
                return Err(CliError::Refused(match next {
                    Some(at) => format!(
                        "no {} ticket on node {node} is released yet; the next one is at {at}",
                        kind_name(kind)
                    ),
                    None => format!(
                        "you have no {} unbonding ticket on node {node}",
                        kind_name(kind)
                    ),
                }));
            }
            released
        }
    };
    let (destination, create) = s.destination_tokens(target.to, &owner, &config.stake_mint)?;
    let total: u64 = tickets.iter().map(|(_, t)| t.requested_amount).sum();
    s.confirm(&format!(
        "Withdraw {} unbonded {} ticket(s) (requested {} tokens) from node {node} to {destination}.",
        tickets.len(),
        kind_name(kind),
        format_tokens(total)
    ))?;
    let mut withdrawn = Vec::new();
    let mut signatures = Vec::new();
    let mut paid = 0u64;
    for (batch_index, batch) in tickets.chunks(WITHDRAWALS_PER_TRANSACTION).enumerate() {
        // Only the first transaction needs to create the destination.
        let mut instructions = if batch_index == 0 {
            create.clone()
        } else {
            Vec::new()
        };
        for (ticket, t) in batch {
            instructions.push(match kind {
                TicketKind::SelfStake => {
                    ix::withdraw_unbonded(&owner, &t.node, ticket, &destination)
                }
                TicketKind::Delegation => {
                    ix::withdraw_undelegated(&owner, &t.node, ticket, &destination)
                }
            });
        }
        let landed = s.send(&instructions, &[]).await?;
        for event in events(&landed) {
            if let VerdictEvent::UnbondingWithdrawn(e) = event {
                paid += e.amount;
                withdrawn.push(json!({ "ticket": e.ticket.to_string(), "amount": e.amount }));
            }
        }
        signatures.push(landed);
    }
    let json: Value = json!({
        "node": node.to_string(),
        "kind": kind_name(kind),
        "destination": destination.to_string(),
        "amount": paid,
        "tickets": withdrawn,
        "signatures": signatures.iter().map(|l| l.signature.to_string()).collect::<Vec<_>>(),
    });
    let text = labelled(&[
        (
            "Withdrawn",
            format!(
                "{} tokens from {} ticket(s)",
                format_tokens(paid),
                tickets.len()
            ),
        ),
        ("Node", node.to_string()),
        ("To", destination.to_string()),
        (
            "Signature",
            signatures
                .iter()
                .map(|l| l.signature.to_string())
                .collect::<Vec<_>>()
                .join(", "),
        ),
    ]);
    Ok(Output::new(text, json))
}
