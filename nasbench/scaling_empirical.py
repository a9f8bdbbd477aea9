"""EfficientNet's scaling experiments at small scale: compound vs depth-, width- and resolution-only scaling of small
baselines to fixed FLOP multiples (the paper's Figure 8 / Table 3), and the alpha/beta/gamma grid search at phi=1.

Every scaled network is a baseline genome with `Scaling` fields set; phi per strategy is solved on the analytic cost
so that each strategy lands on the same FLOP targets. Several training seeds per point give mean and std.
"""
from __future__ import annotations

import dataclasses
import datetime as dt
import functools
import json
import math
import os
from pathlib import Path
from typing import Callable

import pandas as pd

from nasbench import atomic, zoo
from nasbench.cost import analytic_cost
from nasbench.gene import GenomeError
from nasbench.genome import Genome, Scaling
from nasbench.scaling_static import PAPER_COEFFICIENTS

Coefficients = tuple[float, float, float]  # alpha (depth), beta (width), gamma (resolution)
Log = Callable[[str], None]

SQRT2 = round(math.sqrt(2.0), 4)
STRATEGIES: dict[str, Coefficients] = {  # per unit of phi each nominally doubles FLOPs; phi is solved per target
    "compound": PAPER_COEFFICIENTS,
    "depth": (2.0, 1.0, 1.0),
    "width": (1.0, SQRT2, 1.0),
    "resolution": (1.0, 1.0, SQRT2),
}
# name: (zoo architecture, width multiplier, depth multiplier) -- small enough to train in seconds per epoch on a CPU
BASELINES: dict[str, tuple[str, float, float]] = {
    "efficientnet": ("efficientnet_b0", 0.25, 0.5),
    "resnet": ("resnet20", 1.0, 1.0),
    "mobilenet": ("mobilenet_v2", 0.35, 0.5),
}
SMALL_INPUT = 32        # inputs this size or smaller get CIFAR-style downsampling
SMALL_INPUT_STRIDE = 8  # total stride kept for them (32x32 -> 4x4, 16x16 -> 2x2)
CONSTRAINT = (1.9, 2.1)  # alpha * beta^2 * gamma^2 must lie here at phi=1 (the paper: ~= 2)
PHI_STEP = 1000          # phi is solved on a grid of 1/PHI_STEP
MAX_PHI = 16.0


# ---- baselines ---------------------------------------------------------------------------------------------------
def small_input_strides(genome: Genome, max_stride: int = SMALL_INPUT_STRIDE) -> Genome:
    """Set the earliest strides to 1 until the total stride is at most `max_stride` (CIFAR-style downsampling)."""
    parts = {"stem": list(genome.stem), "stages": list(genome.stages)}
    total = math.prod(s.stride for s in parts["stem"] + parts["stages"])
    for name in ("stem", "stages"):
        for i, stage in enumerate(parts[name]):
            if total > max_stride and stage.stride > 1:
                total //= stage.stride
                parts[name][i] = dataclasses.replace(stage, stride=1)
    return dataclasses.replace(genome, stem=tuple(parts["stem"]), stages=tuple(parts["stages"]))


def baseline(name: str, in_chans: int = 1, resolution: int = 16, num_classes: int = 10) -> Genome:
    """A small baseline from the zoo for one input: its width/depth multipliers set, CIFAR-style strides on small
    inputs. efficientnet: B0 at width 0.25, depth 0.5; resnet: CIFAR ResNet-20 as it is; mobilenet:
    MobileNetV2 at width 0.35, depth 0.5."""
    if name not in BASELINES:
        raise ValueError(f"unknown baseline {name!r}; choose from {', '.join(BASELINES)}")
    zoo_name, width, depth = BASELINES[name]
    genome = zoo.get(zoo_name).with_input(in_chans=in_chans, resolution=resolution, num_classes=num_classes)
    genome = dataclasses.replace(genome, scaling=Scaling(width=width, depth=depth))
    return small_input_strides(genome) if resolution <= SMALL_INPUT else genome


# ---- scaling to FLOP targets ---------------------------------------------------------------------------------------
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


# ---- the experiment ----------------------------------------------------------------------------------------------
@dataclasses.dataclass(frozen=True)
class EmpiricalSettings:
    baselines: tuple[str, ...] = tuple(BASELINES)
    targets: tuple[float, ...] = (2.0, 4.0, 8.0)
    seeds: int = 3
    epochs: int = 5
    dataset: str = "digits"
    data_dir: str | None = None
    resolution: int | None = None  # None: the dataset's
    limit: int | None = None       # at most this many images per split
    batch_size: int = 64
    lr: float = 0.05
    compound: Coefficients = PAPER_COEFFICIENTS
    grid: bool = False             # grid-search alpha, beta, gamma first (Ray Tune + Optuna) and scale with the winner
    grid_trials: int = 0           # grid points to train (a seeded random subset); 0: the whole grid
    results_dir: str = "results"

    def __post_init__(self) -> None:
        for name in self.baselines:
            if name not in BASELINES:
                raise ValueError(f"unknown baseline {name!r}; choose from {', '.join(BASELINES)}")
        checks = [(bool(self.baselines), "name at least one baseline"),
                  (bool(self.targets) and all(t > 1 for t in self.targets), "FLOP targets must be numbers above 1"),
                  (self.seeds >= 1 and self.epochs >= 1, "seeds and epochs must be at least 1"),
                  (self.grid_trials >= 0, "grid trials must be zero (the whole grid) or positive"),
                  (self.limit is None or self.limit >= 1, "limit must be at least 1"),
                  (all(c >= 1 for c in self.compound), "compound coefficients must be at least 1")]
        for ok, message in checks:
            if not ok:
                raise ValueError(message)

    def to_dict(self) -> dict:
        return dataclasses.asdict(self)


