"""Digits drawn as the pictures a person has: dark ink on a white page, anti-aliased.

Shared by render_optdigits.py (digits from another data set) and render_mnist_variants.py
(MNIST test digits redrawn). Needs numpy and Pillow only.
"""

from pathlib import Path

import numpy as np
from PIL import Image, ImageFilter

PAGE = 168  # side of a page, in pixels
DIGIT = 120  # side of the box the digit fills (MNIST's 20 of 28, scaled by 6)


def balanced(labels, n, seed):
    """Indices of n items, n // 10 of each class, chosen with a fixed seed, in index order."""
    rng = np.random.default_rng(seed)
    per_class = n // 10
    chosen = []
    for digit in range(10):
        members = np.flatnonzero(labels == digit)
        if len(members) < per_class:
            raise SystemExit(f"only {len(members)} examples of {digit}, {per_class} wanted")
        chosen.extend(rng.choice(members, per_class, replace=False))
    return sorted(int(i) for i in chosen)


def upscale(ink, side):
    """A float ink image (1 = ink) resized to side x side with a smooth (bicubic) filter."""
    image = Image.fromarray(np.asarray(ink, dtype=np.float32), mode="F")
    return np.clip(np.asarray(image.resize((side, side), Image.BICUBIC)), 0.0, 1.0)


def solid_ink(ink, side, level=0.45, supersample=4):
    """Coarse grey ink (a few pixels a side) as solid pen strokes with anti-aliased edges.

    Upscaled four times over, smoothed by half a source pixel (no blocks, no ringing), cut at
    `level`, then averaged down: the outline of a pen stroke rather than a grey blur.
    """
    big = side * supersample
    grey = Image.fromarray(np.uint8(np.round(255 * np.clip(ink, 0, 1))))
    grey = grey.resize((big, big), Image.BILINEAR)
    grey = grey.filter(ImageFilter.GaussianBlur(0.5 * big / ink.shape[0]))
    solid = np.asarray(grey) >= round(255 * level)
    return solid.reshape(side, supersample, side, supersample).mean(axis=(1, 3))


def page(ink, offset=(0, 0)):
    """A white PAGE x PAGE page (mode L) with `ink` (square, 0..1) in dark ink, centred + offset."""
    canvas = np.zeros((PAGE, PAGE), dtype=np.float32)
    side = ink.shape[0]
    top = (PAGE - side) // 2 + offset[1]
    left = (PAGE - side) // 2 + offset[0]
    canvas[top : top + side, left : left + side] = ink
    return Image.fromarray(np.round(255.0 * (1.0 - canvas)).astype(np.uint8), mode="L")


def save(image, folder, index, label, suffix=".png", **params):
    """Saves `image` as folder/<index>-<label><suffix>; returns the path."""
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / f"{index}-{label}{suffix}"
    image.save(path, **params)
    return path
