//! `verdict dispute open|commit|reveal|resolve|liquidate|claim|show`: a
//! node's challenge of a solved job, the commit/reveal vote on its result,
//! and the permissionless cranks that decide it, liquidate the nodes it
//! condemned and pay the correct voters. Disputes are named by their job.

use anchor_lang::prelude::Pubkey;
use serde_json::{json, Value};
use sha2::{Digest, Sha256};
use solana_sdk::signature::Keypair;
use verdict::state::{vote_commitment, Dispute, DisputeStatus, Job, Node, Vote};
use verdict::LiquidationTarget;
use verdict_sdk::events::VerdictEvent;
use verdict_sdk::{instructions as ix, pda};

use super::{events, hex, landed_json, with};
use crate::amount::format_tokens;
use crate::args::{DisputeCommand, LiquidateArgs, Target};
use crate::env::Session;
use crate::error::CliError;
use crate::output::{labelled, table, Output};

pub async fn run(s: &Session<'_>, command: DisputeCommand) -> Result<Output, CliError> {
    match command {
        DisputeCommand::Open { job, from } => open(s, job.job, from).await,
        DisputeCommand::Commit { job, result, salt } => commit(s, job.job, result, salt).await,
        DisputeCommand::Reveal { job, result, salt } => reveal(s, job.job, result, salt).await,
        DisputeCommand::Resolve { job, to } => resolve(s, job.job, to).await,
        DisputeCommand::Liquidate(args) => liquidate(s, args).await,
        DisputeCommand::Claim { job, to } => claim(s, job.job, to).await,
        DisputeCommand::Show { job } => {
            let (address, dispute) = fetch_dispute(s, &job.job).await?;
            Ok(view(&address, &dispute, s.now().await?))
        }
    }
}

/// The dispute of `job`. A dispute's own address is accepted too.
async fn fetch_dispute(s: &Session<'_>, job: &Pubkey) -> Result<(Pubkey, Dispute), CliError> {
    let address = pda::dispute(job);
    if let Some(dispute) = s.fetch_optional::<Dispute>(&address).await? {
        return Ok((address, dispute));
    }
    if let Some(dispute) = s.fetch_optional::<Dispute>(job).await.unwrap_or(None) {
        return Ok((*job, dispute));
    }
    Err(CliError::Refused(format!(
        "job {job} has no dispute on {}; a node opens one with `verdict dispute open --job {job}`",
        s.env.url
    )))
}

/// The signer's node: only nodes challenge, vote and claim.
async fn own_node(s: &Session<'_>) -> Result<Pubkey, CliError> {
    let operator = s.signer_pubkey()?;
    let node = pda::node(&operator);
    match s.fetch_optional::<Node>(&node).await? {
        Some(_) => Ok(node),
        None => Err(CliError::Refused(format!(
            "the signer {operator} operates no node; only nodes challenge jobs and vote on disputes"
        ))),
    }
}

async fn open(s: &Session<'_>, job: Pubkey, from: Option<Pubkey>) -> Result<Output, CliError> {
    let operator = s.signer_pubkey()?;
    let config = s.config().await?;
    let node = own_node(s).await?;
    s.fetch::<Job>(&job, "job").await?;
    let address = pda::dispute(&job);
    if s.account_data(&address).await?.is_some() {
        return Err(CliError::Refused(format!(
            "job {job} is already disputed ({address}); see `verdict dispute show --job {job}`"
        )));
    }
    let bond = config.params.dispute_bond;
    let source = s.source_tokens(from, &config.stake_mint, bond).await?;
    s.confirm(&format!(
        "Challenge job {job} with node {node}, posting a bond of {} tokens from {source}.",
        format_tokens(bond)
    ))?;
    let landed = s
        .send(&[ix::open_dispute(&operator, &source, &job)], &[])
        .await?;
    let dispute: Dispute = s.fetch(&address, "dispute").await?;
    let out = view(&address, &dispute, s.now().await?);
    Ok(Output::new(
        format!(
            "Opened dispute {address} on job {job} with a bond of {}\nCommit votes until {}, reveal them until {}\nSignature: {}\n\n{}",
            format_tokens(bond),
            dispute.commit_end,
            dispute.reveal_end,
            landed.signature,
            out.text
        ),
        with(out.json, landed_json(&landed)),
    ))
}

