//! Auction benchmark: how many rounds per second a keeper clears, and how
//! many jobs each round places, at 1,000 bidding miners. A round here is
//! the keeper's whole work once the bids are in: admitting every bid,
//! clearing (the signatures of the winning bids checked) and recording the
//! clearing prices. Collecting the bids over HTTP is excluded: it is bounded
//! by the round's window, not the keeper. At 1,000 jobs a round is mostly
//! the signature checks of the 1,000 winning bids (~50 µs each). Run with
//! `cargo bench -p verdict-keeper --bench auction` (release).

use std::collections::HashMap;
use std::time::Instant;

use anchor_lang::prelude::Pubkey;
use ed25519_dalek::SigningKey;
use keeper::core::auction::{admit, clear, ClearingBook, Lot, Offer, Round};
use verdict::state::{model_id, RiskLevel};
use verdict_models::TEST_PROJECTION_ID;
use verdict_wire::bid::Bid;
use verdict_wire::miner::{Digest32, JobId, MinerPubkey};

const MINERS: usize = 1_000;
/// Most lots one miner bids on in a round (it bids on all when fewer).
const BIDS_PER_MINER: usize = 50;

struct Xorshift(u64);

impl Xorshift {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0
    }
}

struct Bidder {
    key: SigningKey,
    pubkey: MinerPubkey,
    node: Pubkey,
    trust_bps: u32,
    capacity: u32,
    /// Its price as a share of a job's fee, in basis points.
    price_bps: u64,
}

fn bidders(rng: &mut Xorshift) -> Vec<Bidder> {
    (0..MINERS)
        .map(|i| {
            let mut seed = [0u8; 32];
            seed[..8].copy_from_slice(&(i as u64 + 1).to_le_bytes());
            let key = SigningKey::from_bytes(&seed);
            Bidder {
                pubkey: MinerPubkey(key.verifying_key().to_bytes()),
                node: Pubkey::new_from_array(seed),
                key,
                trust_bps: 2_000 + (rng.next() % 8_001) as u32,
                capacity: 1 + (rng.next() % 5) as u32,
                price_bps: 3_000 + rng.next() % 9_000,
            }
        })
        .collect()
}

fn percentile(sorted: &[f64], p: f64) -> f64 {
    sorted[((sorted.len() - 1) as f64 * p).round() as usize]
}

fn main() {
    // `cargo test` runs benches in test mode: stay quick.
    if std::env::args().any(|a| a == "--test" || a == "--list") {
        return;
    }
    let mut rng = Xorshift(0x9E37_79B9_7F4A_7C15);
    let miners = bidders(&mut rng);
    let node_of: HashMap<MinerPubkey, Pubkey> = miners.iter().map(|m| (m.pubkey, m.node)).collect();
    let trust: HashMap<Pubkey, u32> = miners.iter().map(|m| (m.node, m.trust_bps)).collect();
    let model = model_id(TEST_PROJECTION_ID).unwrap();
    println!("\n## Auction rounds at {MINERS} bidding miners (each bids on up to {BIDS_PER_MINER} of a round's jobs)\n");
    println!("| jobs per round | bids per round | round p50 | round p99 | rounds/s | jobs placed per round | unplaced |");
    println!("|---:|---:|---:|---:|---:|---:|---:|");
    let mut quotes: Vec<String> = Vec::new();
    for lots_per_round in [10usize, 100, 1_000] {
        let round_id = Digest32([lots_per_round as u8; 32]);
        let lots: Vec<Lot> = (0..lots_per_round)
            .map(|_| Lot {
                job: Pubkey::new_unique(),
                model,
                risk: RiskLevel::Low,
                max_fee: 1_000_000 + rng.next() % 9_000_000,
            })
            .collect();
        // Every miner's signed answers, prepared once (signing is the miners' work).
        let mut answers: Vec<(MinerPubkey, Bid)> = Vec::new();
        for m in &miners {
            let start = (rng.next() as usize) % lots_per_round;
            for k in 0..BIDS_PER_MINER.min(lots_per_round) {
                let lot = &lots[(start + k) % lots_per_round];
                let price = lot.max_fee * m.price_bps / 10_000;
                let bid = Bid::sign(
                    &m.key,
                    round_id,
                    JobId(lot.job.to_bytes()),
                    price,
                    120,
                    m.capacity,
                );
                answers.push((m.pubkey, bid));
            }
        }
        let round = Round::new(round_id, &lots, 60);
        let rounds = if lots_per_round >= 1_000 { 20 } else { 50 };
        let mut samples = Vec::with_capacity(rounds);
        let mut placed = 0;
        let mut unplaced = 0;
        let mut book = ClearingBook::new(256);
        for r in 0..rounds {
            let started = Instant::now();
            let offers: Vec<Offer> = answers
                .iter()
                .filter_map(|(asked, bid)| {
                    admit(bid, &round, asked, 30, |k| node_of.get(k).copied()).ok()
                })
                .collect();
            let seed = [r as u8; 32];
            let cleared = clear(
                &lots,
                &offers,
                |m, _| trust.get(m).copied(),
                |_| u32::MAX,
                &seed,
                30,
            );
            book.record(&lots, &cleared.awards);
            samples.push(started.elapsed().as_secs_f64() * 1e3);
            placed = cleared.awards.len();
            unplaced = cleared.unplaced.len();
        }
        samples.sort_by(f64::total_cmp);
        let p50 = percentile(&samples, 0.5);
        println!(
            "| {lots_per_round} | {} | {p50:.2} ms | {:.2} ms | {:.0} | {placed} | {unplaced} |",
            answers.len(),
            percentile(&samples, 0.99),
            1_000.0 / p50,
        );
        if let Some(q) = book.quote(&model, RiskLevel::Low) {
            quotes.push(format!(
                "- {lots_per_round} jobs per round: median {} (lowest {}, highest {}) over the last {} awards",
                q.median, q.lowest, q.highest, q.count
            ));
        }
    }
    println!("\nThe quote after the rounds (clearing prices, base units):\n");
    for line in quotes {
        println!("{line}");
    }
}
