//! Every command group on the embedded chain, through the CLI's own `run`
//! with `--output json` parsed back and checked against on-chain state.

mod common;

use common::*;
use sha2::{Digest, Sha256};
use solana_sdk::signer::Signer;
use verdict::state::{Committee, Config, Delegation, Job, JobStatus, Node, ProtocolParams};
use verdict_cli::{CliError, OutputFormat};
use verdict_sdk::pda;

#[tokio::test]
async fn config_init_show_update() {
    let h = Harness::bare().await;
    let mint = h.mint.to_string();
    let init = h
        .cli(
            &h.authority,
            &[
                "config",
                "init",
                "--mint",
                &mint,
                "--set",
                "committee_quorum=2",
                "--set",
                "committee_size=3",
            ],
        )
        .await
        .unwrap();
    let config: Config = h.fetch(&pda::config()).await;
    assert_eq!(s(&init, "authority"), h.authority.pubkey().to_string());
    assert_eq!(s(&init, "stake_mint"), config.stake_mint.to_string());
    assert_eq!(init["params"]["committee_quorum"], 2);
    assert_eq!(config.params.committee_size, 3);
    assert!(init["signature"].is_string());

    let shown = h.cli(&h.authority, &["config", "show"]).await.unwrap();
    assert_eq!(
        u(&shown["params"], "min_miner_stake"),
        config.params.min_miner_stake
    );
    assert_eq!(
        u(&shown["params"], "epoch_secs"),
        config.params.epoch_secs as u64
    );
    assert_eq!(shown["paused"], false);
    // The revision's parameters, by the names `--set` takes (the bond is now
    // computed from a job's price: min_bond and bond_multiple).
    assert!(shown["params"].get("dispute_bond").is_none(), "{shown:#}");
    assert_eq!(u(&shown["params"], "min_bond"), config.params.min_bond);
    assert_eq!(u(&shown["params"], "vote_unit"), config.params.vote_unit);
    assert_eq!(
        u(&shown["params"], "vote_deposit"),
        config.params.vote_deposit
    );
    for (name, value) in [
        ("bond_multiple", config.params.bond_multiple as u64),
        (
            "unresolved_fee_bps",
            config.params.unresolved_fee_bps as u64,
        ),
        (
            "dispute_quorum_bps",
            config.params.dispute_quorum_bps as u64,
        ),
        (
            "dispute_min_voters",
            config.params.dispute_min_voters as u64,
        ),
        (
            "max_timeout_reports_per_epoch",
            config.params.max_timeout_reports_per_epoch as u64,
        ),
        (
            "exposure_multiple_bps",
            config.params.exposure_multiple_bps as u64,
        ),
        ("validator_fee_bps", config.params.validator_fee_bps as u64),
        ("draw_delay_slots", config.params.draw_delay_slots as u64),
    ] {
        assert_eq!(u(&shown["params"], name), value, "{name}");
    }
    let text = h.cli_text(&h.authority, &["config", "show"]).await.unwrap();
    assert!(text.contains("  min_bond = 100.000000000\n"), "{text}");
    assert!(text.contains("  vote_deposit = 10.000000000\n"), "{text}");

    let updated = h
        .cli(
            &h.authority,
            &[
                "config",
                "update",
                "--set",
                "min_miner_stake=500.5",
                "--set",
                "vote_unit=250",
                "--set",
                "vote_deposit=2.5",
                "--set",
                "min_bond=50",
                "--set",
                "validator_fee_bps=800",
                "--set",
                "dispute_min_voters=4",
                "--paused",
                "true",
            ],
        )
        .await
        .unwrap();
    let config: Config = h.fetch(&pda::config()).await;
    assert_eq!(config.params.min_miner_stake, 500_500_000_000);
    assert_eq!(config.params.vote_unit, 250 * TOKEN);
    assert_eq!(config.params.vote_deposit, 2_500_000_000);
    assert_eq!(config.params.min_bond, 50 * TOKEN);
    assert_eq!(config.params.validator_fee_bps, 800);
    assert_eq!(config.params.dispute_min_voters, 4);
    assert!(config.is_paused());
    assert_eq!(
        u(&updated["params"], "min_miner_stake"),
        config.params.min_miner_stake
    );
    assert_eq!(u(&updated["params"], "vote_deposit"), 2_500_000_000);
    assert_eq!(updated["paused"], true);

    // Refused before sending: not the authority, parameters out of bounds, already initialized.
    let stranger = h.wallet(0).await;
    let err = h
        .cli(&stranger, &["config", "update", "--paused", "false"])
        .await
        .unwrap_err();
    assert!(err.to_string().contains("only the authority"), "{err}");
    let err = h
        .cli(
            &h.authority,
            &["config", "update", "--set", "committee_quorum=1"],
        )
        .await
        .unwrap_err();
    assert!(
        matches!(err, CliError::Input(_)) && err.to_string().contains("InvalidParameter"),
        "{err}"
    );
    // The dispute rules cannot be switched off: fewer than three voters, or
    // a vote unit above the miner minimum, are refused before sending.
    for setting in ["dispute_min_voters=2", "vote_unit=600"] {
        let err = h
            .cli(&h.authority, &["config", "update", "--set", setting])
            .await
            .unwrap_err();
        assert!(
            matches!(err, CliError::Input(_)) && err.to_string().contains("InvalidParameter"),
            "{setting}: {err}"
        );
    }
    let err = h
        .cli(&h.authority, &["config", "init", "--mint", &mint])
        .await
        .unwrap_err();
    assert!(err.to_string().contains("already initialized"), "{err}");
    let after: Config = h.fetch(&pda::config()).await;
    assert_eq!((after.params, after.is_paused()), (config.params, true));
}

