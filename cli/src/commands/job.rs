//! `verdict job quote|submit|status|claim|close|claim-refund`: the going
//! rate before a submit, a client's jobs
//! (embeddings, and text generation with `--prompt`), the permissionless
//! cranks that pay out and clean up, and a refund the client's account
//! could not take.

use std::time::Duration;

use anchor_lang::prelude::Pubkey;
use serde_json::json;
use sha2::{Digest, Sha256};
use verdict::state::{Job, JobStatus, Node, RiskLevel};
use verdict_sdk::client::{
    await_result, clock_job_id, models, verify_output, GenerationInput, InferError, KeeperClient,
    Verified,
};
use verdict_sdk::events::VerdictEvent;
use verdict_sdk::{instructions as ix, pda};

use super::{events, hex, landed_json, model_name, with};
use crate::amount::format_tokens;
use crate::args::{JobCommand, Risk, SubmitArgs};
use crate::env::Session;
use crate::error::CliError;
use crate::output::{labelled, Output};

pub async fn run(s: &Session<'_>, command: JobCommand) -> Result<Output, CliError> {
    match command {
        JobCommand::Submit(args) => submit(s, args).await,
        JobCommand::Status { job, keepers } => status(s, job, keepers).await,
        JobCommand::Quote {
            model,
            risk,
            keepers,
        } => quote(&model, risk, keepers).await,
        JobCommand::Claim { job } => claim(s, job).await,
        JobCommand::Close { job } => close(s, job).await,
        JobCommand::ClaimRefund { job, to } => claim_refund(s, job, to).await,
    }
}

/// The going rate for a job of `model` at `risk`, from the first keeper
/// that has one (the standing prices of the miners that may take it, and
/// what such jobs recently cleared at).
async fn quote(model: &str, risk: Risk, keepers: Vec<String>) -> Result<Output, CliError> {
    let keepers = KeeperClient::new(&keepers, Duration::from_secs(10))
        .map_err(|e| CliError::Input(e.to_string()))?;
    let risk = RiskLevel::from(risk);
    let risk_name = risk.name();
    let q = keepers
        .quote(model, risk)
        .await
        .map_err(|e| CliError::Refused(e.to_string()))?;
    let text = labelled(&[
        ("Model", q.model_id.clone()),
        ("Risk", risk_name.to_string()),
        ("Lowest", format_tokens(q.lowest)),
        ("Median", format_tokens(q.median)),
        ("Highest", format_tokens(q.highest)),
        ("Miners", q.miners.to_string()),
        (
            "Cleared at",
            q.clearing_median.map_or("no auction yet".to_string(), |p| {
                format!("{} (median of the last {})", format_tokens(p), q.cleared)
            }),
        ),
    ]);
    let json = json!({
        "model": q.model_id,
        "risk": risk_name,
        "lowest": q.lowest,
        "median": q.median,
        "highest": q.highest,
        "miners": q.miners,
        "clearing_median": q.clearing_median,
        "cleared": q.cleared,
    });
    Ok(Output::new(text, json))
}

/// Releases a solved job's payout: the miner operator's part is credited to
/// the node's `owed` (withdrawn with `node withdraw-owed`), the delegators'
/// part waits in the node vault, the co-signers' fee stays in the escrow
/// until the job closes, and the rest of the max fee goes back to the client.
async fn claim(s: &Session<'_>, job: Pubkey) -> Result<Output, CliError> {
    s.signer()?;
    let j: Job = s.fetch(&job, "job").await?;
    if j.status() != JobStatus::Solved {
        return Err(CliError::Refused(format!(
            "job {job} is {}: only a solved job pays out",
            status_name(j.status())
        )));
    }
    let miner_before: Node = s.fetch(&j.miner, "miner node").await?;
    let landed = s
        .send(&[ix::claim_payout(&job, &j.miner, &j.refund_account)], &[])
        .await?;
    let claimed = events(&landed).into_iter().find_map(|e| match e {
        VerdictEvent::PayoutClaimed(e) => Some(e),
        _ => None,
    });
    let after: Job = s.fetch(&job, "job").await?;
    let miner: Node = s.fetch(&j.miner, "miner node").await?;
    let out = view(&job, &after);
    let (operator_amount, delegator_amount, client_refund, validator_fee) = match claimed {
        Some(c) => (
            c.operator_amount,
            c.delegator_amount,
            c.client_refund,
            c.validator_fee,
        ),
        // Without the event, the same figures from the accounts.
        None => (
            miner.owed.saturating_sub(miner_before.owed),
            miner
                .pending_delegator_rewards
                .saturating_sub(miner_before.pending_delegator_rewards),
            if after.status() == JobStatus::Paid {
                after.max_fee.saturating_sub(after.price)
            } else {
                after.max_fee
            },
            after.fee_held,
        ),
    };
    let json = with(
        with(out.json, landed_json(&landed)),
        json!({
            "operator_amount": operator_amount,
            "delegator_amount": delegator_amount,
            "client_refund": client_refund,
            "validator_fee": validator_fee,
            "miner_owed": miner.owed,
            "miner_operator": miner.operator.to_string(),
        }),
    );
    let text = if after.status() == JobStatus::Paid {
        format!(
            "Paid out job {job}: {} credited to the miner's owed balance (its operator withdraws with `verdict node withdraw-owed`), {} to delegators, {} held for the co-signers until the job closes, {} back to the client\nSignature: {}\n\n{}",
            format_tokens(operator_amount),
            format_tokens(delegator_amount),
            format_tokens(validator_fee),
            format_tokens(client_refund),
            landed.signature,
            out.text
        )
    } else {
        format!(
            "The miner of job {job} was liquidated: its whole fee went back to the client\nSignature: {}\n\n{}",
            landed.signature, out.text
        )
    };
    Ok(Output::new(text, json))
}

