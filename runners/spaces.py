"""python -m runners.spaces: the search spaces, their parameters and canonical members, or random samples."""
from __future__ import annotations

import json

import optuna

from nasbench.cost import analytic_cost
from runners.cli import fail, parser
from search_spaces import get_space, list_spaces
from search_spaces.base import SearchSpace


MAX_DRAWS_PER_SAMPLE = 50  # with a budget: samples drawn per genome kept before giving up


def describe(space: SearchSpace) -> dict:
    """One space: its parameters and its members with their analytic cost."""
    members = []
    for name, genome in space.members().items():
        cost = analytic_cost(genome)
        members.append({"name": name, "params": cost.params, "flops": cost.flops, "genome": genome.to_dict()})
    return {"name": space.name, "summary": space.summary, "parameters": space.parameters(), "members": members}


def samples(space: SearchSpace, count: int, seed: int) -> list[dict]:
    """`count` within-budget genomes drawn by Optuna's RandomSampler(seed), with the suggestions that gave them.

    Over-budget draws are told to the study as failed and drawn again, as in a search; ValueError when
    `count` genomes within the budget are not found in MAX_DRAWS_PER_SAMPLE * count draws."""
    optuna.logging.set_verbosity(optuna.logging.WARNING)
    study = optuna.create_study(sampler=optuna.samplers.RandomSampler(seed=seed))
    out = []
    for _ in range(MAX_DRAWS_PER_SAMPLE * count):
        if len(out) == count:
            break
        trial = study.ask()
        genome = space.sample(trial)
        if space.over_budget(genome):
            study.tell(trial, state=optuna.trial.TrialState.FAIL)
            continue
        cost = analytic_cost(genome)
        out.append({"genome": genome.to_dict(), "params": cost.params, "flops": cost.flops,
                    "parameters": trial.params})
        study.tell(trial, 0.0)
    if len(out) < count:
        raise ValueError(f"only {len(out)} of {count} samples fit the budget in {MAX_DRAWS_PER_SAMPLE * count} "
                         f"draws; raise --max-flops/--max-params")
    return out


def _space_table(info: dict) -> str:
    lines = [f"{info['name']}: {info['summary']}", "  parameters:"]
    lines += [f"    {name:22s} {text}" for name, text in info["parameters"].items()]
    lines.append("  members:")
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
    p.add_argument("--in-chans", type=int, default=1, help="input channels")
    p.add_argument("--resolution", type=int, default=16, help="input height and width")
    p.add_argument("--num-classes", type=int, default=10, help="classes")
    p.add_argument("--max-flops", type=float, help="FLOP budget: samples over it are drawn again")
    p.add_argument("--max-params", type=float, help="parameter budget: samples over it are drawn again")
    args = p.parse_args(argv)
    names = [args.space] if args.space else list_spaces()
    if args.space and args.space not in list_spaces():
        fail(f"unknown space {args.space!r}; spaces: {', '.join(list_spaces())}")
    if args.sample is not None and (not args.space or args.sample < 1):
        fail("--sample N needs --space NAME and N >= 1")
    try:
        spaces = [get_space(name, in_chans=args.in_chans, resolution=args.resolution, num_classes=args.num_classes,
                            max_flops=args.max_flops, max_params=args.max_params) for name in names]
    except ValueError as exc:
        fail(str(exc))
    if args.sample is not None:
        try:
            rows = samples(spaces[0], args.sample, args.seed)
        except ValueError as exc:
            fail(str(exc))
        print(json.dumps(rows, indent=2) if args.format == "json" else _sample_table(rows))
        return
    infos = [describe(space) for space in spaces]
    print(json.dumps(infos, indent=2) if args.format == "json" else "\n\n".join(map(_space_table, infos)))


if __name__ == "__main__":
    main()
