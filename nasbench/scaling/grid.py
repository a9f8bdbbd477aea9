"""EfficientNet's alpha/beta/gamma grid search at phi=1, run as a search of a compound-coefficient space."""
from __future__ import annotations

import dataclasses
from pathlib import Path

import pandas as pd

from nasbench.genome import Genome, Scaling
from nasbench.record import COMPLETE
from nasbench.scaling.phi import Coefficients, compound_product
from nasbench.search import RunOutcome, SearchSettings, resume_search, run_search
from nasbench.space import SearchSpace

CONSTRAINT = (1.9, 2.1)  # alpha * beta^2 * gamma^2 must lie here at phi=1 (the paper: ~= 2)


def search_coefficients(space: SearchSpace, search: SearchSettings) -> tuple[Coefficients, pd.DataFrame]:
    """Grid-search a compound-coefficient `space` (alpha, beta -> gamma; `search_spaces.compound`) with Ray Tune +
    Optuna's GridSampler, at most one trial per grid point: the best feasible coefficients and the table of all
    trials."""
    points = space.grid_size()
    return searched(run_search(dataclasses.replace(search, sampler="grid", trials=min(search.trials, points)), space))


def resume_coefficients(search_dir: Path, space: SearchSpace) -> tuple[Coefficients, pd.DataFrame]:
    """`search_coefficients` continued from the run folder of an interrupted grid search (`resume_search`)."""
    return searched(resume_search(search_dir, space))


def latest_search(folder: Path) -> Path | None:
    """The newest search run folder under `folder` that got as far as its config.json, if any."""
    runs = sorted(config.parent for config in folder.glob("*/config.json"))
    return runs[-1] if runs else None


def searched(outcome: RunOutcome) -> tuple[Coefficients, pd.DataFrame]:
    """The best coefficients and the grid table of a finished search. Tune ends a search gracefully on Ctrl-C: the
    interrupt is raised again here, so that nothing is chosen from part of the grid."""
    if outcome.interrupted:
        raise KeyboardInterrupt
    grid = grid_table(outcome.trials)
    return best_coefficients(grid), grid


def best_coefficients(grid: pd.DataFrame) -> Coefficients:
    """alpha, beta, gamma of the COMPLETE feasible trial with the best accuracy (fewer FLOPs breaks ties)."""
    candidates = grid[grid["feasible"] & (grid["state"] == COMPLETE)]
    if not len(candidates):
        raise ValueError("no feasible grid-search trial completed; see the trials table in the run folder")
    best = candidates.sort_values(["accuracy", "flops"], ascending=[False, True], kind="stable").iloc[0]
    return float(best["alpha"]), float(best["beta"]), float(best["gamma"])


def grid_table(trials: pd.DataFrame) -> pd.DataFrame:
    """The search's trials with their coefficients, alpha * beta^2 * gamma^2 and whether it lies in CONSTRAINT."""
    rows = []
    for _, trial in trials.iterrows():
        scaling = Genome.from_json(trial["genome_json"]).scaling if trial["genome_json"] else Scaling()
        product = compound_product(scaling.alpha, scaling.beta, scaling.gamma)
        rows.append({"number": trial["number"], "state": trial["state"], "alpha": scaling.alpha, "beta": scaling.beta,
                     "gamma": scaling.gamma, "product": round(product, 4),
                     "feasible": CONSTRAINT[0] <= product <= CONSTRAINT[1], "accuracy": trial["accuracy"],
                     "flops": trial["flops"], "params": trial["params"]})
    return pd.DataFrame(rows, columns=["number", "state", "alpha", "beta", "gamma", "product", "feasible", "accuracy",
                                       "flops", "params"])
