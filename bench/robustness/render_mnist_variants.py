"""MNIST test digits redrawn as the pictures people have, one folder per way of drawing them.

Each digit is first a page: 168x168, dark ink on white, the 28x28 digit upscaled six times
(bicubic), so its 20x20 box fills the middle 120x120. Then, in OUT/<variant>/<index>-<label>.*
(index: the digit's place in MNIST's test split):

  plain        the page as a PNG
  thick, thin  strokes grown / shrunk by about 0.7 / 0.5 of an MNIST pixel on each side
  blur         Gaussian blur, sigma about 0.8 of an MNIST pixel
  shift        moved 20 px (3.3 MNIST pixels) in a direction drawn from the seed
  rot+15/-15   turned 15 degrees anticlockwise / clockwise
  rgba-black   black strokes on a transparent background (alpha = ink), as a canvas exports
  rgba-white   white strokes on a transparent background
  jpeg         the page as a JPEG (quality 90): compression alone
  exif6-jpeg, exif8-jpeg, exif6-png, exif8-png
               pixels stored sideways with the EXIF Orientation (6 or 8) that turns them
               upright, as phones save photos; checked by reading each back through
               ImageOps.exif_transpose

  python render_mnist_variants.py OUT [--mnist DIR] [-n 500] [--seed 7] [--only plain,shift]

DIR holds t10k-images-idx3-ubyte and t10k-labels-idx1-ubyte (default: Burn's cache,
~/.cache/burn-dataset/mnist/test, where `mnist-burn data` puts them).
"""

import argparse
from pathlib import Path

import numpy as np
from PIL import Image, ImageFilter, ImageOps

import pages

ORIENTATION = 0x0112  # EXIF tag
# Orientation -> how the upright picture is stored (exif_transpose undoes it).
STORED = {6: Image.Transpose.ROTATE_90, 8: Image.Transpose.ROTATE_270}


def read_idx(path, magic):
    data = Path(path).read_bytes()
    if int.from_bytes(data[:4], "big") != magic:
        raise SystemExit(f"{path}: not an IDX file of the expected kind")
    if magic == 2051:
        count, rows, cols = (int.from_bytes(data[i : i + 4], "big") for i in (4, 8, 12))
        return np.frombuffer(data, np.uint8, offset=16).reshape(count, rows, cols)
    return np.frombuffer(data, np.uint8, offset=8)


def shifted(ink, dx, dy):
    """ink moved by (dx, dy) pixels, blank where it moved from."""
    out = np.zeros_like(ink)
    h, w = ink.shape
    out[max(dy, 0) : h + min(dy, 0), max(dx, 0) : w + min(dx, 0)] = ink[
        max(-dy, 0) : h + min(-dy, 0), max(-dx, 0) : w + min(-dx, 0)
    ]
    return out


def morph(ink, filter_):
    image = Image.fromarray(np.uint8(np.round(255 * ink)))
    return np.asarray(image.filter(filter_)) / 255.0


def rgba(ink, colour):
    """Strokes of one colour on a transparent background: alpha = ink."""
    rgb = np.full(ink.shape + (3,), colour, np.uint8)
    alpha = np.uint8(np.round(255 * ink))[..., None]
    return Image.fromarray(np.concatenate([rgb, alpha], axis=2), mode="RGBA")


def sideways(upright, orientation, fmt):
    """(stored image, save params): upright stored turned, with the tag that turns it back."""
    exif = Image.Exif()
    exif[ORIENTATION] = orientation
    params = {"exif": exif.tobytes()}
    if fmt == "JPEG":
        params["quality"] = 90
    return upright.transpose(STORED[orientation]), params


def check_upright(path, upright, fmt):
    seen = np.asarray(ImageOps.exif_transpose(Image.open(path)).convert("L"), np.float32)
    error = np.abs(seen - np.asarray(upright, np.float32)).mean()
    if error > (0.0 if fmt == "PNG" else 3.0):
        raise SystemExit(f"{path}: exif_transpose does not give the upright page back")


def variants(ink, rng):
    """(name, image, suffix, save params) for every way of drawing one digit's ink."""
    plain = pages.page(ink)
    angle = rng.uniform(0, 2 * np.pi)
    dx, dy = (int(round(20 * f(angle))) for f in (np.cos, np.sin))
    yield "plain", plain, ".png", {}
    yield "thick", pages.page(morph(ink, ImageFilter.MaxFilter(9))), ".png", {}
    yield "thin", pages.page(morph(ink, ImageFilter.MinFilter(7))), ".png", {}
    yield "blur", plain.filter(ImageFilter.GaussianBlur(5)), ".png", {}
    yield "shift", pages.page(shifted(ink, dx, dy)), ".png", {}
    for angle in (15, -15):
        turned = plain.rotate(angle, Image.BICUBIC, fillcolor=255)
        yield f"rot{angle:+d}", turned, ".png", {}
    yield "rgba-black", rgba(ink, 0), ".png", {}
    yield "rgba-white", rgba(ink, 255), ".png", {}
    yield "jpeg", plain, ".jpg", {"quality": 90}
    for fmt, suffix in (("JPEG", ".jpg"), ("PNG", ".png")):
        for orientation in STORED:
            stored, params = sideways(plain, orientation, fmt)
            yield f"exif{orientation}-{fmt.lower()}", stored, suffix, params


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("out", type=Path)
    cache = Path.home() / ".cache" / "burn-dataset" / "mnist" / "test"
    parser.add_argument("--mnist", type=Path, default=cache, help="folder of the test IDX files")
    parser.add_argument("-n", type=int, default=500, help="digits, balanced over the classes")
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--only", help="comma-separated variants (default: all)")
    args = parser.parse_args()
    only = set(args.only.split(",")) if args.only else None

    images = read_idx(args.mnist / "t10k-images-idx3-ubyte", 2051)
    labels = read_idx(args.mnist / "t10k-labels-idx1-ubyte", 2049)
    rng = np.random.default_rng(args.seed)
    counts = {}
    for index in pages.balanced(labels, args.n, args.seed):
        ink = pages.upscale(images[index] / 255.0, pages.PAGE)
        for name, image, suffix, params in variants(ink, rng):
            upright = image if name == "plain" else upright  # plain comes first
            if only and name not in only:
                continue
            path = pages.save(image, args.out / name, index, labels[index], suffix, **params)
            if name.startswith("exif"):
                check_upright(path, upright, "PNG" if suffix == ".png" else "JPEG")
            counts[name] = counts.get(name, 0) + 1
    for name, count in counts.items():
        print(f"{count:5d}  {args.out / name}")


if __name__ == "__main__":
    main()
