"""Helpers shared by the test modules: search settings sized for tests, running a search of a named space, the
trained rows of a trials table, and one zoo architecture per block kind."""
from __future__ import annotations

import pandas as pd
import pytest

from nasbench import zoo
from nasbench.record import INFEASIBLE


def first_user_of_each_block() -> dict[str, str]:
    """Block kind -> the first zoo architecture using it."""
    chosen: dict[str, str] = {}
    for entry in zoo.all_entries():
        for stage in entry.genome.stages:
            chosen.setdefault(stage.block.kind, entry.name)
    return chosen


def trained_rows(frame: pd.DataFrame) -> pd.DataFrame:
    """The rows of trials that were trained (over-budget samples are INFEASIBLE and never trained)."""
    return frame[frame["state"] != INFEASIBLE]


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
