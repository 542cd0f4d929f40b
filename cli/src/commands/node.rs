//! `verdict node …`: register, update, show, stake, unstake, withdraw,
//! withdraw-owed, heartbeat, rotate-key, close — the operator's side of a
//! node, its advertised endpoint included.

use anchor_lang::prelude::Pubkey;
use serde_json::json;
use solana_sdk::signer::Signer;
use verdict::constants::{ROLE_MINER, ROLE_VALIDATOR};
use verdict::errors::VerdictError;
use verdict::state::{
    Node, NodeEndpoint, NodeStatus, ProtocolParams, Standing, TicketKind, TrialStatus,
};
use verdict_sdk::accounts::decode;
use verdict_sdk::events::VerdictEvent;
use verdict_sdk::{instructions as ix, pda};

use super::{events, landed_json, model_name, unbonding, with};
use crate::amount::format_tokens;
use crate::args::{role_bits, NodeCommand};
use crate::env::{read_keypair, Session};
use crate::error::CliError;
use crate::output::{bps_fraction, bps_percent, labelled, Output};

pub async fn run(s: &Session<'_>, command: NodeCommand) -> Result<Output, CliError> {
    match command {
        NodeCommand::Register {
            roles,
            models,
            commission_bps,
            signing_keypair,
            endpoint,
        } => {
            let operator = s.signer_pubkey()?;
            let signing_key = read_keypair(&signing_keypair)?;
            if let Some(url) = &endpoint {
                check_endpoint(url)?;
            }
            let config = s.config().await?;
            let node = pda::node(&operator);
            if s.account_data(&node).await?.is_some() {
                return Err(CliError::Refused(format!(
                    "{operator} already operates node {node}"
                )));
            }
            let register = ix::register_node(
                &operator,
                &signing_key.pubkey(),
                &config.stake_mint,
                role_bits(&roles),
                models,
                commission_bps,
            );
            let mut instructions = vec![register];
            instructions.extend(
                endpoint
                    .as_deref()
                    .map(|url| ix::set_node_endpoint(&operator, &node, url)),
            );
            let landed = s.send(&instructions, &[&signing_key]).await?;
            shown(s, node, &landed, "Registered node").await
        }
        NodeCommand::Update {
            roles,
            models,
            commission_bps,
            endpoint,
            clear_endpoint,
        } => {
            let operator = s.signer_pubkey()?;
            let node_address = pda::node(&operator);
            let node: Node = s.fetch(&node_address, "node").await?;
            let changes_node = roles.is_some() || !models.is_empty() || commission_bps.is_some();
            if !changes_node && endpoint.is_none() && !clear_endpoint {
                return Err(CliError::Input(
                    "nothing to update: pass --roles, --model, --commission-bps, --endpoint or --clear-endpoint".into(),
                ));
            }
            let mut instructions = Vec::new();
            if changes_node {
                let roles = roles.map(|r| role_bits(&r)).unwrap_or(node.roles);
                let models = if models.is_empty() {
                    node.models[..node.model_count as usize].to_vec()
                } else {
                    models
                };
                instructions.push(ix::update_node(
                    &operator,
                    roles,
                    models,
                    commission_bps.unwrap_or(node.commission_bps),
                ));
            }
            if let Some(url) = &endpoint {
                check_endpoint(url)?;
                instructions.push(ix::set_node_endpoint(&operator, &node_address, url));
            }
            if clear_endpoint {
                if s.account_data(&pda::endpoint(&node_address))
                    .await?
                    .is_none()
                {
                    return Err(CliError::Refused(format!(
                        "node {node_address} advertises no endpoint"
                    )));
                }
                instructions.push(ix::close_node_endpoint(&operator, &node_address, &operator));
            }
            let landed = s.send(&instructions, &[]).await?;
            shown(s, node_address, &landed, "Updated node").await
        }
        NodeCommand::Show(selector) => {
            let (address, node) = s.resolve_node(selector.node).await?;
            let params = s.config().await?.params;
            let endpoint = endpoint_of(s, &address).await?;
            Ok(view(&address, &node, &params, endpoint.as_deref()))
        }
        NodeCommand::Stake { amount, from } => {
            let operator = s.signer_pubkey()?;
            let config = s.config().await?;
            let node_address = pda::node(&operator);
            s.fetch::<Node>(&node_address, "node").await?;
            let source = s.source_tokens(from, &config.stake_mint, amount.0).await?;
            s.confirm(&format!(
                "Stake {amount} tokens from {source} into node {node_address}."
            ))?;
            let landed = s
                .send(&[ix::stake(&operator, &source, amount.0)], &[])
                .await?;
            let staked = events(&landed).into_iter().find_map(|e| match e {
                VerdictEvent::Staked(e) => Some(e),
                _ => None,
            });
            let out = shown(s, node_address, &landed, &format!("Staked {amount} tokens")).await?;
            Ok(Output::new(
                out.text,
                with(
                    out.json,
                    json!({ "staked": amount.0, "active": staked.map(|e| e.active) }),
                ),
            ))
        }
        NodeCommand::Unstake { amount } => {
            let operator = s.signer_pubkey()?;
            let node_address = pda::node(&operator);
            let node: Node = s.fetch(&node_address, "node").await?;
            s.confirm(&format!(
                "Start unbonding {amount} tokens of self stake from node {node_address}."
            ))?;
            let request = ix::request_unstake(&operator, node.next_ticket_id, amount.0);
            let landed = s.send(&[request], &[]).await?;
            unbonding::queued(&landed)
        }
        NodeCommand::Withdraw(target) => {
            let node_address = pda::node(&s.signer_pubkey()?);
            unbonding::withdraw(s, node_address, TicketKind::SelfStake, target).await
        }
        NodeCommand::WithdrawOwed { to } => withdraw_owed(s, to).await,
        NodeCommand::Heartbeat(selector) => {
            let (address, _) = s.resolve_node(selector.node).await?;
            let landed = s
                .send(&[ix::heartbeat(&s.signer_pubkey()?, &address)], &[])
                .await?;
            shown(s, address, &landed, "Heartbeat recorded for node").await
        }
        NodeCommand::RotateKey {
            new_signing_keypair,
        } => {
            let operator = s.signer_pubkey()?;
            let new_key = read_keypair(&new_signing_keypair)?;
            let node_address = pda::node(&operator);
            s.fetch::<Node>(&node_address, "node").await?;
            let landed = s
                .send(
                    &[ix::rotate_signing_key(&operator, &new_key.pubkey())],
                    &[&new_key],
                )
                .await?;
            shown(s, node_address, &landed, "Rotated the signing key of node").await
        }
        NodeCommand::Close => {
            let operator = s.signer_pubkey()?;
            let node_address = pda::node(&operator);
            s.fetch::<Node>(&node_address, "node").await?;
            // An advertised endpoint goes first: its rent comes back too.
            let mut instructions = Vec::new();
            if s.account_data(&pda::endpoint(&node_address))
                .await?
                .is_some()
            {
                instructions.push(ix::close_node_endpoint(&operator, &node_address, &operator));
            }
            instructions.push(ix::close_node(&operator));
            let landed = s.send(&instructions, &[]).await?;
            let json = with(
                json!({ "node": node_address.to_string(), "closed": true }),
                landed_json(&landed),
            );
            Ok(Output::new(
                format!(
                    "Closed node {node_address}\nSignature: {}\n",
                    landed.signature
                ),
                json,
            ))
        }
    }
}

