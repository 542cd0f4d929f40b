//! Disputes and slashing through the CLI on the embedded chain: a whole
//! dispute (open, commit, reveal, resolve, liquidate, claim, close-vote,
//! show) with `--output json` parsed back and checked against on-chain
//! state; the stake-weighted vote, which the parties may not join; vote
//! deposits; money owed to nodes credited and withdrawn with
//! `node withdraw-owed`; the program's refusals by name; the authority's
//! slash and the permissionless downtime slash.

mod common;

use anchor_lang::prelude::Pubkey;
use common::*;
use solana_sdk::signature::Keypair;
use solana_sdk::signer::Signer;
use verdict::instructions::slash_node::{downtime_evidence, verdict_epoch};
use verdict::state::{
    vote_commitment, Dispute, DisputeStatus, Job, JobStatus, Node, NodeStatus, ProtocolParams,
    SlashRecord, SlashingTable, Vote, WindowBucket,
};
use verdict_cli::error::{EXIT_BAD_INPUT, EXIT_FAILURE};
use verdict_cli::{CliError, OutputFormat};
use verdict_sdk::{instructions as ix, pda};

const WRONG: u8 = 1;
const RIGHT: [u8; 32] = [9; 32];

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// A program refusal, by the program's error name.
#[track_caller]
fn refused(err: CliError, name: &str) {
    assert!(
        matches!(err, CliError::Program(_)) && err.to_string().contains(name),
        "expected {name}: {err}"
    );
}

/// A refusal the CLI makes itself, before sending anything.
#[track_caller]
fn refused_by_cli(err: CliError, contains: &str) {
    assert!(
        matches!(err, CliError::Refused(_)) && err.to_string().contains(contains),
        "expected a refusal containing {contains:?}: {err}"
    );
}

struct Scene {
    h: Harness,
    params: ProtocolParams,
    committee: Vec<NodeHandle>,
    /// The committee members who co-signed the high-risk outcome (parties).
    signers: Vec<Pubkey>,
    /// The committee member who challenges (not a co-signer).
    challenger: usize,
    /// The other committee member who did not co-sign: a voter of weight 10.
    outsider: usize,
    /// Stakers outside the committee: weights 5, 6, 1 and 1 vote units.
    a: NodeHandle,
    b: NodeHandle,
    dissenter: NodeHandle,
    silent: NodeHandle,
    miner: NodeHandle,
    client: Keypair,
    job: String,
    job_address: Pubkey,
}

/// Five validators (10 000 tokens, 10 vote units each), a Tier 1 miner, four
/// more staked nodes that can vote, and a high-risk job (whose co-signers
/// answer for it, and so cannot vote) the committee completed with the
/// miner's WRONG output. A validator that did not co-sign is funded for the
/// bond; nobody is funded for a vote deposit yet.
async fn scene() -> Scene {
    let h = Harness::new().await;
    let params = ProtocolParams::default();
    let committee = h.committee(5).await;
    let miner = h.node("miner", 1_000).await;
    h.trial(&committee, &miner.node, true).await;
    h.chain
        .patch::<Node>(&miner.node, |n| {
            n.reputation.buckets[0] = verdict_tests::tier_one_record();
        })
        .await
        .unwrap();
    let a = h.node("miner", 5_000).await;
    let b = h.node("miner", 6_000).await;
    let dissenter = h.node("miner", 1_000).await;
    let silent = h.node("miner", 1_000).await;
    let client = h.wallet(10).await;
    h.cli(
        &client,
        &[
            "job",
            "submit",
            "--model",
            MODEL,
            "--input",
            "what is 2+2",
            "--max-fee",
            "2",
            "--job-id",
            "1",
            "--risk",
            "high",
        ],
    )
    .await
    .unwrap();
    let job_address = pda::job(&client.pubkey(), 1);
    h.assign_and_complete(
        &committee,
        &job_address,
        &miner.node,
        TOKEN,
        good_report(WRONG, 120),
    )
    .await;
    let signers = h.fetch::<Job>(&job_address).await.signers().to_vec();
    let outside: Vec<usize> = (0..committee.len())
        .filter(|&k| !signers.contains(&committee[k].node))
        .collect();
    assert_eq!(signers.len(), 3, "a quorum of three signed");
    assert_eq!(outside.len(), 2);
    let (challenger, outsider) = (outside[0], outside[1]);
    h.fund(
        &committee[challenger].operator.pubkey(),
        params.dispute_bond(TOKEN),
    )
    .await;
    h.advance(60).await;
    Scene {
        h,
        params,
        committee,
        signers,
        challenger,
        outsider,
        a,
        b,
        dissenter,
        silent,
        miner,
        client,
        job: job_address.to_string(),
        job_address,
    }
}

