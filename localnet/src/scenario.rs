//! The main job's scenario: 5 validators, each running its own keeper,
//! co-signing each other's outcomes 3-of-5 over HTTP and gossiping miner
//! health; 8 real miner processes (5 honest, slow, wrong, flaky) on loopback;
//! delegators; clients streaming jobs of every risk level (embeddings, and
//! generations sampled with each miner's seed) to any keeper, which reserve a
//! share of low-risk jobs for Tier 3 miners (fair entry); a keeper killed and
//! restarted, a committee rotation cranked by the keepers, a dispute the
//! keepers open, vote and settle against the wrong miner, and a griefing
//! dispute against an honest miner's correct answer that the keepers vote
//! down. Then every job is settled and the report is read back from the chain
//! ([`crate::judging`]).

use std::collections::BTreeMap;
use std::time::{Duration, Instant};

use anchor_lang::prelude::Pubkey;
use anchor_lang::Space;
use indicatif::{ProgressBar, ProgressStyle};
use miner::fault::FaultMode;
use miner::process::Fault;
use sha2::{Digest, Sha256};
use solana_sdk::signature::Keypair;
use solana_sdk::signer::Signer;
use verdict::state::{
    vote_commitment, Delegation, Dispute, DisputeStatus, Job, JobStatus, Node, RiskLevel, Vote,
};
use verdict_chain::Chain;
use verdict_sdk::accounts::AccountSource;
use verdict_sdk::client::{
    await_result, submit_job, InferError, InferRequest, KeeperClient, Verified,
};
use verdict_sdk::{instructions as ix, pda};
use verdict_tests::User;

use crate::ledger;
use crate::report::write_report;

use crate::judging::{read_report, reference_hashes, run_events, signing_keys};
use crate::network::{
    build, spinner, Bidding, Finished, MinerPlan, Net, NetworkError, Options, AUDITOR, JOB_FEE,
    SECOND_MODEL, TOKEN,
};

/// With a generative model, one job in sixteen asks for a generation: a
/// generation keeps a miner's cores busy for seconds, and on a 2-core
/// machine shared by eight miners a larger share made embedding calls queued
/// behind it miss their shard timeout (honest miners failed jobs).
pub(crate) const GENERATIVE_EVERY: usize = 16;
/// Tokens a main-job generation asks for: short, so a job stays within the
/// keepers' latency budget on a 2-core machine.
pub(crate) const GENERATED_TOKENS: u32 = 16;

/// The validator whose operator, outside its keeper, challenges an honest
/// miner's correct answer naming a made-up result (griefing).
pub(crate) const GRIEFER: usize = 4;
/// The validator whose operator, outside its keeper, votes with the griefer
/// in its second challenge, so the vote cannot clear the 66% bar.
pub(crate) const ACCOMPLICE: usize = 3;

/// A griefing challenge the run opened; with an accomplice, the task that
/// reveals its vote for the made-up result (the run does, not a keeper).
pub(crate) struct Griefing {
    pub(crate) dispute: Pubkey,
    pub(crate) accomplice_reveal: Option<std::thread::JoinHandle<Result<(), NetworkError>>>,
}

/// Longest the run waits for a batch's verified results; a job no miner may
/// take yet (high risk before any miner left Tier 3) stays SENT and expires
/// at the end.
pub(crate) const BATCH_WAIT: Duration = Duration::from_secs(15);

/// How long the client waits, after the last batch, for a job it stopped
/// waiting on: the keepers' longest budget for a generation re-checked by
/// the committee, with room.
pub(crate) const LATE_WAIT: Duration = Duration::from_secs(30);

/// Submits the run's job `i` as the client, and hands its input to the
/// keepers (any keeper takes it and shares it with the others).
async fn submit(
    net: &Net,
    client: &User,
    keepers: &KeeperClient,
    i: usize,
    model: &str,
    input: &str,
    risk: RiskLevel,
) -> Result<ClientJob, NetworkError> {
    let mut request = InferRequest::new(model, input, risk, JOB_FEE, client.tokens);
    request.job_id = Some(i as u64);
    let key = submit_job(&net.chain, &client.keypair, &request).await?.job;
    keepers.rotated(i).submit_input(&key, input, false).await?;
    Ok(ClientJob {
        key,
        model: model.to_string(),
        input: input.to_string(),
        generated_tokens: None,
        unserved: None,
    })
}

/// Records what the client was told for a job it was not served.
fn note_unserved(jobs: &mut [ClientJob], job: &Pubkey, error: &InferError, started: Instant) {
    if let Some(j) = jobs.iter_mut().find(|j| j.key == *job) {
        j.unserved = Some(format!(
            "{error} (at {:.1} s)",
            started.elapsed().as_secs_f64()
        ));
    }
}

/// Records how many tokens a verified generation gave the client.
fn note_generated_tokens(jobs: &mut [ClientJob], job: &Pubkey, verified: &Verified) {
    if let Some(tokens) = verified.output.tokens() {
        if let Some(mine) = jobs.iter_mut().find(|j| j.key == *job) {
            mine.generated_tokens = Some(tokens.len() as u64);
        }
    }
}

