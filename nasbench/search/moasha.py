"""Multi-objective ASHA (Schmucker et al. 2021): ASHA's rungs and reduction factor, with promotion decided by
non-dominated rank, then crowding distance, over every reported objective instead of one metric.

`MoAshaRule` is the rule, for trials reported one after another (the in-process replay drives it directly);
`MoAshaScheduler` applies it to Ray Tune trials as they report. At each rung (epochs grace, grace*rf, ... below
max_t) a trial joins the points recorded there; it goes on when its place among them, ordered by (non-dominated
rank, larger crowding distance first; ties in its favour), is within the best 1/rf of them, as ASHA keeps the best
1/rf by accuracy. With one objective, that is ASHA's rule."""
from __future__ import annotations

import math
from collections.abc import Mapping

import numpy as np
from ray.tune.schedulers import FIFOScheduler, TrialScheduler

from nasbench.analysis.fronts import crowding_distances, nondominated_ranks
from nasbench.objectives import COLUMNS


class MoAshaRule:
    """Whether a trial reporting `values` (objective -> value) after `epoch` epochs stops there."""

    def __init__(self, directions: Mapping[str, str], max_t: int, grace_period: int = 1, reduction_factor: int = 2):
        self.directions, self.rf = dict(directions), reduction_factor
        self.rungs: dict[int, list[np.ndarray]] = {}
        epoch = grace_period
        while epoch < max_t:
            self.rungs[epoch] = []
            epoch *= reduction_factor

    def stops(self, epoch: int, report: Mapping[str, float]) -> bool:
        """Whether the trial whose report after `epoch` epochs is `report` stops there (and records its point)."""
        recorded = self.rungs.get(epoch)
        if recorded is None:
            return False
        point = np.array([-report[COLUMNS[name]] if direction == "max" else report[COLUMNS[name]]
                          for name, direction in self.directions.items()], dtype=float)
        if not np.isfinite(point).all():  # a diverged trial: stopped, and not a point to compare others with
            return True
        points = np.vstack([point, *recorded])  # the new point first: ties go its way
        recorded.append(point)
        place = int(np.flatnonzero(promotion_order(points) == 0)[0])
        return place >= max(1, math.floor(len(points) / self.rf))


def promotion_order(points: np.ndarray) -> np.ndarray:
    """Row indices of `points` (minimised) from the most to the least promotable: by non-dominated rank, then by
    crowding distance within the rank (larger first), then by index."""
    ranks = nondominated_ranks(points)
    crowding = np.zeros(len(points))
    for rank in np.unique(ranks):
        crowding[ranks == rank] = crowding_distances(points[ranks == rank])
    return np.array(sorted(range(len(points)), key=lambda i: (ranks[i], -crowding[i], i)))


class MoAshaScheduler(FIFOScheduler):
    """Ray Tune scheduler: stops a trial at a rung when `MoAshaRule` says so; the searcher records it as PRUNED."""

    def __init__(self, directions: Mapping[str, str], max_t: int, time_attr: str = "epochs", grace_period: int = 1,
                 reduction_factor: int = 2):
        super().__init__()
        self.rule, self.time_attr = MoAshaRule(directions, max_t, grace_period, reduction_factor), time_attr

    def on_trial_result(self, tune_controller, trial, result: dict) -> str:
        if self.rule.stops(result.get(self.time_attr, 0), result):
            return TrialScheduler.STOP
        return TrialScheduler.CONTINUE
