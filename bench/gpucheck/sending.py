"""What the GPU machine is sent, and the one command run there.

`.device/` is git-ignored, so the bundle reaches the GPU machine only when it is copied with the
repository: both count against what that machine may be sent (64 MiB), and `just gpu-bundle`
ends by saying both sizes, what to copy, the command and the time limit to put around it.
"""

import os

from .commands import DEADLINE, OUTER_MARGIN, sh
from .report import ARCHIVE

SENT_LIMIT = 64 << 20  # bytes a GPU machine is sent: the repository's tracked files and the bundle
REPORT_FOLDER = "gpu-report"  # the folder the recipe names for what comes back (any will do)


def _size(path):
    """A file's size in bytes (a link's own), 0 for one listed but gone (deleted, not committed)."""
    return os.lstat(path).st_size if os.path.lexists(path) else 0


def sent_sizes(bundle):
    """(the repository's root, the bundle's bytes, the bytes of the repository's git-tracked
    files). Raises RuntimeError when the bundle is not inside a git repository."""
    top = sh(["git", "-C", bundle, "rev-parse", "--show-toplevel"])
    if not top.ok:
        raise RuntimeError(f"{bundle} is not inside a git repository: {top.stderr.strip()}")
    root = top.stdout.strip()
    listed = sh(["git", "-C", root, "ls-files", "-z"])
    if not listed.ok:
        raise RuntimeError(f"git ls-files: {listed.stderr.strip()}")
    tracked = sum(_size(os.path.join(root, name)) for name in listed.stdout.split("\0") if name)
    own = sum(_size(os.path.join(parent, name)) for parent, _, names in os.walk(bundle) for name in names)
    return root, own, tracked


def how_to_send(bundle):
    """What `just gpu-bundle` prints last: the sizes, the folder to copy, the command to run on the
    GPU machine and the time limit around it. Returns (lines, whether it fits in SENT_LIMIT)."""
    bundle = os.path.abspath(bundle)
    root, own, tracked = sent_sizes(bundle)
    folder = os.path.relpath(bundle, root)
    mib = 1 << 20
    fits = own + tracked <= SENT_LIMIT
    sizes = (f"{folder} {own / mib:.1f} MiB + the repository's tracked files {tracked / mib:.1f} MiB = "
             f"{(own + tracked) / mib:.1f} MiB of the {SENT_LIMIT // mib} MiB a GPU machine is sent")
    if not fits:
        return [f"error: {sizes}: too much"], False
    return [sizes, *run_there(folder)], True


def run_there(folder):
    """The recipe for the GPU machine, as README shows it."""
    return [f"On the GPU machine: copy the repository there with {folder} in it (git ignores it, so a",
            "clone lacks it), then, from the repository's root and under a time limit of at least",
            f"{DEADLINE + OUTER_MARGIN} s (--deadline + {OUTER_MARGIN} s) on whatever runs it:",
            f"    python3 {folder}/gpu_check.py --bundle {folder} --out {REPORT_FOLDER} --deadline {DEADLINE}",
            f"and bring back the folder {REPORT_FOLDER}: report.txt, steps.log, results.json, {ARCHIVE}."]