/// Closes a finished job: the co-signers of a paid job share the fee held
/// for them (credited to their nodes' `owed`), the miner's exposure is
/// released, and the rent goes back to the client.
async fn close(s: &Session<'_>, job: Pubkey) -> Result<Output, CliError> {
    s.signer()?;
    let j: Job = s.fetch(&job, "job").await?;
    if j.client_owed > 0 {
        return Err(CliError::Refused(format!(
            "job {job} still owes its client {} tokens: the client takes them with `verdict job claim-refund {job}` first",
            format_tokens(j.client_owed)
        )));
    }
    let landed = s.send(&[ix::close_job(&job, &j)], &[]).await?;
    let closed = events(&landed).into_iter().find_map(|e| match e {
        VerdictEvent::JobClosed(e) => Some(e),
        _ => None,
    });
    let paid = j.status() == JobStatus::Paid;
    let (signers_credited, validator_fee) = match closed {
        Some(e) => (e.signers_credited, e.validator_fee),
        None if paid => (
            j.signer_count,
            if j.signer_count > 0 { j.fee_held } else { 0 },
        ),
        None => (0, 0),
    };
    let signers: Vec<&Pubkey> = if paid {
        j.signers().iter().collect()
    } else {
        Vec::new()
    };
    let json = with(
        json!({
            "job": job.to_string(),
            "closed": true,
            "status": status_name(j.status()),
            "signers_credited": signers_credited,
            "signers": signers.iter().map(|k| k.to_string()).collect::<Vec<_>>(),
            "validator_fee": validator_fee,
            "exposure_released": j.exposure,
        }),
        landed_json(&landed),
    );
    let fee_line = if signers_credited > 0 {
        format!(
            "; {} tokens shared by {signers_credited} co-signers (credited to their nodes' owed balances)",
            format_tokens(validator_fee)
        )
    } else {
        String::new()
    };
    Ok(Output::new(
        format!(
            "Closed job {job}; rent returned to {}{fee_line}\nSignature: {}\n",
            j.client, landed.signature
        ),
        json,
    ))
}

/// The client takes a refund its recorded refund account could not receive.
async fn claim_refund(
    s: &Session<'_>,
    job: Pubkey,
    to: Option<Pubkey>,
) -> Result<Output, CliError> {
    let client = s.signer_pubkey()?;
    let config = s.config().await?;
    let j: Job = s.fetch(&job, "job").await?;
    if j.client != client {
        return Err(CliError::Refused(format!(
            "job {job} belongs to client {}, not to the signer {client}",
            j.client
        )));
    }
    if j.client_owed == 0 {
        return Err(CliError::Refused(format!(
            "job {job} owes its client nothing: refunds went to its refund account {}",
            j.refund_account
        )));
    }
    let (destination, create) = s.destination_tokens(to, &client, &config.stake_mint)?;
    s.confirm(&format!(
        "Take the {} tokens job {job} owes you into {destination}.",
        format_tokens(j.client_owed)
    ))?;
    let mut instructions = create;
    instructions.push(ix::claim_refund(&client, &job, &destination));
    let landed = s.send(&instructions, &[]).await?;
    let after: Job = s.fetch(&job, "job").await?;
    let amount = j.client_owed.saturating_sub(after.client_owed);
    let out = view(&job, &after);
    Ok(Output::new(
        format!(
            "Refunded {} tokens of job {job} to {destination}\nSignature: {}\n\n{}",
            format_tokens(amount),
            landed.signature,
            out.text
        ),
        with(
            with(out.json, landed_json(&landed)),
            json!({ "refunded": amount, "destination": destination.to_string() }),
        ),
    ))
}

