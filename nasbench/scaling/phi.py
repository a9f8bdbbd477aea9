"""Scaling a baseline to a FLOP target: compound coefficients at phi, and phi solved on the analytic cost."""
from __future__ import annotations

import dataclasses
import functools
import math

from nasbench.cost import analytic_cost
from nasbench.gene import GenomeError
from nasbench.genome import Genome

Coefficients = tuple[float, float, float]  # alpha (depth), beta (width), gamma (resolution)
PHI_STEP = 1000          # phi is solved on a grid of 1/PHI_STEP
MAX_PHI = 16.0


def scaled(base: Genome, coefficients: Coefficients, phi: float) -> Genome:
    """`base` with compound fields alpha, beta, gamma = `coefficients` at `phi` (its width/depth multipliers kept)."""
    alpha, beta, gamma = coefficients
    return dataclasses.replace(base, scaling=dataclasses.replace(base.scaling, alpha=alpha, beta=beta, gamma=gamma,
                                                                 phi=phi))


def compound_product(alpha: float, beta: float, gamma: float) -> float:
    """alpha * beta^2 * gamma^2: the nominal FLOP multiplier per unit of phi."""
    return alpha * beta**2 * gamma**2


def solve_phi(base: Genome, coefficients: Coefficients, target: float) -> float:
    """The phi (a multiple of 1/PHI_STEP) whose analytic FLOPs come closest to `target` x the baseline's (in log
    ratio); FLOPs only grow with phi, so bisection finds the step where they cross the target."""
    base_flops = analytic_cost(base).flops

    @functools.cache
    def ratio(k: int) -> float:
        try:
            return analytic_cost(scaled(base, coefficients, k / PHI_STEP)).flops / base_flops
        except GenomeError:  # too large to be a genome (depth > 1024, ...): beyond any target
            return math.inf

    low, high = 0, int(MAX_PHI * PHI_STEP)
    if ratio(high) < target:
        raise ValueError(f"coefficients {coefficients} cannot reach {target:g}x the baseline's FLOPs "
                         f"(phi <= {MAX_PHI:g} gives {ratio(high):.3g}x)")
    while high - low > 1:  # invariant: ratio(low) < target <= ratio(high), or low == 0
        middle = (low + high) // 2
        low, high = (low, middle) if ratio(middle) >= target else (middle, high)
    return min((low, high), key=lambda k: abs(math.log(ratio(k) / target))) / PHI_STEP


@dataclasses.dataclass(frozen=True)
class Point:
    """One network of the experiment: a baseline scaled by a strategy to a FLOP target."""

    baseline: str
    strategy: str      # "baseline" for the unscaled network
    target: float      # FLOP multiple aimed at (1 for the baseline)
    genome: Genome

    def describe(self, base_flops: int) -> dict:
        resolved, cost, s = self.genome.resolved(), analytic_cost(self.genome), self.genome.scaling
        return {"baseline": self.baseline, "strategy": self.strategy, "target": self.target, "phi": s.phi,
                "alpha": s.alpha, "beta": s.beta, "gamma": s.gamma, "width": round(s.width_factor, 6),
                "depth": round(s.depth_factor, 6), "resolution": resolved.resolution,
                "blocks": sum(stage.depth for stage in resolved.stages), "params": cost.params, "flops": cost.flops,
                "flops_ratio": cost.flops / base_flops, "genome": self.genome.to_str()}


def plan(base_name: str, base: Genome, targets: tuple[float, ...], strategies: dict[str, Coefficients]) -> list[Point]:
    """The baseline, then every strategy at every target."""
    points = [Point(base_name, "baseline", 1.0, base)]
    for strategy, coefficients in strategies.items():
        for target in targets:
            points.append(Point(base_name, strategy, target, scaled(base, coefficients,
                                                                    solve_phi(base, coefficients, target))))
    return points


def described_points(points: list[Point]) -> list[tuple[Point, dict]]:
    """Each point with its table row (FLOPs ratios against its own baseline, the first point of each)."""
    base_flops = {p.baseline: analytic_cost(p.genome).flops for p in points if p.strategy == "baseline"}
    return [(p, p.describe(base_flops[p.baseline])) for p in points]