async fn commit(
    s: &Session<'_>,
    job: Pubkey,
    result: [u8; 32],
    salt: Option<[u8; 32]>,
) -> Result<Output, CliError> {
    let operator = s.signer_pubkey()?;
    let (address, dispute) = fetch_dispute(s, &job).await?;
    let voter = own_node(s).await?;
    let vote = pda::vote(&address, &voter);
    if s.account_data(&vote).await?.is_some() {
        return Err(CliError::Refused(format!(
            "node {voter} already committed a vote on dispute {address} ({vote})"
        )));
    }
    let generated = salt.is_none();
    let salt = salt.unwrap_or_else(random_salt);
    let commitment = vote_commitment(&result, &salt, &voter);
    let landed = match s
        .send(&[ix::commit_vote(&operator, &address, commitment)], &[])
        .await
    {
        Ok(landed) => landed,
        // The outcome is unknown: if the vote landed, only this salt reveals it.
        Err(CliError::Chain(reason)) if generated => {
            return Err(CliError::Chain(format!(
                "{reason}; if the vote landed anyway, its salt is {}",
                hex(&salt)
            )))
        }
        Err(CliError::Rpc { url, reason }) if generated => {
            return Err(CliError::Rpc {
                url,
                reason: format!(
                    "{reason}; if the vote landed anyway, its salt is {}",
                    hex(&salt)
                ),
            })
        }
        Err(e) => return Err(e),
    };
    let (result, salt) = (hex(&result), hex(&salt));
    let json = with(
        json!({
            "dispute": address.to_string(),
            "job": dispute.job.to_string(),
            "voter": voter.to_string(),
            "vote": vote.to_string(),
            "result": result,
            "salt": salt,
            "salt_generated": generated,
            "commitment": hex(&commitment),
            "commit_end": dispute.commit_end,
            "reveal_end": dispute.reveal_end,
        }),
        landed_json(&landed),
    );
    let mut text = labelled(&[
        ("Committed Vote", vote.to_string()),
        ("Dispute", address.to_string()),
        ("Voter", voter.to_string()),
        ("Result", result.clone()),
        ("Salt", salt.clone()),
        ("Reveal From", dispute.commit_end.to_string()),
        ("Reveal Until", dispute.reveal_end.to_string()),
        ("Signature", landed.signature.to_string()),
    ]);
    text.push_str(&format!(
        "\nKeep the salt: reveal with `verdict dispute reveal --job {} --result {result} --salt {salt}`\n",
        dispute.job
    ));
    Ok(Output::new(text, json))
}

/// 32 bytes from the operating system's generator (drawn through a fresh
/// keypair, whose secret is exactly that), hashed under a domain tag.
fn random_salt() -> [u8; 32] {
    let secret = Keypair::new().to_bytes();
    Sha256::new()
        .chain_update(b"verdict vote salt")
        .chain_update(&secret[..32])
        .finalize()
        .into()
}

