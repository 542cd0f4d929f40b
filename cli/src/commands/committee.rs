//! `verdict committee show|enter|draw`: the validators that attest outcomes,
//! and the draw that picks the next ones.

use std::time::{Duration, Instant};

use serde_json::json;
use verdict::state::{Committee, Config, DrawPhase, Node};
use verdict_sdk::draw::{next_step, DrawStep};
use verdict_sdk::{instructions as ix, pda};

use super::{landed_json, with};
use crate::args::{CommitteeCommand, CommitteeDrawArgs};
use crate::env::Session;
use crate::error::CliError;
use crate::output::{labelled, table, Output};

/// How often `draw --wait-secs` looks at the slot again.
const SLOT_POLL: Duration = Duration::from_millis(400);

pub async fn run(s: &Session<'_>, command: CommitteeCommand) -> Result<Output, CliError> {
    match command {
        CommitteeCommand::Show => {
            let config = s.config().await?;
            Ok(view(&committee(s).await?, &config))
        }
        CommitteeCommand::Enter(args) => {
            let signer = s.signer_pubkey()?;
            let (node, _) = s.resolve_node(args.node).await?;
            let landed = s
                .send(&[ix::enter_committee_draw(&signer, &node)], &[])
                .await?;
            let c = committee(s).await?;
            Ok(Output::new(
                format!(
                    "Entered {node} in committee draw round {} ({} entrants)\nSignature: {}",
                    c.draw.round, c.draw.entrants, landed.signature
                ),
                with(
                    json!({ "node": node.to_string(), "round": c.draw.round, "entrants": c.draw.entrants }),
                    landed_json(&landed),
                ),
            ))
        }
        CommitteeCommand::Draw(args) => draw(s, args).await,
    }
}

async fn committee(s: &Session<'_>) -> Result<Committee, CliError> {
    s.fetch(&pda::committee(), "committee").await
}

/// Runs every step of the draw that is due, in order, until it is seated
/// or must wait (for the rotation, entrants or the seed slot).
async fn draw(s: &Session<'_>, args: CommitteeDrawArgs) -> Result<Output, CliError> {
    s.signer()?;
    let config = s.config().await?;
    let started = Instant::now();
    let mut steps = Vec::new();
    let mut signatures = Vec::new();
    let waiting = loop {
        let c = committee(s).await?;
        let nodes = match c.draw.phase() {
            DrawPhase::Sweeping => s.accounts_of::<Node>().await?,
            _ => Vec::new(),
        };
        let step = next_step(&c, &config.params, s.now().await?, s.slot().await?, &nodes);
        let instruction = match &step {
            DrawStep::Wait(why) => {
                let seed_pending = c.draw.phase() == DrawPhase::Seeding;
                if seed_pending && started.elapsed() < Duration::from_secs(args.wait_secs) {
                    tokio::time::sleep(SLOT_POLL).await;
                    continue;
                }
                break *why;
            }
            DrawStep::Request => ix::request_committee_draw(),
            DrawStep::Seed => ix::seed_committee_draw(),
            DrawStep::Sweep(batch) => ix::sweep_committee_draw(batch),
        };
        let landed = s.send(&[instruction], &[]).await?;
        steps.push(match step {
            DrawStep::Sweep(batch) => format!("swept {} entrants", batch.len()),
            other => format!("{other:?}").to_lowercase(),
        });
        signatures.push(landed.signature.to_string());
        eprintln!("{}", steps.last().unwrap());
        let after = committee(s).await?;
        if after.epoch != c.epoch || after.draw.round != c.draw.round {
            break "seated";
        }
    };
    let out = view(&committee(s).await?, &config);
    Ok(Output::new(
        format!(
            "Committee draw: {} ({})\n\n{}",
            if steps.is_empty() {
                "nothing due".to_string()
            } else {
                steps.join(", ")
            },
            waiting,
            out.text
        ),
        with(
            out.json,
            json!({ "steps": steps, "signatures": signatures, "stopped": waiting }),
        ),
    ))
}

fn view(committee: &Committee, config: &Config) -> Output {
    let next = committee
        .rotated_at
        .saturating_add(config.params.committee_rotation_secs);
    let draw = &committee.draw;
    let phase = format!("{:?}", draw.phase()).to_lowercase();
    let json = json!({
        "committee": pda::committee().to_string(),
        "epoch": committee.epoch,
        "size": committee.size,
        "quorum": committee.quorum,
        "strategy": committee.strategy().name(),
        "members": committee.members().iter().map(|k| k.to_string()).collect::<Vec<_>>(),
        "signing_keys": committee.signing_keys().iter().map(|k| k.to_string()).collect::<Vec<_>>(),
        "rotated_at": committee.rotated_at,
        "next_rotation_at": next,
        "draw": {
            "round": draw.round,
            "phase": phase,
            "entrants": draw.entrants,
            "swept": draw.swept,
            "target_slot": draw.target_slot,
            "leaders": draw.leaders().iter().map(|k| k.to_string()).collect::<Vec<_>>(),
        },
    });
    let mut text = labelled(&[
        ("Committee Epoch", committee.epoch.to_string()),
        (
            "Quorum",
            format!("{} of {}", committee.quorum, committee.size),
        ),
        ("Strategy", committee.strategy().name().to_string()),
        ("Rotated At", committee.rotated_at.to_string()),
        ("Next Rotation", next.to_string()),
        (
            "Next Draw",
            format!(
                "round {}, {phase}: {} entrants, {} swept{}",
                draw.round,
                draw.entrants,
                draw.swept,
                match draw.phase() {
                    DrawPhase::Entry => String::new(),
                    _ => format!(", seed slot {}", draw.target_slot),
                }
            ),
        ),
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
