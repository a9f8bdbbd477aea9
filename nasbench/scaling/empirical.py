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
import os
from collections.abc import Callable
from pathlib import Path

import pandas as pd

from nasbench import atomic
from nasbench.config import setting, settings_from_dict
from nasbench.data import DATASETS_HELP, Dataset, load_dataset
from nasbench.scaling.baselines import BASELINES, STRATEGIES, baseline
from nasbench.scaling.grid import best_coefficients, latest_search, resume_coefficients, search_coefficients
from nasbench.scaling.phi import Coefficients, Point, described_points, plan
from nasbench.scaling.static import PAPER_COEFFICIENTS
from nasbench.scaling.tables import write_tables
from nasbench.search import SearchSettings
from nasbench.search.lock import run_lock
from nasbench.space import SearchSpace
from nasbench.train import TrainConfig, evaluate

Log = Callable[[str], None]
IDENTITY = ("baseline", "strategy", "target")  # the points.csv columns that tell a run's networks apart
GRID_COLUMNS = ("state", "alpha", "beta", "gamma", "feasible", "accuracy", "flops")  # what best_coefficients reads


@dataclasses.dataclass(frozen=True)
class EmpiricalSettings:
    """The scaling experiment. The command line takes its defaults and help from here."""

    baselines: tuple[str, ...] = setting(tuple(BASELINES), f"baselines to scale, from {', '.join(BASELINES)}")
    targets: tuple[float, ...] = setting((2.0, 4.0, 8.0), "FLOP multiples of the baseline to scale to")
    seeds: int = setting(3, "training seeds per network")
    epochs: int = setting(5, "training epochs per network")
    dataset: str = setting("digits", DATASETS_HELP)
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

    @classmethod
    def from_dict(cls, data: dict) -> EmpiricalSettings:
        """`to_dict`'s output read back from JSON; ValueError on unknown settings."""
        return settings_from_dict(cls, data)


@dataclasses.dataclass(frozen=True)
class EmpiricalOutcome:
    run_dir: Path
    points: pd.DataFrame   # one row per network
    runs: pd.DataFrame     # one row per training (network x seed)
    summary: pd.DataFrame  # mean and std over seeds per network
    grid: pd.DataFrame | None


class Interrupted(KeyboardInterrupt):
    """Ctrl-C stopped a scaling run; what was done is in its run folder, and `resume_empirical` continues it."""

    def __init__(self, run_dir: Path):
        super().__init__(f"{run_dir} was interrupted; resume_empirical continues it")
        self.run_dir = run_dir


def run_empirical(settings: EmpiricalSettings, log: Log = print,
                  grid_space: SearchSpace | None = None) -> EmpiricalOutcome:
    """Plan every network, train each with every seed, and write a new run folder (tables refreshed as it goes).
    With `settings.grid`, first grid-search `grid_space` (a compound-coefficient space such as
    `search_spaces.get_space("compound")`) and scale with its best coefficients. Ctrl-C raises `Interrupted`;
    `resume_empirical` continues the run folder."""
    _check_grid_space(settings, grid_space)
    first = _dataset(settings)
    run_dir = atomic.new_run_folder(Path(settings.results_dir) / "scaling")
    config = {"run_id": run_dir.name, "settings": settings.to_dict(), "dataset": first.name,
              "input": [first.in_chans, first.resolution, first.num_classes], "created": _now()}
    log(f"run {run_dir}")
    with run_lock(run_dir):
        return _continue(run_dir, config, settings, first, None, log, grid_space)


def resume_empirical(run_dir: str | os.PathLike, log: Log = print,
                     grid_space: SearchSpace | None = None) -> EmpiricalOutcome:
    """Continue an interrupted run folder with the settings in its config.json: the trainings in its runs.csv are
    kept (none is repeated) and the others run; a finished grid search is read back from grid.csv and an
    interrupted one continues (`resume_search`). A complete run only rewrites its final tables."""
    run_dir = Path(run_dir)
    config, settings = read_run(run_dir)
    _check_grid_space(settings, grid_space)
    first = _dataset(settings)
    with run_lock(run_dir):
        done = _read_table(run_dir / "runs.csv", (*IDENTITY, "seed")) if (run_dir / "runs.csv").is_file() else None
        before = 0 if done is None else len(done)
        config.setdefault("resumes", []).append({"at": _now(), "trainings_before": before})
        log(f"resuming {run_dir}: {before} training(s) done before")
        return _continue(run_dir, config, settings, first, done, log, grid_space)


