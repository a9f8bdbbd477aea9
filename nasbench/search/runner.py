"""Run (or resume) a search: Ray Tune trials sampled by a persistent Optuna study, outputs in a fresh run folder."""
from __future__ import annotations

import contextlib
import dataclasses
import datetime as dt
import json
import os
import platform
from collections.abc import Callable, Sequence
from pathlib import Path

import optuna
import pandas as pd
from optuna.trial import TrialState

from nasbench import atomic
from nasbench.data import Dataset, load_dataset
from nasbench.errors import SettingError, error_chain
from nasbench.search.journal_file import BatchedJournalStorage
from nasbench.search.lock import run_lock
from nasbench.search.results import trained_trials, trials_frame, write_outputs
from nasbench.search.settings import SearchSettings
from nasbench.search.study import JOURNAL_URL, check_storage, open_study
from nasbench.space import SearchSpace, check_budgets_reachable

Log = Callable[[str], None]


@dataclasses.dataclass(frozen=True)
class RunOutcome:
    run_dir: Path
    trials: pd.DataFrame
    front: pd.DataFrame
    interrupted: bool = False  # stopped (Ctrl-C) before its trial count; `resume_search` continues it
    trains: bool = True  # False for a zero-cost search: its trials were scored by proxies, not trained


def run_search(settings: SearchSettings, space: SearchSpace, log: Log | None = None,
               callbacks: Sequence = ()) -> RunOutcome:
    """Search `space` (any instance of the family: it is adapted to the dataset's input and the budgets) in a new
    run folder `results_dir/<space>/<run-id>/` until `settings.trials` trials were trained.

    Inputs are checked (dataset, space, Ray cluster and its resources) before the run folder is created.
    `log` receives the progress lines (default: print); `callbacks`: extra Ray Tune callbacks (W&B, MLflow, ...)."""
    from nasbench.search import cluster

    log = log or print  # looked up now: the Tuner pickles its callbacks, and Ray may have replaced print since import
    settings = dataclasses.replace(settings, space=space.name)
    dataset, space = _prepare(settings, space)
    check_storage(settings.optuna_storage)
    parent = atomic.writable_folder(Path(settings.results_dir) / settings.space)
    with cluster.connected(settings) as resources:
        run_dir = atomic.new_run_folder(parent)
        with run_lock(run_dir):
            return _start(settings, space, dataset, run_dir, resources, log, callbacks)


def _start(settings: SearchSettings, space: SearchSpace, dataset: dict, run_dir: Path, resources: dict, log: Log,
           callbacks: Sequence) -> RunOutcome:
    """Write the new run's config.json, create its study (seeded with the zoo members if asked), and search."""
    storage_url = settings.optuna_storage or JOURNAL_URL
    config = {"run_id": run_dir.name, "study_name": f"nasbench-{settings.space}-{run_dir.name}",
              "optuna_storage": storage_url, "settings": settings.to_dict(), "versions": package_versions(),
              "created": dt.datetime.now(dt.timezone.utc).isoformat(timespec="seconds"),
              "dataset": dataset, "resumes": []}
    atomic.write_text(run_dir / "config.json", json.dumps(config, indent=2))
    study, storage = open_study(run_dir, config, settings, create=True)
    members = space.members()
    if settings.seed_zoo:
        for genome in list(members.values())[:settings.trials]:
            study.enqueue_trial(space.encode(genome))
    budget = (f" | FLOP budget {space.max_flops:.3g}" if space.max_flops is not None
              else " | no FLOP budget: samples may be very large")
    replayed = f" replayed from {Path(settings.benchmark).name}" if settings.benchmark else ""
    work = (f"{settings.trials} trials x {settings.epochs} epochs" if settings.trains else
            f"{settings.trials} trials scored by {', '.join(settings.proxies)} at initialisation, none trained")
    log(f"run {run_dir} | space {settings.space} | {work} on "
        f"{settings.dataset} ({dataset['in_chans']}x{dataset['resolution']}x{dataset['resolution']}){replayed} | "
        f"sampler {settings.sampler}{budget}")
    return _execute(settings, run_dir, study, storage, space, members, settings.trials, resources, log,
                    callbacks)


