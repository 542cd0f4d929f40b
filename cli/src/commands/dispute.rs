//! `verdict dispute open|commit|reveal|resolve|liquidate|claim|close-vote|show`:
//! a node's challenge of a solved job (naming the result it recomputed), the
//! stake-weighted commit/reveal vote between the two candidates, and the
//! permissionless cranks that decide it, liquidate the nodes it condemned and
//! pay the correct voters pro rata to their weight. The parties (miner,
//! challenger, a high-risk job's co-signers) cannot vote. Disputes are named
//! by their job.

use anchor_lang::prelude::Pubkey;
use serde_json::{json, Value};
use sha2::{Digest, Sha256};
use solana_sdk::signature::Keypair;
use verdict::state::{
    vote_commitment, Dispute, DisputeRules, DisputeStatus, Job, JobStatus, Node, ProtocolParams,
    Verdict, Vote,
};
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
        DisputeCommand::Open { job, result, from } => open(s, job.job, result, from).await,
        DisputeCommand::Commit {
            job,
            result,
            salt,
            from,
        } => commit(s, job.job, result, salt, from).await,
        DisputeCommand::Reveal {
            job,
            result,
            salt,
            to,
        } => reveal(s, job.job, result, salt, to).await,
        DisputeCommand::Resolve { job } => resolve(s, job.job).await,
        DisputeCommand::Liquidate(args) => liquidate(s, args).await,
        DisputeCommand::Claim { job, to } => claim(s, job.job, to).await,
        DisputeCommand::CloseVote { job } => close_vote(s, job.job).await,
        DisputeCommand::Show { job } => {
            let (address, dispute) = fetch_dispute(s, &job.job).await?;
            let params = s.config().await?.params;
            Ok(view(&address, &dispute, &params, s.now().await?))
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
        "job {job} has no dispute on {}; a node opens one with `verdict dispute open --job {job} --result <HEX>`",
        s.env.url
    )))
}

/// The signer's node: only nodes challenge, vote and claim.
async fn own_node(s: &Session<'_>) -> Result<Pubkey, CliError> {
    own_node_account(s).await.map(|(address, _)| address)
}

async fn own_node_account(s: &Session<'_>) -> Result<(Pubkey, Node), CliError> {
    let operator = s.signer_pubkey()?;
    let node = pda::node(&operator);
    match s.fetch_optional::<Node>(&node).await? {
        Some(account) => Ok((node, account)),
        None => Err(CliError::Refused(format!(
            "the signer {operator} operates no node; only nodes challenge jobs and vote on disputes"
        ))),
    }
}

async fn open(
    s: &Session<'_>,
    job: Pubkey,
    result: [u8; 32],
    from: Option<Pubkey>,
) -> Result<Output, CliError> {
    let operator = s.signer_pubkey()?;
    let config = s.config().await?;
    let node = own_node(s).await?;
    let j: Job = s.fetch(&job, "job").await?;
    let address = pda::dispute(&job);
    if s.account_data(&address).await?.is_some() {
        return Err(CliError::Refused(format!(
            "job {job} is already disputed ({address}); see `verdict dispute show --job {job}`"
        )));
    }
    if !matches!(j.status(), JobStatus::Solved | JobStatus::Paid) {
        return Err(CliError::Refused(format!(
            "job {job} is {}: only a solved or paid job can be challenged",
            super::job::status_name(j.status())
        )));
    }
    if result == j.output_hash {
        return Err(CliError::Input(format!(
            "--result {} is the job's own output hash: name the different result you recomputed",
            hex(&result)
        )));
    }
    if node == j.miner {
        return Err(CliError::Refused(format!(
            "node {node} is the miner of job {job}: it cannot challenge its own outcome"
        )));
    }
    let (accountable, count) = j.accountable_signers();
    if accountable[..count as usize].contains(&node) {
        return Err(CliError::Refused(format!(
            "node {node} co-signed the outcome of high-risk job {job} and answers for it: it cannot challenge it"
        )));
    }
    let bond = config.params.dispute_bond(j.price);
    let source = s.source_tokens(from, &config.stake_mint, bond).await?;
    s.confirm(&format!(
        "Challenge job {job} with node {node}, naming result {}, posting a bond of {} tokens from {source}.",
        hex(&result),
        format_tokens(bond)
    ))?;
    let landed = s
        .send(
            &[ix::open_dispute(&operator, &source, &job, &j, result)],
            &[],
        )
        .await?;
    let dispute: Dispute = s.fetch(&address, "dispute").await?;
    let out = view(&address, &dispute, &config.params, s.now().await?);
    Ok(Output::new(
        format!(
            "Opened dispute {address} on job {job} with a bond of {}\nCommit votes until {}, reveal them until {}\nSignature: {}\n\n{}",
            format_tokens(dispute.bond),
            dispute.commit_end,
            dispute.reveal_end,
            landed.signature,
            out.text
        ),
        with(
            with(out.json, landed_json(&landed)),
            json!({ "bond_from": source.to_string() }),
        ),
    ))
}