def read_run(run_dir: str | os.PathLike) -> tuple[dict, EmpiricalSettings]:
    """A scaling run folder's config.json and the settings it was started with; ValueError naming what is wrong."""
    path = Path(run_dir) / "config.json"
    if not path.is_file():
        raise ValueError(f"{path.parent} is not a scaling run folder (no config.json); pass results/scaling/<run-id>")
    try:
        config = json.loads(path.read_text(encoding="utf-8"))
        settings = EmpiricalSettings.from_dict(config.get("settings") if isinstance(config, dict) else None)
    except (ValueError, TypeError) as exc:  # bad JSON or bytes, unknown settings, values of the wrong type
        raise ValueError(f"{path} is not a scaling run's configuration: {exc}") from None
    return config, settings


def _continue(run_dir: Path, config: dict, settings: EmpiricalSettings, first: Dataset, done: pd.DataFrame | None,
              log: Log, grid_space: SearchSpace | None) -> EmpiricalOutcome:
    """Write config.json, find the compound coefficients, plan the networks, train what `done` lacks and write the
    final tables; `Interrupted` on Ctrl-C."""
    try:
        atomic.write_text(run_dir / "config.json", json.dumps(config, indent=2))
        compound, grid = _coefficients(run_dir, settings, log, grid_space)
        config["compound"] = list(compound)
        atomic.write_text(run_dir / "config.json", json.dumps(config, indent=2))
        described = _plan(settings, first, compound)
        point_table = _write_points(run_dir, described)
        runs = train_points(described, settings, run_dir, log, done)
        summary = write_tables(run_dir, runs, final=True)
    except KeyboardInterrupt:
        raise Interrupted(run_dir) from None
    return EmpiricalOutcome(run_dir, point_table, runs, summary, grid)


def _coefficients(run_dir: Path, settings: EmpiricalSettings, log: Log,
                  grid_space: SearchSpace | None) -> tuple[Coefficients, pd.DataFrame | None]:
    """The settings' compound coefficients or, with `settings.grid`, the grid search's best: read back from grid.csv
    (written when the search finished), else searched, continuing an interrupted search of the run folder."""
    if not settings.grid:
        return settings.compound, None
    if (run_dir / "grid.csv").is_file():
        grid = _read_table(run_dir / "grid.csv", GRID_COLUMNS)
        compound = best_coefficients(grid)
    else:
        previous = latest_search(run_dir / grid_space.name)
        compound, grid = (resume_coefficients(previous, grid_space) if previous else
                          search_coefficients(grid_space, _grid_search(settings, run_dir, grid_space)))
        atomic.write_text(run_dir / "grid.csv", grid.to_csv(index=False))
    log(f"grid search: alpha={compound[0]:g} beta={compound[1]:g} gamma={compound[2]:g}")
    return compound, grid


def _grid_search(settings: EmpiricalSettings, run_dir: Path, grid_space: SearchSpace) -> SearchSettings:
    """The grid search's settings: the experiment's data and training, its run folder inside `run_dir`."""
    return SearchSettings(space=grid_space.name, dataset=settings.dataset, data_dir=settings.data_dir,
                          resolution=settings.resolution, trials=settings.grid_trials or grid_space.grid_size(),
                          epochs=settings.epochs, max_flops="none", results_dir=str(run_dir.resolve()),
                          batch_size=settings.batch_size, lr=settings.lr, limit=settings.limit)