#[tokio::test]
async fn config_init_refuses_a_mint_without_nine_decimals_and_commands_need_a_config() {
    let h = Harness::bare().await;
    let err = h.cli(&h.authority, &["config", "show"]).await.unwrap_err();
    assert!(
        err.to_string().contains("run `verdict config init`"),
        "{err}"
    );
    let not_a_mint = h.authority.pubkey().to_string();
    let err = h
        .cli(&h.authority, &["config", "init", "--mint", &not_a_mint])
        .await
        .unwrap_err();
    assert!(
        err.to_string().contains("is not an SPL Token mint"),
        "{err}"
    );
    assert!(!h.exists(&pda::config()).await);
}

#[tokio::test]
async fn node_lifecycle() {
    let h = Harness::new().await;
    let params = ProtocolParams::default();
    let operator = h.wallet(3_000).await;
    let signing_key = solana_sdk::signature::Keypair::new();
    let key_file = h.keypair_file(&signing_key);
    let registered = h
        .cli(
            &operator,
            &[
                "node",
                "register",
                "--roles",
                "miner",
                "--model",
                MODEL,
                "--commission-bps",
                "700",
                "--signing-keypair",
                &key_file,
            ],
        )
        .await
        .unwrap();
    let node_address = pda::node(&operator.pubkey());
    let node: Node = h.fetch(&node_address).await;
    assert_eq!(s(&registered, "node"), node_address.to_string());
    assert_eq!(
        s(&registered, "signing_key"),
        signing_key.pubkey().to_string()
    );
    assert_eq!(node.commission_bps, 700);
    assert_eq!(registered["models"][0], MODEL);
    assert_eq!(registered["roles"][0], "miner");

    // Below the miner minimum: the program's own error, by name and message.
    let err = h.cli(&operator, &["node", "stake", "1"]).await.unwrap_err();
    let line = err.to_string();
    assert!(
        matches!(err, CliError::Program(_))
            && line.contains("StakeBelowMinimum")
            && !line.contains("0x"),
        "{line}"
    );

    // Without --yes and without a terminal, nothing moves.
    let argv = ["verdict", "--output", "json", "node", "stake", "1500"];
    let err = h
        .run_argv(&operator, &argv, OutputFormat::Json)
        .await
        .unwrap_err();
    assert!(matches!(err, CliError::ConfirmationRequired), "{err}");
    assert_eq!(h.fetch::<Node>(&node_address).await.self_stake, 0);

    let staked = h
        .cli(&operator, &["node", "stake", "1500.25"])
        .await
        .unwrap();
    let node: Node = h.fetch(&node_address).await;
    assert_eq!(node.self_stake, 1_500_250_000_000);
    assert_eq!(u(&staked, "self_stake"), node.self_stake);
    assert_eq!(staked["active"], true);
    assert_eq!(
        h.balance(&operator.pubkey()).await,
        3_000 * TOKEN - node.self_stake
    );

    let shown = h
        .cli(
            &operator,
            &["node", "show", "--node", &operator.pubkey().to_string()],
        )
        .await
        .unwrap();
    assert_eq!(
        s(&shown, "node"),
        node_address.to_string(),
        "an operator key finds its node"
    );
    assert_eq!(
        u(&shown["reputation"], "trust_bps"),
        node.reputation.trust_bps as u64
    );
    // Nothing owed, no job booked against its stake, party to no dispute.
    assert_eq!(u(&shown, "owed"), 0);
    assert_eq!(u(&shown, "exposure"), 0);
    assert_eq!(u(&shown, "exposure_limit"), node.self_stake);
    assert_eq!(u(&shown, "open_disputes"), 0);
    let text = h.cli_text(&operator, &["node", "show"]).await.unwrap();
    for label in ["Owed: ", "Exposure: ", "Open Disputes: "] {
        assert!(text.contains(label), "{label} in {text}");
    }
    let err = h
        .cli(&operator, &["node", "withdraw-owed"])
        .await
        .unwrap_err();
    assert!(
        matches!(err, CliError::Refused(_)) && err.to_string().contains("owed nothing"),
        "{err}"
    );

    let updated = h
        .cli(
            &operator,
            &[
                "node",
                "update",
                "--commission-bps",
                "250",
                "--model",
                "all-minilm-l6-v2",
                "--model",
                MODEL,
            ],
        )
        .await
        .unwrap();
    let node: Node = h.fetch(&node_address).await;
    assert_eq!(node.commission_bps, 250);
    assert_eq!(node.model_count, 2);
    assert_eq!(updated["models"][0], "all-minilm-l6-v2");

    let new_key = solana_sdk::signature::Keypair::new();
    let new_key_file = h.keypair_file(&new_key);
    let rotated = h
        .cli(
            &operator,
            &["node", "rotate-key", "--new-signing-keypair", &new_key_file],
        )
        .await
        .unwrap();
    assert_eq!(
        h.fetch::<Node>(&node_address).await.signing_key,
        new_key.pubkey()
    );
    assert_eq!(s(&rotated, "signing_key"), new_key.pubkey().to_string());

    h.advance(3_600).await;
    // The signing key may heartbeat too, naming the node.
    let beat = h
        .cli(
            &new_key_with_sol(&h, new_key).await,
            &["node", "heartbeat", "--node", &node_address.to_string()],
        )
        .await
        .unwrap();
    let node: Node = h.fetch(&node_address).await;
    assert_eq!(
        node.reputation.last_heartbeat,
        h.chain.unix_time().await.unwrap()
    );
    assert_eq!(
        i(&beat["reputation"], "last_heartbeat"),
        node.reputation.last_heartbeat
    );

    let unstake = h
        .cli(&operator, &["node", "unstake", "500.25"])
        .await
        .unwrap();
    let ticket = s(&unstake, "ticket").to_string();
    assert_eq!(u(&unstake, "amount"), 500_250_000_000);
    assert_eq!(
        h.fetch::<Node>(&node_address).await.self_stake,
        1_000 * TOKEN
    );
    let err = h.cli(&operator, &["node", "withdraw"]).await.unwrap_err();
    assert!(err.to_string().contains("released yet"), "{err}");

    h.advance(params.unbonding_secs).await;
    let before = h.balance(&operator.pubkey()).await;
    let withdrawn = h.cli(&operator, &["node", "withdraw"]).await.unwrap();
    assert_eq!(u(&withdrawn, "amount"), 500_250_000_000);
    assert_eq!(withdrawn["tickets"][0]["ticket"], ticket.as_str());
    assert_eq!(
        h.balance(&operator.pubkey()).await,
        before + 500_250_000_000
    );
    assert!(!h.exists(&ticket.parse().unwrap()).await);

    // Empty the node, then close it.
    h.cli(&operator, &["node", "unstake", "1000"])
        .await
        .unwrap();
    h.advance(params.unbonding_secs).await;
    h.cli(&operator, &["node", "withdraw"]).await.unwrap();
    let closed = h.cli(&operator, &["node", "close"]).await.unwrap();
    assert_eq!(closed["closed"], true);
    assert!(!h.exists(&node_address).await);
    assert_eq!(h.balance(&operator.pubkey()).await, 3_000 * TOKEN);
}

