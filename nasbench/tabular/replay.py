"""A search replayed against a table in this process, without Ray: the searcher, sampler, budgets and records of a
Ray search over the same table (`runners.search --benchmark`), so the same seed gives the same trials, in a
fraction of the time. For many seeds of a strategy; trials run one at a time and to their last epoch (no ASHA)."""
from __future__ import annotations

from pathlib import Path

import optuna
import pandas as pd
from ray.tune.search import Searcher

from nasbench.search.results import trials_frame
from nasbench.search.searcher import study_searcher
from nasbench.search.settings import SearchSettings
from nasbench.space import SearchSpace
from nasbench.tabular.benchmark import check_settings, table_settings
from nasbench.tabular.table import Table
from nasbench.tabular.trials import pick_curve, replay_reports


def replay(space: SearchSpace, table: Table | str | Path, sampler: str = "random", trials: int = 100, seed: int = 0,
           **settings) -> pd.DataFrame:
    """The trials table (`nasbench.record.TrialRecord` rows) of a search of `space` over `table`: `trials`
    genomes drawn by `sampler` under `seed`, each given one seed's recorded curve. `settings` are further
    `SearchSettings` (objectives, max_flops, max_params); a genome the table lacks is a TableError."""
    table = table if isinstance(table, Table) else Table(table)
    search = SearchSettings(**{**table_settings(table), "sampler": sampler, "trials": trials, "seed": seed,
                               **settings})
    check_settings(search, table)
    space = space.for_input(**table.input, max_flops=search.flops_budget, max_params=search.max_params)
    optuna.logging.set_verbosity(optuna.logging.WARNING)
    storage = optuna.storages.InMemoryStorage()
    study = optuna.create_study(storage=storage, directions=["maximize" if d == "max" else "minimize"
                                                             for d in search.directions.values()])
    searcher = study_searcher(search, study, storage, space, {}, trials)
    latency = "latency" in search.objectives
    for index in range(trials):
        trial_id = f"replay_{index:05d}"
        config = searcher.suggest(trial_id)
        if config == Searcher.FINISHED:
            break
        record, curves = table.find(config["genome"])
        curve = pick_curve(curves, search.seed, config["trial_index"])
        result = replay_reports({**record, "zoo_name": ""}, curve, search.epochs, latency)[-1]
        searcher.on_trial_complete(trial_id, result)
    return trials_frame(study, "replay")
