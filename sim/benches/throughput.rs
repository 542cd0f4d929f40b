//! Jobs simulated per second: a year of the default network (1,000 nodes,
//! 900 miners, 1,000 jobs an hour, 5% of miners cheating on 1% of their
//! jobs), each rule set timed three times. Prints a table.
//!
//!     cargo bench -p verdict-sim

use std::time::Instant;

use verdict_sim::miners::simulate_network;
use verdict_sim::{RuleSet, SimConfig};

fn main() {
    let cfg = SimConfig::default();
    println!(
        "{:<12} {:>7} {:>7} {:>12} {:>9} {:>14}",
        "rules", "nodes", "hours", "jobs", "best s", "jobs/s"
    );
    for rules in RuleSet::ALL {
        let mut best = f64::MAX;
        let mut jobs = 0;
        for _ in 0..3 {
            let started = Instant::now();
            jobs = simulate_network(&cfg, rules, 500);
            best = best.min(started.elapsed().as_secs_f64());
        }
        println!(
            "{:<12} {:>7} {:>7} {:>12} {:>9.2} {:>14.0}",
            rules.name(),
            cfg.nodes,
            cfg.hours,
            jobs,
            best,
            jobs as f64 / best
        );
    }
}
