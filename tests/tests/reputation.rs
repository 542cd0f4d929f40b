//! The seed's divergence, on chain: over 1,000 jobs each, miners that err
//! 0%, 5% and 30% of the time end with clearly separated trust and tiers.
#![allow(deprecated)]

use verdict::state::{FailReason, RiskLevel};
use verdict_tests::*;

#[tokio::test]
async fn miners_that_err_more_fall_behind_in_trust_and_tier() {
    const JOBS: u64 = 1_000;
    let mut f = Fixture::new().await;
    let committee = f.committee_of(5).await;
    let params = f.config().await.params;
    let rates = [0u64, 5, 30];
    let mut miners = Vec::new();
    for _ in rates {
        miners.push(f.warm_miner(&committee, params.min_miner_stake).await);
    }
    let client = f.user(3 * JOBS * TOKEN).await;
    for _ in 0..3 {
        f.airdrop(&client.pubkey()).await; // rent for 3,000 job and escrow accounts
    }
    // Thousands of transactions: check the accounting at the end, not after each.
    f.check_each_transaction = false;
    let mut job_id = 0;
    for i in 0..JOBS {
        for (miner, rate) in miners.iter().zip(rates) {
            job_id += 1;
            let (r, job) = f.submit_job(&client, job_id, RiskLevel::Low, TOKEN).await;
            r.unwrap_or_else(|e| panic!("job {job_id}: {e}"));
            // Errors spread evenly: job i is a mistake when it crosses a multiple of 100/rate.
            let mistake = rate > 0 && (i * rate) / 100 != ((i + 1) * rate) / 100;
            if mistake {
                f.assign(&committee, &job, &miner.node, TOKEN)
                    .await
                    .unwrap();
                f.fail(&committee, &job, FailReason::InvalidOutput)
                    .await
                    .unwrap();
            } else {
                f.settle(&committee, &job, &miner.node, TOKEN, good_report(1))
                    .await
                    .unwrap();
            }
        }
    }
    f.check_invariants().await;

    let mut summary = Vec::new();
    for (miner, rate) in miners.iter().zip(rates) {
        let n = f.node(&miner.node).await;
        let w = n.reputation.window(&params);
        summary.push((
            rate,
            n.reputation.trust_bps,
            w.composite_bps,
            n.reputation.tier(&params),
        ));
        println!(
            "error rate {rate:>2}%: trust {:>9.4}, composite {:.4}, success {:.3}, tier {}",
            n.reputation.trust_bps as f64 / 10_000.0,
            w.composite_bps as f64 / 10_000.0,
            w.success_bps as f64 / 10_000.0,
            n.reputation.tier(&params)
        );
    }
    let (t0, t5, t30) = (summary[0].1, summary[1].1, summary[2].1);
    assert_eq!(
        t0, params.trust_cap_bps,
        "the reliable miner reaches the cap"
    );
    assert!(t5 < t0 / 100, "5% errors: far behind ({t5} vs {t0})");
    assert!(
        t30 < t5 / 100 || t30 <= 1,
        "30% errors: far behind again ({t30} vs {t5})"
    );
    assert_eq!(
        (summary[0].3, summary[1].3, summary[2].3),
        (1, 2, 3),
        "tiers separate 1 / 2 / 3"
    );
    assert!(
        summary[2].2 <= params.rate_limit_bps,
        "30% errors is rate limited"
    );
}