/// A key that only signs attestations still pays for its own heartbeat.
async fn new_key_with_sol(
    h: &Harness,
    key: solana_sdk::signature::Keypair,
) -> solana_sdk::signature::Keypair {
    h.chain.airdrop(&key.pubkey(), 1_000_000_000).await.unwrap();
    key
}

#[tokio::test]
async fn delegate_undelegate_withdraw() {
    let h = Harness::new().await;
    let params = ProtocolParams::default();
    let miner = h.node("miner", 1_000).await;
    let staker = h.wallet(1_000).await;
    let node = miner.node.to_string();

    let delegated = h
        .cli(&staker, &["delegate", "--node", &node, "250.5"])
        .await
        .unwrap();
    let delegation: Delegation = h
        .fetch(&pda::delegation(&miner.node, &staker.pubkey()))
        .await;
    assert_eq!(u(&delegated, "shares"), delegation.shares);
    assert_eq!(u(&delegated, "value"), 250_500_000_000);
    assert_eq!(
        h.fetch::<Node>(&miner.node).await.delegation.amount,
        250_500_000_000
    );

    // The operator's key names the node as well as the node account does.
    let partial = h
        .cli(
            &staker,
            &[
                "undelegate",
                "--node",
                &miner.operator.pubkey().to_string(),
                "100",
            ],
        )
        .await
        .unwrap();
    assert_eq!(u(&partial, "amount"), 100 * TOKEN);
    assert_eq!(s(&partial, "kind"), "delegation");
    let rest = h
        .cli(&staker, &["undelegate", "--node", &node, "--all"])
        .await
        .unwrap();
    assert_eq!(u(&rest, "amount"), 150_500_000_000);
    assert!(
        !h.exists(&pda::delegation(&miner.node, &staker.pubkey()))
            .await,
        "an emptied delegation closes"
    );

    let err = h
        .cli(&staker, &["undelegate", "--node", &node, "1"])
        .await
        .unwrap_err();
    assert!(matches!(err, CliError::NotFound { .. }), "{err}");

    h.advance(params.unbonding_secs).await;
    let withdrawn = h
        .cli(&staker, &["withdraw-delegation", "--node", &node])
        .await
        .unwrap();
    assert_eq!(u(&withdrawn, "amount"), 250_500_000_000);
    assert_eq!(withdrawn["tickets"].as_array().unwrap().len(), 2);
    assert_eq!(h.balance(&staker.pubkey()).await, 1_000 * TOKEN);
    assert_eq!(h.fetch::<Node>(&miner.node).await.unbonding.amount, 0);
}

