"""Two arms of seeded runs compared: mean ± sample std of each, Welch's t-test, and whether the difference lies
beyond the seeds' spread (the means further apart than the two standard deviations added)."""
from __future__ import annotations

import math
import warnings

import numpy as np
from scipy import stats

REPRODUCED = "reproduced"
WITHIN_SPREAD = "same direction, within the seeds' spread"
NOT_REPRODUCED = "not reproduced (within the seeds' spread)"
CONTRADICTED = "contradicted"
ONE_SEED = "one seed, no spread: "  # prefixes "holds" or "does not hold" when an arm has fewer than two runs
EXPECTATIONS = ("lower", "higher", "not higher", "not lower")


def outcome(expect: str, a: np.ndarray, b: np.ndarray) -> str:
    """Whether values `a` are `expect` (one of EXPECTATIONS) than values `b`: REPRODUCED when the difference has that
    sign beyond the seeds' spread, WITHIN_SPREAD when it has the sign within it, NOT_REPRODUCED or CONTRADICTED when
    it has the other sign within or beyond it ("not higher" holds unless `a` is higher beyond the spread, "not lower"
    unless it is lower beyond it); `ONE_SEED` + holds or does not hold when either has a single value."""
    a, b = np.asarray(a, dtype=float), np.asarray(b, dtype=float)
    difference = a.mean() - b.mean()
    if len(a) < 2 or len(b) < 2:
        holds = {"lower": difference < 0, "higher": difference > 0, "not higher": difference <= 0,
                 "not lower": difference >= 0}[expect]
        return ONE_SEED + ("holds" if holds else "does not hold")
    beyond = abs(difference) > std(a) + std(b)
    if expect.startswith("not "):
        wrong = difference > 0 if expect == "not higher" else difference < 0
        return CONTRADICTED if wrong and beyond else REPRODUCED
    holds = difference < 0 if expect == "lower" else difference > 0
    if holds:
        return REPRODUCED if beyond else WITHIN_SPREAD
    return CONTRADICTED if beyond else NOT_REPRODUCED


def mean(values: np.ndarray) -> float:
    return float(np.mean(values)) if len(values) else math.nan


def std(values: np.ndarray) -> float:
    """Sample std (ddof 1); NaN for fewer than two values."""
    return float(np.std(values, ddof=1)) if len(values) > 1 else math.nan


def welch_p(a: np.ndarray, b: np.ndarray) -> float:
    """Two-sided p of Welch's t-test; NaN with fewer than two values per arm or no variance at all."""
    a, b = np.asarray(a, dtype=float), np.asarray(b, dtype=float)
    if len(a) < 2 or len(b) < 2 or (np.ptp(a) == 0 and np.ptp(b) == 0):
        return math.nan
    with warnings.catch_warnings():  # an arm whose runs all agree (e.g. never reached a threshold) is no error
        warnings.simplefilter("ignore", RuntimeWarning)
        return float(stats.ttest_ind(a, b, equal_var=False).pvalue)
