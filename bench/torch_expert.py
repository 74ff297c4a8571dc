"""A project config in PyTorch as an expert writes it: the splits preloaded on the device as one
tensor each, batches taken by index from a per-epoch permutation (no DataLoader, no host round
trip per step), Linear(784, 10) (+ sigmoid where the config has it), cross-entropy, SGD with
the config's momentum, weight decay and cosine schedule (stepped per batch, as Burn does), the
training loss and accuracy kept on the device and read once per epoch. The baseline of
`just gpu-check` (the seed config on the GPU) and of `just bench` (on the CPU).

Usage: python torch_expert.py --data MNIST_RAW_DIR [--config configs/seed.toml] [--epochs 3]
       [--train-limit N] [--test-limit N] [--device cpu|cuda] [--threads N]
Prints one JSON object: device, per-epoch train and test seconds (test: validation + test
splits), test accuracy, peak memory. Needs torch and NumPy (no torchvision).
"""

import argparse
import json
import os
import time

import torch

from experiment import HERE, Experiment


def seed_config():
    """configs/seed.toml beside this file (the GPU bundle) or one folder up (the repository)."""
    for root in (HERE, os.path.join(HERE, "..")):
        path = os.path.join(root, "configs", "seed.toml")
        if os.path.exists(path):
            return path
    raise SystemExit("no configs/seed.toml found; pass --config")


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--data", required=True, help="folder with train/ and test/ IDX files")
    parser.add_argument("--config", default=None, help="project config (default: configs/seed.toml)")
    parser.add_argument("--epochs", type=int, default=3)
    parser.add_argument("--train-limit", type=int, default=None)
    parser.add_argument("--test-limit", type=int, default=None)
    parser.add_argument("--device", default=None, help="default: cuda when available, else cpu")
    parser.add_argument("--threads", type=int, default=None, help="CPU threads (default: torch's)")
    args = parser.parse_args()

    if args.threads:
        torch.set_num_threads(args.threads)
    experiment = Experiment.load(args.config or seed_config())
    device = torch.device(args.device or ("cuda" if torch.cuda.is_available() else "cpu"))
    torch.manual_seed(experiment.seed)
    on_device = lambda split: (torch.from_numpy(split[0]).to(device), torch.from_numpy(split[1]).to(device))
    train, validation, test = experiment.splits(args.data, args.train_limit, args.test_limit)
    train_x, train_y = on_device(train)
    evaluated = [on_device(split) for split in (validation, test) if split is not None]

    layers = [torch.nn.Linear(784, 10)] + ([torch.nn.Sigmoid()] if experiment.sigmoid else [])
    model = torch.nn.Sequential(*layers).to(device)
    optimizer = torch.optim.SGD(model.parameters(), lr=experiment.lr, momentum=experiment.momentum,
                                nesterov=experiment.nesterov, weight_decay=experiment.weight_decay)
    criterion = torch.nn.CrossEntropyLoss()
    batch = experiment.batch_size
    steps_per_epoch = (len(train_x) + batch - 1) // batch
    scheduler = (torch.optim.lr_scheduler.CosineAnnealingLR(optimizer, steps_per_epoch * experiment.epochs,
                                                            eta_min=experiment.min_lr)
                 if experiment.cosine else None)

    def synchronize():
        if device.type == "cuda":
            torch.cuda.synchronize()

    train_seconds, test_seconds, losses, accuracies = [], [], [], []
    for _ in range(args.epochs):
        synchronize()
        started = time.perf_counter()
        order = torch.randperm(len(train_x), device=device)
        loss_sum = torch.zeros((), device=device)
        correct = torch.zeros((), dtype=torch.int64, device=device)
        for start in range(0, len(order), batch):
            index = order[start:start + batch]
            optimizer.zero_grad(set_to_none=True)
            scores = model(train_x[index])
            targets = train_y[index]
            loss = criterion(scores, targets)
            loss.backward()
            optimizer.step()
            if scheduler is not None:
                scheduler.step()
            with torch.no_grad():
                loss_sum += loss.detach() * len(index)
                correct += (scores.argmax(1) == targets).sum()
        loss_sum.item(), correct.item()  # one read per epoch, as a training loop needs for its report
        train_seconds.append(time.perf_counter() - started)

        started = time.perf_counter()
        with torch.no_grad():
            for x, y in evaluated:  # the validation split (if any), then the test split
                scores = torch.cat([model(x[i:i + experiment.test_batch_size])
                                    for i in range(0, len(x), experiment.test_batch_size)])
                test_loss = criterion(scores, y).item()
                right = (scores.argmax(1) == y).sum().item()
        test_seconds.append(time.perf_counter() - started)
        losses.append(test_loss)
        accuracies.append(100.0 * right / len(evaluated[-1][0]))

    peak = torch.cuda.max_memory_reserved() / 2**20 if device.type == "cuda" else None
    print(json.dumps({
        "device": torch.cuda.get_device_name() if device.type == "cuda" else "cpu",
        "torch": torch.__version__,
        "threads": torch.get_num_threads(),
        "steps_per_epoch": steps_per_epoch,
        "train_seconds": train_seconds,
        "test_seconds": test_seconds,
        "test_loss": losses,
        "test_accuracy": accuracies,
        "peak_gpu_mib": peak,
    }))


if __name__ == "__main__":
    main()