@dataclasses.dataclass(frozen=True)
class EmpiricalOutcome:
    run_dir: Path
    points: pd.DataFrame   # one row per network
    runs: pd.DataFrame     # one row per training (network x seed)
    summary: pd.DataFrame  # mean and std over seeds per network
    grid: pd.DataFrame | None


def run_empirical(settings: EmpiricalSettings, log: Log = print) -> EmpiricalOutcome:
    """Plan every network, train each with every seed, and write the run folder (tables refreshed as it goes)."""
    from nasbench.data import load_dataset

    first = load_dataset(settings.dataset, settings.data_dir, settings.resolution, limit=settings.limit)
    run_dir = atomic.new_run_folder(Path(settings.results_dir) / "scaling")
    config = {"run_id": run_dir.name, "settings": settings.to_dict(), "dataset": first.name,
              "input": [first.in_chans, first.resolution, first.num_classes],
              "created": dt.datetime.now(dt.timezone.utc).isoformat(timespec="seconds")}
    atomic.write_text(run_dir / "config.json", json.dumps(config, indent=2))
    grid, compound = None, settings.compound
    if settings.grid:
        compound, grid = search_coefficients(settings, run_dir)
        atomic.write_text(run_dir / "grid.csv", grid.to_csv(index=False))
        log(f"grid search: alpha={compound[0]:g} beta={compound[1]:g} gamma={compound[2]:g}")
    config["compound"] = list(compound)
    atomic.write_text(run_dir / "config.json", json.dumps(config, indent=2))
    strategies = {**STRATEGIES, "compound": compound}
    points = [p for name in settings.baselines
              for p in plan(name, baseline(name, first.in_chans, first.resolution, first.num_classes),
                            settings.targets, strategies)]
    described = described_points(points)
    point_table = pd.DataFrame([row for _, row in described])
    atomic.write_text(run_dir / "points.csv", point_table.to_csv(index=False))
    runs = train_points(described, settings, run_dir, log)
    summary = write_tables(run_dir, runs, final=True)
    return EmpiricalOutcome(run_dir, point_table, runs, summary, grid)


def described_points(points: list[Point]) -> list[tuple[Point, dict]]:
    """Each point with its table row (FLOPs ratios against its own baseline, the first point of each)."""
    base_flops = {p.baseline: analytic_cost(p.genome).flops for p in points if p.strategy == "baseline"}
    return [(p, p.describe(base_flops[p.baseline])) for p in points]


def train_points(described: list[tuple[Point, dict]], settings: EmpiricalSettings, run_dir: Path,
                 log: Log) -> pd.DataFrame:
    """Train every point with seeds 0..seeds-1 (seed-major, so an interrupted run has whole seeds); runs.csv and
    summary.csv are rewritten after every training."""
    from nasbench.data import load_dataset
    from nasbench.train import TrainConfig, evaluate

    rows: list[dict] = []
    total = len(described) * settings.seeds
    for seed in range(settings.seeds):
        config = TrainConfig(epochs=settings.epochs, batch_size=settings.batch_size, lr=settings.lr, seed=seed)
        for point, row in described:
            dataset = load_dataset(settings.dataset, settings.data_dir, point.genome.resolved().resolution,
                                   limit=settings.limit)
            result = evaluate(point.genome, dataset, config, test=True)
            test = math.nan if result.test_accuracy is None else result.test_accuracy
            rows.append({**row, "seed": seed, "status": result.status, "val_accuracy": result.val_accuracy,
                         "test_accuracy": test, "wall_time_s": round(result.wall_time_s, 3),
                         "failure_reason": result.failure_reason})
            log(f"[{len(rows)}/{total}] {point.baseline:12s} {point.strategy:10s} x{row['flops_ratio']:.2f} "
                f"seed {seed}: val {result.val_accuracy:.3f} test {test:.3f} ({result.wall_time_s:.1f}s)")
            write_tables(run_dir, pd.DataFrame(rows))
    return pd.DataFrame(rows)


