"""Samplers compared on a table: every sampler with every seed replayed in process (`nasbench.tabular.replay`),
then the anytime hypervolume, the final table with statistics and the regret view (`nasbench.analysis.strategies`).

Hypervolumes are normalised: a share of the box between the table's ideal point (the best mean value of each
objective over the members within the budgets) and the reference point (`default_reference` of those members), so
1.0 is unreachable unless one member is best at everything, and figures compare across objectives and tables."""
from __future__ import annotations

import dataclasses
from collections.abc import Callable, Sequence

import numpy as np
import pandas as pd

from nasbench.analysis.fronts import default_reference, minimised
from nasbench.analysis.strategies import anytime_hypervolume, final_table, median_band, regret_table, value_at
from nasbench.config import setting
from nasbench.errors import SettingError
from nasbench.objectives import as_columns
from nasbench.search.settings import SCHEDULERS, SearchSettings
from nasbench.space import SearchSpace
from nasbench.tabular.benchmark import check_settings, table_settings
from nasbench.tabular.replay import replay
from nasbench.tabular.settings import shared
from nasbench.tabular.table import Table, final

BASELINE = "random"
JOIN = "+"  # joins a strategy's sampler, scheduler and prefilter: random+hvi:64, tpe+moasha
TIME_POINTS = 200  # the simulated-time grid of the anytime curves (log-spaced)


@dataclasses.dataclass(frozen=True)
class CompareSettings:
    """A comparison of samplers on a table (`python -m runners.compare`)."""

    samplers: tuple[str, ...] = setting(("random", "nsga2", "tpe", "rea", "reinforce"),
                                        "strategies to compare, comma-separated: a sampler, optionally joined by "
                                        f"'{JOIN}' to its own scheduler and prefilter (random{JOIN}hvi:64, "
                                        f"tpe{JOIN}moasha); must include {BASELINE} (the baseline of the "
                                        "statistics)")
    seeds: int = setting(20, "search seeds per strategy (first_seed .. first_seed+seeds-1); runs are paired by seed")
    first_seed: int = setting(0, "the first search seed (another value replays fresh seeds)")
    trials: int = setting(200, "trials per run (over-budget samples are not counted)")
    objectives: tuple[str, ...] = shared("objectives")
    scheduler: str = shared("scheduler")
    prefilter: str | None = shared("prefilter")
    max_flops: float | str | None = shared("max_flops")
    max_params: float | None = shared("max_params")
    results_dir: str = setting("results/compare", "a new folder <date>-<time>-<hex> is made here for the outputs")

    def search(self) -> dict:
        """The search settings each replayed run takes (the rest come from the table)."""
        return {"objectives": self.objectives, "scheduler": self.scheduler, "prefilter": self.prefilter,
                "max_flops": self.max_flops, "max_params": self.max_params}


@dataclasses.dataclass(frozen=True)
class Comparison:
    """What a comparison found; `write_comparison` (nasbench.tabular.report) writes it to a folder."""

    settings: dict              # samplers, seeds, trials, objectives, scheduler, budgets, table
    reference: dict[str, float]  # the hypervolume reference point (objective column -> value)
    runs: pd.DataFrame          # every trial of every run, with `sampler` and `seed` columns
    curves: pd.DataFrame        # per run and trained trial: trials, time_s, hypervolume
    summary: pd.DataFrame       # `final_table`, one row per sampler
    regret: pd.DataFrame        # `regret_table`, one row per sampler
    bands: pd.DataFrame         # per sampler, axis (trials | time_s) and x: median, low, high hypervolume


def member_means(table: Table, settings: SearchSettings) -> pd.DataFrame:
    """Per member within the search's budgets: mean final validation and test accuracy over its seeds, FLOPs,
    params and latency (index: key)."""
    frame = table.frame.assign(val_accuracy=table.frame["val_accuracy"].map(final),
                               test_accuracy=table.frame["test_accuracy"].map(final))
    means = frame.groupby("key").agg(val_accuracy=("val_accuracy", "mean"), test_accuracy=("test_accuracy", "mean"),
                                     flops=("flops", "first"), params=("params", "first"),
                                     latency_ms=("latency_ms", "mean"))
    keep = np.ones(len(means), dtype=bool)
    if settings.flops_budget is not None:
        keep &= means["flops"].to_numpy() <= settings.flops_budget
    if settings.max_params is not None:
        keep &= means["params"].to_numpy() <= settings.max_params
    return means[keep]