async fn reveal(
    s: &Session<'_>,
    job: Pubkey,
    result: [u8; 32],
    salt: [u8; 32],
) -> Result<Output, CliError> {
    let operator = s.signer_pubkey()?;
    let (address, _) = fetch_dispute(s, &job).await?;
    let voter = own_node(s).await?;
    let vote = pda::vote(&address, &voter);
    if s.account_data(&vote).await?.is_none() {
        return Err(CliError::Refused(format!(
            "node {voter} has no committed vote on dispute {address}; commit first with `verdict dispute commit`"
        )));
    }
    let landed = s
        .send(&[ix::reveal_vote(&operator, &address, result, salt)], &[])
        .await?;
    let dispute: Dispute = s.fetch(&address, "dispute").await?;
    let json = with(
        json!({
            "dispute": address.to_string(),
            "job": dispute.job.to_string(),
            "voter": voter.to_string(),
            "vote": vote.to_string(),
            "result": hex(&result),
            "revealed": true,
            "reveals": dispute.reveals,
            "commits": dispute.commits,
            "reveal_end": dispute.reveal_end,
        }),
        landed_json(&landed),
    );
    let text = labelled(&[
        ("Revealed Vote", vote.to_string()),
        ("Dispute", address.to_string()),
        ("Result", hex(&result)),
        (
            "Reveals",
            format!("{} of {} commits", dispute.reveals, dispute.commits),
        ),
        ("Resolvable From", dispute.reveal_end.to_string()),
        ("Signature", landed.signature.to_string()),
    ]);
    Ok(Output::new(text, json))
}

async fn resolve(s: &Session<'_>, job: Pubkey, to: Option<Pubkey>) -> Result<Output, CliError> {
    s.signer()?;
    let config = s.config().await?;
    let (address, dispute) = fetch_dispute(s, &job).await?;
    let j: Job = s.fetch(&dispute.job, "job").await?;
    let (challenger_tokens, create) =
        s.destination_tokens(to, &dispute.challenger_operator, &config.stake_mint)?;
    let mut instructions = create;
    instructions.push(ix::resolve_dispute(
        &dispute.job,
        &j.refund_account,
        &challenger_tokens,
    ));
    let landed = s.send(&instructions, &[]).await?;
    let after: Dispute = s.fetch(&address, "dispute").await?;
    let out = view(&address, &after, s.now().await?);
    Ok(Output::new(
        format!(
            "Resolved dispute {address}: {} ({} votes for the result, {} against); {} liquidations pending\nSignature: {}\n\n{}",
            status_name(after.status),
            after.n,
            after.m,
            after.pending_liquidations,
            landed.signature,
            out.text
        ),
        with(
            with(out.json, landed_json(&landed)),
            json!({ "challenger_tokens": challenger_tokens.to_string() }),
        ),
    ))
}

fn target_json(node: &Pubkey, target: LiquidationTarget) -> Value {
    match target {
        LiquidationTarget::Voter => json!({ "node": node.to_string(), "target": "voter" }),
        LiquidationTarget::Miner => json!({ "node": node.to_string(), "target": "miner" }),
        LiquidationTarget::Signer(i) => {
            json!({ "node": node.to_string(), "target": "signer", "index": i })
        }
    }
}

fn target_name(target: LiquidationTarget) -> String {
    match target {
        LiquidationTarget::Voter => "voter".into(),
        LiquidationTarget::Miner => "miner".into(),
        LiquidationTarget::Signer(i) => format!("signer #{i}"),
    }
}

