"""The scaling experiment's question answered over the seeds: at each FLOP target of each baseline, is compound
scaling more accurate than each single-dimension strategy, and than the best of them (the paper's Figure 8 claim)?"""
from __future__ import annotations

import pandas as pd

from nasbench.analysis.seeds import mean, outcome, std, welch_p
from nasbench.scaling.baselines import STRATEGIES

SINGLE = tuple(name for name in STRATEGIES if name != "compound")  # depth, width, resolution


def strategy_comparison(runs: pd.DataFrame, measure: str = "test_accuracy") -> pd.DataFrame:
    """One row per baseline, target and single-dimension strategy present: compound's and the strategy's mean ± std of
    `measure` over successful seeds, the difference, Welch's p, the outcome of "compound is higher", and whether
    the strategy is the best single dimension there (highest mean)."""
    ok = runs[(runs["status"] == "ok") & (runs["strategy"] != "baseline")]
    rows = []
    for (baseline, target), group in ok.groupby(["baseline", "target"], sort=False):
        values = {name: group.loc[group["strategy"] == name, measure].to_numpy(float)
                  for name in dict.fromkeys(group["strategy"])}
        compound = values.get("compound")
        singles = [name for name in SINGLE if name in values]
        if compound is None or not singles:
            continue
        best = max(singles, key=lambda name: mean(values[name]))
        for name in singles:
            other = values[name]
            rows.append({"baseline": baseline, "target": target, "strategy": name, "best_single": name == best,
                         "compound_mean": mean(compound), "compound_std": std(compound),
                         "strategy_mean": mean(other), "strategy_std": std(other),
                         "difference": mean(compound) - mean(other), "p_welch": welch_p(compound, other),
                         "compound_higher": outcome("higher", compound, other)})
    return pd.DataFrame(rows)


def comparison_markdown(comparison: pd.DataFrame, measure: str = "test accuracy") -> str:
    lines = [f"| baseline | target | compound {measure} | best single dimension | its {measure} | difference "
             "| Welch p | compound higher? |", "|---|---:|---:|---|---:|---:|---:|---|"]
    for _, r in comparison[comparison["best_single"]].iterrows():
        lines.append(f"| {r['baseline']} | {r['target']:g}x | {_pm(r['compound_mean'], r['compound_std'])} | "
                     f"{r['strategy']} | {_pm(r['strategy_mean'], r['strategy_std'])} | {r['difference']:+.4f} | "
                     f"{'-' if pd.isna(r['p_welch']) else format(r['p_welch'], '.3g')} | {r['compound_higher']} |")
    return "\n".join(lines) + ("\n\nCompound against the best single-dimension strategy at each FLOP target (highest "
                               "mean); mean ± sample std over seeds. \"reproduced\": compound higher beyond the seeds' "
                               "spread (the means further apart than the two stds added). Every strategy: "
                               "comparison.csv.\n")


def _pm(value: float, spread: float) -> str:
    return f"{value:.4f}" + ("" if pd.isna(spread) else f" ± {spread:.4f}")
