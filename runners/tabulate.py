"""python -m runners.tabulate: train every member of a space (or a seeded sample) once per seed under Ray Tune, into
one Parquet table plus its manifest, which `python -m runners.search --benchmark FILE` replays in seconds."""
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
    fail_from,
    parser,
    positive_float,
    quiet_ray,
)

EPILOG = """\
outputs: OUT (default results/tabular/<space>-<dataset>.parquet), one row per (genome key, seed) with per-epoch
validation/test accuracy and loss as lists, and OUT's manifest (<name>.manifest.json) beside it. Running the same
command again trains only what the table lacks: an interrupted build continues, and more seeds or members extend it.

examples:
  python -m runners.tabulate --space resnet_compact --dataset distorted_digits --epochs 4 --seeds 2
  python -m runners.tabulate --space resnet_family --members 200 --max-flops 5e6 --out results/tabular/rf200.parquet
  python -m runners.tabulate --address auto --gpus-per-trial 0.25 --storage-path /shared/ray --dataset cifar10
"""


def build_parser() -> argparse.ArgumentParser:
    from nasbench.tabular.settings import TabulateSettings
    from search_spaces import list_spaces

    def option(group, name: str, **kwargs) -> None:
        add_setting(group, TabulateSettings, name, **kwargs)

    p = parser("tabulate", "Train every member of a search space once per seed (Ray Tune, locally or on a cluster) "
                           "into a tabular benchmark: one Parquet table plus its manifest; resumable.")
    p.epilog = EPILOG
    what = p.add_argument_group("what to tabulate")
    option(what, "space", type=choice("space", list_spaces()), help="search space (python -m runners.spaces)")
    option(what, "seeds", type=int)
    option(what, "members", type=int)
    option(what, "seed", type=int)
    option(what, "max_flops", type=positive_float)
    option(what, "max_params", type=positive_float)
    option(what, "out")
    add_data_options(p.add_argument_group("data and training"), TabulateSettings)
    add_cluster_options(p.add_argument_group("resources"), TabulateSettings)
    return p


def main(argv: list[str] | None = None) -> None:
    argv = sys.argv[1:] if argv is None else argv
    args = build_parser().parse_args(argv)
    quiet_ray()
    from nasbench.gene import GenomeError
    from nasbench.tabular.build import tabulate
    from nasbench.tabular.settings import TabulateSettings
    from search_spaces import get_space

    command = shlex.join(["python", "-m", "runners.tabulate", *argv])
    try:
        values = {f.name: getattr(args, f.name) for f in dataclasses.fields(TabulateSettings) if hasattr(args, f.name)}
        values["storage_path"] = os.path.abspath(args.storage_path) if args.storage_path else None
        outcome = tabulate(TabulateSettings(**values), get_space(args.space), command)
    except (ValueError, KeyError, GenomeError, OSError) as exc:
        fail_from(exc)
    print(f"\n{outcome.path}: {outcome.rows} rows ({outcome.added} added in {outcome.wall_time_s:.0f} s"
          + (f", {outcome.failed} trainings raised and are missing" if outcome.failed else "") + ")")
    if outcome.interrupted or outcome.failed:
        print(f"continue with: {command}")
        raise SystemExit(130 if outcome.interrupted else 1)


if __name__ == "__main__":
    main()
