"""How well a proxy task ranks architectures: train a seeded sample of resnet_family genomes twice and compare.

    python bench/proxy_fidelity.py [--dataset distorted_digits|digits] [--genomes 40] [--seeds 2] [--workers 2]
                                   [--longer 5] [--out bench/out/proxy_<dataset>]

The genomes are Optuna RandomSampler(0) draws within the search's default FLOP budget for the dataset, trained with
the search's default trainer (epochs, batch size, learning rate of SearchSettings), seeds 0 and 1, one CPU thread per
worker. Trainable: above twice chance validation accuracy for every seed. Kendall's tau compares the seeds' rankings
of the trainable genomes; p10/p90/best are over their accuracies (every seed). Then the best genome (mean over seeds)
is trained again with `--longer` times the epochs, to show what the default budget leaves on the table.
Every training is appended to <out>/runs.csv as it ends, so an interrupted run continues where it stopped.
The last line is:
    proxy <dataset>: kendall tau <t> over <n> trainable genomes; val accuracy p10 <a>, p90 <b>, best <c>
"""
from __future__ import annotations

import argparse
import csv
import multiprocessing
import statistics
from concurrent.futures import ProcessPoolExecutor, as_completed
from pathlib import Path

import numpy as np
from scipy.stats import kendalltau

from nasbench.data import DATASETS, EMBEDDED, load_dataset
from nasbench.genome import Genome
from nasbench.search import SearchSettings
from nasbench.search.settings import DEFAULT_MAX_FLOPS
from nasbench.space import random_samples
from nasbench.train import TrainConfig, evaluate
from search_spaces import get_space

FIELDS = ("genome", "seed", "epochs", "val_accuracy", "train_accuracy", "status", "wall_time_s", "flops", "params",
          "body")


def sample_genomes(dataset: str, count: int) -> list[dict]:
    data = load_dataset(dataset)
    space = get_space("resnet_family", in_chans=data.in_chans, resolution=data.resolution,
                      num_classes=data.num_classes, max_flops=DEFAULT_MAX_FLOPS[dataset])
    return random_samples(space, count, seed=0)


def train_one(dataset: str, index: int, genome_json: dict, seed: int, epochs: int) -> dict:
    """One training with the search's default trainer on one thread: a runs.csv row."""
    defaults = SearchSettings()
    config = TrainConfig(epochs=epochs, batch_size=defaults.batch_size, lr=defaults.lr,
                         weight_decay=defaults.weight_decay, label_smoothing=defaults.label_smoothing, seed=seed,
                         threads=1)
    genome = Genome.from_dict(genome_json)
    result = evaluate(genome, load_dataset(dataset), config)
    last = result.history[-1] if result.history else None
    return {"genome": index, "seed": seed, "epochs": epochs, "val_accuracy": result.val_accuracy,
            "train_accuracy": last.train_accuracy if last else 0.0, "status": result.status,
            "wall_time_s": round(result.wall_time_s, 2)}


def read_runs(path: Path) -> list[dict]:
    if not path.exists():
        return []
    with path.open(newline="") as f:
        return [{**row, "genome": int(row["genome"]), "seed": int(row["seed"]), "epochs": int(row["epochs"]),
                 "val_accuracy": float(row["val_accuracy"])} for row in csv.DictReader(f)]


def run_all(jobs: list[tuple[int, int, int]], samples: list[dict], args, path: Path, done: list[dict]) -> None:
    """Train the (genome, seed, epochs) jobs not yet in runs.csv, appending each row as it ends."""
    have = {(r["genome"], r["seed"], r["epochs"]) for r in done}
    todo = [job for job in jobs if job not in have]
    if not todo:
        return
    new_file = not path.exists()
    context = multiprocessing.get_context("spawn")
    with path.open("a", newline="") as f, ProcessPoolExecutor(args.workers, mp_context=context) as pool:
        writer = csv.DictWriter(f, FIELDS)
        if new_file:
            writer.writeheader()
        futures = [pool.submit(train_one, args.dataset, i, samples[i]["genome"], seed, epochs)
                   for i, seed, epochs in todo]
        for future in as_completed(futures):
            row = future.result()
            sample = samples[row["genome"]]
            row.update(flops=sample["flops"], params=sample["params"],
                       body=Genome.from_dict(sample["genome"]).to_str()[-60:])
            writer.writerow(row)
            f.flush()
            done.append(row)
            print(f"genome {row['genome']:2d} seed {row['seed']} epochs {row['epochs']:2d}: val "
                  f"{row['val_accuracy']:.3f} ({row['wall_time_s']:.0f} s)", flush=True)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--dataset", default="distorted_digits", choices=EMBEDDED,
                        help="an embedded dataset (the others need files: see README)")
    parser.add_argument("--genomes", type=int, default=40)
    parser.add_argument("--seeds", type=int, default=2)
    parser.add_argument("--workers", type=int, default=2, help="trainings at once, one CPU thread each")
    parser.add_argument("--longer", type=int, default=5, help="epoch multiple for the best genome's second run")
    parser.add_argument("--out", type=Path, default=None, help="folder of runs.csv (default bench/out/proxy_<dataset>)")
    args = parser.parse_args()
    if args.dataset not in DATASETS or args.seeds < 2 or args.genomes < 2 or args.longer < 1:
        parser.error("needs at least 2 seeds, 2 genomes and --longer >= 1")
    out = args.out or Path(__file__).parent / "out" / f"proxy_{args.dataset}"
    out.mkdir(parents=True, exist_ok=True)
    path = out / "runs.csv"
    epochs = SearchSettings().epochs
    samples = sample_genomes(args.dataset, args.genomes)
    done = read_runs(path)
    run_all([(i, s, epochs) for s in range(args.seeds) for i in range(args.genomes)], samples, args, path, done)

    accuracy = np.zeros((args.genomes, args.seeds))
    for row in done:
        if row["epochs"] == epochs and row["genome"] < args.genomes and row["seed"] < args.seeds:
            accuracy[row["genome"], row["seed"]] = row["val_accuracy"]
    chance = 1 / load_dataset(args.dataset).num_classes
    trainable = (accuracy > 2 * chance).all(axis=1)
    kept = accuracy[trainable]
    best = int(np.argmax(np.where(trainable, accuracy.mean(axis=1), -1)))
    longer = epochs * args.longer
    run_all([(best, s, longer) for s in range(args.seeds)], samples, args, path, done)
    long_runs = [r["val_accuracy"] for r in done if r["genome"] == best and r["epochs"] == longer]
    print(f"best genome {best} ({samples[best]['flops']:.3g} FLOPs): val accuracy "
          f"{statistics.mean(accuracy[best]):.3f} ± {statistics.stdev(accuracy[best]):.3f} at {epochs} epochs, "
          f"{statistics.mean(long_runs):.3f} ± {statistics.stdev(long_runs):.3f} at {longer} epochs")
    print(f"seed spread: mean |seed 0 - seed 1| {np.abs(kept[:, 0] - kept[:, 1]).mean():.3f} over the trainable")
    tau = kendalltau(kept[:, 0], kept[:, 1]).statistic
    print(f"proxy {args.dataset}: kendall tau {tau:.3f} over {int(trainable.sum())} trainable genomes; val accuracy "
          f"p10 {np.percentile(kept, 10):.3f}, p90 {np.percentile(kept, 90):.3f}, best {kept.max():.3f}")


if __name__ == "__main__":
    main()
