"""Tests of gpu_check.py on a machine without a GPU, on fakes of what it drives (fake driver
trees, programs and packages in temporary folders: gpu_check_fakes.py). Standard library only;
`python3 -m unittest bench/test_gpu_check.py` (or `python3 bench/test_gpu_check.py`), a few
seconds. The tests of the whole check are in gpu_check_end_to_end.py, imported here so that
this file runs them too.

The real Debian packages are unpacked too when a bundle or the download cache has them
(.device/bundle/debs, .device/debs, or GPU_CHECK_DEBS naming a folder). A test that cannot run
here (no dpkg-deb, no git, no packages, a CUDA toolkit in the way) prints why and is skipped;
in CI (CI=true) it fails instead.
"""

import glob
import os
import shutil
import subprocess
import sys
import unittest
from unittest import mock

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

from gpu_check_fakes import (FAKE_LDCONFIG, REPOSITORY, SCRIPT, PANIC, Temporary, fake_deb, fake_driver,
                             tree, write)  # noqa: E402
from gpu_check_end_to_end import EndToEnd  # noqa: E402,F401  (run from here)
from gpucheck.commands import DEADLINE, OUTER_MARGIN, reason  # noqa: E402
from gpucheck.cuda import libdevice, nvidia_gpu  # noqa: E402
from gpucheck.loader import (DEB_PACKAGES, driver_manifests, install_loader, nvidia_root, point_loader,  # noqa: E402
                             unpack_deb)
from gpucheck.sending import REPORT_FOLDER, run_there  # noqa: E402
from gpucheck.vulkan import parse_vulkaninfo, vulkan_adapters, wgpu_adapter  # noqa: E402


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

    def test_the_same_files_as_dpkg_deb(self):
        self.require(shutil.which("dpkg-deb"), "no dpkg-deb to compare the unpacked files with")
        deb = fake_deb(self.path("libfake1_1.0_amd64.deb"))
        unpack_deb(deb, self.path("root"), overwrite=True)
        subprocess.run(["dpkg-deb", "-x", deb, self.path("dpkg")], check=True)
        self.assertEqual(tree(self.path("root")), tree(self.path("dpkg")))

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
        self.require(debs, "no downloaded Debian packages (just gpu-bundle downloads them)")
        names = {os.path.basename(deb).split("_")[0] for deb in debs}
        self.require(names >= set(DEB_PACKAGES), f"only {', '.join(sorted(names))} of the Debian packages")
        bundle = self.path("bundle")
        os.makedirs(os.path.join(bundle, "debs"))
        for deb in debs:
            shutil.copy(deb, os.path.join(bundle, "debs"))
        env = {}
        text = install_loader(bundle, self.path("root"), env)
        self.assertNotIn("failed", text)
        loader = glob.glob(self.path("root", "usr", "lib", "*-linux-gnu", "libvulkan.so.1"))
        self.assertTrue(loader and os.path.isfile(loader[0]), text)
        for library in ("libEGL.so.1", "libGL.so.1", "libGLX.so.0", "libGLdispatch.so.0", "libOpenGL.so.0",
                        "libGLESv2.so.2"):
            self.assertTrue(glob.glob(self.path("root", "usr", "lib", "*-linux-gnu", library)), library)


class SystemLoader(Temporary):
    """Whether the bundle's packages go into /, on a fake system whose `ldconfig -p` lists the
    files of one folder (the bundle has no packages, so nothing is written to /)."""

    def system(self, *libraries):
        folder = self.path("lib")
        os.makedirs(folder)
        for library in libraries:
            write(os.path.join(folder, library), "")
        write(self.path("sbin", "ldconfig"), FAKE_LDCONFIG.replace("FOLDER", folder), 0o755)
        path = mock.patch.dict(os.environ, {"PATH": self.path("sbin") + os.pathsep + os.environ.get("PATH", "")})
        path.start()
        self.addCleanup(path.stop)

    def test_a_loader_without_glvnd_is_not_enough(self):
        self.system("libvulkan.so.1")
        text = install_loader(self.path("bundle"), os.sep, {})
        self.assertIn("libGLdispatch.so.0, libEGL.so.1 missing", text)

    def test_the_systems_own_when_it_has_every_library(self):
        self.system("libvulkan.so.1", "libGLdispatch.so.0")
        env = {"LD_LIBRARY_PATH": os.path.dirname(write(self.path("glvnd", "libEGL.so.1"), ""))}
        self.assertTrue(install_loader(self.path("bundle"), os.sep, env).startswith("system's"))


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


