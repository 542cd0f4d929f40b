//! `verdict config init|show|update`: the protocol's Config (governance).

use serde_json::json;
use verdict::state::{Config, ProtocolParams, SlashingTable};
use verdict_sdk::{instructions as ix, pda};

use super::{landed_json, with};
use crate::amount::{format_tokens, DECIMALS};
use crate::args::ConfigCommand;
use crate::env::Session;
use crate::error::CliError;
use crate::output::{labelled, Output};
use crate::params::{params_json, params_text, slashing_json, ParamSetting};
use crate::token;

pub async fn run(s: &Session<'_>, command: ConfigCommand) -> Result<Output, CliError> {
    match command {
        ConfigCommand::Init { mint, settings } => {
            let authority = s.signer_pubkey()?;
            let (params, slashing) = with_settings(
                ProtocolParams::default(),
                SlashingTable::default(),
                &settings,
            )?;
            if let Some(config) = s.fetch_optional::<Config>(&pda::config()).await? {
                return Err(CliError::Refused(format!(
                    "Verdict is already initialized on {} (authority {}, stake mint {})",
                    s.env.url, config.authority, config.stake_mint
                )));
            }
            let data = s
                .account_data(&mint)
                .await?
                .ok_or_else(|| CliError::NotFound {
                    what: "mint",
                    address: mint,
                    url: s.env.url.clone(),
                })?;
            let decimals = token::decode_mint(&data)
                .ok_or_else(|| CliError::Input(format!("{mint} is not an SPL Token mint")))?
                .decimals;
            if decimals as usize != DECIMALS {
                return Err(CliError::Input(format!(
                    "mint {mint} has {decimals} decimals; Verdict's stake token needs {DECIMALS}"
                )));
            }
            // Deployed upgradeable, only the upgrade authority may initialize,
            // and the program wants its ProgramData account to check that.
            let program_data = s
                .account_data(&pda::program_data())
                .await?
                .map(|_| pda::program_data());
            let landed = s
                .send(
                    &[ix::initialize_config(
                        &authority,
                        &mint,
                        program_data,
                        params,
                        slashing,
                    )],
                    &[],
                )
                .await?;
            shown(s, "Initialized Verdict", landed).await
        }
        ConfigCommand::Show => Ok(view(&s.config().await?)),
        ConfigCommand::Update { settings, paused } => {
            let signer = s.signer_pubkey()?;
            if settings.is_empty() && paused.is_none() {
                return Err(CliError::Input(
                    "nothing to update: pass --set NAME=VALUE or --paused true|false".into(),
                ));
            }
            let config = s.config().await?;
            if config.authority != signer {
                return Err(CliError::Refused(format!(
                    "only the authority {} may change the Config; the signer is {signer}",
                    config.authority
                )));
            }
            let mut instructions = Vec::new();
            if !settings.is_empty() {
                let (params, slashing) = with_settings(config.params, config.slashing, &settings)?;
                instructions.push(ix::update_config(&signer, params, slashing));
            }
            if let Some(paused) = paused {
                instructions.push(ix::set_paused(&signer, paused));
            }
            let landed = s.send(&instructions, &[]).await?;
            shown(s, "Updated the Config", landed).await
        }
    }
}

/// Applies the settings and checks the result with the program's own
/// bounds, so parameters the program would refuse are never sent.
fn with_settings(
    mut params: ProtocolParams,
    mut slashing: SlashingTable,
    settings: &[ParamSetting],
) -> Result<(ProtocolParams, SlashingTable), CliError> {
    for setting in settings {
        setting
            .apply(&mut params, &mut slashing)
            .map_err(CliError::Input)?;
    }
    params
        .validate()
        .and_then(|_| slashing.validate())
        .map_err(|e| CliError::Input(anchor_message(e)))?;
    Ok((params, slashing))
}

/// `Name: message` of a program error raised client-side.
fn anchor_message(error: anchor_lang::error::Error) -> String {
    match error {
        anchor_lang::error::Error::AnchorError(e) => format!("{}: {}", e.error_name, e.error_msg),
        other => other.to_string(),
    }
}

async fn shown(
    s: &Session<'_>,
    headline: &str,
    landed: verdict_chain::Landed,
) -> Result<Output, CliError> {
    let out = view(&s.config().await?);
    Ok(Output::new(
        format!(
            "{headline}\nSignature: {}\n\n{}",
            landed.signature, out.text
        ),
        with(out.json, landed_json(&landed)),
    ))
}

fn view(config: &Config) -> Output {
    let t = &config.totals;
    let json = json!({
        "config": pda::config().to_string(),
        "authority": config.authority.to_string(),
        "pending_authority": config.pending_authority.to_string(),
        "stake_mint": config.stake_mint.to_string(),
        "stake_vault": config.stake_vault.to_string(),
        "paused": config.is_paused(),
        "params": params_json(&config.params),
        "slashing": slashing_json(&config.slashing),
        "totals": {
            "self_stake": t.self_stake,
            "delegated": t.delegated,
            "unbonding": t.unbonding,
            "reward_pool": t.reward_pool,
            "disputes": t.disputes,
        },
        "nodes_registered": config.nodes_registered,
        "active_nodes": config.active_nodes,
        "active_validators": config.active_validators,
    });
    let lines = [
        ("Config", pda::config().to_string()),
        ("Authority", config.authority.to_string()),
        ("Stake Mint", config.stake_mint.to_string()),
        ("Stake Vault", config.stake_vault.to_string()),
        ("Paused", config.is_paused().to_string()),
        ("Self Stake", format_tokens(t.self_stake)),
        ("Delegated", format_tokens(t.delegated)),
        ("Unbonding", format_tokens(t.unbonding)),
        ("Reward Pool", format_tokens(t.reward_pool)),
        ("Dispute Holdings", format_tokens(t.disputes)),
        ("Nodes Registered", config.nodes_registered.to_string()),
        ("Active Nodes", config.active_nodes.to_string()),
        ("Active Validators", config.active_validators.to_string()),
    ];
    let mut text = labelled(&lines);
    text.push_str("\nParameters (token amounts in tokens):\n");
    for (name, value) in params_text(&config.params, &config.slashing) {
        text.push_str(&format!("  {name} = {value}\n"));
    }
    Output::new(text, json)
}
