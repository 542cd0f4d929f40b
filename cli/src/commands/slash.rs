//! `verdict slash`: takes the slashing table's share of a node's stake for
//! an offense; the tokens go to the reward pool. Only what the chain can
//! check: the governance authority for an invalid signature, front-running
//! or downtime, and anyone for downtime once the node's recorded success
//! rate is below the slashing threshold (the evidence is then the Verdict
//! epoch's, so once per epoch). Collusion and approving an invalid result are
//! decided by disputes (`verdict dispute`), never slashed directly.

use serde_json::json;
use verdict::instructions::slash_node::{downtime_evidence, verdict_epoch};
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
    let offense: Offense = args.offense.into();
    if matches!(offense, Offense::Collusion | Offense::ApproveInvalid) {
        return Err(CliError::Input(format!(
            "{} is decided by a dispute's vote, not slashed directly: challenge the job with `verdict dispute open`",
            offense_name(offense)
        )));
    }
    if offense != Offense::Downtime && args.evidence.is_none() {
        return Err(CliError::Input(format!(
            "--evidence is required for {} (only downtime has a default: the epoch's evidence)",
            offense_name(offense)
        )));
    }
    let signer = s.signer_pubkey()?;
    let config = s.config().await?;
    let by_authority = config.authority == signer;
    if !by_authority && offense != Offense::Downtime {
        return Err(CliError::Refused(format!(
            "only the authority {} may slash for {}; the signer is {signer} (anyone may slash downtime the chain records)",
            config.authority,
            offense_name(offense)
        )));
    }
    let (address, node) = s.resolve_node(Some(args.node)).await?;
    let epoch_evidence = downtime_evidence(verdict_epoch(s.now().await?, config.params.epoch_secs));
    let evidence = args.evidence.unwrap_or(epoch_evidence);
    let record = pda::slash_record(&address, &evidence);
    if s.account_data(&record).await?.is_some() {
        return Err(CliError::Refused(format!(
            "node {address} was already slashed for evidence {} (record {record})",
            hex(&evidence)
        )));
    }
    if !by_authority {
        if evidence != epoch_evidence {
            return Err(CliError::Input(format!(
                "a downtime slash without the authority takes the current Verdict epoch's evidence {}; leave out --evidence",
                hex(&epoch_evidence)
            )));
        }
        if !node.reputation.below_slash_threshold(&config.params) {
            let window = node.reputation.window(&config.params);
            return Err(CliError::Refused(format!(
                "node {address} is not below the downtime threshold (success {} over {} jobs; slashable below {} with a full enough window)",
                bps_percent(window.success_bps as u64),
                window.jobs,
                bps_percent(config.params.slash_success_bps as u64)
            )));
        }
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
                by_authority.then_some(signer),
                &address,
                offense,
                evidence,
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
            "evidence": hex(&evidence),
            "by_authority": by_authority,
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
