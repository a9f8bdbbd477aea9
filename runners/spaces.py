"""python -m runners.spaces: the search spaces, their parameters and canonical members, or random samples."""
from __future__ import annotations

import json

from nasbench.cost import analytic_cost
from nasbench.errors import did_you_mean
from nasbench.space import DEFAULT_INPUT, SearchSpace, random_samples
from runners.cli import fail, parser
from search_spaces import get_space, list_spaces


def describe(space: SearchSpace) -> dict:
    """One space: its parameters and its members with their analytic cost."""
    members = []
    for name, genome in space.members().items():
        cost = analytic_cost(genome)
        members.append({"name": name, "params": cost.params, "flops": cost.flops, "genome": genome.to_dict()})
    return {"name": space.name, "summary": space.summary,
            "input": {"in_chans": space.in_chans, "resolution": space.resolution, "num_classes": space.num_classes},
            "parameters": space.parameters(), "members": members}


def _space_table(info: dict) -> str:
    lines = [f"{info['name']}: {info['summary']}", "  parameters:"]
    lines += [f"    {name:22s} {text}" for name, text in info["parameters"].items()]
    shape = info["input"]
    lines.append(f"  members (costs at {shape['in_chans']}x{shape['resolution']}x{shape['resolution']} input, "
                 f"{shape['num_classes']} classes):")
    lines += [f"    {m['name']:30s} {m['params']:>13,d} params {m['flops']:>16,d} FLOPs" for m in info["members"]]
    return "\n".join(lines)


def _sample_table(rows: list[dict]) -> str:
    from nasbench.genome import Genome

    return "\n".join(f"{i:4d} {row['params']:>13,d} params {row['flops']:>16,d} FLOPs  "
                     f"{Genome.from_dict(row['genome']).to_str()}" for i, row in enumerate(rows))


def main(argv: list[str] | None = None) -> None:
    p = parser("spaces", "List the search spaces (parameters, canonical zoo members adapted to the input), or "
                         "draw random genomes from one. Defaults: the digits dataset (1x16x16, 10 classes).")
    p.add_argument("--space", help="only this space (see the list without --space)")
    p.add_argument("--sample", type=int, metavar="N", help="print N random genomes of --space instead")
    p.add_argument("--seed", type=int, default=0, help="seed of Optuna's RandomSampler for --sample")
    p.add_argument("--format", choices=("table", "json"), default="table")
    p.add_argument("--in-chans", type=int, default=DEFAULT_INPUT["in_chans"], help="input channels")
    p.add_argument("--resolution", type=int, default=DEFAULT_INPUT["resolution"], help="input height and width")
    p.add_argument("--num-classes", type=int, default=DEFAULT_INPUT["num_classes"], help="classes")
    p.add_argument("--max-flops", type=float, help="FLOP budget: samples over it are drawn again")
    p.add_argument("--max-params", type=float, help="parameter budget: samples over it are drawn again")
    args = p.parse_args(argv)
    names = [args.space] if args.space else list_spaces()
    if args.space and args.space not in list_spaces():
        fail(did_you_mean("space", args.space, list_spaces()))
    if args.sample is not None and (not args.space or args.sample < 1):
        fail("--sample N needs --space NAME and N >= 1")
    try:
        spaces = [get_space(name, in_chans=args.in_chans, resolution=args.resolution, num_classes=args.num_classes,
                            max_flops=args.max_flops, max_params=args.max_params) for name in names]
    except ValueError as exc:
        fail(str(exc))
    if args.sample is not None:
        try:
            rows = random_samples(spaces[0], args.sample, args.seed)
        except ValueError as exc:
            fail(str(exc))
        print(json.dumps(rows, indent=2) if args.format == "json" else _sample_table(rows))
        return
    infos = [describe(space) for space in spaces]
    print(json.dumps(infos, indent=2) if args.format == "json" else "\n\n".join(map(_space_table, infos)))


if __name__ == "__main__":
    main()
