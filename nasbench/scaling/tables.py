"""The scaling experiment's tables: mean and std over seeds per network, as CSV and markdown."""
from __future__ import annotations

from pathlib import Path

import pandas as pd

from nasbench import atomic
from nasbench.scaling.compare import comparison_markdown, strategy_comparison
from nasbench.scaling.plots import plot_accuracy_vs_flops


def summarise(runs: pd.DataFrame) -> pd.DataFrame:
    """Mean and (sample) std of validation and test accuracy over seeds, per network; failed runs left out."""
    keys = ["baseline", "strategy", "target", "phi", "width", "depth", "resolution", "blocks", "params", "flops",
            "flops_ratio"]
    ok = runs[runs["status"] == "ok"]
    summary = (ok.groupby(keys, sort=False)
               .agg(seeds=("seed", "count"), val_mean=("val_accuracy", "mean"), val_std=("val_accuracy", "std"),
                    test_mean=("test_accuracy", "mean"), test_std=("test_accuracy", "std"))
               .reset_index())
    return summary


def write_tables(run_dir: Path, runs: pd.DataFrame, final: bool = False) -> pd.DataFrame:
    """runs.csv and summary.csv (every time); summary.md (with compound against the best single dimension),
    comparison.csv and accuracy_vs_flops.png (when final)."""
    summary = summarise(runs)
    atomic.write_text(run_dir / "runs.csv", runs.to_csv(index=False))
    atomic.write_text(run_dir / "summary.csv", summary.to_csv(index=False))
    if final:
        comparison = strategy_comparison(runs)
        atomic.write_text(run_dir / "comparison.csv", comparison.to_csv(index=False))
        atomic.write_text(run_dir / "summary.md", summary_markdown(summary) + (
            "\n" + comparison_markdown(comparison) if len(comparison) else ""))
        if len(summary):
            with atomic.atomic_path(run_dir / "accuracy_vs_flops.png") as tmp:
                plot_accuracy_vs_flops(summary, tmp)
    return summary


def summary_markdown(summary: pd.DataFrame) -> str:
    lines = ["| baseline | strategy | target | FLOPs ratio | FLOPs (M) | params (K) | resolution | blocks | seeds "
             "| val acc | test acc |", "|---|---|---|---|---|---|---|---|---|---|---|"]
    for _, r in summary.iterrows():
        lines.append(f"| {r['baseline']} | {r['strategy']} | {r['target']:g} | {r['flops_ratio']:.2f} "
                     f"| {r['flops'] / 1e6:.2f} | {r['params'] / 1e3:.0f} | {r['resolution']} | {r['blocks']} "
                     f"| {r['seeds']} | {_mean_std(r['val_mean'], r['val_std'])} "
                     f"| {_mean_std(r['test_mean'], r['test_std'])} |")
    return "\n".join(lines) + "\n\nAccuracy: mean ± sample std over seeds (std blank for one seed).\n"


def _mean_std(mean: float, std: float) -> str:
    return f"{mean:.4f}" + ("" if pd.isna(std) else f" ± {std:.4f}")
