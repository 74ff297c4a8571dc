"""The bundle's files: its binaries (xz) and MNIST files (gzip) were compressed to fit what the
GPU machine is sent, and are unpacked into the work folder before anything runs."""

import glob
import gzip
import lzma
import os
import shutil

# Each backend and the bundle's binary that runs it (`mnist-burn-tch`, when a bundle carries
# one, is a build with tch kept apart, so that a libtorch that does not load takes down only
# its own rows).
BACKENDS = {"cuda": "mnist-burn", "wgpu": "mnist-burn", "tch-cuda": "mnist-burn-tch"}


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


def binary_for(work, backend):
    """The bundle's binary for `backend`: its own if the bundle has one, else `mnist-burn`."""
    own = os.path.join(work, BACKENDS[backend])
    return own if os.path.exists(own) else os.path.join(work, "mnist-burn")
