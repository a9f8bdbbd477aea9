"""PNG plots of search runs: Pareto fronts, hypervolume over trials, error EDFs (matplotlib Agg, no pyplot)."""
from __future__ import annotations

import itertools
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import NamedTuple

import numpy as np
from matplotlib import colormaps
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure

from nasbench.analysis.frames import split_runs
from nasbench.analysis.fronts import eligible_mask, hypervolume_over_trials, pareto_front
from nasbench.analysis.stats import edf

FRONT_MARGIN = 0.5  # a front plot's y axis reaches this share of the fronts' spread below their lowest member
AXIS_PAD = 0.05  # share of the visible y range left blank above and below it
LOG_SPAN = 1e3  # a positive y whose trials span this factor or more is drawn on a log axis (zero-cost proxies)


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


class YScale(NamedTuple):
    """The y axis of a front plot: trials below `cutoff` are drawn as markers at `edge`, in the axis' bottom band."""

    cutoff: float
    edge: float
    limits: tuple[float, float]


def front_y_scale(front_values: np.ndarray, values: np.ndarray) -> YScale | None:
    """Scale y (maximised) to the fronts: from FRONT_MARGIN x their spread below the lowest front member (no
    lower than the lowest trial) to the best, padded by AXIS_PAD; None when there is no front."""
    if len(front_values) == 0:
        return None
    low, high = float(np.min(front_values)), float(np.max(front_values))
    spread = high - low if high > low else (abs(high) * FRONT_MARGIN or 1.0)
    cutoff = max(low - FRONT_MARGIN * spread, float(np.min(values)))
    pad = AXIS_PAD * (high - cutoff if high > cutoff else spread)
    return YScale(cutoff, cutoff - pad / 2, (cutoff - pad, high + pad))


def _draw_below(ax, points, x: str, y: str, scale: YScale, colour, run_id: str) -> None:
    """Trials below the visible range as down-pointing markers at the axis' bottom edge."""
    below = points[points[y] < scale.cutoff]
    if len(below):
        ax.scatter(below[x], np.full(len(below), scale.edge), s=24, marker="v", alpha=0.6, color=colour,
                   linewidths=0, label=f"{run_id} ({len(below)} below the axis)")


def _label_zoo_members(ax, points, x: str, y: str, scale: YScale | None, colour) -> None:
    """Zoo members (`zoo_name`) starred and named, those below the visible range at the bottom edge."""
    named = points[points["zoo_name"].fillna("").astype(str) != ""]
    shown = named[y].where(named[y] >= scale.cutoff, scale.edge) if scale else named[y]
    ax.scatter(named[x], shown, s=36, marker="*", color=colour, zorder=3)
    for name, at_x, at_y in zip(named["zoo_name"], named[x], shown):
        ax.annotate(str(name), (at_x, at_y), textcoords="offset points", xytext=(4, 4), fontsize=7, color=colour)


def fronts_figure(runs, x: str = "flops", y: str = "accuracy", complete_only: bool | None = None,
                  objectives: Mapping[str, str] | None = None) -> Figure:
    """Every run's eligible trials (faint) and front on one axis: log `x` (minimised) against `y` (maximised);
    zoo members labelled by `zoo_name`. The front is taken over `objectives` (default: the two axes); with more
    than two, its members are marked without a staircase (a projected front is not one). The y axis is scaled to
    the fronts (`front_y_scale`): trials far below them are drawn as markers at its bottom edge; a positive `y`
    spanning `LOG_SPAN` or more (a zero-cost proxy's scores) is drawn whole on a log axis instead."""
    objectives = dict(objectives or {y: "max", x: "min"})
    projected = len(objectives) > 2
    tables = split_runs(runs)
    points = {k: t[eligible_mask(t, objectives, complete_only)] for k, t in tables.items()}
    fronts = {k: pareto_front(t, objectives, complete_only).sort_values([x, y]) for k, t in tables.items()}
    values = np.concatenate([p[y].to_numpy(dtype=float) for p in points.values()] or [[]])
    log_y = len(values) > 0 and values.min() > 0 and values.max() >= LOG_SPAN * values.min()
    scale = None if log_y else front_y_scale(
        np.concatenate([f[y].to_numpy(dtype=float) for f in fronts.values()] or [[]]), values)
    figure, ax = _figure()
    for colour, run_id in zip(_colours(), tables):
        shown = points[run_id] if scale is None else points[run_id][points[run_id][y] >= scale.cutoff]
        ax.scatter(shown[x], shown[y], s=12, alpha=0.3, color=colour, linewidths=0)
        front = fronts[run_id]
        ax.plot(front[x], front[y], drawstyle="steps-post", marker="o", markersize=4, color=colour,
                linestyle="none" if projected else "-", label=f"{run_id} (front {len(front)})")
        if scale is not None:
            _draw_below(ax, points[run_id], x, y, scale, colour, run_id)
        if "zoo_name" in points[run_id].columns:
            _label_zoo_members(ax, points[run_id], x, y, scale, colour)
    if scale is not None:
        ax.set_ylim(*scale.limits)
    ax.set_xscale("log")
    ax.set_xlabel(f"{x} (log scale)")
    if log_y:
        ax.set_yscale("log")
    ax.set_ylabel(f"{y} (log scale)" if log_y else y)
    ax.set_title("Pareto fronts" + (f" over {', '.join(objectives)}" if projected else ""))
    ax.grid(True, which="both", alpha=0.3)
    ax.legend(fontsize=8, loc="upper left")  # above a front, where no trial can be
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


def plot_anytime(bands, path: str | Path, title: str) -> Path:
    """Median hypervolume over seeds with its bootstrap band, one line per sampler, against trials (left) and
    simulated training time (right); `bands` as `nasbench.tabular.compare.anytime_bands` gives them."""
    figure = Figure(figsize=(12.0, 4.8), layout="constrained")
    FigureCanvasAgg(figure)
    axes = dict(zip(("trials", "time_s"), figure.subplots(1, 2)))
    for colour, (sampler, rows) in zip(_colours(), bands.groupby("sampler", sort=False)):
        for axis, ax in axes.items():
            line = rows[rows["axis"] == axis]
            ax.plot(line["x"], line["median"], drawstyle="steps-post", color=colour, label=sampler)
            ax.fill_between(line["x"], line["low"], line["high"], step="post", color=colour, alpha=0.15, linewidth=0)
    axes["trials"].set_xlabel("trials")
    axes["time_s"].set_xlabel("simulated training time (s)")
    axes["time_s"].set_xscale("log")
    for ax in axes.values():
        ax.set_ylabel("hypervolume")
        ax.grid(True, which="both", alpha=0.3)
        ax.legend(fontsize=8, loc="lower right")
    figure.suptitle(title)
    return _save(figure, path)
