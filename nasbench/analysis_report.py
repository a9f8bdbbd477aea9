"""A markdown report over search runs: summary table, fronts, attribute effects, with the plots beside it."""
from __future__ import annotations

import math
from collections.abc import Mapping
from numbers import Integral, Real
from pathlib import Path

import pandas as pd

from nasbench.analysis import attribute_effects, compare, default_reference, pareto_front, split_runs
from nasbench.analysis_plots import plot_edfs, plot_fronts, plot_hypervolume


def format_cell(value: object) -> str:
    """One table cell: integers as such, other numbers to 5 significant digits, missing values empty."""
    if value is None or (isinstance(value, Real) and not isinstance(value, Integral) and math.isnan(value)):
        return ""
    if isinstance(value, bool) or isinstance(value, Integral):
        return str(value)
    if isinstance(value, Real):
        return str(int(value)) if float(value).is_integer() and abs(value) < 1e15 else f"{value:.5g}"
    return str(value)


def markdown_table(df: pd.DataFrame, index: bool = False) -> str:
    """A GitHub-flavoured markdown table (`|` in cells escaped); no tabulate needed."""
    table = df.reset_index() if index else df
    header = [str(c) for c in table.columns]
    rows = [[format_cell(v) for v in row] for row in table.itertuples(index=False, name=None)]
    cells = [[c.replace("|", "\\|").replace("\n", " ") for c in row] for row in [header, *rows]]
    lines = ["| " + " | ".join(row) + " |" for row in cells]
    lines.insert(1, "| " + " | ".join("---" for _ in header) + " |")
    return "\n".join(lines)


def front_table(table: pd.DataFrame, objectives: Mapping[str, str], complete_only: bool | None = None) -> pd.DataFrame:
    """One run's front as a compact table sorted by its first objective, best first."""
    first, direction = next(iter(objectives.items()))
    front = pareto_front(table, objectives, complete_only).sort_values(first, ascending=direction == "min")
    wanted = ["number", "zoo_name", *objectives, "params", "key", "genome"]
    return front[[c for c in dict.fromkeys(wanted) if c in front.columns]].reset_index(drop=True)


def write_report(runs, out_dir: str | Path, objectives: Mapping[str, str], reference: Mapping[str, float] | None = None,
                 sources: Mapping[str, str | Path] | None = None, complete_only: bool | None = None,
                 top_attributes: int = 8) -> Path:
    """Write `report.md` and its PNGs (fronts, hypervolume, EDF) into `out_dir`; return the report's path."""
    tables = split_runs(runs)
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    if reference is None:
        reference = default_reference(tables.values(), objectives, complete_only)
    summary = compare(tables, objectives, reference, complete_only)
    lines = ["# Search analysis", "", "Runs: " + ", ".join(
        f"`{run_id}`" + (f" ({sources[run_id]})" if sources and run_id in sources else "") for run_id in tables), "",
        "Objectives: " + ", ".join(f"{n} ({d})" for n, d in objectives.items())
        + ". Hypervolume reference: " + ", ".join(f"{n}={format_cell(v)}" for n, v in reference.items()) + ".", "",
        "## Summary", "", markdown_table(summary, index=True), "",
        "`dominated_by:<run>`: share of this run's front dominated by that run's front.", "", "## Plots", ""]
    maximised = [n for n, d in objectives.items() if d == "max"]
    minimised = [n for n, d in objectives.items() if d == "min"]
    if maximised and minimised:
        plot_fronts(tables, out / "fronts.png", x=minimised[0], y=maximised[0], complete_only=complete_only,
                    objectives=objectives)
        lines += [f"![Pareto fronts: {maximised[0]} against {minimised[0]}](fronts.png)", ""]
    plot_hypervolume(tables, out / "hypervolume.png", objectives, reference, complete_only)
    lines += ["![Hypervolume over trials](hypervolume.png)", ""]
    if all("accuracy" in t.columns for t in tables.values()):
        plot_edfs(tables, out / "edf.png", "accuracy", complete_only)
        lines += ["![Error EDF](edf.png)", ""]
    for run_id, table in tables.items():
        front = front_table(table, objectives, complete_only)
        lines += [f"## Pareto front of `{run_id}`", "", markdown_table(front), ""]
        if {"accuracy", "flops"} <= set(table.columns):
            effects = attribute_effects(table, complete_only=complete_only)
            effects = effects[effects["attribute"].isin(effects["attribute"].unique()[:top_attributes])]
            if len(effects):
                lines += [f"### Genome attributes with the largest accuracy effect in `{run_id}`", "",
                          markdown_table(effects.assign(value=effects["value"].astype(object).where(
                    effects["value"].notna(), "(absent)"))), ""]
    path = out / "report.md"
    path.write_text("\n".join(lines))
    return path