#[tokio::test]
async fn committee_show_enter_and_draw() {
    let h = Harness::new().await;
    let validators = h.committee(3).await;
    let cranker = h.wallet(0).await;
    let shown = h.cli(&cranker, &["committee", "show"]).await.unwrap();
    let committee: Committee = h.fetch(&pda::committee()).await;
    assert_eq!(u(&shown, "epoch"), committee.epoch);
    assert_eq!(u(&shown, "quorum"), committee.quorum as u64);
    let members: Vec<String> = committee.members().iter().map(|k| k.to_string()).collect();
    assert_eq!(shown["members"], serde_json::json!(members));
    for v in &validators {
        assert!(committee.is_member(&v.node));
    }

    assert_eq!(shown["draw"]["round"], committee.draw.round);
    assert_eq!(shown["draw"]["phase"], "entry");

    // Nothing is due before the rotation; a stranger cannot enter a node.
    let idle = h.cli(&cranker, &["committee", "draw"]).await.unwrap();
    assert_eq!(idle["stopped"], "rotation not due");
    let node = validators[0].node.to_string();
    let err = h
        .cli(&cranker, &["committee", "enter", "--node", &node])
        .await
        .unwrap_err();
    assert!(err.to_string().contains("Unauthorized"), "{err}");
    h.advance(ProtocolParams::default().committee_rotation_secs)
        .await;
    let rotated = h.draw(&validators).await;
    let after: Committee = h.fetch(&pda::committee()).await;
    assert_eq!(after.epoch, committee.epoch + 1);
    assert_eq!(u(&rotated, "epoch"), after.epoch);
    assert_eq!(rotated["stopped"], "seated");
    assert_eq!(
        rotated["steps"],
        serde_json::json!(["seed", "swept 3 entrants"])
    );
}

