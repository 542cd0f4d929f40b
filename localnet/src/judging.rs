//! Judging a finished run: everything the report shows, read back from the
//! chain (outcomes, timings, every node's standing and ledger, the disputes,
//! token conservation), and every answer the chain accepted judged against
//! this process's own run of the model.

use std::collections::BTreeMap;

use anchor_lang::prelude::Pubkey;
use solana_sdk::signer::Signer;
use verdict::state::{Dispute, Job, JobStatus, Node, NodeStatus, ProtocolParams};
use verdict_chain::Chain;
use verdict_sdk::accounts::AccountSource;
use verdict_sdk::events::{parse_logs, VerdictEvent};
use verdict_sdk::invariants::{self, Snapshot};
use verdict_sdk::pda;

use crate::ledger;
use crate::market::Sale;
use crate::report::{
    DisputeRow, Income, MinerRecord, NodeRow, ReportInput, SettlementRow, VoterRow,
};
use crate::stats::Timing;

use crate::network::{Net, NetworkError, NodeKeys, TOKEN};
use crate::scenario::{read_disputes, ClientJob, GRIEFER};

/// Every Verdict event of the run, each transaction once: the histories of
/// every node and every dispute cover them all.
pub(crate) async fn run_events(
    chain: &Chain,
    accounts: impl IntoIterator<Item = Pubkey>,
) -> Result<Vec<VerdictEvent>, NetworkError> {
    let mut seen = std::collections::HashSet::new();
    let mut events = Vec::new();
    for account in accounts {
        for landed in chain.history(&account).await? {
            if seen.insert(landed.signature) {
                events.extend(parse_logs(&landed.logs));
            }
        }
    }
    Ok(events)
}

