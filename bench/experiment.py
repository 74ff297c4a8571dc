"""A project config (configs/*.toml) read the way mnist-burn reads it, for the benchmark loops
written in NumPy (numpy_loop.py) and PyTorch (torch_expert.py): the model's activation, the
batch sizes, the optimiser, the schedule, and the splits prepared once (deskewed if the
config says so, scaled to 0..1, standardised, validation images held out).

NumPy only. The held-out images are the last `data.validation` of the training split rather
than mnist-burn's seeded choice: the arithmetic per epoch, which is what the loops time, is
the same.
"""

import math
import os
import sys
import tomllib
from dataclasses import dataclass

import numpy as np

HERE = os.path.dirname(os.path.abspath(__file__))
# mnist_pixels.py: beside this file in the GPU bundle, in examples/python/ in the repository.
sys.path[:0] = [HERE, os.path.join(HERE, "..", "examples", "python")]
from mnist_pixels import deskew, read_idx  # noqa: E402


@dataclass
class Experiment:
    seed: int
    epochs: int
    sigmoid: bool
    batch_size: int
    test_batch_size: int
    mean: float
    std: float
    deskew: bool
    validation: int
    lr: float
    momentum: float
    nesterov: bool
    weight_decay: float
    cosine: bool
    min_lr: float

    @staticmethod
    def load(path):
        with open(path, "rb") as file:
            config = tomllib.load(file)
        data, model, optimizer = config.get("data", {}), config.get("model", {}), config.get("optimizer", {})
        if optimizer.get("name", "sgd") != "sgd":
            raise SystemExit(f"{path}: the benchmark loops implement SGD only")
        return Experiment(
            seed=config.get("seed", 42),
            epochs=config.get("epochs", 10),
            sigmoid=model.get("activation", "none") == "sigmoid",
            batch_size=data.get("batch_size", 64),
            test_batch_size=data.get("test_batch_size", 1000),
            mean=data.get("mean", 0.0),
            std=data.get("std", 1.0),
            deskew=data.get("deskew", False),
            validation=data.get("validation", 0),
            lr=optimizer.get("lr", 0.01),
            momentum=optimizer.get("momentum", 0.0),
            nesterov=optimizer.get("nesterov", False),
            weight_decay=optimizer.get("weight_decay", 0.0),
            cosine=optimizer.get("schedule", "constant") == "cosine",
            min_lr=optimizer.get("min_lr", 0.0),
        )

    def learning_rate(self, step, total_steps):
        """Burn's CosineAnnealingLrScheduler, or the constant rate: the rate of step `step`
        (counted from 0) of `total_steps`."""
        if not self.cosine:
            return self.lr
        return self.min_lr + 0.5 * (self.lr - self.min_lr) * (1.0 + math.cos(step / total_steps * math.pi))

    def splits(self, root, train_limit=None, test_limit=None):
        """(train, validation, test), each (float32 pixels [N, 784], int64 labels [N]);
        validation is None without held-out images."""

        def split(name, images, labels, limit):
            x = read_idx(os.path.join(root, name, images))[:limit]
            y = read_idx(os.path.join(root, name, labels))[:limit].astype(np.int64)
            if self.deskew:  # in slices: the NumPy deskew's temporaries are 64 bytes a pixel
                x = np.concatenate([deskew(x[i:i + 2000]) for i in range(0, len(x), 2000)])
            x = x.reshape(len(x), 784).astype(np.float32) / np.float32(255.0)
            if (self.mean, self.std) != (0.0, 1.0):
                x = (x - np.float32(self.mean)) / np.float32(self.std)
            return x, y

        train_x, train_y = split("train", "train-images-idx3-ubyte", "train-labels-idx1-ubyte", train_limit)
        test = split("test", "t10k-images-idx3-ubyte", "t10k-labels-idx1-ubyte", test_limit)
        if self.validation == 0:
            return (train_x, train_y), None, test
        keep = len(train_x) - self.validation
        return (train_x[:keep], train_y[:keep]), (train_x[keep:], train_y[keep:]), test
