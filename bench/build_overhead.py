"""Forward+backward time of genome-built networks vs their torchvision/timm twins on the same input.

    python bench/build_overhead.py [names...] [--resolution 112] [--batch 8] [--repeats 7] [--iterations 2]
                                   [--threads N]

Per repeat, each pair runs back to back (alternating which goes first); the figure is the median of the
per-repeat time ratios genome / reference, pooled over all networks.
"""
from __future__ import annotations

import argparse
import statistics
import time

import torch
import torch.nn.functional as F
from torch import nn

from nasbench import build, zoo
from nasbench.train import torch_threads

NETWORKS = ("resnet18", "resnet50", "mobilenet_v2", "efficientnet_b0", "densenet121")


def step_seconds(model: nn.Module, images: torch.Tensor, labels: torch.Tensor, iterations: int) -> float:
    """Mean seconds of one forward + backward pass in training mode."""
    start = time.perf_counter()
    for _ in range(iterations):
        model.zero_grad(set_to_none=True)
        F.cross_entropy(model(images), labels).backward()
    return (time.perf_counter() - start) / iterations


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("names", nargs="*", default=list(NETWORKS))
    parser.add_argument("--resolution", type=int, default=112)
    parser.add_argument("--batch", type=int, default=8)
    parser.add_argument("--repeats", type=int, default=7)
    parser.add_argument("--iterations", type=int, default=2, help="fwd+bwd passes timed per repeat")
    parser.add_argument("--threads", type=int, default=None, help="torch threads (default: $OMP_NUM_THREADS or all)")
    args = parser.parse_args()

    missing = [n for n in args.names if n not in zoo.names()]
    names = [n for n in args.names if n in zoo.names()]
    if missing:
        print(f"not in the zoo yet, skipped: {', '.join(missing)}")
    pooled: list[float] = []
    with torch_threads(args.threads) as threads:
        print(f"batch {args.batch}x3x{args.resolution}x{args.resolution}, {threads} threads, {args.repeats} repeats "
              f"of {args.iterations} fwd+bwd")
        for name in names:
            entry = zoo.entry(name)
            torch.manual_seed(0)
            models = {"genome": build(entry.genome).train(), "reference": zoo.reference_model(entry.reference).train()}
            images = torch.randn(args.batch, 3, args.resolution, args.resolution)
            labels = torch.randint(0, entry.genome.num_classes, (args.batch,))
            for model in models.values():
                step_seconds(model, images, labels, 1)  # warm-up
            times: dict[str, list[float]] = {"genome": [], "reference": []}
            for repeat in range(args.repeats):
                order = ("genome", "reference") if repeat % 2 == 0 else ("reference", "genome")
                for kind in order:
                    times[kind].append(step_seconds(models[kind], images, labels, args.iterations))
            ratios = [g / r for g, r in zip(times["genome"], times["reference"])]
            pooled += ratios
            print(f"{name:16s} {entry.reference.label:28s} genome {statistics.median(times['genome']) * 1e3:8.1f} ms"
                  f"  reference {statistics.median(times['reference']) * 1e3:8.1f} ms"
                  f"  ratio {statistics.median(ratios):.3f}x")
    print(f"genome vs reference fwd+bwd median ratio: {statistics.median(pooled):.3f}x")


if __name__ == "__main__":
    main()
