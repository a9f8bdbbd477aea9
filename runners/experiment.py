"""python -m runners.experiment NAME: one of the course decks' training experiments at small scale, every arm trained
with several seeds as Ray Tune trials; writes a run folder with the table, the claims' verdicts and the curves."""
from __future__ import annotations

import argparse
import dataclasses
import os
import sys

from runners.cli import add_setting, choice, fail, fail_from, given_options, parser, positive_float, quiet_ray

EPILOG = """\
experiments (see results/example/lecture/ and the README's "The lecture's experiments"):
  degradation  plain vs residual CIFAR ResNets at 20, 32, 44 and 56 layers: training and test error curves
  all_cnn      Model C (max-pooling) vs Strided-CNN-C vs ConvPool-CNN-C vs All-CNN-C, at a quarter of the width
  activations  ReLU vs tanh vs sigmoid in a four-layer CNN without BN: epochs to a 25 % training error
  batchnorm    a VGG-style stack with and without BN at learning rates 0.01, 0.05 and 0.25
  transfer     pre-trained on digits 0-4, then digits 5-9 from 20 labels per class: from scratch, fine-tuned, or a
               linear classifier on the frozen features

Writes RESULTS_DIR/lecture/NAME/<run-id>/: config.json, runs.csv (one row per training), curves.csv (per epoch),
summary.csv, verdicts.csv (one row per claim), curves.png and report.md. A run never overwrites another.
--resume RUN_DIR continues an interrupted run with the settings in its config.json (no other option may be given):
trainings already in its runs.csv are kept. Ctrl-C prints the command that continues the run.

examples:
  python -m runners.experiment degradation
  python -m runners.experiment activations --seeds 5 --epochs 20
  python -m runners.experiment transfer --address auto --gpus-per-trial 0.25
  python -m runners.experiment --resume results/lecture/degradation/20261203-101500-1a2b3c
"""


def build_parser() -> argparse.ArgumentParser:
    from nasbench.data import DATASETS
    from nasbench.lecture.experiments import EXPERIMENTS
    from nasbench.lecture.trials import ExperimentSettings

    def option(name: str, **kwargs) -> None:
        add_setting(p, ExperimentSettings, name, **kwargs)

    p = parser("experiment", "One of the course decks' training experiments, each arm with several seeds as Ray Tune "
                             "trials, judged claim by claim.")
    p.epilog = EPILOG
    p.add_argument("experiment", nargs="?", type=choice("experiment", EXPERIMENTS), help="the experiment to run")
    option("seeds", type=int)
    option("epochs", type=int)
    option("dataset", type=choice("dataset", DATASETS))
    option("data_dir")
    option("limit", type=int)
    option("batch_size", type=int)
    option("cpus_per_trial", type=positive_float)
    option("gpus_per_trial", type=float)
    option("address")
    option("results_dir")
    p.add_argument("--resume", metavar="RUN_DIR", help="continue an interrupted run folder with its own settings")
    return p


def main(argv: list[str] | None = None) -> None:
    argv = sys.argv[1:] if argv is None else argv
    args = build_parser().parse_args(argv)
    if args.resume and (args.experiment or (extra := sorted(given_options(argv) - {"--resume"}))):
        fail("--resume continues a run with the settings in its config.json; give no experiment and no other option"
             + ("" if args.experiment else f" (got {', '.join(extra)})"))
    if not args.resume and not args.experiment:
        fail("name an experiment (degradation, all_cnn, activations, batchnorm, transfer) or --resume RUN_DIR")
    quiet_ray()
    from nasbench.errors import SettingError
    from nasbench.gene import GenomeError
    from nasbench.lecture.trials import ExperimentSettings, Interrupted, resume_experiment, run_experiment

    try:
        if args.resume:
            outcome = resume_experiment(args.resume, log=log)
        else:
            values = {f.name: getattr(args, f.name) for f in dataclasses.fields(ExperimentSettings)}
            settings = ExperimentSettings(**{**values, "results_dir": os.path.abspath(args.results_dir)})
            outcome = run_experiment(settings, log=log)
    except (ValueError, GenomeError, SettingError, OSError) as exc:
        fail_from(exc)
    except Interrupted as stop:  # Ctrl-C: what was trained is kept
        print(f"\ninterrupted; continue with: python -m runners.experiment --resume {stop.run_dir}")
        raise SystemExit(130) from None
    print()
    print((outcome.run_dir / "report.md").read_text())
    print(f"written to {outcome.run_dir}")


def log(line: str) -> None:
    print(line, flush=True)


if __name__ == "__main__":
    main()