/// 64 hex digits back to bytes.
fn bytes32(hex: &str) -> [u8; 32] {
    let mut out = [0u8; 32];
    for (k, byte) in out.iter_mut().enumerate() {
        *byte = u8::from_str_radix(&hex[2 * k..2 * k + 2], 16).unwrap();
    }
    out
}

#[tokio::test]
async fn a_wrong_job_is_disputed_overturned_liquidated_and_the_voters_paid() {
    let Scene {
        h,
        params,
        committee,
        signers,
        challenger,
        outsider,
        a,
        b,
        dissenter,
        silent,
        miner,
        client,
        job,
        job_address,
    } = scene().await;
    let dispute_address = pda::dispute(&job_address);
    let right = hex(&RIGHT);
    let wrong = hex(&[WRONG; 32]);
    let cranker = h.wallet(0).await;
    let challenger = &committee[challenger];
    let outsider = &committee[outsider];
    let signer = committee
        .iter()
        .find(|v| v.node == signers[0])
        .expect("a co-signer in the committee");

    let err = h
        .cli(&cranker, &["dispute", "show", "--job", &job])
        .await
        .unwrap_err();
    assert!(err.to_string().contains("has no dispute"), "{err}");

    // Opening moves the bond: without --yes and no terminal, nothing is sent.
    let err = h
        .run_argv(
            &challenger.operator.keypair,
            &[
                "verdict", "dispute", "open", "--job", &job, "--result", &right,
            ],
            OutputFormat::Text,
        )
        .await
        .unwrap_err();
    assert!(matches!(err, CliError::ConfirmationRequired), "{err}");
    // The challenger names a result that differs from the disputed output;
    // the miner and the co-signers, who answer for the outcome, cannot challenge it.
    let err = h
        .cli(
            &challenger.operator.keypair,
            &["dispute", "open", "--job", &job, "--result", &wrong],
        )
        .await
        .unwrap_err();
    assert!(
        matches!(err, CliError::Input(_)) && err.to_string().contains("own output hash"),
        "{err}"
    );
    let err = h
        .cli(
            &miner.operator.keypair,
            &["dispute", "open", "--job", &job, "--result", &right],
        )
        .await
        .unwrap_err();
    refused_by_cli(err, "cannot challenge its own outcome");
    let err = h
        .cli(
            &signer.operator.keypair,
            &["dispute", "open", "--job", &job, "--result", &right],
        )
        .await
        .unwrap_err();
    refused_by_cli(err, "co-signed the outcome");
    assert!(!h.exists(&dispute_address).await);

    let opened = h
        .cli(
            &challenger.operator.keypair,
            &["dispute", "open", "--job", &job, "--result", &right],
        )
        .await
        .unwrap();
    let d: Dispute = h.fetch(&dispute_address).await;
    assert_eq!(s(&opened, "dispute"), dispute_address.to_string());
    assert_eq!(s(&opened, "status"), "voting");
    assert_eq!(s(&opened, "phase"), "commit");
    // The bond is max(min_bond, price × bond_multiple): 100 tokens for a 1-token job.
    assert_eq!(params.dispute_bond(TOKEN), params.min_bond);
    assert_eq!(u(&opened, "bond"), params.dispute_bond(TOKEN));
    assert_eq!(d.bond, params.dispute_bond(TOKEN));
    assert_eq!(i(&opened, "commit_end"), d.commit_end);
    assert_eq!(i(&opened, "reveal_end"), d.reveal_end);
    assert_eq!(s(&opened, "disputed_output"), wrong);
    assert_eq!(s(&opened, "challenger_result"), right);
    assert_eq!(opened["candidates"][0]["result"], wrong.as_str());
    assert_eq!(opened["candidates"][1]["result"], right.as_str());
    assert_eq!(s(&opened, "challenger"), challenger.node.to_string());
    // Every staked token counts toward the active weight: 5 × 10 000 +
    // 1 000 (miner) + 5 000 + 6 000 + 1 000 + 1 000, in vote units of 1 000.
    let staked = 64_000 * TOKEN;
    assert_eq!(params.vote_weight(staked), 64);
    assert_eq!(u(&opened, "active_weight"), 64);
    assert_eq!(d.active_weight, 64);
    assert_eq!(u(&opened, "quorum_weight"), 13, "20% of 64, rounded up");
    assert_eq!(h.balance(&challenger.operator.pubkey()).await, 0);
    assert!(h.fetch::<Job>(&job_address).await.dispute_open());
    let err = h
        .cli(
            &outsider.operator.keypair,
            &["dispute", "open", "--job", &job, "--result", &right],
        )
        .await
        .unwrap_err();
    assert!(err.to_string().contains("already disputed"), "{err}");

    // The parties cannot vote: the CLI says so before sending, and the
    // program refuses it too.
    for (party, role) in [
        (&miner, "the miner"),
        (challenger, "the challenger"),
        (signer, "co-signer"),
    ] {
        let err = h
            .cli(
                &party.operator.keypair,
                &["dispute", "commit", "--job", &job, "--result", &right],
            )
            .await
            .unwrap_err();
        refused_by_cli(err, role);
        assert!(!h.exists(&pda::vote(&dispute_address, &party.node)).await);
    }
    let direct = ix::commit_vote(
        &challenger.operator.pubkey(),
        &h.ata(&challenger.operator.pubkey()),
        &dispute_address,
        vote_commitment(&RIGHT, &[1; 32], &challenger.node),
    );
    let err = h
        .chain
        .send(&[direct], &challenger.operator.keypair, &[])
        .await
        .unwrap_err();
    let err = CliError::from_chain(err, "embedded");
    refused(err, "PartyCannotVote");

    // A commit posts the vote deposit from the voter's token account: an
    // unfunded voter is refused before anything is sent.
    assert_eq!(h.balance(&outsider.operator.pubkey()).await, 0);
    let err = h
        .cli(
            &outsider.operator.keypair,
            &["dispute", "commit", "--job", &job, "--result", &right],
        )
        .await
        .unwrap_err();
    refused_by_cli(err, "less than");
    assert!(!h.exists(&pda::vote(&dispute_address, &outsider.node)).await);
    for voter in [outsider, &a, &b, &dissenter, &silent] {
        h.fund(&voter.operator.pubkey(), params.vote_deposit).await;
    }

    // The outsider lets the CLI pick its salt and keeps it from the output.
    let committed = h
        .cli(
            &outsider.operator.keypair,
            &["dispute", "commit", "--job", &job, "--result", &right],
        )
        .await
        .unwrap();
    assert_eq!(committed["salt_generated"], true);
    let salt0 = s(&committed, "salt").to_string();
    assert_eq!(salt0.len(), 64);
    let vote0: Vote = h.fetch(&pda::vote(&dispute_address, &outsider.node)).await;
    assert_eq!(
        vote0.commitment,
        vote_commitment(&RIGHT, &bytes32(&salt0), &outsider.node)
    );
    assert_eq!(s(&committed, "commitment"), hex(&vote0.commitment));
    // Votes weigh stake: floor(stake / vote_unit).
    assert_eq!((vote0.weight, u(&committed, "weight")), (10, 10));
    assert_eq!(u(&committed, "deposit"), params.vote_deposit);
    assert_eq!(h.balance(&outsider.operator.pubkey()).await, 0);

    // The others choose their salts; the dissenter votes for the wrong output.
    let voters: [(&NodeHandle, [u8; 32], u64); 4] = [
        (&a, RIGHT, 5),
        (&b, RIGHT, 6),
        (&dissenter, [WRONG; 32], 1),
        (&silent, RIGHT, 1),
    ];
    let salts: Vec<String> = (1..=4).map(|k| format!("{k:02x}").repeat(32)).collect();
    for ((voter, result, weight), salt) in voters.iter().zip(&salts) {
        let c = h
            .cli(
                &voter.operator.keypair,
                &[
                    "dispute",
                    "commit",
                    "--job",
                    &job,
                    "--result",
                    &hex(result),
                    "--salt",
                    salt,
                ],
            )
            .await
            .unwrap();
        assert_eq!(c["salt_generated"], false);
        assert_eq!(s(&c, "salt"), salt.as_str());
        assert_eq!(u(&c, "weight"), *weight);
        assert_eq!(h.balance(&voter.operator.pubkey()).await, 0);
    }
    let d: Dispute = h.fetch(&dispute_address).await;
    assert_eq!(d.commits, 5);
    assert_eq!(d.deposits_held, 5 * params.vote_deposit);
    let err = h
        .cli(
            &a.operator.keypair,
            &["dispute", "commit", "--job", &job, "--result", &right],
        )
        .await
        .unwrap_err();
    assert!(err.to_string().contains("already committed"), "{err}");
    let err = h
        .cli(
            &a.operator.keypair,
            &[
                "dispute", "reveal", "--job", &job, "--result", &right, "--salt", &salts[0],
            ],
        )
        .await
        .unwrap_err();
    refused(err, "NotRevealPhase");

    h.advance(params.vote_commit_secs).await;
    let shown = h
        .cli(&cranker, &["dispute", "show", "--job", &job])
        .await
        .unwrap();
    assert_eq!(s(&shown, "phase"), "reveal");
    assert_eq!(u(&shown, "turnout"), 0);
    assert_eq!(u(&shown, "deposits_held"), 5 * params.vote_deposit);
    assert_eq!(shown["projected"]["status"], "unresolved");
    let err = h
        .cli(
            &a.operator.keypair,
            &[
                "dispute", "reveal", "--job", &job, "--result", &right, "--salt", &salts[1],
            ],
        )
        .await
        .unwrap_err();
    refused(err, "RevealMismatch");
    let revealed = h
        .cli(
            &outsider.operator.keypair,
            &[
                "dispute", "reveal", "--job", &job, "--result", &right, "--salt", &salt0,
            ],
        )
        .await
        .unwrap();
    assert_eq!(revealed["revealed"], true);
    assert_eq!(u(&revealed, "voters_revealed"), 1);
    assert_eq!(u(&revealed, "weight"), 10);
    assert_eq!(u(&revealed, "turnout"), 10);
    assert_eq!(u(&revealed, "deposit_returned"), params.vote_deposit);
    assert_eq!(
        h.balance(&outsider.operator.pubkey()).await,
        params.vote_deposit,
        "the deposit came back"
    );
    // Everyone but the silent voter reveals.
    for ((voter, result, _), salt) in voters.iter().zip(&salts).take(3) {
        h.cli(
            &voter.operator.keypair,
            &[
                "dispute",
                "reveal",
                "--job",
                &job,
                "--result",
                &hex(result),
                "--salt",
                salt,
            ],
        )
        .await
        .unwrap();
        assert_eq!(
            h.balance(&voter.operator.pubkey()).await,
            params.vote_deposit
        );
    }
    let shown = h
        .cli(&cranker, &["dispute", "show", "--job", &job])
        .await
        .unwrap();
    // The challenger's result carries 5 + 6 + 10 against the dissenter's 1:
    // turnout 22 of 64 (≥ 20%), four voters, and n = 22 > 10 × m = 20.
    assert_eq!(
        (
            u(&shown["candidates"][0], "weight"),
            u(&shown["candidates"][0], "voters")
        ),
        (1, 1)
    );
    assert_eq!(
        (
            u(&shown["candidates"][1], "weight"),
            u(&shown["candidates"][1], "voters")
        ),
        (21, 3)
    );
    assert_eq!(u(&shown, "turnout"), 22);
    assert_eq!(u(&shown, "voters_revealed"), 4);
    assert_eq!(u(&shown, "deposits_held"), params.vote_deposit);
    assert_eq!(shown["projected"]["status"], "overturned");
    assert_eq!(
        (u(&shown["projected"], "n"), u(&shown["projected"], "m")),
        (22, 2)
    );
    let err = h
        .cli(&cranker, &["dispute", "resolve", "--job", &job])
        .await
        .unwrap_err();
    refused(err, "VoteNotOver");

    h.advance(params.vote_reveal_secs).await;
    let resolved = h
        .cli(&cranker, &["dispute", "resolve", "--job", &job])
        .await
        .unwrap();
    let d: Dispute = h.fetch(&dispute_address).await;
    assert_eq!(d.status(), DisputeStatus::Overturned);
    assert_eq!((d.n, d.m, d.result), (22, 2, RIGHT));
    assert_eq!(s(&resolved, "status"), "overturned");
    assert_eq!(s(&resolved, "result"), right);
    assert_eq!((u(&resolved, "n"), u(&resolved, "m")), (22, 2));
    let signer_count = d.signer_count as u64;
    assert_eq!(signer_count, 3, "the co-signers answer for the outcome");
    // The miner, the signers and the dissenter.
    assert_eq!(u(&resolved, "pending_liquidations"), 1 + signer_count + 1);
    // The bond is credited to the challenger's node, not sent anywhere.
    assert_eq!(u(&resolved, "bond_returned"), d.bond);
    assert_eq!(u(&resolved, "deposits_forfeited"), params.vote_deposit);
    assert_eq!(u(&resolved, "challenger_owed"), d.bond);
    assert_eq!(h.fetch::<Node>(&challenger.node).await.owed, d.bond);
    assert_eq!(h.balance(&challenger.operator.pubkey()).await, 0);
    assert_eq!(
        h.fetch::<Job>(&job_address).await.status(),
        JobStatus::Refunded
    );
    assert_eq!(
        h.balance(&client.pubkey()).await,
        10 * TOKEN,
        "the held fee went back"
    );
    let withdrawn = h
        .cli(&challenger.operator.keypair, &["node", "withdraw-owed"])
        .await
        .unwrap();
    assert_eq!(u(&withdrawn, "withdrawn"), d.bond);
    assert_eq!(
        h.balance(&challenger.operator.pubkey()).await,
        d.bond,
        "the bond came back"
    );
    assert_eq!(h.fetch::<Node>(&challenger.node).await.owed, 0);

    // Nobody is paid before the liquidations; an honest voter is not
    // liquidatable, and a dissenter's vote waits for its liquidation.
    let err = h
        .cli(&a.operator.keypair, &["dispute", "claim", "--job", &job])
        .await
        .unwrap_err();
    refused(err, "LiquidationsPending");
    let honest = a.node.to_string();
    let err = h
        .cli(
            &cranker,
            &[
                "dispute",
                "liquidate",
                "--job",
                &job,
                "--node",
                &honest,
                "--target",
                "voter",
            ],
        )
        .await
        .unwrap_err();
    refused(err, "NotLiquidatable");
    let err = h
        .cli(
            &dissenter.operator.keypair,
            &["dispute", "close-vote", "--job", &job],
        )
        .await
        .unwrap_err();
    refused_by_cli(err, "awaits its liquidation");

    // The miner by name (its operator's key), then everything else at once.
    let miner_stake = h.fetch::<Node>(&miner.node).await.self_stake;
    let one = h
        .cli(
            &cranker,
            &[
                "dispute",
                "liquidate",
                "--job",
                &job,
                "--node",
                &miner.operator.pubkey().to_string(),
                "--target",
                "miner",
            ],
        )
        .await
        .unwrap();
    assert_eq!(one["liquidated"][0]["target"], "miner");
    assert_eq!(u(&one["liquidated"][0], "amount"), miner_stake);
    assert_eq!(u(&one, "pending_liquidations"), signer_count + 1);
    let miner_node: Node = h.fetch(&miner.node).await;
    assert_eq!(
        (miner_node.status(), miner_node.self_stake),
        (NodeStatus::Liquidated, 0)
    );

    let signer_stakes: Vec<u64> = {
        let mut stakes = Vec::new();
        for k in d.signers() {
            stakes.push(h.fetch::<Node>(k).await.slashable_stake().unwrap());
        }
        stakes
    };
    let dissenter_stake = h
        .fetch::<Node>(&dissenter.node)
        .await
        .slashable_stake()
        .unwrap();
    let all = h
        .cli(&cranker, &["dispute", "liquidate", "--job", &job, "--all"])
        .await
        .unwrap();
    let liquidated = all["liquidated"].as_array().unwrap();
    assert_eq!(liquidated.len() as u64, signer_count + 1, "{all:#}");
    let mut taken = 0;
    for (index, (entry, (signer, before))) in liquidated
        .iter()
        .zip(d.signers().iter().zip(&signer_stakes))
        .enumerate()
    {
        assert_eq!(s(entry, "target"), "signer");
        assert_eq!(u(entry, "index"), index as u64);
        assert_eq!(s(entry, "node"), signer.to_string());
        let after = h.fetch::<Node>(signer).await.slashable_stake().unwrap();
        assert_eq!(u(entry, "amount"), before - after);
        taken += before - after;
    }
    let last = &liquidated[signer_count as usize];
    assert_eq!(s(last, "target"), "voter");
    assert_eq!(s(last, "node"), dissenter.node.to_string());
    assert_eq!(u(last, "amount"), dissenter_stake);
    assert_eq!(
        h.fetch::<Node>(&dissenter.node).await.status(),
        NodeStatus::Liquidated
    );
    assert_eq!(u(&all, "pending_liquidations"), 0);
    let d: Dispute = h.fetch(&dispute_address).await;
    assert_eq!(d.pending_liquidations, 0);
    // The pool: the miner's and signers' liquidations and the silent voter's
    // forfeited deposit, shared pro rata to weight over the three correct
    // voters (21 units); the dissenter's stake went to the reward pool.
    let pool = miner_stake + taken + params.vote_deposit;
    assert_eq!((d.reward_total, d.reward_weight), (pool, 21));
    assert_eq!(u(&all, "reward_total"), pool);
    assert_eq!(u(&all, "reward_weight"), 21);
    let again = h
        .cli(&cranker, &["dispute", "liquidate", "--job", &job, "--all"])
        .await
        .unwrap();
    assert_eq!(again["liquidated"].as_array().unwrap().len(), 0);

    let shown = h
        .cli(&cranker, &["dispute", "show", "--job", &job])
        .await
        .unwrap();
    assert_eq!(s(&shown, "status"), "overturned");
    assert_eq!(s(&shown, "phase"), "claiming");
    assert_eq!(i(&shown, "commit_end"), d.commit_end);
    assert_eq!(i(&shown, "reveal_end"), d.reveal_end);
    assert_eq!(
        shown["candidates"],
        serde_json::json!([
            { "candidate": "disputed_output", "result": wrong, "weight": 1, "voters": 1 },
            { "candidate": "challenger_result", "result": right, "weight": 21, "voters": 3 },
        ])
    );
    assert_eq!((u(&shown, "n"), u(&shown, "m")), (22, 2));
    assert_eq!((u(&shown, "turnout"), u(&shown, "active_weight")), (22, 64));
    assert_eq!(u(&shown, "voters_revealed"), 4);
    assert_eq!(u(&shown, "deposits_held"), 0);
    assert_eq!(u(&shown, "pending_liquidations"), 0);
    assert_eq!(u(&shown, "pool"), d.pool);
    assert_eq!(u(&shown, "refund_owed"), 0);
    assert_eq!(u(&shown, "reward_total"), d.reward_total);
    assert!(shown["projected"].is_null(), "decided: nothing to project");
    assert_eq!(shown["miner_liquidated"], true);
    assert!(shown["signers"]
        .as_array()
        .unwrap()
        .iter()
        .all(|k| k["slashed"] == true));
    let text = h
        .cli_text(&cranker, &["dispute", "show", "--job", &job])
        .await
        .unwrap();
    for line in [
        "Turnout: weight 22 of 64 active",
        "Refund Owed: 0.000000000",
        "Deposits Held: 0.000000000",
    ] {
        assert!(text.contains(line), "{line:?} in\n{text}");
    }
    println!("{text}");

    // A wrong voter has no reward; the correct ones are paid pro rata to weight.
    let err = h
        .cli(
            &dissenter.operator.keypair,
            &["dispute", "claim", "--job", &job],
        )
        .await
        .unwrap_err();
    refused(err, "NoRewardDue");
    let err = h
        .cli(
            &outsider.operator.keypair,
            &["dispute", "close-vote", "--job", &job],
        )
        .await
        .unwrap_err();
    refused_by_cli(err, "claim its reward");
    let mut paid = 0;
    let correct = [(outsider, 10u64), (&a, 5), (&b, 6)];
    for (k, (v, weight)) in correct.iter().enumerate() {
        let before = h.balance(&v.operator.pubkey()).await;
        let claimed = h
            .cli(&v.operator.keypair, &["dispute", "claim", "--job", &job])
            .await
            .unwrap();
        let share = if k + 1 == correct.len() {
            pool - paid // the last claim takes the rounding dust
        } else {
            pool * weight / 21
        };
        assert_eq!(u(&claimed, "amount"), share, "voter of weight {weight}");
        assert_eq!(u(&claimed, "weight"), *weight);
        assert_eq!(h.balance(&v.operator.pubkey()).await, before + share);
        assert!(
            !h.exists(&pda::vote(&dispute_address, &v.node)).await,
            "claiming closes the vote"
        );
        paid += share;
    }
    assert_eq!(paid, pool);
    let err = h
        .cli(
            &outsider.operator.keypair,
            &["dispute", "claim", "--job", &job],
        )
        .await
        .unwrap_err();
    refused_by_cli(err, "has no vote");
    let d: Dispute = h.fetch(&dispute_address).await;
    assert_eq!((d.claims, d.pool), (3, 0));

    // The silent voter (deposit forfeited) and the liquidated dissenter close
    // their votes; then no node is held by the dispute any more.
    for v in [&silent, &dissenter] {
        let vote = pda::vote(&dispute_address, &v.node);
        let closed = h
            .cli(
                &v.operator.keypair,
                &["dispute", "close-vote", "--job", &job],
            )
            .await
            .unwrap();
        assert_eq!(closed["closed"], true);
        assert!(u(&closed, "rent_returned") > 0);
        assert!(!h.exists(&vote).await);
    }
    assert_eq!(
        h.balance(&silent.operator.pubkey()).await,
        0,
        "an unrevealed vote forfeits its deposit"
    );
    let mut everyone: Vec<Pubkey> = committee.iter().map(|v| v.node).collect();
    everyone.extend([a.node, b.node, dissenter.node, silent.node, miner.node]);
    for node in everyone {
        assert_eq!(h.fetch::<Node>(&node).await.open_disputes, 0, "{node}");
    }
}

