"""`just gpu-check`: the GPU backends measured against an expert PyTorch loop, in one table.

Runs from a bundle made by `just gpu-bundle` (stripped binaries, the MNIST files, configs,
Debian's Vulkan loader) on a machine with no Rust and no network: a few pre-flight lines (the
driver and GPU, the Vulkan drivers, the CUDA pieces Burn's cuda backend needs, PyTorch), the
seed config for 3 epochs on wgpu, cuda and tch-cuda, the default config to the end on the
fastest of them, and the seed config in PyTorch on the machine's own torch
(bench/torch_expert.py), then `mnist-burn profile` and `mnist-burn throughput` on each
backend that ran. Every backend runs from `mnist-burn` (tch-cuda from `mnist-burn-tch` where
the bundle has it); a backend the binary lacks says so in its row. Without an NVIDIA GPU (or with --quick) every run uses a
small slice of the data, so the whole script also runs end to end on a CPU (wgpu over
llvmpipe). Only the standard library is needed.

Usage: python3 gpu_check.py [--bundle DIR] [--quick] [--timeout SECONDS]
"""

import argparse
import csv
import glob
import gzip
import json
import lzma
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import threading
import time

# Each backend and the bundle's binary that runs it (`mnist-burn-tch`, when a bundle carries
# one, is a build with tch kept apart, so that a libtorch that does not load takes down only
# its own rows).
BACKENDS = {"wgpu": "mnist-burn", "cuda": "mnist-burn", "tch-cuda": "mnist-burn-tch"}


def binary_for(work, backend):
    """The bundle's binary for `backend`: its own if the bundle has one, else `mnist-burn`."""
    own = os.path.join(work, BACKENDS[backend])
    return own if os.path.exists(own) else os.path.join(work, "mnist-burn")
QUICK_SLICE = ["--set", "data.train_limit=1600", "--set", "data.test_limit=1000"]


def sh(command, **kwargs):
    return subprocess.run(command, capture_output=True, text=True, **kwargs)


def unpack(bundle, work):
    """The bundle's compressed binaries (xz) and MNIST files (gzip), unpacked into `work`."""
    packed_files = [(path, lzma.open) for path in glob.glob(os.path.join(bundle, "*.xz"))]
    packed_files += [(path, gzip.open) for path in glob.glob(os.path.join(bundle, "mnist", "**", "*.gz"),
                                                             recursive=True)]
    for packed, opener in packed_files:
        relative = os.path.splitext(os.path.relpath(packed, bundle))[0]
        in_cache = relative.startswith("mnist" + os.sep)
        target = os.path.join(work, "cache", "burn-dataset", relative) if in_cache else os.path.join(work, relative)
        os.makedirs(os.path.dirname(target), exist_ok=True)
        with opener(packed) as source, open(target, "wb") as sink:
            shutil.copyfileobj(source, sink)
        os.chmod(target, 0o644 if in_cache else 0o755)


def has_nvidia_gpu():
    return shutil.which("nvidia-smi") is not None and sh(["nvidia-smi", "-L"]).returncode == 0


def torch_python():
    """A Python that imports torch, and torch's lib folder (for the tch binary)."""
    for python in filter(None, [os.environ.get("GPU_CHECK_PYTHON"), "python3", sys.executable]):
        found = sh([python, "-c", "import torch, os; print(os.path.dirname(torch.__file__))"])
        if found.returncode == 0:
            return python, os.path.join(found.stdout.strip(), "lib")
    return None, None


def environment(bundle, work, torch_lib):
    env = dict(os.environ)
    env["XDG_CACHE_HOME"] = os.path.join(work, "cache")
    libraries = glob.glob(os.path.join(bundle, "vulkan", "usr", "lib", "*-linux-gnu"))
    if torch_lib:
        libraries.append(torch_lib)
    env["LD_LIBRARY_PATH"] = ":".join(libraries + [env.get("LD_LIBRARY_PATH", "")]).strip(":")
    icds = glob.glob("/usr/share/vulkan/icd.d/*.json") + glob.glob("/etc/vulkan/icd.d/*.json")
    if not icds and sh(["sh", "-c", "ldconfig -p | grep -q libGLX_nvidia.so.0"]).returncode == 0:
        # NVIDIA's driver without its Vulkan manifest (common in containers): write one.
        manifest = os.path.join(work, "nvidia_icd.json")
        with open(manifest, "w") as file:
            json.dump({"file_format_version": "1.0.0",
                       "ICD": {"library_path": "libGLX_nvidia.so.0", "api_version": "1.3"}}, file)
        env["VK_ICD_FILENAMES"] = manifest
    return env