/// Why `node` may not vote on `dispute`, if it is a party.
fn party_role(dispute: &Dispute, node: &Pubkey) -> Option<&'static str> {
    if *node == dispute.miner {
        Some("the miner")
    } else if *node == dispute.challenger {
        Some("the challenger")
    } else if dispute.signers().contains(node) {
        Some("a co-signer who answers for the outcome")
    } else {
        None
    }
}

async fn commit(
    s: &Session<'_>,
    job: Pubkey,
    result: [u8; 32],
    salt: Option<[u8; 32]>,
    from: Option<Pubkey>,
) -> Result<Output, CliError> {
    let operator = s.signer_pubkey()?;
    let config = s.config().await?;
    let (address, dispute) = fetch_dispute(s, &job).await?;
    let (voter, node) = own_node_account(s).await?;
    let vote = pda::vote(&address, &voter);
    if s.account_data(&vote).await?.is_some() {
        return Err(CliError::Refused(format!(
            "node {voter} already committed a vote on dispute {address} ({vote})"
        )));
    }
    if let Some(role) = party_role(&dispute, &voter) {
        return Err(CliError::Refused(format!(
            "node {voter} is {role} in dispute {address}: parties cannot vote"
        )));
    }
    let stake = node
        .slashable_stake()
        .map_err(|e| CliError::Chain(e.to_string()))?;
    let weight = config.params.vote_weight(stake);
    if weight == 0 {
        return Err(CliError::Refused(format!(
            "node {voter} has {} tokens of stake, less than one vote unit ({}): it cannot vote",
            format_tokens(stake),
            format_tokens(config.params.vote_unit)
        )));
    }
    let deposit = config.params.vote_deposit;
    let source = s.source_tokens(from, &config.stake_mint, deposit).await?;
    s.confirm(&format!(
        "Commit node {voter}'s vote (weight {weight}) on dispute {address}, posting a deposit of {} tokens from {source} (returned at reveal, forfeited if never revealed).",
        format_tokens(deposit)
    ))?;
    let generated = salt.is_none();
    let salt = salt.unwrap_or_else(random_salt);
    let commitment = vote_commitment(&result, &salt, &voter);
    let landed = match s
        .send(
            &[ix::commit_vote(&operator, &source, &address, commitment)],
            &[],
        )
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
    let committed: Option<Vote> = s.fetch_optional(&vote).await?;
    let (weight, deposit) = committed
        .map(|v| (v.weight, v.deposit))
        .unwrap_or((weight, deposit));
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
            "weight": weight,
            "deposit": deposit,
            "deposit_from": source.to_string(),
            "commit_end": dispute.commit_end,
            "reveal_end": dispute.reveal_end,
        }),
        landed_json(&landed),
    );
    let mut text = labelled(&[
        ("Committed Vote", vote.to_string()),
        ("Dispute", address.to_string()),
        ("Voter", voter.to_string()),
        ("Weight", weight.to_string()),
        ("Result", result.clone()),
        ("Salt", salt.clone()),
        (
            "Deposit",
            format!("{} from {source}", format_tokens(deposit)),
        ),
        ("Reveal From", dispute.commit_end.to_string()),
        ("Reveal Until", dispute.reveal_end.to_string()),
        ("Signature", landed.signature.to_string()),
    ]);
    text.push_str(&format!(
        "\nKeep the salt: reveal with `verdict dispute reveal --job {} --result {result} --salt {salt}` (an unrevealed vote forfeits its deposit)\n",
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
    to: Option<Pubkey>,
) -> Result<Output, CliError> {
    let operator = s.signer_pubkey()?;
    let config = s.config().await?;
    let (address, _) = fetch_dispute(s, &job).await?;
    let voter = own_node(s).await?;
    let vote = pda::vote(&address, &voter);
    let committed: Vote = s.fetch_optional(&vote).await?.ok_or_else(|| {
        CliError::Refused(format!(
            "node {voter} has no committed vote on dispute {address}; commit first with `verdict dispute commit`"
        ))
    })?;
    let (destination, create) = s.destination_tokens(to, &operator, &config.stake_mint)?;
    let mut instructions = create;
    instructions.push(ix::reveal_vote(
        &operator,
        &destination,
        &address,
        result,
        salt,
    ));
    let landed = s.send(&instructions, &[]).await?;
    let dispute: Dispute = s.fetch(&address, "dispute").await?;
    let revealed: Option<Vote> = s.fetch_optional(&vote).await?;
    let weight = revealed.map(|v| v.weight).unwrap_or(committed.weight);
    let json = with(
        json!({
            "dispute": address.to_string(),
            "job": dispute.job.to_string(),
            "voter": voter.to_string(),
            "vote": vote.to_string(),
            "result": hex(&result),
            "revealed": true,
            "weight": weight,
            "deposit_returned": committed.deposit,
            "deposit_to": destination.to_string(),
            "voters_revealed": dispute.voters_revealed,
            "commits": dispute.commits,
            "turnout": turnout(&dispute),
            "active_weight": dispute.active_weight,
            "reveal_end": dispute.reveal_end,
        }),
        landed_json(&landed),
    );
    let text = labelled(&[
        ("Revealed Vote", vote.to_string()),
        ("Dispute", address.to_string()),
        ("Result", hex(&result)),
        ("Weight", weight.to_string()),
        (
            "Deposit Returned",
            format!("{} to {destination}", format_tokens(committed.deposit)),
        ),
        (
            "Revealed",
            format!(
                "{} voters of {} commits, weight {} of {} active",
                dispute.voters_revealed,
                dispute.commits,
                turnout(&dispute),
                dispute.active_weight
            ),
        ),
        ("Resolvable From", dispute.reveal_end.to_string()),
        ("Signature", landed.signature.to_string()),
    ]);
    Ok(Output::new(text, json))
}

async fn resolve(s: &Session<'_>, job: Pubkey) -> Result<Output, CliError> {
    s.signer()?;
    let config = s.config().await?;
    let (address, dispute) = fetch_dispute(s, &job).await?;
    if dispute.status() != DisputeStatus::Voting {
        return Err(CliError::Refused(format!(
            "dispute {address} is already resolved ({})",
            status_name(dispute.status())
        )));
    }
    let j: Job = s.fetch(&dispute.job, "job").await?;
    let (challenger_before, miner_before) = (
        s.fetch::<Node>(&dispute.challenger, "challenger node")
            .await?
            .owed,
        s.fetch::<Node>(&dispute.miner, "miner node").await?.owed,
    );
    let landed = s
        .send(&[ix::resolve_dispute(&dispute.job, &j, &dispute)], &[])
        .await?;
    let resolved = events(&landed).into_iter().find_map(|e| match e {
        VerdictEvent::DisputeResolved(e) => Some(e),
        _ => None,
    });
    let after: Dispute = s.fetch(&address, "dispute").await?;
    let challenger_owed = s
        .fetch::<Node>(&after.challenger, "challenger node")
        .await?
        .owed;
    let miner_owed = s.fetch::<Node>(&after.miner, "miner node").await?.owed;
    let (bond_returned, unresolved_fee, forfeited) = match resolved {
        Some(e) => (e.bond_returned, e.unresolved_fee, e.deposits_forfeited),
        None => (
            challenger_owed.saturating_sub(challenger_before),
            miner_owed.saturating_sub(miner_before),
            dispute.deposits_held,
        ),
    };
    let out = view(&address, &after, &config.params, s.now().await?);
    let credits = match after.status() {
        DisputeStatus::Upheld => format!(
            "the bond of {} goes to the correct voters",
            format_tokens(after.bond)
        ),
        _ => {
            let mut line = format!(
                "{} of the bond credited to the challenger's owed balance",
                format_tokens(bond_returned)
            );
            if unresolved_fee > 0 {
                line.push_str(&format!(
                    ", {} to the miner's",
                    format_tokens(unresolved_fee)
                ));
            }
            line
        }
    };
    Ok(Output::new(
        format!(
            "Resolved dispute {address}: {} (weight {} for the result, {} against; turnout {} of {} active weight); {credits}; {} in unrevealed deposits forfeited; {} liquidations pending\nSignature: {}\n\n{}",
            status_name(after.status()),
            after.n,
            after.m,
            turnout(&after),
            after.active_weight,
            format_tokens(forfeited),
            after.pending_liquidations,
            landed.signature,
            out.text
        ),
        with(
            with(out.json, landed_json(&landed)),
            json!({
                "bond_returned": bond_returned,
                "unresolved_fee": unresolved_fee,
                "deposits_forfeited": forfeited,
                "challenger_owed": challenger_owed,
                "miner_owed": miner_owed,
            }),
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
    if !dispute.decided() {
        return Err(CliError::Refused(format!(
            "dispute {address} is {}: only an upheld or overturned dispute liquidates anyone",
            status_name(dispute.status())
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
            "refund_owed": dispute.refund_owed,
            "reward_total": dispute.reward_total,
            "reward_weight": dispute.reward_weight,
        });
        return Ok(Output::new(
            format!("Nothing to liquidate: dispute {address} has no pending liquidation\n"),
            json,
        ));
    }
    // The disputed job (its escrow and recorded refund account) goes with
    // every crank: a client still owed a refund is paid out of the pool by
    // whichever liquidation fills it.
    let job: Option<Job> = s.fetch_optional(&dispute.job).await?;
    if job.is_none() && dispute.refund_owed > 0 {
        return Err(CliError::Refused(format!(
            "job {} is closed, so the client's refund account the liquidation pays is unknown",
            dispute.job
        )));
    }
    let job_accounts = job.map(|j| (dispute.job, j.refund_account));
    let mut done: Vec<Value> = Vec::new();
    let mut rows = Vec::new();
    for (node, target) in &targets {
        let instruction = ix::liquidate(&address, node, *target, job_accounts);
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
            format_tokens(client_refund),
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
        "refund_owed": after.refund_owed,
        "reward_total": after.reward_total,
        "reward_weight": after.reward_weight,
    });
    let mut text = format!("Liquidated {} on dispute {address}\n\n", done.len());
    text.push_str(&table(
        &["Node", "Target", "Taken", "To Client", "Signature"],
        &rows,
    ));
    text.push('\n');
    text.push_str(&labelled(&[
        (
            "Pending Liquidations",
            after.pending_liquidations.to_string(),
        ),
        ("Pool", format_tokens(after.pool)),
        ("Refund Owed", format_tokens(after.refund_owed)),
        ("Voter Rewards", reward_text(&after)),
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
    let votes: Vec<Vote> = s
        .accounts_of::<Vote>()
        .await?
        .into_iter()
        .map(|(_, v)| v)
        .collect();
    Ok(verdict_sdk::instructions::pending_liquidations(
        address, dispute, &votes,
    ))
}

async fn claim(s: &Session<'_>, job: Pubkey, to: Option<Pubkey>) -> Result<Output, CliError> {
    let operator = s.signer_pubkey()?;
    let config = s.config().await?;
    let (address, dispute) = fetch_dispute(s, &job).await?;
    let voter = own_node(s).await?;
    let vote = pda::vote(&address, &voter);
    let v: Vote = s.fetch_optional(&vote).await?.ok_or_else(|| {
        CliError::Refused(format!(
            "node {voter} has no vote on dispute {address}; only correct voters are paid"
        ))
    })?;
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
        // What the pool paid out.
        .unwrap_or(dispute.pool.saturating_sub(after.pool));
    let json = with(
        json!({
            "dispute": address.to_string(),
            "job": after.job.to_string(),
            "voter": voter.to_string(),
            "weight": v.weight,
            "amount": amount,
            "operator_tokens": operator_tokens.to_string(),
            "claims": after.claims,
            "pool": after.pool,
            "reward_total": after.reward_total,
            "reward_weight": after.reward_weight,
            "vote_closed": true,
        }),
        landed_json(&landed),
    );
    let text = labelled(&[
        ("Claimed", format!("{} tokens", format_tokens(amount))),
        ("Dispute", address.to_string()),
        ("Voter", voter.to_string()),
        (
            "Weight",
            format!("{} of {} rewarded", v.weight, after.reward_weight),
        ),
        ("To", operator_tokens.to_string()),
        (
            "Claims",
            format!("{} of {}", after.claims, after.winning_voters()),
        ),
        ("Vote", format!("{vote} closed, rent returned")),
        ("Signature", landed.signature.to_string()),
    ]);
    Ok(Output::new(text, json))
}

/// Closes the signer's vote once it has nothing left to claim or answer for.
async fn close_vote(s: &Session<'_>, job: Pubkey) -> Result<Output, CliError> {
    let operator = s.signer_pubkey()?;
    let (address, dispute) = fetch_dispute(s, &job).await?;
    let voter = own_node(s).await?;
    let vote = pda::vote(&address, &voter);
    let v: Vote = s.fetch_optional(&vote).await?.ok_or_else(|| {
        CliError::Refused(format!(
            "node {voter} has no vote on dispute {address} to close"
        ))
    })?;
    let reason = match dispute.status() {
        DisputeStatus::Voting => None,
        DisputeStatus::Unresolved => Some("the dispute ended unresolved"),
        DisputeStatus::Upheld | DisputeStatus::Overturned => {
            if !v.revealed() {
                Some("it was never revealed (its deposit was forfeited)")
            } else if v.weight == 0 {
                Some("it carried no weight")
            } else if v.liquidated() {
                Some("its voter was liquidated")
            } else if v.result == dispute.result && v.claimed() {
                Some("its reward was claimed")
            } else {
                None
            }
        }
    };
    let Some(reason) = reason else {
        let why = match dispute.status() {
            DisputeStatus::Voting => "the dispute is still voting".to_string(),
            _ if v.result == dispute.result => format!(
                "it voted with the result: claim its reward with `verdict dispute claim --job {}` (that closes it)",
                dispute.job
            ),
            _ => "it voted against the result and awaits its liquidation".to_string(),
        };
        return Err(CliError::Refused(format!(
            "vote {vote} of node {voter} is not settled: {why}"
        )));
    };
    let rent = s.env.chain.lamports(&vote).await.unwrap_or_default();
    let landed = s.send(&[ix::close_vote(&operator, &address)], &[]).await?;
    let json = with(
        json!({
            "dispute": address.to_string(),
            "job": dispute.job.to_string(),
            "voter": voter.to_string(),
            "vote": vote.to_string(),
            "closed": true,
            "revealed": v.revealed(),
            "liquidated": v.liquidated(),
            "rent_returned": rent,
        }),
        landed_json(&landed),
    );
    Ok(Output::new(
        format!(
            "Closed vote {vote} of node {voter} on dispute {address} ({reason}); its rent went back to {operator}\nSignature: {}\n",
            landed.signature
        ),
        json,
    ))
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
    match dispute.status() {
        DisputeStatus::Voting if now < dispute.commit_end => "commit",
        DisputeStatus::Voting if now < dispute.reveal_end => "reveal",
        DisputeStatus::Voting => "awaiting resolve",
        _ if matches!(dispute.status(), DisputeStatus::Unresolved) => "closed",
        _ if dispute.pending_liquidations > 0 => "liquidating",
        _ => "claiming",
    }
}

fn reward_text(dispute: &Dispute) -> String {
    if dispute.decided() && dispute.pending_liquidations == 0 {
        if dispute.reward_weight == 0 {
            "- (no correct voter: the pool went to the reward pool)".into()
        } else {
            format!(
                "{} shared over vote weight {} (pro rata)",
                format_tokens(dispute.reward_total),
                dispute.reward_weight
            )
        }
    } else {
        "- (set when the last liquidation is done)".into()
    }
}

/// Revealed vote weight, every result counted.
fn turnout(dispute: &Dispute) -> u64 {
    dispute
        .weight_disputed
        .saturating_add(dispute.weight_challenger)
        .saturating_add(dispute.weight_other)
}

/// Revealed weight the quorum asks for: `dispute_quorum_bps` of the active
/// weight at opening, rounded up.
fn quorum_weight(dispute: &Dispute, params: &ProtocolParams) -> u64 {
    let need = dispute.active_weight as u128 * params.dispute_quorum_bps as u128;
    need.div_ceil(10_000) as u64
}

/// What resolving would decide with the votes revealed so far (the program's
/// own rule, under the Config's current settings).
fn projection(dispute: &Dispute, params: &ProtocolParams) -> Value {
    match dispute.decide(&DisputeRules::of(params)) {
        Verdict::Stands { result, n, m } => {
            let status = if result == dispute.disputed_output {
                "upheld"
            } else {
                "overturned"
            };
            json!({ "status": status, "result": hex(&result), "n": n, "m": m })
        }
        Verdict::Unresolved { n, m } => {
            json!({ "status": "unresolved", "result": null, "n": n, "m": m })
        }
    }
}

fn view(address: &Pubkey, dispute: &Dispute, params: &ProtocolParams, now: i64) -> Output {
    let d = dispute;
    let candidates = json!([
        {
            "candidate": "disputed_output",
            "result": hex(&d.disputed_output),
            "weight": d.weight_disputed,
            "voters": d.voters_disputed,
        },
        {
            "candidate": "challenger_result",
            "result": hex(&d.challenger_result),
            "weight": d.weight_challenger,
            "voters": d.voters_challenger,
        },
    ]);
    let signers: Vec<Value> = d
        .signers()
        .iter()
        .enumerate()
        .map(
            |(i, k)| json!({ "node": k.to_string(), "slashed": d.signers_slashed & (1 << i) != 0 }),
        )
        .collect();
    let result = d.decided().then(|| hex(&d.result));
    let turnout = turnout(d);
    let quorum = quorum_weight(d, params);
    let voting = d.status() == DisputeStatus::Voting;
    let projected = voting.then(|| projection(d, params));
    let json = json!({
        "dispute": address.to_string(),
        "job": d.job.to_string(),
        "status": status_name(d.status()),
        "phase": phase(d, now),
        "challenger": d.challenger.to_string(),
        "challenger_operator": d.challenger_operator.to_string(),
        "bond": d.bond,
        "miner": d.miner.to_string(),
        "disputed_output": hex(&d.disputed_output),
        "challenger_result": hex(&d.challenger_result),
        "candidates": candidates,
        "weight_other": d.weight_other,
        "opened_at": d.opened_at,
        "commit_end": d.commit_end,
        "reveal_end": d.reveal_end,
        "active_weight": d.active_weight,
        "turnout": turnout,
        "quorum_weight": quorum,
        "quorum_bps": params.dispute_quorum_bps,
        "min_voters": params.dispute_min_voters,
        "commits": d.commits,
        "voters_revealed": d.voters_revealed,
        "deposits_held": d.deposits_held,
        "projected": projected,
        "result": result,
        "overturned": d.status() == DisputeStatus::Overturned,
        "n": d.n,
        "m": d.m,
        "pending_liquidations": d.pending_liquidations,
        "miner_liquidated": d.miner_liquidated(),
        "refund_owed": d.refund_owed,
        "signers": signers,
        "pool": d.pool,
        "reward_total": d.reward_total,
        "reward_weight": d.reward_weight,
        "claims": d.claims,
    });
    let slashed = (0..d.signer_count as usize)
        .filter(|i| d.signers_slashed & (1 << i) != 0)
        .count();
    let mut lines = vec![
        ("Dispute", address.to_string()),
        ("Job", d.job.to_string()),
        ("Status", status_name(d.status()).to_string()),
        ("Phase", phase(d, now).to_string()),
        ("Challenger", d.challenger.to_string()),
        ("Bond", format_tokens(d.bond)),
        ("Miner", d.miner.to_string()),
        ("Disputed Output", hex(&d.disputed_output)),
        ("Challenger Result", hex(&d.challenger_result)),
        ("Opened At", d.opened_at.to_string()),
        ("Commit Until", d.commit_end.to_string()),
        ("Reveal Until", d.reveal_end.to_string()),
        (
            "Votes",
            format!(
                "{} committed, {} voters revealed (at least {} needed)",
                d.commits, d.voters_revealed, params.dispute_min_voters
            ),
        ),
        (
            "Turnout",
            format!(
                "weight {turnout} of {} active (quorum {quorum}, {})",
                d.active_weight,
                crate::output::bps_percent(params.dispute_quorum_bps as u64)
            ),
        ),
        ("Deposits Held", format_tokens(d.deposits_held)),
    ];
    if let Some(p) = &projected {
        lines.push((
            "If Resolved Now",
            format!(
                "{} (n {}, m {})",
                p["status"].as_str().unwrap_or("-"),
                p["n"],
                p["m"]
            ),
        ));
    }
    lines.extend([
        ("Result", result.unwrap_or_else(|| "-".into())),
        ("For The Result (n)", d.n.to_string()),
        ("Against (m)", d.m.to_string()),
        ("Pending Liquidations", d.pending_liquidations.to_string()),
        ("Miner Liquidated", d.miner_liquidated().to_string()),
        (
            "Signers Slashed",
            format!("{slashed} of {}", d.signer_count),
        ),
        ("Refund Owed", format_tokens(d.refund_owed)),
        ("Pool", format_tokens(d.pool)),
        ("Voter Rewards", reward_text(d)),
        ("Claims", d.claims.to_string()),
    ]);
    let mut text = labelled(&lines);
    let rows = vec![
        vec![
            "disputed output".to_string(),
            hex(&d.disputed_output),
            d.weight_disputed.to_string(),
            d.voters_disputed.to_string(),
        ],
        vec![
            "challenger's result".to_string(),
            hex(&d.challenger_result),
            d.weight_challenger.to_string(),
            d.voters_challenger.to_string(),
        ],
        vec![
            "anything else".to_string(),
            "-".to_string(),
            d.weight_other.to_string(),
            d.voters_revealed
                .saturating_sub(d.voters_disputed)
                .saturating_sub(d.voters_challenger)
                .to_string(),
        ],
    ];
    text.push('\n');
    text.push_str(&table(&["Candidate", "Result", "Weight", "Voters"], &rows));
    Output::new(text, json)
}
