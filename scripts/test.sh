#!/usr/bin/env bash
# Runs every Verdict test: sets up what is missing, checks the formatting,
# runs the whole workspace's tests, the IDL and TypeScript checks and clippy
# (-D warnings), then prints the compute units per instruction gathered from
# every program test (real figures when SBF_OUT_DIR names an SBF build of
# the program).
set -euo pipefail
cd "$(dirname "$0")/.."

bash scripts/setup.sh
# Style first (seconds): unformatted code fails before the long build.
if ! cargo fmt --version >/dev/null 2>&1 || ! cargo clippy --version >/dev/null 2>&1; then
  rustup component add rustfmt clippy
fi
cargo fmt --all --check
VERDICT_CU_DIR="$(mktemp -d)"
export VERDICT_CU_DIR
trap 'rm -rf "$VERDICT_CU_DIR"' EXIT

# The keeper's end-to-end tests spawn real miner processes; the dApp tests
# (Rust and TypeScript) serve a network and run the examples against it.
# (Two commands: `--bin` applies to every `-p` of one command, so the
# example's `infer` binary would silently not be built.)
cargo build --locked -p verdict-miner --bin verdict-miner -p verdict-localnet --bin verdict-localnet
cargo build --locked -p verdict-example-infer
cargo test --workspace --locked "$@"
VERDICT_LOCALNET_BIN="$(realpath "${CARGO_TARGET_DIR:-target}")/debug/verdict-localnet"
export VERDICT_LOCALNET_BIN
# The checked-in IDL must be what the program generates (idl/verdict.json),
# and the TypeScript client what Codama generates from it; then its tests,
# end to end against a served network (VERDICT_LOCALNET_BIN).
cargo run --locked -q -p verdict-idl -- --check
(
  cd clients/ts
  npm ci --no-audit --no-fund --silent
  npm run --silent generate >/dev/null
  git diff --exit-code --stat -- src/generated || {
    echo "clients/ts/src/generated differs from the IDL: run \`npm run generate\` in clients/ts and commit it" >&2
    exit 1
  }
  npm test --silent
)

# Lints last: the test build has warmed the dependencies.
cargo clippy --workspace --all-targets --locked -- -D warnings

if compgen -G "$VERDICT_CU_DIR/*.tsv" >/dev/null; then
  mode="native processor: Verdict's own work shows as ~1 CU; CPIs into SPL Token are real"
  [ -n "${SBF_OUT_DIR:-}${BPF_OUT_DIR:-}" ] && mode="SBF build"
  echo
  echo "compute units per transaction ($mode)"
  sort -k1,1 -k2,2n "$VERDICT_CU_DIR"/*.tsv | awk -F'\t' '
    { v[$1] = v[$1] " " $2; n[$1]++ }
    END {
      printf "%-24s %6s %9s %9s %9s\n", "instruction", "count", "min", "median", "max"
      for (k in n) {
        split(substr(v[k], 2), a, " ")
        printf "%-24s %6d %9d %9d %9d\n", k, n[k], a[1], a[int((n[k] + 1) / 2)], a[n[k]]
      }
    }' | (read -r header; echo "$header"; sort)
fi
