//! Disputes and slashing through the CLI on the embedded chain: a whole
//! dispute (open, commit, reveal, resolve, liquidate, claim, show) with
//! `--output json` parsed back and checked against on-chain state, the
//! program's refusals by name, and the authority's slash.

mod common;

use common::*;
use solana_sdk::signature::Keypair;
use solana_sdk::signer::Signer;
use verdict::state::{
    vote_commitment, Dispute, DisputeStatus, Job, JobStatus, Node, NodeStatus, ProtocolParams,
    SlashRecord, Vote,
};
use verdict_cli::error::EXIT_FAILURE;
use verdict_cli::{CliError, OutputFormat};
use verdict_sdk::pda;

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

struct Scene {
    h: Harness,
    params: ProtocolParams,
    committee: Vec<TestNode>,
    miner: TestNode,
    client: Keypair,
    job: String,
    job_address: anchor_lang::prelude::Pubkey,
}

/// Five validators funded for a bond, a Tier 1 miner, and a high-risk job
/// (whose signers answer for it) the committee completed with the miner's
/// WRONG output.
async fn scene() -> Scene {
    let h = Harness::new().await;
    let params = ProtocolParams::default();
    let committee = h.committee(5).await;
    for v in &committee {
        h.fund(&v.operator.pubkey(), params.dispute_bond).await;
    }
    let miner = h.node("miner", 1_000).await;
    h.trial(&committee, &miner.node, true).await;
    h.chain
        .patch::<Node>(&miner.node, |n| {
            n.reputation.buckets[0] = verdict_tests::tier_one_record();
        })
        .await
        .unwrap();
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
    h.advance(60).await;
    Scene {
        h,
        params,
        committee,
        miner,
        client,
        job: job_address.to_string(),
        job_address,
    }
}

