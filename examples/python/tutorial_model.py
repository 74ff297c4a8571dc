"""The PyTorch tutorial's model, and MNIST's test images as a model exported by mnist-burn
expects them (its sidecar JSON says how to prepare and scale the pixels)."""
import json

import numpy as np
import torch

from mnist_pixels import deskew, read_idx  # noqa: F401 (re-exported for the examples)


class LogisticRegression(torch.nn.Module):
    """The tutorial's class: one Linear(784 -> 10) layer, with its sigmoid made optional
    (mnist-burn's default config has none; the tutorial's own config has it)."""

    def __init__(self, n_inputs=784, n_outputs=10, sigmoid=True):
        super().__init__()
        self.linear = torch.nn.Linear(n_inputs, n_outputs)
        self.sigmoid = sigmoid

    def forward(self, x):
        y_pred = self.linear(x)
        return torch.sigmoid(y_pred) if self.sigmoid else y_pred


def model_inputs(images, sidecar_path):
    """Pixels 0..255 of [N, 28, 28] images as the exported model's float32 [N, 784] input:
    the sidecar's preprocessing steps, then its normalization."""
    sidecar = json.load(open(sidecar_path))
    scaling = sidecar["normalization"]
    steps = [step["step"] for step in sidecar["preprocessing"]]
    return scaled_inputs(images, steps, scaling["mean"], scaling["std"])


def scaled_inputs(images, steps, mean, std):
    """The same, from the facts themselves: `steps` ("deskew" or none), then
    (pixel / 255 - mean) / std."""
    for step in steps:
        if step != "deskew":
            raise ValueError(f"unknown preprocessing step {step!r}")
        images = deskew(images)
    pixels = images.reshape(len(images), 784).astype(np.float32) / 255.0
    return ((pixels - mean) / std).astype(np.float32)