def _plan(settings: EmpiricalSettings, first: Dataset, compound: Coefficients) -> list[tuple[Point, dict]]:
    """Every baseline, then every strategy at every target, with its points.csv row."""
    strategies = {**STRATEGIES, "compound": compound}
    points = [p for name in settings.baselines
              for p in plan(name, baseline(name, first.in_chans, first.resolution, first.num_classes),
                            settings.targets, strategies)]
    return described_points(points)


def _write_points(run_dir: Path, described: list[tuple[Point, dict]]) -> pd.DataFrame:
    """points.csv; ValueError when the run folder holds one listing other networks (planned by another version)."""
    table = pd.DataFrame([row for _, row in described])
    path = run_dir / "points.csv"
    if path.is_file() and _read_table(path, ("genome",))["genome"].tolist() != table["genome"].tolist():
        raise ValueError(f"{path} lists other networks than its config.json gives now (written by another version "
                         "of nasbench?); start a new run")
    atomic.write_text(path, table.to_csv(index=False))
    return table


def train_points(described: list[tuple[Point, dict]], settings: EmpiricalSettings, run_dir: Path, log: Log,
                 done: pd.DataFrame | None = None) -> pd.DataFrame:
    """Train every point with seeds 0..seeds-1 (seed-major, so an interrupted run has whole seeds) except the
    trainings in `done` (an interrupted run's runs.csv, kept first as it is); runs.csv and summary.csv are rewritten
    after every training."""
    rows = [] if done is None else done.to_dict("records")
    finished = {_identity(row) for row in rows}
    todo = [(seed, point, row) for seed in range(settings.seeds) for point, row in described
            if _identity({**row, "seed": seed}) not in finished]
    total = len(described) * settings.seeds
    if not todo:
        log(f"{run_dir} is complete: all {total} trainings are in its runs.csv")
    for seed, point, row in todo:
        rows.append(_train(point, row, seed, settings))
        write_tables(run_dir, pd.DataFrame(rows))
        run = rows[-1]
        log(f"[{len(rows)}/{total}] {point.baseline:12s} {point.strategy:10s} x{row['flops_ratio']:.2f} "
            f"seed {seed}: val {run['val_accuracy']:.3f} test {run['test_accuracy']:.3f} ({run['wall_time_s']:.1f}s)")
    return pd.DataFrame(rows)


def _train(point: Point, row: dict, seed: int, settings: EmpiricalSettings) -> dict:
    """Train `point` once with `seed`: its runs.csv row (the points.csv row, the seed, epochs and the outcome)."""
    config = TrainConfig(epochs=settings.epochs, batch_size=settings.batch_size, lr=settings.lr, seed=seed)
    dataset = load_dataset(settings.dataset, settings.data_dir, point.genome.resolved().resolution,
                           limit=settings.limit)
    result = evaluate(point.genome, dataset, config, test=True)
    return {**row, "seed": seed, "epochs": settings.epochs, "status": result.status,
            "val_accuracy": result.val_accuracy,
            "test_accuracy": math.nan if result.test_accuracy is None else result.test_accuracy,
            "wall_time_s": round(result.wall_time_s, 3), "failure_reason": result.failure_reason}


def _identity(row: dict) -> tuple:
    """What tells a training apart in runs.csv: its network (`IDENTITY`) and seed."""
    return str(row["baseline"]), str(row["strategy"]), float(row["target"]), int(row["seed"])


def _read_table(path: Path, columns: tuple[str, ...]) -> pd.DataFrame:
    return atomic.read_table(path, columns, "a scaling run's table")


def _check_grid_space(settings: EmpiricalSettings, grid_space: SearchSpace | None) -> None:
    if settings.grid and grid_space is None:
        raise ValueError("the coefficient grid search needs the compound space: pass grid_space")


def _dataset(settings: EmpiricalSettings) -> Dataset:
    """The dataset at the baseline resolution (its input shape sizes the baselines)."""
    return load_dataset(settings.dataset, settings.data_dir, settings.resolution, limit=settings.limit)


def _now() -> str:
    return dt.datetime.now(dt.timezone.utc).isoformat(timespec="seconds")
