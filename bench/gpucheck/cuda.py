"""What Burn's cuda and tch-cuda backends need and the machine may hide: the GPU (nvidia-smi),
a Python with torch (its libraries serve the tch binary, its loop is the baseline), and
libdevice.10.bc, which a machine without the CUDA toolkit may only have inside pip packages.
"""

import glob
import os
import shutil
import sys

from .commands import PREFLIGHT_TIMEOUT, sh


def has_nvidia_gpu(timeout=PREFLIGHT_TIMEOUT):
    """nvidia-smi's list of GPUs, or None."""
    if not shutil.which("nvidia-smi"):
        return None
    found = sh(["nvidia-smi", "-L"], timeout=timeout)
    return found.stdout.strip() if found.ok and found.stdout.strip() else None


TORCH_QUESTION = ("import os, torch; print(os.path.dirname(torch.__file__)); "
                  "print(torch.__version__, torch.cuda.is_available())")


def torch_python(candidates=None, timeout=PREFLIGHT_TIMEOUT):
    """A Python that imports torch: (python, torch's folder (its lib/ serves the tch binary),
    "<version> <CUDA available>"), or (None, None, None). One import of torch per candidate."""
    if candidates is None:
        candidates = [os.environ.get("GPU_CHECK_PYTHON"), "python3", sys.executable]
    for python in dict.fromkeys(filter(None, candidates)):
        found = sh([python, "-c", TORCH_QUESTION], timeout=timeout)
        lines = found.stdout.strip().splitlines()
        if found.ok and len(lines) >= 2:
            return python, lines[-2], lines[-1]
    return None, None, None


LIBDEVICE = os.path.join("nvvm", "libdevice", "libdevice.10.bc")
CUDA_ROOTS = ["/usr/local/cuda", "/opt/cuda", "/usr/lib/cuda", "/usr"]


def libdevice(torch_dir, work, roots=None, environ=None):
    """Where Burn's cuda backend (cubecl-llvm) will find libdevice.10.bc, the CUDA math library
    its kernels link. cubecl-llvm looks in $CUDA_PATH/nvvm/libdevice, else under its fixed
    toolkit folders; when only a copy in PyTorch's pip packages is found (nvidia-cuda-nvcc's, or
    the one Triton ships as triton/backends/nvidia/lib/libdevice.10.bc) CUDA_PATH must name it:
    for Triton's a small tree <work>/cuda/nvvm/libdevice/libdevice.10.bc linked to it is made.
    Returns (the CUDA_PATH to set or None, the file, where it came from) or (None, None, None)."""
    environ = os.environ if environ is None else environ
    if environ.get("CUDA_PATH"):
        path = os.path.join(environ["CUDA_PATH"], LIBDEVICE)
        return (None, path, "CUDA_PATH") if os.path.isfile(path) else (None, None, None)
    for root in CUDA_ROOTS if roots is None else roots:
        if os.path.isdir(os.path.join(root, "nvvm", "libdevice")) and os.path.isfile(os.path.join(root, LIBDEVICE)):
            return None, os.path.join(root, LIBDEVICE), "toolkit"
    site = os.path.dirname(torch_dir) if torch_dir else None
    if not site:
        return None, None, None
    for found in sorted(glob.glob(os.path.join(site, "nvidia", "*", LIBDEVICE))):
        return os.path.dirname(os.path.dirname(os.path.dirname(found))), found, "pip (nvidia-cuda-nvcc)"
    triton = os.path.join(site, "triton", "backends", "nvidia", "lib", "libdevice.10.bc")
    if os.path.isfile(triton):
        tree = os.path.join(work, "cuda")
        link = os.path.join(tree, LIBDEVICE)
        os.makedirs(os.path.dirname(link), exist_ok=True)
        if os.path.lexists(link):
            os.remove(link)
        os.symlink(triton, link)
        # NVRTC kernels (if any) read CUDA_PATH/include: the first toolkit headers found.
        headers = [path for path in ["/usr/local/cuda/include", "/opt/cuda/include"]
                   + sorted(glob.glob(os.path.join(site, "nvidia", "*", "include"))) if os.path.isdir(path)]
        if headers and not os.path.lexists(os.path.join(tree, "include")):
            os.symlink(headers[0], os.path.join(tree, "include"))
        return tree, triton, "Triton's copy"
    return None, None, None