/// The job, and with keepers, its output once it checks out against the
/// chain (without the input: the miner's signature covers its hash).
async fn status(s: &Session<'_>, job: Pubkey, keepers: Vec<String>) -> Result<Output, CliError> {
    let j: Job = s.fetch(&job, "job").await?;
    let out = view(&job, &j);
    if keepers.is_empty() {
        return Ok(out);
    }
    if !matches!(j.status(), JobStatus::Solved | JobStatus::Paid) {
        return Ok(Output::new(
            format!(
                "{}\nOutput: - (the job is {}: no output to read)\n",
                out.text,
                status_name(j.status())
            ),
            with(out.json, json!({ "verified": false })),
        ));
    }
    let keepers = KeeperClient::new(&keepers, Duration::from_secs(10))
        .map_err(|e| CliError::Input(e.to_string()))?;
    let miner: Node = s.fetch(&j.miner, "miner node").await?;
    let mut last = None;
    for url in keepers.urls() {
        let answer = match keepers.job_at(url, &job).await {
            Ok(answer) => answer,
            Err(e) => {
                last = Some(CliError::Refused(format!("keeper {url}: {e}")));
                continue;
            }
        };
        match verify_output(&job, &j, &miner, &answer) {
            Ok(verified) => {
                let (text, json) = output_lines(&verified);
                return Ok(Output::new(
                    format!("{}\n{text}", out.text),
                    with(out.json, json),
                ));
            }
            Err(e) => last = Some(CliError::Unverified(format!("keeper {url}: {e}"))),
        }
    }
    Err(last.unwrap_or_else(|| CliError::Refused("no keeper answered".into())))
}

/// A verified output as text and JSON: a generation's text (and its speed),
/// else the first values of an embedding.
fn output_lines(verified: &Verified) -> (String, serde_json::Value) {
    let checked = "verified: output hash on chain, miner's signature";
    if let (Some(text), Some(tokens)) = (verified.text(), verified.tokens()) {
        let speed = verified.tokens_per_second();
        let speed_text = speed
            .map(|tps| format!(", {tps:.1} tokens/s"))
            .unwrap_or_default();
        return (
            format!(
                "Generated ({} tokens{speed_text}, {checked}):\n{text}\n",
                tokens.len()
            ),
            json!({
                "text": text,
                "tokens": tokens,
                "tokens_per_second": speed,
                "output_shape": verified.output.shape,
                "verified": true,
                "miner_signing_key": verified.miner_key.to_string(),
            }),
        );
    }
    let values = verified.values();
    let shown: Vec<String> = values.iter().take(8).map(|v| format!("{v:.4}")).collect();
    let more = if values.len() > shown.len() {
        ", …"
    } else {
        ""
    };
    (
        format!(
            "Output ({} values, {checked}): [{}{more}]\n",
            values.len(),
            shown.join(", ")
        ),
        json!({
            "output": values,
            "output_shape": verified.output.shape,
            "verified": true,
            "miner_signing_key": verified.miner_key.to_string(),
        }),
    )
}

/// The generation `--prompt` and its sampling flags ask for, checked, and
/// the check of any other input of a generative model: all before anything
/// is escrowed.
fn generation_request(args: &SubmitArgs) -> Result<Option<GenerationInput>, CliError> {
    let model = model_name(&args.model);
    let generative = models::is_generative(&model);
    let Some(prompt) = &args.prompt else {
        if generative {
            // The input must already be a generation request's JSON.
            let text = match (&args.input, &args.input_file) {
                (Some(text), _) => Some(text.clone()),
                (_, Some(path)) => std::fs::read_to_string(path).ok(),
                (None, None) => None,
            };
            if let Some(text) = text {
                GenerationInput::parse(&text).map_err(|e| {
                    CliError::Input(format!(
                        "{model} generates text: pass --prompt (its input is a request's JSON, and this one is not valid: {e})"
                    ))
                })?;
            }
        }
        return Ok(None);
    };
    if !generative {
        let generative: Vec<&str> = models::MODELS
            .iter()
            .filter(|spec| spec.is_generative())
            .map(|spec| spec.id)
            .collect();
        return Err(CliError::Input(format!(
            "--prompt needs a generative model ({}); {model} is not one",
            generative.join(", ")
        )));
    }
    let mut generation = GenerationInput::new(prompt.clone());
    if let Some(max_tokens) = args.max_tokens {
        generation.max_tokens = max_tokens;
    }
    if let Some(top_k) = args.top_k {
        generation.top_k = top_k;
    }
    if let Some(temperature) = args.temperature {
        generation.temperature_milli = temperature;
    }
    generation
        .check()
        .map_err(|e| CliError::Input(format!("invalid generation request: {e}")))?;
    Ok(Some(generation))
}

