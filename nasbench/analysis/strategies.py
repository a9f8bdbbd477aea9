"""Search strategies compared over many seeds: anytime hypervolume with bootstrap bands, a final table with paired
tests against a baseline, and the single-objective regret view of NAS-Bench-201.

Inputs are trials tables (`nasbench.record.TrialRecord` rows) of runs labelled by `sampler` and `seed` columns;
Samples never trained (INFEASIBLE, REPEAT, FILTERED) take no trial and no time. Time is the simulated training time: the
sum of the trained trials' `wall_time_s` (a trial stopped early counts the epochs it ran)."""
from __future__ import annotations

from collections.abc import Mapping

import numpy as np
import pandas as pd
from scipy import stats

from nasbench.analysis.fronts import hypervolume_over_trials
from nasbench.record import COMPLETE, trained_rows

CONFIDENCE = 0.95
RESAMPLES = 2000


def anytime_hypervolume(trials: pd.DataFrame, objectives: Mapping[str, str],
                        reference: Mapping[str, float]) -> pd.DataFrame:
    """One row per trained trial of one run, in order: `trials` (n so far), `time_s` (simulated time so far) and
    the `hypervolume` of the front of the COMPLETE ones so far."""
    trained = trained_rows(trials).sort_values("number", kind="stable")
    curve = hypervolume_over_trials(trained, objectives, reference, complete_only=True)
    curve["time_s"] = trained["wall_time_s"].fillna(0.0).cumsum().to_numpy()
    return curve[["trials", "time_s", "hypervolume"]]


def value_at(x: np.ndarray, y: np.ndarray, grid: np.ndarray) -> np.ndarray:
    """A step curve (y holds from each x on, 0 before the first) read at `grid`."""
    index = np.searchsorted(np.asarray(x, dtype=float), np.asarray(grid, dtype=float), side="right") - 1
    return np.where(index >= 0, np.asarray(y, dtype=float)[np.clip(index, 0, None)], 0.0)


def median_band(values: np.ndarray, confidence: float = CONFIDENCE, resamples: int = RESAMPLES,
                seed: int = 0) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Median over seeds (rows) of each column, and the percentile-bootstrap `confidence` interval of the median
    (seeds resampled with replacement)."""
    values = np.asarray(values, dtype=float)
    median = np.median(values, axis=0)
    if len(values) < 2:
        return median, median.copy(), median.copy()
    interval = stats.bootstrap((values,), np.median, axis=0, confidence_level=confidence, n_resamples=resamples,
                               method="percentile", rng=np.random.default_rng(seed)).confidence_interval
    low, high = np.minimum(interval.low, median), np.maximum(interval.high, median)
    return median, low, high


def trials_to_reach(curve: pd.DataFrame, target: float, column: str = "trials") -> float:
    """The first `column` value (trials, or time_s) at which the run's hypervolume is at least `target`; NaN if
    it never is."""
    reached = curve.loc[curve["hypervolume"] >= target, column]
    return float(reached.iloc[0]) if len(reached) else np.nan


def wilcoxon_p(values: np.ndarray, baseline: np.ndarray) -> float:
    """Two-sided p-value of the Wilcoxon signed-rank test of paired samples; 1.0 when every pair is equal."""
    differences = np.asarray(values, dtype=float) - np.asarray(baseline, dtype=float)
    if not np.any(differences != 0):
        return 1.0
    return float(stats.wilcoxon(values, baseline).pvalue)


def mean_ranks(finals: pd.DataFrame) -> pd.Series:
    """Each column's (sampler's) rank among the columns within every row (seed), averaged over rows: 1 is best
    (highest hypervolume); ties share their mean rank."""
    ranks = np.vstack([stats.rankdata(-row) for row in finals.to_numpy(dtype=float)])
    return pd.Series(ranks.mean(axis=0), index=finals.columns)


def final_table(curves: pd.DataFrame, baseline: str = "random") -> pd.DataFrame:
    """One row per sampler from anytime curves (columns sampler, seed, trials, time_s, hypervolume): the median
    final hypervolume, its mean rank among the samplers (paired by seed), the Wilcoxon p-value against `baseline`
    (paired by seed), and the (lower) median over seeds of the trials (and simulated seconds) taken to reach the
    baseline's median final hypervolume (NaN when more than half the seeds never reach it), and that time as a share
    of the baseline's median simulated time for its whole run."""
    last = curves.sort_values("trials").groupby(["sampler", "seed"], sort=False).tail(1)
    finals = last.pivot(index="seed", columns="sampler", values="hypervolume")
    if baseline not in finals.columns:
        raise ValueError(f"the baseline sampler {baseline!r} is not among {', '.join(finals.columns)}")
    finals = finals.dropna()
    target = float(np.median(finals[baseline]))
    ranks = mean_ranks(finals)
    baseline_time = float(last[last["sampler"] == baseline]["time_s"].median())
    rows = []
    for sampler in dict.fromkeys(curves["sampler"]):
        runs = curves[curves["sampler"] == sampler].groupby("seed", sort=True)
        reach = np.array([trials_to_reach(c, target) for _, c in runs])
        time_to = _median_or_nan(np.array([trials_to_reach(c, target, "time_s") for _, c in runs]))
        rows.append({"sampler": sampler, "seeds": len(finals), "median_hypervolume": float(finals[sampler].median()),
                     "mean_rank": float(ranks[sampler]),
                     "p_vs_" + baseline: np.nan if sampler == baseline else wilcoxon_p(finals[sampler],
                                                                                      finals[baseline]),
                     "trials_to_baseline": _median_or_nan(reach), "time_to_baseline_s": time_to,
                     "time_share": time_to / baseline_time})
    return pd.DataFrame(rows).set_index("sampler")


