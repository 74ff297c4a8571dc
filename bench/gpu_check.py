"""`just gpu-check`: the GPU backends measured against an expert PyTorch loop, in one table.

Runs from a bundle made by `just gpu-bundle` (the stripped binary, the MNIST files, configs,
Debian's Vulkan loader and GL dispatch packages) on a machine with no Rust and no network, such
as a GPU machine with the NVIDIA driver mounted under /usr/local/nvidia and no Vulkan loader installed.

1. Vulkan: when the loader or glvnd's libraries that the driver needs (libvulkan.so.1,
   libGLdispatch.so.0, libEGL.so.1) are missing, the bundle's Debian packages (debs/*.deb) are
   unpacked into /, files already there kept, and `ldconfig` runs (what made Vulkan work on that
   machine; GPU_CHECK_ROOT or --root names another folder, which is then put on LD_LIBRARY_PATH
   instead). The loader is pointed at the driver's own manifests when they exist:
   VK_DRIVER_FILES=<driver>/share/vulkan/icd.d/nvidia_icd.json and
   __EGL_VENDOR_LIBRARY_FILENAMES=<driver>/share/glvnd/egl_vendor.d/10_nvidia.json, <driver>
   being /usr/local/nvidia or GPU_CHECK_NVIDIA_ROOT / --nvidia-root.
   With an NVIDIA GPU present the wgpu runs get CUBECL_WGPU_DEFAULT_DEVICE=DiscreteGpu(0): wgpu
   runs on a discrete GPU or its row fails at once saying why, never on a CPU adapter.
2. Pre-flight lines (each command under a timeout): the mode and why (full on an NVIDIA GPU:
   nvidia-smi, looked for in <driver>/bin first, lists one, or the driver's /dev/nvidiactl,
   /dev/nvidia0 or /proc/driver/nvidia/version is there), the GPU and driver, the loader
   and manifests, the Vulkan adapters and the one wgpu will use (name, type, driver: asked of
   the loader itself through ctypes, as wgpu asks it), the CUDA pieces Burn's cuda backend needs
   (the driver library; libdevice.10.bc, also from Triton's copy), PyTorch.
3. The steps, most valuable first, each given at most the time left before --deadline (the rest
   are skipped with a row saying so): the seed config for 3 epochs on cuda and wgpu, the seed
   config in PyTorch (bench/torch_expert.py), tch-cuda, the default config to the end on the
   fastest backend, then `mnist-burn profile` on each backend that ran and `mnist-burn
   throughput`.
4. What comes back (--out DIR, else a temporary folder; at most 8 files, one folder level):
   report.txt (everything printed, the table flushed row by row as each finishes), steps.log
   (each step's command, environment, exit status, stdout and stderr, appended as each step
   ends), results.json (the rows) and gpu-check.tar.gz (run folders, profiles, throughput
   files, per-step logs; rewritten after every step).

A time limit around the check must give it --deadline + 60 s (OUTER_MARGIN): the steps stay in
its process group, so a limit that signals the group ends them with it; SIGTERM or SIGINT to
the check alone ends the running step, then the check, keeping what it has (exit 143).

Without an NVIDIA GPU (or with --quick) every run uses a small slice of the data, so the whole
script also runs end to end on a CPU (wgpu over llvmpipe). Only the standard library is needed;
the parts live in gpucheck/ beside this file (the bundle carries both).

Usage: python3 gpu_check.py [--bundle DIR] [--out DIR] [--deadline SECONDS] [--quick]
       [--timeout SECONDS] [--root DIR] [--nvidia-root DIR] [--python PYTHON]
       python3 gpu_check.py --vulkan-adapters   (the Vulkan adapters as JSON, for the pre-flight)
       python3 gpu_check.py --bundle DIR --how-to-send   (what `just gpu-bundle` prints last)
"""

import argparse
import json
import os
import shutil
import signal
import sys
import tarfile
import tempfile

from gpucheck.commands import DEADLINE, Deadline
from gpucheck.loader import NVIDIA_ROOT
from gpucheck.preflight import prepare
from gpucheck.report import ARCHIVE, Output
from gpucheck.runs import Runs
from gpucheck.sending import how_to_send
from gpucheck.steps import Stopped
from gpucheck.vulkan import vulkan_adapters_here


