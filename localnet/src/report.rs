//! The final report of a local network run: a summary table, the latency
//! statistics, every node's standing, incomes and losses, every dispute
//! (candidates, weights, turnout, voters), token conservation, and two PNG
//! plots — miners' trust over their jobs (each answer judged against a
//! reference run of the model, replayed at Rew = 1.01 and 1.05 with the
//! program's own trust update, the rule in docs/PROTOCOL.md) and the latency
//! distributions.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use plotters::prelude::*;
use serde::Serialize;
use verdict::state::{ProtocolParams, Reputation};

use crate::market::{market_table, plot_market, Sale};
use crate::stats::{generation_table, latency_table, stats, GenerationRow, Timing};

/// Where the plots' font comes from (Debian's fonts-dejavu-core; setup installs it).
pub const FONT_PATH: &str = "/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf";

#[derive(Debug, thiserror::Error)]
pub enum ReportError {
    #[error("font {FONT_PATH} missing: run `bash scripts/setup.sh` (installs fonts-dejavu-core)")]
    FontMissing,
    #[error("writing the report: {0}")]
    Io(#[from] std::io::Error),
    #[error("drawing a plot: {0}")]
    Plot(String),
}

/// A miner's job outcomes in order: true = a right answer the chain
/// accepted; false = a failed or expired attempt, or an accepted answer the
/// reference run contradicts.
#[derive(Clone, Debug, Serialize)]
pub struct MinerRecord {
    pub name: String,
    pub outcomes: Vec<bool>,
    /// Accepted answers the reference run contradicts.
    pub wrong_accepted: u64,
}

/// One node's incomes and losses over the run, in tokens.
#[derive(Clone, Copy, Debug, Default, PartialEq, Serialize)]
pub struct Income {
    /// Claimed job payouts: the operator's part and the delegators'.
    pub payouts: f64,
    /// Tier 1 boosts credited with the payouts (owed by the reward pool).
    pub boosts: f64,
    /// Co-signers' share of closed jobs' prices.
    pub validator_fees: f64,
    /// Correct voters' shares of dispute pools.
    pub dispute_rewards: f64,
    /// Paid to a miner whose dispute ended unresolved.
    pub unresolved_fees: f64,
    /// A challenger's bonds credited back (its own money: not income).
    pub bonds_returned: f64,
    /// A challenger's bonds forfeited (upheld outcome) or cut by the unresolved fee.
    pub bonds_lost: f64,
    /// Vote deposits of commits never revealed.
    pub deposits_lost: f64,
    pub slashed: f64,
    pub liquidated: f64,
}

impl Income {
    /// Gains less losses (a returned bond is neither).
    pub fn net(&self) -> f64 {
        self.payouts
            + self.boosts
            + self.validator_fees
            + self.dispute_rewards
            + self.unresolved_fees
            - self.bonds_lost
            - self.deposits_lost
            - self.slashed
            - self.liquidated
    }
}

/// One vote in a dispute.
#[derive(Clone, Debug, Serialize)]
pub struct VoterRow {
    pub name: String,
    pub weight: u64,
    /// "disputed output", "challenger's result", "another result", or "not revealed".
    pub vote: String,
}

/// What a dispute moved, in tokens (zero while it is still voting).
#[derive(Clone, Debug, Default, Serialize)]
pub struct SettlementRow {
    /// The challenger's bond less what came back of it.
    pub challenger_lost: f64,
    pub bond_returned: f64,
    /// The unresolved fee credited to the miner.
    pub miner_credited: f64,
    /// Unrevealed vote deposits forfeited.
    pub deposits_forfeited: f64,
    /// Liquidated nodes and the stake each lost.
    pub liquidated: Vec<(String, f64)>,
    /// Correct voters and the reward each claimed.
    pub rewards: Vec<(String, f64)>,
}

/// One dispute as it ended.
#[derive(Clone, Debug, Serialize)]
pub struct DisputeRow {
    /// Why it was opened: "audit" (a keeper's re-run disagreed) or
    /// "griefing" (a bogus challenge of a correct answer).
    pub kind: String,
    pub dispute: String,
    pub miner: String,
    pub challenger: String,
    pub status: String,
    /// The two candidates' hashes (hex): the output the committee attested,
    /// and the result the challenger recomputed.
    pub disputed_output: String,
    pub challenger_result: String,
    /// Which candidate stands ("disputed output" or "challenger's result"), if any.
    pub standing: Option<String>,
    pub bond: f64,
    /// The standing candidate's weight and everything against it (each with its candidate's unit).
    pub n: u64,
    pub m: u64,
    /// Revealed weight against the active weight at opening, and the quorum in bps.
    pub turnout: u64,
    pub active_weight: u64,
    pub quorum_bps: u16,
    pub voters: Vec<VoterRow>,
    pub settlement: SettlementRow,
}

/// One node's standing at the end of the run.
#[derive(Clone, Debug, Default, Serialize)]
pub struct NodeRow {
    pub name: String,
    pub role: String,
    /// Miners only: trust R, composite score, tier.
    pub trust: Option<f64>,
    pub composite: Option<f64>,
    pub tier: Option<u8>,
    /// Validators only: the validator score (0–100).
    pub score: Option<u8>,
    pub stake: f64,
    pub earnings: f64,
    pub slashed: f64,
    pub status: String,
    /// Miners only: answers the chain accepted that the reference contradicts.
    pub wrong_answers: Option<u64>,
    /// Miners: answers the chain accepted; validators: outcomes co-signed.
    pub jobs_served: u64,
    /// Miners: attempts the chain failed on them (timeouts, dropped
    /// connections, invalid answers).
    pub jobs_failed: u64,
    pub income: Income,
}

#[derive(Clone, Debug, Serialize)]
pub struct ReportInput {
    pub jobs_by_outcome: BTreeMap<String, u64>,
    /// Each job the client was not served: its outcome on chain and what
    /// the keepers told the client, one line each.
    pub unserved: Vec<String>,
    pub timings: Vec<Timing>,
    /// Every accepted answer and the price the chain paid for it.
    pub sales: Vec<Sale>,
    /// Tokens per second of each miner's generative answers.
    pub generation: Vec<GenerationRow>,
    pub miners: Vec<MinerRecord>,
    pub nodes: Vec<NodeRow>,
    /// Slashes and liquidations, one line each.
    pub penalties: Vec<String>,
    pub disputes: Vec<DisputeRow>,
    /// The accounting invariants' verdict: empty when every token is accounted for.
    pub conservation_violations: Vec<String>,
    pub seconds: f64,
}

/// Trust after each job, replayed with the program's own update at `reward_bps`.
pub fn replay_trust(outcomes: &[bool], reward_bps: u16) -> Vec<f64> {
    let params = ProtocolParams {
        reward_bps,
        ..ProtocolParams::default()
    };
    let mut rep = Reputation::new(0);
    rep.trust_bps = params.trial_baseline_trust_bps;
    let mut out = Vec::with_capacity(outcomes.len() + 1);
    out.push(rep.trust_bps as f64 / 10_000.0);
    for &ok in outcomes {
        rep.update_trust(!ok, &params);
        out.push(rep.trust_bps as f64 / 10_000.0);
    }
    out
}

pub(crate) fn ensure_font() -> Result<(), ReportError> {
    static FONT: std::sync::OnceLock<bool> = std::sync::OnceLock::new();
    let ok = *FONT.get_or_init(|| match std::fs::read(FONT_PATH) {
        Ok(bytes) => {
            let bytes: &'static [u8] = Box::leak(bytes.into_boxed_slice());
            plotters::style::register_font("sans-serif", FontStyle::Normal, bytes).is_ok()
        }
        Err(_) => false,
    });
    if ok {
        Ok(())
    } else {
        Err(ReportError::FontMissing)
    }
}

pub(crate) fn plot_err<E: std::fmt::Display>(e: E) -> ReportError {
    ReportError::Plot(e.to_string())
}

pub(crate) const COLORS: [RGBColor; 8] = [
    RGBColor(31, 119, 180),
    RGBColor(255, 127, 14),
    RGBColor(44, 160, 44),
    RGBColor(214, 39, 40),
    RGBColor(148, 103, 189),
    RGBColor(140, 86, 75),
    RGBColor(227, 119, 194),
    RGBColor(127, 127, 127),
];

/// Two panels, Rew = 1.01 and 1.05: each miner's trust (log scale) over its jobs.
pub fn plot_trust(path: &Path, miners: &[MinerRecord]) -> Result<(), ReportError> {
    ensure_font()?;
    let root = BitMapBackend::new(path, (1400, 560)).into_drawing_area();
    root.fill(&WHITE).map_err(plot_err)?;
    let panels = root.split_evenly((1, 2));
    for (area, reward_bps) in panels.iter().zip([10_100u16, 10_500]) {
        let series: Vec<(String, Vec<f64>)> = miners
            .iter()
            .map(|m| (m.name.clone(), replay_trust(&m.outcomes, reward_bps)))
            .collect();
        let jobs = series
            .iter()
            .map(|(_, s)| s.len())
            .max()
            .unwrap_or(1)
            .max(2);
        // Fitted to the data (with 1.0 in view): the separation fills the panel.
        let top = series
            .iter()
            .flat_map(|(_, s)| s.iter().copied())
            .fold(1.0f64, f64::max)
            * 1.5;
        let bottom = series
            .iter()
            .flat_map(|(_, s)| s.iter().copied())
            .fold(1.0f64, f64::min)
            .max(1e-4)
            / 1.5;
        let mut chart = ChartBuilder::on(area)
            .caption(
                format!(
                    "Miner trust over jobs, Rew = {:.2}",
                    reward_bps as f64 / 10_000.0
                ),
                ("sans-serif", 22),
            )
            .margin(12)
            .x_label_area_size(40)
            .y_label_area_size(60)
            .build_cartesian_2d(0usize..jobs, (bottom..top).log_scale())
            .map_err(plot_err)?;
        chart
            .configure_mesh()
            .x_desc("jobs served (each answer judged against the reference run)")
            .y_desc("trust R (log scale)")
            .label_style(("sans-serif", 14))
            .draw()
            .map_err(plot_err)?;
        // Miners that never fail share one curve: each curve ends in a dot,
        // so every miner stays visible.
        for (i, (name, points)) in series.iter().enumerate() {
            let color = COLORS[i % COLORS.len()];
            let line = points.iter().enumerate().map(|(x, y)| (x, y.max(bottom)));
            chart
                .draw_series(LineSeries::new(line, color.stroke_width(2)))
                .map_err(plot_err)?
                .label(name.clone())
                .legend(move |(x, y)| {
                    PathElement::new(vec![(x, y), (x + 18, y)], color.stroke_width(2))
                });
            if let Some(&last) = points.last() {
                chart
                    .draw_series(std::iter::once(Circle::new(
                        (points.len() - 1, last.max(bottom)),
                        4,
                        color.filled(),
                    )))
                    .map_err(plot_err)?;
            }
        }
        chart
            .configure_series_labels()
            .background_style(WHITE.mix(0.85))
            .border_style(BLACK)
            .label_font(("sans-serif", 14))
            .position(SeriesLabelPosition::LowerLeft)
            .draw()
            .map_err(plot_err)?;
    }
    root.present().map_err(plot_err)?;
    Ok(())
}

/// Three histograms: response, loading and inference time.
pub fn plot_latency(path: &Path, timings: &[Timing]) -> Result<(), ReportError> {
    ensure_font()?;
    let root = BitMapBackend::new(path, (1500, 480)).into_drawing_area();
    root.fill(&WHITE).map_err(plot_err)?;
    type Column = (&'static str, fn(&Timing) -> f64);
    let columns: [Column; 3] = [
        ("Response time (ms)", |t| t.response_ms),
        ("Loading time (ms)", |t| t.load_ms),
        ("Inference time (ms)", |t| t.inference_ms),
    ];
    for (area, (title, pick)) in root.split_evenly((1, 3)).iter().zip(columns) {
        let values: Vec<f64> = timings.iter().map(pick).collect();
        let s = stats(&values);
        let buckets = 30usize;
        // A column of one value (every load 0 ms) still gets a readable axis: 1 ms buckets.
        let width = if s.max > s.min {
            (s.max - s.min) / buckets as f64
        } else {
            1.0
        };
        let mut counts = vec![0u32; buckets];
        for v in &values {
            counts[(((v - s.min) / width) as usize).min(buckets - 1)] += 1;
        }
        let peak = counts.iter().copied().max().unwrap_or(1).max(1);
        let mut chart = ChartBuilder::on(area)
            .caption(title, ("sans-serif", 20))
            .margin(12)
            .x_label_area_size(36)
            .y_label_area_size(50)
            .build_cartesian_2d(
                s.min..(s.min + width * buckets as f64),
                0u32..peak + peak / 10 + 1,
            )
            .map_err(plot_err)?;
        chart
            .configure_mesh()
            .y_desc("responses")
            .label_style(("sans-serif", 13))
            .draw()
            .map_err(plot_err)?;
        chart
            .draw_series(counts.iter().enumerate().map(|(i, &c)| {
                let x0 = s.min + i as f64 * width;
                Rectangle::new([(x0, 0), (x0 + width, c)], COLORS[0].filled())
            }))
            .map_err(plot_err)?;
    }
    root.present().map_err(plot_err)?;
    Ok(())
}

/// Every node's incomes and losses, in tokens.
pub fn income_table(nodes: &[NodeRow]) -> String {
    let mut s = String::from(
        "\nIncome and losses per node (tokens; jobs: answers accepted, or outcomes co-signed)\n",
    );
    s += &format!(
        "{:<26} {:>5} {:>10} {:>8} {:>9} {:>9} {:>9} {:>10} {:>10} {:>9} {:>10} {:>11} {:>11}\n",
        "node",
        "jobs",
        "payouts",
        "boosts",
        "val. fees",
        "rewards",
        "unres.fee",
        "bonds back",
        "bonds lost",
        "dep. lost",
        "slashed",
        "liquidated",
        "net"
    );
    for n in nodes {
        let i = &n.income;
        s += &format!(
            "{:<26} {:>5} {:>10.4} {:>8.4} {:>9.4} {:>9.3} {:>9.3} {:>10.3} {:>10.3} {:>9.3} {:>10.3} {:>11.3} {:>11.4}\n",
            n.name,
            n.jobs_served,
            i.payouts,
            i.boosts,
            i.validator_fees,
            i.dispute_rewards,
            i.unresolved_fees,
            i.bonds_returned,
            i.bonds_lost,
            i.deposits_lost,
            i.slashed,
            i.liquidated,
            i.net()
        );
    }
    s
}

/// Each dispute: status, candidates, weights, turnout and voters.
pub fn disputes_section(disputes: &[DisputeRow]) -> String {
    let mut s = String::from("\nDisputes\n");
    if disputes.is_empty() {
        s += "  none\n";
    }
    for d in disputes {
        s += &format!(
            "  {} ({}) over a job of {}, challenged by {} (bond {:.3}): {}\n",
            d.dispute, d.kind, d.miner, d.challenger, d.bond, d.status
        );
        s += &format!(
            "    candidates: disputed output {}…, challenger's result {}…; standing: {}\n",
            &d.disputed_output[..16.min(d.disputed_output.len())],
            &d.challenger_result[..16.min(d.challenger_result.len())],
            d.standing.as_deref().unwrap_or("neither")
        );
        let share = if d.active_weight == 0 {
            0.0
        } else {
            100.0 * d.turnout as f64 / d.active_weight as f64
        };
        s += &format!(
            "    weights: n = {}, m = {}; turnout {} of {} active weight ({share:.1}%, quorum {:.0}%)\n",
            d.n,
            d.m,
            d.turnout,
            d.active_weight,
            d.quorum_bps as f64 / 100.0
        );
        let voters: Vec<String> = d
            .voters
            .iter()
            .map(|v| format!("{} ({}, {})", v.name, v.weight, v.vote))
            .collect();
        s += &format!(
            "    voters: {}\n",
            if voters.is_empty() {
                "none".into()
            } else {
                voters.join(", ")
            }
        );
        if d.status != "Voting" {
            let t = &d.settlement;
            let list = |items: &[(String, f64)]| {
                if items.is_empty() {
                    "none".to_string()
                } else {
                    items
                        .iter()
                        .map(|(name, amount)| format!("{name} {amount:.3}"))
                        .collect::<Vec<_>>()
                        .join(", ")
                }
            };
            s += &format!(
                "    settlement: {} lost {:.3} of its {:.3} bond ({:.3} back); {} credited {:.3}; deposits forfeited {:.3}\n",
                d.challenger, t.challenger_lost, d.bond, t.bond_returned, d.miner, t.miner_credited, t.deposits_forfeited
            );
            s += &format!(
                "    liquidated: {}; voters' rewards: {}\n",
                list(&t.liquidated),
                list(&t.rewards)
            );
        }
    }
    s
}

/// The report's plots, as written into its folder.
pub const PLOTS: [&str; 3] = ["trust.png", "latency.png", "market.png"];
/// Every file of the report: the summary (Markdown, JSON) and the plots.
pub const FILES: [&str; 5] = ["report.md", "report.json", PLOTS[0], PLOTS[1], PLOTS[2]];

/// What was written, and the text summary shown on screen.
pub struct Written {
    pub dir: PathBuf,
    pub summary: String,
}

/// Writes `report.md`, `report.json`, `trust.png`, `latency.png` and
/// `market.png` into `dir`.
pub fn write_report(dir: &Path, input: &ReportInput) -> Result<Written, ReportError> {
    std::fs::create_dir_all(dir)?;
    let [trust, latency, market] = PLOTS;
    plot_trust(&dir.join(trust), &input.miners)?;
    plot_latency(&dir.join(latency), &input.timings)?;
    plot_market(&dir.join(market), &input.sales, &input.nodes)?;
    std::fs::write(
        dir.join("report.json"),
        serde_json::to_string_pretty(input).map_err(plot_err)?,
    )?;

    let mut s = String::new();
    s += &format!(
        "Verdict local network — {:.1} s\n\nJobs by outcome\n",
        input.seconds
    );
    for (outcome, count) in &input.jobs_by_outcome {
        s += &format!("  {outcome:<20} {count:>6}\n");
    }
    if !input.unserved.is_empty() {
        s += "\nJobs the client was not served\n";
        for line in &input.unserved {
            s += &format!("  {line}\n");
        }
    }
    s += "\n";
    s += &latency_table(&input.timings);
    s += &generation_table(&input.generation);
    s += &format!(
        "\n{:<26} {:<10} {:>10} {:>9} {:>4} {:>5} {:>5} {:>6} {:>6} {:>14} {:>12} {:>12} {:<10}\n",
        "node",
        "role",
        "trust",
        "composite",
        "tier",
        "score",
        "jobs",
        "failed",
        "wrong",
        "stake",
        "earnings",
        "slashed",
        "status"
    );
    // A column that does not apply to the node's role shows a dash.
    fn cell<T: std::fmt::Display>(v: Option<T>, precision: usize) -> String {
        v.map_or("-".into(), |v| format!("{v:.precision$}"))
    }
    for n in &input.nodes {
        s += &format!(
            "{:<26} {:<10} {:>10} {:>9} {:>4} {:>5} {:>5} {:>6} {:>6} {:>14.3} {:>12.3} {:>12.3} {:<10}\n",
            n.name,
            n.role,
            cell(n.trust, 4),
            cell(n.composite, 3),
            cell(n.tier, 0),
            cell(n.score, 0),
            n.jobs_served,
            cell(n.trust.map(|_| n.jobs_failed), 0),
            cell(n.wrong_answers, 0),
            n.stake,
            n.earnings,
            n.slashed,
            n.status
        );
    }
    s += &income_table(&input.nodes);
    s += &market_table(&input.sales, &input.nodes);
    s += "\nSlashes and liquidations\n";
    if input.penalties.is_empty() {
        s += "  none\n";
    }
    for p in &input.penalties {
        s += &format!("  {p}\n");
    }
    s += &disputes_section(&input.disputes);
    s += "\nToken conservation: ";
    if input.conservation_violations.is_empty() {
        s += "every token accounted for (stake vault = totals, escrows = owed, vaults and dispute pools match)\n";
    } else {
        s += &format!(
            "VIOLATED\n  {}\n",
            input.conservation_violations.join("\n  ")
        );
    }
    let markdown = format!(
        "# Verdict local network report\n\n```text\n{s}```\n\n![Miner trust over jobs]({trust})\n\n![Latency distributions]({latency})\n\n![Price per job and each miner's share]({market})\n"
    );
    std::fs::write(dir.join("report.md"), markdown)?;
    Ok(Written {
        dir: dir.to_path_buf(),
        summary: s,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn outcomes(error_percent: u64, jobs: u64) -> Vec<bool> {
        (0..jobs)
            .map(|i| {
                !(error_percent > 0 && (i * error_percent) / 100 != ((i + 1) * error_percent) / 100)
            })
            .collect()
    }

    #[test]
    fn replay_uses_the_programs_update_and_higher_rew_recovers_faster() {
        let slow = replay_trust(&outcomes(5, 400), 10_100);
        let fast = replay_trust(&outcomes(5, 400), 10_500);
        assert_eq!(slow[0], 1.0);
        assert!((slow[1] - 1.01).abs() < 1e-9);
        assert!(fast.last().unwrap() > slow.last().unwrap());
        let poor = replay_trust(&outcomes(30, 400), 10_100);
        assert!(poor.last().unwrap() < &0.01 && slow.last().unwrap() > poor.last().unwrap());
    }

    #[test]
    fn writes_the_report_and_both_plots() {
        if !Path::new(FONT_PATH).exists() {
            panic!("{}", ReportError::FontMissing);
        }
        let dir = tempfile::tempdir().unwrap();
        let timings: Vec<Timing> = (0..200)
            .map(|i| Timing {
                response_ms: 10.0 + (i % 17) as f64,
                load_ms: (i % 5) as f64,
                inference_ms: 8.0 + (i % 7) as f64,
            })
            .collect();
        let input = ReportInput {
            jobs_by_outcome: BTreeMap::from([
                ("paid".to_string(), 180),
                ("refunded".to_string(), 20),
            ]),
            timings,
            sales: (0..30)
                .map(|i| crate::market::Sale {
                    job: i,
                    miner: "miner-1".into(),
                    price: 0.003,
                    max_fee: 0.01,
                    risk: "low".into(),
                    accepted: i % 5 != 0,
                    by_bid: true,
                })
                .collect(),
            generation: vec![GenerationRow {
                miner: "miner-1".into(),
                jobs: 2,
                tokens: 40,
                tokens_per_second: vec![31.5, 28.0],
            }],
            miners: vec![
                MinerRecord {
                    name: "honest".into(),
                    outcomes: outcomes(0, 300),
                    wrong_accepted: 0,
                },
                MinerRecord {
                    name: "flaky".into(),
                    outcomes: outcomes(30, 300),
                    wrong_accepted: 12,
                },
            ],
            nodes: vec![NodeRow {
                name: "miner-1".into(),
                role: "miner".into(),
                trust: Some(19.8),
                composite: Some(0.98),
                tier: Some(1),
                score: None,
                stake: 1000.0,
                earnings: 12.5,
                slashed: 0.0,
                status: "active".into(),
                wrong_answers: Some(0),
                jobs_served: 25,
                jobs_failed: 2,
                income: Income {
                    payouts: 0.225,
                    validator_fees: 0.0,
                    ..Default::default()
                },
            }],
            penalties: vec![],
            disputes: vec![DisputeRow {
                kind: "audit".into(),
                dispute: "D1".into(),
                miner: "miner-7-wrong".into(),
                challenger: "validator-1".into(),
                status: "Overturned".into(),
                disputed_output: "ab".repeat(32),
                challenger_result: "cd".repeat(32),
                standing: Some("challenger's result".into()),
                bond: 100.0,
                n: 81,
                m: 1,
                turnout: 80,
                active_weight: 109,
                quorum_bps: 2_000,
                voters: vec![VoterRow {
                    name: "validator-2".into(),
                    weight: 20,
                    vote: "challenger's result".into(),
                }],
                settlement: SettlementRow {
                    bond_returned: 100.0,
                    liquidated: vec![("miner-7-wrong".into(), 1_000.0)],
                    rewards: vec![("validator-2".into(), 1_000.0)],
                    ..Default::default()
                },
            }],
            conservation_violations: vec![],
            unserved: vec!["job 7 (refunded): no verified result within 15s (at 20.0 s)".into()],
            seconds: 1.0,
        };
        let written = write_report(dir.path(), &input).unwrap();
        for file in FILES {
            let len = std::fs::metadata(dir.path().join(file)).unwrap().len();
            assert!(len > 100, "{file} is {len} bytes");
        }
        assert!(written.summary.contains("every token accounted for"));
        assert!(
            written.summary.contains(
                "Jobs the client was not served\n  job 7 (refunded): no verified result within 15s (at 20.0 s)"
            ),
            "{}",
            written.summary
        );
        assert!(
            written.summary.contains("Income and losses per node"),
            "{}",
            written.summary
        );
        assert!(
            written
                .summary
                .contains("n = 81, m = 1; turnout 80 of 109 active weight (73.4%, quorum 20%)"),
            "{}",
            written.summary
        );
        assert!(
            written
                .summary
                .contains("validator-2 (20, challenger's result)"),
            "{}",
            written.summary
        );
        assert!(
            written
                .summary
                .contains("D1 (audit) over a job of miner-7-wrong"),
            "{}",
            written.summary
        );
        assert!(
            written
                .summary
                .contains("settlement: validator-1 lost 0.000 of its 100.000 bond (100.000 back)"),
            "{}",
            written.summary
        );
        assert!(
            written.summary.contains(
                "liquidated: miner-7-wrong 1000.000; voters' rewards: validator-2 1000.000"
            ),
            "{}",
            written.summary
        );
        assert!(written.summary.contains("Response Time"));
        assert!(written
            .summary
            .contains("Generation (2 answers accepted on chain"));
        let png = std::fs::read(dir.path().join("trust.png")).unwrap();
        assert_eq!(&png[..4], b"\x89PNG");
    }
}
