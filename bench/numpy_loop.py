"""A project config trained the way a NumPy expert writes it: the splits converted to float32
once, batches gathered by index from a per-epoch permutation into preallocated buffers, one
matrix product forward and two backward, the softmax cross-entropy's gradient written out,
SGD with momentum, weight decay and the cosine schedule as Burn applies them. Per step it
also keeps what mnist-burn reports per epoch (the training loss and accuracy); per epoch it
evaluates the validation and test splits. The baseline `just bench` holds mnist-burn's CPU
backends against.

Usage: python bench/numpy_loop.py --config configs/seed.toml --data MNIST_RAW_DIR [--epochs N]
Prints one JSON object: per-epoch train and test seconds (test: validation + test splits),
losses and accuracies. Only NumPy is needed.
"""

import argparse
import json
import time

import numpy as np

from experiment import Experiment


class SoftmaxRegression:
    """x @ W + b, optionally through a sigmoid, with W [784, 10] input-major as Burn stores it,
    initialised as PyTorch's nn.Linear (uniform in +-1/sqrt(784))."""

    def __init__(self, experiment, rng):
        bound = 1.0 / np.sqrt(784)
        self.weights = rng.uniform(-bound, bound, (784, 10)).astype(np.float32)
        self.bias = rng.uniform(-bound, bound, 10).astype(np.float32)
        self.sigmoid = experiment.sigmoid

    def scores(self, x, out=None):
        z = np.matmul(x, self.weights, out=out)
        z += self.bias
        if self.sigmoid:
            np.negative(z, out=z)
            np.exp(z, out=z)
            z += 1.0
            np.reciprocal(z, out=z)
        return z


def loss_and_gradient(scores, labels):
    """Mean cross-entropy of softmax(scores), the number right, and d loss / d scores in place
    of `scores`."""
    rows = np.arange(len(labels))
    predicted = scores.argmax(1)
    shifted = scores - scores.max(1, keepdims=True)
    exp = np.exp(shifted)
    total = exp.sum(1, keepdims=True)
    loss = float(np.log(total[:, 0]).sum() - shifted[rows, labels].sum()) / len(labels)
    np.divide(exp, total * len(labels), out=scores)
    scores[rows, labels] -= 1.0 / len(labels)
    return loss, int((predicted == labels).sum())


class Sgd:
    """Burn's and PyTorch's SGD: weight decay added to the gradient, momentum without
    dampening (the buffer starts as the first gradient), optional Nesterov."""

    def __init__(self, experiment, parameters):
        self.experiment = experiment
        self.velocity = [None for _ in parameters]

    def step(self, lr, parameters, gradients):
        e = self.experiment
        for index, (parameter, gradient) in enumerate(zip(parameters, gradients)):
            if e.weight_decay:
                gradient += np.float32(e.weight_decay) * parameter
            if e.momentum:
                velocity = self.velocity[index]
                if velocity is None:
                    velocity = self.velocity[index] = gradient.copy()
                else:
                    velocity *= np.float32(e.momentum)
                    velocity += gradient
                gradient = gradient + np.float32(e.momentum) * velocity if e.nesterov else velocity
            parameter -= np.float32(lr) * gradient


def evaluate(model, split, batch_size):
    x, y = split
    loss, correct = 0.0, 0
    for start in range(0, len(x), batch_size):
        scores = model.scores(x[start:start + batch_size])
        batch_loss, batch_correct = loss_and_gradient(scores, y[start:start + batch_size])
        loss += batch_loss * len(scores)
        correct += batch_correct
    return loss / len(x), 100.0 * correct / len(x)


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--config", required=True)
    parser.add_argument("--data", required=True, help="folder with train/ and test/ IDX files")
    parser.add_argument("--epochs", type=int, default=None, help="epochs to run (default: the config's)")
    args = parser.parse_args()

    experiment = Experiment.load(args.config)
    (train_x, train_y), validation, test = experiment.splits(args.data)
    rng = np.random.default_rng(experiment.seed)
    model = SoftmaxRegression(experiment, rng)
    optimizer = Sgd(experiment, [model.weights, model.bias])
    batch = experiment.batch_size
    steps_per_epoch = (len(train_x) + batch - 1) // batch
    total_steps = steps_per_epoch * experiment.epochs
    x_buffer = np.empty((batch, 784), np.float32)
    scores_buffer = np.empty((batch, 10), np.float32)
    weight_gradient = np.empty_like(model.weights)

    result = {"numpy": np.__version__, "steps_per_epoch": steps_per_epoch, "train_seconds": [],
              "test_seconds": [], "train_loss": [], "valid_accuracy": [], "test_loss": [], "test_accuracy": []}
    step = 0
    for _ in range(args.epochs or experiment.epochs):
        started = time.perf_counter()
        order = rng.permutation(len(train_x))
        loss_sum, correct = 0.0, 0
        for start in range(0, len(order), batch):
            index = order[start:start + batch]
            x = np.take(train_x, index, axis=0, out=x_buffer[:len(index)])
            y = train_y[index]
            scores = model.scores(x, out=scores_buffer[:len(index)])
            outputs = scores.copy() if model.sigmoid else None
            loss, right = loss_and_gradient(scores, y)
            if outputs is not None:  # through the sigmoid: d/dz = d/do * o * (1 - o)
                scores *= outputs * (1.0 - outputs)
            np.matmul(x.T, scores, out=weight_gradient)
            optimizer.step(experiment.learning_rate(step, total_steps), [model.weights, model.bias],
                           [weight_gradient, scores.sum(0)])
            loss_sum += loss * len(index)
            correct += right
            step += 1
        result["train_seconds"].append(time.perf_counter() - started)
        result["train_loss"].append(loss_sum / len(train_x))

        started = time.perf_counter()
        if validation is not None:
            result["valid_accuracy"].append(evaluate(model, validation, experiment.test_batch_size)[1])
        test_loss, test_accuracy = evaluate(model, test, experiment.test_batch_size)
        result["test_seconds"].append(time.perf_counter() - started)
        result["test_loss"].append(test_loss)
        result["test_accuracy"].append(test_accuracy)
    print(json.dumps(result))


if __name__ == "__main__":
    main()
