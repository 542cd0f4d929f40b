//! What a command prints: one result carrying both its text for people and
//! its JSON for scripts, so the two can never tell different stories.

use clap::ValueEnum;
use serde_json::Value;

#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, ValueEnum)]
pub enum OutputFormat {
    #[default]
    Text,
    Json,
}

/// A command's result.
#[derive(Clone, Debug, PartialEq)]
pub struct Output {
    pub text: String,
    pub json: Value,
}

impl Output {
    pub fn new(text: impl Into<String>, json: Value) -> Self {
        Output {
            text: text.into(),
            json,
        }
    }

    /// The text or the JSON document, ending in a newline.
    pub fn render(&self, format: OutputFormat) -> String {
        let mut out = match format {
            OutputFormat::Text => self.text.clone(),
            OutputFormat::Json => {
                serde_json::to_string_pretty(&self.json).expect("JSON values always serialize")
            }
        };
        if !out.ends_with('\n') {
            out.push('\n');
        }
        out
    }
}

/// `Label: value` lines, in order.
pub fn labelled(lines: &[(&str, String)]) -> String {
    lines
        .iter()
        .map(|(label, value)| format!("{label}: {value}\n"))
        .collect()
}

/// Basis points of 1.0 as a 3-decimal fraction: 9384 → `0.938`. Truncates,
/// so a figure is never shown better than it is.
pub fn bps_fraction(bps: u64) -> String {
    format!("{}.{:03}", bps / 10_000, (bps % 10_000) / 10)
}

/// Basis points as a percentage with one decimal: 9620 → `96.2%`.
pub fn bps_percent(bps: u64) -> String {
    format!("{}.{}%", bps / 100, (bps % 100) / 10)
}

/// A plain text table: a header row and left-aligned columns.
pub fn table(header: &[&str], rows: &[Vec<String>]) -> String {
    let mut widths: Vec<usize> = header.iter().map(|h| h.len()).collect();
    for row in rows {
        for (w, cell) in widths.iter_mut().zip(row) {
            *w = (*w).max(cell.len());
        }
    }
    let line = |cells: Vec<&str>| {
        let padded: Vec<String> = cells
            .iter()
            .zip(&widths)
            .map(|(c, w)| format!("{c:<w$}"))
            .collect();
        format!("{}\n", padded.join("  ").trim_end())
    };
    let mut out = line(header.to_vec());
    for row in rows {
        out.push_str(&line(row.iter().map(String::as_str).collect()));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn figures_print_as_the_seed_shows() {
        assert_eq!(bps_fraction(9_384), "0.938");
        assert_eq!(bps_fraction(10_000), "1.000");
        assert_eq!(bps_fraction(1_000_000), "100.000");
        assert_eq!(bps_percent(9_620), "96.2%");
        assert_eq!(bps_percent(10_000), "100.0%");
        assert_eq!(bps_percent(5), "0.0%");
    }

    #[test]
    fn tables_align_columns() {
        let t = table(&["a", "bb"], &[vec!["long".into(), "x".into()]]);
        assert_eq!(t, "a     bb\nlong  x\n");
    }
}
