"""The scaling experiment's figure: test accuracy against FLOPs per strategy."""
from __future__ import annotations

import os

import pandas as pd


def plot_accuracy_vs_flops(summary: pd.DataFrame, path: str | os.PathLike) -> None:
    """Test accuracy (mean ± std) against FLOPs, one panel per baseline, one line per strategy from the baseline."""
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure
    from matplotlib.ticker import FuncFormatter

    names = list(dict.fromkeys(summary["baseline"]))
    figure = Figure(figsize=(4.5 * len(names), 4.0), layout="constrained")
    FigureCanvasAgg(figure)
    axes = figure.subplots(1, len(names), squeeze=False)[0]
    for ax, name in zip(axes, names):
        table = summary[summary["baseline"] == name]
        start = table[table["strategy"] == "baseline"]
        for strategy in [s for s in dict.fromkeys(table["strategy"]) if s != "baseline"]:
            line = pd.concat([start, table[table["strategy"] == strategy]]).sort_values("flops")
            ax.errorbar(line["flops"] / 1e6, line["test_mean"], yerr=line["test_std"].fillna(0.0), marker="o",
                        markersize=4, capsize=3, label=strategy)
        ax.set_xscale("log")
        plain = FuncFormatter(lambda value, _: f"{value:g}")
        ax.xaxis.set_major_formatter(plain)
        ax.xaxis.set_minor_formatter(FuncFormatter(lambda value, _: f"{value:g}" if str(value)[0] in "25" else ""))
        ax.set_xlabel("FLOPs (M, log scale)")
        ax.set_ylabel("test accuracy")
        ax.set_title(f"{name} baseline")
        ax.grid(True, which="both", alpha=0.3)
        ax.legend(fontsize=8)
    figure.savefig(path, dpi=120, format="png")
