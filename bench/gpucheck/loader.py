"""The Vulkan loader on a machine without one, pointed at the NVIDIA driver's own manifests.

A GPU machine may mount its driver under /usr/local/nvidia with no Vulkan loader, and no dpkg
may be usable there: the bundle's Debian packages are unpacked here in Python (a .deb is an `ar`
archive holding data.tar.{xz,gz,bz2,zst}), then the loader is told where the driver is.
"""

import glob
import io
import json
import os
import shutil
import subprocess
import tarfile

from .commands import find_library, reason, sh, timeout_for

# Debian's packages that bring Vulkan (and EGL/GL through glvnd) to a machine without them.
DEB_PACKAGES = ["libvulkan1", "libegl1", "libglvnd0", "libopengl0", "libgl1", "libglx0", "libgles2"]
# What the NVIDIA driver's Vulkan and EGL libraries need from the system: the loader, and
# glvnd's dispatch and EGL libraries (a machine may have the loader without glvnd).
DRIVER_NEEDS = ("libvulkan.so.1", "libGLdispatch.so.0", "libEGL.so.1")
NVIDIA_ROOT = "/usr/local/nvidia"
VULKAN_MANIFEST = os.path.join("share", "vulkan", "icd.d", "nvidia_icd.json")
EGL_MANIFEST = os.path.join("share", "glvnd", "egl_vendor.d", "10_nvidia.json")


def ar_members(path):
    """The members of an `ar` archive: (name, bytes) pairs."""
    with open(path, "rb") as file:
        if file.read(8) != b"!<arch>\n":
            raise ValueError(f"{path}: not an ar archive (a .deb is one)")
        members = []
        while True:
            header = file.read(60)
            if len(header) < 60:
                return members
            if header[58:60] != b"`\n":
                raise ValueError(f"{path}: damaged ar header")
            name = header[:16].decode("ascii", "replace").strip().rstrip("/")
            size = int(header[48:58].decode("ascii").strip())
            members.append((name, file.read(size)))
            if size % 2:
                file.read(1)


def deb_data_tar(path):
    """The file tree of a .deb as an open tarfile (xz, gzip or bzip2 with the standard library;
    zstd, which Ubuntu's packages use, through the `zstd` program or dpkg-deb when present)."""
    for name, data in ar_members(path):
        if not name.startswith("data.tar"):
            continue
        if name.endswith(".zst"):
            for command in (["zstd", "-dc"], ["unzstd", "-c"]):
                if shutil.which(command[0]):
                    found = subprocess.run(command, input=data, capture_output=True, timeout=120)
                    if found.returncode == 0:
                        return tarfile.open(fileobj=io.BytesIO(found.stdout), mode="r:")
            if shutil.which("dpkg-deb"):
                found = subprocess.run(["dpkg-deb", "--fsys-tarfile", path], capture_output=True, timeout=120)
                if found.returncode == 0:
                    return tarfile.open(fileobj=io.BytesIO(found.stdout), mode="r:")
            raise ValueError(f"{path}: {name} needs zstd or dpkg-deb, neither found")
        return tarfile.open(fileobj=io.BytesIO(data), mode="r:*")
    raise ValueError(f"{path}: no data.tar member")


def _inside(root, name):
    """`name` from a package as a path under `root`, or None for '.' or one that leaves root."""
    parts = [part for part in name.split("/") if part not in ("", ".")]
    if not parts or ".." in parts:
        return None
    return os.path.join(root, *parts)


def unpack_deb(path, root, overwrite=False):
    """`dpkg -x path root` in Python: files and links written, folders made but never changed
    (a folder's mode or owner stays as it is, / included). With overwrite False a file already
    there is kept. Returns (written, kept) counts."""
    written = kept = 0
    with deb_data_tar(path) as tar:
        for member in tar.getmembers():
            target = _inside(root, member.name)
            if target is None:
                continue
            if member.isdir():
                os.makedirs(target, exist_ok=True)
                continue
            os.makedirs(os.path.dirname(target), exist_ok=True)
            if os.path.lexists(target) and (not overwrite or os.path.isdir(target) and not os.path.islink(target)):
                kept += 1
                continue
            partial = target + ".gpu-check-partial"
            if os.path.lexists(partial):
                os.remove(partial)
            if member.issym():
                os.symlink(member.linkname, partial)
            elif member.islnk():
                source = _inside(root, member.linkname)
                if source is None or not os.path.exists(source):
                    continue
                shutil.copy2(source, partial)
            elif member.isfile():
                with tar.extractfile(member) as source, open(partial, "wb") as sink:
                    shutil.copyfileobj(source, sink)
                os.chmod(partial, member.mode & 0o777)
            else:
                continue  # devices, fifos: none in these packages
            os.replace(partial, target)
            written += 1
    return written, kept


def library_dirs(root):
    """The multiarch library folders under `root` (usr/lib/x86_64-linux-gnu, lib/...)."""
    return sorted(path for pattern in ("usr/lib/*-linux-gnu", "lib/*-linux-gnu", "usr/lib64")
                  for path in glob.glob(os.path.join(root, pattern)) if os.path.isdir(path))