def run_settings(run_dir: str | os.PathLike) -> SearchSettings:
    """The settings a run folder was started with (its config.json); ValueError naming the file when unreadable."""
    return _read_config(Path(run_dir) / "config.json")[1]


def _read_config(config_path: Path, **overrides) -> tuple[dict, SearchSettings]:
    """A run's config.json and its settings (with `overrides`); ValueError naming the file and what is wrong."""
    if not config_path.is_file():
        raise ValueError(f"{config_path.parent} is not a run folder (no config.json); pass results/<space>/<run-id>")
    config = atomic.read_json(config_path, ValueError)
    missing = [key for key in ("settings", "study_name", "optuna_storage") if not isinstance(config, dict)
               or not isinstance(config.get(key), dict if key == "settings" else str)]
    if missing:
        raise ValueError(f"{config_path} is not a run's configuration: {missing[0]} is missing or of the wrong type")
    try:
        settings = dataclasses.replace(SearchSettings.from_dict(config["settings"]), **overrides)
    except (ValueError, TypeError) as exc:
        raise ValueError(f"{config_path}: {exc}") from None
    return config, settings


def resume_search(run_dir: str | os.PathLike, space: SearchSpace, log: Log | None = None, callbacks: Sequence = (),
                  **overrides) -> RunOutcome:
    """Continue an interrupted run of `space` to its trial count: finished trials are kept, none is repeated; trials
    that were in flight when it stopped are marked interrupted and their genomes queued again."""
    log = log or print
    run_dir = Path(run_dir)
    config, settings = _read_config(run_dir / "config.json", **overrides)
    if space.name != settings.space:
        raise ValueError(f"{run_dir} is a run of the {settings.space} space, not of {space.name}")
    _, space = _prepare(settings, space)
    with run_lock(run_dir):
        return _continue(run_dir, config, settings, space, log, callbacks, overrides)


def _continue(run_dir: Path, config: dict, settings: SearchSettings, space: SearchSpace, log: Log,
              callbacks: Sequence, overrides: dict) -> RunOutcome:
    """Reopen the study (repairing its journal), queue interrupted trials again, and search to the trial count."""
    config_path = run_dir / "config.json"
    study, storage = open_study(run_dir, config, settings, create=False, log=log)
    interrupted = _requeue_interrupted(study, storage)
    done = trained_trials(study)
    config.setdefault("resumes", []).append({"at": dt.datetime.now(dt.timezone.utc).isoformat(timespec="seconds"),
                              "finished_before": done, "interrupted": interrupted, "overrides": overrides})
    config["settings"] = settings.to_dict()
    atomic.write_text(config_path, json.dumps(config, indent=2))
    log(f"resuming {run_dir}: {done} of {settings.trials} trials finished, {len(interrupted)} interrupted "
        "trial(s) queued again")
    if done >= settings.trials:
        return _execute(settings, run_dir, study, storage, space, {}, 0, {}, log)
    from nasbench.search import cluster

    with cluster.connected(settings) as resources:
        return _execute(settings, run_dir, study, storage, space, space.members(), settings.trials - done,
                        resources, log, callbacks)


def _requeue_interrupted(study: optuna.Study, storage: optuna.storages.BaseStorage) -> list[int]:
    """Trials left RUNNING by a crash: marked interrupted (kept out of the table), failed, and queued again."""
    study_id = storage.get_study_id_from_name(study.study_name)
    numbers = []
    for trial in study.get_trials(deepcopy=False, states=(TrialState.RUNNING,)):
        trial_id = storage.get_trial_id_from_study_id_trial_number(study_id, trial.number)
        storage.set_trial_user_attr(trial_id, "interrupted", True)
        study.tell(trial.number, state=TrialState.FAIL)
        study.enqueue_trial(trial.params, skip_if_exists=False)
        numbers.append(trial.number)
    return numbers