/// Takes everything the signer's node is owed (its share of payouts,
/// co-signers' fees, bonds back, unresolved-dispute fees) out of the node
/// vault into the operator's token account.
async fn withdraw_owed(s: &Session<'_>, to: Option<Pubkey>) -> Result<Output, CliError> {
    let operator = s.signer_pubkey()?;
    let config = s.config().await?;
    let node_address = pda::node(&operator);
    let node: Node = s.fetch(&node_address, "node").await?;
    if node.owed == 0 {
        return Err(CliError::Refused(format!(
            "node {node_address} is owed nothing; payouts, co-signers' fees and bonds are credited to it as they settle"
        )));
    }
    let (destination, create) = s.destination_tokens(to, &operator, &config.stake_mint)?;
    s.confirm(&format!(
        "Withdraw the {} tokens node {node_address} is owed to {destination}.",
        format_tokens(node.owed)
    ))?;
    let mut instructions = create;
    instructions.push(ix::withdraw_owed(&operator, &destination));
    let landed = s.send(&instructions, &[]).await?;
    let after: Node = s.fetch(&node_address, "node").await?;
    // What left the owed balance (an event-free reading: the SDK's decoder
    // may not know every event the program emits).
    let amount = node.owed.saturating_sub(after.owed);
    let endpoint = endpoint_of(s, &node_address).await?;
    let out = view(&node_address, &after, &config.params, endpoint.as_deref());
    Ok(Output::new(
        format!(
            "Withdrew {} tokens owed to node {node_address} to {destination}\nSignature: {}\n\n{}",
            format_tokens(amount),
            landed.signature,
            out.text
        ),
        with(
            with(out.json, landed_json(&landed)),
            json!({ "withdrawn": amount, "destination": destination.to_string() }),
        ),
    ))
}