#[tokio::test]
async fn job_submit_status_claim_close() {
    let h = Harness::new().await;
    let params = ProtocolParams::default();
    let committee = h.committee(3).await;
    let miner = h.node("miner", 1_000).await;
    h.trial(&committee, &miner.node, true).await;
    let client = h.wallet(10).await;

    let submitted = h
        .cli(
            &client,
            &[
                "job",
                "submit",
                "--model",
                MODEL,
                "--input",
                "hello",
                "--max-fee",
                "1.5",
                "--job-id",
                "7",
            ],
        )
        .await
        .unwrap();
    let job_address = pda::job(&client.pubkey(), 7);
    let job: Job = h.fetch(&job_address).await;
    assert_eq!(s(&submitted, "job"), job_address.to_string());
    assert_eq!(s(&submitted, "status"), "sent");
    assert_eq!(u(&submitted, "max_fee"), 1_500_000_000);
    assert_eq!(job.input_hash, <[u8; 32]>::from(Sha256::digest(b"hello")));
    assert_eq!(
        h.balance(&client.pubkey()).await,
        10 * TOKEN - 1_500_000_000
    );
    let err = h
        .cli(
            &client,
            &[
                "job",
                "submit",
                "--model",
                MODEL,
                "--input",
                "again",
                "--max-fee",
                "1",
                "--job-id",
                "7",
            ],
        )
        .await
        .unwrap_err();
    assert!(err.to_string().contains("already used"), "{err}");
    let err = h
        .cli(
            &client,
            &[
                "job",
                "submit",
                "--model",
                MODEL,
                "--input",
                "x",
                "--max-fee",
                "100",
                "--job-id",
                "8",
            ],
        )
        .await
        .unwrap_err();
    assert!(
        err.to_string().contains("less than"),
        "a short balance is caught before sending: {err}"
    );

    h.settle(
        &committee,
        &job_address,
        &miner.node,
        TOKEN,
        good_report(9, 120),
    )
    .await;
    let status = h
        .cli(&client, &["job", "status", &job_address.to_string()])
        .await
        .unwrap();
    let job: Job = h.fetch(&job_address).await;
    assert_eq!(job.status(), JobStatus::Solved);
    assert_eq!(s(&status, "status"), "solved");
    assert_eq!(s(&status, "miner"), miner.node.to_string());
    assert_eq!(i(&status, "release_at"), job.release_at);
    assert_eq!(u(&status, "price"), TOKEN);

    let cranker = h.wallet(0).await;
    let err = h
        .cli(&cranker, &["job", "claim", &job_address.to_string()])
        .await
        .unwrap_err();
    assert!(err.to_string().contains("PayoutNotReleased"), "{err}");
    let err = h
        .cli(&cranker, &["job", "close", &job_address.to_string()])
        .await
        .unwrap_err();
    assert!(
        err.to_string().contains("JobNotFinished"),
        "a solved job is not closed: {err}"
    );
    h.advance(job.release_at - h.chain.unix_time().await.unwrap())
        .await;
    let before = h.balance(&miner.operator.pubkey()).await;
    let claimed = h
        .cli(&cranker, &["job", "claim", &job_address.to_string()])
        .await
        .unwrap();
    assert_eq!(s(&claimed, "status"), "paid");
    // 10% of the price stays in the escrow for the three co-signers until
    // close; the operator's part is credited to the node, not sent.
    let fee = TOKEN * params.validator_fee_bps as u64 / 10_000;
    assert_eq!(fee, TOKEN / 10);
    assert_eq!(u(&claimed, "validator_fee"), fee);
    assert_eq!(u(&claimed, "fee_held"), fee);
    assert_eq!(
        u(&claimed, "operator_amount") + u(&claimed, "delegator_amount"),
        TOKEN - fee
    );
    assert_eq!(u(&claimed, "client_refund"), 500_000_000);
    assert_eq!(
        h.balance(&miner.operator.pubkey()).await,
        before,
        "nothing is sent to the operator at claim"
    );
    let miner_node: Node = h.fetch(&miner.node).await;
    assert_eq!(miner_node.owed, u(&claimed, "operator_amount"));
    assert_eq!(u(&claimed, "miner_owed"), miner_node.owed);
    assert_eq!(miner_node.exposure, TOKEN, "booked until the job closes");
    let escrow = h
        .chain
        .account_data(&pda::escrow(&job_address))
        .await
        .unwrap()
        .map(|d| verdict_cli::token::decode_account(&d).unwrap().amount);
    assert_eq!(escrow, Some(fee));
    assert_eq!(h.fetch::<Job>(&job_address).await.fee_held, fee);

    // The operator takes what its node is owed.
    let withdrawn = h
        .cli(&miner.operator.keypair, &["node", "withdraw-owed"])
        .await
        .unwrap();
    assert_eq!(u(&withdrawn, "withdrawn"), miner_node.owed);
    assert_eq!(u(&withdrawn, "owed"), 0);
    assert_eq!(
        s(&withdrawn, "destination"),
        h.ata(&miner.operator.pubkey()).to_string()
    );
    assert_eq!(
        h.balance(&miner.operator.pubkey()).await,
        before + u(&claimed, "operator_amount")
    );
    assert_eq!(h.fetch::<Node>(&miner.node).await.owed, 0);

    // Nothing is owed to the client: its refund account took the refund.
    let err = h
        .cli(&client, &["job", "claim-refund", &job_address.to_string()])
        .await
        .unwrap_err();
    assert!(err.to_string().contains("owes its client nothing"), "{err}");

    // The payout hold (2 epochs for a new miner) already covered the challenge window.
    assert!(
        job.release_at >= job.solved_at + params.challenge_window_epochs as i64 * params.epoch_secs
    );
    let signers: Vec<_> = job.signers().to_vec();
    let mut owed_before = Vec::new();
    for k in &signers {
        owed_before.push(h.fetch::<Node>(k).await.owed);
    }
    let closed = h
        .cli(&cranker, &["job", "close", &job_address.to_string()])
        .await
        .unwrap();
    assert_eq!(closed["closed"], true);
    assert_eq!(u(&closed, "signers_credited"), 3);
    assert_eq!(u(&closed, "validator_fee"), fee);
    assert!(!h.exists(&job_address).await);
    assert_eq!(
        h.fetch::<Node>(&miner.node).await.exposure,
        0,
        "closing releases the miner's exposure"
    );
    // The co-signers share the fee (the first takes the rounding), credited
    // to their nodes and withdrawn by their operators.
    let mut paid = 0;
    for (index, (k, owed)) in signers.iter().zip(&owed_before).enumerate() {
        let node: Node = h.fetch(k).await;
        let share = fee / 3 + if index == 0 { fee % 3 } else { 0 };
        assert_eq!(node.owed, owed + share);
        let v = committee.iter().find(|v| v.node == *k).expect("a member");
        let balance = h.balance(&v.operator.pubkey()).await;
        let w = h
            .cli(&v.operator.keypair, &["node", "withdraw-owed"])
            .await
            .unwrap();
        assert_eq!(u(&w, "withdrawn"), node.owed);
        assert_eq!(h.balance(&v.operator.pubkey()).await, balance + node.owed);
        paid += share;
    }
    assert_eq!(paid, fee);
}

