"""Trials per second of a search replayed against a tabular benchmark: through Ray Tune (the real runner,
`nasbench.search.run_search` with `benchmark=`) and in process (`nasbench.tabular.replay`), random sampler.

    python bench/tabular_speed.py [--table results/tabular/resnet_compact-distorted_digits.parquet]
                                  [--trials 200] [--in-process-trials 2000] [--seed 0]

Without the table file, a synthetic table of the same space is written to a temporary folder first (every member,
2 seeds, 2 epochs; curves made up from the analytic cost, marked `synthetic` in its manifest): replay speed does
not depend on what the curves say. The Ray side attaches to an already-started local Ray instance, so cluster
start-up is not counted, but everything else of `runners.search --benchmark` is: the table's coverage check, the run
folder, the Optuna journal, Tune's trials and their workers' start-up, and the outputs (rewritten every few seconds
while the search runs, and at its end with the plot). Last line:
`tabular replay: <r> trials/s through Ray Tune, <p> trials/s in process (random sampler)`.
"""
from __future__ import annotations

import argparse
import math
import random
import tempfile
import time
from pathlib import Path

import ray

from nasbench.data import load_dataset
from nasbench.search import SearchSettings, run_search
from nasbench.search.runner import dataset_info, package_versions
from nasbench.tabular import Table, replay
from nasbench.tabular.benchmark import table_settings
from nasbench.tabular.members import grid_members
from nasbench.tabular.settings import TabulateSettings
from nasbench.tabular.table import FORMAT, TableRow, write_manifest, write_rows
from search_spaces import get_space

SHIPPED = "results/tabular/resnet_compact-distorted_digits.parquet"


def synthetic_table(path: Path, space_name: str = "resnet_compact", dataset: str = "distorted_digits",
                    epochs: int = 2, seeds: int = 2) -> Path:
    """A table of every member of a grid space with made-up curves (accuracy rising with log FLOPs, plus noise)."""
    data = load_dataset(dataset)
    space = get_space(space_name, in_chans=data.in_chans, resolution=data.resolution, num_classes=data.num_classes)
    settings = TabulateSettings(space=space_name, dataset=dataset, epochs=epochs, seeds=seeds, out=str(path))
    rng, rows = random.Random(0), []
    for genome in grid_members(space):
        cost = space.cost(genome)
        for seed in range(seeds):
            top = min(0.95, 0.45 + 0.025 * math.log(cost.flops) + rng.gauss(0, 0.01))
            curve = [top * (1 - 0.3 / e) for e in range(1, epochs + 1)]
            rows.append(TableRow(key=genome.key(), seed=seed, genome=genome.to_str(), genome_json=genome.to_json(),
                                 flops=cost.flops, params=cost.params, latency_ms=cost.flops / 2e6,
                                 val_accuracy=curve, val_loss=[1 - a for a in curve], test_accuracy=curve,
                                 test_loss=[1 - a for a in curve], train_loss=[1 - a for a in curve],
                                 time_s=[e * cost.flops / 5e5 for e in range(1, epochs + 1)],
                                 wall_time_s=epochs * cost.flops / 5e5 + 1))
    write_rows(path, rows)
    write_manifest(path, {"format": FORMAT, "synthetic": True, "space": space_name,
                          "input": {"in_chans": space.in_chans, "resolution": space.resolution,
                                    "num_classes": space.num_classes},
                          "dataset": dataset_info(data), "settings": settings.training(),
                          "seeds": list(range(seeds)), "members": len(rows) // seeds,
                          "versions": package_versions(), "builds": [], "rows": len(rows)})
    return path


def through_ray(table: Table, trials: int, seed: int, folder: str) -> float:
    settings = SearchSettings(**table_settings(table), sampler="random", trials=trials, seed=seed,
                              results_dir=folder)
    start = time.perf_counter()
    outcome = run_search(settings, get_space(table.space), log=lambda line: None)
    elapsed = time.perf_counter() - start
    print(f"Ray Tune: {len(outcome.trials)} trials in {elapsed:.1f} s, front of {len(outcome.front)}")
    return trials / elapsed


def in_process(table: Table, trials: int, seed: int) -> float:
    space = get_space(table.space)
    start = time.perf_counter()
    frame = replay(space, table, "random", trials, seed)
    elapsed = time.perf_counter() - start
    print(f"in process: {len(frame)} trials in {elapsed:.2f} s")
    return trials / elapsed


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--table", default=SHIPPED)
    p.add_argument("--trials", type=int, default=200, help="trials through Ray Tune")
    p.add_argument("--in-process-trials", type=int, default=2000)
    p.add_argument("--seed", type=int, default=0)
    args = p.parse_args()
    with tempfile.TemporaryDirectory() as folder:
        path = Path(args.table)
        if not path.is_file():
            print(f"{path} is missing: replaying a synthetic table of the same space")
            path = synthetic_table(Path(folder) / "synthetic.parquet")
        table = Table(path)
        print(f"table {path.name}: {len(table)} members of {table.space}, {table.epochs} epochs")
        local = in_process(table, args.in_process_trials, args.seed)
        ray.init(num_cpus=2, include_dashboard=False, log_to_driver=False)
        try:
            remote = through_ray(table, args.trials, args.seed, folder)
        finally:
            ray.shutdown()
    print(f"tabular replay: {remote:.1f} trials/s through Ray Tune, {local:.0f} trials/s in process "
          "(random sampler)")


if __name__ == "__main__":
    main()