#[tokio::test]
async fn a_dispute_short_of_its_quorum_is_unresolved_and_the_miner_keeps_a_fee() {
    let Scene {
        h,
        params,
        committee,
        challenger,
        outsider,
        a,
        miner,
        job,
        job_address,
        ..
    } = scene().await;
    let dispute_address = pda::dispute(&job_address);
    let right = hex(&RIGHT);
    let challenger = &committee[challenger];
    let outsider = &committee[outsider];
    let cranker = h.wallet(0).await;
    h.cli(
        &challenger.operator.keypair,
        &["dispute", "open", "--job", &job, "--result", &right],
    )
    .await
    .unwrap();
    // Only two voters (weight 15 of 64, enough turnout but fewer than three voters).
    let salt = "0a".repeat(32);
    for v in [outsider, &a] {
        h.fund(&v.operator.pubkey(), params.vote_deposit).await;
        h.cli(
            &v.operator.keypair,
            &[
                "dispute", "commit", "--job", &job, "--result", &right, "--salt", &salt,
            ],
        )
        .await
        .unwrap();
    }
    // The payout waits for the dispute.
    let err = h.cli(&cranker, &["job", "claim", &job]).await.unwrap_err();
    refused(err, "DisputeOpen");
    h.advance(params.vote_commit_secs).await;
    for v in [outsider, &a] {
        h.cli(
            &v.operator.keypair,
            &[
                "dispute", "reveal", "--job", &job, "--result", &right, "--salt", &salt,
            ],
        )
        .await
        .unwrap();
    }
    let shown = h
        .cli(&cranker, &["dispute", "show", "--job", &job])
        .await
        .unwrap();
    assert_eq!(u(&shown, "voters_revealed"), 2);
    assert_eq!(u(&shown, "min_voters"), 3);
    assert_eq!(u(&shown, "turnout"), 15);
    assert_eq!(shown["projected"]["status"], "unresolved");
    h.advance(params.vote_reveal_secs).await;
    let resolved = h
        .cli(&cranker, &["dispute", "resolve", "--job", &job])
        .await
        .unwrap();
    assert_eq!(s(&resolved, "status"), "unresolved");
    assert_eq!(s(&resolved, "phase"), "closed");
    assert!(resolved["result"].is_null());
    let bond = params.dispute_bond(TOKEN);
    let fee = bond * params.unresolved_fee_bps as u64 / 10_000;
    assert_eq!(u(&resolved, "unresolved_fee"), fee);
    assert_eq!(u(&resolved, "bond_returned"), bond - fee);
    assert_eq!(u(&resolved, "pending_liquidations"), 0);
    assert_eq!(h.fetch::<Node>(&challenger.node).await.owed, bond - fee);
    assert_eq!(h.fetch::<Node>(&miner.node).await.owed, fee);
    assert_eq!(
        h.fetch::<Dispute>(&dispute_address).await.status(),
        DisputeStatus::Unresolved
    );

    // Nobody is liquidated, the payout is released as usual, and each node
    // takes what it is owed.
    let err = h
        .cli(&cranker, &["dispute", "liquidate", "--job", &job, "--all"])
        .await
        .unwrap_err();
    refused_by_cli(err, "only an upheld or overturned dispute");
    let claimed = h.cli(&cranker, &["job", "claim", &job]).await.unwrap();
    assert_eq!(s(&claimed, "status"), "paid");
    let operator_amount = u(&claimed, "operator_amount");
    assert_eq!(u(&claimed, "miner_owed"), fee + operator_amount);
    let before = h.balance(&miner.operator.pubkey()).await;
    let w = h
        .cli(&miner.operator.keypair, &["node", "withdraw-owed"])
        .await
        .unwrap();
    assert_eq!(u(&w, "withdrawn"), fee + operator_amount);
    assert_eq!(
        h.balance(&miner.operator.pubkey()).await,
        before + fee + operator_amount
    );
    h.cli(&challenger.operator.keypair, &["node", "withdraw-owed"])
        .await
        .unwrap();
    assert_eq!(h.balance(&challenger.operator.pubkey()).await, bond - fee);

    // An unresolved dispute pays no voter: the voters close their votes.
    let err = h
        .cli(&a.operator.keypair, &["dispute", "claim", "--job", &job])
        .await
        .unwrap_err();
    refused(err, "InvalidDisputeState");
    for v in [outsider, &a] {
        h.cli(
            &v.operator.keypair,
            &["dispute", "close-vote", "--job", &job],
        )
        .await
        .unwrap();
        assert_eq!(
            h.balance(&v.operator.pubkey()).await,
            params.vote_deposit,
            "a revealed vote got its deposit back"
        );
        assert_eq!(h.fetch::<Node>(&v.node).await.open_disputes, 0);
    }
}

