"""The fakes bench/test_gpu_check.py drives gpu_check.py with, on a machine without a GPU: a
fake `mnist-burn` (a script that writes a run folder, panics the way Rust does, or sleeps), a
fake `nvidia-smi`, a fake `ldconfig`, a fake NVIDIA driver folder, a fake Python with torch, a
.deb built here, and the test base that makes a temporary folder and skips (or, in CI, fails)
what a machine cannot run.
"""

import io
import json
import os
import shutil
import stat
import sys
import tarfile
import tempfile
import unittest

from gpucheck.loader import EGL_MANIFEST, VULKAN_MANIFEST

HERE = os.path.dirname(os.path.abspath(__file__))
SCRIPT = os.path.join(HERE, "gpu_check.py")
REPOSITORY = os.path.dirname(HERE)

PANIC = ("thread 'main' panicked at src/main.rs:5:9:\nboom: the message\n"
         "note: run with `RUST_BACKTRACE=1` environment variable to display a backtrace\n")

# Each fake epoch's train and test seconds. Three steady epochs after the warm-up one, uneven,
# so that a ratio of medians differs from one of means or one counting the warm-up.
BURN_EPOCHS = [(0.40, 0.05), (0.20, 0.05), (0.25, 0.05), (0.60, 0.05)]
TORCH_EPOCHS = [(0.30, 0.01), (0.10, 0.01), (0.11, 0.01), (0.30, 0.01)]

# A stand-in for mnist-burn: FAKE_<BACKEND> (e.g. FAKE_CUDA) or FAKE_MODE says what it does:
# ok (a run folder with metrics.csv of BURN_EPOCHS, run.toml and env.json, the variables it was
# given), panic, nogpu (the binary's one-line error) or sleep (forever, with a child that sleeps
# too; both pids appended to the file FAKE_PIDS names, when it does).
FAKE_BINARY = r'''#!PYTHON
import json, os, subprocess, sys, time
args = sys.argv[1:]
command = args[0] if args else ""
def value(flag):
    return args[args.index(flag) + 1] if flag in args else None
backend = value("--backend") or "flex"
mode = os.environ.get("FAKE_" + backend.upper().replace("-", "_")) or os.environ.get("FAKE_MODE", "ok")
if mode == "sleep":
    child = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(3600)"])
    if os.environ.get("FAKE_PIDS"):
        with open(os.environ["FAKE_PIDS"], "a") as file:
            file.write(f"{os.getpid()}\n{child.pid}\n")
    print("starting, then nothing", flush=True)
    time.sleep(3600)
if mode == "panic":
    sys.stderr.write(PANIC_TEXT)
    sys.exit(101)
if mode == "nogpu":
    sys.stderr.write(f"error: no NVIDIA GPU found for backend `{backend}` (no NVIDIA driver); use --backend flex\n")
    sys.exit(2)
out = value("--out")
keys = ["VK_DRIVER_FILES", "VK_ICD_FILENAMES", "__EGL_VENDOR_LIBRARY_FILENAMES", "CUBECL_WGPU_DEFAULT_DEVICE",
        "LD_LIBRARY_PATH", "CUDA_PATH", "XDG_CACHE_HOME"]
if command == "train":
    os.makedirs(out, exist_ok=True)
    with open(os.path.join(out, "metrics.csv"), "w") as file:
        file.write("epoch,train_loss,train_acc,test_loss,test_acc,train_seconds,test_seconds\n")
        for epoch, (train, test) in enumerate(BURN_EPOCHS, 1):
            file.write(f"{epoch},0.5,80.0,0.4,{85 + epoch}.0,{train},{test}\n")
    with open(os.path.join(out, "run.toml"), "w") as file:
        file.write(f'backend = "{backend}"\ndevice = "Device<Fake({backend})>"\n\n[environment]\nburn = "0.22.1"\n')
    with open(os.path.join(out, "env.json"), "w") as file:
        json.dump({key: os.environ.get(key) for key in keys}, file)
    print(f"Training on Device<Fake({backend})>")
elif command == "profile":
    os.makedirs(out, exist_ok=True)
    with open(os.path.join(out, "profile.json"), "w") as file:
        file.write("{}")
    print(f"noise\nStep profile of seed.toml on {backend} (Device<Fake>): 50 steps\nphase   us/step\nWrote x")
elif command == "throughput":
    os.makedirs(out, exist_ok=True)
    print("Training samples per second, 2048 images per epoch:\nbackend  batch 32\nfake     1000\nWrote y")
'''.replace("#!PYTHON", "#!" + sys.executable).replace("PANIC_TEXT", repr(PANIC)).replace(
    "BURN_EPOCHS", repr(BURN_EPOCHS))

# A Python "with torch": answers gpu_check's two -c questions, runs scripts with this Python.
FAKE_PYTHON = r'''#!PYTHON
import os, runpy, sys
if sys.argv[1] == "-c":
    print(os.environ["FAKE_TORCH_DIR"])
    print("2.11.0+fake True")
    sys.exit(0)
sys.argv = sys.argv[1:]
runpy.run_path(sys.argv[0], run_name="__main__")
'''.replace("#!PYTHON", "#!" + sys.executable)

FAKE_TORCH_EXPERT = f'''import json
print("epoch lines")
print(json.dumps({{"train_seconds": {[train for train, _ in TORCH_EPOCHS]},
                  "test_seconds": {[test for _, test in TORCH_EPOCHS]},
                  "test_accuracy": {[80.0 + epoch for epoch in range(len(TORCH_EPOCHS))]}, "steps_per_epoch": 50,
                  "peak_gpu_mib": 12, "torch": "2.11.0+fake", "device": "cuda"}}))
'''

