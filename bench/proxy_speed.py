"""How long each zero-cost proxy takes per genome: a seeded sample of the default space (resnet_family within the
default FLOP budget) on one minibatch of the default dataset, on the CPU threads torch is given.

    python bench/proxy_speed.py [--space resnet_family] [--dataset digits] [--genomes 20] [--seed 0]

Prints one row per proxy (median, p90 and max seconds per genome), then as its last line:
`proxy speed (<space>, <n> genomes, <threads> threads): <proxy> median <m> s max <x> s; ...`
"""
from __future__ import annotations

import argparse
import time

import numpy as np
import optuna
import torch

from nasbench.data import load_dataset
from nasbench.proxies import PROXIES, score
from nasbench.search.settings import DEFAULT_MAX_FLOPS
from search_spaces import get_space


def sample_genomes(space_name: str, dataset, count: int, seed: int) -> list:
    """`count` genomes of the space within the dataset's default FLOP budget, drawn by a seeded random sampler."""
    space = get_space(space_name).for_input(dataset.in_chans, dataset.resolution, dataset.num_classes,
                                            max_flops=DEFAULT_MAX_FLOPS.get(dataset.name))
    optuna.logging.set_verbosity(optuna.logging.WARNING)
    study = optuna.create_study(sampler=optuna.samplers.RandomSampler(seed=seed))
    genomes = []
    while len(genomes) < count:
        found = space.sample_within_budget(study.ask, lambda *rejected: None, 100)
        if found is not None:
            genomes.append(found[1])
    return genomes


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--space", default="resnet_family")
    parser.add_argument("--dataset", default="digits")
    parser.add_argument("--genomes", type=int, default=20)
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()
    dataset = load_dataset(args.dataset, seed=args.seed)
    genomes = sample_genomes(args.space, dataset, args.genomes, args.seed)
    score("synflow", genomes[0], dataset)  # warm-up: first-call costs of torch are not a proxy's
    parts = []
    for name in PROXIES:
        seconds = []
        for genome in genomes:
            start = time.perf_counter()
            score(name, genome, dataset, seed=args.seed)
            seconds.append(time.perf_counter() - start)
        median, p90, top = np.median(seconds), np.percentile(seconds, 90), max(seconds)
        print(f"{name:10s} median {median:.3f} s  p90 {p90:.3f} s  max {top:.3f} s")
        parts.append(f"{name} median {median:.3f} s max {top:.3f} s")
    print(f"proxy speed ({args.space}, {len(genomes)} genomes, {torch.get_num_threads()} threads): "
          + "; ".join(parts))


if __name__ == "__main__":
    main()