async fn liquidate(s: &Session<'_>, args: LiquidateArgs) -> Result<Output, CliError> {
    s.signer()?;
    let (address, dispute) = fetch_dispute(s, &args.job.job).await?;
    if !matches!(
        dispute.status,
        DisputeStatus::Upheld | DisputeStatus::Overturned
    ) {
        return Err(CliError::Refused(format!(
            "dispute {address} is {}: only an upheld or overturned dispute liquidates anyone",
            status_name(dispute.status)
        )));
    }
    let targets = if args.all {
        pending_targets(s, &address, &dispute).await?
    } else {
        vec![named_target(s, &dispute, &args).await?]
    };
    if targets.is_empty() {
        if dispute.pending_liquidations > 0 {
            return Err(CliError::Chain(format!(
                "found no pending target but dispute {address} counts {} pending liquidations; the RPC node's account index may lag, try again",
                dispute.pending_liquidations
            )));
        }
        let json = json!({
            "dispute": address.to_string(),
            "job": dispute.job.to_string(),
            "liquidated": [],
            "pending_liquidations": 0,
            "pool": dispute.pool,
            "reward_per_voter": dispute.reward_per_voter,
        });
        return Ok(Output::new(
            format!("Nothing to liquidate: dispute {address} has no pending liquidation\n"),
            json,
        ));
    }
    // The miner of an already paid job refunds its client from its stake.
    let refund = if dispute.refund_owed > 0 {
        let job: Option<Job> = s.fetch_optional(&dispute.job).await?;
        match job {
            Some(job) => Some(job.refund_account),
            None if targets
                .iter()
                .any(|(_, t)| *t == LiquidationTarget::Miner) =>
            {
                return Err(CliError::Refused(format!(
                    "job {} is closed, so the client's refund account the miner's liquidation pays is unknown",
                    dispute.job
                )))
            }
            None => None,
        }
    } else {
        None
    };
    let mut done: Vec<Value> = Vec::new();
    let mut rows = Vec::new();
    for (node, target) in &targets {
        let refund_account = (*target == LiquidationTarget::Miner)
            .then_some(refund)
            .flatten();
        let instruction = ix::liquidate(&address, node, *target, refund_account);
        let landed = match s.send(&[instruction], &[]).await {
            Ok(landed) => landed,
            Err(e) if !done.is_empty() => return Err(after_some(e, done.len(), targets.len())),
            Err(e) => return Err(e),
        };
        let (amount, client_refund) = events(&landed)
            .into_iter()
            .find_map(|e| match e {
                VerdictEvent::NodeLiquidated(e) => Some((e.amount, e.client_refund)),
                _ => None,
            })
            .unwrap_or_default();
        rows.push(vec![
            node.to_string(),
            target_name(*target),
            format_tokens(amount),
            landed.signature.to_string(),
        ]);
        done.push(with(
            with(target_json(node, *target), landed_json(&landed)),
            json!({ "amount": amount, "client_refund": client_refund }),
        ));
    }
    let after: Dispute = s.fetch(&address, "dispute").await?;
    let json = json!({
        "dispute": address.to_string(),
        "job": after.job.to_string(),
        "liquidated": done,
        "pending_liquidations": after.pending_liquidations,
        "pool": after.pool,
        "reward_per_voter": after.reward_per_voter,
    });
    let mut text = format!("Liquidated {} on dispute {address}\n\n", done.len());
    text.push_str(&table(&["Node", "Target", "Taken", "Signature"], &rows));
    text.push('\n');
    text.push_str(&labelled(&[
        (
            "Pending Liquidations",
            after.pending_liquidations.to_string(),
        ),
        ("Pool", format_tokens(after.pool)),
        ("Reward Per Voter", reward_text(&after)),
    ]));
    Ok(Output::new(text, json))
}

/// An error after some liquidations already landed says so.
fn after_some(error: CliError, landed: usize, total: usize) -> CliError {
    let note = format!(" (after {landed} of {total} liquidations landed)");
    match error {
        CliError::Program(m) => CliError::Program(format!("{m}{note}")),
        CliError::Chain(m) => CliError::Chain(format!("{m}{note}")),
        CliError::Refused(m) => CliError::Refused(format!("{m}{note}")),
        other => other,
    }
}

/// `--node` and `--target` (and `--index`, else the node's place among the signers).
async fn named_target(
    s: &Session<'_>,
    dispute: &Dispute,
    args: &LiquidateArgs,
) -> Result<(Pubkey, LiquidationTarget), CliError> {
    let (node, _) = s.resolve_node(args.node).await?;
    let target = match args.target {
        Some(Target::Voter) | None => LiquidationTarget::Voter,
        Some(Target::Miner) => LiquidationTarget::Miner,
        Some(Target::Signer) => match args.index {
            Some(i) => LiquidationTarget::Signer(i),
            None => {
                let i = dispute
                    .signers()
                    .iter()
                    .position(|k| *k == node)
                    .ok_or_else(|| {
                        CliError::Refused(format!(
                            "node {node} did not sign the outcome of job {}",
                            dispute.job
                        ))
                    })?;
                LiquidationTarget::Signer(i as u8)
            }
        },
    };
    if args.index.is_some() && args.target != Some(Target::Signer) {
        return Err(CliError::Input(
            "--index only applies to --target signer".into(),
        ));
    }
    Ok((node, target))
}

