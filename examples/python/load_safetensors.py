"""Load an export of `mnist-burn export RUN --format safetensors` (or the browser build's
download) into the tutorial's class and classify MNIST's test images.
    python load_safetensors.py MODEL TEST_IMAGES OUT_CSV
The export's sidecar (MODEL.json) says how to feed the model; without one, the same facts come
from the file's own header (`mnist_burn.*` metadata)."""
import json
import os
import sys

import numpy as np
import torch
from safetensors import safe_open
from safetensors.torch import load_file

from tutorial_model import LogisticRegression, model_inputs, read_idx, scaled_inputs

path, images_path, out = sys.argv[1:4]
if os.path.exists(path + ".json"):
    activation = json.load(open(path + ".json"))["activation"]
    inputs = lambda images: model_inputs(images, path + ".json")  # noqa: E731
else:
    with safe_open(path, "pt") as header:
        facts = header.metadata()
    activation = facts["mnist_burn.activation"]
    steps = [step for step in facts["mnist_burn.preprocessing"].split(",") if step]
    mean, std = float(facts["mnist_burn.mean"]), float(facts["mnist_burn.std"])
    inputs = lambda images: scaled_inputs(images, steps, mean, std)  # noqa: E731
model = LogisticRegression(sigmoid=activation == "sigmoid")
model.load_state_dict(load_file(path))
model.eval()
with torch.no_grad():
    x = torch.from_numpy(inputs(read_idx(images_path)))
    probabilities = torch.softmax(model(x), dim=1).numpy()
np.savetxt(out, probabilities, delimiter=",")
