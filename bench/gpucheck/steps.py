"""Each command of the check, run against the deadline: killed with all it started when time is
up or the check is stopped, its output kept in files and appended to steps.log, the archive
rewritten after it (so a check stopped at any point still brings back every finished step), its
GPU memory polled.

A step stays in the check's process group: a time limit around the check that signals the
group (as `timeout` does), even with SIGKILL, which the check cannot pass on, ends the steps
with it, so no trainer outlives a check cut short.
"""

import os
import re
import signal
import subprocess
import tarfile
import threading
import time

from .commands import reason, sh

MEMORY_POLL = 0.5  # seconds between nvidia-smi reads of a run's GPU memory
LOG_LIMIT = 1 << 20  # bytes of each stream a step appends to steps.log (the archive has them all)
# What steps.log shows of each step's environment: what decides which loader, driver and
# libraries a run gets.
LOGGED_VARIABLES = ("LD_LIBRARY_PATH", "VK_DRIVER_FILES", "__EGL_VENDOR_LIBRARY_FILENAMES",
                    "CUBECL_WGPU_DEFAULT_DEVICE", "CUDA_PATH", "XDG_CACHE_HOME")


class Stopped(Exception):
    """SIGTERM or SIGINT: the check stops, keeping what it has."""


def logged_variables(env):
    """`env`'s LOGGED_VARIABLES that are set, as KEY=value words for steps.log."""
    return " ".join(f"{key}={env[key]}" for key in LOGGED_VARIABLES if env.get(key))


class GpuMemory:
    """Peak GPU memory of one process, polled from nvidia-smi every MEMORY_POLL seconds: the
    process's own line when nvidia-smi lists it (in a container it may list host pids only),
    else GPU 0's used memory above what it was when the process started."""

    def __init__(self, enabled):
        self.enabled, self.pid, self.done = enabled, None, threading.Event()
        self.own = self.device = self.baseline = None

    @property
    def peak(self):
        if self.own is not None:
            return self.own
        if self.device is not None and self.baseline is not None:
            return max(self.device - self.baseline, 0)
        return None

    def watch(self, pid):
        self.pid = pid
        if self.enabled:
            threading.Thread(target=self._poll, daemon=True).start()

    @staticmethod
    def _used():
        out = sh(["nvidia-smi", "--query-gpu=memory.used", "--format=csv,noheader,nounits", "--id=0"],
                 timeout=5).stdout.strip()
        return int(out) if out.isdigit() else None

    def _poll(self):
        self.baseline = self._used()
        while not self.done.wait(MEMORY_POLL):
            out = sh(["nvidia-smi", "--query-compute-apps=pid,used_memory",
                      "--format=csv,noheader,nounits"], timeout=5).stdout
            for line in out.splitlines():
                pid, _, used = line.partition(",")
                if pid.strip() == str(self.pid) and used.strip().isdigit():
                    self.own = max(self.own or 0, int(used))
            if self.own is None:
                used = self._used()
                if used is not None:
                    self.device = max(self.device or 0, used)


def _tail(path, limit=LOG_LIMIT):
    """The last `limit` bytes of a step's stream, saying so when more came before."""
    try:
        with open(path, "rb") as file:
            file.seek(0, os.SEEK_END)
            size = file.tell()
            file.seek(max(size - limit, 0))
            text = file.read().decode("utf-8", "replace")
        return (f"[first {size - limit} bytes left out; all of it is in the archive]\n" if size > limit else "") + text
    except OSError:
        return ""


