"""Run (or resume) a search: Ray Tune trials sampled by a persistent Optuna study, outputs in a fresh run folder."""
from __future__ import annotations

import dataclasses
import datetime as dt
import json
import os
import platform
from pathlib import Path
from typing import Callable, Sequence

import optuna
import pandas as pd
from optuna.trial import TrialState

from nasbench import atomic
from nasbench.genome import Genome
from nasbench.search.results import counted_trials, trials_frame, write_outputs
from nasbench.search.searcher import ParetoOptunaSearch, make_sampler
from nasbench.search.settings import SearchSettings
from nasbench.search.trial import TrialContext, genome_record, run_trial

Log = Callable[[str], None]
JOURNAL = "optuna.journal"
MAX_SAMPLES_PER_TRIAL = 20  # over-budget samples are drawn again, up to this many per trial asked for


@dataclasses.dataclass(frozen=True)
class RunOutcome:
    run_dir: Path
    trials: pd.DataFrame
    front: pd.DataFrame
    interrupted: bool = False  # stopped (Ctrl-C) before its trial count; `resume_search` continues it


def run_search(settings: SearchSettings, log: Log | None = None, callbacks: Sequence = ()) -> RunOutcome:
    """Start a new run in `results_dir/<space>/<run-id>/` and search until `settings.trials` trials finished.

    Inputs are checked (dataset, space, Ray cluster and its resources) before the run folder is created.
    `log` receives the progress lines (default: print); `callbacks`: extra Ray Tune callbacks (W&B, MLflow, ...)."""
    from nasbench.search import cluster

    log = log or print  # looked up now: the Tuner pickles its callbacks, and Ray may have replaced print since import

    dataset, space = _prepare(settings)
    parent = atomic.writable_folder(Path(settings.results_dir) / settings.space)
    with cluster.connected(settings) as resources:
        run_dir = atomic.new_run_folder(parent)
        storage_url = settings.optuna_storage or f"journal:{JOURNAL}"
        config = {"run_id": run_dir.name, "study_name": f"nasbench-{settings.space}-{run_dir.name}",
                  "optuna_storage": storage_url, "settings": settings.to_dict(), "versions": _versions(),
                  "created": dt.datetime.now(dt.timezone.utc).isoformat(timespec="seconds"),
                  "dataset": _dataset_info(dataset), "resumes": []}
        atomic.write_text(run_dir / "config.json", json.dumps(config, indent=2))
        study = _open_study(run_dir, config, settings, create=True)
        members = space.members()
        seeds = [space.encode(g) for g in members.values()][:settings.trials] if settings.seed_zoo else []
        log(f"run {run_dir} | space {settings.space} | {settings.trials} trials x {settings.epochs} epochs on "
            f"{settings.dataset} ({dataset.resolution}x{dataset.resolution}) | sampler {settings.sampler}")
        return _execute(settings, run_dir, study, space, members, seeds, settings.trials, resources, log, callbacks)


def resume_search(run_dir: str | os.PathLike, log: Log | None = None, callbacks: Sequence = (),
                  **overrides) -> RunOutcome:
    """Continue an interrupted run to its trial count: finished trials are kept, none is repeated; trials that
    were in flight when it stopped are marked interrupted and their genomes queued again."""
    log = log or print
    run_dir = Path(run_dir)
    config_path = run_dir / "config.json"
    if not config_path.is_file():
        raise ValueError(f"{run_dir} is not a run folder (no config.json); pass results/<space>/<run-id>")
    config = json.loads(config_path.read_text())
    settings = dataclasses.replace(SearchSettings.from_dict(config["settings"]), **overrides)
    dataset, space = _prepare(settings)
    study = _open_study(run_dir, config, settings, create=False)
    interrupted = []
    for trial in study.get_trials(deepcopy=False, states=(TrialState.RUNNING,)):
        study._storage.set_trial_user_attr(trial._trial_id, "interrupted", True)
        study.tell(trial.number, state=TrialState.FAIL)
        study.enqueue_trial(trial.params, skip_if_exists=False)
        interrupted.append(trial.number)
    done = counted_trials(study)
    config["resumes"].append({"at": dt.datetime.now(dt.timezone.utc).isoformat(timespec="seconds"),
                              "finished_before": done, "interrupted": interrupted, "overrides": overrides})
    config["settings"] = settings.to_dict()
    atomic.write_text(config_path, json.dumps(config, indent=2))
    log(f"resuming {run_dir}: {done} of {settings.trials} trials finished, {len(interrupted)} interrupted "
        "trial(s) queued again")
    if done >= settings.trials:
        return _execute(settings, run_dir, study, space, {}, [], 0, {}, log)
    from nasbench.search import cluster

    with cluster.connected(settings) as resources:
        return _execute(settings, run_dir, study, space, space.members(), [], settings.trials - done, resources, log,
                        callbacks)


def _prepare(settings: SearchSettings):
    """Load the dataset (fails early with a clear error) and the space adapted to it."""
    from nasbench.data import load_dataset
    from search_spaces import get_space

    dataset = load_dataset(settings.dataset, settings.data_dir, settings.resolution, seed=settings.seed,
                           limit=settings.limit)
    space = get_space(settings.space, in_chans=dataset.in_chans, resolution=dataset.resolution,
                      num_classes=dataset.num_classes, max_flops=settings.max_flops, max_params=settings.max_params)
    if settings.sampler == "grid" and settings.trials > (points := space.grid_size()):
        raise ValueError(f"the {space.name} grid has {points} points; ask for at most {points} trials")
    return dataset, space


