"""Wall time of a Ray Tune search vs a plain Optuna loop over the same trials.

    python bench/search_overhead.py [--trials 24] [--epochs 4] [--repeats 2] [--space resnet_family]
                                    [--max-flops 2e7]

Both sides evaluate the same genomes (RandomSampler with one seed, one trial at a time, 2 torch threads per
trial; samples over the FLOP budget, the default search's 2e7 on digits, are skipped and sampled again on both
sides) with the same trainer on digits; the Ray side is the real runner (nasbench.search.run_search) attached
to an already-started local Ray instance, so cluster start-up is not counted but Tune's per-trial machinery is.
Runs alternate (Ray, plain, Ray, plain, ...); the figure is the ratio of the medians.
Last line: `ray tune vs plain optuna wall time: <N>x`.
"""
from __future__ import annotations

import argparse
import dataclasses
import os
import statistics
import tempfile
import time

import optuna
import ray

from nasbench.cost import analytic_cost
from nasbench.data import load_dataset
from nasbench.record import trained_rows
from nasbench.search import SearchSettings, run_search
from nasbench.search.trial import TrialContext
from nasbench.train import evaluate
from search_spaces import get_space


def plain_optuna(settings: SearchSettings) -> tuple[float, list[str]]:
    dataset = load_dataset(settings.dataset, seed=settings.seed)
    space = get_space(settings.space, in_chans=dataset.in_chans, resolution=dataset.resolution,
                      num_classes=dataset.num_classes)
    study = optuna.create_study(directions=["maximize", "minimize"],
                                sampler=optuna.samplers.RandomSampler(seed=settings.seed))
    space = space.for_input(dataset.in_chans, dataset.resolution, dataset.num_classes, settings.flops_budget)
    context = TrialContext(settings, {})
    start = time.perf_counter()
    keys = []

    def reject(trial, genome, reason) -> None:
        study.tell(trial, state=optuna.trial.TrialState.FAIL)

    while len(keys) < settings.trials:
        trial, genome = space.sample_within_budget(study.ask, reject, max_draws=1000)
        result = evaluate(genome, dataset, context.train_config(settings.seed + trial.number), test=True)
        keys.append(genome.key())
        study.tell(trial, [result.val_accuracy, analytic_cost(genome).flops])
    return time.perf_counter() - start, keys


def ray_tune(settings: SearchSettings) -> tuple[float, list[str]]:
    with tempfile.TemporaryDirectory() as folder:
        start = time.perf_counter()
        outcome = run_search(dataclasses.replace(settings, results_dir=folder), get_space(settings.space),
                             log=lambda line: None)
        elapsed = time.perf_counter() - start
    trained = trained_rows(outcome.trials)
    return elapsed, list(trained.sort_values("number")["key"])


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--trials", type=int, default=24)
    p.add_argument("--epochs", type=int, default=4)
    p.add_argument("--repeats", type=int, default=2)
    p.add_argument("--space", default="resnet_family")
    p.add_argument("--max-flops", type=float, default=2e7, help="FLOP budget (0: none)")
    args = p.parse_args()
    os.environ.setdefault("RAY_AIR_NEW_OUTPUT", "0")
    os.environ.setdefault("TUNE_WARN_EXCESSIVE_EXPERIMENT_CHECKPOINT_SYNC_THRESHOLD_S", "0")
    optuna.logging.set_verbosity(optuna.logging.WARNING)
    settings = SearchSettings(space=args.space, trials=args.trials, epochs=args.epochs, sampler="random",
                              concurrency=1, cpus_per_trial=2, seed=0, max_flops=args.max_flops or "none")
    os.environ["OMP_NUM_THREADS"] = "2"  # what Ray gives each 2-CPU trial; the plain loop uses the same
    ray.init(num_cpus=2, include_dashboard=False, log_to_driver=False)
    times: dict[str, list[float]] = {"ray": [], "plain": []}
    try:
        for repeat in range(args.repeats):
            t_ray, keys_ray = ray_tune(settings)
            t_plain, keys_plain = plain_optuna(settings)
            if keys_ray != keys_plain:
                raise SystemExit("the two sides evaluated different genomes; the comparison would be unfair")
            times["ray"].append(t_ray)
            times["plain"].append(t_plain)
            print(f"repeat {repeat + 1}: ray tune {t_ray:.1f} s, plain optuna {t_plain:.1f} s "
                  f"({args.trials} trials x {args.epochs} epochs)", flush=True)
    finally:
        ray.shutdown()
    ratio = statistics.median(times["ray"]) / statistics.median(times["plain"])
    print(f"ray tune vs plain optuna wall time: {ratio:.2f}x")


if __name__ == "__main__":
    main()