#[tokio::test]
async fn the_authority_slashes_and_nobody_else_may() {
    let h = Harness::new().await;
    let committee = h.committee(3).await;
    let target = &committee[0];
    let node = target.operator.pubkey().to_string();
    let evidence = "ab".repeat(32);
    let before: Node = h.fetch(&target.node).await;
    let record = pda::slash_record(&target.node, &[0xab; 32]);

    let stranger = h.wallet(0).await;
    let err = h
        .cli(
            &stranger,
            &[
                "slash",
                "--node",
                &node,
                "--offense",
                "invalid-signature",
                "--evidence",
                &evidence,
            ],
        )
        .await
        .unwrap_err();
    assert!(
        matches!(err, CliError::Refused(_)) && err.to_string().contains("only the authority"),
        "{err}"
    );
    assert_eq!(err.exit_code(), EXIT_FAILURE);
    assert_eq!(err.to_string().lines().count(), 1);
    assert!(!h.exists(&record).await, "nothing was sent");
    assert_eq!(
        h.fetch::<Node>(&target.node).await.self_stake,
        before.self_stake
    );

    // Collusion and approving an invalid result are for disputes to decide,
    // whoever signs.
    for offense in ["collusion", "approve-invalid"] {
        let err = h
            .cli(
                &h.authority,
                &[
                    "slash",
                    "--node",
                    &node,
                    "--offense",
                    offense,
                    "--evidence",
                    &evidence,
                ],
            )
            .await
            .unwrap_err();
        assert!(
            matches!(err, CliError::Input(_)) && err.to_string().contains("decided by a dispute"),
            "{err}"
        );
        assert_eq!(err.exit_code(), EXIT_BAD_INPUT);
    }
    assert!(!h.exists(&record).await, "nothing was sent");
    let err = h
        .cli(
            &h.authority,
            &["slash", "--node", &node, "--offense", "front-running"],
        )
        .await
        .unwrap_err();
    assert!(err.to_string().contains("--evidence is required"), "{err}");

    let slashed = h
        .cli(
            &h.authority,
            &[
                "slash",
                "--node",
                &node,
                "--offense",
                "invalid-signature",
                "--evidence",
                &evidence,
            ],
        )
        .await
        .unwrap();
    let bps = h
        .fetch::<verdict::state::Config>(&pda::config())
        .await
        .slashing
        .invalid_signature_bps as u64;
    let expected = before.self_stake * bps / 10_000;
    let after: Node = h.fetch(&target.node).await;
    let rec: SlashRecord = h.fetch(&record).await;
    assert_eq!(u(&slashed, "amount"), expected);
    assert_eq!(rec.amount, expected);
    assert!(rec.applied);
    assert_eq!(slashed["applied"], true);
    assert_eq!(slashed["by_authority"], true);
    assert_eq!(s(&slashed, "offense"), "invalid-signature");
    assert_eq!(u(&slashed, "share_bps"), bps);
    assert_eq!(after.self_stake, before.self_stake - expected);
    assert_eq!(u(&slashed, "stake_after"), after.self_stake);
    assert_eq!(u(&slashed, "from_self_stake"), expected);

    let err = h
        .cli(
            &h.authority,
            &[
                "slash",
                "--node",
                &node,
                "--offense",
                "front-running",
                "--evidence",
                &evidence,
            ],
        )
        .await
        .unwrap_err();
    assert!(err.to_string().contains("already slashed"), "{err}");
    assert_eq!(
        h.fetch::<Node>(&target.node).await.self_stake,
        after.self_stake
    );
}

