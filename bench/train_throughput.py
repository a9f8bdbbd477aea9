"""Images/s of nasbench.train.evaluate vs a textbook DataLoader loop: same genome, data, optimiser and batch size.

    python bench/train_throughput.py [--model resnet20|tiny] [--repeats 5] [--epochs 2] [--threads N]

Both train on digits at 32x32 (1 channel, 10 classes) and validate after every epoch; runs are interleaved
(the order rotates each repeat) and the figure is the median of the per-repeat speed ratios. A third runner,
the trainer with channels_last=False, separates the memory-format gain from the batching gain.
"""
from __future__ import annotations

import argparse
import dataclasses
import statistics
import time

import torch
import torch.nn.functional as F
from torch.utils.data import DataLoader, TensorDataset

from nasbench import Genome, Stage, build, zoo
from nasbench.blocks.conv import ConvGene
from nasbench.blocks.residual import BasicGene
from nasbench.data import Dataset, load_dataset
from nasbench.train import TrainConfig, evaluate, torch_threads

RESOLUTION = 32


def model_genome(name: str) -> Genome:
    if name == "resnet20":
        return zoo.get("resnet20").with_input(in_chans=1, resolution=RESOLUTION, num_classes=10)
    return Genome(stem=(Stage(ConvGene(channels=16), 1, 1),),
                  stages=(Stage(BasicGene(channels=16), 1, 2), Stage(BasicGene(channels=32), 1, 2)),
                  in_chans=1, resolution=RESOLUTION, num_classes=10)


def run_trainer(genome: Genome, data: Dataset, config: TrainConfig) -> tuple[float, int]:
    """(seconds, images trained) for nasbench's trainer (channels-last, as configured by default)."""
    start = time.perf_counter()
    result = evaluate(genome, data, config)
    seconds = time.perf_counter() - start
    if not result.ok:
        raise RuntimeError(result.failure_reason)
    steps = len(data.train) // config.batch_size
    return seconds, steps * config.batch_size * config.epochs


def run_dataloader_loop(genome: Genome, data: Dataset, config: TrainConfig) -> tuple[float, int]:
    """(seconds, images trained) for the textbook loop: TensorDataset + DataLoader(shuffle=True)."""
    start = time.perf_counter()
    torch.manual_seed(config.seed)
    model = build(genome)
    optimizer = torch.optim.SGD(model.parameters(), lr=config.lr, momentum=config.momentum,
                                nesterov=config.nesterov, weight_decay=config.weight_decay)
    train_loader = DataLoader(TensorDataset(data.train.images, data.train.labels), batch_size=config.batch_size,
                              shuffle=True)
    val_loader = DataLoader(TensorDataset(data.val.images, data.val.labels), batch_size=config.eval_batch_size)
    for _ in range(config.epochs):
        model.train()
        running_loss = 0.0
        for images, labels in train_loader:
            optimizer.zero_grad()
            loss = F.cross_entropy(model(images), labels)
            loss.backward()
            optimizer.step()
            running_loss += loss.item()
        model.eval()
        correct = 0
        with torch.no_grad():
            for images, labels in val_loader:
                correct += (model(images).argmax(1) == labels).sum().item()
    return time.perf_counter() - start, len(data.train) * config.epochs


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--model", choices=("tiny", "resnet20"), default="tiny")
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--epochs", type=int, default=2)
    parser.add_argument("--batch-size", type=int, default=128)
    parser.add_argument("--threads", type=int, default=None, help="torch threads (default: $OMP_NUM_THREADS or all)")
    args = parser.parse_args()

    genome = model_genome(args.model)
    data = load_dataset("digits", resolution=RESOLUTION)
    config = TrainConfig(epochs=args.epochs, batch_size=args.batch_size, schedule="constant", device="cpu",
                         threads=args.threads)
    runners = {"trainer": run_trainer, "DataLoader loop": run_dataloader_loop,
               "trainer NCHW": lambda g, d, c: run_trainer(g, d, dataclasses.replace(c, channels_last=False))}
    rates: dict[str, list[float]] = {name: [] for name in runners}
    with torch_threads(args.threads) as threads:
        print(f"model {args.model}, digits {RESOLUTION}x{RESOLUTION}, {len(data.train)} train images, batch "
              f"{args.batch_size}, {args.epochs} epochs per run, {threads} threads, {args.repeats} repeats")
        for runner in runners.values():  # warm-up: first-call allocations and kernel selection
            runner(genome, data, config)
        for repeat in range(args.repeats):
            order = list(runners)[repeat % len(runners):] + list(runners)[:repeat % len(runners)]
            for name in order:
                seconds, images = runners[name](genome, data, config)
                rates[name].append(images / seconds)
            print(f"repeat {repeat + 1}: " + ", ".join(f"{n} {rates[n][-1]:.0f} img/s" for n in runners))
    for name in runners:
        print(f"{name}: median {statistics.median(rates[name]):.0f} img/s")
    nchw = [a / b for a, b in zip(rates["trainer NCHW"], rates["DataLoader loop"])]
    print(f"trainer with channels_last=False vs DataLoader loop: {statistics.median(nchw):.2f}x")
    ratios = [a / b for a, b in zip(rates["trainer"], rates["DataLoader loop"])]
    print(f"trainer vs DataLoader loop: {statistics.median(ratios):.2f}x")


if __name__ == "__main__":
    main()
