//! Line plots (PNG) for the report: one way to draw every figure.

use std::path::Path;

use plotters::prelude::*;

use crate::SimError;

/// Where the plots' font comes from (Debian's fonts-dejavu-core; the
/// project's setup script installs it).
pub const FONT_PATH: &str = "/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf";

/// One labelled curve.
pub struct Series {
    pub label: String,
    pub points: Vec<(f64, f64)>,
}

/// A figure: curves over shared axes, and vertical marks (x, label).
pub struct Figure<'a> {
    pub title: &'a str,
    pub x_label: &'a str,
    pub y_label: &'a str,
    pub series: Vec<Series>,
    pub marks: Vec<(f64, String)>,
    /// A horizontal reference line (for example y = 0).
    pub baseline: Option<f64>,
    pub log_y: bool,
}

const COLORS: [RGBColor; 6] = [
    RGBColor(31, 119, 180),
    RGBColor(214, 39, 40),
    RGBColor(44, 160, 44),
    RGBColor(255, 127, 14),
    RGBColor(148, 103, 189),
    RGBColor(127, 127, 127),
];

fn ensure_font() -> Result<(), SimError> {
    static FONT: std::sync::OnceLock<bool> = std::sync::OnceLock::new();
    let ok = *FONT.get_or_init(|| {
        std::fs::read(FONT_PATH).ok().is_some_and(|bytes| {
            let bytes: &'static [u8] = Box::leak(bytes.into_boxed_slice());
            plotters::style::register_font("sans-serif", FontStyle::Normal, bytes).is_ok()
        })
    });
    ok.then_some(()).ok_or_else(|| {
        SimError::Plot(format!(
            "font {FONT_PATH} missing: run `bash scripts/setup.sh`"
        ))
    })
}

fn err<E: std::fmt::Display>(e: E) -> SimError {
    SimError::Plot(e.to_string())
}

/// Draws `fig` into a PNG at `path`.
pub fn draw(path: &Path, fig: &Figure) -> Result<(), SimError> {
    ensure_font()?;
    let points = || fig.series.iter().flat_map(|s| s.points.iter());
    let (mut x0, mut x1) = (f64::MAX, f64::MIN);
    let (mut y0, mut y1) = (f64::MAX, f64::MIN);
    for &(x, y) in points() {
        if x.is_finite() && y.is_finite() && (!fig.log_y || y > 0.0) {
            (x0, x1, y0, y1) = (x0.min(x), x1.max(x), y0.min(y), y1.max(y));
        }
    }
    if let Some(b) = fig.baseline {
        (y0, y1) = (y0.min(b), y1.max(b));
    }
    if x0 > x1 {
        (x0, x1, y0, y1) = (0.0, 1.0, 0.0, 1.0);
    }
    if x1 - x0 < 1e-12 {
        x1 = x0 + 1.0;
    }
    let pad = ((y1 - y0).abs() * 0.05).max(1e-9);
    let root = BitMapBackend::new(path, (1000, 600)).into_drawing_area();
    root.fill(&WHITE).map_err(err)?;
    let mut chart = ChartBuilder::on(&root);
    chart
        .caption(fig.title, ("sans-serif", 24))
        .margin(15)
        .x_label_area_size(45)
        .y_label_area_size(80);
    macro_rules! body {
        ($chart:expr) => {{
            let mut chart = $chart;
            chart
                .configure_mesh()
                .x_desc(fig.x_label)
                .y_desc(fig.y_label)
                .label_style(("sans-serif", 15))
                .draw()
                .map_err(err)?;
            if let Some(b) = fig.baseline {
                chart
                    .draw_series(LineSeries::new([(x0, b), (x1, b)], BLACK.stroke_width(1)))
                    .map_err(err)?;
            }
            for (i, s) in fig.series.iter().enumerate() {
                let color = COLORS[i % COLORS.len()];
                let pts: Vec<(f64, f64)> = s
                    .points
                    .iter()
                    .copied()
                    .filter(|(x, y)| x.is_finite() && y.is_finite() && (!fig.log_y || *y > 0.0))
                    .collect();
                chart
                    .draw_series(LineSeries::new(pts.clone(), color.stroke_width(2)))
                    .map_err(err)?
                    .label(s.label.clone())
                    .legend(move |(x, y)| {
                        PathElement::new([(x, y), (x + 20, y)], color.stroke_width(2))
                    });
                chart
                    .draw_series(pts.iter().map(|&p| Circle::new(p, 3, color.filled())))
                    .map_err(err)?;
            }
            for (x, label) in &fig.marks {
                let (lo, hi) = (y0.min(y1), y1.max(y0));
                chart
                    .draw_series(DashedLineSeries::new(
                        [(*x, lo), (*x, hi)],
                        6,
                        4,
                        BLACK.stroke_width(1),
                    ))
                    .map_err(err)?;
                chart
                    .draw_series([Text::new(label.clone(), (*x, hi), ("sans-serif", 15))])
                    .map_err(err)?;
            }
            chart
                .configure_series_labels()
                .background_style(WHITE.mix(0.85))
                .border_style(BLACK)
                .label_font(("sans-serif", 15))
                .position(SeriesLabelPosition::UpperRight)
                .draw()
                .map_err(err)?;
        }};
    }
    if fig.log_y {
        let y0 = y0.max(1e-12);
        body!(chart
            .build_cartesian_2d(x0..x1, (y0 / 1.5..y1 * 1.5).log_scale())
            .map_err(err)?);
    } else {
        body!(chart
            .build_cartesian_2d(x0..x1, (y0 - pad)..(y1 + pad))
            .map_err(err)?);
    }
    root.present().map_err(err)?;
    Ok(())
}