class Steps:
    """Runs the check's commands one at a time: each with the time left, its stdout and stderr
    in files (logs/NN-name.stdout, .stderr), then appended to steps.log, the archive rewritten."""

    def __init__(self, output, deadline, gpu):
        self.output, self.deadline, self.gpu, self.count = output, deadline, gpu, 0

    def run(self, name, command, env, cap):
        """Runs `command` for at most `cap` seconds or the time left. Returns a dict: code (None
        when skipped or stopped), stdout, stderr, wall, peak, timed_out, skipped (why)."""
        timeout = min(cap, self.deadline.remaining())
        if timeout < 2:
            return {"code": None, "skipped": f"skipped: the deadline ({self.deadline.seconds:.0f} s) leaves no time "
                                             f"({self.deadline.elapsed():.0f} s elapsed)"}
        self.count += 1
        stem = os.path.join(self.output.logs, f"{self.count:02d}-{re.sub(r'[^A-Za-z0-9_.-]+', '-', name)}")
        memory = GpuMemory(self.gpu)
        started = time.perf_counter()
        stopped = timed_out = None
        with open(stem + ".stdout", "wb") as stdout, open(stem + ".stderr", "wb") as stderr:
            try:
                process = subprocess.Popen(command, env=env, stdout=stdout, stderr=stderr, stdin=subprocess.DEVNULL)
            except OSError as error:
                stderr.write(f"error: cannot start {command[0]}: {error}\n".encode())
                process = None
            if process is not None:
                memory.watch(process.pid)
                try:
                    process.wait(timeout=timeout)
                except subprocess.TimeoutExpired:
                    timed_out = timeout
                except (Stopped, KeyboardInterrupt) as error:
                    stopped = error
                finally:  # whatever ends the wait (the time, a signal, an error), the step ends too
                    if process.returncode is None:
                        _kill(process)
                    memory.done.set()
        wall = time.perf_counter() - started
        code = process.returncode if process is not None else 127
        with open(stem + ".stdout", encoding="utf-8", errors="replace") as file:
            out = file.read()
        with open(stem + ".stderr", encoding="utf-8", errors="replace") as file:
            err = file.read()
        ending = ("stopped by a signal" if stopped else f"stopped after {timed_out:.0f} s (time left before the deadline"
                  f" or --timeout)" if timed_out else f"exit {code}")
        self.output.log(f"===== {self.count:02d} {name}: {ending}, {wall:.1f} s\n$ {' '.join(command)}\n"
                        f"env: {logged_variables(env)}\n----- stdout\n{_tail(stem + '.stdout')}\n----- stderr\n"
                        f"{_tail(stem + '.stderr')}\n")
        try:
            self.output.archive()
        except (OSError, tarfile.TarError) as error:
            self.output.log(f"error: archive: {error}\n")
        if stopped:
            raise stopped
        return {"code": None if timed_out else code, "stdout": out, "stderr": err, "wall": wall,
                "peak": memory.peak, "timed_out": timed_out, "skipped": None}


def _kill(process):
    """Ends `process` and every process under it, all found before any is killed (the children
    of one killed first would move to init, out of reach)."""
    for pid in _descendants(process.pid):
        try:
            os.kill(pid, signal.SIGKILL)
        except OSError:
            pass  # gone already
    try:
        process.wait(timeout=10)
    except subprocess.TimeoutExpired:
        pass


def _descendants(pid):
    """`pid` and the processes under it, from each process's parent in /proc/PID/stat (just
    `pid` where there is no /proc). Steps share the check's process group, so a step's own
    processes are found this way rather than as a group of their own."""
    children = {}
    for entry in os.listdir("/proc") if os.path.isdir("/proc") else []:
        if not entry.isdigit():
            continue
        try:
            with open(os.path.join("/proc", entry, "stat")) as file:
                parent = int(file.read().rsplit(")", 1)[1].split()[1])  # after "pid (name) state"
        except (OSError, ValueError, IndexError):
            continue  # not a process, or one that ended meanwhile
        children.setdefault(parent, []).append(int(entry))
    found, waiting = [], [pid]
    while waiting:
        found.append(waiting.pop())
        waiting.extend(children.get(found[-1], []))
    return found


def why_not(step):
    """A failed or skipped step's row text."""
    if step.get("skipped"):
        return step["skipped"]
    if step.get("timed_out"):
        last = reason(step["stderr"], step["stdout"])
        return f"stopped after {step['timed_out']:.0f} s (the deadline or --timeout); last output: {last}"
    if step["code"] is not None and step["code"] < 0:
        return f"killed by signal {-step['code']}: {reason(step['stderr'], step['stdout'])}"
    return f"failed (exit {step['code']}): {reason(step['stderr'], step['stdout'])}"