#[tokio::test]
async fn a_wrong_job_is_disputed_overturned_liquidated_and_the_voters_paid() {
    let Scene {
        h,
        params,
        committee,
        miner,
        client,
        job,
        job_address,
    } = scene().await;
    let dispute_address = pda::dispute(&job_address);
    let right = hex(&RIGHT);
    let cranker = h.wallet(0).await;

    let err = h
        .cli(&cranker, &["dispute", "show", "--job", &job])
        .await
        .unwrap_err();
    assert!(err.to_string().contains("has no dispute"), "{err}");

    // Opening moves the bond: without --yes and no terminal, nothing is sent.
    let err = h
        .run_argv(
            &committee[0].operator,
            &["verdict", "dispute", "open", "--job", &job],
            OutputFormat::Text,
        )
        .await
        .unwrap_err();
    assert!(matches!(err, CliError::ConfirmationRequired), "{err}");
    assert!(!h.exists(&dispute_address).await);

    let opened = h
        .cli(&committee[0].operator, &["dispute", "open", "--job", &job])
        .await
        .unwrap();
    let d: Dispute = h.fetch(&dispute_address).await;
    assert_eq!(s(&opened, "dispute"), dispute_address.to_string());
    assert_eq!(s(&opened, "status"), "voting");
    assert_eq!(s(&opened, "phase"), "commit");
    assert_eq!(u(&opened, "bond"), params.dispute_bond);
    assert_eq!(i(&opened, "commit_end"), d.commit_end);
    assert_eq!(i(&opened, "reveal_end"), d.reveal_end);
    assert_eq!(s(&opened, "original_output"), hex(&[WRONG; 32]));
    assert_eq!(s(&opened, "challenger"), committee[0].node.to_string());
    assert_eq!(h.balance(&committee[0].operator.pubkey()).await, 0);
    assert!(h.fetch::<Job>(&job_address).await.dispute_open);
    let err = h
        .cli(&committee[1].operator, &["dispute", "open", "--job", &job])
        .await
        .unwrap_err();
    assert!(err.to_string().contains("already disputed"), "{err}");

    // Validator 0 lets the CLI pick its salt and keeps it from the output.
    let committed = h
        .cli(
            &committee[0].operator,
            &["dispute", "commit", "--job", &job, "--result", &right],
        )
        .await
        .unwrap();
    assert_eq!(committed["salt_generated"], true);
    let salt0 = s(&committed, "salt").to_string();
    assert_eq!(salt0.len(), 64);
    let vote0: Vote = h
        .fetch(&pda::vote(&dispute_address, &committee[0].node))
        .await;
    let mut salt_bytes = [0u8; 32];
    for (k, byte) in salt_bytes.iter_mut().enumerate() {
        *byte = u8::from_str_radix(&salt0[2 * k..2 * k + 2], 16).unwrap();
    }
    assert_eq!(
        vote0.commitment,
        vote_commitment(&RIGHT, &salt_bytes, &committee[0].node)
    );
    assert_eq!(s(&committed, "commitment"), hex(&vote0.commitment));
    let salts: Vec<String> = (1..5).map(|k| format!("{k:02x}").repeat(32)).collect();
    for (v, salt) in committee[1..].iter().zip(&salts) {
        let c = h
            .cli(
                &v.operator,
                &[
                    "dispute", "commit", "--job", &job, "--result", &right, "--salt", salt,
                ],
            )
            .await
            .unwrap();
        assert_eq!(c["salt_generated"], false);
        assert_eq!(s(&c, "salt"), salt.as_str());
    }
    assert_eq!(h.fetch::<Dispute>(&dispute_address).await.commits, 5);
    let err = h
        .cli(
            &committee[1].operator,
            &["dispute", "commit", "--job", &job, "--result", &right],
        )
        .await
        .unwrap_err();
    assert!(err.to_string().contains("already committed"), "{err}");
    let err = h
        .cli(
            &committee[1].operator,
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
    let err = h
        .cli(
            &committee[1].operator,
            &[
                "dispute", "reveal", "--job", &job, "--result", &right, "--salt", &salts[1],
            ],
        )
        .await
        .unwrap_err();
    refused(err, "RevealMismatch");
    let revealed = h
        .cli(
            &committee[0].operator,
            &[
                "dispute", "reveal", "--job", &job, "--result", &right, "--salt", &salt0,
            ],
        )
        .await
        .unwrap();
    assert_eq!(revealed["revealed"], true);
    assert_eq!(u(&revealed, "reveals"), 1);
    for (v, salt) in committee[1..].iter().zip(&salts) {
        h.cli(
            &v.operator,
            &[
                "dispute", "reveal", "--job", &job, "--result", &right, "--salt", salt,
            ],
        )
        .await
        .unwrap();
    }
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
    assert_eq!(d.status, DisputeStatus::Overturned);
    assert_eq!((d.n, d.m, d.result), (5, 0, RIGHT));
    assert_eq!(s(&resolved, "status"), "overturned");
    assert_eq!(s(&resolved, "result"), right);
    assert_eq!((u(&resolved, "n"), u(&resolved, "m")), (5, 0));
    let signer_count = d.signer_count as u64;
    assert!(signer_count >= 3, "a quorum signed the outcome");
    assert_eq!(u(&resolved, "pending_liquidations"), 1 + signer_count);
    assert_eq!(
        s(&resolved, "challenger_tokens"),
        h.ata(&committee[0].operator.pubkey()).to_string()
    );
    assert_eq!(
        h.balance(&committee[0].operator.pubkey()).await,
        params.dispute_bond,
        "the bond came back"
    );
    assert_eq!(
        h.fetch::<Job>(&job_address).await.status,
        JobStatus::Refunded
    );
    assert_eq!(
        h.balance(&client.pubkey()).await,
        10 * TOKEN,
        "the held fee went back"
    );

    // Nobody is paid before the liquidations; an honest voter is not liquidatable.
    let err = h
        .cli(&committee[1].operator, &["dispute", "claim", "--job", &job])
        .await
        .unwrap_err();
    refused(err, "LiquidationsPending");
    let honest = committee[1].node.to_string();
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
    assert_eq!(u(&one, "pending_liquidations"), signer_count);
    let miner_node: Node = h.fetch(&miner.node).await;
    assert_eq!(
        (miner_node.status, miner_node.self_stake),
        (NodeStatus::Liquidated, 0)
    );

    let signer_stakes: Vec<u64> = {
        let mut stakes = Vec::new();
        for k in d.signers() {
            stakes.push(h.fetch::<Node>(k).await.slashable_stake().unwrap());
        }
        stakes
    };
    let all = h
        .cli(&cranker, &["dispute", "liquidate", "--job", &job, "--all"])
        .await
        .unwrap();
    let liquidated = all["liquidated"].as_array().unwrap();
    assert_eq!(liquidated.len() as u64, signer_count, "{all:#}");
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
    assert_eq!(u(&all, "pending_liquidations"), 0);
    let d: Dispute = h.fetch(&dispute_address).await;
    assert_eq!(d.pending_liquidations, 0);
    assert_eq!(d.reward_per_voter, (miner_stake + taken) / 5);
    assert_eq!(u(&all, "reward_per_voter"), d.reward_per_voter);
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
        shown["tally"],
        serde_json::json!([{ "result": right, "votes": 5 }])
    );
    assert_eq!((u(&shown, "n"), u(&shown, "m")), (5, 0));
    assert_eq!(u(&shown, "pending_liquidations"), 0);
    assert_eq!(u(&shown, "pool"), d.pool);
    assert_eq!(u(&shown, "reward_per_voter"), d.reward_per_voter);
    assert_eq!(shown["miner_liquidated"], true);
    assert!(shown["signers"]
        .as_array()
        .unwrap()
        .iter()
        .all(|k| k["slashed"] == true));
    println!(
        "{}",
        h.cli_text(&cranker, &["dispute", "show", "--job", &job])
            .await
            .unwrap()
    );

    for v in &committee {
        let before = h.balance(&v.operator.pubkey()).await;
        let claimed = h
            .cli(&v.operator, &["dispute", "claim", "--job", &job])
            .await
            .unwrap();
        assert_eq!(u(&claimed, "amount"), d.reward_per_voter);
        assert_eq!(
            h.balance(&v.operator.pubkey()).await,
            before + d.reward_per_voter
        );
    }
    let err = h
        .cli(&committee[0].operator, &["dispute", "claim", "--job", &job])
        .await
        .unwrap_err();
    refused(err, "NoRewardDue");
    let d: Dispute = h.fetch(&dispute_address).await;
    assert_eq!((d.claims, d.pool), (5, 0));
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
                "collusion",
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
