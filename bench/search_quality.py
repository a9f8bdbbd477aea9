"""Does the default sampler find better fronts than random sampling, and how much sooner? Every sampler replayed on
the shipped tabular benchmark with many seeds (`python -m runners.compare`'s comparison, in process), written to a
results folder, then one line for the default sampler.

    python bench/search_quality.py [--table results/tabular/resnet_compact-distorted_digits.parquet]
                                   [--samplers random,nsga2,tpe,rea,reinforce] [--seeds 20] [--trials 200]
                                   [--scheduler fifo] [--out bench/out/search_quality]

Prints the comparison's final table, then as its last line:
`default sampler (<name>) reaches random's final hypervolume in <P>% of the trials (median over <S> seeds)`
where P is the median over seeds of the trials the default sampler takes to reach the median of random's final
hypervolumes, as a share of the trials (`>100` when at least half its seeds never reach it).
"""
from __future__ import annotations

import argparse
import math
import sys

from nasbench.atomic import new_run_folder
from nasbench.search import SearchSettings
from nasbench.tabular import Table
from nasbench.tabular.compare import CompareSettings, compare_samplers
from nasbench.tabular.compare_report import write_comparison
from search_spaces import get_space

SHIPPED = "results/tabular/resnet_compact-distorted_digits.parquet"


def main() -> None:
    defaults = CompareSettings()
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--table", default=SHIPPED)
    parser.add_argument("--samplers", default=",".join(defaults.samplers))
    parser.add_argument("--seeds", type=int, default=defaults.seeds)
    parser.add_argument("--trials", type=int, default=defaults.trials)
    parser.add_argument("--scheduler", default=defaults.scheduler)
    parser.add_argument("--out", default="bench/out/search_quality")
    args = parser.parse_args()
    table = Table(args.table)
    samplers = tuple(args.samplers.split(","))
    comparison = compare_samplers(get_space(table.space), table, samplers, args.seeds, args.trials,
                                  scheduler=args.scheduler)
    folder = new_run_folder(args.out)
    write_comparison(folder, comparison, " ".join(["python", *sys.argv]))
    print(comparison.summary.to_string(float_format=lambda v: f"{v:.4g}"))
    print(comparison.regret.to_string(float_format=lambda v: f"{v:.4f}"))
    print(f"written to {folder}")
    default = SearchSettings().sampler
    reach = comparison.summary.loc[default, "trials_to_baseline"]
    share = ">100" if math.isnan(reach) else f"{100 * reach / args.trials:.0f}"
    print(f"default sampler ({default}) reaches random's final hypervolume in {share}% of the trials (median over "
          f"{args.seeds} seeds)")


if __name__ == "__main__":
    main()
