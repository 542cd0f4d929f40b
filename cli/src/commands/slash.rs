//! `verdict slash`: the governance authority takes the slashing table's
//! share of a node's stake for an offense; the tokens go to the reward pool.
//! (The program also accepts a committee attestation, or anyone for a node
//! whose success rate fell below the threshold; the CLI slashes as the
//! authority only.)

use serde_json::json;
use verdict::state::{Node, Offense, SlashRecord};
use verdict_sdk::events::VerdictEvent;
use verdict_sdk::{instructions as ix, pda};

use super::{events, hex, landed_json, with};
use crate::amount::format_tokens;
use crate::args::SlashArgs;
use crate::env::Session;
use crate::error::CliError;
use crate::output::{bps_percent, labelled, Output};

pub fn offense_name(offense: Offense) -> &'static str {
    match offense {
        Offense::InvalidSignature => "invalid-signature",
        Offense::Collusion => "collusion",
        Offense::ApproveInvalid => "approve-invalid",
        Offense::Downtime => "downtime",
        Offense::FrontRunning => "front-running",
    }
}

pub async fn run(s: &Session<'_>, args: SlashArgs) -> Result<Output, CliError> {
    let signer = s.signer_pubkey()?;
    let config = s.config().await?;
    if config.authority != signer {
        return Err(CliError::Refused(format!(
            "only the authority {} may slash; the signer is {signer}",
            config.authority
        )));
    }
    let (address, node) = s.resolve_node(Some(args.node)).await?;
    let offense: Offense = args.offense.into();
    let record = pda::slash_record(&address, &args.evidence);
    if s.account_data(&record).await?.is_some() {
        return Err(CliError::Refused(format!(
            "node {address} was already slashed for evidence {} (record {record})",
            hex(&args.evidence)
        )));
    }
    let share_bps = config.slashing.bps_for(offense);
    let stake_before = node
        .slashable_stake()
        .map_err(|e| CliError::Chain(e.to_string()))?;
    s.confirm(&format!(
        "Slash node {address} for {}: {} of its stake (up to {} tokens) goes to the reward pool.",
        offense_name(offense),
        bps_percent(share_bps as u64),
        format_tokens(stake_before.saturating_mul(share_bps as u64) / 10_000)
    ))?;
    let landed = s
        .send(
            &[ix::slash_node(
                &signer,
                Some(signer),
                &address,
                offense,
                args.evidence,
            )],
            &[],
        )
        .await?;
    let slashed = events(&landed).into_iter().find_map(|e| match e {
        VerdictEvent::NodeSlashed(e) => Some(e),
        _ => None,
    });
    let rec: SlashRecord = s.fetch(&record, "slash record").await?;
    let after: Node = s.fetch(&address, "node").await?;
    let stake_after = after
        .slashable_stake()
        .map_err(|e| CliError::Chain(e.to_string()))?;
    let (from_self, from_delegation, from_unbonding) = slashed
        .as_ref()
        .map(|e| (e.from_self_stake, e.from_delegation, e.from_unbonding))
        .unwrap_or_default();
    let json = with(
        json!({
            "node": address.to_string(),
            "operator": after.operator.to_string(),
            "offense": offense_name(offense),
            "evidence": hex(&args.evidence),
            "record": record.to_string(),
            "share_bps": share_bps,
            "amount": rec.amount,
            "applied": rec.applied,
            "from_self_stake": from_self,
            "from_delegation": from_delegation,
            "from_unbonding": from_unbonding,
            "stake_before": stake_before,
            "stake_after": stake_after,
            "self_stake": after.self_stake,
            "validator_score": after.validator_score,
        }),
        landed_json(&landed),
    );
    let headline = if rec.applied {
        format!(
            "Slashed node {address} for {}: {} tokens to the reward pool",
            offense_name(offense),
            format_tokens(rec.amount)
        )
    } else {
        format!("Forgave node {address}'s first downtime offense (it was Tier 1): nothing taken")
    };
    let text = format!(
        "{headline}\n{}",
        labelled(&[
            ("Offense", offense_name(offense).to_string()),
            ("Share", bps_percent(share_bps as u64)),
            (
                "Taken",
                format!(
                    "{} (self stake {}, delegations {}, unbonding {})",
                    format_tokens(rec.amount),
                    format_tokens(from_self),
                    format_tokens(from_delegation),
                    format_tokens(from_unbonding)
                ),
            ),
            ("Stake Before", format_tokens(stake_before)),
            ("Stake After", format_tokens(stake_after)),
            ("Record", record.to_string()),
            ("Signature", landed.signature.to_string()),
        ])
    );
    Ok(Output::new(text, json))
}
