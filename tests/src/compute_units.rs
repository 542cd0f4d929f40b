//! Records compute units per instruction from transaction metadata and
//! prints a table when the test process exits. Native runs charge about one
//! unit per program instruction (only CPI'd SBF programs like SPL Token
//! report real figures); run with `SBF_OUT_DIR` for the real numbers.

use std::collections::BTreeMap;
use std::sync::{Mutex, Once};

static RECORDS: Mutex<BTreeMap<&'static str, Vec<u64>>> = Mutex::new(BTreeMap::new());
static REGISTER: Once = Once::new();

/// Records `units` for one successful transaction whose main instruction
/// is `name`; on an SBF build, a transaction over the instruction's budget
/// fails the test ([`budget`]).
pub fn record(name: &'static str, units: u64) {
    REGISTER.call_once(|| unsafe {
        libc::atexit(print_at_exit);
    });
    RECORDS.lock().unwrap().entry(name).or_default().push(units);
    // VERDICT_CU_CALIBRATE: record only, to measure new budgets.
    if sbf_build() && std::env::var_os("VERDICT_CU_CALIBRATE").is_none() {
        let Some(limit) = budget(name) else {
            panic!("{name} has no compute budget in tests/compute_budgets.tsv");
        };
        assert!(
            units <= limit.budget,
            "{name} used {units} compute units, over its budget of {} (tests/compute_budgets.tsv)",
            limit.budget
        );
    }
}

/// Whether the program under test is an SBF build (real compute units).
pub fn sbf_build() -> bool {
    std::env::var_os("SBF_OUT_DIR").is_some() || std::env::var_os("BPF_OUT_DIR").is_some()
}

/// One row of `tests/compute_budgets.tsv`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Budget {
    /// The ceiling enforced on SBF builds.
    pub budget: u64,
    /// Where the instruction should get.
    pub target: u64,
}

/// The budget of instruction `name` (snake case, as the SDK names it).
pub fn budget(name: &str) -> Option<Budget> {
    budgets()
        .into_iter()
        .find(|(n, _)| *n == name)
        .map(|(_, b)| b)
}

/// Every row of the budget table.
pub fn budgets() -> Vec<(&'static str, Budget)> {
    include_str!("../compute_budgets.tsv")
        .lines()
        .filter(|l| !l.starts_with('#') && !l.trim().is_empty())
        .map(|l| {
            let mut cols = l.split('\t');
            let name = cols.next().expect("a name");
            let mut number = || {
                cols.next()
                    .and_then(|c| c.parse().ok())
                    .unwrap_or_else(|| panic!("compute_budgets.tsv: bad row {l:?}"))
            };
            let budget = number();
            let target = number();
            (name, Budget { budget, target })
        })
        .collect()
}

/// The table: instruction, count, min, median, max.
pub fn table() -> String {
    let records = RECORDS.lock().unwrap();
    let mode = if sbf_build() {
        "SBF build"
    } else {
        "native processor: Verdict's own work shows as ~1 CU, CPIs into SPL Token are real"
    };
    let mut out = format!("\ncompute units per transaction ({mode})\n");
    out += &format!(
        "{:<24} {:>6} {:>9} {:>9} {:>9}\n",
        "instruction", "count", "min", "median", "max"
    );
    for (name, units) in records.iter() {
        let mut u = units.clone();
        u.sort_unstable();
        out += &format!(
            "{:<24} {:>6} {:>9} {:>9} {:>9}\n",
            name,
            u.len(),
            u[0],
            u[u.len() / 2],
            u[u.len() - 1]
        );
    }
    out
}

/// At exit, appends this process's records to `$VERDICT_CU_DIR/<pid>.tsv`
/// (scripts/test.sh merges every test binary's file into one table), or
/// prints the table when `VERDICT_CU_TABLE` is set.
extern "C" fn print_at_exit() {
    if let Some(dir) = std::env::var_os("VERDICT_CU_DIR") {
        let records = RECORDS.lock().unwrap();
        let mut lines = String::new();
        for (name, units) in records.iter() {
            for u in units {
                lines += &format!("{name}\t{u}\n");
            }
        }
        let path = std::path::Path::new(&dir).join(format!("{}.tsv", std::process::id()));
        let _ = std::fs::write(path, lines);
    } else if std::env::var_os("VERDICT_CU_TABLE").is_some() {
        eprintln!("{}", table());
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_instruction_has_one_budget() {
        let rows = budgets();
        let mut names: Vec<&str> = rows.iter().map(|(n, _)| *n).collect();
        names.sort_unstable();
        names.dedup();
        assert_eq!(names.len(), rows.len(), "one row per instruction");
        // Every instruction the program dispatches (lib.rs), and nothing else.
        let lib = include_str!("../../programs/verdict/src/lib.rs");
        let mut dispatched: Vec<&str> = lib
            .lines()
            .filter_map(|l| l.trim().strip_prefix("pub fn "))
            .filter_map(|l| l.split(['(', '<']).next())
            .collect();
        dispatched.sort_unstable();
        assert_eq!(names, dispatched);
        assert!(rows.iter().all(|(_, b)| b.budget > 0 && b.target > 0));
    }
}