def libdevice(torch_lib):
    """Where Burn's cuda backend (cubecl-llvm) finds libdevice.10.bc, the CUDA math library its
    kernels link: CUDA_PATH, else the first of its fixed toolkit folders; else a toolkit shipped
    in PyTorch's pip packages (nvidia-cuda-nvcc), which then has to be named in CUDA_PATH."""
    roots = [os.environ["CUDA_PATH"]] if os.environ.get("CUDA_PATH") else []
    roots += ["/usr/local/cuda", "/opt/cuda", "/usr/lib/cuda", "/usr"]
    for root in roots:
        if os.path.isfile(os.path.join(root, "nvvm", "libdevice", "libdevice.10.bc")):
            return root, False
    site_packages = os.path.dirname(os.path.dirname(torch_lib)) if torch_lib else sys.prefix
    for found in glob.glob(os.path.join(site_packages, "nvidia", "*", "nvvm", "libdevice", "libdevice.10.bc")):
        return os.path.dirname(os.path.dirname(os.path.dirname(found))), True
    return None, False


def preflight(bundle, env, python, torch_lib):
    """A few lines on what the backends will find, before anything runs."""
    def line(what, text):
        print(f"  {what:<9} {text}", flush=True)
    smi = sh(["nvidia-smi", "--query-gpu=name,driver_version,memory.total", "--format=csv,noheader"]) \
        if shutil.which("nvidia-smi") else None
    line("GPU", smi.stdout.strip().replace("\n", "; ") if smi and smi.returncode == 0 else "no NVIDIA GPU (nvidia-smi)")
    icds = env.get("VK_ICD_FILENAMES") or ", ".join(
        sorted(glob.glob("/usr/share/vulkan/icd.d/*.json") + glob.glob("/etc/vulkan/icd.d/*.json"))) or "none"
    info = sh(["vulkaninfo", "--summary"], env=env) if shutil.which("vulkaninfo") else None
    names = [l.split("=", 1)[1].strip() for l in (info.stdout.splitlines() if info else []) if "deviceName" in l]
    line("Vulkan", f"drivers: {icds}" + (f"; devices: {', '.join(names)}" if names else "; the wgpu row names the adapter it used"))
    root, from_pip = libdevice(torch_lib)
    libcuda = sh(["sh", "-c", "ldconfig -p | grep -m1 'libcuda.so.1 '"]).stdout.strip()
    nvcc = sh(["sh", "-c", "nvcc --version | tail -2 | head -1"]).stdout.strip() if shutil.which("nvcc") else "no nvcc"
    line("CUDA", f"driver library: {'found' if libcuda else 'missing'}; libdevice: "
         f"{os.path.join(root, 'nvvm', 'libdevice') if root else 'not found (cuda kernels with math functions fail)'}"
         f"{' (from pip, CUDA_PATH set)' if from_pip else ''}; {nvcc}")
    if root:
        env["CUDA_PATH"] = root
    torch = sh([python, "-c", "import torch; print(torch.__version__, torch.cuda.is_available())"]) if python else None
    line("PyTorch", f"{torch.stdout.strip()} (torch, CUDA available) via {python}" if torch and torch.returncode == 0
         else "none found (set GPU_CHECK_PYTHON)")
    notes = os.path.join(bundle, "NOTES.txt")
    if os.path.exists(notes):
        with open(notes) as file:
            for text in file.read().splitlines():
                line("bundle", text)


class GpuMemory:
    """Peak GPU memory of one process, polled from nvidia-smi while it runs."""

    def __init__(self, enabled):
        self.enabled, self.peak, self.pid, self.done = enabled, None, None, threading.Event()

    def watch(self, pid):
        self.pid = pid
        if self.enabled:
            threading.Thread(target=self._poll, daemon=True).start()

    def _poll(self):
        while not self.done.wait(0.1):
            out = sh(["nvidia-smi", "--query-compute-apps=pid,used_memory",
                      "--format=csv,noheader,nounits"]).stdout
            for line in out.splitlines():
                pid, _, used = line.partition(",")
                if pid.strip() == str(self.pid) and used.strip().isdigit():
                    self.peak = max(self.peak or 0, int(used))


def run_binary(binary, args, env, timeout, gpu):
    memory = GpuMemory(gpu)
    started = time.perf_counter()
    process = subprocess.Popen([binary] + args, env=env, stdout=subprocess.PIPE,
                               stderr=subprocess.PIPE, text=True)
    memory.watch(process.pid)
    try:
        stdout, stderr = process.communicate(timeout=timeout)
    except subprocess.TimeoutExpired:
        process.kill()
        stdout, stderr = process.communicate()
        stderr += f"\nerror: stopped after {timeout} s"
    memory.done.set()
    return process.returncode, stdout, stderr, time.perf_counter() - started, memory.peak


