//! The logs of services a test runs in its own process (the keepers), in
//! the test's captured output: a failing end-to-end test shows what they
//! did, a passing one stays quiet.

/// Installs the log subscriber once per test binary: `RUST_LOG` if set,
/// else the keepers' info lines (the `keeper` crate).
pub fn keep_logs() {
    let filter = tracing_subscriber::EnvFilter::try_from_default_env()
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("keeper=info"));
    let _ = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_test_writer()
        .try_init();
}
