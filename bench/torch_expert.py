"""The seed config in PyTorch as an expert writes it for a GPU: both splits preloaded on the
device as one tensor each, batches taken by index from a per-epoch permutation (no DataLoader,
no host round trip per step), Linear(784, 10) + sigmoid, cross-entropy, SGD lr 0.001,
batch 32. The baseline of `just gpu-check`.

Usage: python torch_expert.py --data MNIST_RAW_DIR [--epochs 3] [--train-limit N]
Prints one JSON object: device, per-epoch train and test seconds, test accuracy, peak memory.
Only the standard library and torch are needed (no torchvision).
"""

import argparse
import json
import os
import struct
import time

import torch


def read_idx(path):
    with open(path, "rb") as file:
        data = file.read()
    magic, count = struct.unpack(">II", data[:8])
    if magic == 2051:
        rows, cols = struct.unpack(">II", data[8:16])
        return torch.frombuffer(bytearray(data[16:]), dtype=torch.uint8).view(count, rows * cols)
    return torch.frombuffer(bytearray(data[8:]), dtype=torch.uint8).view(count)


def split(root, name, images, labels, limit, device):
    x = read_idx(os.path.join(root, name, images))[:limit]
    y = read_idx(os.path.join(root, name, labels))[:limit]
    return x.to(device).float().div_(255.0), y.to(device).long()


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--data", required=True, help="folder with train/ and test/ IDX files")
    parser.add_argument("--epochs", type=int, default=3)
    parser.add_argument("--train-limit", type=int, default=None)
    parser.add_argument("--test-limit", type=int, default=None)
    args = parser.parse_args()

    device = torch.device("cuda" if torch.cuda.is_available() else "cpu")
    torch.manual_seed(42)
    train_x, train_y = split(args.data, "train", "train-images-idx3-ubyte", "train-labels-idx1-ubyte", args.train_limit, device)
    test_x, test_y = split(args.data, "test", "t10k-images-idx3-ubyte", "t10k-labels-idx1-ubyte", args.test_limit, device)

    model = torch.nn.Sequential(torch.nn.Linear(784, 10), torch.nn.Sigmoid()).to(device)
    optimizer = torch.optim.SGD(model.parameters(), lr=0.001)
    criterion = torch.nn.CrossEntropyLoss()
    batch = 32

    def synchronize():
        if device.type == "cuda":
            torch.cuda.synchronize()

    train_seconds, test_seconds, accuracies = [], [], []
    for _ in range(args.epochs):
        synchronize()
        started = time.perf_counter()
        order = torch.randperm(len(train_x), device=device)
        loss_sum = torch.zeros((), device=device)
        for start in range(0, len(order), batch):
            index = order[start:start + batch]
            optimizer.zero_grad(set_to_none=True)
            loss = criterion(model(train_x[index]), train_y[index])
            loss.backward()
            optimizer.step()
            loss_sum += loss.detach()
        loss_sum.item()  # one read per epoch, as a training loop needs for its report
        train_seconds.append(time.perf_counter() - started)

        started = time.perf_counter()
        with torch.no_grad():
            correct = (model(test_x).argmax(1) == test_y).sum().item()
        test_seconds.append(time.perf_counter() - started)
        accuracies.append(100.0 * correct / len(test_x))

    peak = torch.cuda.max_memory_reserved() / 2**20 if device.type == "cuda" else None
    print(json.dumps({
        "device": torch.cuda.get_device_name() if device.type == "cuda" else "cpu",
        "torch": torch.__version__,
        "steps_per_epoch": (len(train_x) + batch - 1) // batch,
        "train_seconds": train_seconds,
        "test_seconds": test_seconds,
        "test_accuracy": accuracies,
        "peak_gpu_mib": peak,
    }))


if __name__ == "__main__":
    main()
