"""What the check reports: the table's rows, and the files that come back from the GPU machine
(report.txt, steps.log, results.json, gpu-check.tar.gz: what comes back from the GPU machine may be limited to a few files,
so everything else travels in the archive).
"""

import json
import os
import statistics
import tarfile

ARCHIVE = "gpu-check.tar.gz"
ARCHIVE_FILE_LIMIT = 4 << 20  # files above this stay out of the archive (listed in steps.log)


def summarise(name, rows, wall, steps, peak, note=""):
    """A run's row from its epochs' metrics: the first epoch counts as warm-up, the rest steady."""
    epochs = [row["train_seconds"] + row["test_seconds"] for row in rows]
    steady_rows = rows[1:] or rows
    steady = statistics.median(row["train_seconds"] + row["test_seconds"] for row in steady_rows)
    train = statistics.median(row["train_seconds"] for row in steady_rows)
    return {
        "name": name,
        "status": "ok",
        "warmup": max(wall - steady * len(epochs), 0.0),
        "epoch": steady,
        "steps_per_s": steps / train if train > 0 else float("nan"),
        "accuracy": rows[-1]["test_acc"],
        "epochs": len(rows),
        "wall": wall,
        "peak": peak,
        "note": note,
    }


HEADER = f"{'run':<16} {'warm-up s':>9} {'epoch s':>8} {'steps/s':>9} {'acc %':>6} {'peak GPU MiB':>12} {'vs PyTorch':>10}  note"


def format_row(row, baseline=None):
    """A row of the table; a seed row shows its epoch time over the PyTorch loop's (`baseline`)."""
    if row.get("status") != "ok":
        return f"{row['name']:<16} {row['why']}"
    ratio = f"{row['epoch'] / baseline['epoch']:.2f}x" if baseline and row["name"].endswith("seed") else ""
    peak = f"{row['peak']:.0f}" if row["peak"] is not None else "n/a"
    return (f"{row['name']:<16} {row['warmup']:>9.2f} {row['epoch']:>8.3f} {row['steps_per_s']:>9.0f} "
            f"{row['accuracy']:>6.2f} {peak:>12} {ratio:>10}  {row['note']}")


class Output:
    """Everything that comes back: report.txt (what is printed, line by line), steps.log,
    results.json and gpu-check.tar.gz, in `out`; the work folder's run folders, profiles,
    throughput files and per-step logs go into the archive."""

    def __init__(self, out, work):
        self.out, self.work = out, work
        os.makedirs(out, exist_ok=True)
        for name in ("report.txt", "steps.log", "results.json", ARCHIVE):
            if os.path.exists(os.path.join(out, name)):
                os.remove(os.path.join(out, name))
        self.report = open(os.path.join(out, "report.txt"), "a", encoding="utf-8")
        self.logs = os.path.join(work, "logs")
        os.makedirs(self.logs, exist_ok=True)
        self.left_out = []

    def say(self, text=""):
        """Prints `text` and adds it to report.txt at once, so a stopped check keeps it."""
        print(text, flush=True)
        self.report.write(text + "\n")
        self.report.flush()

    def log(self, text):
        """Appends `text` to steps.log."""
        with open(os.path.join(self.out, "steps.log"), "a", encoding="utf-8") as file:
            file.write(text)

    def results(self, rows):
        """results.json of the rows so far, replaced whole (never left half-written)."""
        partial = os.path.join(self.out, "results.json.partial")
        with open(partial, "w") as file:
            json.dump(rows, file, indent=1, default=str)
        os.replace(partial, os.path.join(self.out, "results.json"))

    def archive(self):
        """gpu-check.tar.gz of the work folder's runs, profiles, throughput and logs, written
        beside and renamed into place (so a stop mid-write keeps the last one)."""
        partial = os.path.join(self.out, ARCHIVE + ".partial")
        self.left_out = []
        with tarfile.open(partial, "w:gz") as tar:
            for folder in ("runs", "profiles", "throughput", "logs"):
                top = os.path.join(self.work, folder)
                for parent, _, files in os.walk(top):
                    for name in sorted(files):
                        path = os.path.join(parent, name)
                        relative = os.path.relpath(path, self.work)
                        if name == ".lock" or os.path.islink(path):
                            continue
                        if os.path.getsize(path) > ARCHIVE_FILE_LIMIT:
                            self.left_out.append(f"{relative} ({os.path.getsize(path)} bytes)")
                            continue
                        tar.add(path, arcname=os.path.join("gpu-check", relative))
        os.replace(partial, os.path.join(self.out, ARCHIVE))

    def close(self):
        self.report.close()