async fn submit(s: &Session<'_>, args: SubmitArgs) -> Result<Output, CliError> {
    let client = s.signer_pubkey()?;
    let generation = generation_request(&args)?;
    // The input itself, when given (a file's bytes as read); else only its hash.
    let input: Option<Vec<u8>> = match (&generation, &args.input, &args.input_file) {
        (Some(generation), _, _) => Some(generation.to_input().into_bytes()),
        (_, Some(text), _) => Some(text.clone().into_bytes()),
        (_, _, Some(path)) => Some(std::fs::read(path).map_err(|e| CliError::File {
            path: path.display().to_string(),
            reason: e.to_string(),
        })?),
        (None, None, None) => None,
    };
    let input_hash = match (&input, args.input_hash) {
        (Some(bytes), _) => Sha256::digest(bytes).into(),
        (None, Some(hash)) => hash,
        (None, None) => {
            return Err(CliError::Input(
                "pass --input, --input-file, --input-hash or --prompt".into(),
            ))
        }
    };
    // Keepers take text: check before anything is escrowed.
    let wait_input = match (args.wait, input) {
        (false, _) => None,
        (true, None) => {
            return Err(CliError::Input(
                "--wait hands the input to a keeper: pass --input, --input-file or --prompt".into(),
            ))
        }
        (true, Some(bytes)) => Some(String::from_utf8(bytes).map_err(|_| {
            CliError::Input("--wait needs a UTF-8 input: keepers take text".into())
        })?),
    };
    let keepers = match &wait_input {
        Some(_) => Some(
            KeeperClient::new(&args.keepers, Duration::from_secs(10))
                .map_err(|e| CliError::Input(e.to_string()))?,
        ),
        None => None,
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
    let (Some(input), Some(keepers)) = (wait_input, keepers) else {
        let out = view(&job, &s.fetch(&job, "job").await?);
        return Ok(Output::new(
            format!(
                "Submitted job {job}\nSignature: {}\n\n{}",
                landed.signature, out.text
            ),
            with(out.json, landed_json(&landed)),
        ));
    };
    let timeout = Duration::from_secs(args.timeout_secs);
    let verified = async {
        let (keeper, _) = keepers.submit_input(&job, &input, false).await?;
        await_result(&s.env.chain, &keepers, Some(&keeper), &job, &input, timeout).await
    }
    .await
    .map_err(|e| match e {
        InferError::Verification(v) => CliError::Unverified(v.to_string()),
        InferError::Chain(verdict_sdk::SdkError::Refused(f)) => CliError::Program(f.to_string()),
        other => CliError::Refused(format!("job {job} was submitted, but: {other}")),
    })?;
    let out = view(&job, &s.fetch(&job, "job").await?);
    let (output_text, output_json) = output_lines(&verified);
    Ok(Output::new(
        format!(
            "Submitted job {job}\nSignature: {}\n{output_text}\n{}",
            landed.signature, out.text
        ),
        with(with(out.json, landed_json(&landed)), output_json),
    ))
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

fn view(address: &Pubkey, job: &Job) -> Output {
    let has_miner = job.miner != Pubkey::default();
    let solved = job.solved_at != 0;
    let json = json!({
        "job": address.to_string(),
        "client": job.client.to_string(),
        "job_id": job.job_id,
        "model": model_name(&job.model),
        "input_hash": hex(&job.input_hash),
        "risk": job.risk().name(),
        "status": status_name(job.status()),
        "max_fee": job.max_fee,
        "price": job.price,
        "miner": has_miner.then(|| job.miner.to_string()),
        "attempts": job.attempts,
        "output_hash": solved.then(|| hex(&job.output_hash)),
        "response_ms": job.response_ms,
        "sla_met": job.sla_met(),
        "created_at": job.created_at,
        "solved_at": solved.then_some(job.solved_at),
        "release_at": solved.then_some(job.release_at),
        "committee_epoch": job.committee_epoch,
        "signers": job.signers().iter().map(|k| k.to_string()).collect::<Vec<_>>(),
        "dispute_open": job.dispute_open(),
        "created_slot": job.created_slot,
        "exposure": job.exposure,
        "fee_held": job.fee_held,
        "client_owed": job.client_owed,
    });
    let dash = || "-".to_string();
    let text = labelled(&[
        ("Job", address.to_string()),
        ("Client", job.client.to_string()),
        ("Job Id", job.job_id.to_string()),
        ("Model", model_name(&job.model)),
        ("Risk", job.risk().name().to_string()),
        ("Status", status_name(job.status()).to_string()),
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
        ("Dispute Open", job.dispute_open().to_string()),
        ("Held For Co-Signers", format_tokens(job.fee_held)),
        ("Owed To Client", format_tokens(job.client_owed)),
    ]);
    Output::new(text, json)
}
