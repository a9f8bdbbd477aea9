"""Distributions and attributes over many trials: error EDFs and which genome choices move accuracy and cost."""
from __future__ import annotations

import numpy as np
import pandas as pd

from nasbench.analysis.frames import genome_columns
from nasbench.analysis.fronts import eligible_mask

MAX_VALUES = 12  # attribute_effects reports genome columns with 2 to this many distinct values


def edf(df: pd.DataFrame, metric: str = "accuracy", complete_only: bool | None = None) -> pd.DataFrame:
    """Empirical distribution of error = 1 - `metric` (Radosavovic et al. 2019): columns `error` (sorted) and
    `fraction` (share of models with error <= this one)."""
    eligible = df[eligible_mask(df, {metric: "max"}, complete_only)]
    error = np.sort(1.0 - eligible[metric].to_numpy(dtype=float))
    fraction = np.searchsorted(error, error, side="right") / max(len(error), 1)
    return pd.DataFrame({"error": error, "fraction": fraction})


def attribute_effects(df: pd.DataFrame, accuracy: str = "accuracy", cost: str = "flops", max_values: int = MAX_VALUES,
                      complete_only: bool | None = None) -> pd.DataFrame:
    """For each genome column with 2..`max_values` distinct values (absent = NaN counts as one): per value the
    count, mean/median accuracy and cost, `accuracy_shift` (median - overall median) and `cost_ratio` (median /
    overall median). Attributes are ordered by `effect` (the spread of their accuracy shifts), largest first;
    columns that split the trials identically are reported once, the others named in `also`."""
    table = df[eligible_mask(df, {accuracy: "max", cost: "min"}, complete_only)]
    columns = ["attribute", "value", "count", f"{accuracy}_mean", f"{accuracy}_median", f"{accuracy}_shift",
               f"{cost}_mean", f"{cost}_median", f"{cost}_ratio", "effect", "also"]
    overall_acc, overall_cost = table[accuracy].median(), table[cost].median()
    same_split: dict[bytes, list[str]] = {}
    for name in genome_columns(table):
        codes = pd.factorize(table[name], use_na_sentinel=False)[0]
        if 2 <= codes.max(initial=0) + 1 <= max_values:
            same_split.setdefault(codes.tobytes(), []).append(name)
    parts = []
    for name, *others in same_split.values():
        stats = table.groupby(name, dropna=False, sort=True).agg(
            count=(accuracy, "size"), acc_mean=(accuracy, "mean"), acc_median=(accuracy, "median"),
            cost_mean=(cost, "mean"), cost_median=(cost, "median"))
        shift = stats["acc_median"] - overall_acc
        parts.append(pd.DataFrame(dict(zip(columns, [
            name, stats.index.to_list(), stats["count"].to_numpy(), stats["acc_mean"].to_numpy(),
            stats["acc_median"].to_numpy(), shift.to_numpy(), stats["cost_mean"].to_numpy(),
            stats["cost_median"].to_numpy(), (stats["cost_median"] / overall_cost).to_numpy(),
            shift.max() - shift.min(), ", ".join(others)]))))
    if not parts:
        return pd.DataFrame(columns=columns)
    out = pd.concat(parts, ignore_index=True)
    return out.sort_values(["effect", "attribute", columns[5]], ascending=[False, True, False],
                           kind="stable").reset_index(drop=True)