/// Every liquidation the dispute still waits for (the SDK's rule over the
/// program's Vote accounts).
async fn pending_targets(
    s: &Session<'_>,
    address: &Pubkey,
    dispute: &Dispute,
) -> Result<Vec<(Pubkey, LiquidationTarget)>, CliError> {
    let votes: Vec<Vote> = s.accounts_of::<Vote>().await?.into_iter().map(|(_, v)| v).collect();
    Ok(verdict_sdk::instructions::pending_liquidations(address, dispute, &votes))
}

async fn claim(s: &Session<'_>, job: Pubkey, to: Option<Pubkey>) -> Result<Output, CliError> {
    let operator = s.signer_pubkey()?;
    let config = s.config().await?;
    let (address, _) = fetch_dispute(s, &job).await?;
    let voter = own_node(s).await?;
    let vote = pda::vote(&address, &voter);
    if s.account_data(&vote).await?.is_none() {
        return Err(CliError::Refused(format!(
            "node {voter} did not vote on dispute {address}; only correct voters are paid"
        )));
    }
    let (operator_tokens, create) = s.destination_tokens(to, &operator, &config.stake_mint)?;
    let mut instructions = create;
    instructions.push(ix::claim_dispute_reward(
        &operator,
        &address,
        &operator_tokens,
    ));
    let landed = s.send(&instructions, &[]).await?;
    let after: Dispute = s.fetch(&address, "dispute").await?;
    let amount = events(&landed)
        .into_iter()
        .find_map(|e| match e {
            VerdictEvent::DisputeRewardClaimed(e) => Some(e.amount),
            _ => None,
        })
        .unwrap_or(after.reward_per_voter);
    let json = with(
        json!({
            "dispute": address.to_string(),
            "job": after.job.to_string(),
            "voter": voter.to_string(),
            "amount": amount,
            "operator_tokens": operator_tokens.to_string(),
            "claims": after.claims,
            "pool": after.pool,
        }),
        landed_json(&landed),
    );
    let text = labelled(&[
        ("Claimed", format!("{} tokens", format_tokens(amount))),
        ("Dispute", address.to_string()),
        ("Voter", voter.to_string()),
        ("To", operator_tokens.to_string()),
        ("Claims", format!("{} of {}", after.claims, after.n)),
        ("Signature", landed.signature.to_string()),
    ]);
    Ok(Output::new(text, json))
}

pub fn status_name(status: DisputeStatus) -> &'static str {
    match status {
        DisputeStatus::Voting => "voting",
        DisputeStatus::Upheld => "upheld",
        DisputeStatus::Overturned => "overturned",
        DisputeStatus::Unresolved => "unresolved",
    }
}

/// Where the vote stands at `now`.
fn phase(dispute: &Dispute, now: i64) -> &'static str {
    match dispute.status {
        DisputeStatus::Voting if now < dispute.commit_end => "commit",
        DisputeStatus::Voting if now < dispute.reveal_end => "reveal",
        DisputeStatus::Voting => "awaiting resolve",
        _ if matches!(dispute.status, DisputeStatus::Unresolved) => "closed",
        _ if dispute.pending_liquidations > 0 => "liquidating",
        _ => "claiming",
    }
}

fn decided(dispute: &Dispute) -> bool {
    matches!(
        dispute.status,
        DisputeStatus::Upheld | DisputeStatus::Overturned
    )
}

