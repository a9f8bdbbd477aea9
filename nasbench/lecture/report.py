"""A lecture experiment's results: mean ± std over seeds per arm, the claims' verdicts, the learning curves figure
and report.md, written into its run folder."""
from __future__ import annotations

import math
import os
from pathlib import Path

import pandas as pd

from nasbench import atomic
from nasbench.lecture.experiments import Experiment
from nasbench.lecture.metrics import EpochsTo
from nasbench.lecture.verdict import verdicts as judged


def summarise(experiment: Experiment, runs: pd.DataFrame) -> pd.DataFrame:
    """Per arm (in the experiment's order): its factors, params, FLOPs, successful seeds and each measure's mean and
    sample std over them."""
    rows = []
    for arm, group in runs.groupby("arm", sort=False):
        ok = group[group["status"] == "ok"]
        first = group.iloc[0]
        factors = [k for k in group.columns if k not in _RUN_COLUMNS and not _measure(experiment, k)]
        row = {"arm": arm, **{k: first[k] for k in factors}, "params": int(first["params"]),
               "flops": int(first["flops"]), "seeds": len(ok), "failed": len(group) - len(ok)}
        for measure in experiment.measures:
            values = ok[measure.name] if measure.name in ok else pd.Series(dtype=float)
            row[f"{measure.name}_mean"] = values.mean()
            row[f"{measure.name}_std"] = values.std()
        rows.append(row)
    return pd.DataFrame(rows)


_RUN_COLUMNS = {"arm", "seed", "params", "flops", "epochs", "status", "failure_reason", "wall_time_s"}


def _measure(experiment: Experiment, column: str) -> bool:
    return any(m.name == column for m in experiment.measures)


def write_report(run_dir: Path, settings, runs: pd.DataFrame, curves: pd.DataFrame) -> tuple[pd.DataFrame,
                                                                                            pd.DataFrame]:
    """summary.csv, verdicts.csv, curves.png and report.md; returns the summary and the verdicts."""
    experiment = settings.spec
    summary = summarise(experiment, runs) if len(runs) else pd.DataFrame()
    verdicts = judged(experiment, runs) if len(runs) else pd.DataFrame()
    atomic.write_text(run_dir / "summary.csv", summary.to_csv(index=False))
    atomic.write_text(run_dir / "verdicts.csv", verdicts.to_csv(index=False))
    if len(curves):
        with atomic.atomic_path(run_dir / "curves.png") as tmp:
            plot_curves(experiment, runs, curves, tmp)
    atomic.write_text(run_dir / "report.md", report(experiment, settings, summary, verdicts, bool(len(curves))))
    return summary, verdicts


def report(experiment: Experiment, settings, summary: pd.DataFrame, verdicts: pd.DataFrame, figure: bool) -> str:
    lines = [f"# {experiment.title}", "", f"Deck {experiment.deck}: \u201c{experiment.quote}\u201d", "",
             f"{settings.dataset}, {settings.seeds} seeds, {settings.epochs or experiment.epochs} epochs per arm "
             f"(an arm may scale them), every training a Ray Tune trial. Errors are fractions; train error is the "
             "running error over the last epoch's batches (train mode); mean ± sample std over the seeds.", "",
             f"Command: `python -m runners.experiment {experiment.name} --seeds {settings.seeds}"
             + (f" --epochs {settings.epochs}" if settings.epochs else "")
             + (f" --dataset {settings.dataset}" if settings.dataset != "distorted_digits" else "") + "`", ""]
    if len(summary):
        measures = experiment.measures
        lines += ["| arm | params | MFLOPs | seeds | " + " | ".join(m.label for m in measures) + " |",
                  "|---|---:|---:|---:|" + "---:|" * len(measures)]
        for _, row in summary.iterrows():
            cells = [_pm(row[f"{m.name}_mean"], row[f"{m.name}_std"]) for m in measures]
            seeds = f"{row['seeds']}" + (f" ({row['failed']} failed)" if row["failed"] else "")
            lines.append(f"| {row['arm']} | {row['params']:,} | {row['flops'] / 1e6:.2f} | {seeds} | "
                         + " | ".join(cells) + " |")
        lines.append("")
        epochs = settings.epochs or experiment.epochs
        for measure in (m for m in measures if isinstance(m, EpochsTo)):
            lines += [f"{measure.label.capitalize()}: a run that never reaches it within its {epochs} epochs counts "
                      f"as {epochs + 1}, so a mean (and a ratio) that includes one is a bound.", ""]
    if len(verdicts):
        lines += ["| claim | measure | arm | other | difference | Welch p | outcome |",
                  "|---|---|---|---|---|---:|---|"]
        for _, v in verdicts.iterrows():
            ratio = "" if math.isnan(v["ratio"]) else f" (ratio {v['ratio']:.2f}x)"
            lines.append(f"| {v['claim']} | {v['measure']} | {v['arm']} {_pm(v['arm_mean'], v['arm_std'])} | "
                         f"{v['other']} {_pm(v['other_mean'], v['other_std'])} | "
                         f"{v['arm_mean'] - v['other_mean']:+.4f}{ratio} | {_p(v['p_welch'])} | {v['outcome']} |")
        lines += ["", "Outcome: reproduced when the difference has the claimed sign and the means lie further apart "
                      "than the two standard deviations added (beyond the seeds' spread); \"not higher\" claims hold "
                      "unless the arm is higher beyond the spread.", ""]
    if figure:
        lines += ["![learning curves](curves.png)", ""]
    return "\n".join(lines)


def plot_curves(experiment: Experiment, runs: pd.DataFrame, curves: pd.DataFrame, path: str | os.PathLike) -> None:
    """Mean train error (dashed) and test error (solid) per epoch, one line colour per arm, one panel per value of
    the experiment's panel factor."""
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    ok = runs[runs["status"] == "ok"][["arm", "seed"]]
    mean = curves.merge(ok, on=["arm", "seed"]).groupby(["arm", "epoch"], sort=False)[
        ["train_error", "test_error"]].mean().reset_index()
    order = list(dict.fromkeys(runs["arm"]))
    panels = ([(None, order)] if experiment.panel is None else
              [(value, [a for a in order if (runs.loc[runs["arm"] == a, experiment.panel] == value).all()])
               for value in dict.fromkeys(runs[experiment.panel])])
    figure = Figure(figsize=(5.0 * len(panels), 4.0), layout="constrained")
    FigureCanvasAgg(figure)
    axes = figure.subplots(1, len(panels), squeeze=False, sharey=True)[0]
    for ax, (value, names) in zip(axes, panels):
        for i, arm in enumerate(names):
            line = mean[mean["arm"] == arm]
            colour = f"C{i}"
            ax.plot(line["epoch"], line["test_error"], color=colour, label=arm)
            ax.plot(line["epoch"], line["train_error"], color=colour, linestyle="--", linewidth=1)
        ax.set_xlabel("epoch")
        ax.set_ylabel("error (solid: test, dashed: train)")
        ax.set_title(experiment.name if value is None else f"{experiment.panel} {value}")
        ax.grid(True, alpha=0.3)
        ax.legend(fontsize=8)
    figure.savefig(path, dpi=120, format="png")


def _pm(mean: float, std: float) -> str:
    if pd.isna(mean):
        return "-"
    return f"{mean:.4f}" + ("" if pd.isna(std) else f" ± {std:.4f}")


def _p(value: float) -> str:
    return "-" if pd.isna(value) else f"{value:.3g}"
