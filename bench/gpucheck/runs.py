"""The check's measurements: training runs, each a row of the table (printed, and results.json
rewritten, as it finishes, so a check stopped midway keeps its rows), then the step profiles and
the throughput of each backend that trained.
"""

import csv
import json
import os

from .bundle import BACKENDS, binary_for
from .report import HEADER, format_row, summarise
from .steps import Steps, why_not

QUICK_SLICE = ["--set", "data.train_limit=1600", "--set", "data.test_limit=1000"]
# The summary's order: the seed rows, the baseline last, the default run and failures after.
SUMMARY_ORDER = ["cuda seed", "wgpu seed", "tch-cuda seed", "pytorch seed"]


def read_run(out):
    """A run folder's epochs (metrics.csv) and run.toml: its top-level keys, and each [table]
    (the run's [environment] manifest) as a dict."""
    with open(os.path.join(out, "metrics.csv")) as file:
        rows = [{key: float(value) for key, value in row.items()} for row in csv.DictReader(file)]
    record, target = {}, None
    with open(os.path.join(out, "run.toml")) as file:
        for line in file:
            if line.startswith("["):
                target = record.setdefault(line.strip("[] \n"), {})
                continue
            key, _, value = line.partition(" = ")
            (record if target is None else target)[key.strip()] = value.strip().strip('"')
    return rows, record


