"""Running a lecture experiment: every arm with every seed as one Ray Tune trial (locally or on a cluster), into a
run folder that is rewritten after every trial and that a later call continues.

Arms that start from another arm's weights (transfer learning) run in a second round, after their source arms; a
source trial hands its trained weights back as a Tune checkpoint, kept in the run folder's weights/.
"""
from __future__ import annotations

import dataclasses
import datetime as dt
import json
import os
import tempfile
from collections.abc import Callable
from pathlib import Path

import pandas as pd
import torch
from ray import tune

from nasbench import atomic
from nasbench.config import setting, settings_from_dict
from nasbench.cost import analytic_cost
from nasbench.data import DATASETS_HELP, load_dataset
from nasbench.lecture.arms import Arm, Shape, start_from, task_data
from nasbench.lecture.experiments import EXPERIMENTS, Experiment
from nasbench.lecture.report import write_report
from nasbench.search.cluster import connected
from nasbench.search.lock import run_lock
from nasbench.search.settings import SearchSettings
from nasbench.train import TrainConfig, evaluate

Log = Callable[[str], None]
WEIGHTS = "weights.pt"


@dataclasses.dataclass(frozen=True)
class ExperimentSettings:
    """A lecture experiment run. The command line takes its defaults and help from here."""

    experiment: str = setting("degradation", f"the experiment: {', '.join(EXPERIMENTS)}")
    seeds: int = setting(3, "training seeds per arm")
    epochs: int | None = setting(None, "training epochs per arm (default: the experiment's)")
    dataset: str = setting("distorted_digits", DATASETS_HELP)
    data_dir: str | None = setting(None, "folder with the dataset files (torchvision layout)")
    limit: int | None = setting(None, "use at most this many images per split")
    batch_size: int = setting(SearchSettings.batch_size, "training batch size (an arm may set its own)")
    cpus_per_trial: float = setting(1.0, "CPUs per trial")
    gpus_per_trial: float = setting(0.0, "GPUs per trial; fractions share a GPU between trials")
    address: str | None = setting(None, "existing Ray cluster (default: $RAY_ADDRESS, else a local instance)")
    results_dir: str = setting("results", "folder that receives lecture/<experiment>/<run-id>/")

    def __post_init__(self) -> None:
        checks = [(self.experiment in EXPERIMENTS, f"unknown experiment {self.experiment!r}; choose from "
                                                   f"{', '.join(EXPERIMENTS)}"),
                  (self.seeds >= 1, "seeds must be at least 1"),
                  (self.epochs is None or self.epochs >= 1, "epochs must be at least 1"),
                  (self.limit is None or self.limit >= 1, "limit must be at least 1"),
                  (self.batch_size >= 1, "batch size must be at least 1"),
                  (self.cpus_per_trial > 0 and self.gpus_per_trial >= 0, "CPUs per trial must be positive and GPUs "
                                                                         "per trial zero or positive")]
        for ok, message in checks:
            if not ok:
                raise ValueError(message)

    @property
    def spec(self) -> Experiment:
        return EXPERIMENTS[self.experiment]

    def arm_epochs(self, arm: Arm) -> int:
        return (self.epochs or self.spec.epochs) * arm.epochs_scale

    def to_dict(self) -> dict:
        return dataclasses.asdict(self)

    @classmethod
    def from_dict(cls, data: dict) -> ExperimentSettings:
        """`to_dict`'s output read back from JSON; ValueError on unknown settings."""
        return settings_from_dict(cls, data)

    def ray_storage(self, run_dir: Path) -> Path:
        return (run_dir / "tune").resolve()


class Interrupted(KeyboardInterrupt):
    """Ctrl-C stopped a run; what was trained is in its run folder, and `resume_experiment` continues it."""

    def __init__(self, run_dir: Path):
        super().__init__(f"{run_dir} was interrupted; resume_experiment continues it")
        self.run_dir = run_dir


@dataclasses.dataclass(frozen=True)
class ExperimentOutcome:
    run_dir: Path
    runs: pd.DataFrame      # one row per training (arm x seed)
    summary: pd.DataFrame   # mean and std over seeds per arm
    verdicts: pd.DataFrame  # one row per claim