FAKE_NVIDIA_SMI = '''#!/bin/sh
case "$1" in
    -L) echo "GPU 0: NVIDIA H200 (UUID: GPU-fake)" ;;
    --query-gpu=memory.used) echo 1000 ;;
    --query-gpu=*) echo "NVIDIA H200, 580.00, 143771 MiB" ;;
    *) ;;
esac
'''

# `ldconfig -p` of a system whose cache holds the files of one folder (FOLDER); any other use
# of it does nothing.
FAKE_LDCONFIG = r'''#!/bin/sh
[ "$1" = -p ] || exit 0
for path in FOLDER/*; do
    [ -e "$path" ] && printf '\t%s (libc6,x86-64) => %s\n' "$(basename "$path")" "$path"
done
exit 0
'''


def write(path, text, mode=0o644):
    os.makedirs(os.path.dirname(path), exist_ok=True)
    with open(path, "w") as file:
        file.write(text)
    os.chmod(path, mode)
    return path


def ar_archive(members):
    """An `ar` archive (the container of a .deb) of (name, bytes) pairs."""
    data = b"!<arch>\n"
    for name, content in members:
        data += f"{name:<16}{0:<12}{0:<6}{0:<6}{'100644':<8}{len(content):<10}`\n".encode()
        data += content + (b"\n" if len(content) % 2 else b"")
    return data


def tar_xz(entries):
    """data.tar.xz bytes of entries: (name, bytes) files, (name, None) folders, (name, '->target') links."""
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w:xz") as tar:
        for name, content in entries:
            info = tarfile.TarInfo(name)
            if content is None:
                info.type, info.mode = tarfile.DIRTYPE, 0o755
                tar.addfile(info)
            elif isinstance(content, str):
                info.type, info.linkname = tarfile.SYMTYPE, content[2:]
                tar.addfile(info)
            else:
                info.size, info.mode = len(content), 0o644
                tar.addfile(info, io.BytesIO(content))
    return buffer.getvalue()


def fake_deb(path):
    """A small .deb like Debian's libvulkan1: a library, a link to it, a doc file."""
    control = io.BytesIO()
    with tarfile.open(fileobj=control, mode="w:xz") as tar:
        text = b"Package: libfake1\nVersion: 1.0\nArchitecture: amd64\nMaintainer: t <t@t>\nDescription: fake\n"
        info = tarfile.TarInfo("./control")
        info.size = len(text)
        tar.addfile(info, io.BytesIO(text))
    data = tar_xz([("./", None), ("./usr/", None), ("./usr/lib/", None), ("./usr/lib/x86_64-linux-gnu/", None),
                   ("./usr/lib/x86_64-linux-gnu/libvulkan.so.1.3.999", b"\x7fELF fake loader"),
                   ("./usr/share/", None), ("./usr/share/doc/", None), ("./usr/share/doc/libfake1/", None),
                   ("./usr/share/doc/libfake1/copyright", b"free"),
                   ("./usr/lib/x86_64-linux-gnu/libvulkan.so.1", "->libvulkan.so.1.3.999")])
    os.makedirs(os.path.dirname(path), exist_ok=True)
    with open(path, "wb") as file:
        file.write(ar_archive([("debian-binary", b"2.0\n"), ("control.tar.xz", control.getvalue()),
                               ("data.tar.xz", data)]))
    return path


def tree(root):
    """Files and links under root: relative path -> ('link', target) or ('file', mode, bytes)."""
    found = {}
    for parent, _, files in os.walk(root):
        for name in files:
            path = os.path.join(parent, name)
            relative = os.path.relpath(path, root)
            if os.path.islink(path):
                found[relative] = ("link", os.readlink(path))
            else:
                with open(path, "rb") as file:
                    found[relative] = ("file", stat.S_IMODE(os.stat(path).st_mode), file.read())
    return found


def in_ci():
    """CI=true (or 1), as CI services set it: CI installs everything the tests need."""
    return os.environ.get("CI") in ("true", "1")


class Temporary(unittest.TestCase):
    def setUp(self):
        self.tmp = tempfile.mkdtemp(prefix="test-gpu-check-")
        self.addCleanup(shutil.rmtree, self.tmp, True)

    def path(self, *parts):
        return os.path.join(self.tmp, *parts)

    def require(self, available, why):
        """Goes on when `available`; else skips the test with one printed line saying why, or,
        in CI (which installs everything), fails it, as the Rust tests' skips do."""
        if available:
            return
        if in_ci():
            self.fail(f"{self.id()} cannot run: {why} (CI installs everything the tests need)")
        print(f"SKIPPED {self.id()}: {why}", file=sys.stderr)
        self.skipTest(why)


def fake_driver(root, library="libGLX_nvidia_fake.so.0", smi=False):
    """A folder standing in for /usr/local/nvidia: its Vulkan and EGL manifests, and with `smi`
    a fake nvidia-smi in its bin/."""
    if smi:
        write(os.path.join(root, "bin", "nvidia-smi"), FAKE_NVIDIA_SMI, 0o755)
    write(os.path.join(root, VULKAN_MANIFEST),
          json.dumps({"file_format_version": "1.0.0", "ICD": {"library_path": library, "api_version": "1.3"}}))
    write(os.path.join(root, EGL_MANIFEST),
          json.dumps({"file_format_version": "1.0.0", "ICD": {"library_path": "libEGL_nvidia.so.0"}}))
    return root