class Runs:
    """The rows of one check: `rows` (the caller's list, written out however the check ends)
    gets every row; the seed rows that trained and the PyTorch baseline are kept apart for the
    default run, the profiles and the ratios."""

    def __init__(self, args, bundle, work, output, deadline, setup, rows):
        self.args, self.bundle, self.work, self.output, self.deadline = args, bundle, work, output, deadline
        self.setup, self.rows = setup, rows
        self.env, self.quick = setup.env, setup.quick
        self.steps = Steps(output, deadline, setup.gpu)
        self.seed = os.path.join(bundle, "configs", "seed.toml")
        self.slice_args = QUICK_SLICE if setup.quick else []
        self.seed_rows, self.baseline = [], None

    def header(self):
        """The table's heading, before the first run."""
        self.output.say("\n" + HEADER + "\n" + "-" * len(HEADER))

    def add(self, row):
        """Prints `row` and rewrites results.json with it."""
        self.rows.append(row)
        self.output.say(format_row(row, self.baseline))
        self.output.results(self.rows)

    def add_failure(self, name, why, status="failed"):
        """A row without numbers: `why` instead."""
        self.add({"name": name, "status": status, "why": why})

    def add_unfinished(self, name, step, note=""):
        """The row of a step that did not finish: skipped (the deadline) or failed, and why."""
        why = why_not(step)
        if note and not step.get("skipped"):
            why += f" [{note}]"
        self.add_failure(name, why, "skipped" if step.get("skipped") else "failed")

    def train_run(self, name, command, out, cap, note=""):
        """Runs `mnist-burn train ... --out out`; returns (step, epochs, run.toml) or None once
        the row saying why not is added."""
        step = self.steps.run(name, command, self.env, cap)
        if step["code"] != 0:
            self.add_unfinished(name, step, note)
            return None
        try:
            metrics, record = read_run(out)
        except (OSError, ValueError, KeyError) as error:
            self.add_failure(name, f"no run folder: {error}")
            return None
        return step, metrics, record

    def seed_run(self, backend):
        """The seed config for 3 epochs on `backend`."""
        binary = binary_for(self.work, backend)
        name = f"{backend} seed"
        if not os.path.exists(binary):
            self.add_failure(name, f"not run: {os.path.basename(binary)} is not in the bundle")
            return
        out = os.path.join(self.work, "runs", backend)
        wgpu_note = self.setup.wgpu_note
        done = self.train_run(name, [binary, "train", "--config", self.seed, "--set", "epochs=3", "--backend", backend,
                                     "--out", out, "--plain"] + self.slice_args, out, self.args.timeout,
                              wgpu_note if backend == "wgpu" else "")
        if done is None:
            return
        step, metrics, record = done
        note = wgpu_note if backend == "wgpu" else record.get("device", "")
        row = summarise(name, metrics, step["wall"], 1600 // 32 if self.quick else 60000 // 32, step["peak"], note)
        self.seed_rows.append(row)
        self.add(row)

    def pytorch(self):
        """The seed config in the expert PyTorch loop (torch_expert.py): the baseline."""
        name = "pytorch seed"
        if not self.setup.python:
            self.add_failure(name, "not run: no Python with torch found (set GPU_CHECK_PYTHON)")
            return
        limits = ["--train-limit", "1600", "--test-limit", "1000"] if self.quick else []
        data = os.path.join(self.work, "cache", "burn-dataset", "mnist")
        step = self.steps.run(name, [self.setup.python, os.path.join(self.bundle, "torch_expert.py"), "--data", data,
                                     "--epochs", "3"] + limits, self.env, self.args.timeout * 2)
        if step["code"] != 0:
            self.add_unfinished(name, step)
            return
        try:
            run = json.loads(step["stdout"].strip().splitlines()[-1])
            metrics = [{"train_seconds": t, "test_seconds": v, "test_acc": a} for t, v, a in
                       zip(run["train_seconds"], run["test_seconds"], run["test_accuracy"])]
            row = summarise(name, metrics, sum(t + v for t, v in zip(run["train_seconds"], run["test_seconds"])),
                            run["steps_per_epoch"], run["peak_gpu_mib"], f"torch {run['torch']} on {run['device']}")
        except (ValueError, KeyError, IndexError, TypeError) as error:
            self.add_failure(name, f"unreadable output: {error}")
            return
        row["warmup"] = float("nan")
        self.baseline = row
        self.add(row)

    def default(self):
        """The default config to the end on the backend with the fastest seed epoch."""
        if not self.seed_rows:
            self.add_failure("default", "skipped: no backend trained the seed config", "skipped")
            return
        backend = min(self.seed_rows, key=lambda row: row["epoch"])["name"].split()[0]
        name = f"{backend} default"
        out = os.path.join(self.work, "runs", "default")
        config = os.path.join(self.bundle, "configs", "default.toml")
        # All 60,000 training images, as the PyTorch loop it is compared with uses (the
        # config's validation split would also not fit in the quick slice).
        extra = self.slice_args + ["--set", "data.validation=0"] + (["--set", "epochs=3"] if self.quick else [])
        done = self.train_run(name, [binary_for(self.work, backend), "train", "--config", config, "--backend",
                                     backend, "--out", out, "--plain"] + extra, out, self.args.timeout)
        if done is None:
            return
        step, metrics, record = done
        facts = record.get("environment", {})
        self.output.log(f"manifest: commit {facts.get('git_commit', '?')} (dirty {facts.get('git_dirty', '?')}), "
                        f"Burn {facts.get('burn', '?')}, {facts.get('cpu', '?')}, {facts.get('threads', '?')} "
                        f"threads, {facts.get('os', '?')}\n")
        self.add(summarise(name, metrics, step["wall"], (1600 if self.quick else 60000) // 64, step["peak"],
                           f"wall {step['wall']:.1f} s from process start"))

    def ran(self):
        """The backends that trained the seed config, in BACKENDS' order."""
        return [backend for backend in BACKENDS if any(row["name"] == f"{backend} seed" for row in self.seed_rows)]

    def profiles(self):
        """`mnist-burn profile` on each backend that trained, printed as each finishes."""
        for backend in self.ran():
            name = f"profile {backend}"
            step = self.steps.run(name, [binary_for(self.work, backend), "profile", "--config", self.seed,
                                         "--backend", backend, "--steps", "50" if self.quick else "300", "--out",
                                         os.path.join(self.work, "profiles", backend)] + self.slice_args,
                                  self.env, self.args.timeout)
            if step["code"] != 0:
                lines = [f"{name}: {why_not(step)}"]
            else:
                printed = step["stdout"].splitlines()
                start = next((i for i, text in enumerate(printed) if text.startswith("Step profile")), 0)
                lines = [text for text in printed[start:] if not text.startswith("Wrote ")]
            self.output.say("\n" + "\n".join(lines))

    def throughput(self):
        """`mnist-burn throughput` once per binary, over the backends of it that trained."""
        ran = self.ran()
        for binary in sorted({binary_for(self.work, backend) for backend in ran}):
            backends = [backend for backend in ran if binary_for(self.work, backend) == binary]
            sizes = ["--batch-sizes", "32,256,1024", "--images", "2048"] if self.quick else []
            command = [binary, "throughput", "--config", self.seed, "--out", os.path.join(self.work, "throughput")]
            command += sizes
            for backend in backends:
                command += ["--backend", backend]
            name = f"throughput {', '.join(backends)}"
            step = self.steps.run(name, command, self.env, self.deadline.remaining())
            if step["code"] != 0:
                # What it measured before it stopped is in its stdout (a row per backend).
                measured = [text for text in step.get("stdout", "").splitlines() if text.strip()]
                lines = measured + [f"{name}: {why_not(step)}"]
            else:
                lines = [text for text in step["stdout"].splitlines() if not text.startswith("Wrote ")]
            self.output.say("\n" + "\n".join(lines))
        if not ran:
            self.output.say("\nprofile, throughput: skipped (no backend trained the seed config)")

    def summary(self):
        """The table again, in SUMMARY_ORDER with the failures last, and how to read it."""
        say = self.output.say
        say("\nSummary (vs PyTorch: epoch time over the PyTorch loop's, lower is faster):")
        say(HEADER + "\n" + "-" * len(HEADER))
        order = {name: index for index, name in enumerate(SUMMARY_ORDER)}
        for row in sorted(self.rows, key=lambda row: (row.get("status") != "ok", order.get(row["name"], 5))):
            say(format_row(row, self.baseline))
        say("\nwarm-up: wall time beyond the steady epochs (start-up, device set-up, kernel compilation "
            "and autotuning, checkpoints, plots); epoch: median train+test seconds of epochs 2 on; "
            f"{self.deadline.elapsed():.0f} s of the {self.args.deadline:.0f} s deadline used.")
