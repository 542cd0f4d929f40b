//! `verdict reputation --node <key> [--history]`: a node's reputation now
//! (trust, window statistics and tier), or per Verdict epoch rebuilt from the program's
//! `ReputationChanged` events in the node's transaction history — the chain
//! is the only record, nothing is kept locally.

use anchor_lang::prelude::Pubkey;
use serde_json::json;
use verdict::events::ReputationChanged;
use verdict::state::Standing;
use verdict_chain::Landed;
use verdict_sdk::events::{parse_logs, VerdictEvent};

use super::node::stake_of;
use crate::amount::format_tokens;
use crate::args::ReputationArgs;
use crate::env::Session;
use crate::error::CliError;
use crate::output::{bps_fraction, bps_percent, labelled, table, Output};

pub async fn run(s: &Session<'_>, args: ReputationArgs) -> Result<Output, CliError> {
    let params = s.config().await?.params;
    let (address, node) = s.resolve_node(args.node).await?;
    let changes = changes_of(&address, &s.history(&address).await?);
    if args.history {
        return Ok(history_view(
            &address,
            &by_epoch(&changes, params.epoch_secs),
            params.epoch_secs,
        ));
    }
    let Standing { window, tier } = node.reputation.standing(&params);
    // Reputation has not changed since registration when no event says so.
    let last_updated = changes.last().map(|c| c.at).unwrap_or(node.registered_at);
    let stake = stake_of(&node);
    let text = labelled(&[
        ("Node", address.to_string()),
        ("Reputation", bps_fraction(window.composite_bps as u64)),
        ("Success Rate", bps_percent(window.success_bps as u64)),
        ("SLA", bps_percent(window.sla_bps as u64)),
        ("Avg Latency", format!("{}ms", window.avg_response_ms)),
        ("Tier", tier.to_string()),
        ("Stake", format_tokens(stake)),
        ("Last Updated", last_updated.to_string()),
    ]);
    let json = json!({
        "node": address.to_string(),
        "reputation_bps": window.composite_bps,
        "success_bps": window.success_bps,
        "sla_bps": window.sla_bps,
        "latency_bps": window.latency_bps,
        "avg_latency_ms": window.avg_response_ms,
        "tier": tier,
        "trust_bps": node.reputation.trust_bps,
        "window_jobs": window.jobs,
        "stake": stake,
        "last_updated": last_updated,
    });
    Ok(Output::new(text, json))
}

/// The node's `ReputationChanged` events, oldest first.
pub fn changes_of(node: &Pubkey, history: &[Landed]) -> Vec<ReputationChanged> {
    history
        .iter()
        .flat_map(|landed| parse_logs(&landed.logs))
        .filter_map(|event| match event {
            VerdictEvent::ReputationChanged(change) if change.node == *node => Some(change),
            _ => None,
        })
        .collect()
}

/// The Verdict epoch of a unix time: whole `epoch_secs` since the unix
/// epoch, as the program counts them (`slash_node::verdict_epoch`).
pub fn verdict_epoch(at: i64, epoch_secs: i64) -> u64 {
    (at.max(0) / epoch_secs.max(1)) as u64
}

/// A node's reputation at the end of one Verdict epoch.
#[derive(Clone, Debug, PartialEq)]
pub struct EpochReputation {
    pub epoch: u64,
    /// The last change in the epoch: its figures are the epoch's.
    pub last: ReputationChanged,
    /// How many changes the epoch saw.
    pub changes: u32,
}

/// Groups changes by Verdict epoch, keeping the last value of each; epochs
/// without a change are left out (the reputation held still).
pub fn by_epoch(changes: &[ReputationChanged], epoch_secs: i64) -> Vec<EpochReputation> {
    let mut epochs: Vec<EpochReputation> = Vec::new();
    for change in changes {
        let epoch = verdict_epoch(change.at, epoch_secs);
        match epochs.last_mut() {
            Some(current) if current.epoch == epoch => {
                current.last = change.clone();
                current.changes += 1;
            }
            _ => epochs.push(EpochReputation {
                epoch,
                last: change.clone(),
                changes: 1,
            }),
        }
    }
    epochs
}

fn history_view(node: &Pubkey, epochs: &[EpochReputation], epoch_secs: i64) -> Output {
    let rows: Vec<Vec<String>> = epochs
        .iter()
        .map(|e| {
            let c = &e.last;
            vec![
                e.epoch.to_string(),
                (e.epoch as i64 * epoch_secs).to_string(),
                bps_fraction(c.trust_bps as u64),
                bps_fraction(c.composite_bps as u64),
                bps_percent(c.success_bps as u64),
                bps_percent(c.sla_bps as u64),
                c.tier.to_string(),
                c.window_jobs.to_string(),
                e.changes.to_string(),
            ]
        })
        .collect();
    let mut text = format!("Node: {node}\nEpoch: {epoch_secs} s; last value in each epoch, from the program's ReputationChanged events\n\n");
    if rows.is_empty() {
        text.push_str("No reputation changes yet.\n");
    } else {
        text.push_str(&table(
            &[
                "Epoch",
                "Starts At",
                "Trust",
                "Reputation",
                "Success",
                "SLA",
                "Tier",
                "Jobs",
                "Changes",
            ],
            &rows,
        ));
    }
    let json = json!({
        "node": node.to_string(),
        "epoch_secs": epoch_secs,
        "epochs": epochs.iter().map(|e| json!({
            "epoch": e.epoch,
            "starts_at": e.epoch as i64 * epoch_secs,
            "last_change_at": e.last.at,
            "trust_bps": e.last.trust_bps,
            "reputation_bps": e.last.composite_bps,
            "success_bps": e.last.success_bps,
            "sla_bps": e.last.sla_bps,
            "avg_latency_ms": e.last.avg_response_ms,
            "tier": e.last.tier,
            "window_jobs": e.last.window_jobs,
            "changes": e.changes,
        })).collect::<Vec<_>>(),
    });
    Output::new(text, json)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn change(at: i64, trust_bps: u32) -> ReputationChanged {
        ReputationChanged {
            node: Pubkey::default(),
            trust_bps,
            composite_bps: 0,
            success_bps: 0,
            sla_bps: 0,
            avg_response_ms: 0,
            tier: 3,
            window_jobs: 0,
            at,
        }
    }

    #[test]
    fn keeps_the_last_value_of_each_epoch() {
        let day = 86_400;
        let changes = [
            change(10 * day + 5, 1),
            change(10 * day + 900, 2),
            change(12 * day, 3),
            change(13 * day - 1, 4),
        ];
        let epochs = by_epoch(&changes, day);
        let summary: Vec<_> = epochs
            .iter()
            .map(|e| (e.epoch, e.last.trust_bps, e.changes))
            .collect();
        assert_eq!(summary, vec![(10, 2, 2), (12, 4, 2)]);
        assert!(by_epoch(&[], day).is_empty());
    }
}
