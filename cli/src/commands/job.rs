//! `verdict job submit|status|claim|close`: a client's jobs, and the
//! permissionless cranks that pay out and clean up.

use anchor_lang::prelude::Pubkey;
use serde_json::json;
use sha2::{Digest, Sha256};
use verdict::state::{Job, JobStatus, Node, RiskLevel};
use verdict_sdk::events::VerdictEvent;
use verdict_sdk::{instructions as ix, pda};

use super::{events, hex, landed_json, model_name, with};
use crate::amount::format_tokens;
use crate::args::{JobCommand, SubmitArgs};
use crate::env::Session;
use crate::error::CliError;
use crate::output::{labelled, Output};

pub async fn run(s: &Session<'_>, command: JobCommand) -> Result<Output, CliError> {
    match command {
        JobCommand::Submit(args) => submit(s, args).await,
        JobCommand::Status { job } => Ok(view(&job, &s.fetch(&job, "job").await?)),
        JobCommand::Claim { job, to } => {
            let config = s.config().await?;
            let j: Job = s.fetch(&job, "job").await?;
            let miner: Node = s.fetch(&j.miner, "miner node").await?;
            let (operator_tokens, create) =
                s.destination_tokens(to, &miner.operator, &config.stake_mint)?;
            let mut instructions = create;
            instructions.push(ix::claim_payout(
                &job,
                &j.miner,
                &operator_tokens,
                &j.refund_account,
            ));
            let landed = s.send(&instructions, &[]).await?;
            let claimed = events(&landed).into_iter().find_map(|e| match e {
                VerdictEvent::PayoutClaimed(e) => Some(e),
                _ => None,
            });
            let out = view(&job, &s.fetch(&job, "job").await?);
            let (operator_amount, delegator_amount, client_refund) = claimed
                .map(|c| (c.operator_amount, c.delegator_amount, c.client_refund))
                .unwrap_or_default();
            let json = with(
                with(out.json, landed_json(&landed)),
                json!({
                    "operator_tokens": operator_tokens.to_string(),
                    "operator_amount": operator_amount,
                    "delegator_amount": delegator_amount,
                    "client_refund": client_refund,
                }),
            );
            let text = format!(
                "Paid out job {job}: {} to the operator, {} to delegators, {} back to the client\nSignature: {}\n\n{}",
                format_tokens(operator_amount),
                format_tokens(delegator_amount),
                format_tokens(client_refund),
                landed.signature,
                out.text
            );
            Ok(Output::new(text, json))
        }
        JobCommand::Close { job } => {
            let j: Job = s.fetch(&job, "job").await?;
            let landed = s
                .send(&[ix::close_job(&job, &j.client, j.signers())], &[])
                .await?;
            let json = with(
                json!({ "job": job.to_string(), "closed": true, "signers_credited": j.signer_count }),
                landed_json(&landed),
            );
            Ok(Output::new(
                format!(
                    "Closed job {job}; rent returned to {}\nSignature: {}\n",
                    j.client, landed.signature
                ),
                json,
            ))
        }
    }
}