class Gpu(Temporary):
    """Whether there is an NVIDIA GPU, with no nvidia-smi on PATH."""

    def setUp(self):
        super().setUp()
        path = mock.patch.dict(os.environ, {"PATH": self.path("empty")})
        path.start()
        self.addCleanup(path.stop)

    def test_nvidia_smi_in_the_drivers_bin(self):
        driver = fake_driver(self.path("nvidia"), smi=True)
        gpus, how = nvidia_gpu(driver, root=self.path("system"))
        self.assertEqual(gpus, "GPU 0: NVIDIA H200 (UUID: GPU-fake)")
        self.assertEqual(how, self.path("nvidia", "bin", "nvidia-smi") + " -L")

    def test_the_device_nodes_alone_as_under_gvisor(self):
        write(self.path("system", "dev", "nvidiactl"), "")
        write(self.path("system", "proc", "driver", "nvidia", "params"), "")
        gpus, how = nvidia_gpu(fake_driver(self.path("nvidia")), root=self.path("system"))
        self.assertEqual(gpus, "one, by " + self.path("system", "dev", "nvidiactl"))
        self.assertIn("no nvidia-smi in " + self.path("nvidia", "bin"), how)

    def test_none_says_where_it_looked(self):
        write(self.path("system", "proc", "driver", "nvidia", "params"), "")
        gpus, why = nvidia_gpu(fake_driver(self.path("nvidia")), root=self.path("system"))
        self.assertIsNone(gpus)
        self.assertIn(self.path("system", "proc", "driver", "nvidia", "version"), why)


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

    def test_a_cuda_path_without_libdevice_is_passed_over_and_replaced(self):
        """cubecl-llvm looks only in CUDA_PATH when it is set: the runs' must name the toolkit."""
        toolkit = self.path("cuda-13.0")
        write(os.path.join(toolkit, "nvvm", "libdevice", "libdevice.10.bc"), "bitcode")
        os.makedirs(self.path("runtime-only", "lib64"))
        self.assertEqual(libdevice(None, self.tmp, roots=[toolkit], environ={"CUDA_PATH": self.path("runtime-only")}),
                         (toolkit, os.path.join(toolkit, "nvvm", "libdevice", "libdevice.10.bc"), "toolkit"))




class Sending(Temporary):
    """`gpu_check.py --how-to-send`, the end of `just gpu-bundle`, on a fake repository."""

    def send(self, bundle_mib, tracked_mib):
        """The recipe's lines for a bundle and tracked files of these sizes (sparse files), with
        an ignored file and a tracked one deleted beside them: (exit status, output)."""
        self.require(shutil.which("git"), "no git")
        repository = self.path("repository")
        for path, mib in ((".device/bundle/mnist-burn.xz", bundle_mib), ("data.bin", tracked_mib),
                          ("target/ignored.bin", 100), ("gone.txt", 0)):
            write(os.path.join(repository, path), "")
            os.truncate(os.path.join(repository, path), mib << 20)
        write(os.path.join(repository, ".gitignore"), "/.device\n/target\n")
        subprocess.run(["git", "init", "-q", repository], check=True)
        subprocess.run(["git", "-C", repository, "add", "."], check=True)
        os.remove(os.path.join(repository, "gone.txt"))
        done = subprocess.run([sys.executable, SCRIPT, "--bundle", os.path.join(repository, ".device", "bundle"),
                               "--how-to-send"], capture_output=True, text=True, timeout=60)
        return done.returncode, done.stdout + done.stderr

    def test_both_sizes_and_the_whole_recipe(self):
        code, text = self.send(40, 3)
        self.assertEqual(code, 0, text)
        self.assertIn(".device/bundle 40.0 MiB + the repository's tracked files 3.0 MiB = 43.0 MiB of the 64", text)
        self.assertIn(f"{DEADLINE + OUTER_MARGIN} s (--deadline + {OUTER_MARGIN} s)", text)
        self.assertIn(f"python3 .device/bundle/gpu_check.py --bundle .device/bundle --out {REPORT_FOLDER} --deadline {DEADLINE}",
                      text)

    def test_a_bundle_that_fits_alone_but_not_with_the_repository(self):
        code, text = self.send(62, 3)
        self.assertEqual(code, 1, text)
        self.assertIn("error: .device/bundle 62.0 MiB + the repository's tracked files 3.0 MiB", text)

    def test_readme_and_the_gpu_page_show_the_recipe(self):
        command = run_there(".device/bundle")[3].strip()
        for page in ("README.md", os.path.join("docs", "backends-and-gpus.md")):
            with open(os.path.join(REPOSITORY, page)) as file:
                text = " ".join(file.read().split())
            for shown in (command, f"time limit of at least {DEADLINE + OUTER_MARGIN} s",
                          f"`--deadline` + {OUTER_MARGIN} s"):
                self.assertTrue(shown in text, f"{page} does not show {shown!r}")


if __name__ == "__main__":
    unittest.main()
