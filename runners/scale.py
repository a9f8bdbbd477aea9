"""python -m runners.scale: EfficientNet compound scaling, on paper (--static) and by training (--empirical)."""
from __future__ import annotations

import argparse
import dataclasses
import json
import os
import sys

from runners.cli import add_data_options, add_setting, fail, fail_from, given_options, parser, quiet_ray

EPILOG = """\
--static: B0..B7 from the B0 genome and the official coefficients (params equal timm's), and the ladder
  Scaling(alpha=1.2, beta=1.1, gamma=1.15, phi=0..7), beside the paper's Table 2; writes RESULTS_DIR/scaling/static.csv
  and static.md. --format json prints the rows instead of the table.
--empirical: small baselines scaled to 2x/4x/8x their FLOPs by compound, depth-, width- and resolution-only scaling
  (phi solved per strategy on the analytic cost), each trained with several seeds; writes RESULTS_DIR/scaling/<run-id>/
  (config.json, points.csv, runs.csv, summary.csv, summary.md, accuracy_vs_flops.png; with --grid also grid.csv and
  the search's run folder compound/<run-id>/). A run never overwrites another.
--empirical --resume RUN_DIR: continue an interrupted run (Ctrl-C, a killed session) with the settings in its
  config.json (no other option may be given): trainings already in its runs.csv are kept, the others run; a finished
  grid search is read back from grid.csv, an interrupted one continues in its own run folder. A complete run says so
  and only rewrites its final tables. Ctrl-C prints the command that continues the run and exits with code 130.

examples:
  python -m runners.scale --static
  python -m runners.scale --static --format json
  python -m runners.scale --empirical --seeds 3 --epochs 6
  python -m runners.scale --empirical --grid --baselines efficientnet
  python -m runners.scale --empirical --dataset cifar10 --data-dir ~/data --epochs 10
  python -m runners.scale --empirical --resume results/scaling/20261122-101500-1a2b3c
"""


def number_list(kind, what: str):
    def parse(text: str) -> tuple:
        try:
            values = tuple(kind(v) for v in text.split(",") if v.strip())
        except ValueError:
            raise argparse.ArgumentTypeError(f"{text!r} is not a comma-separated list of {what}") from None
        if not values:
            raise argparse.ArgumentTypeError(f"{text!r} lists no {what}")
        return values
    return parse


def names(text: str) -> tuple[str, ...]:
    return tuple(v.strip() for v in text.split(",") if v.strip())


def build_parser() -> argparse.ArgumentParser:
    from nasbench.scaling.empirical import EmpiricalSettings

    def option(group, name: str, **kwargs) -> None:
        add_setting(group, EmpiricalSettings, name, **kwargs)

    p = parser("scale", "EfficientNet compound scaling: the static B0..B7 table and the small-scale experiments.")
    p.epilog = EPILOG
    p.error = fail  # one line, exit code 2
    mode = p.add_mutually_exclusive_group(required=True)
    mode.add_argument("--static", action="store_true", help="params/FLOPs table of B0..B7 and the phi ladder")
    mode.add_argument("--empirical", action="store_true", help="train the scaled baselines (see below)")
    p.add_argument("--format", choices=("table", "json"), default="table", help="--static output on stdout")
    p.add_argument("--no-timm", action="store_true", help="--static without building timm's models")
    p.add_argument("--results-dir", default="results", help="folder that receives scaling/")
    e = p.add_argument_group("empirical")
    option(e, "baselines", type=names, metavar="NAMES")
    option(e, "targets", type=number_list(float, "numbers"), metavar="X,Y")
    option(e, "seeds", type=int)
    add_data_options(e, EmpiricalSettings)
    option(e, "compound", type=number_list(float, "numbers"), metavar="A,B,G")
    option(e, "grid", action="store_true")
    option(e, "grid_trials", type=int)
    e.add_argument("--resume", metavar="RUN_DIR", help="continue an interrupted --empirical run folder "
                                                       "(results/scaling/<run-id>) with its own settings")
    return p


def run_static(args: argparse.Namespace) -> None:
    from nasbench.scaling.static import static_rows, to_markdown, write_static

    rows = static_rows(with_timm=not args.no_timm)
    paths = write_static(rows, os.path.join(args.results_dir, "scaling"))
    if args.format == "json":
        print(json.dumps(rows, indent=2))
    else:
        print(to_markdown(rows))
    print("written: " + ", ".join(map(str, paths)), file=sys.stderr)


def run_empirical(args: argparse.Namespace) -> None:
    from nasbench.scaling.empirical import EmpiricalSettings, resume_empirical
    from nasbench.scaling.empirical import run_empirical as run
    from search_spaces import get_space

    if args.resume:
        outcome = resume_empirical(args.resume, log=log, grid_space=get_space("compound"))
    else:
        if len(args.compound) != 3:
            fail(f"--compound takes three numbers alpha,beta,gamma, got {len(args.compound)}")
        values = {f.name: getattr(args, f.name) for f in dataclasses.fields(EmpiricalSettings)}
        settings = EmpiricalSettings(**{**values, "results_dir": os.path.abspath(args.results_dir)})
        outcome = run(settings, log=log, grid_space=get_space("compound") if settings.grid else None)
    print()
    print((outcome.run_dir / "summary.md").read_text())
    print(f"written to {outcome.run_dir}")


def log(line: str) -> None:
    print(line, flush=True)


def main(argv: list[str] | None = None) -> None:
    args = build_parser().parse_args(argv)
    if args.resume and (extra := sorted(given_options(argv if argv is not None else sys.argv[1:])
                                        - {"--empirical", "--resume"})):
        fail(f"--resume continues an --empirical run with the settings in its config.json; no other option may be "
             f"given (got {', '.join(extra)})")
    quiet_ray()
    from nasbench.gene import GenomeError
    from nasbench.scaling.empirical import Interrupted
    from nasbench.search.runner import SearchFailed

    try:
        if args.static:
            run_static(args)
        else:
            run_empirical(args)
    except (ValueError, GenomeError, OSError) as exc:  # OSError: unwritable results folder, disk full, ...
        fail_from(exc)
    except SearchFailed as exc:  # the grid search stopped (not the input's fault): one line, exit code 1
        fail(str(exc), code=1)
    except Interrupted as stop:  # Ctrl-C: what was trained is kept
        print(f"\ninterrupted; continue with: python -m runners.scale --empirical --resume {stop.run_dir}")
        raise SystemExit(130) from None  # the shell's code for Ctrl-C: the run is incomplete (resumable)


if __name__ == "__main__":
    main()