/// The node as it is after a transaction, headed by what happened.
async fn shown(
    s: &Session<'_>,
    address: Pubkey,
    landed: &verdict_chain::Landed,
    headline: &str,
) -> Result<Output, CliError> {
    let node: Node = s.fetch(&address, "node").await?;
    let params = s.config().await?.params;
    let endpoint = endpoint_of(s, &address).await?;
    let out = view(&address, &node, &params, endpoint.as_deref());
    Ok(Output::new(
        format!(
            "{headline} {address}\nSignature: {}\n\n{}",
            landed.signature, out.text
        ),
        with(out.json, landed_json(landed)),
    ))
}

pub fn role_names(roles: u8) -> Vec<&'static str> {
    let mut names = Vec::new();
    if roles & ROLE_MINER != 0 {
        names.push("miner");
    }
    if roles & ROLE_VALIDATOR != 0 {
        names.push("validator");
    }
    names
}

fn trial_name(trial: TrialStatus) -> &'static str {
    match trial {
        TrialStatus::Pending => "pending",
        TrialStatus::Passed => "passed",
        TrialStatus::Failed => "failed",
    }
}

/// A node for people and scripts (token amounts in base units in JSON).
/// A URL the program will take as an endpoint (checked before sending).
fn check_endpoint(url: &str) -> Result<(), CliError> {
    NodeEndpoint::check(url).map_err(|_| {
        CliError::Input(format!(
            "endpoint {url:?}: {}",
            VerdictError::InvalidEndpoint
        ))
    })
}

/// The endpoint `node` records, if any.
async fn endpoint_of(s: &Session<'_>, node: &Pubkey) -> Result<Option<String>, CliError> {
    Ok(s.account_data(&pda::endpoint(node))
        .await?
        .and_then(|data| decode::<NodeEndpoint>(&pda::endpoint(node), &data).ok())
        .map(|e| e.url().to_string()))
}

