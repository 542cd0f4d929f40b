//! `verdict-idl`: builds the program's Anchor IDL the way `anchor build`
//! does (the `idl-build` feature's printing tests, assembled by
//! `anchor-lang-idl`), and writes it to `idl/verdict.json`, or with
//! `--check` fails when the checked-in copy differs from what the program
//! generates, so the IDL never drifts from the code.
//!
//!     cargo run -p verdict-idl            # regenerate idl/verdict.json
//!     cargo run -p verdict-idl -- --check # what the test command runs

use std::path::{Path, PathBuf};
use std::process::ExitCode;

use anchor_lang_idl::build::IdlBuilder;

fn main() -> ExitCode {
    let check = std::env::args().skip(1).any(|a| a == "--check");
    match run(check) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("verdict-idl: {e:#}");
            ExitCode::FAILURE
        }
    }
}

fn run(check: bool) -> anyhow::Result<()> {
    // `cargo run` names this crate's folder at run time; the compile-time
    // one may be another checkout's when clones share a target directory.
    let manifest_dir = std::env::var_os("CARGO_MANIFEST_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from(env!("CARGO_MANIFEST_DIR")));
    let root = manifest_dir
        .parent()
        .expect("idl/ sits in the workspace")
        .to_path_buf();
    let generated = generate(&root)?;
    let path = root.join("idl/verdict.json");
    if check {
        let current = std::fs::read_to_string(&path).unwrap_or_default();
        anyhow::ensure!(
            current == generated,
            "{} differs from what the program generates: run `cargo run -p verdict-idl` and commit it",
            path.display()
        );
        println!("{}: up to date", path.display());
    } else {
        std::fs::write(&path, &generated)?;
        println!("wrote {}", path.display());
    }
    Ok(())
}

/// The IDL as pretty JSON with a trailing newline.
fn generate(root: &Path) -> anyhow::Result<String> {
    // The nested cargo builds in its own target directory: the outer
    // build holds the lock of the usual one.
    let outer = std::env::var_os("CARGO_TARGET_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| root.join("target"));
    let target = outer.join("idl-build");
    // rustup sets RUSTUP_TOOLCHAIN for child processes, and the builder
    // would then pass it to cargo as a `+toolchain` argument it mangles.
    std::env::remove_var("RUSTUP_TOOLCHAIN");
    let idl = IdlBuilder::new()
        .program_path(root.join("programs/verdict"))
        .cargo_args(vec![
            "--target-dir".into(),
            target.display().to_string(),
            "--locked".into(),
        ])
        .build()?;
    Ok(serde_json::to_string_pretty(&idl)? + "\n")
}