async fn submit(s: &Session<'_>, args: SubmitArgs) -> Result<Output, CliError> {
    let client = s.signer_pubkey()?;
    let input_hash = match (&args.input, &args.input_file, args.input_hash) {
        (Some(text), _, _) => Sha256::digest(text.as_bytes()).into(),
        (_, Some(path), _) => {
            let bytes = std::fs::read(path).map_err(|e| CliError::File {
                path: path.display().to_string(),
                reason: e.to_string(),
            })?;
            Sha256::digest(&bytes).into()
        }
        (_, _, Some(hash)) => hash,
        (None, None, None) => {
            return Err(CliError::Input(
                "pass --input, --input-file or --input-hash".into(),
            ))
        }
    };
    let job_id = args.job_id.unwrap_or_else(clock_job_id);
    let config = s.config().await?;
    let job = pda::job(&client, job_id);
    if s.account_data(&job).await?.is_some() {
        return Err(CliError::Refused(format!(
            "job id {job_id} is already used by job {job}; pass another --job-id"
        )));
    }
    let source = s
        .source_tokens(args.from, &config.stake_mint, args.max_fee.0)
        .await?;
    s.confirm(&format!(
        "Submit job {job_id} for model {}, escrowing up to {} tokens from {source}.",
        model_name(&args.model),
        args.max_fee
    ))?;
    let submit = ix::submit_job(
        &client,
        &source,
        &config.stake_mint,
        job_id,
        args.model,
        input_hash,
        args.risk.into(),
        args.max_fee.0,
    );
    let landed = s.send(&[submit], &[]).await?;
    let out = view(&job, &s.fetch(&job, "job").await?);
    Ok(Output::new(
        format!(
            "Submitted job {job}\nSignature: {}\n\n{}",
            landed.signature, out.text
        ),
        with(out.json, landed_json(&landed)),
    ))
}

/// A job id unique per client in practice: nanoseconds since the epoch.
fn clock_job_id() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_nanos() as u64)
        .unwrap_or(1)
}

pub fn status_name(status: JobStatus) -> &'static str {
    match status {
        JobStatus::Sent => "sent",
        JobStatus::Allocated => "allocated",
        JobStatus::Solved => "solved",
        JobStatus::Paid => "paid",
        JobStatus::Invalid => "invalid",
        JobStatus::Expired => "expired",
        JobStatus::Refunded => "refunded",
    }
}

fn risk_name(risk: RiskLevel) -> &'static str {
    match risk {
        RiskLevel::Low => "low",
        RiskLevel::Medium => "medium",
        RiskLevel::High => "high",
    }
}

fn view(address: &Pubkey, job: &Job) -> Output {
    let has_miner = job.miner != Pubkey::default();
    let solved = job.solved_at != 0;
    let json = json!({
        "job": address.to_string(),
        "client": job.client.to_string(),
        "job_id": job.job_id,
        "model": model_name(&job.model),
        "input_hash": hex(&job.input_hash),
        "risk": risk_name(job.risk),
        "status": status_name(job.status),
        "max_fee": job.max_fee,
        "price": job.price,
        "miner": has_miner.then(|| job.miner.to_string()),
        "attempts": job.attempts,
        "output_hash": solved.then(|| hex(&job.output_hash)),
        "response_ms": job.response_ms,
        "sla_met": job.sla_met,
        "created_at": job.created_at,
        "solved_at": solved.then_some(job.solved_at),
        "release_at": solved.then_some(job.release_at),
        "committee_epoch": job.committee_epoch,
        "signers": job.signers().iter().map(|k| k.to_string()).collect::<Vec<_>>(),
        "dispute_open": job.dispute_open,
    });
    let dash = || "-".to_string();
    let text = labelled(&[
        ("Job", address.to_string()),
        ("Client", job.client.to_string()),
        ("Job Id", job.job_id.to_string()),
        ("Model", model_name(&job.model)),
        ("Risk", risk_name(job.risk).to_string()),
        ("Status", status_name(job.status).to_string()),
        ("Max Fee", format_tokens(job.max_fee)),
        ("Price", format_tokens(job.price)),
        (
            "Miner",
            if has_miner {
                job.miner.to_string()
            } else {
                dash()
            },
        ),
        ("Attempts", job.attempts.to_string()),
        (
            "Output Hash",
            if solved {
                hex(&job.output_hash)
            } else {
                dash()
            },
        ),
        (
            "Response",
            if solved {
                format!("{}ms", job.response_ms)
            } else {
                dash()
            },
        ),
        (
            "Solved At",
            if solved {
                job.solved_at.to_string()
            } else {
                dash()
            },
        ),
        (
            "Payout Release",
            if solved {
                job.release_at.to_string()
            } else {
                dash()
            },
        ),
        ("Dispute Open", job.dispute_open.to_string()),
    ]);
    Output::new(text, json)
}
