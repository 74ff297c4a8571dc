"""Commands under timeouts, the check's deadline, and why a command failed, in one line.

A pre-flight command that hangs (a driver that never answers) must not eat the time the runs
need, so every command here has a timeout, capped by the deadline.
"""

import os
import re
import subprocess
import time

PREFLIGHT_TIMEOUT = 25  # seconds for each pre-flight command


class Result:
    """A finished command: exit status (124 when it ran past its timeout), stdout, stderr."""

    def __init__(self, returncode, stdout, stderr):
        self.returncode, self.stdout, self.stderr = returncode, stdout, stderr

    @property
    def ok(self):
        return self.returncode == 0


def sh(command, timeout=PREFLIGHT_TIMEOUT, **kwargs):
    """`command` with a timeout; a missing program or a timeout is a failed Result, not raised."""
    try:
        done = subprocess.run(command, capture_output=True, text=True, timeout=max(timeout, 1),
                              errors="replace", **kwargs)
        return Result(done.returncode, done.stdout, done.stderr)
    except subprocess.TimeoutExpired:
        return Result(124, "", f"error: {command[0]} did not answer within {timeout:.0f} s")
    except OSError as error:
        return Result(127, "", f"error: {command[0]}: {error}")


def find_library(library, env, timeout=PREFLIGHT_TIMEOUT):
    """Where the dynamic loader would find `library` for a process with `env`: a folder on its
    LD_LIBRARY_PATH, or "ldconfig"; None when neither has it."""
    for folder in env.get("LD_LIBRARY_PATH", "").split(":"):
        if folder and os.path.exists(os.path.join(folder, library)):
            return folder
    return "ldconfig" if ldconfig_lists(library, timeout) else None


def ldconfig_lists(library, timeout=PREFLIGHT_TIMEOUT):
    """Whether `ldconfig -p` lists `library` (e.g. libvulkan.so.1)."""
    found = sh(["ldconfig", "-p"], timeout=timeout)
    if not found.ok:
        found = sh(["/sbin/ldconfig", "-p"], timeout=timeout)
    return any(line.strip().startswith(library + " ") for line in found.stdout.splitlines())


DEADLINE = 480  # seconds for the whole check, unless --deadline says otherwise
# Seconds a time limit around the check must give beyond --deadline: the check stops its last
# step at the deadline, then writes the summary and the archive (and the interpreter starts).
OUTER_MARGIN = 60


class Deadline:
    """Seconds left before --deadline, keeping a reserve for the summary and the archive."""

    def __init__(self, seconds, started=None):
        self.seconds = seconds
        self.started = time.monotonic() if started is None else started
        self.reserve = min(15.0, max(1.0, seconds * 0.05))

    def elapsed(self):
        return time.monotonic() - self.started

    def remaining(self):
        return self.seconds - self.elapsed() - self.reserve


def timeout_for(deadline, cap=PREFLIGHT_TIMEOUT):
    """`cap` seconds, or fewer when the deadline (a Deadline, or None for none) is nearer."""
    return cap if deadline is None else max(min(cap, deadline.remaining()), 1)


BACKTRACE_NOTE = re.compile(r"^note: run with `RUST_BACKTRACE=")


def reason(stderr, stdout="", limit=240):
    """Why a command failed, in one line: a Rust panic's message (the line after `panicked at`),
    else the last `error:` line, else the last line that is not Rust's RUST_BACKTRACE note."""
    lines = [line.rstrip() for line in (stderr or "").splitlines()]
    for index in range(len(lines) - 1, -1, -1):
        line = lines[index]
        if "panicked at" not in line:
            continue
        quoted = re.search(r"panicked at '(.*)', (\S+)$", line)  # Rust before 1.73
        if quoted:
            return f"panic: {quoted.group(1)} ({quoted.group(2)})"[:limit]
        place = line.split("panicked at", 1)[1].strip().rstrip(":")
        message = [text.strip() for text in lines[index + 1:index + 4]
                   if text.strip() and not BACKTRACE_NOTE.match(text) and not text.startswith("stack backtrace")]
        text = message[0] if message else "(no message)"
        return f"panic: {text} (at {place})"[:limit]
    every = [line.strip() for line in (stderr or "").splitlines() + (stdout or "").splitlines()
             if line.strip() and not BACKTRACE_NOTE.match(line.strip())]
    errors = [line for line in every if line.lower().startswith("error")]
    return ((errors or every)[-1:] or ["failed, with no output"])[0][:limit]

