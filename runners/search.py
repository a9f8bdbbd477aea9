"""python -m runners.search: multi-objective architecture search with Ray Tune + Optuna, Pareto fronts to results/."""
from __future__ import annotations

import argparse
import math
import os
import sys

from runners.cli import fail, fail_from, parser

EPILOG = """\
outputs: RESULTS_DIR/<space>/<run-id>/ holds config.json, trials.parquet, trials.csv, pareto.csv, genomes/<key>.json,
pareto.png and optuna.journal (open it with `optuna-dashboard optuna.journal`). A run never overwrites another.

examples:
  python -m runners.search --space resnet_family
  python -m runners.search --space mobile_family --trials 50 --epochs 8 --sampler tpe --scheduler asha
  python -m runners.search --space lecture --seed-zoo --dataset cifar10 --data-dir ~/data --resolution 32
  python -m runners.search --address auto --gpus-per-trial 0.25 --storage-path /shared/ray --trials 500
  python -m runners.search --resume results/resnet_family/20261122-101500-1a2b3c
"""


def positive_float(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a number") from None
    if not math.isfinite(value) or value <= 0:
        raise argparse.ArgumentTypeError(f"{text!r} must be a positive number")
    return value


DIGITS_MAX_FLOPS = 2e7  # the default budget on the embedded digits data: keeps the default run laptop-sized


def flops_budget(text: str) -> str | float:
    if text in ("auto", "none"):
        return text
    return positive_float(text)


def resolve_flops_budget(value: str | float, dataset: str) -> float | None:
    """'auto': 2e7 FLOPs on the embedded digits data, no budget elsewhere; 'none': no budget."""
    if value == "auto":
        return DIGITS_MAX_FLOPS if dataset == "digits" else None
    return None if value == "none" else float(value)


def build_parser() -> argparse.ArgumentParser:
    from nasbench.search.settings import SAMPLERS, SCHEDULERS

    p = parser("search", "Search a genome space for the accuracy/cost Pareto front: Ray Tune runs the trials "
                         "(locally or on a cluster), Optuna samples the genomes, costs are fvcore-exact.")
    p.epilog = EPILOG
    p.formatter_class = argparse.RawDescriptionHelpFormatter
    space = p.add_argument_group("what to search")
    space.add_argument("--space", default="resnet_family", help="search space (python -m runners.spaces lists them)")
    space.add_argument("--objectives", default="accuracy,flops",
                       help="accuracy (max) and one or more costs (min): flops, params, latency")
    space.add_argument("--max-flops", type=flops_budget, default="auto",
                       help="FLOP budget: costlier samples are recorded as infeasible, never trained, and sampled "
                            "again; auto = 2e7 on digits, none elsewhere; none = no budget")
    space.add_argument("--max-params", type=positive_float, help="parameter budget")
    space.add_argument("--seed-zoo", action="store_true", help="evaluate the family's canonical architectures first")
    data = p.add_argument_group("data and training")
    data.add_argument("--dataset", default="digits",
                      help="digits (embedded), cifar10, cifar100, mnist, fashion_mnist, imagefolder")
    data.add_argument("--data-dir", help="folder with the dataset files (torchvision layout)")
    data.add_argument("--resolution", type=int, help="input resolution (default: the dataset's)")
    data.add_argument("--limit", type=int, help="use at most this many images per split")
    data.add_argument("--epochs", type=int, default=4, help="training epochs per trial")
    data.add_argument("--batch-size", type=int, default=64)
    data.add_argument("--lr", type=positive_float, default=0.05, help="peak learning rate (SGD, cosine)")
    search = p.add_argument_group("search")
    search.add_argument("--trials", type=int, default=24, help="trials to train (over-budget samples not counted)")
    search.add_argument("--seed", type=int, default=0)
    search.add_argument("--sampler", choices=SAMPLERS, default="nsga2",
                        help="Optuna sampler; grid: every point of a space without conditional or continuous "
                             "parameters (compound, lecture), at most one trial each")
    search.add_argument("--scheduler", choices=SCHEDULERS, default="fifo",
                        help="asha stops weak trials early (recorded as PRUNED, never on the front)")
    search.add_argument("--resume", metavar="RUN_DIR", help="continue an interrupted run to its trial count")
    ray = p.add_argument_group("resources and storage")
    ray.add_argument("--cpus-per-trial", type=positive_float, default=1.0)
    ray.add_argument("--gpus-per-trial", type=float, default=0.0, help="fractions share a GPU between trials")
    ray.add_argument("--concurrency", type=int, default=0, help="trials at once (0: as resources allow)")
    ray.add_argument("--no-reuse-actors", dest="reuse_actors", action="store_false",
                     help="start a fresh Ray worker process for every trial (isolation; about 2 s more per trial)")
    ray.add_argument("--address", help="existing Ray cluster (default: $RAY_ADDRESS, else a local instance)")
    ray.add_argument("--storage-path", help="Ray Tune storage shared by all nodes (default: inside the run folder)")
    ray.add_argument("--optuna-storage", help="database URL for the Optuna study, e.g. postgresql://host/db "
                                              "(default: a journal file in the run folder)")
    ray.add_argument("--results-dir", default="results")
    ray.add_argument("--max-failures", type=int, default=2, help="retries of a trial whose Ray worker died")
    return p


def settings_from(args: argparse.Namespace):
    from nasbench.search import SearchSettings, parse_objectives

    objectives = tuple(parse_objectives(args.objectives))
    return SearchSettings(
        space=args.space, dataset=args.dataset, data_dir=args.data_dir, resolution=args.resolution,
        objectives=objectives, trials=args.trials, epochs=args.epochs, seed=args.seed, sampler=args.sampler,
        scheduler=args.scheduler, cpus_per_trial=args.cpus_per_trial, gpus_per_trial=args.gpus_per_trial,
        concurrency=args.concurrency, reuse_actors=args.reuse_actors,
        max_flops=resolve_flops_budget(args.max_flops, args.dataset), max_params=args.max_params, seed_zoo=args.seed_zoo,
        results_dir=os.path.abspath(args.results_dir), address=args.address,
        storage_path=os.path.abspath(args.storage_path) if args.storage_path else None,
        optuna_storage=args.optuna_storage, batch_size=args.batch_size, lr=args.lr, max_failures=args.max_failures,
        limit=args.limit)


def print_summary(outcome) -> None:
    front, table = outcome.front, outcome.trials
    over_budget = table["failure_reason"].str.startswith("infeasible")
    counts = table.loc[~over_budget, "state"].value_counts().to_dict()
    print(f"\n{int((~over_budget).sum())} trials: " + ", ".join(f"{n} {s.lower()}" for s, n in sorted(counts.items()))
          + (f"; {int(over_budget.sum())} samples over budget, not trained" if over_budget.any() else ""))
    if len(front):
        print(f"Pareto front ({len(front)} genomes):")
        table = front[["number", "accuracy", "test_accuracy", "flops", "params", "zoo_name", "genome"]].copy()
        table["genome"] = table["genome"].str.slice(0, 70)
        print(table.to_string(index=False, float_format=lambda v: f"{v:.4g}"))
    print(f"\nwritten to {outcome.run_dir}: config.json trials.parquet trials.csv pareto.csv genomes/ pareto.png "
          "optuna.journal")


def given_options(argv: list[str]) -> set[str]:
    """The long options written on the command line (`--epochs 3` and `--epochs=3` both give "--epochs")."""
    return {token.split("=", 1)[0] for token in argv if token.startswith("--")}


def main(argv: list[str] | None = None) -> None:
    args = build_parser().parse_args(argv)
    os.environ.setdefault("RAY_AIR_NEW_OUTPUT", "0")  # Ray's own tables off: this runner prints its progress
    os.environ.setdefault("TUNE_WARN_EXCESSIVE_EXPERIMENT_CHECKPOINT_SYNC_THRESHOLD_S", "0")  # one snapshot per trial is by design
    from nasbench.gene import GenomeError
    from nasbench.search import resume_search, run_search

    try:
        if args.resume:
            given = given_options(argv if argv is not None else sys.argv[1:])
            if extra := sorted(given - {"--resume", "--trials"}):
                fail(f"--resume continues a run with the settings in its config.json; only --trials may change "
                     f"(got {', '.join(extra)})")
            outcome = resume_search(args.resume, **({"trials": args.trials} if "--trials" in given else {}))
        else:
            outcome = run_search(settings_from(args))
    except (ValueError, KeyError, GenomeError, OSError) as exc:  # OSError: unwritable results folder, disk full, ...
        fail_from(exc)
    print_summary(outcome)
    if outcome.interrupted:
        raise SystemExit(130)  # the shell's code for Ctrl-C: the run is incomplete (resumable)


if __name__ == "__main__":
    main()