def install_loader(bundle, root, env, deadline=None):
    """The bundle's Debian packages (debs/*.deb) unpacked so that the Vulkan loader and the
    libraries the NVIDIA driver needs beside it are found.

    Into / (then `ldconfig`) only when one of DRIVER_NEEDS is missing there, files already
    there kept; into any other root always, that root's library folders then going first on
    env's LD_LIBRARY_PATH. Returns one line saying what was done."""
    debs = sorted(glob.glob(os.path.join(bundle, "debs", "*.deb")))
    system = os.path.abspath(root) == os.path.abspath(os.sep)
    missing = missing_libraries(env, deadline) if system else DRIVER_NEEDS
    if not missing:
        return f"system's (the loader finds {', '.join(DRIVER_NEEDS)})"
    if not debs:
        return f"none: {', '.join(missing)} missing here and no debs/*.deb in {bundle}"
    written = kept = 0
    failed = []
    for deb in debs:
        try:
            counts = unpack_deb(deb, root, overwrite=not system)
            written, kept = written + counts[0], kept + counts[1]
        except (OSError, ValueError, tarfile.TarError) as error:
            failed.append(f"{os.path.basename(deb)}: {error}")
    names = ", ".join(os.path.basename(deb).split("_")[0] for deb in debs)
    text = f"{', '.join(missing)} missing: " if system else ""
    text += f"unpacked {len(debs) - len(failed)} Debian packages into {root} ({names}; {written} files"
    text += f", {kept} already there and kept)" if kept else ")"
    if failed:
        text += "; failed: " + "; ".join(failed)
    if system:
        ran = sh(["ldconfig"], timeout=timeout_for(deadline))
        text += "; ldconfig run" if ran.ok else f"; ldconfig failed: {reason(ran.stderr, ran.stdout)}"
        if not missing_libraries(env, deadline):
            return text
    prepend_path(env, "LD_LIBRARY_PATH", library_dirs(root))
    return text + "; on LD_LIBRARY_PATH"


def missing_libraries(env, deadline=None):
    """Those of DRIVER_NEEDS that a process with `env` would not find (LD_LIBRARY_PATH, ldconfig)."""
    return [library for library in DRIVER_NEEDS if not find_library(library, env, timeout_for(deadline))]


def prepend_path(env, name, folders):
    """Puts `folders` first on a colon-separated variable, each once."""
    old = [part for part in env.get(name, "").split(":") if part]
    env[name] = ":".join(list(dict.fromkeys(list(folders) + old)))


def append_path(env, name, folders):
    """Puts `folders` last on a colon-separated variable, each once (where already on it, it
    stays where it is)."""
    old = [part for part in env.get(name, "").split(":") if part]
    env[name] = ":".join(dict.fromkeys(old + list(folders)))


def nvidia_root(named=None):
    """The driver's folder: `named`, else GPU_CHECK_NVIDIA_ROOT, else /usr/local/nvidia."""
    return named or os.environ.get("GPU_CHECK_NVIDIA_ROOT") or NVIDIA_ROOT


def driver_manifests(root):
    """The loader variables for the driver's own manifests under `root`, where they exist."""
    found = {}
    vulkan, egl = os.path.join(root, VULKAN_MANIFEST), os.path.join(root, EGL_MANIFEST)
    if os.path.isfile(vulkan):
        found["VK_DRIVER_FILES"] = vulkan
        found["VK_ICD_FILENAMES"] = vulkan  # the name loaders before 1.3.207 read
    if os.path.isfile(egl):
        found["__EGL_VENDOR_LIBRARY_FILENAMES"] = egl
    return found


def point_loader(env, root, work, deadline=None):
    """Sets the loader variables in `env` for the driver at `root` (unless the caller set them);
    the driver's library folders go last on LD_LIBRARY_PATH. Without its manifest, but with
    libGLX_nvidia.so.0 known and no system manifest, writes one (common in containers).
    Returns one line saying what was done."""
    manifests = driver_manifests(root)
    for name, value in manifests.items():
        env.setdefault(name, value)
    libraries = [path for path in (os.path.join(root, "lib64"), os.path.join(root, "lib")) if os.path.isdir(path)]
    if libraries:
        append_path(env, "LD_LIBRARY_PATH", libraries)
    if manifests:
        return ", ".join(f"{name}={env[name]}" for name in manifests if name != "VK_ICD_FILENAMES")
    system = sorted(glob.glob("/usr/share/vulkan/icd.d/*.json") + glob.glob("/etc/vulkan/icd.d/*.json"))
    if not system and "VK_DRIVER_FILES" not in env and find_library("libGLX_nvidia.so.0", env, timeout_for(deadline)):
        manifest = os.path.join(work, "nvidia_icd.json")
        with open(manifest, "w") as file:
            json.dump({"file_format_version": "1.0.0",
                       "ICD": {"library_path": "libGLX_nvidia.so.0", "api_version": "1.3"}}, file)
        env["VK_DRIVER_FILES"] = env["VK_ICD_FILENAMES"] = manifest
        return f"no manifest under {root}; wrote {manifest} for libGLX_nvidia.so.0"
    return f"no NVIDIA manifest under {root}; the loader's own search: " + (", ".join(system) or "none")
