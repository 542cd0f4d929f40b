//! `verdict committee show|rotate`: the validators that attest outcomes.

use anchor_lang::prelude::Pubkey;
use serde_json::json;
use verdict::state::{Committee, Config, Node};
use verdict_sdk::{instructions as ix, pda};

use super::{landed_json, with};
use crate::args::CommitteeCommand;
use crate::env::Session;
use crate::error::CliError;
use crate::output::{labelled, table, Output};
use crate::params::strategy_name;

pub async fn run(s: &Session<'_>, command: CommitteeCommand) -> Result<Output, CliError> {
    match command {
        CommitteeCommand::Show => {
            let config = s.config().await?;
            Ok(view(
                &s.fetch(&pda::committee(), "committee").await?,
                &config,
            ))
        }
        CommitteeCommand::Rotate => {
            s.signer()?;
            let config = s.config().await?;
            let candidates = active_validators(s, &config).await?;
            let landed = s.send(&[ix::rotate_committee(&candidates)], &[]).await?;
            let out = view(&s.fetch(&pda::committee(), "committee").await?, &config);
            Ok(Output::new(
                format!(
                    "Rotated the committee over {} active validators\nSignature: {}\n\n{}",
                    candidates.len(),
                    landed.signature,
                    out.text
                ),
                with(
                    with(out.json, landed_json(&landed)),
                    json!({ "candidates": candidates.len() }),
                ),
            ))
        }
    }
}

/// Every node the Config counts as an active validator: the program
/// refuses a rotation that leaves any of them out, so a short list is
/// caught here with a clear line instead.
async fn active_validators(s: &Session<'_>, config: &Config) -> Result<Vec<Pubkey>, CliError> {
    let mut nodes: Vec<Pubkey> = s
        .accounts_of::<Node>()
        .await?
        .into_iter()
        .filter(|(_, n)| n.counted_active && n.counted_validator)
        .map(|(address, _)| address)
        .collect();
    nodes.sort();
    if nodes.len() as u64 != config.active_validators {
        return Err(CliError::Chain(format!(
            "found {} active validators but the Config counts {}; the RPC node's account index may lag, try again",
            nodes.len(),
            config.active_validators
        )));
    }
    Ok(nodes)
}

fn view(committee: &Committee, config: &Config) -> Output {
    let next = committee
        .rotated_at
        .saturating_add(config.params.committee_rotation_secs);
    let json = json!({
        "committee": pda::committee().to_string(),
        "epoch": committee.epoch,
        "size": committee.size,
        "quorum": committee.quorum,
        "strategy": strategy_name(committee.strategy),
        "members": committee.members().iter().map(|k| k.to_string()).collect::<Vec<_>>(),
        "signing_keys": committee.signing_keys().iter().map(|k| k.to_string()).collect::<Vec<_>>(),
        "rotated_at": committee.rotated_at,
        "next_rotation_at": next,
    });
    let mut text = labelled(&[
        ("Committee Epoch", committee.epoch.to_string()),
        (
            "Quorum",
            format!("{} of {}", committee.quorum, committee.size),
        ),
        ("Strategy", strategy_name(committee.strategy).to_string()),
        ("Rotated At", committee.rotated_at.to_string()),
        ("Next Rotation", next.to_string()),
    ]);
    let rows: Vec<Vec<String>> = committee
        .members()
        .iter()
        .zip(committee.signing_keys())
        .map(|(m, k)| vec![m.to_string(), k.to_string()])
        .collect();
    text.push('\n');
    text.push_str(&table(&["Member", "Signing Key"], &rows));
    Output::new(text, json)
}