def _dataset_info(dataset) -> dict:
    return {"name": dataset.name, "in_chans": dataset.in_chans, "resolution": dataset.resolution,
            "num_classes": dataset.num_classes, "train": len(dataset.train.labels), "val": len(dataset.val.labels),
            "test": len(dataset.test.labels)}


def _open_study(run_dir: Path, config: dict, settings: SearchSettings, create: bool) -> optuna.Study:
    url = config["optuna_storage"]
    if url.startswith("journal:"):
        from optuna.storages import JournalStorage
        from optuna.storages.journal import JournalFileBackend

        storage = JournalStorage(JournalFileBackend(str((run_dir / url.split(":", 1)[1]).resolve())))
    else:
        storage = optuna.storages.RDBStorage(url)
    optuna.logging.set_verbosity(optuna.logging.WARNING)
    directions = ["maximize" if d == "max" else "minimize" for d in settings.directions.values()]
    if create:
        return optuna.create_study(storage=storage, study_name=config["study_name"], directions=directions)
    return optuna.load_study(study_name=config["study_name"], storage=storage)


def _versions() -> dict:
    from importlib.metadata import version

    out = {"python": platform.python_version()}
    for package in ("nasbench", "torch", "torchvision", "timm", "fvcore", "optuna", "ray", "pandas", "numpy"):
        try:
            out[package] = version(package)
        except Exception:  # a package installed without metadata
            out[package] = "unknown"
    return out


def _execute(settings: SearchSettings, run_dir: Path, study: optuna.Study, space, members: dict, seeds: list,
             n_trials: int, resources: dict, log: Log, callbacks: Sequence = ()) -> RunOutcome:
    from nasbench.search import cluster

    interrupted = False
    if n_trials > 0:
        concurrency = cluster.concurrency(settings, resources)
        tuner, searcher = _tuner(settings, run_dir, study, space, members, seeds, n_trials, concurrency, log,
                                 callbacks)
        log(f"Ray: {resources.get('CPU', 0):g} CPUs, {resources.get('GPU', 0):g} GPUs; up to {concurrency} "
            f"trial(s) at once")
        try:
            tuner.fit()  # Tune ends gracefully on Ctrl-C; a second Ctrl-C raises here
        except KeyboardInterrupt:
            pass
        done = counted_trials(study)
        interrupted = done < settings.trials and not searcher.sample_cap_reached
        if interrupted:
            log(f"interrupted after {done} of {settings.trials} trials; continue with: "
                f"python -m runners.search --resume {run_dir}")
    frame = trials_frame(study, run_dir.name)
    front = write_outputs(run_dir, frame, settings.directions, settings.ray_storage(run_dir))
    return RunOutcome(run_dir, frame, front, interrupted)


def _tuner(settings, run_dir, study, space, members, seeds, n_trials, concurrency, log, callbacks):
    from ray import tune
    from ray.tune.schedulers import ASHAScheduler, FIFOScheduler

    from nasbench.search.progress import Progress

    def define_by_run(trial):
        genome = space.sample(trial)
        return {"genome": genome.to_json(), "trial_index": trial.number,
                "infeasible": f"infeasible: {reason}" if (reason := space.over_budget(genome)) else ""}

    name = f"tune-{len(study.trials)}"  # one Ray experiment per start or resume of the run
    grid = space.grid() if settings.sampler == "grid" else None
    sampler = make_sampler(settings.sampler, settings.seed + len(study.trials), grid)
    max_samples = MAX_SAMPLES_PER_TRIAL * n_trials
    if grid:  # each grid point once (over-budget points count as visited), plus trials queued again on resume
        visited = {tuple(sorted(t.params.items())) for t in study.trials if t.state.is_finished()}
        queued = sum(t.state == TrialState.WAITING for t in study.trials)
        max_samples = min(max_samples, space.grid_size() - len(visited) + queued)
    zoo_keys = {g.key(): name for name, g in members.items()}
    searcher = ParetoOptunaSearch(define_by_run, settings.directions, settings.epochs, n_trials,
                                  max_samples=max_samples,
                                  describe=lambda config: genome_record(Genome.from_json(config["genome"]), zoo_keys),
                                  sampler=sampler, storage=study._storage, study_name=study.study_name,
                                  points_to_evaluate=seeds or None)
    scheduler = (ASHAScheduler(time_attr="epoch", metric="accuracy", mode="max", max_t=settings.epochs,
                               grace_period=1, reduction_factor=2)
                 if settings.scheduler == "asha" else FIFOScheduler())
    context = TrialContext(settings, zoo_keys)
    trainable = tune.with_resources(tune.with_parameters(run_trial, context=context),
                                    {"cpu": settings.cpus_per_trial, "gpu": settings.gpus_per_trial})
    storage_path = settings.ray_storage(run_dir)
    progress = Progress(study, run_dir, settings, log)
    tuner = tune.Tuner(
        trainable,
        tune_config=tune.TuneConfig(search_alg=searcher, scheduler=scheduler, num_samples=-1,
                                    max_concurrent_trials=concurrency, reuse_actors=settings.reuse_actors),
        run_config=tune.RunConfig(name=name, storage_path=str(storage_path), verbose=0, callbacks=[progress, *callbacks],
                                  failure_config=tune.FailureConfig(max_failures=settings.max_failures),
                                  checkpoint_config=tune.CheckpointConfig(num_to_keep=1)),
    )
    return tuner, searcher
