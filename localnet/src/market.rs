//! The run's market, as the chain recorded it: the price of every job a
//! miner won (the winning bid, or the list price), whether its answer was
//! accepted or the job refunded (e.g. when a dispute overturned it), each
//! miner's share of the jobs and of the earnings, and their plot
//! (`market.png`).

use std::collections::BTreeMap;
use std::path::Path;

use plotters::prelude::*;
use serde::Serialize;

use crate::report::{ensure_font, plot_err, NodeRow, ReportError, COLORS};

/// A job a miner won: the last miner the chain assigned it to.
#[derive(Clone, Debug, Serialize)]
pub struct Sale {
    /// The job's place in the client's submission order.
    pub job: usize,
    pub miner: String,
    /// The price the chain records, in tokens.
    pub price: f64,
    /// The client's maximum fee, in tokens.
    pub max_fee: f64,
    /// `low`, `medium` or `high`.
    pub risk: String,
    /// Its answer stands (solved or paid); otherwise the job was refunded.
    pub accepted: bool,
    /// The price is the miner's signed bid, which the program checked
    /// (`JobAssigned.by_bid`); otherwise only the committee vouched for it.
    pub by_bid: bool,
}

/// One miner's part of the market.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Share {
    pub miner: String,
    /// Jobs it won.
    pub jobs: usize,
    /// Of those, answers that stand.
    pub accepted: usize,
    /// Of all jobs won, in percent.
    pub jobs_percent: f64,
    /// What the chain credited the node over the run, in tokens.
    pub earnings: f64,
    /// Of all miners' earnings, in percent.
    pub earnings_percent: f64,
    /// Its mean price per job, in tokens (`None` without a job).
    pub mean_price: Option<f64>,
}

/// Each miner's share of the jobs and earnings, in the order of `nodes`.
pub fn shares(sales: &[Sale], nodes: &[NodeRow]) -> Vec<Share> {
    let miners: Vec<&NodeRow> = nodes.iter().filter(|n| n.role == "miner").collect();
    let total_jobs = sales.len().max(1) as f64;
    let total_earned: f64 = miners.iter().map(|n| n.earnings).sum();
    let mut sold: BTreeMap<&str, (usize, usize, f64)> = BTreeMap::new();
    for s in sales {
        let entry = sold.entry(s.miner.as_str()).or_default();
        entry.0 += 1;
        entry.1 += usize::from(s.accepted);
        entry.2 += s.price;
    }
    miners
        .iter()
        .map(|n| {
            let (jobs, accepted, paid) = sold.get(n.name.as_str()).copied().unwrap_or_default();
            Share {
                miner: n.name.clone(),
                jobs,
                accepted,
                jobs_percent: 100.0 * jobs as f64 / total_jobs,
                earnings: n.earnings,
                earnings_percent: if total_earned > 0.0 {
                    100.0 * n.earnings / total_earned
                } else {
                    0.0
                },
                mean_price: (jobs > 0).then(|| paid / jobs as f64),
            }
        })
        .collect()
}

/// The market table of the report.
pub fn market_table(sales: &[Sale], nodes: &[NodeRow]) -> String {
    let mut s = String::from(
        "\nMarket (jobs won at auction or the list price; accepted: answers that stand; tokens)\n",
    );
    s += &format!(
        "{:<26} {:>5} {:>8} {:>7} {:>11} {:>10} {:>12}\n",
        "miner", "won", "accepted", "share", "mean price", "earnings", "earn. share"
    );
    for share in shares(sales, nodes) {
        s += &format!(
            "{:<26} {:>5} {:>8} {:>6.1}% {:>11} {:>10.4} {:>11.1}%\n",
            share.miner,
            share.jobs,
            share.accepted,
            share.jobs_percent,
            share
                .mean_price
                .map_or("-".to_string(), |p| format!("{p:.5}")),
            share.earnings,
            share.earnings_percent
        );
    }
    s += &format!(
        "prices the program checked against the winner's signed bid: {} of {}\n",
        sales.iter().filter(|s| s.by_bid).count(),
        sales.len()
    );
    s
}

