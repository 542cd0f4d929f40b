//! The committee draw at scale: 1,000 validators enter, no transaction names
//! more than a sweep batch of them, and the committee is seated only after
//! the last one is swept. Also prints the sweep's cost per entrant.

use anchor_lang::prelude::Pubkey;
use verdict::constants::ROLE_VALIDATOR;
use verdict::errors::VerdictError;
use verdict::state::SelectionStrategy;
use verdict_sdk::draw::SWEEP_BATCH;
use verdict_sdk::events::VerdictEvent;
use verdict_sdk::instructions as ix;
use verdict_tests::*;

const VALIDATORS: usize = 1_000;

#[tokio::test]
async fn a_thousand_validators_are_drawn_in_batches_and_none_can_be_left_out() {
    let params = verdict::state::ProtocolParams {
        selection_strategy: SelectionStrategy::Weighted as u8,
        ..Default::default()
    };
    let mut f = Fixture::with_params(params).await;
    // Invariants are checked once at the end: after every one of ~6,000
    // set-up transactions they would cost O(n²).
    f.check_each_transaction = false;
    let min = params.min_validator_stake;
    let mut nodes = Vec::with_capacity(VALIDATORS);
    for i in 0..VALIDATORS {
        // Stakes from 1× to 4× the minimum, so weights differ.
        let stake = min + (i as u64 % 4) * min;
        let h = f.register(ROLE_VALIDATOR, stake).await;
        f.stake(&h, stake).await.unwrap();
        f.enter_draw(&h).await.unwrap();
        nodes.push(h.node);
    }
    assert_eq!(f.committee().await.draw.entrants, VALIDATORS as u32);
    f.send(&[ix::request_committee_draw()], &[]).await.unwrap();
    f.seed_draw().await.unwrap();

    // Everyone but one straggler is swept, in shuffled batches.
    let straggler = nodes[VALIDATORS / 2];
    let mut order: Vec<Pubkey> = nodes.iter().copied().filter(|n| *n != straggler).collect();
    order.sort_by_key(|n| n.to_bytes()[7]);
    let mut most_units = 0;
    for batch in order.chunks(SWEEP_BATCH) {
        let out = f
            .send(&[ix::sweep_committee_draw(batch)], &[])
            .await
            .unwrap();
        most_units = most_units.max(out.compute_units);
    }
    // Not seated: the straggler is still owed its sweep, and a second sweep
    // of anyone else is refused, so nobody can be skipped or counted twice.
    assert_eq!(f.committee().await.epoch, 0);
    assert_verdict_error(
        &f.send(&[ix::sweep_committee_draw(&order[..1])], &[]).await,
        VerdictError::AlreadySwept,
    );
    let out = f
        .send(&[ix::sweep_committee_draw(&[straggler])], &[])
        .await
        .unwrap();
    assert!(out
        .events
        .iter()
        .any(|e| matches!(e, VerdictEvent::CommitteeRotated(r) if r.epoch == 1)));
    let c = f.committee().await;
    assert_eq!((c.epoch, c.size as u8), (1, params.committee_size));
    for m in c.members() {
        assert!(nodes.contains(m));
    }
    f.check_invariants().await;
    println!(
        "{VALIDATORS} entrants swept in {} transactions of at most {SWEEP_BATCH}; \
         the costliest used {most_units} CU",
        VALIDATORS.div_ceil(SWEEP_BATCH)
    );
}
