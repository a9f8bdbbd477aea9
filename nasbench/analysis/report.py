"""A markdown report over search runs: summary table, fronts, attribute effects, with the plots beside it."""
from __future__ import annotations

import math
from collections.abc import Mapping
from numbers import Integral, Real
from pathlib import Path

import pandas as pd

from nasbench.analysis.frames import split_runs
from nasbench.analysis.fronts import REFERENCE_MARGIN, compare, default_reference, pareto_front
from nasbench.analysis.plots import plot_edfs, plot_fronts, plot_hypervolume
from nasbench.analysis.stats import MAX_VALUES, attribute_effects
from nasbench.record import COUNT_COLUMNS, describe_counts


def format_cell(value: object) -> str:
    """One table cell: integers as such, other numbers to 5 significant digits, missing values empty."""
    if value is None or (isinstance(value, Real) and not isinstance(value, Integral) and math.isnan(value)):
        return ""
    if isinstance(value, Integral):  # bool too
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


def describe_reference(reference: Mapping[str, float], objectives: Mapping[str, str], given: bool) -> str:
    """One line: the hypervolume reference point, where it comes from and what hypervolume measures against it."""
    values = ", ".join(f"{name}={format_cell(value)}" for name, value in reference.items())
    origin = ("as given" if given
              else f"each objective's worst value over all runs, pushed out by {REFERENCE_MARGIN:.0%} of its range")
    negative = [name for name, direction in objectives.items() if direction == "max" and reference.get(name, 0) < 0]
    fine = f"; a negative {negative[0]} is fine, it only has to be worse than every trial" if negative else ""
    size = {1: "length", 2: "area"}.get(len(reference), "volume")
    return (f"Hypervolume reference: {values} ({origin}{fine}). Hypervolume: the {size} a front dominates up to "
            "this point; larger is better.")


def describe_trials(summary: pd.DataFrame) -> dict[str, str]:
    """Run id -> its trials by state in the words of the run's own summary ('24 trials trained: 24 complete;
    samples: 7 over budget (not trained)'), from `compare`'s count columns."""
    return {str(run_id): describe_counts({state: int(row[column]) for state, column in COUNT_COLUMNS.items()})
            for run_id, row in summary.iterrows()}


def results_table(summary: pd.DataFrame) -> pd.DataFrame:
    """`compare`'s table without the trial counts (`describe_trials` words them): fronts, hypervolume, bests."""
    return summary.drop(columns=["trials", *COUNT_COLUMNS.values()])


def _summary_lines(summary: pd.DataFrame, reference_line: str) -> list[str]:
    lines = ["## Summary", "", *(f"- `{run_id}`: {text}" for run_id, text in describe_trials(summary).items()), "",
             reference_line, "", markdown_table(results_table(summary), index=True), ""]
    if len(summary) > 1:
        lines += ["`dominated_by:<run>`: share of this run's front dominated by that run's front.", ""]
    return lines


def _plot_lines(tables: dict[str, pd.DataFrame], out: Path, objectives: Mapping[str, str],
                reference: Mapping[str, float], complete_only: bool | None) -> list[str]:
    """Write the PNGs into `out`; return the markdown that shows them."""
    lines = ["## Plots", ""]
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
    return lines


EFFECT_COLUMNS = (
    f"One row per value of each genome attribute with 2 to {MAX_VALUES} values over the run's eligible trials "
    "(`(absent)`: genomes without that field): `count` trials, their mean and median accuracy and FLOPs, "
    "`accuracy_shift` = their median accuracy minus the run's, `flops_ratio` = their median FLOPs over the run's; "
    "`effect` = the spread (largest minus smallest) of the attribute's accuracy shifts; `also` = attributes that "
    "split the trials the same way.")


def _effects_lines(run_id: str, table: pd.DataFrame, complete_only: bool | None, top: int) -> list[str]:
    """The `top` genome attributes with the largest accuracy effect, all their values, and how many were left out."""
    effects = attribute_effects(table, complete_only=complete_only)
    attributes = effects["attribute"].unique()
    if not len(attributes):
        return []
    shown = effects[effects["attribute"].isin(attributes[:top])]
    left_out = max(len(attributes) - top, 0)
    heading = f"### The {len(attributes) - left_out} genome attributes with the largest accuracy effect in `{run_id}`"
    omitted = (f" {left_out} more attributes, with smaller effects, are left out "
               "(`nasbench.analysis.attribute_effects` lists them all)." if left_out else "")
    values = shown["value"].astype(object).where(shown["value"].notna(), "(absent)")
    return [heading, "", EFFECT_COLUMNS + omitted, "", markdown_table(shown.assign(value=values)), ""]


def write_report(runs, out_dir: str | Path, objectives: Mapping[str, str], reference: Mapping[str, float] | None = None,
                 sources: Mapping[str, str | Path] | None = None, complete_only: bool | None = None,
                 top_attributes: int = 10) -> Path:
    """Write `report.md` and its PNGs (fronts, hypervolume, EDF) into `out_dir`; return the report's path.
    `reference` unset: `default_reference` over all runs."""
    tables = split_runs(runs)
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    given = reference is not None
    if not given:
        reference = default_reference(tables.values(), objectives, complete_only)
    summary = compare(tables, objectives, reference, complete_only)
    lines = ["# Search analysis", "", "Runs: " + ", ".join(
        f"`{run_id}`" + (f" ({sources[run_id]})" if sources and run_id in sources else "") for run_id in tables), "",
        "Objectives: " + ", ".join(f"{n} ({d})" for n, d in objectives.items()) + ".", "",
        *_summary_lines(summary, describe_reference(reference, objectives, given)),
        *_plot_lines(tables, out, objectives, reference, complete_only)]
    for run_id, table in tables.items():
        lines += [f"## Pareto front of `{run_id}`", "", markdown_table(front_table(table, objectives, complete_only)),
                  ""]
        if {"accuracy", "flops"} <= set(table.columns):
            lines += _effects_lines(run_id, table, complete_only, top_attributes)
    path = out / "report.md"
    path.write_text("\n".join(lines))
    return path
