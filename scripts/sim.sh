#!/usr/bin/env bash
# The protocol economics simulator: every experiment under the first rules
# and under revision 2, written to target/sim-report (summary.md and plots).
#   bash scripts/sim.sh [--quick] [--config FILE] [--set NAME=VALUE]... [--out DIR]
set -euo pipefail
cd "$(dirname "$0")/.."

bash scripts/setup.sh
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-$HOME/.cache/verdict/target}"
cargo build --locked --profile demo -p verdict-sim --bin verdict-sim
exec "$CARGO_TARGET_DIR/demo/verdict-sim" "$@"
