"""The environment every run gets, and the pre-flight lines saying what was found.

The bundle is unpacked, the Vulkan loader installed where missing and pointed at the driver's
manifests, wgpu held to the GPU, CUDA_PATH set where libdevice is only in pip packages and
PyTorch's libraries put on LD_LIBRARY_PATH; each finding is printed before any run, so that a
row that fails can be read against them.
"""

import dataclasses
import os
import shutil
from typing import Optional

from .bundle import unpack
from .commands import find_library, reason, sh, timeout_for
from .cuda import LIBDEVICE, libdevice, nvidia_gpu, torch_python
from .loader import append_path, install_loader, nvidia_root, point_loader, prepend_path
from .steps import logged_variables
from .vulkan import describe_adapter, vulkan_adapters, wgpu_adapter

# wgpu's adapter on a machine with an NVIDIA GPU (cubecl-wgpu reads this for the default device).
WGPU_ON_GPU = "DiscreteGpu(0)"


@dataclasses.dataclass
class Setup:
    """What the runs take from the pre-flight."""

    env: dict  # every run's environment
    gpu: bool  # an NVIDIA GPU: nvidia-smi lists one, or the driver's device files are there
    quick: bool  # a slice of the data (--quick, or no NVIDIA GPU)
    python: Optional[str]  # a Python with torch, for the PyTorch loop
    wgpu_note: str  # the adapter wgpu takes, or why none: said on the wgpu rows


def prepare(args, bundle, work, output, deadline):
    """The runs' environment from the bundle, the driver and PyTorch, each finding printed."""
    driver = nvidia_root(args.nvidia_root)
    # A driver mounted under /usr/local/nvidia is often not on PATH: its nvidia-smi goes first,
    # for the GPU memory polls and the runs as for the question whether there is a GPU.
    prepend_path(os.environ, "PATH", [os.path.join(driver, "bin")])
    gpus, how = nvidia_gpu(driver, timeout_for(deadline))
    gpu = gpus is not None
    quick = args.quick or not gpu
    output.say(f"gpu-check: {mode(args.quick, gpus, how)}; deadline {args.deadline:.0f} s")

    def line(what, text):
        output.say(f"  {what:<9} {text}")

    # The environment of every run: the loader (unpacked if missing), the driver's manifests.
    env = dict(os.environ)
    env["XDG_CACHE_HOME"] = os.path.join(work, "cache")
    env["PYTHONUNBUFFERED"] = "1"
    unpack(bundle, work)
    root = os.path.abspath(args.root or (os.sep if os.access(os.sep, os.W_OK) else os.path.join(work, "root")))
    loader = install_loader(bundle, root, env, deadline)
    manifests = point_loader(env, driver, work, deadline)
    if gpu:
        env.setdefault("CUBECL_WGPU_DEFAULT_DEVICE", WGPU_ON_GPU)
    python, torch_dir, torch_version = torch_python([args.python] if args.python else None, timeout_for(deadline))
    if torch_dir:
        append_path(env, "LD_LIBRARY_PATH", [os.path.join(torch_dir, "lib")])

    query = sh(["nvidia-smi", "--query-gpu=name,driver_version,memory.total", "--format=csv,noheader"],
               timeout=timeout_for(deadline)) if gpu else None
    line("GPU", query.stdout.strip().replace("\n", "; ") if query and query.ok else
         (reason(query.stderr) if query else "no NVIDIA GPU (nvidia-smi)"))
    line("loader", loader)
    line("driver", manifests)
    wgpu_note = _vulkan_lines(env, line, deadline)
    line("CUDA", _point_cuda(env, torch_dir, work, deadline))
    line("PyTorch", f"{torch_version} (torch, CUDA available) via {python}" if python
         else "none found (set GPU_CHECK_PYTHON)")
    notes = os.path.join(bundle, "NOTES.txt")
    if os.path.exists(notes):
        with open(notes) as file:
            for text in file.read().splitlines():
                line("bundle", text)
    output.log(f"===== pre-flight ({deadline.elapsed():.1f} s)\nenv: {logged_variables(env)}\n")
    return Setup(env, gpu, quick, python, wgpu_note)


def mode(asked_quick, gpus, how):
    """Which mode runs and why, for the report's first line: full on an NVIDIA GPU, else quick
    (a slice of the data) because --quick asks for it or because no GPU was found."""
    if gpus is None:
        return f"quick mode (1,600 training images per epoch): no NVIDIA GPU ({how})"
    found = f"NVIDIA GPU: {gpus.replace(chr(10), '; ')} ({how})"
    return f"quick mode (1,600 training images per epoch), as --quick asks; {found}" if asked_quick \
        else f"full mode (all of MNIST): {found}"


def _vulkan_lines(env, line, deadline):
    """Prints the Vulkan adapters the runs reach and the one wgpu takes; returns the note the
    wgpu rows carry (that adapter, or why there is none)."""
    adapters, why = vulkan_adapters(env, timeout_for(deadline))
    forced = env.get("CUBECL_WGPU_DEFAULT_DEVICE")
    if adapters is None:
        line("Vulkan", f"no adapter: {why}")
        return f"Vulkan: {why}"
    line("Vulkan", "; ".join(describe_adapter(adapter) for adapter in adapters) or "no adapter")
    chosen, why_none = wgpu_adapter(adapters, forced)
    if chosen is None:
        line("wgpu", f"no adapter: {why_none}; its rows will fail")
        return why_none
    cpu = chosen["type"] == "CPU"
    line("wgpu", describe_adapter(chosen) + (f" [CUBECL_WGPU_DEFAULT_DEVICE={forced}]" if forced else "")
         + (": a CPU adapter, so the wgpu rows measure the CPU" if cpu else ""))
    return f"{chosen['name']} ({chosen['type']})" + (": a CPU adapter, not a GPU" if cpu else "")


def _point_cuda(env, torch_dir, work, deadline):
    """Sets CUDA_PATH in `env` where libdevice needs it; returns the CUDA line: the driver
    library, libdevice and nvcc, as Burn's cuda backend will find them."""
    cuda_path, device_library, source = libdevice(torch_dir, work, environ=env)
    if cuda_path:
        if env.get("CUDA_PATH"):
            source += f"; the given CUDA_PATH={env['CUDA_PATH']} has no {LIBDEVICE}"
        env["CUDA_PATH"] = cuda_path
    libcuda = find_library("libcuda.so.1", env, timeout_for(deadline))
    nvcc = sh(["nvcc", "--version"], timeout=timeout_for(deadline)) if shutil.which("nvcc") else None
    nvcc_text = ([text for text in nvcc.stdout.splitlines() if "release" in text] or ["nvcc"])[0].strip() \
        if nvcc and nvcc.ok else "no nvcc"
    return (f"driver library: {'libcuda.so.1 in ' + libcuda if libcuda else 'missing'}; libdevice: "
            + (f"{device_library} ({source}{', CUDA_PATH=' + cuda_path if cuda_path else ''})" if device_library
               else "not found (cuda kernels with math functions fail)") + f"; {nvcc_text}")