def hypervolume_box(members: pd.DataFrame, objectives: dict[str, str]) -> tuple[dict[str, float], float]:
    """The reference point of `member_means` (validation accuracy as `accuracy`) and the volume of the box between
    it and the members' ideal point, by which hypervolumes are normalised."""
    points = members.rename(columns={"val_accuracy": "accuracy"})
    reference = default_reference([points], objectives, complete_only=False)
    ideal = minimised(points, objectives).min(axis=0)
    return reference, float(np.prod(minimised(pd.DataFrame([reference]), objectives)[0] - ideal))


def strategy(label: str) -> tuple[str, dict[str, str]]:
    """A strategy label's sampler and the settings it names itself: 'tpe' -> ('tpe', {}), 'random+hvi:64' ->
    ('random', {'prefilter': 'hvi:64'}), 'tpe+moasha+params:4' -> ('tpe', {'scheduler': 'moasha', 'prefilter':
    'params:4'}); a part that is not a scheduler is a prefilter."""
    sampler, *parts = label.split(JOIN)
    named: dict[str, str] = {}
    for part in parts:
        name = "scheduler" if part in SCHEDULERS else "prefilter"
        if name in named:
            raise ValueError(f"strategy {label!r} names two {name}s ({named[name]}, {part}); give one")
        named[name] = part
    return sampler, named


def compare_samplers(space: SearchSpace, table: Table, samplers: Sequence[str], seeds: int, trials: int,
                     log: Callable[[str], None] | None = None, first_seed: int = 0, **settings) -> Comparison:
    """Replay `trials` trials of every strategy (a sampler, or `strategy` label) under seeds first_seed ..
    first_seed+seeds-1 over `table`; `settings` are further `SearchSettings` (objectives, scheduler, prefilter,
    max_flops, max_params) that a strategy's own scheduler or prefilter overrides."""
    if BASELINE not in samplers:
        raise ValueError(f"the samplers must include {BASELINE} (the baseline of the statistics)")
    search = SearchSettings(**{**table_settings(table), **settings, "trials": trials})
    check_settings(search, table)
    plans = {label: strategy(label) for label in samplers}
    for label, (sampler, named) in plans.items():  # every strategy's own settings refused before any replay
        try:
            check_settings(dataclasses.replace(search, sampler=sampler, **named), table)
        except SettingError as exc:
            raise SettingError(f"strategy {label}: {exc}", "samplers") from exc
    objectives = as_columns(search.directions)
    members = member_means(table, search)
    reference, box = hypervolume_box(members, objectives)
    runs, curves = [], []
    for label, (sampler, named) in plans.items():
        for seed in range(first_seed, first_seed + seeds):
            trials_table = replay(space, table, sampler, trials, seed, **{**settings, **named})
            runs.append(trials_table.assign(sampler=label, seed=seed))
            curve = anytime_hypervolume(trials_table, objectives, reference)
            curves.append(curve.assign(hypervolume=curve["hypervolume"] / box, sampler=label, seed=seed))
            if log:
                log(f"{label} seed {seed}: hypervolume {curves[-1]['hypervolume'].iloc[-1]:.4g}")
    runs_frame, curves_frame = pd.concat(runs, ignore_index=True), pd.concat(curves, ignore_index=True)
    return Comparison(
        settings={"samplers": list(samplers), "seeds": seeds, "first_seed": first_seed, "trials": trials,
                  "table": str(table.path),
                  "objectives": list(search.objectives), "scheduler": search.scheduler, "prefilter": search.prefilter,
                  "max_flops": search.flops_budget, "max_params": search.max_params},
        reference=reference, runs=runs_frame, curves=curves_frame, summary=final_table(curves_frame, BASELINE),
        regret=regret_table(runs_frame, members), bands=anytime_bands(curves_frame, trials))


def anytime_bands(curves: pd.DataFrame, trials: int) -> pd.DataFrame:
    """Median and bootstrap band of the hypervolume over seeds, per sampler, against trials (1..trials) and
    against simulated time (a log grid over the runs' time span)."""
    times = curves["time_s"][curves["time_s"] > 0]
    grids = {"trials": np.arange(1, trials + 1, dtype=float),
             "time_s": np.geomspace(times.min(), times.max(), TIME_POINTS) if len(times) else np.zeros(0)}
    rows = []
    for sampler, runs in curves.groupby("sampler", sort=False):
        for axis, grid in grids.items():
            matrix = np.vstack([value_at(run[axis], run["hypervolume"], grid) for _, run in runs.groupby("seed")])
            median, low, high = median_band(matrix)
            rows.append(pd.DataFrame({"sampler": sampler, "axis": axis, "x": grid, "median": median, "low": low,
                                      "high": high}))
    return pd.concat(rows, ignore_index=True)