/// Reads everything the report shows back from the chain; `finals`: every
/// job as it ended (read before the jobs were closed).
pub(crate) async fn read_report(
    net: &Net,
    jobs: &[ClientJob],
    finals: &BTreeMap<Pubkey, Job>,
    seconds: f64,
) -> Result<ReportInput, NetworkError> {
    let chain = &net.chain;
    let params = &net.params;
    let mut counts: BTreeMap<String, u64> = BTreeMap::new();
    let mut timings = Vec::new();
    for j in finals.values() {
        *counts
            .entry(format!("{:?}", j.status()).to_lowercase())
            .or_default() += 1;
        if matches!(j.status(), JobStatus::Solved | JobStatus::Paid) || j.response_ms > 0 {
            timings.push(Timing {
                response_ms: j.response_ms as f64,
                load_ms: j.load_ms as f64,
                inference_ms: j.inference_ms as f64,
            });
        }
    }
    let disputes = read_disputes(chain, jobs).await?;
    let nodes_and_names: Vec<(&NodeKeys, &str)> = net
        .miners
        .iter()
        .map(|m| (&m.keys, "miner"))
        .chain(net.validators.iter().map(|v| (v, "validator")))
        .collect();
    let accounts = nodes_and_names
        .iter()
        .map(|(k, _)| k.node)
        .chain(disputes.iter().map(|(k, _)| *k));
    let events = run_events(chain, accounts.collect::<Vec<_>>()).await?;
    let ledgers = ledger::ledgers(&events);
    let name_of = |node: &Pubkey| {
        nodes_and_names
            .iter()
            .find(|(k, _)| k.node == *node)
            .map_or_else(|| node.to_string(), |(k, _)| k.name.clone())
    };

    // Every answer the chain accepted, judged against this process's own run.
    let mut histories = BTreeMap::new();
    for m in &net.miners {
        histories.insert(m.keys.node, chain.history(&m.keys.node).await?);
    }
    let right_answers =
        reference_hashes(jobs, &accepted_answers(&histories), &signing_keys(net)).await?;
    let generation = generation_rows(net, jobs, finals);
    let mut miners = Vec::new();
    let mut nodes = Vec::new();
    let mut penalties = Vec::new();
    for (keys, role) in &nodes_and_names {
        let n: Node = chain.fetch(&keys.node).await?;
        let ledger = ledgers.get(&keys.node).copied().unwrap_or_default();
        let mut row = node_row(&keys.name, role, &n, params, &ledger);
        if *role == "miner" {
            let record = judged_record(
                &keys.name,
                &keys.node,
                &histories[&keys.node],
                &right_answers,
            );
            row.wrong_answers = Some(record.wrong_accepted);
            miners.push(record);
        } else {
            row.jobs_served = finals
                .values()
                .filter(|j| j.signers().contains(&keys.node))
                .count() as u64;
        }
        nodes.push(row);
    }
    for e in &events {
        match e {
            VerdictEvent::NodeSlashed(s) => {
                penalties.push(format!(
                    "{} slashed {:.3} tokens ({:?})",
                    name_of(&s.node),
                    s.amount as f64 / TOKEN as f64,
                    s.offense
                ));
            }
            VerdictEvent::NodeLiquidated(l) => penalties.push(format!(
                "{} liquidated: {:.3} tokens to dispute {} ({:.3} of them refunded the client)",
                name_of(&l.node),
                l.amount as f64 / TOKEN as f64,
                l.dispute,
                l.client_refund as f64 / TOKEN as f64
            )),
            _ => {}
        }
    }
    let griefer = net.validators[GRIEFER].node;
    let disputes = disputes
        .iter()
        .map(|(key, d)| dispute_row(key, d, params, &events, &name_of, &griefer))
        .collect();

    let accounts = chain.program_accounts().await?;
    let vault = chain.token_balance(&pda::stake_vault()).await?;
    let mut snapshot =
        Snapshot::from_accounts(accounts.iter().map(|(k, d)| (*k, d.as_slice())), vault)
            .map_err(|e| NetworkError::Other(e.to_string()))?;
    for v in snapshot.vaults() {
        let balance = chain.token_balance(&v).await?;
        snapshot.token_balances.insert(v, balance);
    }
    let conservation_violations = invariants::check(&snapshot).err().unwrap_or_default();
    let unserved = jobs
        .iter()
        .enumerate()
        .filter_map(|(i, job)| {
            let told = job.unserved.as_ref()?;
            let status = finals.get(&job.key).map(|j| j.status());
            Some(format!("job {i} {} ({status:?}): {told}", job.key))
        })
        .collect();
    // Which placements went on chain with the winner's bid: per job and attempt.
    let by_bid: BTreeMap<(Pubkey, u8), bool> = events
        .iter()
        .filter_map(|e| match e {
            VerdictEvent::JobAssigned(a) => Some(((a.job, a.attempt), a.by_bid)),
            _ => None,
        })
        .collect();
    let sales = jobs
        .iter()
        .enumerate()
        .filter_map(|(i, job)| {
            let j = finals.get(&job.key)?;
            // Won by a miner: assigned at least once, at a price.
            (j.attempts > 0 && j.price > 0).then(|| Sale {
                job: i,
                miner: name_of(&j.miner),
                price: j.price as f64 / TOKEN as f64,
                max_fee: j.max_fee as f64 / TOKEN as f64,
                risk: j.risk().name().into(),
                accepted: matches!(j.status(), JobStatus::Solved | JobStatus::Paid),
                by_bid: by_bid.get(&(job.key, j.attempts)).copied().unwrap_or(false),
            })
        })
        .collect();
    Ok(ReportInput {
        jobs_by_outcome: counts,
        unserved,
        timings,
        sales,
        generation,
        miners,
        nodes,
        penalties,
        disputes,
        conservation_violations,
        seconds,
    })
}

/// A dispute as it ended: candidates, weights, turnout and every ballot.
pub(crate) fn dispute_row(
    key: &Pubkey,
    d: &Dispute,
    params: &ProtocolParams,
    events: &[VerdictEvent],
    name_of: &dyn Fn(&Pubkey) -> String,
    griefer: &Pubkey,
) -> DisputeRow {
    let side = |result: &[u8; 32]| {
        if *result == d.disputed_output {
            "disputed output"
        } else if *result == d.challenger_result {
            "challenger's result"
        } else {
            "another result"
        }
    };
    let decided = d.decided();
    let voters = ledger::ballots(key, events)
        .into_iter()
        .map(|b| VoterRow {
            name: name_of(&b.voter),
            weight: b.weight,
            vote: b.result.as_ref().map_or("not revealed", side).to_string(),
        })
        .collect();
    let t = ledger::settlement(key, events);
    let tokens = |amount: u64| amount as f64 / TOKEN as f64;
    let named = |items: &[(Pubkey, u64)]| {
        items
            .iter()
            .map(|(node, amount)| (name_of(node), tokens(*amount)))
            .collect()
    };
    let settlement = SettlementRow {
        challenger_lost: tokens(t.challenger_lost()),
        bond_returned: tokens(t.bond_returned.unwrap_or(0)),
        miner_credited: tokens(t.unresolved_fee),
        deposits_forfeited: tokens(t.deposits_forfeited),
        liquidated: named(&t.liquidated),
        rewards: named(&t.rewards),
    };
    DisputeRow {
        kind: if d.challenger == *griefer {
            "griefing"
        } else {
            "audit"
        }
        .to_string(),
        dispute: key.to_string(),
        miner: name_of(&d.miner),
        challenger: name_of(&d.challenger),
        status: format!("{:?}", d.status()),
        disputed_output: hex32(&d.disputed_output),
        challenger_result: hex32(&d.challenger_result),
        standing: decided.then(|| side(&d.result).to_string()),
        bond: d.bond as f64 / TOKEN as f64,
        n: d.n,
        m: d.m,
        turnout: d.weight_disputed + d.weight_challenger + d.weight_other,
        active_weight: d.active_weight,
        quorum_bps: params.dispute_quorum_bps,
        voters,
        settlement,
    }
}