/// A job the run's client submitted: its account, the model it asks for, its input.
pub(crate) struct ClientJob {
    pub(crate) key: Pubkey,
    pub(crate) model: String,
    pub(crate) input: String,
    /// Tokens in the verified answer, for a generation the client got back.
    pub(crate) generated_tokens: Option<u64>,
    /// What the client was told when it was not served, and when (seconds
    /// into the run): the report lists it next to the job's chain outcome.
    pub(crate) unserved: Option<String>,
}

/// A generative job's input: a short question, sampled (top 40 at 0.7) or,
/// one in three, greedy.
pub(crate) fn generation_input_for(i: usize) -> String {
    const SUBJECTS: [&str; 4] = ["a chef", "a robot", "an old dog", "a pilot"];
    const TOPICS: [&str; 3] = ["the sea", "music", "the weather"];
    let prompt = format!(
        "In one sentence, what does {} think about {}?",
        SUBJECTS[i % 4],
        TOPICS[(i / 4) % 3]
    );
    let mut input = verdict_wire::generation::GenerationInput::new(prompt);
    input.max_tokens = GENERATED_TOKENS;
    if i.is_multiple_of(3) {
        input = verdict_wire::generation::GenerationInput::greedy(input.prompt, GENERATED_TOKENS);
    }
    input.to_input()
}

pub(crate) fn input_for(i: usize) -> String {
    const SUBJECTS: [&str; 6] = [
        "A man",
        "A woman",
        "The child",
        "A chef",
        "The old dog",
        "A robot",
    ];
    const ACTIONS: [&str; 6] = [
        "is eating food",
        "plays the guitar",
        "reads a book",
        "rides a horse",
        "cooks pasta",
        "watches the sea",
    ];
    format!(
        "{} {} (request {i}).",
        SUBJECTS[i % 6],
        ACTIONS[(i / 6) % 6]
    )
}

/// The miners of the main job: five honest, and one each slow, wrong and
/// flaky; each bids its own way. The slow one undercuts the honest, wins,
/// times out, and its mistakes soon price it out (the auction weighs a bid
/// by the bidder's trust); the wrong one undercuts too, and once a dispute
/// names it every answer of its is re-run before it is attested, so its
/// wins turn into failures on chain until it is liquidated.
pub(crate) const MAIN_JOB_MINERS: [MinerPlan; 8] = [
    MinerPlan::new("honest", None, Bidding::Cheap),
    MinerPlan::new("honest", None, Bidding::Adaptive),
    MinerPlan::new("honest", None, Bidding::Standing),
    MinerPlan::new("honest", None, Bidding::Expensive),
    MinerPlan::new("honest", None, Bidding::Adaptive),
    MinerPlan::new(
        "slow",
        Some(Fault::slow(Duration::from_secs(6))),
        Bidding::Cheap,
    ),
    MinerPlan::new("wrong", Some(Fault::new(FaultMode::Wrong)), Bidding::Cheap),
    MinerPlan::new("flaky", Some(Fault::flaky(0.3, 7)), Bidding::Standing),
];

