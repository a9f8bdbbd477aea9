"""python -m runners.train: retrain a search's front member, a zoo architecture or any genome from scratch with the
full recipe, several seeds in parallel as Ray Tune trials, into a folder with the best seed's weights and a model
card."""
from __future__ import annotations

import argparse
import dataclasses
import os
import shlex
import sys

from runners.cli import (
    add_cluster_options,
    add_data_options,
    add_setting,
    choice,
    fail,
    fail_from,
    flag,
    given_options,
    parser,
    quiet_ray,
)

EPILOG = """\
outputs: OUT (default results/retrain/<run-id>/) holds retrain.json (the plan --resume reads), seeds.csv (one row
per seed), model.pt (the weights of the seed with the best validation accuracy), card.json and card.md (the model
card), and ray/ (each seed's checkpoint after every epoch). Then `python -m runners.export OUT` writes model.onnx
and model.ts, and `nasbench.load_model(OUT)` returns the ready module.

examples:
  python -m runners.train --run results/example --member 1 --out results/retrain/example-best
  python -m runners.train --run results/resnet_family/<run-id> --member 287951edad987050 --epochs 60 --seeds 5
  python -m runners.train --zoo resnet20 --dataset cifar10 --data-dir ~/data --epochs 200 --gpus-per-trial 0.5
  python -m runners.train --genome genome.json --dataset distorted_digits
  python -m runners.train --resume results/retrain/20261202-101500-1a2b3c
"""


def build_parser() -> argparse.ArgumentParser:
    from nasbench import zoo
    from nasbench.deploy.settings import AUGMENT_CHOICES, RetrainSettings

    def option(group, name: str, **kwargs) -> None:
        add_setting(group, RetrainSettings, name, **kwargs)

    p = parser("train", "Retrain a genome from scratch with the full recipe (augmentation, warm-up then cosine, "
                        "label smoothing, an EMA of the weights), several seeds in parallel as Ray Tune trials "
                        "(locally or on a cluster); write the best seed's weights and a model card.")
    p.epilog = EPILOG
    source = p.add_argument_group("what to train (one of --run, --genome, --zoo)")
    one = source.add_mutually_exclusive_group()
    one.add_argument("--run", metavar="DIR", help="a search run folder: train a member of its Pareto front "
                                                 "(its dataset, data folder and split seed are used unless given)")
    one.add_argument("--genome", metavar="FILE|STRING", help="a genome: a JSON file, JSON text or a "
                                                             "Genome.to_str() id")
    one.add_argument("--zoo", metavar="NAME", type=choice("zoo architecture", zoo.names()),
                     help="a zoo architecture (python -m runners.zoo), at the dataset's resolution")
    source.add_argument("--member", metavar="RANK|KEY", default="1",
                        help="which member of --run's front: its rank by validation accuracy (1: the most accurate; "
                             "in a zero-cost search, by its proxy) or its genome key")
    data = p.add_argument_group("data and recipe")
    add_data_options(data, RetrainSettings)
    option(data, "seed", type=int)
    option(data, "seeds", type=int)
    option(data, "weight_decay", type=float)
    option(data, "warmup_epochs", type=int)
    option(data, "label_smoothing", type=float)
    option(data, "ema_decay", type=float)
    option(data, "augment", type=choice("augmentation", AUGMENT_CHOICES))
    option(data, "latency_batch", type=int)
    option(data, "out", metavar="DIR")
    p.add_argument("--resume", metavar="DIR", help="continue a killed or interrupted retrain from each seed's newest "
                                                   "checkpoint")
    add_cluster_options(p.add_argument_group("resources"), RetrainSettings)
    return p


def read_source(args: argparse.Namespace, given: set[str]):
    """The genome to train and where it came from, as the flags name it."""
    from nasbench.deploy.source import front_member, given_genome, zoo_member
    from runners.zoo import read_genome

    if "--member" in given and not args.run:
        fail("--member picks a front member of --run DIR; give --run too")
    if args.run:
        return front_member(args.run, args.member)
    if args.genome:
        return given_genome(read_genome(args.genome), args.genome)
    if args.zoo:
        return zoo_member(args.zoo, args.dataset)
    fail("say what to train: --run DIR (a search's front member), --genome FILE|STRING or --zoo NAME; or "
         "--resume DIR")


def settings_from(args: argparse.Namespace, source, given: set[str]):
    """The retrain's settings: the flags, and where a flag is not given, what the source implies (a search run's
    dataset, data folder and split seed)."""
    from nasbench.deploy.settings import RetrainSettings

    values = {f.name: getattr(args, f.name) for f in dataclasses.fields(RetrainSettings) if hasattr(args, f.name)}
    values.update({name: value for name, value in source.data.items() if flag(name) not in given})
    for name in ("data_dir", "storage_path", "out"):  # retrain.json is read back from anywhere; Ray wants them so
        values[name] = os.path.abspath(values[name]) if values[name] else None
    return RetrainSettings(**values)


def print_summary(outcome) -> None:
    import pandas as pd

    if outcome.seeds:
        table = pd.DataFrame([dataclasses.asdict(s) for s in outcome.seeds])
        print("\n" + table[["seed", "status", "epochs", "val_accuracy", "test_accuracy", "wall_time_s",
                            "resumed_from"]].to_string(index=False, float_format="{:.4f}".format))
    if outcome.card is None:
        return
    accuracy, model = outcome.card.fields["accuracy"], outcome.card.fields["model"]
    seeds = len(outcome.card.fields["seeds"])
    print(f"\ntest accuracy {_spread(accuracy['test'])} over {seeds} seed(s) (validation {_spread(accuracy['val'])}); "
          f"seed {model['selected_seed']} has the best validation accuracy: its weights are model.pt")
    print(f"written to {outcome.folder}: retrain.json seeds.csv model.pt card.json card.md")
    print(f"next: python -m runners.export {outcome.folder}")


def _spread(summary: dict) -> str:
    return f"{summary['mean']:.4f}" + (f" ± {summary['std']:.4f}" if summary["std"] is not None else "")


def main(argv: list[str] | None = None) -> None:
    argv = sys.argv[1:] if argv is None else argv
    args = build_parser().parse_args(argv)
    quiet_ray()
    from nasbench.deploy.retrain import RetrainFailed, resume_retrain, retrain
    from nasbench.gene import GenomeError

    given = given_options(argv)
    command = shlex.join(["python", "-m", "runners.train", *argv])
    try:
        if args.resume:
            if extra := sorted(given - {"--resume"}):
                fail(f"--resume continues a retrain with the settings in its retrain.json; no other option may be "
                     f"given (got {', '.join(extra)})")
            outcome = resume_retrain(args.resume, command)
        else:
            source = read_source(args, given)
            outcome = retrain(settings_from(args, source, given), source, command)
    except (ValueError, KeyError, GenomeError, OSError) as exc:
        fail_from(exc)
    except RetrainFailed as exc:  # not the input's fault: one line, exit code 1
        fail(str(exc), code=1)
    print_summary(outcome)
    if outcome.interrupted:
        print(f"continue with: python -m runners.train --resume {outcome.folder}")
        raise SystemExit(130)


if __name__ == "__main__":
    main()
