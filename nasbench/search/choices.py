"""The decisions of a search space as finite option lists, for samplers that pick, mutate and learn over them.

A categorical parameter's options are its choices; an integer's its values (`step` apart; a log or very wide range
in `bins` log- or linearly-spaced bins); a float's `bins` equal bins of its range (log-spaced for a log range; a
stepped range with at most MAX_OPTIONS points: its grid). Options of a binned range are bins: a value is drawn
uniformly inside the chosen bin.
"""
from __future__ import annotations

import math
from typing import Any

import numpy as np
from optuna.distributions import BaseDistribution, CategoricalDistribution, IntDistribution

from nasbench.space import inside

MAX_OPTIONS = 256  # a stepped range with more points than this is binned
BINS = 16


def _grid(distribution: BaseDistribution) -> list | None:
    """Every value of a categorical or a stepped range with at most MAX_OPTIONS points; None for a binned range."""
    if isinstance(distribution, CategoricalDistribution):
        return list(distribution.choices)
    if distribution.log:
        return None
    step = distribution.step
    if step is None:
        return None
    count = round((distribution.high - distribution.low) / step) + 1
    if count > MAX_OPTIONS:
        return None
    if isinstance(distribution, IntDistribution):
        return list(range(distribution.low, distribution.high + 1, step))
    return [round(distribution.low + k * step, 9) for k in range(count)]


def option_count(distribution: BaseDistribution) -> int:
    if not isinstance(distribution, CategoricalDistribution) and distribution.low == distribution.high:
        return 1
    grid = _grid(distribution)
    return len(grid) if grid is not None else BINS


def _edges(distribution: BaseDistribution) -> np.ndarray:
    low, high = float(distribution.low), float(distribution.high)
    if distribution.log:
        return np.exp(np.linspace(math.log(low), math.log(high), BINS + 1))
    return np.linspace(low, high, BINS + 1)


def option_of(distribution: BaseDistribution, value: Any) -> int:
    """The option index a value falls on (its choice, grid point or bin)."""
    grid = _grid(distribution)
    if grid is not None:
        if isinstance(distribution, CategoricalDistribution):
            return next(i for i, choice in enumerate(grid) if choice == value and type(choice) is type(value))
        return int(np.argmin(np.abs(np.asarray(grid, dtype=float) - float(value))))
    return int(np.clip(np.searchsorted(_edges(distribution), float(value), side="right") - 1, 0, BINS - 1))


def value_of(distribution: BaseDistribution, option: int, rng: np.random.RandomState) -> Any:
    """A value of option `option`: the choice or grid point itself, or a uniform draw inside the bin."""
    grid = _grid(distribution)
    if grid is not None:
        return grid[option]
    lower, upper = _edges(distribution)[option: option + 2]
    if isinstance(distribution, IntDistribution):
        value = int(rng.randint(math.ceil(lower), max(math.ceil(lower), math.floor(upper)) + 1))
        value = distribution.low + (value - distribution.low) // distribution.step * distribution.step
        return int(min(max(value, distribution.low), distribution.high))
    value = float(rng.uniform(lower, upper))
    if distribution.step:
        value = distribution.low + round((value - distribution.low) / distribution.step) * distribution.step
    return min(max(value, distribution.low), distribution.high)


def other_value(distribution: BaseDistribution, value: Any, rng: np.random.RandomState) -> Any:
    """A value of a different option than `value`'s, uniformly (the mutation of evolution); `value` itself when
    the distribution has a single option."""
    count = option_count(distribution)
    if count < 2:
        return value
    current = option_of(distribution, value) if inside(distribution, value) else -1
    options = [o for o in range(count) if o != current]
    return value_of(distribution, options[rng.randint(len(options))], rng)

