"""The PyTorch tutorial "Building a Logistic Regression Classifier in PyTorch", as written
(torchvision MNIST with ToTensor, DataLoader batch 32 shuffled, Linear(784, 10) + sigmoid,
cross-entropy, SGD lr 0.001), timed per epoch: the baseline of `just bench`.

Usage: python bench/tutorial.py --data MNIST_RAW_DIR --epochs N
Prints one JSON object: per-epoch train and test seconds, and the test accuracies.
"""

import argparse
import json
import os
import tempfile
import time

import torch
from torch.utils.data import DataLoader
from torchvision import datasets, transforms

FILES = [
    "train-images-idx3-ubyte",
    "train-labels-idx1-ubyte",
    "t10k-images-idx3-ubyte",
    "t10k-labels-idx1-ubyte",
]


class LogisticRegression(torch.nn.Module):
    def __init__(self, n_inputs, n_outputs):
        super().__init__()
        self.linear = torch.nn.Linear(n_inputs, n_outputs)

    def forward(self, x):
        return torch.sigmoid(self.linear(x))


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--data", required=True, help="folder with train/ and test/ IDX files")
    parser.add_argument("--epochs", type=int, default=2)
    args = parser.parse_args()

    # torchvision reads <root>/MNIST/raw/<file>; link the already verified files there.
    root = tempfile.mkdtemp()
    raw = os.path.join(root, "MNIST", "raw")
    os.makedirs(raw)
    for name in FILES:
        split = "train" if name.startswith("train") else "test"
        os.symlink(os.path.join(args.data, split, name), os.path.join(raw, name))

    torch.manual_seed(42)
    train_dataset = datasets.MNIST(root=root, train=True, transform=transforms.ToTensor())
    test_dataset = datasets.MNIST(root=root, train=False, transform=transforms.ToTensor())
    batch_size = 32
    train_loader = DataLoader(dataset=train_dataset, batch_size=batch_size, shuffle=True)
    test_loader = DataLoader(dataset=test_dataset, batch_size=batch_size, shuffle=False)

    log_regr = LogisticRegression(28 * 28, 10)
    optimizer = torch.optim.SGD(log_regr.parameters(), lr=0.001)
    criterion = torch.nn.CrossEntropyLoss()

    train_seconds, test_seconds, accuracies = [], [], []
    for _ in range(args.epochs):
        started = time.perf_counter()
        for images, labels in train_loader:
            optimizer.zero_grad()
            outputs = log_regr(images.view(-1, 28 * 28))
            loss = criterion(outputs, labels)
            loss.backward()
            optimizer.step()
        train_seconds.append(time.perf_counter() - started)

        started = time.perf_counter()
        correct = 0
        for images, labels in test_loader:
            outputs = log_regr(images.view(-1, 28 * 28))
            _, predicted = torch.max(outputs.data, 1)
            correct += (predicted == labels).sum()
        accuracies.append(100 * correct.item() / len(test_dataset))
        test_seconds.append(time.perf_counter() - started)

    print(json.dumps({
        "torch": torch.__version__,
        "threads": torch.get_num_threads(),
        "train_seconds": train_seconds,
        "test_seconds": test_seconds,
        "test_accuracy": accuracies,
    }))


if __name__ == "__main__":
    main()