fn reward_text(dispute: &Dispute) -> String {
    if decided(dispute) && dispute.pending_liquidations == 0 {
        format_tokens(dispute.reward_per_voter)
    } else {
        "- (set when the last liquidation is done)".into()
    }
}

fn view(address: &Pubkey, dispute: &Dispute, now: i64) -> Output {
    let d = dispute;
    let tally: Vec<Value> = d
        .tally()
        .iter()
        .map(|e| json!({ "result": hex(&e.result), "votes": e.votes }))
        .collect();
    let signers: Vec<Value> = d
        .signers()
        .iter()
        .enumerate()
        .map(
            |(i, k)| json!({ "node": k.to_string(), "slashed": d.signers_slashed & (1 << i) != 0 }),
        )
        .collect();
    let result = decided(d).then(|| hex(&d.result));
    let json = json!({
        "dispute": address.to_string(),
        "job": d.job.to_string(),
        "status": status_name(d.status),
        "phase": phase(d, now),
        "challenger": d.challenger.to_string(),
        "challenger_operator": d.challenger_operator.to_string(),
        "bond": d.bond,
        "miner": d.miner.to_string(),
        "original_output": hex(&d.original_output),
        "opened_at": d.opened_at,
        "commit_end": d.commit_end,
        "reveal_end": d.reveal_end,
        "active_snapshot": d.active_snapshot,
        "commits": d.commits,
        "reveals": d.reveals,
        "tally": tally,
        "untallied_votes": d.untallied_votes,
        "result": result,
        "overturned": d.status == DisputeStatus::Overturned,
        "n": d.n,
        "m": d.m,
        "pending_liquidations": d.pending_liquidations,
        "miner_liquidated": d.miner_liquidated,
        "refund_owed": d.refund_owed,
        "signers": signers,
        "pool": d.pool,
        "reward_per_voter": d.reward_per_voter,
        "claims": d.claims,
    });
    let slashed = (0..d.signer_count as usize)
        .filter(|i| d.signers_slashed & (1 << i) != 0)
        .count();
    let mut text = labelled(&[
        ("Dispute", address.to_string()),
        ("Job", d.job.to_string()),
        ("Status", status_name(d.status).to_string()),
        ("Phase", phase(d, now).to_string()),
        ("Challenger", d.challenger.to_string()),
        ("Bond", format_tokens(d.bond)),
        ("Miner", d.miner.to_string()),
        ("Original Output", hex(&d.original_output)),
        ("Opened At", d.opened_at.to_string()),
        ("Commit Until", d.commit_end.to_string()),
        ("Reveal Until", d.reveal_end.to_string()),
        ("Active Nodes At Opening", d.active_snapshot.to_string()),
        (
            "Votes",
            format!("{} committed, {} revealed", d.commits, d.reveals),
        ),
        ("Result", result.unwrap_or_else(|| "-".into())),
        ("For The Result (n)", d.n.to_string()),
        ("Against (m)", d.m.to_string()),
        ("Pending Liquidations", d.pending_liquidations.to_string()),
        ("Miner Liquidated", d.miner_liquidated.to_string()),
        (
            "Signers Slashed",
            format!("{slashed} of {}", d.signer_count),
        ),
        ("Refund Owed", format_tokens(d.refund_owed)),
        ("Pool", format_tokens(d.pool)),
        ("Reward Per Voter", reward_text(d)),
        ("Claims", d.claims.to_string()),
    ]);
    if !d.tally().is_empty() {
        let rows: Vec<Vec<String>> = d
            .tally()
            .iter()
            .map(|e| vec![hex(&e.result), e.votes.to_string()])
            .collect();
        text.push('\n');
        text.push_str(&table(&["Result", "Votes"], &rows));
        if d.untallied_votes > 0 {
            text.push_str(&format!(
                "(and {} votes for results the tally had no room for)\n",
                d.untallied_votes
            ));
        }
    }
    Output::new(text, json)
}
