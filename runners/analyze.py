"""python -m runners.analyze RUN_DIR [RUN_DIR ...] [--objectives accuracy:max,flops:min] [--reference ...] [--out DIR]

Prints a summary table (trials by state, front size, hypervolume, best objective values) and each run's Pareto
front, and writes report.md with its plots (default: into the first run folder).
"""
from __future__ import annotations

import argparse
from pathlib import Path

from nasbench.analysis import compare, default_reference, load_run, parse_objectives, parse_reference
from nasbench.analysis_report import format_cell, front_table, write_report
from runners.cli import fail, parser


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    p = parser("analyze", "Summarise search runs: trials by state, Pareto fronts, hypervolume, best objective "
                          "values; writes report.md with PNG plots.")
    p.add_argument("runs", nargs="+", metavar="RUN_DIR", help="run folders written by runners.search")
    p.add_argument("--objectives", default="accuracy:max,flops:min", help="comma-separated name:max|min")
    p.add_argument("--reference", default=None,
                   help="hypervolume reference, name=value per objective; unset: the worst value over all runs "
                        "pushed out by 10%% of its range")
    p.add_argument("--out", type=Path, default=None, help="folder for report.md and plots; unset: the first run folder")
    p.add_argument("--all-states", action="store_true",
                   help="let PRUNED/FAIL trials with objective values onto fronts (otherwise COMPLETE only)")
    return p.parse_args(argv)


def run(args: argparse.Namespace) -> Path:
    objectives = parse_objectives(args.objectives)
    complete_only = False if args.all_states else None
    tables, sources = {}, {}
    for path in args.runs:
        table = load_run(path)
        run_id = str(table["run_id"].iloc[0]) if len(table) else Path(path).name
        if run_id in tables:
            raise ValueError(f"{sources[run_id]} and {path} hold the same run id {run_id!r}")
        tables[run_id], sources[run_id] = table, path
    reference = (parse_reference(args.reference) if args.reference
                 else default_reference(tables.values(), objectives, complete_only))
    summary = compare(tables, objectives, reference, complete_only)
    print("hypervolume reference: " + ", ".join(f"{k}={v:.6g}" for k, v in reference.items()))
    print(summary.to_string(float_format=format_cell))
    for run_id, table in tables.items():
        front = front_table(table, objectives, complete_only)
        print(f"\nPareto front of {run_id} ({len(front)} trials):")
        print(front.to_string(index=False, float_format=format_cell))
    report = write_report(tables, args.out or Path(args.runs[0]), objectives, reference, sources, complete_only)
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
