"""Tests of gpu_check.py on a machine without a GPU, with fakes for what it drives: a fake
`mnist-burn` (a script that writes a run folder, panics the way Rust does, or sleeps), a fake
`nvidia-smi`, a fake NVIDIA driver folder (GPU_CHECK_NVIDIA_ROOT), a fake Python with torch,
and a .deb built here. Standard library only; `python3 -m unittest bench/test_gpu_check.py`
(or `python3 bench/test_gpu_check.py`), a few seconds.

The real Debian packages are unpacked too when a bundle or the download cache has them
(.device/bundle/debs, .device/debs, or GPU_CHECK_DEBS naming a folder).
"""

import glob
import gzip
import io
import json
import lzma
import os
import shutil
import signal
import stat
import subprocess
import sys
import tarfile
import tempfile
import time
import unittest

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)

from gpucheck.commands import reason  # noqa: E402
from gpucheck.cuda import CUDA_ROOTS, libdevice  # noqa: E402
from gpucheck.loader import (DEB_PACKAGES, EGL_MANIFEST, VULKAN_MANIFEST, driver_manifests,  # noqa: E402
                             install_loader, nvidia_root, point_loader, unpack_deb)
from gpucheck.report import ARCHIVE  # noqa: E402
from gpucheck.vulkan import parse_vulkaninfo, vulkan_adapters, wgpu_adapter  # noqa: E402

SCRIPT = os.path.join(HERE, "gpu_check.py")
REPOSITORY = os.path.dirname(HERE)

PANIC = ("thread 'main' panicked at src/main.rs:5:9:\nboom: the message\n"
         "note: run with `RUST_BACKTRACE=1` environment variable to display a backtrace\n")

# A stand-in for mnist-burn: FAKE_<BACKEND> (e.g. FAKE_CUDA) or FAKE_MODE says what it does:
# ok (a run folder with metrics.csv, run.toml and env.json, the variables it was given), panic,
# nogpu (the binary's one-line error) or sleep (forever).
FAKE_BINARY = r'''#!PYTHON
import json, os, sys, time
args = sys.argv[1:]
command = args[0] if args else ""
def value(flag):
    return args[args.index(flag) + 1] if flag in args else None
backend = value("--backend") or "flex"
mode = os.environ.get("FAKE_" + backend.upper().replace("-", "_")) or os.environ.get("FAKE_MODE", "ok")
if mode == "sleep":
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
        for epoch in (1, 2, 3):
            file.write(f"{epoch},0.5,80.0,0.4,{85 + epoch}.0,0.{epoch}0,0.05\n")
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
'''.replace("#!PYTHON", "#!" + sys.executable).replace("PANIC_TEXT", repr(PANIC))

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

FAKE_TORCH_EXPERT = '''import json
print("epoch lines")
print(json.dumps({"train_seconds": [0.2, 0.1, 0.1], "test_seconds": [0.01, 0.01, 0.01],
                  "test_accuracy": [80.0, 81.0, 82.0], "steps_per_epoch": 50, "peak_gpu_mib": 12,
                  "torch": "2.11.0+fake", "device": "cuda"}))
'''