def summarise(runs: pd.DataFrame) -> pd.DataFrame:
    """Mean and (sample) std of validation and test accuracy over seeds, per network; failed runs left out."""
    keys = ["baseline", "strategy", "target", "phi", "width", "depth", "resolution", "blocks", "params", "flops",
            "flops_ratio"]
    ok = runs[runs["status"] == "ok"]
    summary = (ok.groupby(keys, sort=False)
               .agg(seeds=("seed", "count"), val_mean=("val_accuracy", "mean"), val_std=("val_accuracy", "std"),
                    test_mean=("test_accuracy", "mean"), test_std=("test_accuracy", "std"))
               .reset_index())
    return summary


def write_tables(run_dir: Path, runs: pd.DataFrame, final: bool = False) -> pd.DataFrame:
    """runs.csv and summary.csv (every time), summary.md and accuracy_vs_flops.png (when final)."""
    summary = summarise(runs)
    atomic.write_text(run_dir / "runs.csv", runs.to_csv(index=False))
    atomic.write_text(run_dir / "summary.csv", summary.to_csv(index=False))
    if final:
        atomic.write_text(run_dir / "summary.md", summary_markdown(summary))
        if len(summary):
            with atomic.atomic_path(run_dir / "accuracy_vs_flops.png") as tmp:
                plot_accuracy_vs_flops(summary, tmp)
    return summary


def summary_markdown(summary: pd.DataFrame) -> str:
    lines = ["| baseline | strategy | target | FLOPs ratio | FLOPs (M) | params (K) | resolution | blocks | seeds "
             "| val acc | test acc |", "|---|---|---|---|---|---|---|---|---|---|---|"]
    for _, r in summary.iterrows():
        lines.append(f"| {r['baseline']} | {r['strategy']} | {r['target']:g} | {r['flops_ratio']:.2f} "
                     f"| {r['flops'] / 1e6:.2f} | {r['params'] / 1e3:.0f} | {r['resolution']} | {r['blocks']} "
                     f"| {r['seeds']} | {_mean_std(r['val_mean'], r['val_std'])} "
                     f"| {_mean_std(r['test_mean'], r['test_std'])} |")
    return "\n".join(lines) + "\n\nAccuracy: mean ± sample std over seeds (std blank for one seed).\n"


def _mean_std(mean: float, std: float) -> str:
    return f"{mean:.4f}" + ("" if pd.isna(std) else f" ± {std:.4f}")


def plot_accuracy_vs_flops(summary: pd.DataFrame, path: str | os.PathLike) -> None:
    """Test accuracy (mean ± std) against FLOPs, one panel per baseline, one line per strategy from the baseline."""
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure
    from matplotlib.ticker import FuncFormatter

    names = list(dict.fromkeys(summary["baseline"]))
    figure = Figure(figsize=(4.5 * len(names), 4.0), layout="constrained")
    FigureCanvasAgg(figure)
    axes = figure.subplots(1, len(names), squeeze=False)[0]
    for ax, name in zip(axes, names):
        table = summary[summary["baseline"] == name]
        start = table[table["strategy"] == "baseline"]
        for strategy in [s for s in dict.fromkeys(table["strategy"]) if s != "baseline"]:
            line = pd.concat([start, table[table["strategy"] == strategy]]).sort_values("flops")
            ax.errorbar(line["flops"] / 1e6, line["test_mean"], yerr=line["test_std"].fillna(0.0), marker="o",
                        markersize=4, capsize=3, label=strategy)
        ax.set_xscale("log")
        plain = FuncFormatter(lambda value, _: f"{value:g}")
        ax.xaxis.set_major_formatter(plain)
        ax.xaxis.set_minor_formatter(FuncFormatter(lambda value, _: f"{value:g}" if str(value)[0] in "25" else ""))
        ax.set_xlabel("FLOPs (M, log scale)")
        ax.set_ylabel("test accuracy")
        ax.set_title(f"{name} baseline")
        ax.grid(True, which="both", alpha=0.3)
        ax.legend(fontsize=8)
    figure.savefig(path, dpi=120, format="png")


# ---- the grid search of alpha, beta, gamma at phi=1 ------------------------------------------------------------------
def search_coefficients(settings: EmpiricalSettings, run_dir: Path) -> tuple[Coefficients, pd.DataFrame]:
    """Grid-search the `compound` space with Ray Tune + Optuna's GridSampler (its run folder inside `run_dir`):
    the best feasible coefficients and the table of all trials."""
    from nasbench.search import SearchSettings, run_search
    from search_spaces import get_space

    points = get_space("compound").grid_size()
    search = SearchSettings(space="compound", dataset=settings.dataset, data_dir=settings.data_dir,
                            resolution=settings.resolution, trials=min(settings.grid_trials or points, points),
                            epochs=settings.epochs, sampler="grid", results_dir=str(run_dir.resolve()),
                            batch_size=settings.batch_size, lr=settings.lr, limit=settings.limit)
    grid = grid_table(run_search(search).trials)
    return best_coefficients(grid), grid


def best_coefficients(grid: pd.DataFrame) -> Coefficients:
    """alpha, beta, gamma of the COMPLETE feasible trial with the best accuracy (fewer FLOPs breaks ties)."""
    candidates = grid[grid["feasible"] & (grid["state"] == "COMPLETE")]
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
