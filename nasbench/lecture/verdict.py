"""A lecture experiment's claims judged over the seeds (`nasbench.analysis.seeds`)."""
from __future__ import annotations

import math

import pandas as pd

from nasbench.analysis.seeds import mean, outcome, std, welch_p
from nasbench.lecture.experiments import Claim, Experiment


def judge(claim: Claim, runs: pd.DataFrame) -> dict:
    """One verdict row: both arms' mean ± std of the claim's measure over their successful runs, Welch's p, the
    outcome ("no runs" while an arm has none)."""
    ok = runs[runs["status"] == "ok"]
    a = ok.loc[ok["arm"] == claim.arm, claim.measure].to_numpy(float)
    b = ok.loc[ok["arm"] == claim.other, claim.measure].to_numpy(float)
    return {"claim": claim.text, "measure": claim.measure, "arm": claim.arm, "expect": claim.expect,
            "other": claim.other, "arm_seeds": len(a), "other_seeds": len(b), "arm_mean": mean(a), "arm_std": std(a),
            "other_mean": mean(b), "other_std": std(b),
            "ratio": mean(b) / mean(a) if claim.ratio and len(a) and mean(a) > 0 else math.nan,
            "p_welch": welch_p(a, b), "outcome": outcome(claim.expect, a, b) if len(a) and len(b) else "no runs"}


def verdicts(experiment: Experiment, runs: pd.DataFrame) -> pd.DataFrame:
    return pd.DataFrame([judge(claim, runs) for claim in experiment.claims])
