"""Zero-cost searches judged on a tabular benchmark: is a front found without training worth training?

    python bench/zero_cost_search.py [--benchmark FILE] [--trials 200] [--seeds 3] [--proxies snip,naswot]

For each proxy and seed, a real zero-cost search (`runners.search --objectives PROXY,flops`: Ray Tune trials,
Optuna's default sampler, nothing trained) runs over the table's space, data and input. Its front's members are then
looked up in the table: their mean trained validation accuracy against FLOPs gives the front's normalised
hypervolume (as `runners.compare` normalises it), and training them costs the table's mean training time per member
(the proxy scoring itself, <= 0.07 s per genome of resnet_compact, is not counted). Random search replayed over the
table gives the yardstick: its final median hypervolume after `--trials` trials, its median simulated time, and its
median hypervolume after the same training time as each zero-cost front. The last line reads, for the best proxy:
`zero-cost <proxy>: hypervolume <h> (random <r> at the same training time, <f> after <n> trials) for <t> s of training`.
"""
from __future__ import annotations

import argparse
import sys
import tempfile
from pathlib import Path

import numpy as np
import pandas as pd
import ray

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from nasbench.analysis.fronts import hypervolume  # noqa: E402
from nasbench.analysis.strategies import anytime_hypervolume, value_at  # noqa: E402
from nasbench.objectives import ZERO_COST, as_columns  # noqa: E402
from nasbench.search import SearchSettings, run_search  # noqa: E402
from nasbench.tabular.benchmark import table_settings  # noqa: E402
from nasbench.tabular.compare import hypervolume_box, member_means  # noqa: E402
from nasbench.tabular.replay import replay  # noqa: E402
from nasbench.tabular.table import Table  # noqa: E402
from search_spaces import get_space  # noqa: E402

TABLE = ROOT / "results" / "tabular" / "resnet_compact-distorted_digits.parquet"
OBJECTIVES = {"accuracy": "max", "flops": "min"}


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--benchmark", type=Path, default=TABLE)
    p.add_argument("--trials", type=int, default=200)
    p.add_argument("--seeds", type=int, default=3)
    p.add_argument("--random-seeds", type=int, default=20)
    p.add_argument("--proxies", default=",".join(ZERO_COST))
    args = p.parse_args()
    table = Table(args.benchmark)
    base = {k: v for k, v in table_settings(table).items() if k != "benchmark"}
    space = get_space(base["space"])
    members = member_means(table, SearchSettings(**base))
    reference, box = hypervolume_box(members, as_columns(OBJECTIVES))
    train_time = table.frame.groupby("key")["wall_time_s"].mean()

    curves = []
    for seed in range(args.random_seeds):
        trials = replay(space, table, "random", args.trials, seed)
        curves.append(anytime_hypervolume(trials, as_columns(OBJECTIVES), reference))
    random_hv = float(np.median([c["hypervolume"].iloc[-1] / box for c in curves]))
    random_time = float(np.median([c["time_s"].iloc[-1] for c in curves]))

    def random_at(seconds: float) -> float:
        """Random search's median normalised hypervolume after `seconds` of simulated training."""
        return float(np.median([value_at(c["time_s"], c["hypervolume"], [seconds])[0] / box for c in curves]))

    print(f"random ({args.random_seeds} seeds x {args.trials} trials): median hypervolume {random_hv:.4f}, "
          f"median simulated time {random_time:.0f} s")

    ray.init(num_cpus=2, include_dashboard=False, log_to_driver=False)
    rows = []
    with tempfile.TemporaryDirectory() as folder:
        for proxy in args.proxies.split(","):
            for seed in range(args.seeds):
                settings = SearchSettings(**{**base, "objectives": (proxy, "flops"), "trials": args.trials,
                                             "seed": seed, "results_dir": folder})
                outcome = run_search(settings, space, log=lambda line: None)
                keys = list(outcome.front["key"])
                front = members.loc[keys].rename(columns={"val_accuracy": "accuracy"})
                volume = hypervolume(front, as_columns(OBJECTIVES), reference) / box
                spent = float(train_time.loc[keys].sum())
                rows.append({"proxy": proxy, "seed": seed, "front": len(keys), "hypervolume": volume,
                             "train_time_s": spent})
                print(f"{proxy} seed {seed}: front {len(keys)}, hypervolume {volume:.4f}, "
                      f"{spent:.0f} s to train it", flush=True)
    ray.shutdown()
    frame = pd.DataFrame(rows)
    summary = frame.groupby("proxy", sort=False).agg(
        front=("front", "median"), hypervolume=("hypervolume", "mean"), hv_std=("hypervolume", "std"),
        train_time_s=("train_time_s", "median"))
    summary["random_at_that_time"] = summary["train_time_s"].map(random_at)
    summary["share_of_random_time"] = summary["train_time_s"] / random_time
    print(summary.to_string(float_format=lambda v: f"{v:.4g}"))
    best = summary["hypervolume"].idxmax()
    row = summary.loc[best]
    print(f"zero-cost {best}: hypervolume {row['hypervolume']:.4f} (random {row['random_at_that_time']:.4f} at the "
          f"same training time, {random_hv:.4f} after {args.trials} trials) for {row['train_time_s']:.0f} s of "
          f"training")


if __name__ == "__main__":
    main()
