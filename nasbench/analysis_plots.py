"""PNG plots of search runs: Pareto fronts, hypervolume over trials, error EDFs (matplotlib Agg, no pyplot)."""
from __future__ import annotations

import itertools
from collections.abc import Iterator, Mapping
from pathlib import Path

import numpy as np
from matplotlib import colormaps
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure

from nasbench.analysis import edf, eligible_mask, hypervolume_over_trials, pareto_front, split_runs


def _colours() -> Iterator:
    return itertools.cycle(colormaps["tab10"].colors)


def _figure() -> tuple[Figure, object]:
    figure = Figure(figsize=(7.5, 5.0), layout="constrained")
    FigureCanvasAgg(figure)
    return figure, figure.add_subplot()


def _save(figure: Figure, path: str | Path) -> Path:
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    figure.savefig(path, dpi=120)
    return path


def plot_fronts(runs, path: str | Path, x: str = "flops", y: str = "accuracy",
                complete_only: bool | None = None, objectives: Mapping[str, str] | None = None) -> Path:
    """`fronts_figure` saved as a PNG."""
    return _save(fronts_figure(runs, x, y, complete_only, objectives), path)


def fronts_figure(runs, x: str = "flops", y: str = "accuracy", complete_only: bool | None = None,
                  objectives: Mapping[str, str] | None = None) -> Figure:
    """Every run's eligible trials (faint) and front on one axis: log `x` (minimised) against `y` (maximised);
    zoo members labelled by `zoo_name`. The front is taken over `objectives` (default: the two axes); with more
    than two, its members are marked without a staircase (a projected front is not one)."""
    objectives = dict(objectives or {y: "max", x: "min"})
    projected = len(objectives) > 2
    figure, ax = _figure()
    for colour, (run_id, table) in zip(_colours(), split_runs(runs).items()):
        points = table[eligible_mask(table, objectives, complete_only)]
        front = pareto_front(table, objectives, complete_only).sort_values([x, y])
        ax.scatter(points[x], points[y], s=12, alpha=0.3, color=colour, linewidths=0)
        ax.plot(front[x], front[y], drawstyle="steps-post", marker="o", markersize=4, color=colour,
                linestyle="none" if projected else "-", label=f"{run_id} (front {len(front)})")
        if "zoo_name" in points.columns:
            named = points[points["zoo_name"].fillna("").astype(str) != ""]
            ax.scatter(named[x], named[y], s=36, marker="*", color=colour, zorder=3)
            for _, row in named.iterrows():
                ax.annotate(str(row["zoo_name"]), (row[x], row[y]), textcoords="offset points", xytext=(4, 4),
                            fontsize=7, color=colour)
    ax.set_xscale("log")
    ax.set_xlabel(f"{x} (log scale)")
    ax.set_ylabel(y)
    ax.set_title("Pareto fronts" + (f" over {', '.join(objectives)}" if projected else ""))
    ax.grid(True, which="both", alpha=0.3)
    ax.legend(fontsize=8, loc="lower right")
    return figure


def plot_hypervolume(runs, path: str | Path, objectives: Mapping[str, str], reference: Mapping[str, float],
                     complete_only: bool | None = None) -> Path:
    """Hypervolume of the front of the first n trials against n, one line per run."""
    figure, ax = _figure()
    for colour, (run_id, table) in zip(_colours(), split_runs(runs).items()):
        curve = hypervolume_over_trials(table, objectives, reference, complete_only)
        ax.plot(curve["trials"], curve["hypervolume"], drawstyle="steps-post", color=colour, label=run_id)
    ax.set_xlabel("trials")
    ax.set_ylabel("hypervolume")
    ax.set_title("Hypervolume over trials (" + ", ".join(f"{n} {d}" for n, d in objectives.items()) + ")")
    ax.grid(True, alpha=0.3)
    ax.legend(fontsize=8)
    return _save(figure, path)


def plot_edfs(runs, path: str | Path, metric: str = "accuracy", complete_only: bool | None = None) -> Path:
    """Error EDF (error = 1 - `metric`) of each run, as in Radosavovic et al. 2019."""
    figure, ax = _figure()
    for colour, (run_id, table) in zip(_colours(), split_runs(runs).items()):
        curve = edf(table, metric, complete_only)
        ax.plot(np.r_[curve["error"].min() if len(curve) else 0.0, curve["error"]],
                np.r_[0.0, curve["fraction"]], drawstyle="steps-post", color=colour,
                label=f"{run_id} (n={len(curve)})")
    ax.set_xlabel(f"error (1 - {metric})")
    ax.set_ylabel("cumulative fraction of models")
    ax.set_ylim(0, 1.02)
    ax.set_title("Error EDF")
    ax.grid(True, alpha=0.3)
    ax.legend(fontsize=8, loc="lower right")
    return _save(figure, path)