/// The Token program's CloseAccount (tag 9): an emptied account, closed by its owner.
fn close_token_account(
    account: &anchor_lang::prelude::Pubkey,
    owner: &anchor_lang::prelude::Pubkey,
) -> solana_sdk::instruction::Instruction {
    solana_sdk::instruction::Instruction {
        program_id: anchor_spl::token::ID,
        accounts: vec![
            solana_sdk::instruction::AccountMeta::new(*account, false),
            solana_sdk::instruction::AccountMeta::new(*owner, false),
            solana_sdk::instruction::AccountMeta::new_readonly(*owner, true),
        ],
        data: vec![9],
    }
}

#[tokio::test]
async fn a_refund_the_client_account_cannot_take_is_claimed() {
    let h = Harness::new().await;
    let params = ProtocolParams::default();
    let client = h.wallet(2).await;
    h.cli(
        &client,
        &[
            "job",
            "submit",
            "--model",
            MODEL,
            "--input",
            "lost",
            "--max-fee",
            "2",
            "--job-id",
            "3",
        ],
    )
    .await
    .unwrap();
    let job_address = pda::job(&client.pubkey(), 3);
    // The client empties and closes the account its refund was to go to.
    let ata = h.ata(&client.pubkey());
    h.chain
        .send(&[close_token_account(&ata, &client.pubkey())], &client, &[])
        .await
        .unwrap();
    assert!(!h.exists(&ata).await);
    h.advance(params.sent_ttl_secs).await;
    let j: Job = h.fetch(&job_address).await;
    let payer = h.chain.payer().await;
    h.chain
        .send(
            &[verdict_sdk::instructions::expire_job(
                &job_address,
                None,
                &j.refund_account,
            )],
            &payer,
            &[],
        )
        .await
        .unwrap();
    let j: Job = h.fetch(&job_address).await;
    assert_eq!(j.status(), JobStatus::Expired);
    assert_eq!(j.client_owed, 2 * TOKEN);
    let status = h
        .cli(&client, &["job", "status", &job_address.to_string()])
        .await
        .unwrap();
    assert_eq!(u(&status, "client_owed"), 2 * TOKEN);

    // A job still owing its client does not close; only the client claims.
    let cranker = h.wallet(0).await;
    let err = h
        .cli(&cranker, &["job", "close", &job_address.to_string()])
        .await
        .unwrap_err();
    assert!(err.to_string().contains("claim-refund"), "{err}");
    let err = h
        .cli(&cranker, &["job", "claim-refund", &job_address.to_string()])
        .await
        .unwrap_err();
    assert!(err.to_string().contains("belongs to client"), "{err}");

    let refunded = h
        .cli(&client, &["job", "claim-refund", &job_address.to_string()])
        .await
        .unwrap();
    assert_eq!(u(&refunded, "refunded"), 2 * TOKEN);
    assert_eq!(u(&refunded, "client_owed"), 0);
    assert_eq!(s(&refunded, "destination"), ata.to_string());
    assert_eq!(h.balance(&client.pubkey()).await, 2 * TOKEN);
    h.cli(&cranker, &["job", "close", &job_address.to_string()])
        .await
        .unwrap();
    assert!(!h.exists(&job_address).await);
}

