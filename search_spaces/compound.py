"""EfficientNet's compound-coefficient grid at phi=1: alpha (depth) and beta (width) on a grid, gamma (resolution)
derived from the constraint alpha * beta^2 * gamma^2 ~= 2, applied to the small EfficientNet baseline of
`nasbench.scaling.baselines` (B0 at width 0.25, depth 0.5, CIFAR-style strides on small inputs).

The grid keeps every point feasible: alpha <= 1.45 and beta <= 1.2 give alpha * beta^2 <= 2.09, so gamma >= 1 (it is
1 where alpha * beta^2 is already above 2) and the product lies in [1.9, 2.1] (gamma is rounded to 0.01)."""
from __future__ import annotations

import math
from typing import Any

from nasbench.genome import Genome
from nasbench.scaling.baselines import baseline
from nasbench.scaling.phi import scaled
from nasbench.space import Real, SearchSpace

TARGET = 2.0  # alpha * beta^2 * gamma^2 at phi=1: each unit of phi doubles the FLOPs
PHI = 1.0


def derived_gamma(alpha: float, beta: float) -> float:
    """sqrt(2 / (alpha * beta^2)) rounded to 0.01, and at least 1 (resolution is never scaled down)."""
    return max(1.0, round(math.sqrt(TARGET / (alpha * beta**2)), 2))


class CompoundSpace(SearchSpace):
    name = "compound"
    summary = ("EfficientNet's alpha/beta grid at phi=1 on a small B0 baseline; gamma from alpha * beta^2 * gamma^2 "
               "~= 2")

    def declare(self):
        return {
            "alpha": Real(1.0, 1.45, "depth coefficient: repeats x alpha^phi, rounded up", step=0.05),
            "beta": Real(1.0, 1.2, "width coefficient: channels x beta^phi, rounded to multiples of 8", step=0.05),
        }

    def build(self, trial) -> Genome:
        alpha, beta = self.suggest(trial, "alpha"), self.suggest(trial, "beta")
        base = baseline("efficientnet", self.in_chans, self.resolution, self.num_classes)
        return scaled(base, (alpha, beta, derived_gamma(alpha, beta)), PHI)

    def read(self, genome: Genome) -> dict[str, Any]:
        return {"alpha": genome.scaling.alpha, "beta": genome.scaling.beta}