/// Runs the whole network and writes the report.
pub async fn run(opts: &Options) -> Result<Finished, NetworkError> {
    let started = Instant::now();
    let progress = spinner(opts.show_progress);
    let mut models = vec![opts.model.as_str(), SECOND_MODEL];
    models.extend(opts.generative_model.as_deref());
    let (net, payer_lamports) = build(
        &opts.target,
        &models,
        &opts.miner_bin,
        opts.tier3_reserved_bps,
        &MAIN_JOB_MINERS,
        &progress,
    )
    .await?;
    let params = net.params;
    let work = net.work.clone();
    let step = |m: &str| progress.set_message(m.to_string());

    // One delegator backs an honest miner, one the wrong miner: the second
    // shares its liquidation.
    step("delegating to two miners");
    let wrong_index = MAIN_JOB_MINERS
        .iter()
        .position(|plan| plan.behaviour == "wrong")
        .expect("a wrong miner");
    let mut stakers = Vec::new();
    for target in [0usize, wrong_index] {
        let staker = net
            .wallet(500 * TOKEN, net.rent(8 + Delegation::INIT_SPACE, 1).await?)
            .await?;
        let node = net.miners[target].keys.node;
        net.send(
            &[ix::delegate(
                &staker.keypair.pubkey(),
                &node,
                &staker.tokens,
                500 * TOKEN,
            )],
            &[&staker.keypair],
        )
        .await?;
        stakers.push(staker);
    }

    step(&format!(
        "starting 5 keepers, one per validator ({}% of low-risk jobs reserved for Tier 3 miners)",
        opts.tier3_reserved_bps as f64 / 100.0
    ));
    let mut keepers = Vec::new();
    for i in 0..5 {
        keepers.push(net.start_keeper(i).await?);
    }
    // The client signs and pays for its own submits (rent and fees).
    let client = net
        .wallet(
            1_000 * TOKEN,
            net.job_cost().await? * (opts.jobs + GRIEF_TOP_UP) as u64,
        )
        .await?;
    let keeper_urls: Vec<String> = keepers.iter().map(|k| k.api_url()).collect();
    let keeper_client = KeeperClient::new(keeper_urls, Duration::from_secs(5))
        .map_err(|e| NetworkError::Other(e.to_string()))?;

    progress.finish_and_clear();
    let bar = if opts.show_progress {
        ProgressBar::new(opts.jobs as u64)
    } else {
        ProgressBar::hidden()
    };
    bar.set_style(
        ProgressStyle::with_template("{bar:40} {pos}/{len} jobs  {msg}")
            .unwrap()
            .progress_chars("=> "),
    );
    let mut jobs: Vec<ClientJob> = Vec::new();
    let mut next = 0usize;
    let mut rotated = false;
    let mut restarted = false;
    // The griefing challenges still to open: alone, the honest keepers'
    // votes uphold the answer; with an accomplice, the made-up result's
    // weight keeps the answer below 66% of the active weight, so the vote
    // is unresolved.
    let mut griefings = Griefings {
        due: vec![None, Some(ACCOMPLICE)],
        opened: Vec::new(),
    };
    let (mut solved, mut refunded, mut waiting_total) = (0usize, 0usize, 0usize);
    let mut closed_uncollected = 0usize;
    // Jobs still running when their batch's wait ended (e.g. a generation
    // whose committee re-runs it), asked for again after the last batch.
    let mut late: Vec<(Pubkey, String)> = Vec::new();
    let mut mixed = false;
    let mut bursted = false;
    while next < opts.jobs {
        // Once, from midway: a burst of BURST × the usual batch at once,
        // more than the miners take at once (each one job per keeper), so
        // the auctions go down the price ladder.
        let burst = !bursted && next * 2 >= opts.jobs;
        bursted |= burst;
        let size = if burst {
            BURST * opts.concurrency
        } else {
            opts.concurrency
        };
        let batch_end = (next + size).min(opts.jobs);
        if burst {
            bar.println(format!(
                "a burst of {} jobs at once: more than the miners take at once",
                batch_end - next
            ));
        }
        let mut batch = Vec::new();
        for i in next..batch_end {
            // Low risk first, so miners build a record; every risk level once
            // three miners left Tier 3 (or past 60% of the jobs).
            let risk = if !mixed {
                RiskLevel::Low
            } else {
                [RiskLevel::Low, RiskLevel::Medium, RiskLevel::High][i % 3]
            };
            // One job in four asks for the second model, so miners switch
            // models; with a generative model, one in sixteen asks for a generation.
            let (model, input) = match &opts.generative_model {
                Some(generative) if i % GENERATIVE_EVERY == 1 => {
                    (generative.as_str(), generation_input_for(i))
                }
                _ if i % 4 == 3 => (SECOND_MODEL, input_for(i)),
                _ => (opts.model.as_str(), input_for(i)),
            };
            let job = submit(&net, &client, &keeper_client, i, model, &input, risk).await?;
            batch.push((job.key, input));
            jobs.push(job);
        }
        next = batch_end;
        // Midway: a keeper is killed (no graceful stop) and restarted on
        // its database; the others take over the jobs it led meanwhile.
        if !restarted && next >= opts.jobs / 3 {
            restarted = true;
            bar.println("killing keeper 2 mid-batch; the other members take over its jobs");
            keepers.remove(1).crash().await;
            tokio::time::sleep(Duration::from_millis(500)).await;
            keepers.insert(1, net.start_keeper(1).await?);
            bar.println("keeper 2 restarted on its database");
        }
        // Wait for the batch, within the keeper's end-to-end budget; a job no
        // miner may take (e.g. high risk before any miner reached Tier 2)
        // stays SENT and expires at the end.
        // Each job's result, verified against the chain as any client would.
        let awaited = batch.iter().map(|(job, input)| {
            await_result(&net.chain, &keeper_client, None, job, input, BATCH_WAIT)
        });
        let results = futures_util::future::join_all(awaited).await;
        for ((job, input), result) in batch.iter().zip(results) {
            match result {
                Ok(verified) => {
                    solved += 1;
                    note_generated_tokens(&mut jobs, job, &verified);
                }
                Err(e @ (InferError::Refunded(_) | InferError::JobFailed(_))) => {
                    refunded += 1;
                    note_unserved(&mut jobs, job, &e, started);
                }
                Err(InferError::Timeout(_)) => {
                    waiting_total += 1;
                    late.push((*job, input.clone()));
                }
                Err(e) => return Err(NetworkError::Other(format!("job {job}: {e}"))),
            }
            bar.inc(1);
        }
        let elapsed = started.elapsed().as_secs_f64();
        let mut tiers = [0usize; 3];
        for m in &net.miners {
            let n: Node = net.chain.fetch(&m.keys.node).await?;
            tiers[(n.reputation.tier(&params) as usize).clamp(1, 3) - 1] += 1;
        }
        mixed = mixed || tiers[0] + tiers[1] >= 3 || next * 5 >= opts.jobs * 3;
        bar.set_message(format!(
            "solved {solved} · refunded {refunded} · waiting {waiting_total} · {:.1} jobs/s · miners in tiers 1/2/3: {}/{}/{}",
            next as f64 / elapsed,
            tiers[0],
            tiers[1],
            tiers[2]
        ));
        // From midway: the griefing challenges of honest miners' correct
        // answers, well inside their challenge windows (on a cluster,
        // minutes); one that finds no open answer yet waits for a batch.
        if next * 2 >= opts.jobs {
            griefings.open(&net, &jobs, &bar, GRIEF_PATIENCE).await?;
        }
        // Midway too: the rotation falls due and the keepers crank it.
        if !rotated && next >= opts.jobs * 2 / 3 {
            rotated = true;
            let committee = net.committee().await?;
            net.reach(committee.rotated_at + params.committee_rotation_secs)
                .await?;
            let waited = Instant::now();
            while net.committee().await?.epoch == committee.epoch
                && waited.elapsed() < Duration::from_secs(30)
            {
                // Slots pass as they would on a cluster, so the draw's seed slot comes.
                net.next_slot().await;
                tokio::time::sleep(Duration::from_millis(100)).await;
            }
            bar.println(format!(
                "{} s pass: the keepers rotated the committee to epoch {}",
                params.committee_rotation_secs,
                net.committee().await?.epoch
            ));
        }
    }
    // The client comes back for the jobs it stopped waiting on: those the
    // keepers finished since are verified now; the others (no miner may
    // take them) expire at the end.
    let awaited = late
        .iter()
        .map(|(job, input)| await_result(&net.chain, &keeper_client, None, job, input, LATE_WAIT));
    let results = futures_util::future::join_all(awaited).await;
    for ((job, _), result) in late.iter().zip(results) {
        match result {
            Ok(verified) => {
                (solved, waiting_total) = (solved + 1, waiting_total - 1);
                note_generated_tokens(&mut jobs, job, &verified);
            }
            // Paid and closed on chain while the client was away (the
            // rotation's clock jump passed its windows): served, but too late
            // for the client to check the answer against the chain.
            Err(InferError::Closed(_)) => {
                (closed_uncollected, waiting_total) = (closed_uncollected + 1, waiting_total - 1);
            }
            Err(e) => note_unserved(&mut jobs, job, &e, started),
        }
    }
    if !late.is_empty() {
        bar.println(format!(
            "solved {solved} · refunded {refunded} · paid and closed before the client came back {closed_uncollected} · left waiting {waiting_total} (they expire)"
        ));
    }
    griefings.open(&net, &jobs, &bar, GRIEF_PATIENCE).await?;
    // A short run may leave fewer honest, open answers than griefings due
    // (routing decides who answers): one more low-risk job at a time until
    // an honest miner's answer can be challenged, so every run shows both.
    let mut topped_up = 0;
    while !griefings.due.is_empty() && topped_up < GRIEF_TOP_UP {
        let i = opts.jobs + topped_up;
        topped_up += 1;
        let input = input_for(i);
        let job = submit(
            &net,
            &client,
            &keeper_client,
            i,
            &opts.model,
            &input,
            RiskLevel::Low,
        )
        .await?;
        let key = job.key;
        jobs.push(job);
        match await_result(&net.chain, &keeper_client, None, &key, &input, BATCH_WAIT).await {
            Ok(_) => solved += 1,
            Err(e) => {
                // A job still running is counted with neither; it expires at the end.
                if matches!(e, InferError::Refunded(_) | InferError::JobFailed(_)) {
                    refunded += 1;
                }
                note_unserved(&mut jobs, &key, &e, started);
            }
        }
        griefings.open(&net, &jobs, &bar, Duration::ZERO).await?;
    }
    if topped_up > 0 {
        bar.println(format!(
            "{topped_up} more low-risk job(s) submitted for an honest answer to challenge; solved {solved} · refunded {refunded}"
        ));
    }
    if !griefings.due.is_empty() {
        bar.println("no honest miner's correct answer is open to a griefing dispute");
    }
    // Fair entry at work: every miner's record so far, from its Node.
    let mut records = Vec::new();
    for m in &net.miners {
        let n: Node = net.chain.fetch(&m.keys.node).await?;
        let (jobs, ok) = n.reputation.buckets.iter().fold((0u32, 0u32), |(j, o), b| {
            (j + u32::from(b.jobs), o + u32::from(b.successes))
        });
        records.push(format!(
            "{} {ok}+{} (trust {:.2})",
            m.keys.name,
            jobs - ok,
            n.reputation.trust_bps as f64 / 10_000.0
        ));
    }
    bar.println(format!(
        "jobs per miner (answered+failed): {}",
        records.join(", ")
    ));
    bar.finish_and_clear();

    // The disputes: the auditing keeper re-runs solved jobs on a miner it
    // trusts and challenges the wrong miner's answers; a griefing operator
    // challenges an honest miner's correct answer; every other keeper
    // re-runs, commits and reveals its vote as the phases pass (the
    // challenger may not vote), then they resolve, liquidate, claim and close
    // their votes. Only the clock is moved here.
    let progress = spinner(opts.show_progress);
    progress.set_message("the auditing keeper re-checks solved jobs");
    settle_disputes(&net, &keepers[AUDITOR], &jobs, griefings.opened, &progress).await?;
    progress.finish_and_clear();
    for k in keepers {
        k.shutdown().await;
    }

    // Once every held payout is released and every job nobody could take
    // has expired, anyone may crank both (the keepers are down, so the jobs
    // stay as read here).
    let mut open_jobs = Vec::new();
    for ClientJob { key: job, .. } in &jobs {
        let j: Job = net.chain.fetch(job).await?;
        let crankable_at = match j.status() {
            JobStatus::Solved if !j.dispute_open() => Some(j.release_at),
            _ => j.expires_at(&params),
        };
        if let Some(at) = crankable_at {
            open_jobs.push((*job, j, at));
        }
    }
    let settle_at = open_jobs.iter().map(|(_, _, at)| *at).max().unwrap_or(0);
    let progress = spinner(opts.show_progress);
    let wait = (settle_at - net.chain.unix_time().await?).max(0);
    progress.set_message(format!(
        "{wait} s until held payouts are released and unassigned jobs expire"
    ));
    net.reach(settle_at).await?;
    progress.finish_and_clear();
    for (job, j, _) in &open_jobs {
        match j.status() {
            // The miner operator's part is credited to its node (withdrawn below).
            JobStatus::Solved => {
                net.send(&[ix::claim_payout(job, &j.miner, &j.refund_account)], &[])
                    .await?;
            }
            JobStatus::Sent => {
                net.send(&[ix::expire_job(job, None, &j.refund_account)], &[])
                    .await?;
            }
            JobStatus::Allocated => {
                net.send(
                    &[ix::expire_job(job, Some(j.miner), &j.refund_account)],
                    &[],
                )
                .await?;
            }
            _ => {}
        }
    }

    // Every job is final now: the report reads them as they end. Past a
    // paid job's challenge window, `close_job` pays its co-signers their fee
    // (a share of the price, to their nodes' owed balances) and frees the
    // miner's exposure; every other finished job closes too. Rent goes back
    // to the client.
    let mut finals: BTreeMap<Pubkey, Job> = BTreeMap::new();
    for ClientJob { key: job, .. } in &jobs {
        finals.insert(*job, net.chain.fetch(job).await?);
    }
    let window = params.challenge_window_epochs as i64 * params.epoch_secs;
    let close_at = finals
        .values()
        .filter(|j| j.status() == JobStatus::Paid)
        .map(|j| j.solved_at + window)
        .max()
        .unwrap_or(0);
    let progress = spinner(opts.show_progress);
    let wait = (close_at - net.chain.unix_time().await?).max(0);
    progress.set_message(format!(
        "{wait} s until the paid jobs' challenge windows end; then every job closes"
    ));
    net.reach(close_at).await?;
    progress.finish_and_clear();
    for (job, j) in &finals {
        if j.is_final() && j.client_owed == 0 && !j.dispute_open() {
            net.send(&[ix::close_job(job, j)], &[]).await?;
        }
    }
    // Every operator takes what its node is owed (payouts, validator fees,
    // bonds back) into its own token account.
    for keys in net
        .validators
        .iter()
        .chain(net.miners.iter().map(|m| &m.keys))
    {
        let n: Node = net.chain.fetch(&keys.node).await?;
        if n.owed > 0 {
            let withdraw =
                ix::withdraw_owed(&keys.operator.keypair.pubkey(), &keys.operator.tokens);
            net.send(&[withdraw], &[&keys.operator.keypair]).await?;
        }
    }

    // What the wallets did not spend on rent goes back to the payer.
    let wallets = net
        .validators
        .iter()
        .chain(net.miners.iter().map(|m| &m.keys))
        .map(|n| &n.operator.keypair);
    for key in wallets
        .chain(stakers.iter().map(|s| &s.keypair))
        .chain([&client.keypair])
    {
        let left = net.chain.lamports(&key.pubkey()).await?;
        if left > 0 {
            net.chain
                .transfer(&net.payer, key, &net.payer.pubkey(), left)
                .await?;
        }
    }
    let lamports_spent =
        payer_lamports.saturating_sub(net.chain.lamports(&net.payer.pubkey()).await?);

    let report = read_report(&net, &jobs, &finals, started.elapsed().as_secs_f64()).await?;
    let written = write_report(&opts.out, &report)?;
    let _ = std::fs::remove_dir_all(&work);
    let miner_nodes = net.miners.iter().map(|m| m.keys.node).collect();
    let generative_jobs = jobs
        .iter()
        .filter(|job| verdict_wire::models::is_generative(&job.model))
        .map(|job| (job.key, finals[&job.key].status()))
        .collect();
    Ok(Finished {
        jobs_submitted: jobs.len() as u64,
        written,
        report,
        chain: net.chain.clone(),
        miner_nodes,
        lamports_spent,
        generative_jobs,
    })
}

