//! `verdict delegate`, `undelegate`, `withdraw-delegation`: a staker's side.
//! Stakers think in tokens, the pool in shares: undelegating converts an
//! amount to shares at the pool's current price.

use anchor_lang::prelude::Pubkey;
use serde_json::json;
use verdict::state::{Delegation, Node, TicketKind};
use verdict_sdk::{instructions as ix, pda};

use super::{landed_json, unbonding, with};
use crate::amount::format_tokens;
use crate::args::{DelegateArgs, UndelegateArgs, WithdrawArgs};
use crate::env::Session;
use crate::error::CliError;
use crate::output::{labelled, Output};

pub async fn delegate(s: &Session<'_>, args: DelegateArgs) -> Result<Output, CliError> {
    let staker = s.signer_pubkey()?;
    let config = s.config().await?;
    let (node, _) = s.resolve_node(Some(args.node)).await?;
    let source = s
        .source_tokens(args.from, &config.stake_mint, args.amount.0)
        .await?;
    s.confirm(&format!(
        "Delegate {} tokens from {source} to node {node}.",
        args.amount
    ))?;
    let landed = s
        .send(&[ix::delegate(&staker, &node, &source, args.amount.0)], &[])
        .await?;
    let out = view(s, &node, &staker).await?;
    Ok(Output::new(
        format!(
            "Delegated {} tokens\nSignature: {}\n\n{}",
            args.amount, landed.signature, out.text
        ),
        with(out.json, landed_json(&landed)),
    ))
}

pub async fn undelegate(s: &Session<'_>, args: UndelegateArgs) -> Result<Output, CliError> {
    let staker = s.signer_pubkey()?;
    let (node_address, node) = s.resolve_node(Some(args.node)).await?;
    let delegation: Delegation = s
        .fetch(&pda::delegation(&node_address, &staker), "delegation")
        .await?;
    let shares = match args.amount {
        None => delegation.shares,
        Some(amount) => shares_for(amount.0, &node, &delegation)?,
    };
    let value = node.delegation.value_of(shares).unwrap_or(0);
    s.confirm(&format!(
        "Start unbonding {shares} delegation shares (about {} tokens) from node {node_address}.",
        format_tokens(value)
    ))?;
    let landed = s
        .send(
            &[ix::request_undelegate(
                &staker,
                &node_address,
                node.next_ticket_id,
                shares,
            )],
            &[],
        )
        .await?;
    unbonding::queued(&landed)
}

pub async fn withdraw(s: &Session<'_>, args: WithdrawArgs) -> Result<Output, CliError> {
    let (node, _) = s.resolve_node(Some(args.node)).await?;
    unbonding::withdraw(s, node, TicketKind::Delegation, args.target).await
}

/// Shares worth at least `amount` at the pool's price (rounded up, so the
/// staker gets what they asked for), never more than they hold.
pub fn shares_for(amount: u64, node: &Node, delegation: &Delegation) -> Result<u64, CliError> {
    let pool = node.delegation;
    let held = pool.value_of(delegation.shares).unwrap_or(0);
    if amount > held || pool.amount == 0 {
        return Err(CliError::Refused(format!(
            "you have {} tokens delegated to this node; cannot undelegate {}",
            format_tokens(held),
            format_tokens(amount)
        )));
    }
    let shares = (amount as u128 * pool.shares as u128).div_ceil(pool.amount as u128);
    Ok((shares as u64).min(delegation.shares))
}

/// A staker's delegation to a node.
async fn view(s: &Session<'_>, node_address: &Pubkey, staker: &Pubkey) -> Result<Output, CliError> {
    let node: Node = s.fetch(node_address, "node").await?;
    let address = pda::delegation(node_address, staker);
    let delegation: Delegation = s.fetch(&address, "delegation").await?;
    let value = node.delegation.value_of(delegation.shares).unwrap_or(0);
    let json = json!({
        "delegation": address.to_string(),
        "node": node_address.to_string(),
        "staker": staker.to_string(),
        "shares": delegation.shares,
        "value": value,
        "pool_amount": node.delegation.amount,
        "pool_shares": node.delegation.shares,
    });
    let text = labelled(&[
        ("Delegation", address.to_string()),
        ("Node", node_address.to_string()),
        ("Shares", delegation.shares.to_string()),
        ("Value", format_tokens(value)),
        (
            "Node Delegated Total",
            format_tokens(node.delegation.amount),
        ),
    ]);
    Ok(Output::new(text, json))
}
