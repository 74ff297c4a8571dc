"""Accuracy of `mnist-burn predict` output, overall, per class and per folder.

Reads predict's lines `PATH: LABEL  (0: p, 1: p, ...)`; the true label is the part of the
file name after its last '-' (<index>-<label>.png). Pictures given with --expect that have
no line (predict reported an error for them on stderr) count as wrong.

  mnist-burn predict RUN sets/x/*.png | python score_predict.py [--expect sets/x] [--json]
  python score_predict.py predict.txt ...
"""

import argparse
import json
import re
import sys
from collections import defaultdict
from pathlib import Path

LINE = re.compile(r"^(?P<path>.+): (?P<guess>\S+)  \(.*\)$")
PICTURES = {".png", ".jpg", ".jpeg", ".gif", ".bmp", ".webp", ".tif", ".tiff"}


def truth(path):
    return Path(path).stem.rsplit("-", 1)[-1]


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("outputs", nargs="*", type=Path, help="predict output (default: stdin)")
    parser.add_argument("--expect", nargs="*", type=Path, default=[], help="folders of pictures")
    parser.add_argument("--json", action="store_true", help="print one JSON object instead")
    args = parser.parse_args()

    text = "".join(p.read_text() for p in args.outputs) if args.outputs else sys.stdin.read()
    guesses = {}
    for line in text.splitlines():
        if match := LINE.match(line):
            guesses[str(Path(match["path"]))] = match["guess"]
    for folder in args.expect:
        for picture in folder.iterdir():
            if picture.suffix.lower() in PICTURES:
                guesses.setdefault(str(picture), None)  # no answer: wrong

    # [right, total] per folder and per (folder, class); "all" over everything.
    tally = defaultdict(lambda: [0, 0])
    for path, guess in guesses.items():
        label, folder = truth(path), str(Path(path).parent)
        for key in ("all", folder, (folder, label)):
            tally[key][0] += guess == label
            tally[key][1] += 1
    folders = sorted({key for key in tally if isinstance(key, str) and key != "all"})
    labels = sorted({key[1] for key in tally if isinstance(key, tuple)})
    pct = lambda key: 100.0 * tally[key][0] / tally[key][1] if key in tally else None

    if args.json:
        report = {f: {"n": tally[f][1], "accuracy": pct(f),
                      "per_class": {c: pct((f, c)) for c in labels}} for f in folders}
        print(json.dumps({"all": pct("all"), "n": tally["all"][1], "folders": report}))
        return
    print(f"{'folder':<28} {'n':>5} {'acc%':>6}  " + " ".join(f"{c:>5}" for c in labels))
    for f in folders:
        cells = " ".join(f"{pct((f, c)):5.1f}" if (f, c) in tally else "    -" for c in labels)
        print(f"{f:<28} {tally[f][1]:5d} {pct(f):6.1f}  {cells}")
    if len(folders) > 1:
        print(f"{'all':<28} {tally['all'][1]:5d} {pct('all'):6.1f}")


if __name__ == "__main__":
    main()