/// The disputes over the run's jobs, as they stand.
pub(crate) async fn read_disputes(
    chain: &Chain,
    jobs: &[ClientJob],
) -> Result<Vec<(Pubkey, Dispute)>, NetworkError> {
    let mut out = Vec::new();
    for ClientJob { key: job, .. } in jobs {
        let key = pda::dispute(job);
        if let Some(d) = chain.fetch_optional::<Dispute>(&key).await? {
            out.push((key, d));
        }
    }
    Ok(out)
}

/// How long the run waits for every voter's commit before moving the clock
/// past the commit phase. Each voter re-runs the disputed job first, and
/// several re-running a generation at once on a small machine can take more
/// than the 30 s the other waits allow; the wait ends as soon as all have
/// committed, so it costs time only when some voter cannot vote.
const VOTERS_RERUN_WAIT: Duration = Duration::from_secs(180);

/// Waits until every dispute satisfies `done` or `within` passes (a run never hangs).
pub(crate) async fn wait_disputes(
    chain: &Chain,
    jobs: &[ClientJob],
    done: impl Fn(&Dispute) -> bool,
    within: Duration,
) -> Result<Vec<(Pubkey, Dispute)>, NetworkError> {
    let started = Instant::now();
    loop {
        let disputes = read_disputes(chain, jobs).await?;
        if disputes.iter().all(|(_, d)| done(d)) || started.elapsed() > within {
            return Ok(disputes);
        }
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
}

/// Waits for the keepers' disputes against wrong answers and moves the
/// clock through the commit and reveal phases; returns once every dispute
/// is decided, its liquidations and claims done and its votes closed
/// (bounded waits: a run never hangs).
pub(crate) async fn settle_disputes(
    net: &Net,
    auditor: &keeper::KeeperHandle,
    jobs: &[ClientJob],
    griefings: Vec<Griefing>,
    progress: &ProgressBar,
) -> Result<(), NetworkError> {
    let chain = &net.chain;
    let wrong = net
        .miners
        .iter()
        .find(|m| m.behaviour == "wrong")
        .map(|m| m.keys.node);
    let mut wrong_solved = 0;
    for ClientJob { key: job, .. } in jobs {
        let j: Job = chain.fetch(job).await?;
        if Some(j.miner) == wrong && matches!(j.status(), JobStatus::Solved | JobStatus::Paid) {
            wrong_solved += 1;
        }
    }
    // The auditor needs a few rounds to re-check every solved job: wait
    // until it has (a job solved late, e.g. a top-up job, is re-checked
    // late), has challenged something if the wrong miner was paid, and
    // then opened nothing new for 3 s. (The griefing dispute, opened
    // midway, does not count.)
    let griefer = net.validators[GRIEFER].node;
    let started = Instant::now();
    let (mut count, mut stable_since) = (0, Instant::now());
    while started.elapsed() < Duration::from_secs(60) {
        let disputes = read_disputes(chain, jobs).await?;
        let now_open = disputes
            .iter()
            .filter(|(_, d)| d.challenger != griefer)
            .count();
        if now_open != count {
            (count, stable_since) = (now_open, Instant::now());
        }
        if count >= wrong_solved.min(1)
            && stable_since.elapsed() > Duration::from_secs(3)
            && audited(net, auditor, jobs, &disputes).await?
        {
            break;
        }
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    let opened = read_disputes(chain, jobs).await?;
    if opened.is_empty() {
        return Ok(());
    }
    // Every validator that is no party commits: the challenger, the miner
    // and a high-risk outcome's co-signers may not vote.
    let validators: Vec<Pubkey> = net.validators.iter().map(|v| v.node).collect();
    let voters = move |d: &Dispute| validators.iter().filter(|v| !d.is_party(v)).count() as u32;
    progress.set_message(format!(
        "{} dispute(s) open: the keepers re-run and commit their votes",
        opened.len()
    ));
    let committed =
        wait_disputes(chain, jobs, |d| d.commits >= voters(d), VOTERS_RERUN_WAIT).await?;
    let commit_end = committed
        .iter()
        .map(|(_, d)| d.commit_end)
        .max()
        .unwrap_or(0);
    progress.set_message(format!(
        "the chain's clock passes the commit phase ({} s)",
        net.params.vote_commit_secs
    ));
    net.reach(commit_end + 1).await?;
    progress.set_message("the keepers reveal");
    for g in griefings {
        if let Some(reveal) = g.accomplice_reveal {
            // Revealed as soon as the commit phase ended (on a cluster,
            // maybe long before now): wait for it, briefly.
            let started = Instant::now();
            while !reveal.is_finished() && started.elapsed() < Duration::from_secs(30) {
                tokio::time::sleep(Duration::from_millis(200)).await;
            }
            let failed = match reveal.is_finished().then(|| reveal.join()) {
                Some(Ok(Ok(()))) => None,
                Some(Ok(Err(e))) => Some(e.to_string()),
                Some(Err(_)) => Some("its thread panicked".into()),
                None => Some("still waiting".into()),
            };
            if let Some(why) = failed {
                progress.println(format!(
                    "the accomplice's vote in dispute {} was not revealed: {why}",
                    g.dispute
                ));
            }
        }
    }
    let revealed = wait_disputes(
        chain,
        jobs,
        |d| d.voters_revealed >= d.commits,
        Duration::from_secs(30),
    )
    .await?;
    let reveal_end = revealed
        .iter()
        .map(|(_, d)| d.reveal_end)
        .max()
        .unwrap_or(0);
    progress.set_message(format!(
        "the chain's clock passes the reveal phase ({} s)",
        net.params.vote_reveal_secs
    ));
    net.reach(reveal_end + 1).await?;
    progress.set_message("resolution, liquidations and reward claims");
    let settled = |d: &Dispute| match d.status() {
        DisputeStatus::Voting => false,
        DisputeStatus::Unresolved => true,
        DisputeStatus::Upheld | DisputeStatus::Overturned => {
            d.pending_liquidations == 0 && d.claims >= d.winning_voters()
        }
    };
    let decided = wait_disputes(chain, jobs, settled, Duration::from_secs(30)).await?;
    // The keepers close their settled votes (claiming closes the correct ones).
    progress.set_message("the keepers close their votes");
    let keys: Vec<Pubkey> = decided.iter().map(|(k, _)| *k).collect();
    let started = Instant::now();
    while started.elapsed() < Duration::from_secs(30) {
        let open_votes = chain
            .program_accounts()
            .await?
            .iter()
            .filter_map(|(_, data)| {
                verdict_sdk::accounts::decode::<Vote>(&Pubkey::default(), data).ok()
            })
            .filter(|v| keys.contains(&v.dispute))
            .count();
        if open_votes == 0 {
            break;
        }
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    // Each dispute's outcome, as the chain settled it.
    let events = run_events(chain, keys.clone()).await?;
    let name_of = |node: &Pubkey| net.name_of(node);
    for (key, d) in read_disputes(chain, jobs).await? {
        let t = ledger::settlement(&key, &events);
        let tokens = |amount: u64| amount as f64 / TOKEN as f64;
        let turnout = d.weight_disputed + d.weight_challenger + d.weight_other;
        progress.println(format!(
            "dispute over {}'s job, challenged by {}: {:?} (n = {}, m = {}; turnout {turnout} of {} active weight); {} lost {:.3} of its {:.3} bond, {} credited {:.3}, {} liquidated, voters' rewards {:.3}",
            name_of(&d.miner),
            name_of(&d.challenger),
            d.status(),
            d.n,
            d.m,
            d.active_weight,
            name_of(&d.challenger),
            tokens(t.challenger_lost()),
            tokens(d.bond),
            name_of(&d.miner),
            tokens(t.unresolved_fee),
            t.liquidated.len(),
            tokens(t.rewards.iter().map(|(_, a)| a).sum()),
        ));
    }
    Ok(())
}

/// Whether the auditing keeper has re-checked every solved job it will:
/// all but those of a miner already in a dispute that is voting or has
/// overturned its work (the auditor re-checks them only if that dispute
/// upholds the miner), and those it holds no input for.
async fn audited(
    net: &Net,
    auditor: &keeper::KeeperHandle,
    jobs: &[ClientJob],
    disputes: &[(Pubkey, Dispute)],
) -> Result<bool, NetworkError> {
    let now = net.chain.unix_time().await?;
    let window = net.params.challenge_window_epochs as i64 * net.params.epoch_secs;
    for ClientJob { key, .. } in jobs {
        let j: Job = net.chain.fetch(key).await?;
        if !matches!(j.status(), JobStatus::Solved | JobStatus::Paid)
            || now >= j.solved_at.saturating_add(window)
        {
            continue;
        }
        let miner_disputed = disputes.iter().any(|(_, d)| {
            d.miner == j.miner
                && matches!(
                    d.status(),
                    DisputeStatus::Voting | DisputeStatus::Overturned
                )
        });
        let pending = auditor
            .ctx
            .store
            .get(key)
            .map_err(|e| NetworkError::Other(e.to_string()))?
            .is_some_and(|rec| !rec.rechecked);
        if pending && !miner_disputed {
            return Ok(false);
        }
    }
    Ok(true)
}

/// The burst's size in batches.
const BURST: usize = 4;

/// How long a due griefing challenge waits for an answer to challenge:
/// jobs still running when their batch's wait ended finish meanwhile.
const GRIEF_PATIENCE: Duration = Duration::from_secs(30);

/// Most extra low-risk jobs the run submits, after its own, for an honest
/// answer to challenge (five of the eight miners are honest, so ten leave a
/// griefing without one about once in a thousand runs).
pub const GRIEF_TOP_UP: usize = 10;

/// The griefing challenges of a run: those still to open (each with its
/// accomplice, if any) and those opened.
struct Griefings {
    due: Vec<Option<usize>>,
    opened: Vec<Griefing>,
}

impl Griefings {
    /// Opens the due challenges in order while there are answers to
    /// challenge, waiting up to `patience` for one; those left wait for the
    /// next call.
    async fn open(
        &mut self,
        net: &Net,
        jobs: &[ClientJob],
        progress: &ProgressBar,
        patience: Duration,
    ) -> Result<(), NetworkError> {
        let started = Instant::now();
        while let Some(&accomplice) = self.due.first() {
            match grief(net, jobs, progress, accomplice).await? {
                Some(griefing) => {
                    self.opened.push(griefing);
                    self.due.remove(0);
                }
                None if started.elapsed() < patience => {
                    tokio::time::sleep(Duration::from_millis(500)).await;
                }
                None => break,
            }
        }
        Ok(())
    }
}

/// A griefing challenge: the griefer's operator (a staked validator, acting
/// outside its keeper) disputes a correct answer of an honest miner — the
/// one with the fewest jobs, a newcomer a rival might want to keep down —
/// naming a made-up result, and posts the bond. The keepers re-run the job
/// and vote for the disputed output as the phases pass (settled with the
/// other disputes at the end). Returns the job, if one was found.
pub(crate) async fn grief(
    net: &Net,
    jobs: &[ClientJob],
    progress: &ProgressBar,
    accomplice: Option<usize>,
) -> Result<Option<Griefing>, NetworkError> {
    let chain = &net.chain;
    // A margin for the time the checks below take on a cluster.
    let soon = chain.unix_time().await? + 10;
    let mut candidates: Vec<(u32, &ClientJob, Job)> = Vec::new();
    for job in jobs {
        let j: Job = chain.fetch(&job.key).await?;
        let honest = net
            .miners
            .iter()
            .find(|m| m.keys.node == j.miner && m.behaviour == "honest");
        // High-risk outcomes make their co-signers parties: keep to the others.
        // Generations are left out: every voter would re-run one on the
        // run's busy miners, and a vote nobody can cast in time tests
        // nothing about griefing (disputes over generations are tested in
        // keeper/tests/generation.rs).
        let open = !verdict_wire::models::is_generative(&job.model)
            && matches!(j.status(), JobStatus::Solved | JobStatus::Paid)
            && !j.dispute_open()
            && j.risk() != RiskLevel::High
            && !j.challenge_window_over(soon, &net.params);
        if let (Some(m), true) = (honest, open) {
            if chain
                .fetch_optional::<Dispute>(&pda::dispute(&job.key))
                .await?
                .is_none()
            {
                let n: Node = chain.fetch(&m.keys.node).await?;
                candidates.push((n.reputation.window(&net.params).jobs, job, j));
            }
        }
    }
    candidates.sort_by_key(|(served, _, _)| *served);
    for (_, job, j) in candidates {
        // Only a correct answer: checked against this process's own run.
        let answer = (job.key, j.miner);
        let reference =
            reference_hashes(std::slice::from_ref(job), &[answer], &signing_keys(net)).await?;
        if reference.get(&answer) != Some(&j.output_hash) {
            continue;
        }
        let griefer = &net.validators[GRIEFER];
        let bogus: [u8; 32] = Sha256::new()
            .chain_update(b"a made-up result")
            .chain_update(job.key.as_ref())
            .finalize()
            .into();
        let open = ix::open_dispute(
            &griefer.operator.keypair.pubkey(),
            &griefer.operator.tokens,
            &job.key,
            &j,
            bogus,
        );
        let dispute = pda::dispute(&job.key);
        let bond = net.params.dispute_bond(j.price) as f64 / TOKEN as f64;
        let Some(i) = accomplice else {
            net.send(&[open], &[&griefer.operator.keypair]).await?;
            progress.println(format!(
                "{} (griefing) disputes {}'s correct answer on job {}, naming a made-up result; bond {bond:.3} tokens",
                griefer.name,
                net.name_of(&j.miner),
                job.key,
            ));
            return Ok(Some(Griefing {
                dispute,
                accomplice_reveal: None,
            }));
        };
        // The accomplice commits in the same transaction, before any keeper
        // sees the dispute (its own keeper then leaves the vote alone).
        let accomplice = &net.validators[i];
        let salt: [u8; 32] = Sha256::new()
            .chain_update(b"the accomplice's salt")
            .chain_update(dispute.as_ref())
            .finalize()
            .into();
        let commitment = vote_commitment(&bogus, &salt, &accomplice.node);
        let commit = ix::commit_vote(
            &accomplice.operator.keypair.pubkey(),
            &accomplice.operator.tokens,
            &dispute,
            commitment,
        );
        net.send(
            &[open, commit],
            &[&griefer.operator.keypair, &accomplice.operator.keypair],
        )
        .await?;
        progress.println(format!(
            "{} (griefing) disputes {}'s correct answer on job {}, naming a made-up result; bond {bond:.3} tokens; {} votes with it",
            griefer.name,
            net.name_of(&j.miner),
            job.key,
            accomplice.name,
        ));
        let d: Dispute = chain.fetch(&dispute).await?;
        let reveal = ix::reveal_vote(
            &accomplice.operator.keypair.pubkey(),
            &accomplice.operator.tokens,
            &dispute,
            bogus,
            salt,
        );
        let (chain, payer, signer) = (
            chain.clone(),
            net.payer.insecure_clone(),
            accomplice.operator.keypair.insecure_clone(),
        );
        // Its own thread and runtime: a chain call's future is not `Send`
        // (as the keepers' chain thread, which does the same).
        let task = std::thread::spawn(move || {
            tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
                .map_err(|e| NetworkError::Other(e.to_string()))?
                .block_on(reveal_in_phase(chain, payer, signer, reveal, d))
        });
        return Ok(Some(Griefing {
            dispute,
            accomplice_reveal: Some(task),
        }));
    }
    Ok(None)
}

/// Sends `reveal` (signed by `signer`) in the dispute's reveal phase,
/// whenever that comes: a cluster's clock runs on its own, the embedded one
/// is moved by the run.
pub(crate) async fn reveal_in_phase(
    chain: Chain,
    payer: Keypair,
    signer: Keypair,
    reveal: solana_sdk::instruction::Instruction,
    d: Dispute,
) -> Result<(), NetworkError> {
    loop {
        let now = chain.unix_time().await?;
        if now >= d.reveal_end {
            return Err(NetworkError::Other(
                "the accomplice's reveal phase passed".into(),
            ));
        }
        if now >= d.commit_end {
            let signers = [&signer];
            chain.send(&[reveal], &payer, &signers).await?;
            return Ok(());
        }
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
}
