"""python -m runners.search: multi-objective architecture search with Ray Tune + Optuna, Pareto fronts to results/."""
from __future__ import annotations

import argparse
import dataclasses
import os
import sys

from runners.cli import (
    add_data_options,
    add_setting,
    choice,
    fail,
    fail_from,
    flag,
    given_options,
    parser,
    positive_float,
    quiet_ray,
)

EPILOG = """\
outputs: RESULTS_DIR/<space>/<run-id>/ holds config.json, trials.parquet, trials.csv, pareto.csv, genomes/<key>.json,
pareto.png and optuna.journal (open it with `optuna-dashboard optuna.journal`). A run never overwrites another.

examples:
  python -m runners.search --space resnet_family
  python -m runners.search --space mobile_family --trials 50 --epochs 8 --sampler tpe --scheduler asha
  python -m runners.search --space lecture --seed-zoo --dataset cifar10 --data-dir ~/data --resolution 32
  python -m runners.search --address auto --gpus-per-trial 0.25 --storage-path /shared/ray --trials 500
  python -m runners.search --resume results/resnet_family/20261122-101500-1a2b3c
  python -m runners.search --benchmark results/tabular/resnet_compact-distorted_digits.parquet --trials 200
"""


def flops_budget(text: str) -> str | float:
    return text if text in ("auto", "none") else positive_float(text)


def build_parser() -> argparse.ArgumentParser:
    from nasbench.search.settings import SAMPLERS, SCHEDULERS, SearchSettings
    from search_spaces import list_spaces

    def option(group, name: str, **kwargs) -> None:
        add_setting(group, SearchSettings, name, **kwargs)

    p = parser("search", "Search a genome space for the accuracy/cost Pareto front: Ray Tune runs the trials "
                         "(locally or on a cluster), Optuna samples the genomes, costs are fvcore-exact.")
    p.epilog = EPILOG
    space = p.add_argument_group("what to search")
    option(space, "space", type=choice("space", list_spaces()),
           help="search space (python -m runners.spaces lists them)")
    option(space, "objectives", type=str, help="accuracy (or a zero-cost proxy: synflow, naswot, snip, grad_norm, "
                                                "fisher) and one or more costs: flops, params, latency "
                                                "(accuracy,flops or accuracy:max,flops:min); without accuracy "
                                                "nothing is trained (a zero-cost search)")
    option(space, "max_flops", type=flops_budget)
    option(space, "max_params", type=positive_float)
    option(space, "seed_zoo", action="store_true")
    option(space, "benchmark", metavar="FILE")
    add_data_options(p.add_argument_group("data and training"), SearchSettings)
    search = p.add_argument_group("search")
    option(search, "trials", type=int)
    option(search, "seed", type=int)
    option(search, "sampler", type=choice("sampler", SAMPLERS))
    option(search, "scheduler", type=choice("scheduler", SCHEDULERS))
    option(search, "allow_repeats", action="store_true")
    option(search, "prefilter", metavar="PROXY:K")
    search.add_argument("--resume", metavar="RUN_DIR", help="continue an interrupted run to its trial count")
    ray = p.add_argument_group("resources and storage")
    option(ray, "cpus_per_trial", type=positive_float)
    option(ray, "gpus_per_trial", type=float)
    option(ray, "concurrency", type=int)
    ray.add_argument("--no-reuse-actors", dest="reuse_actors", action="store_false",
                     help="start a fresh Ray worker process for every trial (isolation; about 2 s more per trial)")
    option(ray, "address")
    option(ray, "storage_path")
    option(ray, "optuna_storage")
    option(ray, "results_dir")
    option(ray, "max_failures", type=int)
    return p


def settings_from(args: argparse.Namespace, given: set[str] = frozenset()):
    """The settings of a new run; with --benchmark, options not `given` take the table's values."""
    from nasbench.objectives import search_objectives
    from nasbench.search import SearchSettings
    from nasbench.tabular.benchmark import manifest_settings
    from nasbench.tabular.table import read_manifest, require_file

    values = {f.name: getattr(args, f.name) for f in dataclasses.fields(SearchSettings) if hasattr(args, f.name)}
    values["objectives"] = search_objectives(args.objectives) if isinstance(args.objectives, str) else args.objectives
    values["results_dir"] = os.path.abspath(args.results_dir)
    values["storage_path"] = os.path.abspath(args.storage_path) if args.storage_path else None
    if args.benchmark:
        values["benchmark"] = str(require_file(os.path.abspath(args.benchmark)))
        values.update({name: value for name, value in manifest_settings(read_manifest(values["benchmark"])).items()
                       if flag(name) not in given})
    return SearchSettings(**values)


def shorten(genome: str, width: int = 90) -> str:
    """A genome string that fits a table cell: the stem (the same for the whole space) is left out first."""
    if len(genome) <= width:
        return genome
    head, sep, rest = genome.partition("|stem:")
    if sep and "|body:" in rest:
        genome = f"{head}|...|body:{rest.split('|body:', 1)[1]}"
    return genome if len(genome) <= width else genome[:width - 3] + "..."


def print_summary(outcome) -> None:
    from nasbench.objectives import ZERO_COST
    from nasbench.record import describe_counts, state_counts

    front, table = outcome.front, outcome.trials
    print(f"\n{describe_counts(state_counts(table), trains=outcome.trains)}")
    if len(front):
        print(f"Pareto front ({len(front)} genomes):")
        scores = [name for name in ("accuracy", "test_accuracy", *ZERO_COST) if front[name].notna().any()]
        shown = front[["number", "key", *scores, "flops", "params", "zoo_name", "genome"]].copy()
        shown["genome"] = shown["genome"].map(shorten)
        formats = {"accuracy": "{:.4f}".format, "test_accuracy": "{:.4f}".format, "flops": "{:,.0f}".format,
                   "params": "{:,.0f}".format, **dict.fromkeys(ZERO_COST, "{:.4g}".format)}
        print(shown.to_string(index=False, formatters=formats))
    written = ["config.json", "trials.parquet", "trials.csv", "pareto.csv", "genomes/", "pareto.png", "optuna.journal"]
    print(f"\nwritten to {outcome.run_dir}: "
          + " ".join(name for name in written if (outcome.run_dir / name.rstrip("/")).exists()))


def main(argv: list[str] | None = None) -> None:
    args = build_parser().parse_args(argv)
    quiet_ray()
    from nasbench.gene import GenomeError
    from nasbench.search import resume_search, run_search, run_settings
    from nasbench.search.runner import SearchFailed
    from search_spaces import get_space

    given = given_options(argv if argv is not None else sys.argv[1:])
    try:
        if args.resume:
            if extra := sorted(given - {"--resume", "--trials"}):
                fail(f"--resume continues a run with the settings in its config.json; only --trials may change "
                     f"(got {', '.join(extra)})")
            space = get_space(run_settings(args.resume).space)
            outcome = resume_search(args.resume, space, **({"trials": args.trials} if "--trials" in given else {}))
        else:
            settings = settings_from(args, given)
            outcome = run_search(settings, get_space(settings.space))
    except (ValueError, KeyError, GenomeError, OSError) as exc:  # OSError: unwritable results folder, disk full, ...
        fail_from(exc)
    except SearchFailed as exc:  # not the input's fault: one line, exit code 1
        fail(str(exc), code=1)
    print_summary(outcome)
    if outcome.interrupted:
        print(f"continue with: python -m runners.search --resume {outcome.run_dir}")
        raise SystemExit(130)  # the shell's code for Ctrl-C: the run is incomplete (resumable)


if __name__ == "__main__":
    main()