def read_run(out):
    with open(os.path.join(out, "metrics.csv")) as file:
        rows = [{key: float(value) for key, value in row.items()} for row in csv.DictReader(file)]
    # run.toml's top-level keys, and each [table] (the run's [environment] manifest) as a dict.
    record, target = {}, None
    with open(os.path.join(out, "run.toml")) as file:
        for line in file:
            if line.startswith("["):
                target = record.setdefault(line.strip("[] \n"), {})
                continue
            key, _, value = line.partition(" = ")
            (record if target is None else target)[key.strip()] = value.strip().strip('"')
    return rows, record


def summarise(name, rows, wall, steps, peak, note=""):
    epochs = [row["train_seconds"] + row["test_seconds"] for row in rows]
    steady_rows = rows[1:] or rows
    steady = statistics.median(row["train_seconds"] + row["test_seconds"] for row in steady_rows)
    train = statistics.median(row["train_seconds"] for row in steady_rows)
    return {
        "name": name,
        "warmup": max(wall - steady * len(epochs), 0.0),
        "epoch": steady,
        "steps_per_s": steps / train if train > 0 else float("nan"),
        "accuracy": rows[-1]["test_acc"],
        "epochs": len(rows),
        "wall": wall,
        "peak": peak,
        "note": note,
    }


def step_profile(binary, backend, config, slice_args, work, env, timeout, gpu):
    """`mnist-burn profile` of the seed config on `backend`: its table, or why it failed."""
    steps = "50" if slice_args else "300"
    code, stdout, stderr, _, _ = run_binary(
        binary, ["profile", "--config", config, "--backend", backend, "--steps", steps,
                 "--out", os.path.join(work, f"profile-{backend}")] + slice_args, env, timeout, gpu)
    if code != 0:
        return [f"profile {backend}: not run: {reason(stderr, stdout)}"]
    lines = stdout.splitlines()
    start = next((i for i, line in enumerate(lines) if line.startswith("Step profile")), 0)
    return [line for line in lines[start:] if not line.startswith("Wrote ")]


def throughput(binary, backends, config, quick, work, env, timeout, gpu):
    """`mnist-burn throughput` on `backends`: samples/s against batch size, or why not."""
    sizes = ["--batch-sizes", "32,256,1024", "--images", "2048"] if quick else []
    arguments = ["throughput", "--config", config, "--out", os.path.join(work, "throughput")] + sizes
    for backend in backends:
        arguments += ["--backend", backend]
    code, stdout, stderr, _, _ = run_binary(binary, arguments, env, timeout, gpu)
    if code != 0:
        return [f"throughput {', '.join(backends)}: not run: {reason(stderr, stdout)}"]
    return [line for line in stdout.splitlines() if not line.startswith("Wrote ")]