pub fn view(
    address: &Pubkey,
    node: &Node,
    params: &ProtocolParams,
    endpoint: Option<&str>,
) -> Output {
    let Standing { window, tier } = node.reputation.standing(params);
    let models: Vec<String> = node.models[..node.model_count as usize]
        .iter()
        .map(|m| model_name(m))
        .collect();
    let status = match node.status() {
        NodeStatus::Active => "active",
        NodeStatus::Liquidated => "liquidated",
    };
    let exposure_limit = node.exposure_limit(params).unwrap_or(0);
    let json = json!({
        "node": address.to_string(),
        "operator": node.operator.to_string(),
        "signing_key": node.signing_key.to_string(),
        "endpoint": endpoint,
        "roles": role_names(node.roles),
        "status": status,
        "active": node.counted_active(),
        "commission_bps": node.commission_bps,
        "models": models,
        "self_stake": node.self_stake,
        "delegated": node.delegation.amount,
        "delegation_shares": node.delegation.shares,
        "unbonding": node.unbonding.amount,
        "next_ticket_id": node.next_ticket_id,
        "registered_at": node.registered_at,
        "validator_score": node.validator_score,
        "attestations_signed": node.attestations_signed,
        "attestations_missed": node.attestations_missed,
        "pending_delegator_rewards": node.pending_delegator_rewards,
        "boost_owed": node.boost_owed,
        "delegator_boost_owed": node.delegator_boost_owed,
        "owed": node.owed,
        "exposure": node.exposure,
        "exposure_limit": exposure_limit,
        "open_disputes": node.open_disputes,
        "total_earned": node.total_earned,
        "reputation": {
            "trust_bps": node.reputation.trust_bps,
            "composite_bps": window.composite_bps,
            "success_bps": window.success_bps,
            "sla_bps": window.sla_bps,
            "latency_bps": window.latency_bps,
            "avg_response_ms": window.avg_response_ms,
            "window_jobs": window.jobs,
            "tier": tier,
            "trial": trial_name(node.reputation.trial()),
            "cooldown_until": node.reputation.cooldown_until,
            "last_heartbeat": node.reputation.last_heartbeat,
            "lifetime_jobs": node.reputation.lifetime_jobs,
            "lifetime_failures": node.reputation.lifetime_failures,
        },
    });
    let text = labelled(&[
        ("Node", address.to_string()),
        ("Operator", node.operator.to_string()),
        ("Signing Key", node.signing_key.to_string()),
        ("Endpoint", endpoint.unwrap_or("-").to_string()),
        ("Roles", role_names(node.roles).join(", ")),
        (
            "Status",
            format!(
                "{status}{}",
                if node.counted_active() {
                    ""
                } else {
                    " (below minimum stake: inactive)"
                }
            ),
        ),
        ("Commission", bps_percent(node.commission_bps as u64)),
        (
            "Models",
            if models.is_empty() {
                "-".into()
            } else {
                models.join(", ")
            },
        ),
        ("Self Stake", format_tokens(node.self_stake)),
        ("Delegated", format_tokens(node.delegation.amount)),
        ("Unbonding", format_tokens(node.unbonding.amount)),
        ("Validator Score", node.validator_score.to_string()),
        ("Trust", bps_fraction(node.reputation.trust_bps as u64)),
        ("Reputation", bps_fraction(window.composite_bps as u64)),
        ("Tier", tier.to_string()),
        ("Trial", trial_name(node.reputation.trial()).to_string()),
        ("Last Heartbeat", node.reputation.last_heartbeat.to_string()),
        (
            "Owed",
            if node.owed > 0 {
                format!(
                    "{} (withdraw with `verdict node withdraw-owed`)",
                    format_tokens(node.owed)
                )
            } else {
                format_tokens(0)
            },
        ),
        (
            "Exposure",
            format!(
                "{} of {} allowed",
                format_tokens(node.exposure),
                format_tokens(exposure_limit)
            ),
        ),
        ("Open Disputes", node.open_disputes.to_string()),
        ("Total Earned", format_tokens(node.total_earned)),
    ]);
    Output::new(text, json)
}

/// Active stake behind a node: self stake plus delegations (what
/// eligibility and committee selection count).
pub fn stake_of(node: &Node) -> u64 {
    node.self_stake.saturating_add(node.delegation.amount)
}
