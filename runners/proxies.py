"""python -m runners.proxies: how well zero-cost proxies (and FLOPs and params beside them) rank the members of a
tabular benchmark by their trained validation accuracy."""
from __future__ import annotations

import argparse
import json
import sys

from runners.cli import fail_from, parser

EPILOG = """\
Each member is built, initialised with --seed and scored on one seeded minibatch of the table's training split
(nasbench.proxies documents each proxy's choices); accuracy is the member's final validation accuracy, mean over
the table's seeds. Correlations come with paired percentile-bootstrap 95 % intervals (_low, _high).

examples:
  python -m runners.proxies --benchmark results/tabular/resnet_compact-distorted_digits.parquet --members 200
  python -m runners.proxies --benchmark FILE --proxies synflow,naswot,flops --format json
"""


def build_parser() -> argparse.ArgumentParser:
    from nasbench.proxies import PROXIES

    p = parser("proxies", "Rank correlation of zero-cost proxies (and of FLOPs and params) with the validation "
                          "accuracy a tabular benchmark recorded.")
    p.epilog = EPILOG
    p.add_argument("--benchmark", metavar="FILE", required=True, help="a table built by python -m runners.tabulate")
    p.add_argument("--proxies", default=",".join(PROXIES), help="proxies to score, comma-separated")
    p.add_argument("--members", type=int, default=None, help="score a seeded sample of this many members "
                                                              "(default: every member)")
    p.add_argument("--data-dir", default=None, help="folder with the dataset files, for tables of datasets that are "
                                                     "not embedded")
    p.add_argument("--seed", type=int, default=0, help="seed of the initialisation, the minibatch and the sample")
    p.add_argument("--format", choices=("table", "json"), default="table", help="output format")
    return p


def main(argv: list[str] | None = None) -> None:
    args = build_parser().parse_args(sys.argv[1:] if argv is None else argv)
    from nasbench.data import load_dataset
    from nasbench.proxies import PROXIES
    from nasbench.tabular.proxy_ranking import correlations, member_accuracy, proxy_scores
    from nasbench.tabular.table import Table, TableError

    try:
        names = [name.strip() for name in args.proxies.split(",") if name.strip()]
        unknown = [name for name in names if name not in PROXIES]
        if unknown or not names:
            raise ValueError(f"unknown proxy {unknown[0]!r}; the proxies are {', '.join(PROXIES)}" if unknown
                             else "no proxies given")
        if args.members is not None and args.members < 3:
            raise ValueError(f"--members must be at least 3 to correlate (got {args.members})")
        table = Table(args.benchmark)
        settings = table.manifest["settings"]
        dataset = load_dataset(settings["dataset"], args.data_dir, resolution=settings["resolution"],
                               seed=settings["seed"], limit=settings["limit"])
    except (ValueError, KeyError, TableError, OSError) as exc:
        fail_from(exc)
    members = member_accuracy(table)
    if args.members is not None and args.members < len(members):
        members = members.sample(args.members, random_state=args.seed).sort_index()
    log = (lambda line: print(line, file=sys.stderr)) if args.format == "json" else print
    found = correlations(proxy_scores(members, dataset, names, args.seed, log), names, seed=args.seed)
    if args.format == "json":
        print(json.dumps(found.to_dict(orient="records"), indent=2))
        return
    shown = found[["proxy", "members", "spearman", "spearman_low", "spearman_high", "kendall", "spearman_top10",
                   "kendall_top10"]]
    print(shown.to_string(index=False, float_format=lambda v: f"{v:.3f}"))


if __name__ == "__main__":
    main()