def _median_or_nan(values: np.ndarray) -> float:
    """The (lower, for an even count) median counting a NaN (never reached) as larger than any value; NaN when
    that median is one. The lower median keeps the baseline's own figure finite: half its seeds reach its median."""
    if not len(values):
        return np.nan
    median = float(np.percentile(np.where(np.isnan(values), np.inf, values), 50, method="lower"))
    return median if np.isfinite(median) else np.nan


def best_by_validation(trials: pd.DataFrame) -> pd.Series | None:
    """The COMPLETE trial with the highest validation accuracy (the first of ties), or None."""
    complete = trials[(trials["state"] == COMPLETE) & trials["accuracy"].notna()]
    if not len(complete):
        return None
    return complete.sort_values("number").loc[complete.sort_values("number")["accuracy"].idxmax()]


def regret_table(runs: pd.DataFrame, members: pd.DataFrame) -> pd.DataFrame:
    """The single-objective view per sampler (NAS-Bench-201's): in each run, the genome of the best validation
    accuracy seen; its mean validation and test accuracy over the table's seeds (`members`: index key, columns
    val_accuracy and test_accuracy), and the regret against the best mean validation accuracy of `members`;
    mean and std over seeds."""
    optimum = float(members["val_accuracy"].max())
    rows = []
    for (sampler, seed), trials in runs.groupby(["sampler", "seed"], sort=False):
        best = best_by_validation(trials)
        if best is None:
            continue
        member = members.loc[best["key"]]
        rows.append({"sampler": sampler, "seed": seed, "val_accuracy": member["val_accuracy"],
                     "test_accuracy": member["test_accuracy"], "regret": optimum - member["val_accuracy"]})
    per_run = pd.DataFrame(rows)
    summary = per_run.groupby("sampler", sort=False)[["regret", "val_accuracy", "test_accuracy"]].agg(["mean", "std"])
    summary.columns = [f"{name}_{stat}" for name, stat in summary.columns]
    summary["optimum_val_accuracy"] = optimum
    summary["optimum_test_accuracy"] = float(members.loc[members["val_accuracy"].idxmax(), "test_accuracy"])
    return summary
