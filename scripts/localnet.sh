#!/usr/bin/env bash
# The main job: runs a whole local Verdict network (embedded chain, keeper,
# miners on the real model, clients) and writes its report with plots.
# Prepares a fresh machine first (system packages, font, the model).
#   bash scripts/localnet.sh [--jobs N] [--quick] [--out DIR]
set -euo pipefail
cd "$(dirname "$0")/.."

bash scripts/setup.sh
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-$HOME/.cache/verdict/target}"
# An optimized build without whole-program LTO: minutes, not tens of minutes.
cargo build --locked --profile demo -p verdict-miner --bin verdict-miner -p verdict-localnet --bin verdict-localnet
exec "$CARGO_TARGET_DIR/demo/verdict-localnet" "$@"
