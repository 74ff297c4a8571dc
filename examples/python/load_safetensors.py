"""Load an export of `mnist-burn export RUN --format safetensors` into the tutorial's class
and classify MNIST's test images.   python load_safetensors.py MODEL TEST_IMAGES OUT_CSV"""
import json
import sys

import numpy as np
import torch
from safetensors.torch import load_file

from tutorial_model import LogisticRegression, model_inputs, read_idx

path, images_path, out = sys.argv[1:4]
sidecar = json.load(open(path + ".json"))
model = LogisticRegression(sigmoid=sidecar["activation"] == "sigmoid")
model.load_state_dict(load_file(path))
model.eval()
with torch.no_grad():
    x = torch.from_numpy(model_inputs(read_idx(images_path), path + ".json"))
    probabilities = torch.softmax(model(x), dim=1).numpy()
np.savetxt(out, probabilities, delimiter=",")