def _prepare(settings: SearchSettings, space: SearchSpace) -> tuple[dict, SearchSpace]:
    """Load the dataset (fails early with a clear error), or open the table a search replays, and adapt the space
    to its input and to the budgets; the dataset's `dataset_info`."""
    from nasbench.tabular.benchmark import check_coverage, open_benchmark  # imports Ray, as a search does

    if settings.benchmark:
        table = open_benchmark(settings)
        info = table.manifest["dataset"]
    else:
        info = dataset_info(load_dataset(settings.dataset, settings.data_dir, settings.resolution, seed=settings.seed,
                                         limit=settings.limit))
    space = space.for_input(in_chans=info["in_chans"], resolution=info["resolution"],
                            num_classes=info["num_classes"], max_flops=settings.flops_budget,
                            max_params=settings.max_params)
    if settings.benchmark:
        check_coverage(table, space)
    if settings.sampler == "grid" and settings.trials > (points := space.grid_size()):
        raise SettingError(f"the {space.name} grid has {points} points; ask for at most {points} trials", "trials")
    check_budgets_reachable(space, seed=settings.seed)
    return info, space


def dataset_info(dataset: Dataset) -> dict:
    """What config.json and table manifests record of a dataset: its name, input and split sizes."""
    return {"name": dataset.name, "in_chans": dataset.in_chans, "resolution": dataset.resolution,
            "num_classes": dataset.num_classes, "train": len(dataset.train.labels), "val": len(dataset.val.labels),
            "test": len(dataset.test.labels)}


def package_versions() -> dict:
    """Python's and the main packages' versions, as run folders and table manifests record them."""
    from importlib.metadata import version

    out = {"python": platform.python_version()}
    for package in ("nasbench", "torch", "torchvision", "timm", "fvcore", "optuna", "ray", "pandas", "numpy"):
        try:
            out[package] = version(package)
        except Exception:  # a package installed without metadata
            out[package] = "unknown"
    return out


def _execute(settings: SearchSettings, run_dir: Path, study: optuna.Study, storage: optuna.storages.BaseStorage,
             space: SearchSpace, members: dict, n_trials: int, resources: dict, log: Log,
             callbacks: Sequence = ()) -> RunOutcome:
    """Search until the trial count (if any trials are left), then write the run folder's outputs."""
    from ray import tune

    try:
        interrupted = n_trials > 0 and _fit(settings, run_dir, study, storage, space, members, n_trials, resources,
                                            log, callbacks)
        frame = trials_frame(study, run_dir.name)
        front = write_outputs(run_dir, frame, settings.directions, settings.ray_storage(run_dir))
    except (tune.TuneError, OSError) as exc:
        raise SearchFailed(f"the search stopped: {root_cause(exc)}; every trial finished before is kept in "
                           f"{run_dir}; fix the cause, then resume the run") from None
    return RunOutcome(run_dir, frame, front, interrupted, settings.trains)


def _fit(settings: SearchSettings, run_dir: Path, study: optuna.Study, storage: optuna.storages.BaseStorage,
         space: SearchSpace, members: dict, n_trials: int, resources: dict, log: Log, callbacks: Sequence) -> bool:
    """Run `n_trials` more trials under Ray Tune; whether the search was interrupted (Ctrl-C) before its count."""
    from nasbench.search import cluster
    from nasbench.search.tuning import default_loggers

    concurrency = cluster.concurrency(settings, resources)
    tuner, searcher = _tuner(settings, run_dir, study, storage, space, members, n_trials, concurrency, log, callbacks)
    log(f"Ray: {resources.get('CPU', 0):g} CPUs, {resources.get('GPU', 0):g} GPUs; up to {concurrency} "
        f"trial(s) at once")
    with contextlib.suppress(KeyboardInterrupt), default_loggers(settings):  # a second Ctrl-C raises here
        tuner.fit()  # Tune ends gracefully on Ctrl-C
    if searcher.storage_error:
        raise SearchFailed(f"the search stopped: the study could not be written ({searcher.storage_error}); every "
                           f"trial told before is kept; fix the storage, then resume {run_dir}")
    done = trained_trials(study)
    interrupted = done < settings.trials and not searcher.sample_cap_reached
    if interrupted:
        log(f"interrupted after {done} of {settings.trials} trials")
    elif done < settings.trials:
        log(f"stopped after {done} of {settings.trials} trials: the sampler's last samples held no genome to train "
            "(all over budget, or repeats of trained genomes; --allow-repeats trains repeats)")
    return interrupted