#[tokio::test]
async fn anyone_slashes_downtime_the_chain_records_once_per_epoch() {
    let h = Harness::new().await;
    let params = ProtocolParams::default();
    let committee = h.committee(3).await;
    let target = &committee[1];
    let node = target.node.to_string();
    let stranger = h.wallet(0).await;

    // A healthy node: nothing to slash for downtime.
    let err = h
        .cli(
            &stranger,
            &["slash", "--node", &node, "--offense", "downtime"],
        )
        .await
        .unwrap_err();
    refused_by_cli(err, "not below the downtime threshold");

    // Half of its last 100 jobs failed: below the 70% threshold.
    h.chain
        .patch::<Node>(&target.node, |n| {
            n.reputation.buckets[0] = WindowBucket {
                jobs: 100,
                successes: 50,
                sla_met: 50,
                latency_score_sum: 50 * 5_000,
                response_ms_sum: 50 * 200,
                ..Default::default()
            };
        })
        .await
        .unwrap();
    let err = h
        .cli(
            &stranger,
            &[
                "slash",
                "--node",
                &node,
                "--offense",
                "downtime",
                "--evidence",
                &"cd".repeat(32),
            ],
        )
        .await
        .unwrap_err();
    assert!(
        matches!(err, CliError::Input(_)) && err.to_string().contains("epoch's evidence"),
        "{err}"
    );
    let before: Node = h.fetch(&target.node).await;
    let slashed = h
        .cli(
            &stranger,
            &["slash", "--node", &node, "--offense", "downtime"],
        )
        .await
        .unwrap();
    let epoch = verdict_epoch(h.chain.unix_time().await.unwrap(), params.epoch_secs);
    let evidence = downtime_evidence(epoch);
    assert_eq!(s(&slashed, "evidence"), hex(&evidence));
    assert_eq!(slashed["by_authority"], false);
    assert_eq!(slashed["applied"], true);
    let expected = before.self_stake * SlashingTable::default().downtime_bps as u64 / 10_000;
    assert_eq!(u(&slashed, "amount"), expected);
    let rec: SlashRecord = h.fetch(&pda::slash_record(&target.node, &evidence)).await;
    assert_eq!(rec.amount, expected);
    assert_eq!(
        h.fetch::<Node>(&target.node).await.self_stake,
        before.self_stake - expected
    );
    // Once per Verdict epoch.
    let err = h
        .cli(
            &stranger,
            &["slash", "--node", &node, "--offense", "downtime"],
        )
        .await
        .unwrap_err();
    assert!(err.to_string().contains("already slashed"), "{err}");
}
