"""Check an export of `mnist-burn export RUN --format onnx` and run it in onnxruntime on
MNIST's test images.   python load_onnx.py MODEL TEST_IMAGES OUT_CSV"""
import sys

import numpy as np
import onnx
import onnxruntime

from tutorial_model import model_inputs, read_idx

path, images_path, out = sys.argv[1:4]
onnx.checker.check_model(onnx.load(path), full_check=True)
session = onnxruntime.InferenceSession(path, providers=["CPUExecutionProvider"])
x = model_inputs(read_idx(images_path), path + ".json")
(scores,) = session.run(["scores"], {"pixels": x})
scores = scores - scores.max(axis=1, keepdims=True)
probabilities = np.exp(scores) / np.exp(scores).sum(axis=1, keepdims=True)
np.savetxt(out, probabilities, delimiter=",")