def arms(settings: ExperimentSettings) -> list[Arm]:
    data = load_dataset(settings.dataset, settings.data_dir, limit=settings.limit)
    return settings.spec.arms(Shape(data.in_chans, data.resolution, data.num_classes))


def run_experiment(settings: ExperimentSettings, log: Log = print) -> ExperimentOutcome:
    """Train every arm with seeds 0..seeds-1 into a new run folder results_dir/lecture/<experiment>/<run-id>/."""
    run_dir = atomic.new_run_folder(Path(settings.results_dir) / "lecture" / settings.experiment)
    config = {"run_id": run_dir.name, "settings": settings.to_dict(), "created": _now()}
    log(f"run {run_dir}")
    with run_lock(run_dir):
        atomic.write_text(run_dir / "config.json", json.dumps(config, indent=2))
        return _continue(run_dir, settings, None, log)


def resume_experiment(run_dir: str | os.PathLike, log: Log = print) -> ExperimentOutcome:
    """Continue a run folder with the settings of its config.json: trainings in its runs.csv are kept."""
    run_dir = Path(run_dir)
    config, settings = read_run(run_dir)
    with run_lock(run_dir):
        done = _read_table(run_dir / "runs.csv") if (run_dir / "runs.csv").is_file() else None
        config.setdefault("resumes", []).append({"at": _now(), "trainings_before": 0 if done is None else len(done)})
        atomic.write_text(run_dir / "config.json", json.dumps(config, indent=2))
        log(f"resuming {run_dir}: {0 if done is None else len(done)} training(s) done before")
        return _continue(run_dir, settings, done, log)


def read_run(run_dir: str | os.PathLike) -> tuple[dict, ExperimentSettings]:
    """A run folder's config.json and its settings; ValueError naming what is wrong."""
    path = Path(run_dir) / "config.json"
    if not path.is_file():
        raise ValueError(f"{path.parent} is not a lecture experiment's run folder (no config.json); pass "
                         "results/lecture/<experiment>/<run-id>")
    try:
        config = json.loads(path.read_text(encoding="utf-8"))
        settings = ExperimentSettings.from_dict(config.get("settings") if isinstance(config, dict) else None)
    except (ValueError, TypeError) as exc:
        raise ValueError(f"{path} is not a lecture experiment's configuration: {exc}") from None
    return config, settings


def _continue(run_dir: Path, settings: ExperimentSettings, done: pd.DataFrame | None, log: Log) -> ExperimentOutcome:
    """Train what `done` lacks, round by round (sources first), then write the report; `Interrupted` on Ctrl-C."""
    try:
        return _rounds(run_dir, settings, Table(run_dir, settings, done, log))
    except KeyboardInterrupt:
        raise Interrupted(run_dir) from None


def _rounds(run_dir: Path, settings: ExperimentSettings, table: Table) -> ExperimentOutcome:
    """Arms trained from scratch first, then those starting from their weights (a source arm is trained again only
    when an arm still to train needs weights its run folder lacks); Ray starts only if something is left."""
    all_arms = arms(settings)
    sources = {arm.start_from for arm in all_arms if arm.start_from}
    seeds = range(settings.seeds)
    second = [(arm.name, seed) for seed in seeds for arm in all_arms
              if arm.start_from and not table.has(arm.name, seed)]
    needed = {(arm.start_from, seed) for seed in seeds for arm in all_arms if (arm.name, seed) in second}
    first = [(arm.name, seed) for seed in seeds for arm in all_arms if not arm.start_from
             and (not table.has(arm.name, seed)
                  or ((arm.name, seed) in needed and not _weights(run_dir, arm.name, seed).is_file()))]
    if first or second:
        with connected(settings) as resources:
            for jobs in (first, second):
                if jobs:
                    _fit(settings, run_dir, jobs, sources, table, resources)
    else:
        table.log(f"{run_dir} is complete: all {table.total} trainings are in its runs.csv")
    return table.finish()


