"""gpu_check.py run whole, as on the GPU machine, on a fake bundle (the fakes are in
gpu_check_fakes.py); test_gpu_check.py imports these tests, so that it runs them too.
"""

import gzip
import json
import lzma
import os
import signal
import statistics
import subprocess
import sys
import tarfile
import time

from gpu_check_fakes import (BURN_EPOCHS, FAKE_BINARY, FAKE_NVIDIA_SMI, FAKE_PYTHON, FAKE_TORCH_EXPERT,
                             TORCH_EPOCHS, SCRIPT, Temporary, fake_deb, fake_driver, write)
from gpucheck.cuda import CUDA_ROOTS, LIBDEVICE
from gpucheck.loader import EGL_MANIFEST, VULKAN_MANIFEST
from gpucheck.report import ARCHIVE


def steady_epoch(epochs):
    """The seconds of a steady epoch as the table means it: the median of train + test over the
    epochs after the first."""
    return statistics.median(train + test for train, test in epochs[1:])


def running(pid):
    """Whether `pid` is a live process (a zombie nobody reaped yet is not one)."""
    try:
        with open(f"/proc/{pid}/stat") as file:
            return file.read().rsplit(")", 1)[1].split()[0] != "Z"
    except (OSError, IndexError):
        return False


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

    def run_check(self, *extra, gpu=None, quick=True, env=None, deadline=60, wait=True, own_group=False):
        """gpu_check.py on a fake bundle; `gpu` puts a fake nvidia-smi on PATH ("path") or only in
        the fake driver's bin/ ("driver"). With wait False, the running check (in a process group
        of its own with `own_group`)."""
        bundle = self.bundle()
        site = self.path("site-packages")
        os.makedirs(os.path.join(site, "torch", "lib"), exist_ok=True)
        write(os.path.join(site, "triton", "backends", "nvidia", "lib", "libdevice.10.bc"), "bitcode")
        python = write(self.path("bin", "python-with-torch"), FAKE_PYTHON, 0o755)
        variables = {key: value for key, value in os.environ.items()
                     if key not in ("VK_DRIVER_FILES", "VK_ICD_FILENAMES", "__EGL_VENDOR_LIBRARY_FILENAMES",
                                    "CUBECL_WGPU_DEFAULT_DEVICE", "CUDA_PATH", "GPU_CHECK_PYTHON")}
        variables.update({"GPU_CHECK_NVIDIA_ROOT": fake_driver(self.path("nvidia"), smi=gpu == "driver"),
                          "GPU_CHECK_ROOT": self.path("root"), "FAKE_TORCH_DIR": os.path.join(site, "torch")})
        if gpu == "path":
            write(self.path("gpu-bin", "nvidia-smi"), FAKE_NVIDIA_SMI, 0o755)
            variables["PATH"] = self.path("gpu-bin") + os.pathsep + variables.get("PATH", "")
        variables.update(env or {})
        self.out = self.path("out")
        command = [sys.executable, SCRIPT, "--bundle", bundle, "--out", self.out, "--deadline", str(deadline),
                   "--python", python, "--timeout", "30"] + (["--quick"] if quick else []) + list(extra)
        started = time.monotonic()
        if not wait:
            return subprocess.Popen(command, env=variables, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                                    start_new_session=own_group)
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

    def wait_for_sleepers(self, pids, count=2):
        """The pids of the sleeping step and its child, once the step has written them."""
        for _ in range(300):
            if os.path.exists(pids):
                with open(pids) as file:
                    found = [int(line) for line in file if line.strip()]
                if len(found) >= count:
                    return found
            time.sleep(0.1)
        self.fail(f"no sleeping step wrote {pids}")

    def assert_no_step_left(self, pids):
        """No process a step started outlives the check (those left are killed, then reported)."""
        with open(pids) as file:
            found = [int(line) for line in file if line.strip()]
        self.assertTrue(found)
        for _ in range(50):
            left = [pid for pid in found if running(pid)]
            if not left:
                return
            time.sleep(0.1)
        for pid in left:
            os.kill(pid, signal.SIGKILL)
        self.fail(f"processes of a step outlived the check: {left}")

    def test_a_gpu_machine_gets_the_loader_variables_and_every_row(self):
        done = self.run_check(gpu="path")
        self.assertEqual(done.returncode, 0, done.stdout + done.stderr)
        self.assert_comes_back()
        for name in ("cuda seed", "wgpu seed", "pytorch seed", "tch-cuda seed", "cuda default"):
            self.assertNotIn("failed", self.row(name))
        ratio = steady_epoch(BURN_EPOCHS) / steady_epoch(TORCH_EPOCHS)
        self.assertIn(f"{ratio:.2f}x", self.row("cuda seed"))  # the summary's ratio to PyTorch
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
        with open(os.path.join(self.out, "steps.log")) as file:
            self.assertIn("CUBECL_WGPU_DEFAULT_DEVICE=DiscreteGpu(0)", file.read())
        with open(os.path.join(self.out, "results.json")) as file:
            self.assertEqual(len(json.load(file)), 5)
        toolkit = [root for root in CUDA_ROOTS if os.path.isfile(os.path.join(root, LIBDEVICE))]
        self.require(not toolkit, f"{toolkit[0] if toolkit else ''} has libdevice, so Triton's copy is not taken")
        self.assertTrue(env["CUDA_PATH"].endswith(os.path.join("", "cuda")), env)
        self.assertIn("Triton's copy", report)

    def test_nvidia_smi_in_the_drivers_bin_alone_gives_the_full_mode(self):
        done = self.run_check(gpu="driver", quick=False)
        self.assertEqual(done.returncode, 0, done.stdout + done.stderr)
        first = self.report().splitlines()[0]
        self.assertIn("full mode", first)
        self.assertIn(self.path("nvidia", "bin", "nvidia-smi") + " -L", first)
        self.assertIn("GPU 0: NVIDIA H200", first)
        self.assertIn("  GPU       NVIDIA H200, 580.00, 143771 MiB", self.report())  # the bin/ is on PATH
        with tarfile.open(os.path.join(self.out, ARCHIVE)) as tar:
            env = json.load(tar.extractfile("gpu-check/runs/wgpu/env.json"))
        self.assertEqual(env["CUBECL_WGPU_DEFAULT_DEVICE"], "DiscreteGpu(0)")

    def test_without_a_gpu_wgpu_is_not_forced_and_cuda_says_why(self):
        done = self.run_check(env={"FAKE_CUDA": "nogpu"}, quick=False)
        self.assertEqual(done.returncode, 0, done.stdout + done.stderr)
        self.assertIn("quick mode (1,600 training images per epoch): no NVIDIA GPU (no nvidia-smi in", self.report())
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
        pids = self.path("pids")
        done = self.run_check(deadline=8, env={"FAKE_MODE": "sleep", "FAKE_PIDS": pids})
        self.assertLess(self.seconds, 8 + 6, done.stdout + done.stderr)
        self.assert_comes_back()
        self.assertIn("stopped after", self.row("cuda seed"))
        self.assertIn("skipped: the deadline", self.report())
        self.assertIn("starting, then nothing", self.row("cuda seed"))
        self.assertIn("Summary", self.report())
        self.assertIn("gpu-check/logs/01-cuda-seed.stdout", self.archived()[0])
        self.assert_no_step_left(pids)

    def test_a_sigterm_keeps_what_it_had_and_ends_the_running_step(self):
        pids = self.path("pids")
        process = self.run_check(deadline=120, env={"FAKE_WGPU": "sleep", "FAKE_PIDS": pids}, wait=False)
        self.wait_for_sleepers(pids)
        process.send_signal(signal.SIGTERM)
        stdout, stderr = process.communicate(timeout=30)
        self.out = self.path("out")
        self.assertEqual(process.returncode, 143, stdout + stderr)
        self.assertIn("gpu-check: stopped", self.report())
        self.assertNotIn("failed", self.row("cuda seed"))
        self.assert_comes_back()
        self.assertIn("gpu-check/runs/cuda/metrics.csv", self.archived()[0])
        self.assert_no_step_left(pids)

    def test_a_check_killed_with_its_process_group_leaves_no_step_behind(self):
        """As a time limit around the check ends it: SIGKILL to its group, which it cannot catch."""
        pids = self.path("pids")
        process = self.run_check(deadline=120, env={"FAKE_WGPU": "sleep", "FAKE_PIDS": pids}, wait=False,
                                 own_group=True)
        self.wait_for_sleepers(pids)
        os.killpg(process.pid, signal.SIGKILL)
        process.communicate(timeout=30)
        self.assert_no_step_left(pids)