def parse_args(argv):
    """The command line; --vulkan-adapters is the pre-flight's own probe, run in a child."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--bundle", default=os.path.dirname(os.path.abspath(__file__)))
    parser.add_argument("--out", help="folder for report.txt, steps.log, results.json and "
                                      f"{ARCHIVE} (default: a new temporary folder)")
    parser.add_argument("--deadline", type=float, default=DEADLINE,
                        help="seconds for the whole check; steps that would start later are skipped")
    parser.add_argument("--quick", action="store_true", help="a slice of the data, as without a GPU")
    parser.add_argument("--timeout", type=float, default=150, help="seconds at most per training run")
    parser.add_argument("--root", default=os.environ.get("GPU_CHECK_ROOT"),
                        help="where the bundle's Debian packages are unpacked (default /, when the "
                             "loader or glvnd is missing there; env GPU_CHECK_ROOT)")
    parser.add_argument("--nvidia-root", default=None,
                        help=f"the NVIDIA driver's folder (default {NVIDIA_ROOT}; env GPU_CHECK_NVIDIA_ROOT)")
    parser.add_argument("--python", default=None,
                        help="the Python with torch (default: GPU_CHECK_PYTHON, python3, this one)")
    parser.add_argument("--work", default=None, help="work folder (default: a new temporary folder)")
    parser.add_argument("--how-to-send", action="store_true",
                        help="the bundle's size with the repository's tracked files (exit 1 over 64 MiB), "
                             "what to copy to the GPU machine and the command to run there")
    parser.add_argument("--vulkan-adapters", action="store_true", help=argparse.SUPPRESS)
    return parser.parse_args(argv)


def main(argv=None):
    """Runs the check; whatever stops it, the rows so far, the archive and the file list are
    written. Returns 0 when a backend trained, 1 when none did, 143 when stopped."""
    args = parse_args(argv)
    if args.vulkan_adapters:
        try:
            print(json.dumps(vulkan_adapters_here()))
            return 0
        except RuntimeError as error:
            print(f"error: {error}", file=sys.stderr)
            return 1

    if args.how_to_send:
        try:
            lines, fits = how_to_send(args.bundle)
        except RuntimeError as error:
            lines, fits = [f"error: {error}"], False
        print("\n".join(lines), file=sys.stdout if fits else sys.stderr)
        return 0 if fits else 1

    deadline = Deadline(args.deadline)

    def stop(signum, _frame):
        raise Stopped(f"signal {signum}")

    signal.signal(signal.SIGTERM, stop)
    bundle = os.path.abspath(args.bundle)
    work = os.path.abspath(args.work) if args.work else tempfile.mkdtemp(prefix="gpu-check-")
    os.makedirs(work, exist_ok=True)
    out = os.path.abspath(args.out) if args.out else tempfile.mkdtemp(prefix="gpu-check-out-")
    output = Output(out, work)
    rows, code = [], 1
    try:
        code = check(args, bundle, work, output, deadline, rows)
    except (Stopped, KeyboardInterrupt) as error:
        output.say(f"\ngpu-check: stopped ({error or 'interrupted'}) after {deadline.elapsed():.0f} s; "
                   "the rows above and the files in --out are what it had")
        code = 143
    finally:
        signal.signal(signal.SIGTERM, signal.SIG_DFL)
        try:
            output.results(rows)
            output.archive()
        except (OSError, tarfile.TarError) as error:
            output.say(f"error: cannot write the archive: {error}")
        files = sorted(os.listdir(out))
        output.say(f"\nWrote {out}: {', '.join(files)}"
                   + (f"; left out of the archive (too large): {', '.join(output.left_out)}" if output.left_out else ""))
        output.close()
        if not args.work:
            shutil.rmtree(work, ignore_errors=True)
    return code


def check(args, bundle, work, output, deadline, rows):
    """The pre-flight, then the steps, most valuable first (the deadline skips the last)."""
    setup = prepare(args, bundle, work, output, deadline)
    runs = Runs(args, bundle, work, output, deadline, setup, rows)
    runs.header()
    runs.seed_run("cuda")
    runs.seed_run("wgpu")
    runs.pytorch()
    runs.seed_run("tch-cuda")
    runs.default()
    runs.profiles()
    runs.throughput()
    runs.summary()
    return 0 if runs.seed_rows else 1


if __name__ == "__main__":
    sys.exit(main())
