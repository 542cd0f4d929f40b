#!/usr/bin/env bash
# Installs what a fresh machine lacks to build, test and run Verdict: the
# system packages the Solana runtime's crates link against, the font the
# report's plots use, Node.js for the TypeScript client, promtool for the
# alert rules, and the miner's model (from PyPI). Idempotent and
# quiet when everything is present.
set -euo pipefail

missing=()
for pkg in libssl-dev pkg-config fonts-dejavu-core; do
  dpkg -s "$pkg" >/dev/null 2>&1 || missing+=("$pkg")
done
if ((${#missing[@]})); then
  echo "setup: installing ${missing[*]}"
  SUDO=""; [ "$(id -u)" -eq 0 ] || SUDO="sudo"
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq "${missing[@]}"
fi

# Node.js and npm for the TypeScript client (clients/ts), when absent.
if ! command -v npm >/dev/null 2>&1; then
  echo "setup: installing nodejs npm"
  SUDO=""; [ "$(id -u)" -eq 0 ] || SUDO="sudo"
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq nodejs npm
fi

# promtool (Debian's prometheus package) checks the operators' alert rules.
if ! command -v promtool >/dev/null 2>&1; then
  echo "setup: installing prometheus (for promtool)"
  SUDO=""; [ "$(id -u)" -eq 0 ] || SUDO="sudo"
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends prometheus
fi

if [ -f "$(dirname "$0")/fetch-model.sh" ]; then
  bash "$(dirname "$0")/fetch-model.sh"
fi