class SearchFailed(RuntimeError):
    """Ray Tune stopped the search (a full disk, a lost cluster): one line; the run folder keeps what was told."""


def root_cause(error: BaseException) -> str:
    """The innermost error under Tune's wrapping: an OSError's meaning ("No space left on device"), else the last
    line of its message."""
    for seen in error_chain(error):
        if isinstance(seen, OSError) and seen.errno:
            return os.strerror(seen.errno) + (f": {seen.filename}" if seen.filename else "")
    lines = [line for line in str(error).strip().splitlines() if line.strip()]
    return lines[-1] if lines else type(error).__name__


def _tuner(settings: SearchSettings, run_dir: Path, study: optuna.Study, storage: optuna.storages.BaseStorage,
           space: SearchSpace, members: dict, n_trials: int, concurrency: int, log: Log, callbacks: Sequence):
    from ray import tune
    from ray.tune.schedulers import ASHAScheduler, FIFOScheduler

    from nasbench.replay_worker import Replay, ReplayTrainable
    from nasbench.search.durable import FlushOnTrialStart
    from nasbench.search.moasha import MoAshaScheduler
    from nasbench.search.progress import Progress
    from nasbench.search.searcher import study_searcher
    from nasbench.search.trial import TrialContext, run_trial
    from nasbench.search.tuning import trial_loggers
    from nasbench.tabular.benchmark import open_benchmark

    name = f"tune-{len(study.trials)}"  # one Ray experiment per start or resume of the run
    zoo_keys = {g.key(): name for name, g in members.items()}
    searcher = study_searcher(settings, study, storage, space, zoo_keys, n_trials)
    schedulers = {
        "fifo": FIFOScheduler,
        "asha": lambda: ASHAScheduler(time_attr="epochs", metric="accuracy", mode="max", max_t=settings.epochs,
                                      grace_period=1, reduction_factor=2),
        "moasha": lambda: MoAshaScheduler(settings.directions, max_t=settings.epochs, grace_period=1,
                                          reduction_factor=2)}
    scheduler = schedulers[settings.scheduler]()
    if settings.benchmark:
        replay = Replay(open_benchmark(settings).index, settings.seed, settings.epochs,
                        "latency" in settings.objectives, zoo_keys)
        trainable = tune.with_parameters(ReplayTrainable, replay=replay)
    else:
        trainable = tune.with_parameters(run_trial, context=TrialContext(settings, zoo_keys))
    trainable = tune.with_resources(trainable, {"cpu": settings.cpus_per_trial, "gpu": settings.gpus_per_trial})
    storage_path = settings.ray_storage(run_dir)
    own = [Progress(study, run_dir, settings, log), *trial_loggers(settings)]
    if isinstance(storage, BatchedJournalStorage):  # a trial is in the journal before it trains
        own.append(FlushOnTrialStart(storage.flush))
    tuner = tune.Tuner(
        trainable,
        tune_config=tune.TuneConfig(search_alg=searcher, scheduler=scheduler, num_samples=-1,
                                    max_concurrent_trials=concurrency, reuse_actors=settings.reuse_actors),
        run_config=tune.RunConfig(name=name, storage_path=str(storage_path), verbose=0,
                                  callbacks=[*own, *callbacks],
                                  failure_config=tune.FailureConfig(max_failures=settings.max_failures),
                                  checkpoint_config=tune.CheckpointConfig(num_to_keep=1, checkpoint_at_end=False)),
    )
    return tuner, searcher

