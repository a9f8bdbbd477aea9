"""python -m runners.analyze RUN_DIR [RUN_DIR ...] [--objectives accuracy:max,flops:min] [--reference ...] [--out DIR]

Prints each run's trials by state, the hypervolume reference, a table of front sizes, hypervolumes and best
objective values, and each run's Pareto front; writes report.md with its plots (default: into the first run folder).
"""
from __future__ import annotations

import argparse
from pathlib import Path

import pandas as pd

from nasbench.analysis import compare, default_reference, load_run, parse_reference
from nasbench.analysis.fronts import REFERENCE_MARGIN
from nasbench.analysis.report import (
    describe_reference,
    describe_trials,
    format_cell,
    front_table,
    results_table,
    write_report,
)
from nasbench.objectives import as_columns, parse_objectives
from runners.cli import fail, parser


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    p = parser("analyze", "Summarise search runs: trials by state, Pareto fronts, hypervolume, best objective "
                          "values; writes report.md with PNG plots.")
    p.add_argument("runs", nargs="+", metavar="RUN_DIR", help="run folders written by runners.search")
    p.add_argument("--objectives", default="accuracy:max,flops:min",
                   help="accuracy,flops or name:max|min per column (e.g. test_accuracy:max)")
    p.add_argument("--reference", default=None,
                   help="hypervolume reference point, name=value per objective (e.g. accuracy=0.5,flops=5e8); unset: "
                        f"the worst value of each objective over all runs pushed out by {REFERENCE_MARGIN * 100:g}%% "
                        "of its range")
    p.add_argument("--out", type=Path, default=None, help="folder for report.md and plots; unset: the first run folder")
    p.add_argument("--all-states", action="store_true",
                   help="let PRUNED/FAIL trials with objective values onto fronts (otherwise COMPLETE only)")
    return p.parse_args(argv)


def load_tables(paths: list[str]) -> tuple[dict[str, pd.DataFrame], dict[str, str]]:
    """Run id -> trials table and run id -> the folder it came from; ValueError when two folders share a run id."""
    tables, sources = {}, {}
    for path in paths:
        table = load_run(path)
        run_id = str(table["run_id"].iloc[0]) if len(table) else Path(path).name
        if run_id in tables:
            raise ValueError(f"{sources[run_id]} and {path} hold the same run id {run_id!r}")
        tables[run_id], sources[run_id] = table, path
    return tables, sources


def print_summary(summary: pd.DataFrame, reference_line: str) -> None:
    """Trials by state per run (in the words of the run's own summary), the reference, the results table."""
    print("Trials:")
    for run_id, text in describe_trials(summary).items():
        print(f"  {run_id}: {text}")
    print(reference_line)
    print(results_table(summary).to_string(float_format=format_cell))


def run(args: argparse.Namespace) -> Path:
    objectives = as_columns(parse_objectives(args.objectives))
    complete_only = False if args.all_states else None
    tables, sources = load_tables(args.runs)
    given = parse_reference(args.reference) if args.reference else None
    reference = given or default_reference(tables.values(), objectives, complete_only)
    summary = compare(tables, objectives, reference, complete_only)
    print_summary(summary, describe_reference(reference, objectives, given is not None))
    for run_id, table in tables.items():
        front = front_table(table, objectives, complete_only)
        print(f"\nPareto front of {run_id} ({len(front)} trials):")
        print(front.to_string(index=False, float_format=format_cell))
    report = write_report(tables, args.out or Path(args.runs[0]), objectives, given, sources, complete_only)
    print(f"\nwrote {report}")
    return report


def main(argv: list[str] | None = None) -> None:
    args = parse_args(argv)
    try:
        run(args)
    except (ValueError, OSError) as exc:
        fail(str(exc))


if __name__ == "__main__":
    main()
