//! Config life cycle: initialize, update within bounds, pause, two-step
//! authority handover, and every refusal on the way.
#![allow(deprecated)]

use anchor_lang::error::ErrorCode;
use solana_sdk::signature::Keypair;
use solana_sdk::signer::Signer;
use verdict::errors::VerdictError;
use verdict::state::{ProtocolParams, SlashingTable};
use verdict_sdk::events::VerdictEvent;
use verdict_sdk::{instructions as ix, pda};
use verdict_tests::*;

#[tokio::test]
async fn initialize_stores_every_default_and_creates_the_vault() {
    let mut f = Fixture::new().await;
    let cfg = f.config().await;
    assert_eq!(cfg.authority, f.authority.pubkey());
    assert_eq!(cfg.stake_mint, f.mint);
    assert_eq!(cfg.stake_vault, pda::stake_vault());
    assert_eq!(cfg.params, ProtocolParams::default());
    assert_eq!(cfg.slashing, SlashingTable::default());
    assert_eq!(cfg.slashing.collusion_bps, 10_000);
    assert_eq!(cfg.params.committee_size, 5);
    assert_eq!(cfg.params.committee_quorum, 3);
    assert!(!cfg.is_paused());
    assert_eq!(f.token_balance(&pda::stake_vault()).await, 0);
}

#[tokio::test]
async fn initialize_twice_is_refused() {
    let mut f = Fixture::new().await;
    let again = ix::initialize_config(
        &f.authority.pubkey(),
        &f.mint,
        None,
        Default::default(),
        Default::default(),
    );
    let authority = f.authority.insecure_clone();
    let result = f.send(&[again], &[&authority]).await;
    assert!(result.is_err(), "re-initialization must fail");
    assert_eq!(f.config().await.authority, authority.pubkey());
}

#[tokio::test]
async fn initialize_refuses_parameters_out_of_bounds() {
    let mut f = Fixture::bare().await;
    let authority = f.authority.insecure_clone();
    let cases = [
        (
            ProtocolParams {
                committee_quorum: 6,
                ..Default::default()
            },
            SlashingTable::default(),
        ),
        (
            ProtocolParams::default(),
            SlashingTable {
                downtime_bps: 10_001,
                ..Default::default()
            },
        ),
        // The strategy is stored as its discriminant: a byte no strategy has.
        (
            ProtocolParams {
                selection_strategy: verdict::state::SelectionStrategy::ALL.len() as u8,
                ..Default::default()
            },
            SlashingTable::default(),
        ),
    ];
    for (params, slashing) in cases {
        let bad = ix::initialize_config(&authority.pubkey(), &f.mint, None, params, slashing);
        assert_verdict_error(
            &f.send(&[bad], &[&authority]).await,
            VerdictError::InvalidParameter,
        );
    }
    assert!(!f.exists(&pda::config()).await);
}

#[tokio::test]
async fn initialize_refuses_a_wrong_program_account() {
    let mut f = Fixture::bare().await;
    let authority = f.authority.insecure_clone();
    let init = ix::initialize_config(
        &authority.pubkey(),
        &f.mint,
        None,
        Default::default(),
        Default::default(),
    );
    let fake = ix::replace_account(init, &verdict::ID, &anchor_spl::token::ID);
    assert_anchor_error(
        &f.send(&[fake], &[&authority]).await,
        ErrorCode::InvalidProgramId,
    );
}

#[tokio::test]
async fn update_config_by_authority_within_bounds() {
    let mut f = Fixture::new().await;
    let authority = f.authority.insecure_clone();
    let params = ProtocolParams {
        min_job_fee: 42,
        unbonding_secs: 10 * 86_400,
        ..Default::default()
    };
    let slashing = SlashingTable {
        downtime_bps: 500,
        ..Default::default()
    };
    let out = f
        .send(
            &[ix::update_config(&authority.pubkey(), params, slashing)],
            &[&authority],
        )
        .await
        .unwrap();
    assert!(out
        .events
        .iter()
        .any(|e| matches!(e, VerdictEvent::ConfigUpdated(u) if u.params.min_job_fee == 42)));
    let cfg = f.config().await;
    assert_eq!(cfg.params, params);
    assert_eq!(cfg.slashing, slashing);
}

