"""python -m runners.compare: search strategies compared on a tabular benchmark, many seeds each, with statistics
that say which wins (anytime hypervolume with bootstrap bands, Wilcoxon tests against random, regret)."""
from __future__ import annotations

import argparse
import shlex
import sys

from runners.cli import add_setting, choice, fail_from, parser, positive_float
from runners.search import flops_budget

EPILOG = """\
outputs (a new folder under --results-dir): report.md (the tables and the plot), summary.csv (per strategy: median
final hypervolume, mean rank, Wilcoxon p-value against random paired by seed, trials and simulated time to reach
random's final median hypervolume, and that time as a share of random's), regret.csv (best validation accuracy's
regret against the table's optimum, with its test accuracy), hypervolume.png (median and 95 % bootstrap band
against trials and simulated time), bands.csv, curves.csv (every run's anytime hypervolume), runs.parquet (every
trial), config.json.

Runs replay the table in this process (no Ray, no training): the trials a search with the same sampler and seed
would run through `python -m runners.search --benchmark FILE`, one at a time.

examples:
  python -m runners.compare --benchmark results/tabular/resnet_compact-distorted_digits.parquet
  python -m runners.compare --benchmark FILE --samplers random,rea --seeds 5 --trials 100 --scheduler asha
  python -m runners.compare --benchmark FILE --samplers random,tpe,tpe+moasha,random+hvi:64 --first-seed 20
"""


def sampler_list(text: str) -> tuple[str, ...]:
    """'random,tpe+moasha' -> ('random', 'tpe+moasha'): strategies, each of a known sampler (its scheduler and
    prefilter are checked with the other settings)."""
    from nasbench.search.settings import SAMPLERS
    from nasbench.tabular.compare import strategy

    names = tuple(dict.fromkeys(part.strip() for part in text.split(",") if part.strip()))
    for name in names:
        try:
            sampler, _ = strategy(name)
        except ValueError as exc:
            raise argparse.ArgumentTypeError(str(exc)) from None
        choice("sampler", SAMPLERS)(sampler)
        if sampler == "grid":
            raise argparse.ArgumentTypeError("grid visits every point once in a fixed order: there is nothing to "
                                             "compare over seeds; leave it out")
    return names


def build_parser() -> argparse.ArgumentParser:
    from nasbench.search.settings import SCHEDULERS
    from nasbench.tabular.compare import CompareSettings

    def option(group, name: str, **kwargs) -> None:
        add_setting(group, CompareSettings, name, **kwargs)

    p = parser("compare", "Compare search strategies on a tabular benchmark: every sampler with every seed, then "
                          "anytime hypervolume with bootstrap bands, Wilcoxon tests against random, and regret.")
    p.epilog = EPILOG
    p.add_argument("--benchmark", metavar="FILE", required=True,
                   help="a table built by python -m runners.tabulate")
    option(p, "samplers", type=sampler_list)
    option(p, "seeds", type=int)
    option(p, "first_seed", type=int)
    option(p, "trials", type=int)
    option(p, "objectives", type=str, help="accuracy and one or more costs: flops, params, latency")
    option(p, "scheduler", type=choice("scheduler", SCHEDULERS))
    option(p, "prefilter", metavar="PROXY:K")
    option(p, "max_flops", type=flops_budget)
    option(p, "max_params", type=positive_float)
    option(p, "results_dir")
    return p


def main(argv: list[str] | None = None) -> None:
    argv = sys.argv[1:] if argv is None else argv
    args = build_parser().parse_args(argv)
    from nasbench.atomic import new_run_folder
    from nasbench.errors import SettingError
    from nasbench.objectives import search_objectives
    from nasbench.tabular.compare import CompareSettings, compare_samplers
    from nasbench.tabular.compare_report import write_comparison
    from nasbench.tabular.table import Table, TableError
    from search_spaces import get_space

    try:
        for name in ("seeds", "trials"):
            if getattr(args, name) < 1:
                raise SettingError(f"{name} must be at least 1 (got {getattr(args, name)})", name)
        if args.first_seed < 0:
            raise SettingError(f"first_seed must be zero or positive (got {args.first_seed})", "first_seed")
        objectives = search_objectives(args.objectives) if isinstance(args.objectives, str) else args.objectives
        samplers = sampler_list(args.samplers) if isinstance(args.samplers, str) else args.samplers
        settings = CompareSettings(samplers=samplers, seeds=args.seeds, first_seed=args.first_seed,
                                   trials=args.trials, objectives=objectives,
                                   scheduler=args.scheduler, prefilter=args.prefilter, max_flops=args.max_flops,
                                   max_params=args.max_params, results_dir=args.results_dir)
        table = Table(args.benchmark)
        comparison = compare_samplers(get_space(table.space), table, settings.samplers, settings.seeds,
                                      settings.trials, log=print, first_seed=settings.first_seed,
                                      **settings.search())
        out = new_run_folder(settings.results_dir)
    except (ValueError, KeyError, TableError, SettingError, argparse.ArgumentTypeError, OSError) as exc:
        fail_from(exc)
    report = write_comparison(out, comparison, shlex.join(["python", "-m", "runners.compare", *argv]))
    print("\n" + comparison.summary.to_string(float_format=lambda v: f"{v:.4g}"))
    print(f"\nwritten to {out}: {report.name} summary.csv regret.csv hypervolume.png bands.csv curves.csv "
          "runs.parquet config.json")


if __name__ == "__main__":
    main()
