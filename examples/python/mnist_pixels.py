"""MNIST's pixels in NumPy alone: the IDX reader and mnist-burn's deskew, shared by the examples
(tutorial_model.py) and the benchmark loops (bench/)."""
import numpy as np


def read_idx(path):
    """An MNIST IDX file (images or labels) as a numpy array."""
    data = open(path, "rb").read()
    dims = data[3]
    shape = [int.from_bytes(data[4 + 4 * i : 8 + 4 * i], "big") for i in range(dims)]
    return np.frombuffer(data, dtype=np.uint8, offset=4 + 4 * dims).reshape(shape)


def deskew(images):
    """mnist-burn's deskew (crates/data/src/deskew.rs), pixel for pixel: each [28, 28] image
    sheared along its rows by alpha = cov(row, col) / var(row) of its ink and moved so that
    its centre of mass is at (14, 14), sampled bilinearly (0 outside), rounded."""
    images = images.reshape(-1, 28, 28)
    ink = images.astype(np.float64)
    # Sums of integers, exact in any order, so the moments are the same bits as in Rust.
    whole = images.astype(np.int64)
    rows = np.arange(28)[None, :, None]
    cols = np.arange(28)[None, None, :]
    total = whole.sum(axis=(1, 2))
    safe_total = np.where(total > 0, total, 1).astype(np.float64)
    mean_row = (whole * rows).sum(axis=(1, 2)) / safe_total
    mean_col = (whole * cols).sum(axis=(1, 2)) / safe_total
    variance = (whole * rows * rows).sum(axis=(1, 2)) / safe_total - mean_row * mean_row
    covariance = (whole * rows * cols).sum(axis=(1, 2)) / safe_total - mean_row * mean_col
    alpha = np.where(variance > 0, covariance / np.where(variance > 0, variance, 1.0), 0.0)
    rows, cols = rows.astype(np.float64), cols.astype(np.float64)
    from_centre = rows - 14.0 + 0.0 * cols
    source_row = from_centre + mean_row[:, None, None]
    source_col = cols + alpha[:, None, None] * from_centre - 14.0 + mean_col[:, None, None]
    top, left = np.floor(source_row), np.floor(source_col)
    down, right = source_row - top, source_col - left
    image_index = np.arange(len(images))[:, None, None]

    def at(row, col):
        inside = (row >= 0) & (row < 28) & (col >= 0) & (col < 28)
        row_index = np.clip(row, 0, 27).astype(np.int64)
        col_index = np.clip(col, 0, 27).astype(np.int64)
        return np.where(inside, ink[image_index, row_index, col_index], 0.0)

    value = (
        (1.0 - down) * (1.0 - right) * at(top, left)
        + (1.0 - down) * right * at(top, left + 1.0)
        + down * (1.0 - right) * at(top + 1.0, left)
        + down * right * at(top + 1.0, left + 1.0)
    )
    upright = np.clip(np.floor(value + 0.5), 0, 255).astype(np.uint8)
    return np.where((total > 0)[:, None, None], upright, images)
