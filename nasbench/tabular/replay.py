"""A search replayed against a table in this process, without Ray: the searcher, sampler, budgets and records of a
Ray search over the same table (`runners.search --benchmark`), so the same seed gives the same trials, in a
fraction of the time. For many seeds of a strategy; trials run one at a time, to their last epoch or, with
`scheduler="asha"`, until Ray Tune's ASHA rule (`AshaRule`, the search's settings) would stop them (with
`scheduler="moasha"`, the rule of `nasbench.search.moasha`, as in a Ray search)."""
from __future__ import annotations

from pathlib import Path

import numpy as np
import optuna
import pandas as pd
from ray.tune.search import Searcher

from nasbench.search.moasha import MoAshaRule
from nasbench.search.results import trials_frame
from nasbench.search.searcher import study_searcher
from nasbench.search.settings import SearchSettings
from nasbench.space import SearchSpace
from nasbench.tabular.benchmark import check_settings, table_settings
from nasbench.tabular.table import Table
from nasbench.tabular.trials import pick_curve, replay_reports


class AshaRule:
    """The stopping rule of Ray Tune's ASHAScheduler (one bracket, `stop_last_trials`) as the search configures it
    (`nasbench.search.runner`: grace period 1, reduction factor 2, max_t the epochs), for trials reported one after
    another: at each rung (epochs 1, 2, 4, ... up to max_t) a trial stops when its accuracy is below the median
    (the 1 - 1/rf quantile) of the accuracies recorded at that rung so far, then joins them."""

    def __init__(self, max_t: int, grace_period: int = 1, reduction_factor: int = 2):
        self.rf = reduction_factor
        count = int(np.log(max_t / grace_period) / np.log(reduction_factor) + 1)
        self.rungs: dict[int, list[float]] = {grace_period * reduction_factor ** k: [] for k in range(count)}

    def stops(self, epoch: int, report: dict) -> bool:
        """Whether a trial whose report after `epoch` epochs is `report` stops there (and records its accuracy)."""
        recorded, accuracy = self.rungs.get(epoch), report["accuracy"]
        if recorded is None:
            return False
        stop = bool(recorded) and accuracy < np.nanpercentile(recorded, (1 - 1 / self.rf) * 100)
        recorded.append(accuracy)
        return stop


def replay(space: SearchSpace, table: Table | str | Path, sampler: str = "random", trials: int = 100, seed: int = 0,
           **settings) -> pd.DataFrame:
    """The trials table (`nasbench.record.TrialRecord` rows) of a search of `space` over `table`: `trials`
    genomes drawn by `sampler` under `seed`, each given one seed's recorded curve. `settings` are further
    `SearchSettings` (objectives, max_flops, max_params, scheduler); a genome the table lacks is a TableError."""
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
    rule = stopping_rule(search)
    for index in range(trials):
        trial_id = f"replay_{index:05d}"
        config = searcher.suggest(trial_id)
        if config == Searcher.FINISHED:
            break
        record, curves = table.find(config["genome"])
        curve = pick_curve(curves, search.seed, config["trial_index"])
        reports = replay_reports({**record, "zoo_name": ""}, curve, search.epochs, latency)
        searcher.on_trial_complete(trial_id, _last_report(reports, rule))
    return trials_frame(study, "replay")


def stopping_rule(search: SearchSettings) -> AshaRule | MoAshaRule | None:
    """The early-stopping rule of the search's scheduler, as its Ray scheduler applies it (None for fifo)."""
    if search.scheduler == "asha":
        return AshaRule(search.epochs)
    if search.scheduler == "moasha":
        return MoAshaRule(search.directions, search.epochs)
    return None


def _last_report(reports: list[dict], rule: AshaRule | MoAshaRule | None) -> dict:
    """The report a trial ends on: its last, or the first at which `rule` stops it."""
    for report in reports[:-1] if rule else ():
        if rule.stops(report["epochs"], report):
            return report
    return reports[-1]