#[tokio::test]
async fn update_config_refuses_wrong_authority() {
    let mut f = Fixture::new().await;
    let intruder = Keypair::new();
    f.airdrop(&intruder.pubkey()).await;
    let result = f
        .send(
            &[ix::update_config(
                &intruder.pubkey(),
                Default::default(),
                Default::default(),
            )],
            &[&intruder],
        )
        .await;
    assert_verdict_error(&result, VerdictError::Unauthorized);
}

#[tokio::test]
async fn update_config_refuses_unbonding_shorter_than_payout_delay_and_dispute() {
    let mut f = Fixture::new().await;
    let authority = f.authority.insecure_clone();
    let defaults = ProtocolParams::default();
    let params = ProtocolParams {
        unbonding_secs: defaults.min_unbonding_secs().unwrap(),
        ..defaults
    };
    let result = f
        .send(
            &[ix::update_config(
                &authority.pubkey(),
                params,
                Default::default(),
            )],
            &[&authority],
        )
        .await;
    assert_verdict_error(&result, VerdictError::UnbondingTooShort);
}

#[tokio::test]
async fn update_config_refuses_overflowing_durations() {
    let mut f = Fixture::new().await;
    let authority = f.authority.insecure_clone();
    let params = ProtocolParams {
        vote_reveal_secs: i64::MAX,
        ..Default::default()
    };
    let result = f
        .send(
            &[ix::update_config(
                &authority.pubkey(),
                params,
                Default::default(),
            )],
            &[&authority],
        )
        .await;
    assert_verdict_error(&result, VerdictError::MathOverflow);
}

#[tokio::test]
async fn pause_stops_value_moving_instructions_and_unpause_resumes() {
    let mut f = Fixture::new().await;
    let authority = f.authority.insecure_clone();
    let min = f.config().await.params.min_miner_stake;
    let miner = f.register(verdict::constants::ROLE_MINER, 2 * min).await;
    f.send(&[ix::set_paused(&authority.pubkey(), true)], &[&authority])
        .await
        .unwrap();
    assert!(f.config().await.is_paused());

    assert_verdict_error(&f.stake(&miner, min).await, VerdictError::Paused);
    let staker = f.user(10 * TOKEN).await;
    assert_verdict_error(
        &f.delegate(&staker, &miner.node, TOKEN).await,
        VerdictError::Paused,
    );
    let newcomer = f.user(0).await;
    let register = ix::register_node(
        &newcomer.pubkey(),
        &newcomer.pubkey(),
        &f.mint,
        1,
        vec![],
        0,
    );
    assert_verdict_error(
        &f.send(&[register], &[&newcomer.keypair]).await,
        VerdictError::Paused,
    );
    // Rewards wait too (checked before anything owed is looked at).
    assert_verdict_error(
        &f.send(&[ix::compound_rewards(&miner.node)], &[]).await,
        VerdictError::Paused,
    );
    let claim_boost = ix::claim_boost(&miner.node, &miner.operator.tokens);
    assert_verdict_error(&f.send(&[claim_boost], &[]).await, VerdictError::Paused);

    f.send(&[ix::set_paused(&authority.pubkey(), false)], &[&authority])
        .await
        .unwrap();
    f.stake(&miner, min).await.unwrap();
}

#[tokio::test]
async fn set_paused_refuses_wrong_authority() {
    let mut f = Fixture::new().await;
    let intruder = Keypair::new();
    f.airdrop(&intruder.pubkey()).await;
    let result = f
        .send(&[ix::set_paused(&intruder.pubkey(), true)], &[&intruder])
        .await;
    assert_verdict_error(&result, VerdictError::Unauthorized);
    assert!(!f.config().await.is_paused());
}

