"""Build (or extend) a tabular benchmark: every planned (member, seed) not yet in the table trained as a Ray Tune
trial, locally or on a cluster; rows collected by the driver and the table rewritten atomically as they come.

An interrupted build keeps every row it collected; running the same build again trains only what is missing."""
from __future__ import annotations

import dataclasses
import datetime as dt
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

from ray import tune

from nasbench.atomic import writable_folder
from nasbench.data import load_dataset
from nasbench.errors import SettingError
from nasbench.genome import Genome
from nasbench.search import cluster
from nasbench.search.lock import table_lock
from nasbench.search.runner import dataset_info, package_versions
from nasbench.space import SearchSpace
from nasbench.tabular.members import plan_members
from nasbench.tabular.settings import TabulateSettings
from nasbench.tabular.table import (
    FORMAT,
    TableRow,
    manifest_path,
    read_manifest,
    read_rows,
    write_manifest,
    write_rows,
)
from nasbench.tabular.trials import BuildContext, train_member

Log = Callable[[str], None]
FLUSH_S = 10.0  # the table is rewritten at most this often while trials finish (and always at the end)


@dataclasses.dataclass(frozen=True)
class BuildOutcome:
    path: Path
    rows: int           # rows in the table now
    added: int          # rows this build added
    failed: int         # trials that raised (their rows are missing; a rerun trains them again)
    wall_time_s: float
    interrupted: bool = False


def tabulate(settings: TabulateSettings, space: SearchSpace, command: str = "", log: Log | None = None,
             callbacks: tuple = ()) -> BuildOutcome:
    """Train every planned (member, seed) of `space` that `settings.out_path` does not hold yet, and write the table
    and its manifest. SettingError when the file is a table built under other training settings, or is being built by
    another process."""
    log = log or print
    settings = dataclasses.replace(settings, space=space.name)
    dataset = load_dataset(settings.dataset, settings.data_dir, settings.resolution, seed=settings.seed,
                           limit=settings.limit)
    space = space.for_input(dataset.in_chans, dataset.resolution, dataset.num_classes, max_flops=settings.max_flops,
                            max_params=settings.max_params)
    members = plan_members(space, settings.members, settings.seed)
    path = Path(settings.out_path).resolve()
    with table_lock(writable_folder(path.parent) / path.name):
        return _build(settings, space, members, dataset_info(dataset), path, command, log, callbacks)


def _build(settings: TabulateSettings, space: SearchSpace, members: list[Genome], dataset: dict, path: Path,
           command: str, log: Log, callbacks: tuple) -> BuildOutcome:
    """The build itself, run while this process holds the table's lock."""
    start = time.perf_counter()
    started = dt.datetime.now(dt.timezone.utc).isoformat(timespec="seconds")
    previous = _previous_build(path, settings)
    rows = {(r.key, r.seed): r for r in (read_rows(path) if path.exists() else [])}
    jobs = tuple((genome.to_json(), seed) for seed in range(settings.seeds) for genome in members
                 if (genome.key(), seed) not in rows)
    manifest = {"format": FORMAT, "space": space.name,
                "input": {"in_chans": space.in_chans, "resolution": space.resolution,
                          "num_classes": space.num_classes},
                "dataset": dataset, "settings": settings.training(),
                "seeds": sorted(set(previous.get("seeds", [])) | set(range(settings.seeds))),
                "members": max(previous.get("members", 0), len(members)), "versions": package_versions(),
                "builds": previous.get("builds", [])}
    write_manifest(path, {**manifest, "rows": len(rows)})
    log(f"table {path} | space {space.name}: {len(members)} members x {settings.seeds} seeds on {settings.dataset} "
        f"({space.in_chans}x{space.resolution}x{space.resolution}), {settings.epochs} epochs | {len(rows)} rows "
        f"present, {len(jobs)} to train")
    collector = Collector(path, rows, len(jobs), log)
    failed, interrupted = (_train(settings, jobs, collector, callbacks) if jobs else (0, False))
    collector.flush()
    wall = time.perf_counter() - start
    build = {"command": command, "started": started, "wall_time_s": round(wall, 1), "rows_added": collector.added,
             "failed": failed, "interrupted": interrupted}
    builds = manifest["builds"] + [build]
    write_manifest(path, {**manifest, "rows": len(rows), "builds": builds,
                          "wall_time_s": round(sum(b["wall_time_s"] for b in builds), 1)})
    return BuildOutcome(path, len(rows), collector.added, failed, wall, interrupted)