/// The median price over the last `window` sales up to each sale: the
/// clearing price as it moved over the run.
pub fn rolling_median(sales: &[Sale], window: usize) -> Vec<(usize, f64)> {
    let mut ordered: Vec<&Sale> = sales.iter().collect();
    ordered.sort_by_key(|s| s.job);
    (0..ordered.len())
        .map(|i| {
            let from = (i + 1).saturating_sub(window.max(1));
            let mut prices: Vec<f64> = ordered[from..=i].iter().map(|s| s.price).collect();
            prices.sort_by(f64::total_cmp);
            (ordered[i].job, prices[prices.len() / 2])
        })
        .collect()
}

/// Two panels: the price of each job won over the run (a dot per job in
/// its miner's colour, hollow when the job was refunded; the rolling
/// median clearing price; the clients' maximum fee), and each miner's
/// share of the jobs won and of the earnings.
pub fn plot_market(path: &Path, sales: &[Sale], nodes: &[NodeRow]) -> Result<(), ReportError> {
    ensure_font()?;
    let root = BitMapBackend::new(path, (1500, 600)).into_drawing_area();
    root.fill(&WHITE).map_err(plot_err)?;
    let (left, right) = root.split_horizontally(820);
    let shares = shares(sales, nodes);
    let color_of = |name: &str| {
        let i = shares.iter().position(|s| s.miner == name).unwrap_or(0);
        COLORS[i % COLORS.len()]
    };

    let jobs = sales.iter().map(|s| s.job + 1).max().unwrap_or(1).max(2);
    let top = sales
        .iter()
        .map(|s| s.price.max(s.max_fee))
        .fold(0.0f64, f64::max)
        .max(1e-9)
        * 1.15;
    let mut chart = ChartBuilder::on(&left)
        .caption("Price per job won (hollow: refunded)", ("sans-serif", 22))
        .margin(12)
        .x_label_area_size(40)
        .y_label_area_size(70)
        .build_cartesian_2d(0usize..jobs, 0.0..top)
        .map_err(plot_err)?;
    chart
        .configure_mesh()
        .x_desc("job (submission order)")
        .y_desc("price (tokens)")
        .label_style(("sans-serif", 14))
        .draw()
        .map_err(plot_err)?;
    for share in shares.iter().filter(|s| s.jobs > 0) {
        let color = color_of(&share.miner);
        chart
            .draw_series(sales.iter().filter(|s| s.miner == share.miner).map(|s| {
                let style = if s.accepted {
                    color.filled()
                } else {
                    color.stroke_width(2)
                };
                Circle::new((s.job, s.price), 4, style)
            }))
            .map_err(plot_err)?
            .label(share.miner.clone())
            .legend(move |(x, y)| Circle::new((x + 8, y), 4, color.filled()));
    }
    let median = rolling_median(sales, 9);
    chart
        .draw_series(LineSeries::new(median, BLACK.stroke_width(2)))
        .map_err(plot_err)?
        .label("clearing price (median of the last 9)")
        .legend(|(x, y)| PathElement::new(vec![(x, y), (x + 18, y)], BLACK.stroke_width(2)));
    let fees: Vec<(usize, f64)> = {
        let mut by_job: Vec<&Sale> = sales.iter().collect();
        by_job.sort_by_key(|s| s.job);
        by_job.iter().map(|s| (s.job, s.max_fee)).collect()
    };
    let fee_color = RGBColor(214, 39, 40);
    chart
        .draw_series(LineSeries::new(fees, fee_color.stroke_width(2)))
        .map_err(plot_err)?
        .label("the client's maximum fee")
        .legend(move |(x, y)| {
            PathElement::new(vec![(x, y), (x + 18, y)], fee_color.stroke_width(2))
        });
    chart
        .configure_series_labels()
        .background_style(WHITE.mix(0.85))
        .border_style(BLACK)
        .label_font(("sans-serif", 13))
        .position(SeriesLabelPosition::LowerRight)
        .draw()
        .map_err(plot_err)?;

    let rows = shares.len().max(1);
    let widest = shares
        .iter()
        .map(|s| s.jobs_percent.max(s.earnings_percent))
        .fold(10.0f64, f64::max)
        * 1.1;
    let mut bars = ChartBuilder::on(&right)
        .caption(
            "Share of jobs won (solid) and of earnings (light)",
            ("sans-serif", 22),
        )
        .margin(12)
        .x_label_area_size(40)
        .y_label_area_size(40)
        .build_cartesian_2d(0.0..widest, 0.0..rows as f64)
        .map_err(plot_err)?;
    bars.configure_mesh()
        .x_desc("percent")
        .y_desc("miner (colours as on the left)")
        .y_labels(rows + 1)
        .y_label_formatter(&|y| {
            let row = y.floor();
            if (y - row).abs() < 1e-9 && (row as usize) < rows {
                format!("{}", row as usize + 1)
            } else {
                String::new()
            }
        })
        .label_style(("sans-serif", 14))
        .draw()
        .map_err(plot_err)?;
    for (i, share) in shares.iter().enumerate() {
        let color = color_of(&share.miner);
        let y = i as f64;
        bars.draw_series([
            Rectangle::new(
                [(0.0, y + 0.1), (share.jobs_percent, y + 0.45)],
                color.filled(),
            ),
            Rectangle::new(
                [(0.0, y + 0.5), (share.earnings_percent, y + 0.85)],
                color.mix(0.4).filled(),
            ),
        ])
        .map_err(plot_err)?;
    }
    root.present().map_err(plot_err)?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sale(job: usize, miner: &str, price: f64) -> Sale {
        Sale {
            job,
            miner: miner.into(),
            price,
            max_fee: 0.01,
            risk: "low".into(),
            accepted: true,
            by_bid: true,
        }
    }

    fn node(name: &str, earnings: f64) -> NodeRow {
        NodeRow {
            name: name.into(),
            role: "miner".into(),
            earnings,
            ..NodeRow::default()
        }
    }

    #[test]
    fn shares_count_each_miners_jobs_and_earnings() {
        let sales = [
            sale(0, "cheap", 0.003),
            Sale {
                accepted: false,
                ..sale(1, "cheap", 0.003)
            },
            sale(2, "dear", 0.008),
        ];
        let nodes = [
            node("cheap", 0.006),
            node("dear", 0.008),
            node("idle", 0.0),
            NodeRow {
                role: "validator".into(),
                ..node("v", 1.0)
            },
        ];
        let shares = shares(&sales, &nodes);
        assert_eq!(shares.len(), 3, "miners only");
        assert_eq!((shares[0].jobs, shares[0].accepted), (2, 1));
        assert!((shares[0].jobs_percent - 200.0 / 3.0).abs() < 1e-9);
        assert!((shares[0].earnings_percent - 100.0 * 6.0 / 14.0).abs() < 1e-9);
        assert_eq!(shares[0].mean_price, Some(0.003));
        assert_eq!((shares[2].jobs, shares[2].mean_price), (0, None));
        let table = market_table(&sales, &nodes);
        assert!(table.contains("idle"), "{table}");
    }

    #[test]
    fn the_rolling_median_follows_the_recent_prices_in_job_order() {
        let sales = [
            sale(2, "a", 5.0),
            sale(0, "a", 1.0),
            sale(1, "a", 3.0),
            sale(3, "a", 7.0),
        ];
        assert_eq!(
            rolling_median(&sales, 3),
            vec![(0, 1.0), (1, 3.0), (2, 3.0), (3, 5.0)]
        );
    }

    #[test]
    fn the_market_plot_is_a_png() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("market.png");
        let sales: Vec<Sale> = (0..40)
            .map(|i| sale(i, ["a", "b", "c"][i % 3], 0.002 + 0.0001 * i as f64))
            .collect();
        let nodes = [node("a", 0.03), node("b", 0.02), node("c", 0.01)];
        plot_market(&path, &sales, &nodes).unwrap();
        assert_eq!(&std::fs::read(&path).unwrap()[..4], b"\x89PNG");
    }
}
