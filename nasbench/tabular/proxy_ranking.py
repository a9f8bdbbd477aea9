"""How well zero-cost proxies rank a table's members: each member scored by every proxy at initialisation
(`nasbench.proxies`), then the Spearman and Kendall correlations of each score with the member's final validation
accuracy (mean over the table's seeds), over all members and over the top 10 % by accuracy, each with a paired
percentile-bootstrap 95 % interval."""
from __future__ import annotations

from collections.abc import Callable, Sequence

import numpy as np
import pandas as pd
from scipy import stats

from nasbench.data import Dataset
from nasbench.genome import Genome
from nasbench.proxies import score
from nasbench.tabular.table import Table, final

TOP = 0.1
RESAMPLES = 1000
CONFIDENCE = 0.95


def member_accuracy(table: Table) -> pd.DataFrame:
    """Per member (index: key): its genome JSON and its final validation accuracy, mean over the table's seeds."""
    frame = table.frame.assign(val_accuracy=table.frame["val_accuracy"].map(final))
    return frame.groupby("key").agg(genome_json=("genome_json", "first"), val_accuracy=("val_accuracy", "mean"))


def proxy_scores(members: pd.DataFrame, dataset: Dataset, proxies: Sequence[str], seed: int = 0,
                 log: Callable[[str], None] | None = None) -> pd.DataFrame:
    """`members` (from `member_accuracy`) with one column per proxy: its score of each member."""
    scores = {name: [] for name in proxies}
    for index, genome_json in enumerate(members["genome_json"], start=1):
        genome = Genome.from_json(genome_json)
        for name in proxies:
            scores[name].append(score(name, genome, dataset, seed))
        if log and index % 100 == 0:
            log(f"scored {index} of {len(members)} members")
    return members.assign(**scores)


def _correlation(kind: str) -> Callable[[np.ndarray, np.ndarray], float]:
    function = stats.spearmanr if kind == "spearman" else stats.kendalltau
    return lambda x, y: function(x, y).statistic


def correlation_with_interval(x: np.ndarray, y: np.ndarray, kind: str, seed: int = 0,
                              resamples: int = RESAMPLES) -> tuple[float, float, float]:
    """`kind` ("spearman" | "kendall") correlation of x with y and its paired percentile-bootstrap interval."""
    statistic = _correlation(kind)
    value = float(statistic(x, y))
    if len(x) < 3:
        return value, np.nan, np.nan
    interval = stats.bootstrap((x, y), statistic, paired=True, vectorized=False, n_resamples=resamples,
                               confidence_level=CONFIDENCE, method="percentile",
                               rng=np.random.default_rng(seed)).confidence_interval
    return value, float(interval.low), float(interval.high)


def correlations(scores: pd.DataFrame, proxies: Sequence[str], top: float = TOP, seed: int = 0,
                 resamples: int = RESAMPLES) -> pd.DataFrame:
    """One row per proxy: Spearman and Kendall correlation with `val_accuracy` over all members and over the top
    `top` share by accuracy, each with `<name>_low` / `<name>_high` bootstrap bounds. Members a proxy could not
    score (non-finite) are left out of its row, and counted in `members`."""
    rows = []
    best = scores["val_accuracy"] >= scores["val_accuracy"].quantile(1 - top)
    for name in proxies:
        row = {"proxy": name}
        for suffix, subset in (("", scores), (f"_top{round(top * 100)}", scores[best])):
            finite = subset[np.isfinite(subset[name]) & np.isfinite(subset["val_accuracy"])]
            row[f"members{suffix}"] = len(finite)
            for kind in ("spearman", "kendall"):
                value, low, high = correlation_with_interval(finite[name].to_numpy(), finite["val_accuracy"].to_numpy(),
                                                             kind, seed, resamples)
                row.update({f"{kind}{suffix}": value, f"{kind}{suffix}_low": low, f"{kind}{suffix}_high": high})
        rows.append(row)
    return pd.DataFrame(rows)
