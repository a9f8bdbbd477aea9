"""A comparison of samplers written to its folder: config.json, runs.parquet (every trial), curves.csv (anytime
hypervolume per run), bands.csv, summary.csv, regret.csv, report.md and hypervolume.png; each file atomically."""
from __future__ import annotations

import json
import math
from pathlib import Path

import pandas as pd

from nasbench import atomic
from nasbench.analysis.plots import plot_anytime
from nasbench.tabular.compare import BASELINE, Comparison


def write_comparison(out_dir: str | Path, comparison: Comparison, command: str = "") -> Path:
    """Write every file of `comparison` into `out_dir` (created); return the report's path."""
    out = atomic.writable_folder(out_dir)
    atomic.write_text(out / "config.json", json.dumps({**comparison.settings, "command": command,
                                                       "reference": comparison.reference}, indent=2))
    with atomic.atomic_path(out / "runs.parquet") as tmp:
        comparison.runs.to_parquet(tmp, index=False)
    for name, frame, index in (("curves", comparison.curves, False), ("bands", comparison.bands, False),
                               ("summary", comparison.summary, True), ("regret", comparison.regret, True)):
        with atomic.atomic_path(out / f"{name}.csv") as tmp:
            frame.to_csv(tmp, index=index)
    with atomic.atomic_path(out / "hypervolume.png") as tmp:
        plot_anytime(comparison.bands, tmp, _title(comparison.settings))
    atomic.write_text(out / "report.md", report(comparison, command))
    return out / "report.md"


def _title(settings: dict) -> str:
    return (f"{', '.join(settings['objectives'])} on {Path(settings['table']).name}: median and 95 % bootstrap band "
            f"over {settings['seeds']} seeds")


def report(comparison: Comparison, command: str = "") -> str:
    """The comparison in Markdown: what was run, the final table, the regret table, the plot."""
    s = comparison.settings
    summary = comparison.summary
    lines = [f"# Search strategies compared on {Path(s['table']).name}", "",
             f"{len(s['samplers'])} strategies x {s['seeds']} seeds "
             f"({s['first_seed']}..{s['first_seed'] + s['seeds'] - 1}) x {s['trials']} trials, objectives "
             f"{', '.join(s['objectives'])}, scheduler {s['scheduler']}, prefilter {s['prefilter'] or 'none'} "
             f"(unless a strategy names its own), budget max_flops {s['max_flops']}, "
             f"max_params {s['max_params']}. Hypervolume: the share of the box between the table's ideal point (the "
             "best mean value of each objective over its members within the budget) and the reference point "
             "(" + ", ".join(f"{k} {v:.4g}" for k, v in comparison.reference.items()) + ") that the front "
             "dominates.", ""]
    if command:
        lines += [f"Command: `{command}`", ""]
    lines += ["| strategy | median hypervolume | mean rank | p vs " + BASELINE + " (Wilcoxon) | trials to "
              + BASELINE + "'s final median | simulated time to it (s) | share of " + BASELINE + "'s time |",
              "|---|---:|---:|---:|---:|---:|---:|"]
    for sampler, row in summary.iterrows():
        lines.append(f"| {sampler} | {row['median_hypervolume']:.4g} | {row['mean_rank']:.2f} | "
                     f"{_number(row['p_vs_' + BASELINE], '.3g')} | {_number(row['trials_to_baseline'], '.0f')} | "
                     f"{_number(row['time_to_baseline_s'], '.0f')} | {_number(row['time_share'], '.3f')} |")
    lines += ["", "Trials to the baseline's final median: the median over seeds of the first trial at which a run's "
              "hypervolume reaches the median of " + BASELINE + "'s final hypervolumes; - when half the seeds "
              "never do.", "", "Single objective (NAS-Bench-201's view): the genome of the best validation accuracy "
              "in each run, its mean accuracy over the table's seeds, and its regret against the table's best mean "
              "validation accuracy "
              f"({comparison.regret['optimum_val_accuracy'].iloc[0]:.4f}; test "
              f"{comparison.regret['optimum_test_accuracy'].iloc[0]:.4f}); mean ± std over seeds.", "",
              "| strategy | regret | validation accuracy | test accuracy |", "|---|---:|---:|---:|"]
    for sampler, row in comparison.regret.iterrows():
        lines.append(f"| {sampler} | {_pm(row, 'regret')} | {_pm(row, 'val_accuracy')} | "
                     f"{_pm(row, 'test_accuracy')} |")
    lines += ["", "![Anytime hypervolume](hypervolume.png)", ""]
    return "\n".join(lines)


def _number(value: float, spec: str) -> str:
    return "-" if value is None or (isinstance(value, float) and math.isnan(value)) else format(value, spec)


def _pm(row: pd.Series, name: str) -> str:
    return f"{row[name + '_mean']:.4f} ± {row[name + '_std']:.4f}"