#[tokio::test]
async fn reputation_now_and_per_epoch_from_events() {
    let h = Harness::new().await;
    let params = ProtocolParams::default();
    let committee = h.committee(3).await;
    let miner = h.node("miner", 1_000).await;
    h.trial(&committee, &miner.node, true).await;
    let client = h.wallet(100).await;
    let node = miner.node.to_string();

    // Four epochs of jobs: (successes, failures) each; failures lower trust and success.
    let batches = [(6, 0), (3, 2), (1, 3), (5, 0)];
    let mut job_id = 0u64;
    for (index, (good, bad)) in batches.iter().enumerate() {
        if index > 0 {
            h.advance(params.epoch_secs).await;
        }
        h.cli(&miner.operator.keypair, &["node", "heartbeat"])
            .await
            .unwrap();
        for n in 0..good + bad {
            job_id += 1;
            let id = job_id.to_string();
            h.cli(
                &client,
                &[
                    "job",
                    "submit",
                    "--model",
                    MODEL,
                    "--input",
                    &id,
                    "--max-fee",
                    "1",
                    "--job-id",
                    &id,
                ],
            )
            .await
            .unwrap();
            let job = pda::job(&client.pubkey(), job_id);
            if n < *good {
                h.settle(
                    &committee,
                    &job,
                    &miner.node,
                    TOKEN / 2,
                    good_report(1, 150 + 20 * n as u32),
                )
                .await;
            } else {
                h.assign_and_fail(&committee, &job, &miner.node, TOKEN / 2)
                    .await;
            }
        }
    }

    let history = h
        .cli(&client, &["reputation", "--node", &node, "--history"])
        .await
        .unwrap();
    let epochs = history["epochs"].as_array().unwrap();
    assert_eq!(epochs.len(), 4, "{history:#}");
    assert_eq!(u(&history, "epoch_secs"), params.epoch_secs as u64);
    let numbers: Vec<u64> = epochs.iter().map(|e| u(e, "epoch")).collect();
    for pair in numbers.windows(2) {
        assert_eq!(pair[1], pair[0] + 1, "one epoch apart: {numbers:?}");
    }
    // Trial + 6 jobs + a heartbeat, then 5, 4 and 5 jobs, each with a heartbeat.
    let changes: Vec<u64> = epochs.iter().map(|e| u(e, "changes")).collect();
    assert_eq!(changes, vec![8, 6, 5, 6]);
    let trust: Vec<u64> = epochs.iter().map(|e| u(e, "trust_bps")).collect();
    let success: Vec<u64> = epochs.iter().map(|e| u(e, "success_bps")).collect();
    let jobs: Vec<u64> = epochs.iter().map(|e| u(e, "window_jobs")).collect();
    assert!(
        trust[0] > trust[1] && trust[1] > trust[2] && trust[3] > trust[2],
        "trust moves with failures: {trust:?}"
    );
    assert_eq!(success[0], 10_000);
    assert!(
        success[1] < success[0] && success[2] < success[1] && success[3] > success[2],
        "{success:?}"
    );
    assert_eq!(jobs, vec![6, 11, 15, 20]);
    for e in epochs {
        let at = i(e, "last_change_at");
        assert_eq!(u(e, "epoch"), (at / params.epoch_secs) as u64);
    }

    // The last epoch's figures are the node's on-chain state now.
    let on_chain: Node = h.fetch(&miner.node).await;
    let window = on_chain.reputation.window(&params);
    let last = epochs.last().unwrap();
    assert_eq!(u(last, "trust_bps"), on_chain.reputation.trust_bps as u64);
    assert_eq!(u(last, "reputation_bps"), window.composite_bps as u64);
    assert_eq!(u(last, "tier"), on_chain.reputation.tier(&params) as u64);

    let now = h
        .cli(&client, &["reputation", "--node", &node])
        .await
        .unwrap();
    assert_eq!(u(&now, "reputation_bps"), window.composite_bps as u64);
    assert_eq!(u(&now, "success_bps"), window.success_bps as u64);
    assert_eq!(u(&now, "sla_bps"), window.sla_bps as u64);
    assert_eq!(u(&now, "avg_latency_ms"), window.avg_response_ms as u64);
    assert_eq!(
        u(&now, "stake"),
        on_chain.self_stake + on_chain.delegation.amount
    );
    assert_eq!(i(&now, "last_updated"), i(last, "last_change_at"));

    // The seed's text layout, line by line.
    let text = h
        .cli_text(&client, &["reputation", "--node", &node])
        .await
        .unwrap();
    let labels: Vec<&str> = text
        .lines()
        .map(|l| l.split(": ").next().unwrap())
        .collect();
    assert_eq!(
        labels,
        [
            "Node",
            "Reputation",
            "Success Rate",
            "SLA",
            "Avg Latency",
            "Tier",
            "Stake",
            "Last Updated"
        ]
    );
    assert!(text.contains("Stake: 1000.000000000\n"), "{text}");
    assert!(
        text.contains(&format!("Avg Latency: {}ms\n", window.avg_response_ms)),
        "{text}"
    );
    let table = h
        .cli_text(&client, &["reputation", "--node", &node, "--history"])
        .await
        .unwrap();
    println!(
        "{text}\n{table}\n{}",
        h.cli_text(&client, &["node", "show", "--node", &node])
            .await
            .unwrap()
    );
    assert_eq!(
        table
            .lines()
            .filter(|l| l.starts_with(|c: char| c.is_ascii_digit()))
            .count(),
        4,
        "{table}"
    );
}