def _fit(settings: ExperimentSettings, run_dir: Path, jobs: list[tuple[str, int]], sources: set[str],
         table: Table, resources: dict) -> None:
    """One Tune run of `jobs` (arm, seed); source arms' trained weights are copied into the run folder's weights/."""
    weights = {f"{name}/{seed}": torch.load(_weights(run_dir, name, seed), weights_only=True)
               for name in sources for seed in range(settings.seeds) if _weights(run_dir, name, seed).is_file()}
    trainable = tune.with_parameters(train_arm, settings=settings.to_dict(), sources=weights,
                                     source_arms=tuple(sorted(sources)))
    trainable = tune.with_resources(trainable, {"cpu": settings.cpus_per_trial, "gpu": settings.gpus_per_trial})
    concurrency = max(1, int(resources.get("CPU", 1) // settings.cpus_per_trial))
    tuner = tune.Tuner(
        trainable,
        param_space={"arm": tune.grid_search([{"name": name, "seed": seed} for name, seed in jobs])},
        tune_config=tune.TuneConfig(num_samples=1, max_concurrent_trials=concurrency, reuse_actors=True),
        run_config=tune.RunConfig(name=f"tune-{_now().replace(':', '')}", storage_path=str(settings.ray_storage(
            run_dir)), verbose=0, callbacks=[Recorder(table)],
            checkpoint_config=tune.CheckpointConfig(num_to_keep=1)))
    for result in tuner.fit():
        job = result.config["arm"]
        if job["name"] in sources and result.checkpoint is not None:
            with result.checkpoint.as_directory() as folder:
                state = torch.load(Path(folder) / WEIGHTS, weights_only=True)
            target = _weights(run_dir, job["name"], job["seed"])
            target.parent.mkdir(exist_ok=True)
            with atomic.atomic_path(target) as tmp:
                torch.save(state, tmp)


def train_arm(config: dict, settings: dict, sources: dict, source_arms: tuple[str, ...]) -> None:
    """A Tune trial: train one arm with one seed and report its learning curve once, at the end (with the trained
    weights as a checkpoint when another arm starts from them)."""
    chosen = ExperimentSettings.from_dict(settings)
    name, seed = config["arm"]["name"], config["arm"]["seed"]
    arm = next(a for a in arms(chosen) if a.name == name)
    data = task_data(load_dataset(chosen.dataset, chosen.data_dir, limit=chosen.limit), arm.task)
    train = TrainConfig(**{"epochs": chosen.arm_epochs(arm), "batch_size": chosen.batch_size, "seed": seed,
                           **arm.train})
    prepare = None
    if arm.start_from:
        weights = sources.get(f"{arm.start_from}/{seed}")
        if weights is None:
            raise ValueError(f"{name} starts from {arm.start_from}, which has no trained weights for seed {seed} "
                             "(its training failed)")
        prepare = lambda model: start_from(weights, arm.freeze, model)  # noqa: E731
    result = evaluate(arm.genome, data, train, test_each_epoch=True, prepare=prepare)
    metrics = {"status": result.status, "failure_reason": result.failure_reason,
               "wall_time_s": round(result.wall_time_s, 3),
               "curve": json.dumps([m.to_dict() for m in result.history])}
    if name not in source_arms or not result.ok:
        tune.report(metrics)
        return
    with tempfile.TemporaryDirectory() as folder:
        torch.save(result.model.state_dict(), Path(folder) / WEIGHTS)
        tune.report(metrics, checkpoint=tune.Checkpoint.from_directory(folder))


class Recorder(tune.Callback):
    """Writes every finished trial into the run folder's tables; a trial that raised is a failed row."""

    def __init__(self, table: Table):
        self.table = table

    def on_trial_result(self, iteration, trials, trial, result, **info):
        self.table.add(trial.config["arm"], result)

    def on_trial_error(self, iteration, trials, trial, **info):
        self.table.add(trial.config["arm"], {"status": "failed", "failure_reason": _error_line(trial),
                                             "wall_time_s": float("nan"), "curve": "[]"})


class Table:
    """The run folder's runs.csv and curves.csv, rewritten (atomically) after every trial."""

    def __init__(self, run_dir: Path, settings: ExperimentSettings, done: pd.DataFrame | None, log: Log):
        self.run_dir, self.settings, self.log = run_dir, settings, log
        self.arms = {arm.name: arm for arm in arms(settings)}
        self.rows = [] if done is None else done.to_dict("records")
        curves = run_dir / "curves.csv"
        self.curves = _read_table(curves).to_dict("records") if done is not None and curves.is_file() else []
        self.total = len(self.arms) * settings.seeds

    def has(self, arm: str, seed: int) -> bool:
        return any(row["arm"] == arm and int(row["seed"]) == seed for row in self.rows)

    def add(self, job: dict, result: dict) -> None:
        name, seed = job["name"], int(job["seed"])
        arm = self.arms[name]
        curve = pd.DataFrame(json.loads(result["curve"]))
        curve_rows = [] if curve.empty else _curve_rows(name, seed, curve)
        self.rows = [r for r in self.rows if not (r["arm"] == name and int(r["seed"]) == seed)]
        self.curves = [r for r in self.curves if not (r["arm"] == name and int(r["seed"]) == seed)] + curve_rows
        cost = analytic_cost(arm.genome)
        row = {"arm": name, "seed": seed, **arm.factors, "params": cost.params, "flops": cost.flops,
               "epochs": len(curve), "status": result["status"], "failure_reason": result["failure_reason"],
               "wall_time_s": result["wall_time_s"]}
        if curve_rows:
            frame = pd.DataFrame(curve_rows)
            row.update({m.name: m.of(frame) for m in self.settings.spec.measures})
        self.rows.append(row)
        self._write()
        errors = " ".join(f"{m.name} {row[m.name]:.4g}" for m in self.settings.spec.measures if m.name in row)
        self.log(f"[{len(self.rows)}/{self.total}] {name} seed {seed}: {result['status']} {errors} "
                 f"({result['wall_time_s']:.0f} s){' ' + result['failure_reason'] if result['failure_reason'] else ''}")

    def _write(self) -> None:
        """Both tables in the experiment's arm order, then by seed (and epoch)."""
        order = {name: i for i, name in enumerate(self.arms)}
        self.rows.sort(key=lambda r: (order[r["arm"]], int(r["seed"])))
        self.curves.sort(key=lambda r: (order[r["arm"]], int(r["seed"]), int(r["epoch"])))
        atomic.write_text(self.run_dir / "runs.csv", pd.DataFrame(self.rows).to_csv(index=False))
        atomic.write_text(self.run_dir / "curves.csv", pd.DataFrame(self.curves).to_csv(index=False))

    def finish(self) -> ExperimentOutcome:
        runs, curves = pd.DataFrame(self.rows), pd.DataFrame(self.curves)
        summary, verdicts = write_report(self.run_dir, self.settings, runs, curves)
        return ExperimentOutcome(self.run_dir, runs, summary, verdicts)


def _curve_rows(arm: str, seed: int, curve: pd.DataFrame) -> list[dict]:
    return [{"arm": arm, "seed": seed, "epoch": int(m["epoch"]), "train_loss": m["train_loss"],
             "train_error": 1 - m["train_accuracy"], "val_error": 1 - m["val_accuracy"],
             "test_error": 1 - m["test_accuracy"], "lr": m["lr"], "wall_time_s": m["wall_time_s"]}
            for m in curve.to_dict("records")]


def _read_table(path: Path) -> pd.DataFrame:
    return atomic.read_table(path, ("arm", "seed"), "a lecture experiment's table")


def _weights(run_dir: Path, arm: str, seed: int) -> Path:
    return run_dir / "weights" / f"{arm}-seed{seed}.pt"


def _error_line(trial) -> str:
    """The last line of the error a trial raised (Tune keeps its traceback in the trial's error file)."""
    try:
        lines = [line for line in Path(trial.error_file).read_text().splitlines() if line.strip()]
    except (OSError, TypeError):
        lines = []
    return lines[-1].strip() if lines else "the trial raised an error"


def _now() -> str:
    return dt.datetime.now(dt.timezone.utc).isoformat(timespec="seconds")