pub(crate) fn hex32(bytes: &[u8; 32]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// Each miner node's signing key: the seed a generation of its was sampled with.
pub(crate) fn signing_keys(net: &Net) -> BTreeMap<Pubkey, miner::api::MinerPubkey> {
    net.miners
        .iter()
        .map(|m| {
            (
                m.keys.node,
                miner::api::MinerPubkey(m.keys.signing_key.pubkey().to_bytes()),
            )
        })
        .collect()
}

/// The answers the chain accepted, as (job, miner node), from the miners' histories.
pub(crate) fn accepted_answers(
    histories: &BTreeMap<Pubkey, Vec<verdict_chain::Landed>>,
) -> Vec<(Pubkey, Pubkey)> {
    let mut accepted = Vec::new();
    for (node, history) in histories {
        for landed in history {
            for event in parse_logs(&landed.logs) {
                if let VerdictEvent::JobCompleted(c) = event {
                    if c.miner == *node && !accepted.contains(&(c.job, c.miner)) {
                        accepted.push((c.job, c.miner));
                    }
                }
            }
        }
    }
    accepted
}

/// The right output hash of every accepted answer, keyed (job, miner node),
/// from this process's own run of the job's model (the miners' own code, on
/// the same pinned weights): the report judges each answer against it. An
/// embedding is the same for every miner; a generation is sampled with the
/// answering miner's seed, so it is recomputed as that miner
/// (`sample_as` its signing key), exactly as a keeper's recheck does.
pub(crate) async fn reference_hashes(
    jobs: &[ClientJob],
    accepted: &[(Pubkey, Pubkey)],
    signing_keys: &BTreeMap<Pubkey, miner::api::MinerPubkey>,
) -> Result<BTreeMap<(Pubkey, Pubkey), [u8; 32]>, NetworkError> {
    let other = |e: String| NetworkError::Other(format!("the report's reference run: {e}"));
    let mut models: Vec<miner::api::ModelId> = jobs
        .iter()
        .map(|job| {
            job.model
                .parse()
                .map_err(|e| other(format!("model {:?}: {e}", job.model)))
        })
        .collect::<Result<_, _>>()?;
    models.sort();
    models.dedup();
    let registry = verdict_models::ModelRegistry::new(&models).map_err(|e| other(e.to_string()))?;
    let mut embeddings: BTreeMap<Pubkey, [u8; 32]> = BTreeMap::new();
    let mut hashes = BTreeMap::new();
    for &(job_key, node) in accepted {
        let Some(job) = jobs.iter().find(|j| j.key == job_key) else {
            continue;
        };
        let generative = verdict_wire::models::is_generative(&job.model);
        if !generative {
            if let Some(hash) = embeddings.get(&job_key) {
                hashes.insert((job_key, node), *hash);
                continue;
            }
        }
        let key = *signing_keys
            .get(&node)
            .ok_or_else(|| other(format!("no signing key for miner {node}")))?;
        let model_id: miner::api::ModelId = job.model.parse().map_err(|e| other(format!("{e}")))?;
        let (model, _) = registry
            .ready(&model_id)
            .await
            .map_err(|e| other(e.to_string()))?;
        let request = miner::api::InferRequest::new(
            miner::api::JobId(job_key.to_bytes()),
            model_id,
            &job.input,
        );
        let answer =
            tokio::task::spawn_blocking(move || miner::answer::compute(&model, &request, &key))
                .await
                .map_err(|e| other(e.to_string()))?
                .map_err(|e| other(e.to_string()))?;
        let hash = answer.output.hash().0;
        if !generative {
            embeddings.insert(job_key, hash);
        }
        hashes.insert((job_key, node), hash);
    }
    Ok(hashes)
}

/// Each miner's generative answers and their speed: tokens the client got
/// back over the inference time the committee recorded on chain.
pub(crate) fn generation_rows(
    net: &Net,
    jobs: &[ClientJob],
    finals: &BTreeMap<Pubkey, Job>,
) -> Vec<crate::stats::GenerationRow> {
    let mut rows = Vec::new();
    for m in &net.miners {
        let mut row = crate::stats::GenerationRow {
            miner: m.keys.name.clone(),
            ..Default::default()
        };
        for job in jobs {
            let (Some(tokens), Some(f)) = (job.generated_tokens, finals.get(&job.key)) else {
                continue;
            };
            if f.miner != m.keys.node || !matches!(f.status(), JobStatus::Solved | JobStatus::Paid)
            {
                continue;
            }
            row.jobs += 1;
            row.tokens += tokens;
            row.tokens_per_second
                .push(tokens as f64 * 1_000.0 / f64::from(f.inference_ms.max(1)));
        }
        if row.jobs > 0 {
            rows.push(row);
        }
    }
    rows
}

/// A miner's outcomes in order, from its history: each job the chain
/// failed or expired on it counts as a mistake, each it accepted counts as
/// right only if the output matches the reference (a wrong answer the
/// committee's checks let through is a mistake too, found out or not).
pub(crate) fn judged_record(
    name: &str,
    node: &Pubkey,
    history: &[verdict_chain::Landed],
    right_answers: &BTreeMap<(Pubkey, Pubkey), [u8; 32]>,
) -> MinerRecord {
    let mut outcomes = Vec::new();
    let mut wrong_accepted = 0;
    // The first trust update is the trial's: not a job.
    let mut last_trust: Option<u32> = None;
    for landed in history {
        let events = parse_logs(&landed.logs);
        let wrong = events.iter().any(|e| {
            matches!(e, VerdictEvent::JobCompleted(c) if c.miner == *node && right_answers.get(&(c.job, c.miner)).is_some_and(|h| *h != c.output_hash))
        });
        for e in &events {
            if let VerdictEvent::ReputationChanged(r) = e {
                if r.node != *node {
                    continue;
                }
                if let Some(prev) = last_trust {
                    if r.window_jobs > 0 {
                        let accepted = r.trust_bps >= prev;
                        wrong_accepted += u64::from(accepted && wrong);
                        outcomes.push(accepted && !wrong);
                    }
                }
                last_trust = Some(r.trust_bps);
            }
        }
    }
    MinerRecord {
        name: name.to_string(),
        outcomes,
        wrong_accepted,
    }
}

pub(crate) fn node_row(
    name: &str,
    role: &str,
    n: &Node,
    params: &ProtocolParams,
    ledger: &ledger::Ledger,
) -> NodeRow {
    let miner = role == "miner";
    let tokens = |amount: u64| amount as f64 / TOKEN as f64;
    let standing = miner.then(|| n.reputation.standing(params));
    NodeRow {
        name: name.to_string(),
        role: role.to_string(),
        trust: miner.then(|| n.reputation.trust_bps as f64 / 10_000.0),
        composite: standing.map(|s| s.window.composite_bps as f64 / 10_000.0),
        tier: standing.map(|s| s.tier),
        score: (!miner).then_some(n.validator_score),
        stake: n.slashable_stake().unwrap_or(0) as f64 / TOKEN as f64,
        earnings: n.total_earned as f64 / TOKEN as f64,
        slashed: tokens(ledger.slashed + ledger.liquidated),
        wrong_answers: None,
        status: match n.status() {
            NodeStatus::Active => "active".into(),
            NodeStatus::Liquidated => "liquidated".into(),
        },
        jobs_served: if miner { ledger.jobs_completed } else { 0 },
        jobs_failed: if miner { ledger.jobs_failed } else { 0 },
        income: Income {
            payouts: tokens(ledger.payouts),
            boosts: tokens(ledger.boosts),
            validator_fees: tokens(ledger.validator_fees),
            dispute_rewards: tokens(ledger.dispute_rewards),
            unresolved_fees: tokens(ledger.unresolved_fees),
            bonds_returned: tokens(ledger.bonds_returned),
            bonds_lost: tokens(ledger.bonds_lost),
            deposits_lost: tokens(ledger.deposits_lost),
            slashed: tokens(ledger.slashed),
            liquidated: tokens(ledger.liquidated),
        },
    }
}