def _previous_build(path: Path, settings: TabulateSettings) -> dict:
    """The manifest of the table at `path` ({} when there is none); SettingError when it was built under other
    training settings, or when a table file lacks its manifest."""
    if not path.exists() and not manifest_path(path).exists():
        return {}
    previous = read_manifest(path)  # also there when a build stopped before its first row
    wanted = settings.training()
    for name, value in previous.get("settings", {}).items():
        if wanted.get(name) != value:
            raise SettingError(f"{path} was built with {name}={value!r}, not {wanted.get(name)!r}; extend it with "
                               "the settings it was built with, or write another table", "out")
    return previous


def _train(settings: TabulateSettings, jobs: tuple, collector: Collector, callbacks: tuple) -> tuple[int, bool]:
    """Train the jobs under Ray Tune; (trials that raised, whether the build was interrupted)."""
    search_settings = settings.search_settings(len(jobs))
    context = BuildContext(settings, jobs)
    trainable = tune.with_resources(tune.with_parameters(train_member, context=context),
                                    {"cpu": settings.cpus_per_trial, "gpu": settings.gpus_per_trial})
    with cluster.connected(search_settings) as resources, tempfile.TemporaryDirectory() as scratch:
        concurrency = cluster.concurrency(search_settings, resources)
        storage = Path(settings.storage_path or scratch).resolve()
        collector.log(f"Ray: {resources.get('CPU', 0):g} CPUs, {resources.get('GPU', 0):g} GPUs; up to "
                      f"{concurrency} training(s) at once")
        tuner = tune.Tuner(
            trainable, param_space={"job": tune.grid_search(list(range(len(jobs))))},
            tune_config=tune.TuneConfig(max_concurrent_trials=concurrency, reuse_actors=settings.reuse_actors),
            run_config=tune.RunConfig(name=f"tabulate-{Path(settings.out_path).stem}", storage_path=str(storage),
                                      verbose=0, callbacks=[collector, *callbacks],
                                      failure_config=tune.FailureConfig(max_failures=settings.max_failures)))
        try:
            results = tuner.fit()
        except KeyboardInterrupt:  # a second Ctrl-C; the first ends Tune gracefully
            return 0, True
    failed = sum(result.error is not None for result in results)
    return failed, collector.added + failed < len(jobs)


class Collector(tune.Callback):
    """Adds each finished training's row to the table, rewriting the file at most every FLUSH_S seconds."""

    def __init__(self, path: Path, rows: dict, total: int, log: Log):
        self.path, self.rows, self.total, self.log = path, rows, total, log
        self.added, self._written, self._start = 0, time.monotonic(), time.monotonic()

    def on_trial_complete(self, iteration, trials, trial, **info):
        result = trial.last_result or {}
        if "key" not in result:
            return
        row = TableRow.from_mapping(result)
        self.rows[(row.key, row.seed)] = row
        self.added += 1
        elapsed = time.monotonic() - self._start
        eta = elapsed / self.added * (self.total - self.added)
        state = f"failed: {row.failure_reason[:60]}" if row.failure_reason else f"val acc {row.val_accuracy[-1]:.3f}"
        self.log(f"[{self.added}/{self.total}] {row.key} seed {row.seed} {state} | trained in {row.wall_time_s:.1f} s "
                 f"| {elapsed / 60:.1f} min elapsed, {eta / 60:.1f} min left")
        if time.monotonic() - self._written >= FLUSH_S:
            self.flush()

    def flush(self) -> None:
        write_rows(self.path, self.rows.values())
        self._written = time.monotonic()
