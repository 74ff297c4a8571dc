"""What Burn's cuda and tch-cuda backends need and the machine may hide: the GPU (nvidia-smi,
else the driver's files), a Python with torch (its libraries serve the tch binary, its loop is
the baseline), and libdevice.10.bc, which a machine without the CUDA toolkit may only have
inside pip packages.
"""

import glob
import os
import shutil
import sys

from .commands import PREFLIGHT_TIMEOUT, reason, sh


# What the NVIDIA driver leaves in a machine's file tree. Under gVisor's GPU proxy only the
# device nodes (and /proc/driver/nvidia/params) exist, so any one of these is enough.
DRIVER_FILES = ("dev/nvidiactl", "dev/nvidia0", "proc/driver/nvidia/version")


def driver_file(root=os.sep):
    """The first of DRIVER_FILES under `root` (/ on a real machine) that exists, or None."""
    return next((os.path.join(root, name) for name in DRIVER_FILES if os.path.exists(os.path.join(root, name))), None)


def nvidia_gpu(driver, timeout=PREFLIGHT_TIMEOUT, root=os.sep):
    """(the NVIDIA GPUs, how they were found) or (None, why none): the list of the first
    nvidia-smi in the driver's bin/ or on PATH, else a driver file under `root` (the GPU is then
    known by that file alone: the runs find out whether it works)."""
    smi = shutil.which("nvidia-smi", path=os.pathsep.join([os.path.join(driver, "bin"), os.environ.get("PATH", "")]))
    if smi:
        found = sh([smi, "-L"], timeout=timeout)
        if found.ok and found.stdout.strip():
            return found.stdout.strip(), f"{smi} -L"
        why = f"{smi} -L: {reason(found.stderr, found.stdout)}"
    else:
        why = f"no nvidia-smi in {os.path.join(driver, 'bin')} or on PATH"
    sign = driver_file(root)
    if sign:
        return f"one, by {sign}", why
    return None, f"{why}; none of {', '.join(os.path.join(root, name) for name in DRIVER_FILES)}"


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
    its kernels link. cubecl-llvm looks only in $CUDA_PATH/nvvm/libdevice when CUDA_PATH is set,
    else in the first of its fixed toolkit folders that has nvvm/libdevice; so wherever the file
    is found outside the folder it would take (a CUDA_PATH without it, say), CUDA_PATH must name
    it: a toolkit folder, or a copy in PyTorch's pip packages (nvidia-cuda-nvcc's, or the one
    Triton ships as triton/backends/nvidia/lib/libdevice.10.bc, for which a small tree
    <work>/cuda/nvvm/libdevice/libdevice.10.bc linked to it is made).
    Returns (the CUDA_PATH to set or None, the file, where it came from) or (None, None, None)."""
    named = (os.environ if environ is None else environ).get("CUDA_PATH")
    roots = CUDA_ROOTS if roots is None else roots
    taken = named or next((root for root in roots if os.path.isdir(os.path.join(root, "nvvm", "libdevice"))), None)
    if taken and os.path.isfile(os.path.join(taken, LIBDEVICE)):
        return None, os.path.join(taken, LIBDEVICE), "CUDA_PATH" if named else "toolkit"
    for root in roots:
        if os.path.isfile(os.path.join(root, LIBDEVICE)):
            return root, os.path.join(root, LIBDEVICE), "toolkit"
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
