//! Records compute units per instruction from transaction metadata and
//! prints a table when the test process exits. Native runs charge about one
//! unit per program instruction (only CPI'd SBF programs like SPL Token
//! report real figures); run with `SBF_OUT_DIR` for the real numbers.

use std::collections::BTreeMap;
use std::sync::{Mutex, Once};

static RECORDS: Mutex<BTreeMap<&'static str, Vec<u64>>> = Mutex::new(BTreeMap::new());
static REGISTER: Once = Once::new();

/// Records `units` for one successful transaction whose main instruction is `name`.
pub fn record(name: &'static str, units: u64) {
    REGISTER.call_once(|| unsafe {
        libc::atexit(print_at_exit);
    });
    RECORDS.lock().unwrap().entry(name).or_default().push(units);
}

/// The table: instruction, count, min, median, max.
pub fn table() -> String {
    let records = RECORDS.lock().unwrap();
    let mode = if std::env::var("SBF_OUT_DIR").is_ok() || std::env::var("BPF_OUT_DIR").is_ok() {
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