FAKE_NVIDIA_SMI = '''#!/bin/sh
case "$1" in
    -L) echo "GPU 0: NVIDIA H200 (UUID: GPU-fake)" ;;
    --query-gpu=memory.used) echo 1000 ;;
    --query-gpu=*) echo "NVIDIA H200, 580.00, 143771 MiB" ;;
    *) ;;
esac
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


class Temporary(unittest.TestCase):
    def setUp(self):
        self.tmp = tempfile.mkdtemp(prefix="test-gpu-check-")
        self.addCleanup(shutil.rmtree, self.tmp, True)

    def path(self, *parts):
        return os.path.join(self.tmp, *parts)


class Reasons(unittest.TestCase):
    def test_a_panic_gives_its_message_not_the_backtrace_note(self):
        why = reason(PANIC, "")
        self.assertIn("boom: the message", why)
        self.assertIn("src/main.rs:5:9", why)
        self.assertNotIn("RUST_BACKTRACE", why)

    def test_an_old_style_panic(self):
        why = reason("thread 'main' panicked at 'no adapter', src/lib.rs:3:1\n"
                     "note: run with `RUST_BACKTRACE=1` environment variable to display a backtrace\n")
        self.assertEqual(why, "panic: no adapter (src/lib.rs:3:1)")

    def test_the_last_error_line(self):
        why = reason("warning: x\nerror: first\nerror: no NVIDIA GPU found for backend `cuda`\nmore\n")
        self.assertEqual(why, "error: no NVIDIA GPU found for backend `cuda`")

    def test_never_the_backtrace_note(self):
        why = reason("something broke\nnote: run with `RUST_BACKTRACE=1` environment variable\n")
        self.assertEqual(why, "something broke")


class DebianPackages(Temporary):
    def test_a_deb_unpacks_like_dpkg_x(self):
        deb = fake_deb(self.path("libfake1_1.0_amd64.deb"))
        root = self.path("root")
        written, kept = unpack_deb(deb, root, overwrite=True)
        self.assertEqual((written, kept), (3, 0))
        library = os.path.join(root, "usr", "lib", "x86_64-linux-gnu")
        self.assertEqual(os.readlink(os.path.join(library, "libvulkan.so.1")), "libvulkan.so.1.3.999")
        with open(os.path.join(library, "libvulkan.so.1"), "rb") as file:
            self.assertEqual(file.read(), b"\x7fELF fake loader")
        if shutil.which("dpkg-deb"):
            other = self.path("dpkg")
            subprocess.run(["dpkg-deb", "-x", deb, other], check=True)
            self.assertEqual(tree(root), tree(other))

    def test_files_already_there_are_kept_unless_asked(self):
        deb = fake_deb(self.path("libfake1_1.0_amd64.deb"))
        root = self.path("root")
        existing = write(os.path.join(root, "usr", "lib", "x86_64-linux-gnu", "libvulkan.so.1.3.999"), "mine")
        self.assertEqual(unpack_deb(deb, root), (2, 1))
        with open(existing) as file:
            self.assertEqual(file.read(), "mine")

    def test_install_loader_puts_the_unpacked_libraries_first(self):
        bundle = self.path("bundle")
        fake_deb(os.path.join(bundle, "debs", "libfake1_1.0_amd64.deb"))
        env = {"LD_LIBRARY_PATH": "/elsewhere"}
        text = install_loader(bundle, self.path("root"), env)
        self.assertIn("unpacked 1 Debian packages", text)
        self.assertEqual(env["LD_LIBRARY_PATH"].split(":"),
                         [self.path("root", "usr", "lib", "x86_64-linux-gnu"), "/elsewhere"])

    def test_the_real_packages_when_present(self):
        folders = [os.environ.get("GPU_CHECK_DEBS"), os.path.join(REPOSITORY, ".device", "bundle", "debs"),
                   os.path.join(REPOSITORY, ".device", "debs")]
        debs = next((found for found in (sorted(glob.glob(os.path.join(folder, "*.deb")))
                                         for folder in folders if folder) if found), None)
        if not debs:
            self.skipTest("no downloaded Debian packages (just gpu-bundle downloads them)")
        bundle = self.path("bundle")
        os.makedirs(os.path.join(bundle, "debs"))
        for deb in debs:
            shutil.copy(deb, os.path.join(bundle, "debs"))
        env = {}
        text = install_loader(bundle, self.path("root"), env)
        self.assertNotIn("failed", text)
        loader = glob.glob(self.path("root", "usr", "lib", "*-linux-gnu", "libvulkan.so.1"))
        self.assertTrue(loader and os.path.isfile(loader[0]), text)
        names = {os.path.basename(deb).split("_")[0] for deb in debs}
        if names >= set(DEB_PACKAGES):
            for library in ("libEGL.so.1", "libGL.so.1", "libGLX.so.0", "libGLdispatch.so.0", "libOpenGL.so.0",
                            "libGLESv2.so.2"):
                self.assertTrue(glob.glob(self.path("root", "usr", "lib", "*-linux-gnu", library)), library)


def fake_driver(root, library="libGLX_nvidia_fake.so.0"):
    """A folder standing in for /usr/local/nvidia: its Vulkan and EGL manifests."""
    write(os.path.join(root, VULKAN_MANIFEST),
          json.dumps({"file_format_version": "1.0.0", "ICD": {"library_path": library, "api_version": "1.3"}}))
    write(os.path.join(root, EGL_MANIFEST),
          json.dumps({"file_format_version": "1.0.0", "ICD": {"library_path": "libEGL_nvidia.so.0"}}))
    return root


class Driver(Temporary):
    def test_the_manifests_are_found_and_the_loader_pointed_at_them(self):
        root = fake_driver(self.path("nvidia"))
        env = {}
        text = point_loader(env, root, self.tmp)
        self.assertEqual(env["VK_DRIVER_FILES"], os.path.join(root, "share/vulkan/icd.d/nvidia_icd.json"))
        self.assertEqual(env["__EGL_VENDOR_LIBRARY_FILENAMES"], os.path.join(root, "share/glvnd/egl_vendor.d/10_nvidia.json"))
        self.assertIn("VK_DRIVER_FILES=", text)

    def test_the_environment_variable_names_the_driver(self):
        old = os.environ.get("GPU_CHECK_NVIDIA_ROOT")
        os.environ["GPU_CHECK_NVIDIA_ROOT"] = self.path("nvidia")
        try:
            self.assertEqual(nvidia_root(), self.path("nvidia"))
            self.assertEqual(nvidia_root("/given"), "/given")
        finally:
            os.environ.pop("GPU_CHECK_NVIDIA_ROOT")
            if old is not None:
                os.environ["GPU_CHECK_NVIDIA_ROOT"] = old
        self.assertEqual(driver_manifests(self.path("nowhere")), {})


class Adapters(unittest.TestCase):
    CPU = {"name": "llvmpipe (LLVM 15.0.6, 256 bits)", "type": "CPU", "driver": "llvmpipe", "driver_info": "Mesa"}
    GPU = {"name": "NVIDIA H200", "type": "discrete GPU", "driver": "NVIDIA", "driver_info": "580.00"}

    def test_wgpu_prefers_a_discrete_gpu(self):
        self.assertEqual(wgpu_adapter([self.CPU, self.GPU])[0], self.GPU)
        self.assertEqual(wgpu_adapter([self.CPU])[0], self.CPU)

    def test_a_forced_discrete_gpu_never_falls_back_to_the_cpu(self):
        adapter, why = wgpu_adapter([self.CPU], "DiscreteGpu(0)")
        self.assertIsNone(adapter)
        self.assertIn("no discrete GPU", why)
        self.assertEqual(wgpu_adapter([self.CPU, self.GPU], "DiscreteGpu(0)")[0], self.GPU)

    def test_vulkaninfo_summary(self):
        text = ("Devices:\n========\nGPU0:\n\tapiVersion = 1.3.230\n\tvendorID = 0x10005\n"
                "\tdeviceType = PHYSICAL_DEVICE_TYPE_CPU\n\tdeviceName = llvmpipe (LLVM 15.0.6, 256 bits)\n"
                "\tdriverName = llvmpipe\n\tdriverInfo = Mesa 22.3.6\nGPU1:\n"
                "\tdeviceType = PHYSICAL_DEVICE_TYPE_DISCRETE_GPU\n\tdeviceName = NVIDIA H200\n")
        found = parse_vulkaninfo(text)
        self.assertEqual([(a["name"], a["type"]) for a in found],
                         [("llvmpipe (LLVM 15.0.6, 256 bits)", "CPU"), ("NVIDIA H200", "discrete GPU")])
        self.assertEqual(found[0]["driver"], "llvmpipe")

    def test_the_probe_answers_here(self):
        """Whatever this machine has: a list of adapters, or one line saying why not."""
        adapters, why = vulkan_adapters(dict(os.environ), timeout=20)
        self.assertTrue(adapters is not None or why, why)
        for adapter in adapters or []:
            self.assertTrue(adapter["name"] and adapter["type"])


class Libdevice(Temporary):
    def test_tritons_copy_gets_a_cuda_path_tree(self):
        site = self.path("site-packages")
        copy = write(os.path.join(site, "triton", "backends", "nvidia", "lib", "libdevice.10.bc"), "bitcode")
        os.makedirs(os.path.join(site, "torch", "lib"))
        cuda_path, found, source = libdevice(os.path.join(site, "torch"), self.path("work"),
                                             roots=[], environ={})
        self.assertEqual(cuda_path, self.path("work", "cuda"))
        self.assertEqual(os.path.realpath(os.path.join(cuda_path, "nvvm", "libdevice", "libdevice.10.bc")),
                         os.path.realpath(copy))
        self.assertIn("Triton", source)

    def test_a_toolkit_first(self):
        toolkit = self.path("cuda-13.0")
        write(os.path.join(toolkit, "nvvm", "libdevice", "libdevice.10.bc"), "bitcode")
        self.assertEqual(libdevice(None, self.tmp, roots=[toolkit], environ={})[0:2],
                         (None, os.path.join(toolkit, "nvvm", "libdevice", "libdevice.10.bc")))
        self.assertEqual(libdevice(None, self.tmp, roots=[], environ={}), (None, None, None))


class EndToEnd(Temporary):
    """gpu_check.py run as on the GPU machine, on a fake bundle."""

    def bundle(self):
        bundle = self.path("bundle")
        os.makedirs(os.path.join(bundle, "configs"))
        with lzma.open(os.path.join(bundle, "mnist-burn.xz"), "wt") as file:
            file.write(FAKE_BINARY)
        write(os.path.join(bundle, "configs", "seed.toml"), "epochs = 3\n")
        write(os.path.join(bundle, "configs", "default.toml"), "epochs = 5\n")
        write(os.path.join(bundle, "torch_expert.py"), FAKE_TORCH_EXPERT)
        write(os.path.join(bundle, "NOTES.txt"), "mnist-burn: a fake\n")
        os.makedirs(os.path.join(bundle, "mnist", "train"))
        with gzip.open(os.path.join(bundle, "mnist", "train", "train-labels-idx1-ubyte.gz"), "wb") as file:
            file.write(b"labels")
        fake_deb(os.path.join(bundle, "debs", "libfake1_1.0_amd64.deb"))
        return bundle

    def run_check(self, *extra, gpu=False, env=None, deadline=60, wait=True):
        bundle = self.bundle()
        site = self.path("site-packages")
        os.makedirs(os.path.join(site, "torch", "lib"), exist_ok=True)
        write(os.path.join(site, "triton", "backends", "nvidia", "lib", "libdevice.10.bc"), "bitcode")
        python = write(self.path("bin", "python-with-torch"), FAKE_PYTHON, 0o755)
        variables = {key: value for key, value in os.environ.items()
                     if key not in ("VK_DRIVER_FILES", "VK_ICD_FILENAMES", "__EGL_VENDOR_LIBRARY_FILENAMES",
                                    "CUBECL_WGPU_DEFAULT_DEVICE", "CUDA_PATH", "GPU_CHECK_PYTHON")}
        variables.update({"GPU_CHECK_NVIDIA_ROOT": fake_driver(self.path("nvidia")),
                          "GPU_CHECK_ROOT": self.path("root"), "FAKE_TORCH_DIR": os.path.join(site, "torch")})
        if gpu:
            write(self.path("gpu-bin", "nvidia-smi"), FAKE_NVIDIA_SMI, 0o755)
            variables["PATH"] = self.path("gpu-bin") + os.pathsep + variables.get("PATH", "")
        variables.update(env or {})
        self.out = self.path("out")
        command = [sys.executable, SCRIPT, "--bundle", bundle, "--out", self.out, "--deadline", str(deadline),
                   "--quick", "--python", python, "--timeout", "30"] + list(extra)
        started = time.monotonic()
        if not wait:
            return subprocess.Popen(command, env=variables, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        done = subprocess.run(command, env=variables, capture_output=True, text=True, timeout=deadline + 60)
        self.seconds = time.monotonic() - started
        return done

    def report(self):
        with open(os.path.join(self.out, "report.txt")) as file:
            return file.read()

    def row(self, name):
        """The row's last line: the summary's, when the check got that far."""
        return [line for line in self.report().splitlines() if line.startswith(name + " ")][-1]

    def archived(self):
        with tarfile.open(os.path.join(self.out, ARCHIVE)) as tar:
            return {member.name: member for member in tar.getmembers()}, tar

    def assert_comes_back(self):
        """What the device tool returns: at most 8 files, at most two folders down."""
        files = [os.path.relpath(os.path.join(parent, name), self.out)
                 for parent, _, names in os.walk(self.out) for name in names]
        self.assertLessEqual(len(files), 8, files)
        self.assertTrue(all(path.count(os.sep) <= 2 for path in files), files)
        for name in ("report.txt", "steps.log", "results.json", ARCHIVE):
            self.assertIn(name, files)

    def test_a_gpu_machine_gets_the_loader_variables_and_every_row(self):
        done = self.run_check(gpu=True)
        self.assertEqual(done.returncode, 0, done.stdout + done.stderr)
        self.assert_comes_back()
        for name in ("cuda seed", "wgpu seed", "pytorch seed", "tch-cuda seed", "cuda default"):
            self.assertNotIn("failed", self.row(name))
        self.assertIn("2.73x", self.row("cuda seed"))  # the summary's ratio to PyTorch
        report = self.report()
        self.assertIn("VK_DRIVER_FILES=" + self.path("nvidia", VULKAN_MANIFEST), report)
        self.assertIn("Step profile of seed.toml on wgpu", report)
        self.assertIn("fake     1000", report)
        members, _ = self.archived()
        self.assertIn("gpu-check/runs/wgpu/metrics.csv", members)
        self.assertIn("gpu-check/profiles/cuda/profile.json", members)
        with tarfile.open(os.path.join(self.out, ARCHIVE)) as tar:
            env = json.load(tar.extractfile("gpu-check/runs/wgpu/env.json"))
        self.assertEqual(env["VK_DRIVER_FILES"], self.path("nvidia", VULKAN_MANIFEST))
        self.assertEqual(env["__EGL_VENDOR_LIBRARY_FILENAMES"], self.path("nvidia", EGL_MANIFEST))
        self.assertEqual(env["CUBECL_WGPU_DEFAULT_DEVICE"], "DiscreteGpu(0)")
        self.assertEqual(env["LD_LIBRARY_PATH"].split(":")[0], self.path("root", "usr", "lib", "x86_64-linux-gnu"))
        self.assertTrue(os.path.islink(self.path("root", "usr", "lib", "x86_64-linux-gnu", "libvulkan.so.1")))
        if not any(os.path.isdir(os.path.join(root, "nvvm", "libdevice")) for root in CUDA_ROOTS):
            self.assertTrue(env["CUDA_PATH"].endswith(os.path.join("", "cuda")), env)
            self.assertIn("Triton's copy", report)
        with open(os.path.join(self.out, "steps.log")) as file:
            self.assertIn("CUBECL_WGPU_DEFAULT_DEVICE=DiscreteGpu(0)", file.read())
        with open(os.path.join(self.out, "results.json")) as file:
            self.assertEqual(len(json.load(file)), 5)

    def test_without_a_gpu_wgpu_is_not_forced_and_cuda_says_why(self):
        done = self.run_check(env={"FAKE_CUDA": "nogpu"})
        self.assertEqual(done.returncode, 0, done.stdout + done.stderr)
        self.assertIn("error: no NVIDIA GPU found for backend `cuda`", self.row("cuda seed"))
        self.assertIn("wgpu default", self.report())
        with tarfile.open(os.path.join(self.out, ARCHIVE)) as tar:
            env = json.load(tar.extractfile("gpu-check/runs/wgpu/env.json"))
        self.assertIsNone(env["CUBECL_WGPU_DEFAULT_DEVICE"])

    def test_a_panic_gives_a_readable_row_and_the_whole_stderr_in_the_log(self):
        self.run_check(env={"FAKE_CUDA": "panic"})
        row = self.row("cuda seed")
        self.assertIn("boom: the message", row)
        self.assertNotIn("RUST_BACKTRACE", row)
        with open(os.path.join(self.out, "steps.log")) as file:
            log = file.read()
        self.assertIn("note: run with `RUST_BACKTRACE=1`", log)
        self.assertIn("exit 101", log)
        self.assertIn("gpu-check/logs/01-cuda-seed.stderr", self.archived()[0])

    def test_the_deadline_stops_a_hung_step_and_skips_the_rest(self):
        done = self.run_check(deadline=8, env={"FAKE_MODE": "sleep"})
        self.assertLess(self.seconds, 8 + 6, done.stdout + done.stderr)
        self.assert_comes_back()
        self.assertIn("stopped after", self.row("cuda seed"))
        self.assertIn("skipped: the deadline", self.report())
        self.assertIn("starting, then nothing", self.row("cuda seed"))
        self.assertIn("Summary", self.report())
        self.assertIn("gpu-check/logs/01-cuda-seed.stdout", self.archived()[0])

    def test_a_sigterm_keeps_what_it_had(self):
        process = self.run_check(deadline=120, env={"FAKE_WGPU": "sleep"}, wait=False)
        report = os.path.join(self.path("out"), "report.txt")
        for _ in range(200):  # until the wgpu run has started
            if os.path.exists(report):
                with open(report) as file:
                    if "cuda seed" in file.read():
                        break
            time.sleep(0.1)
        time.sleep(0.5)
        process.send_signal(signal.SIGTERM)
        stdout, stderr = process.communicate(timeout=30)
        self.out = self.path("out")
        self.assertEqual(process.returncode, 143, stdout + stderr)
        self.assertIn("gpu-check: stopped", self.report())
        self.assertNotIn("failed", self.row("cuda seed"))
        self.assert_comes_back()
        self.assertIn("gpu-check/runs/cuda/metrics.csv", self.archived()[0])


if __name__ == "__main__":
    unittest.main()
