"""The members a table holds: every point of a space's grid in a fixed order, or a fixed seeded sample."""
from __future__ import annotations

import itertools
import random

from nasbench.errors import SettingError
from nasbench.genome import Genome
from nasbench.space import ReplayTrial, SearchSpace, random_samples


def grid_members(space: SearchSpace) -> list[Genome]:
    """Every member of a space with a grid, in grid order (the declared parameters, the last varying fastest);
    ValueError for a space without one."""
    grid = space.grid()
    return [space.build(ReplayTrial(dict(zip(grid, values)))) for values in itertools.product(*grid.values())]


def plan_members(space: SearchSpace, count: int | None, seed: int) -> list[Genome]:
    """The members to tabulate: every member of a grid space (count None), a seeded sample of `count` of them, or
    `count` random samples of a space without a grid (within its budgets, duplicates dropped). The sample of n
    members begins with the sample of fewer, so a table can grow. SettingError naming the fix."""
    if count is not None and count < 1:
        raise SettingError(f"members must be at least 1, got {count}", "members")
    try:
        grid = grid_members(space)
    except ValueError:
        if count is None:
            raise SettingError(f"the {space.name} space has no grid, so its members cannot all be trained; ask for "
                               "a sample of them", "members") from None
        drawn = [Genome.from_dict(row["genome"]) for row in random_samples(space, count, seed)]
        return list({genome.key(): genome for genome in drawn}.values())
    fitting = [genome for genome in grid if space.over_budget(genome) is None]
    if not fitting:
        raise SettingError(f"no member of the {space.name} space fits its budget; raise the budget", "max_flops")
    if count is None:
        return fitting
    order = list(range(len(fitting)))
    random.Random(seed).shuffle(order)
    return [fitting[i] for i in order[:count]]