#[tokio::test]
async fn authority_handover_takes_two_steps() {
    let mut f = Fixture::new().await;
    let old = f.authority.insecure_clone();
    let new = Keypair::new();
    f.airdrop(&new.pubkey()).await;

    // Accepting before any proposal is refused.
    assert_verdict_error(
        &f.send(&[ix::accept_authority(&new.pubkey())], &[&new])
            .await,
        VerdictError::NoPendingAuthority,
    );
    f.send(
        &[ix::propose_authority(&old.pubkey(), &new.pubkey())],
        &[&old],
    )
    .await
    .unwrap();
    assert_eq!(
        f.config().await.authority,
        old.pubkey(),
        "a proposal alone changes nothing"
    );

    // Someone else cannot accept in the proposed key's place.
    let intruder = Keypair::new();
    f.airdrop(&intruder.pubkey()).await;
    assert_verdict_error(
        &f.send(&[ix::accept_authority(&intruder.pubkey())], &[&intruder])
            .await,
        VerdictError::NoPendingAuthority,
    );

    f.send(&[ix::accept_authority(&new.pubkey())], &[&new])
        .await
        .unwrap();
    let cfg = f.config().await;
    assert_eq!(cfg.authority, new.pubkey());
    assert_eq!(cfg.pending_authority, Default::default());

    // The old authority lost its powers.
    assert_verdict_error(
        &f.send(&[ix::set_paused(&old.pubkey(), true)], &[&old])
            .await,
        VerdictError::Unauthorized,
    );
}

#[tokio::test]
async fn propose_authority_refuses_non_authority_and_can_be_cancelled() {
    let mut f = Fixture::new().await;
    let authority = f.authority.insecure_clone();
    let intruder = Keypair::new();
    f.airdrop(&intruder.pubkey()).await;
    assert_verdict_error(
        &f.send(
            &[ix::propose_authority(
                &intruder.pubkey(),
                &intruder.pubkey(),
            )],
            &[&intruder],
        )
        .await,
        VerdictError::Unauthorized,
    );
    let next = Keypair::new();
    f.airdrop(&next.pubkey()).await;
    f.send(
        &[ix::propose_authority(&authority.pubkey(), &next.pubkey())],
        &[&authority],
    )
    .await
    .unwrap();
    f.send(
        &[ix::propose_authority(
            &authority.pubkey(),
            &Default::default(),
        )],
        &[&authority],
    )
    .await
    .unwrap();
    assert_verdict_error(
        &f.send(&[ix::accept_authority(&next.pubkey())], &[&next])
            .await,
        VerdictError::NoPendingAuthority,
    );
}

#[tokio::test]
async fn missing_signature_is_refused() {
    let mut f = Fixture::new().await;
    let authority = f.authority.pubkey();
    let mut pause = ix::set_paused(&authority, true);
    pause.accounts[0].is_signer = false;
    assert_anchor_error(&f.send(&[pause], &[]).await, ErrorCode::AccountNotSigner);
}

#[tokio::test]
async fn a_fake_config_at_another_address_is_refused() {
    let mut f = Fixture::new().await;
    let authority = f.authority.insecure_clone();
    // Another program-owned account of the right type does not exist, so
    // pointing at the stake vault (a token account) must fail ownership.
    let pause = ix::replace_account(
        ix::set_paused(&authority.pubkey(), true),
        &pda::config(),
        &pda::stake_vault(),
    );
    assert_anchor_error(
        &f.send(&[pause], &[&authority]).await,
        ErrorCode::AccountOwnedByWrongProgram,
    );
}

#[tokio::test]
async fn the_migration_initializes_once_then_reports_the_existing_config() {
    use verdict_sdk::deploy::{plan, DeployStep};
    let mut f = Fixture::bare().await;
    let authority = f.authority.insecure_clone();
    let DeployStep::Initialize(init) = plan(&f, &authority.pubkey(), &f.mint, false).await.unwrap()
    else {
        panic!("a fresh deployment needs initializing");
    };
    f.send(&[*init], &[&authority]).await.unwrap();
    match plan(&f, &authority.pubkey(), &f.mint, false).await.unwrap() {
        DeployStep::AlreadyInitialized(cfg) => assert_eq!(cfg.authority, authority.pubkey()),
        other => panic!("expected the existing config, got {other:?}"),
    }
}
