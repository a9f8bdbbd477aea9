"""A lecture experiment's claims judged over the seeds: mean ± std of both arms, Welch's t-test, and whether the
difference is beyond the seeds' spread (the means further apart than the two standard deviations added)."""
from __future__ import annotations

import math
import warnings

import numpy as np
import pandas as pd
from scipy import stats

from nasbench.lecture.experiments import Claim, Experiment

REPRODUCED = "reproduced"
WITHIN_SPREAD = "same direction, within the seeds' spread"
NOT_REPRODUCED = "not reproduced (within the seeds' spread)"
CONTRADICTED = "contradicted"
ONE_SEED = "one seed, no spread: "  # prefixes "holds" or "does not hold" when an arm has fewer than two runs


def judge(claim: Claim, runs: pd.DataFrame) -> dict:
    """One verdict row: both arms' mean ± std of the claim's measure over their successful runs, Welch's p, the
    outcome (REPRODUCED, WITHIN_SPREAD, NOT_REPRODUCED or CONTRADICTED; "no runs" while an arm has none)."""
    ok = runs[runs["status"] == "ok"]
    a = ok.loc[ok["arm"] == claim.arm, claim.measure].to_numpy(float)
    b = ok.loc[ok["arm"] == claim.other, claim.measure].to_numpy(float)
    row = {"claim": claim.text, "measure": claim.measure, "arm": claim.arm, "expect": claim.expect,
           "other": claim.other, "arm_seeds": len(a), "other_seeds": len(b),
           "arm_mean": _mean(a), "arm_std": _std(a), "other_mean": _mean(b), "other_std": _std(b),
           "ratio": _mean(b) / _mean(a) if claim.ratio and len(a) and _mean(a) > 0 else math.nan,
           "p_welch": _welch(a, b)}
    row["outcome"] = outcome(claim.expect, a, b) if len(a) and len(b) else "no runs"
    return row


def outcome(expect: str, a: np.ndarray, b: np.ndarray) -> str:
    """How the arm's values `a` compare with the other's `b`, against the expectation (`ONE_SEED` + holds or does
    not hold when either has a single value: no spread to judge the difference by)."""
    difference = a.mean() - b.mean()
    if len(a) < 2 or len(b) < 2:
        holds = {"lower": difference < 0, "higher": difference > 0, "not higher": difference <= 0}[expect]
        return ONE_SEED + ("holds" if holds else "does not hold")
    beyond = abs(difference) > _std(a, 0.0) + _std(b, 0.0)
    if expect == "not higher":
        return CONTRADICTED if difference > 0 and beyond else REPRODUCED
    holds = difference < 0 if expect == "lower" else difference > 0
    if holds:
        return REPRODUCED if beyond else WITHIN_SPREAD
    return CONTRADICTED if beyond else NOT_REPRODUCED


def verdicts(experiment: Experiment, runs: pd.DataFrame) -> pd.DataFrame:
    return pd.DataFrame([judge(claim, runs) for claim in experiment.claims])


def _mean(values: np.ndarray) -> float:
    return float(values.mean()) if len(values) else math.nan


def _std(values: np.ndarray, single: float = math.nan) -> float:
    """Sample std; `single` for fewer than two values."""
    return float(values.std(ddof=1)) if len(values) > 1 else single


def _welch(a: np.ndarray, b: np.ndarray) -> float:
    if len(a) < 2 or len(b) < 2 or (np.ptp(a) == 0 and np.ptp(b) == 0):
        return math.nan
    with warnings.catch_warnings():  # an arm whose runs all agree (e.g. never reached a threshold) is no error
        warnings.simplefilter("ignore", RuntimeWarning)
        return float(stats.ttest_ind(a, b, equal_var=False).pvalue)