def reason(stderr, stdout):
    lines = [line for line in (stderr + "\n" + stdout).splitlines() if line.strip()]
    errors = [line for line in lines if line.startswith("error")] or lines[-1:] or ["failed"]
    return errors[-1][:150]


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--bundle", default=os.path.dirname(os.path.abspath(__file__)))
    parser.add_argument("--quick", action="store_true", help="a slice of the data, as without a GPU")
    parser.add_argument("--timeout", type=int, default=150, help="seconds per run")
    args = parser.parse_args()
    bundle = os.path.abspath(args.bundle)
    gpu = has_nvidia_gpu()
    quick = args.quick or not gpu
    python, torch_lib = torch_python()
    work = tempfile.mkdtemp(prefix="gpu-check-")
    unpack(bundle, work)
    env = environment(bundle, work, torch_lib)
    seed = os.path.join(bundle, "configs", "seed.toml")
    slice_args = QUICK_SLICE if quick else []
    steps = 1600 // 32 if quick else 60000 // 32
    print(f"gpu-check: {'NVIDIA GPU: ' + sh(['nvidia-smi', '-L']).stdout.strip() if gpu else 'no NVIDIA GPU'}"
          f"{'; quick mode: 1,600 training images per epoch' if quick else ''}", flush=True)

    preflight(bundle, env, python, torch_lib)

    results, failures, profiles = [], [], []
    for backend in BACKENDS:
        binary = binary_for(work, backend)
        if not os.path.exists(binary):
            failures.append((backend, f"{os.path.basename(binary)} is not in the bundle"))
            continue
        out = os.path.join(work, backend)
        code, stdout, stderr, wall, peak = run_binary(
            binary, ["train", "--config", seed, "--set", "epochs=3", "--backend", backend,
                     "--out", out, "--plain"] + slice_args, env, args.timeout, gpu)
        if code != 0:
            failures.append((backend, reason(stderr, stdout)))
            continue
        rows, record = read_run(out)
        results.append(summarise(f"{backend} seed", rows, wall, steps, peak, record.get("device", "")))
        print(f"  {backend}: done", flush=True)
        profiles.append(step_profile(binary, backend, seed, slice_args, work, env, args.timeout, gpu))

    if results:
        fastest = min(results, key=lambda row: row["epoch"])
        backend = fastest["name"].split()[0]
        binary = binary_for(work, backend)
        out = os.path.join(work, "default")
        default = os.path.join(bundle, "configs", "default.toml")
        # All 60,000 training images, as the PyTorch loop it is compared with uses (the
        # config's validation split would also not fit in the quick slice).
        extra = slice_args + ["--set", "data.validation=0"] + (["--set", "epochs=3"] if quick else [])
        code, stdout, stderr, wall, peak = run_binary(
            binary, ["train", "--config", default, "--backend", backend, "--out", out, "--plain"] + extra,
            env, args.timeout, gpu)
        if code == 0:
            rows, record = read_run(out)
            facts = record.get("environment", {})
            print(f"  manifest: commit {facts.get('git_commit', '?')} (dirty {facts.get('git_dirty', '?')}), "
                  f"Burn {facts.get('burn', '?')}, {facts.get('cpu', '?')}, {facts.get('threads', '?')} threads, "
                  f"{facts.get('os', '?')}", flush=True)
            default_steps = (1600 if quick else 60000) // 64
            results.append(summarise(f"{backend} default", rows, wall, default_steps, peak,
                                     f"wall {wall:.1f} s from process start"))
        else:
            failures.append((f"{backend} default", reason(stderr, stdout)))

    baseline = None
    if python:
        limits = ["--train-limit", "1600", "--test-limit", "1000"] if quick else []
        data = os.path.join(work, "cache", "burn-dataset", "mnist")
        found = sh([python, os.path.join(bundle, "torch_expert.py"), "--data", data, "--epochs", "3"] + limits,
                   timeout=args.timeout * 2)
        if found.returncode == 0:
            torch_run = json.loads(found.stdout.strip().splitlines()[-1])
            rows = [{"train_seconds": t, "test_seconds": v, "test_acc": a} for t, v, a in
                    zip(torch_run["train_seconds"], torch_run["test_seconds"], torch_run["test_accuracy"])]
            baseline = summarise("pytorch seed", rows, sum(t + v for t, v in zip(
                torch_run["train_seconds"], torch_run["test_seconds"])), torch_run["steps_per_epoch"],
                torch_run["peak_gpu_mib"], f"torch {torch_run['torch']} on {torch_run['device']}")
            baseline["warmup"] = float("nan")
        else:
            failures.append(("pytorch", reason(found.stderr, found.stdout)))
    else:
        failures.append(("pytorch", "no Python with torch found (set GPU_CHECK_PYTHON)"))

    header = f"{'run':<16} {'warm-up s':>9} {'epoch s':>8} {'steps/s':>9} {'acc %':>6} {'peak GPU MiB':>12} {'vs PyTorch':>10}  note"
    print("\n" + header + "\n" + "-" * len(header))
    for row in results + ([baseline] if baseline else []):
        ratio = f"{row['epoch'] / baseline['epoch']:.2f}x" if baseline and row["name"].endswith("seed") else ""
        peak = f"{row['peak']:.0f}" if row["peak"] is not None else "n/a"
        print(f"{row['name']:<16} {row['warmup']:>9.2f} {row['epoch']:>8.3f} {row['steps_per_s']:>9.0f} "
              f"{row['accuracy']:>6.2f} {peak:>12} {ratio:>10}  {row['note']}")
    for name, why in failures:
        print(f"{name:<16} not run: {why}")
    for lines in profiles:
        print("\n" + "\n".join(lines))
    ran = [backend for backend in BACKENDS if any(row["name"] == f"{backend} seed" for row in results)]
    for binary in sorted({binary_for(work, backend) for backend in ran}):
        backends = [backend for backend in ran if binary_for(work, backend) == binary]
        print("\n" + "\n".join(throughput(binary, backends, seed, quick, work, env, args.timeout * 4, gpu)))
    print("\nwarm-up: wall time beyond the steady epochs (start-up, device set-up, kernel compilation "
          "and autotuning, checkpoints, plots); epoch: median train+test seconds of epochs 2 on; "
          "vs PyTorch: epoch time over the PyTorch loop's (lower is faster).")
    sys.exit(0 if results else 1)


if __name__ == "__main__":
    main()
