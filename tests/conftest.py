"""Helpers shared by the test modules: search settings sized for tests, running a search of a named space, the
trained rows of a trials table, one zoo architecture per block kind, and a made-up table of resnet_compact."""
from __future__ import annotations

import math
import os

import numpy as np
import pytest
import torch

from nasbench import zoo
from nasbench.record import trained_rows  # noqa: F401  (the test modules import it from here)
from nasbench.tabular.members import grid_members
from nasbench.tabular.settings import TabulateSettings
from nasbench.tabular.table import FORMAT, TableRow, write_manifest, write_rows
from search_spaces import get_space

# Each of the two xdist workers computes on one thread: with torch's default (a thread per core) two workers put four
# OpenMP threads on two cores, and a thread spinning at a barrier while its partner waits for a core makes a forward
# pass ten times as costly (densenet121 traced at 224: 3.5 s of CPU on two threads, 0.4 s on one). The processes the
# tests start inherit one thread through $OMP_NUM_THREADS (a fresh interpreter costing googlenet: 11 s of CPU on two
# threads, 7 s on one); Ray leaves a $OMP_NUM_THREADS that is set as it is, so every trial trains on one thread.
os.environ.setdefault("OMP_NUM_THREADS", "1")
torch.set_num_threads(1)


# The longest test files (seconds on 2 idle cores, 2026-12-03), handed to the two workers first: under --dist loadfile a
# long file collected last would run alone on one worker while the other idles.
LONGEST_FIRST = ("test_search.py", "test_zoo.py", "test_deploy_retrain.py", "test_tabular.py", "test_search_resume.py",
                 "test_spaces.py", "test_postgres.py", "test_faults.py", "test_lecture_experiments.py")


def pytest_collection_modifyitems(items) -> None:
    """The files of LONGEST_FIRST first, in that order; the others after them, as collected."""
    rank = {name: index for index, name in enumerate(LONGEST_FIRST)}
    items.sort(key=lambda item: rank.get(item.path.name, len(rank)))


def first_user_of_each_block() -> dict[str, str]:
    """Block kind -> the first zoo architecture using it."""
    chosen: dict[str, str] = {}
    for entry in zoo.all_entries():
        for stage in entry.genome.stages:
            chosen.setdefault(stage.block.kind, entry.name)
    return chosen


def search_settings(results_dir, **overrides):
    """A tiny search: resnet_family, 3 trials of 1 epoch on 64 digits per split, a 5e6 FLOP budget."""
    from nasbench.search import SearchSettings

    base = dict(space="resnet_family", trials=3, epochs=1, limit=64, results_dir=str(results_dir), batch_size=32,
                max_flops=5e6)
    return SearchSettings(**{**base, **overrides})


def search(settings, **kwargs):
    """run_search on the space `settings` names (runners resolve names the same way)."""
    from nasbench.search import run_search
    from search_spaces import get_space

    return run_search(settings, get_space(settings.space), **kwargs)


@pytest.fixture(scope="module")
def local_ray():
    """One local Ray instance for a module; the runner attaches to it instead of starting its own."""
    import ray

    ray.init(num_cpus=2, include_dashboard=False, log_to_driver=False)
    yield
    ray.shutdown()


DIGITS_INFO = {"name": "digits", "in_chans": 1, "resolution": 16, "num_classes": 10, "train": 1078, "val": 359,
               "test": 360}


@pytest.fixture(scope="session")
def made_up_table(tmp_path_factory):
    """Every member of resnet_compact on digits, two seeds, two epochs of made-up curves: accuracy grows with the
    log of the FLOPs, bottlenecks are best, plus seeded noise."""
    path = tmp_path_factory.mktemp("compare") / "made_up.parquet"
    space = get_space("resnet_compact")
    rng, rows = np.random.default_rng(0), []
    for genome in grid_members(space):
        cost = space.cost(genome)
        unit = space.read(genome)["unit"]
        for seed in range(2):
            top = 0.3 + 0.04 * math.log(cost.flops) + {"plain": 0.0, "basic": 0.05, "bottleneck": 0.08}[unit]
            top = float(min(0.99, top + rng.normal(0, 0.01)))
            rows.append(TableRow(key=genome.key(), seed=seed, genome=genome.to_str(), genome_json=genome.to_json(),
                                 flops=cost.flops, params=cost.params, latency_ms=1.0,
                                 val_accuracy=[0.7 * top, top], val_loss=[1.0, 0.5], test_accuracy=[0.7 * top, top],
                                 test_loss=[1.0, 0.5], train_loss=[1.0, 0.5],
                                 time_s=[cost.flops / 1e6, 2 * cost.flops / 1e6], wall_time_s=2 * cost.flops / 1e6))
    write_rows(path, rows)
    settings = TabulateSettings(dataset="digits", epochs=2, out=str(path))
    write_manifest(path, {"format": FORMAT, "space": "resnet_compact",
                          "input": {"in_chans": 1, "resolution": 16, "num_classes": 10}, "dataset": DIGITS_INFO,
                          "settings": settings.training(), "seeds": [0, 1], "members": len(rows) // 2,
                          "versions": {}, "builds": [], "rows": len(rows)})
    return path