#[tokio::test]
async fn a_node_advertises_changes_and_clears_its_endpoint() {
    let h = Harness::new().await;
    let operator = h.wallet(3_000).await;
    let signing_key = solana_sdk::signature::Keypair::new();
    let key_file = h.keypair_file(&signing_key);
    let node_address = pda::node(&operator.pubkey());
    let endpoint = pda::endpoint(&node_address);

    // A URL that could leak a secret is refused before anything is sent.
    let err = h
        .cli(
            &operator,
            &[
                "node",
                "register",
                "--roles",
                "miner",
                "--model",
                MODEL,
                "--signing-keypair",
                &key_file,
                "--endpoint",
                "http://user:pw@10.0.0.5:8080",
            ],
        )
        .await
        .unwrap_err();
    assert_eq!(err.exit_code(), 2, "{err}");
    assert!(!h.exists(&node_address).await, "nothing sent");

    // Registered with its endpoint in the same transaction.
    let registered = h
        .cli(
            &operator,
            &[
                "node",
                "register",
                "--roles",
                "miner",
                "--model",
                MODEL,
                "--signing-keypair",
                &key_file,
                "--endpoint",
                "http://10.0.0.5:8080",
            ],
        )
        .await
        .unwrap();
    assert_eq!(registered["endpoint"], "http://10.0.0.5:8080");

    let moved = h
        .cli(
            &operator,
            &["node", "update", "--endpoint", "https://miner.example.org"],
        )
        .await
        .unwrap();
    assert_eq!(moved["endpoint"], "https://miner.example.org");
    let shown = h.cli(&operator, &["node", "show"]).await.unwrap();
    assert_eq!(shown["endpoint"], "https://miner.example.org");

    let cleared = h
        .cli(&operator, &["node", "update", "--clear-endpoint"])
        .await
        .unwrap();
    assert!(cleared["endpoint"].is_null());
    assert!(
        !h.exists(&endpoint).await,
        "its rent went back to the operator"
    );
    let again = h
        .cli(&operator, &["node", "update", "--clear-endpoint"])
        .await
        .unwrap_err();
    assert!(
        again.to_string().contains("advertises no endpoint"),
        "{again}"
    );

    // Closing the node closes its endpoint too.
    h.cli(
        &operator,
        &["node", "update", "--endpoint", "http://10.0.0.6:1"],
    )
    .await
    .unwrap();
    h.cli(&operator, &["node", "close"]).await.unwrap();
    assert!(!h.exists(&node_address).await && !h.exists(&endpoint).await);
}
