"""EfficientNet's scaling experiments at small scale: compound vs depth-, width- and resolution-only scaling of small
baselines to fixed FLOP multiples (the paper's Figure 8 / Table 3), optionally after the alpha/beta/gamma grid search.

Every scaled network is a baseline genome with `Scaling` fields set; phi per strategy is solved on the analytic cost
so that each strategy lands on the same FLOP targets. Several training seeds per point give mean and std.
"""
from __future__ import annotations

import dataclasses
import datetime as dt
import json
import math
from collections.abc import Callable
from pathlib import Path

import pandas as pd

from nasbench import atomic
from nasbench.config import setting
from nasbench.data import load_dataset
from nasbench.scaling.baselines import BASELINES, STRATEGIES, baseline
from nasbench.scaling.grid import search_coefficients
from nasbench.scaling.phi import Coefficients, Point, described_points, plan
from nasbench.scaling.static import PAPER_COEFFICIENTS
from nasbench.scaling.tables import write_tables
from nasbench.search import SearchSettings
from nasbench.space import SearchSpace
from nasbench.train import TrainConfig, evaluate

Log = Callable[[str], None]


@dataclasses.dataclass(frozen=True)
class EmpiricalSettings:
    """The scaling experiment. The command line takes its defaults and help from here."""

    baselines: tuple[str, ...] = setting(tuple(BASELINES), f"baselines to scale, from {', '.join(BASELINES)}")
    targets: tuple[float, ...] = setting((2.0, 4.0, 8.0), "FLOP multiples of the baseline to scale to")
    seeds: int = setting(3, "training seeds per network")
    epochs: int = setting(5, "training epochs per network")
    dataset: str = setting("digits", "digits (embedded), cifar10, cifar100, mnist, fashion_mnist, imagefolder")
    data_dir: str | None = setting(None, "folder with the dataset files (torchvision layout)")
    resolution: int | None = setting(None, "baseline input resolution (default: the dataset's)")
    limit: int | None = setting(None, "use at most this many images per split")
    batch_size: int = setting(SearchSettings.batch_size, "training batch size")
    lr: float = setting(SearchSettings.lr, "peak learning rate (SGD, cosine)")
    compound: Coefficients = setting(PAPER_COEFFICIENTS, "alpha,beta,gamma of the compound strategy (the paper's)")
    grid: bool = setting(False, "first grid-search alpha/beta/gamma at phi=1 (space compound: alpha 1.0..1.45, "
                                "beta 1.0..1.2 in steps of 0.05, gamma from alpha*beta^2*gamma^2 ~= 2; Ray Tune + "
                                "Optuna's GridSampler) and scale with the best")
    grid_trials: int = setting(0, "grid points to train, a seeded random subset (0: the whole grid)")
    results_dir: str = setting("results", "folder that receives scaling/<run-id>/")

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


def run_empirical(settings: EmpiricalSettings, log: Log = print,
                  grid_space: SearchSpace | None = None) -> EmpiricalOutcome:
    """Plan every network, train each with every seed, and write the run folder (tables refreshed as it goes).
    With `settings.grid`, first grid-search `grid_space` (a compound-coefficient space such as
    `search_spaces.get_space("compound")`) and scale with its best coefficients."""
    if settings.grid and grid_space is None:
        raise ValueError("the coefficient grid search needs the compound space: pass grid_space")
    first = load_dataset(settings.dataset, settings.data_dir, settings.resolution, limit=settings.limit)
    run_dir = atomic.new_run_folder(Path(settings.results_dir) / "scaling")
    config = {"run_id": run_dir.name, "settings": settings.to_dict(), "dataset": first.name,
              "input": [first.in_chans, first.resolution, first.num_classes],
              "created": dt.datetime.now(dt.timezone.utc).isoformat(timespec="seconds")}
    atomic.write_text(run_dir / "config.json", json.dumps(config, indent=2))
    grid, compound = None, settings.compound
    if settings.grid:
        search = SearchSettings(space=grid_space.name, dataset=settings.dataset, data_dir=settings.data_dir,
                                resolution=settings.resolution, trials=settings.grid_trials or grid_space.grid_size(),
                                epochs=settings.epochs, max_flops="none", results_dir=str(run_dir.resolve()),
                                batch_size=settings.batch_size, lr=settings.lr, limit=settings.limit)
        compound, grid = search_coefficients(grid_space, search)
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


def train_points(described: list[tuple[Point, dict]], settings: EmpiricalSettings, run_dir: Path,
                 log: Log) -> pd.DataFrame:
    """Train every point with seeds 0..seeds-1 (seed-major, so an interrupted run has whole seeds); runs.csv and
    summary.csv are rewritten after every training."""
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
