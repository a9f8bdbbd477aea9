"""Retrain a genome from scratch with the full recipe, one Ray Tune trial per seed (locally or on a cluster), into a
retrain folder: retrain.json (the plan a resume reads), seeds.csv, model.pt (the weights of the seed with the best
validation accuracy), card.json and card.md. A killed or interrupted retrain continues from each seed's newest
checkpoint."""
from __future__ import annotations

import dataclasses
import datetime as dt
import json
import math
from collections.abc import Callable, Sequence
from pathlib import Path

import pandas as pd
import torch
from ray import tune

from nasbench import atomic
from nasbench.build import build, check_fits
from nasbench.cost import measure_latency
from nasbench.data import load_dataset
from nasbench.deploy.card import CARD_FILE, Card, best_seed, new_card, write_card
from nasbench.deploy.recipe import describe_recipe
from nasbench.deploy.settings import RetrainSettings
from nasbench.deploy.source import Source
from nasbench.deploy.trainable import SeedContext, first_readable, seed_checkpoints, train_seed
from nasbench.errors import SettingError
from nasbench.genome import Genome
from nasbench.search import cluster
from nasbench.search.lock import run_lock
from nasbench.search.runner import dataset_info, package_versions, root_cause

Log = Callable[[str], None]
PLAN_FILE = "retrain.json"
PLAN_FORMAT = "nasbench-retrain/1"
SEEDS_FILE = "seeds.csv"
WEIGHTS_FILE = "model.pt"
DEFAULT_PARENT = "results/retrain"  # where a retrain without `out` gets a new folder
EXPERIMENTS = "retrain-*"           # the Tune experiments of a retrain folder: one per start or resume


@dataclasses.dataclass(frozen=True)
class SeedOutcome:
    """One seed: status "ok", "failed" (failure_reason says why) or "incomplete" (stopped; resume continues it)."""

    seed: int
    status: str
    failure_reason: str = ""
    epochs: int = 0
    val_accuracy: float = math.nan
    test_accuracy: float = math.nan
    wall_time_s: float = 0.0        # training time over all starts
    resumed_from: int = 0           # the epoch this start continued after (0: trained from scratch)


@dataclasses.dataclass(frozen=True)
class RetrainOutcome:
    folder: Path
    seeds: tuple[SeedOutcome, ...]
    card: Card | None               # None while a seed is incomplete

    @property
    def interrupted(self) -> bool:
        return self.card is None


class RetrainFailed(RuntimeError):
    """Not the input's fault (every seed failed, Ray Tune stopped): one line; the checkpoints are kept."""


def retrain(settings: RetrainSettings, source: Source, command: str = "", log: Log | None = None,
            callbacks: Sequence = ()) -> RetrainOutcome:
    """Train `source.genome` (fitted to the dataset's channels and classes) once per seed in a new retrain folder
    (`settings.out`, else a new results/retrain/<run-id>/). Inputs, the dataset and the cluster are checked before
    the folder is created. `log` receives progress lines (default: print); `callbacks`: extra Ray Tune callbacks."""
    log = log or print  # looked up now: Ray may replace print in this process
    genome, dataset = prepare(settings, source.genome)
    check_out(settings.out)
    with cluster.connected(settings.search_settings()) as resources:
        folder = _new_folder(settings.out)
        plan = {"format": PLAN_FORMAT, "settings": settings.to_dict(), "genome": genome.to_json(),
                "origin": source.origin, "dataset": dataset, "commands": [command] if command else [],
                "versions": package_versions(),
                "created": dt.datetime.now(dt.timezone.utc).isoformat(timespec="seconds")}
        atomic.write_text(folder / PLAN_FILE, json.dumps(plan, indent=2) + "\n")
        with run_lock(folder):
            return _run(folder, plan, resources, {}, log, callbacks)


def resume_retrain(folder: str | Path, command: str = "", log: Log | None = None,
                   callbacks: Sequence = ()) -> RetrainOutcome:
    """Continue a retrain that was killed or interrupted: every seed from its newest checkpoint (a finished seed
    is only tested again). SettingError when `folder` is no retrain folder or its card is written already."""
    log = log or print
    folder = Path(folder)
    plan, settings = read_plan(folder)
    if (folder / CARD_FILE).exists():
        raise SettingError(f"{folder} is complete (its card.json is written); there is nothing to resume", "resume")
    with cluster.connected(settings.search_settings()) as resources, run_lock(folder):
        plan = {**plan, "commands": plan["commands"] + ([command] if command else [])}
        atomic.write_text(folder / PLAN_FILE, json.dumps(plan, indent=2) + "\n")
        checkpoints = seed_checkpoints(settings.search_settings().ray_storage(folder), EXPERIMENTS)
        return _run(folder, plan, resources, checkpoints, log, callbacks)


def prepare(settings: RetrainSettings, genome: Genome) -> tuple[Genome, dict]:
    """The genome fitted to the dataset (at `settings.resolution` when given) and what the card records of the
    data; DatasetError, GenomeError or TooLargeError when they cannot work."""
    if settings.resolution is not None:
        genome = genome.with_input(resolution=settings.resolution)
    dataset = load_dataset(settings.dataset, settings.data_dir, genome.resolved().resolution, seed=settings.seed,
                           limit=settings.limit)
    genome = genome.with_input(in_chans=dataset.in_chans, num_classes=dataset.num_classes)
    check_fits(genome)
    return genome, {**dataset_info(dataset), "split_seed": settings.seed, "limit": settings.limit,
                    "data_dir": settings.data_dir, "mean": list(dataset.mean), "std": list(dataset.std)}


def read_plan(folder: Path) -> tuple[dict, RetrainSettings]:
    """A retrain folder's retrain.json and its settings; SettingError naming the file and what is wrong."""
    path = folder / PLAN_FILE
    if not path.is_file():
        raise SettingError(f"{folder} is not a retrain folder (no {PLAN_FILE}); pass the folder "
                           "python -m runners.train wrote", "resume")
    try:
        plan = json.loads(path.read_text(encoding="utf-8"))
        if not isinstance(plan, dict) or plan.get("format") != PLAN_FORMAT:
            raise ValueError(f"format is not {PLAN_FORMAT}")
        settings = RetrainSettings.from_dict(plan["settings"])
        Genome.from_json(plan["genome"])
    except (ValueError, KeyError, TypeError, UnicodeDecodeError) as exc:
        raise SettingError(f"{path} cannot be read back ({exc})", "resume") from None
    return plan, settings


def check_out(out: str | None) -> None:
    """SettingError unless `out` is None (a new folder), or a new or empty folder."""
    if out is None:
        return
    folder = Path(out)
    if (folder / PLAN_FILE).exists():
        raise SettingError(f"{folder} holds a retrain already; resume it, or write to another folder", "out")
    if folder.exists() and (not folder.is_dir() or any(folder.iterdir())):
        raise SettingError(f"{folder} is not an empty folder; write to a new or empty folder", "out")


def _new_folder(out: str | None) -> Path:
    if out is None:
        return atomic.new_run_folder(DEFAULT_PARENT)
    folder = Path(out)
    try:
        folder.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise SettingError(f"cannot create {folder}: {exc.strerror or exc}", "out") from None
    return folder


def _run(folder: Path, plan: dict, resources: dict, checkpoints: dict[int, tuple[str, ...]], log: Log,
         callbacks: Sequence) -> RetrainOutcome:
    """Train every seed under Ray Tune (continuing from `checkpoints`), then write seeds.csv and, once every seed
    finished, model.pt and the card."""
    settings = RetrainSettings.from_dict(plan["settings"])
    search = settings.search_settings()
    storage = search.ray_storage(folder)
    concurrency = cluster.concurrency(search, resources)
    trainable = tune.with_resources(
        tune.with_parameters(train_seed, context=SeedContext(settings, plan["genome"], checkpoints)),
        {"cpu": settings.cpus_per_trial, "gpu": settings.gpus_per_trial})
    continued = ", ".join(str(seed) for seed in sorted(checkpoints))
    log(f"retrain {folder}: {settings.seeds} seed(s) x {settings.epochs} epochs on {settings.dataset}; Ray: "
        f"{resources.get('CPU', 0):g} CPUs, {resources.get('GPU', 0):g} GPUs, up to {concurrency} seed(s) at once"
        + (f"; continuing seed(s) {continued} from their newest checkpoints" if continued else ""))
    tuner = tune.Tuner(
        trainable, param_space={"seed": tune.grid_search(list(range(settings.seeds)))},
        tune_config=tune.TuneConfig(max_concurrent_trials=concurrency),
        run_config=tune.RunConfig(name=f"retrain-{len(list(storage.glob(EXPERIMENTS)))}", storage_path=str(storage),
                                  verbose=0, callbacks=[SeedProgress(settings.epochs, log), *callbacks],
                                  failure_config=tune.FailureConfig(max_failures=settings.max_failures),
                                  checkpoint_config=tune.CheckpointConfig(num_to_keep=2)))
    try:
        results = list(tuner.fit())
    except KeyboardInterrupt:  # a second Ctrl-C; the first ends Tune gracefully
        return RetrainOutcome(folder, (), None)
    except (tune.TuneError, OSError) as exc:
        raise RetrainFailed(f"the retrain stopped: {root_cause(exc)}; its checkpoints are kept in {storage}; fix "
                            f"the cause, then resume {folder}") from None
    seeds = tuple(sorted((_seed_outcome(result) for result in results), key=lambda s: s.seed))
    atomic.write_text(folder / SEEDS_FILE, pd.DataFrame([dataclasses.asdict(s) for s in seeds]).to_csv(index=False))
    if any(s.status == "incomplete" for s in seeds):
        return RetrainOutcome(folder, seeds, None)
    final = {int(r.config["seed"]): r.checkpoint for r in results}
    return RetrainOutcome(folder, seeds, _finish(folder, plan, settings, seeds, final, checkpoints))


def _seed_outcome(result: tune.Result) -> SeedOutcome:
    metrics, seed = result.metrics or {}, int(result.config["seed"])
    if result.error is not None:
        return SeedOutcome(seed, "failed", root_cause(result.error))
    if metrics.get("status") not in ("ok", "failed"):
        return SeedOutcome(seed, "incomplete", epochs=int(metrics.get("epoch", 0)))
    return SeedOutcome(seed, metrics["status"], metrics["failure_reason"], int(metrics["epochs"]),
                       float(metrics["val_accuracy"]), float(metrics["test_accuracy"]),
                       float(metrics["wall_time_s"]), int(metrics["resumed_from"]))


def _finish(folder: Path, plan: dict, settings: RetrainSettings, seeds: tuple[SeedOutcome, ...],
            final: dict[int, tune.Checkpoint | None], checkpoints: dict[int, tuple[str, ...]]) -> Card:
    """model.pt from the best seed by validation accuracy, and the card."""
    ok = [s for s in seeds if s.status == "ok"]
    if not ok:
        raise RetrainFailed("every seed failed: " + "; ".join(f"seed {s.seed}: {s.failure_reason}" for s in seeds))
    finished = [dataclasses.asdict(s) for s in ok]
    best = best_seed(finished)["seed"]
    state = _final_state(final.get(best), checkpoints.get(best, ()))
    weights = {name: tensor.contiguous() for name, tensor in (state["ema"] or state["model"]).items()}
    with atomic.atomic_path(folder / WEIGHTS_FILE) as tmp:
        torch.save(weights, tmp)
    genome = Genome.from_json(plan["genome"])
    model = build(genome)
    model.load_state_dict(weights)
    fields = new_card(genome, weights=WEIGHTS_FILE, seeds=finished, dataset=plan["dataset"],
                      recipe=describe_recipe(settings), latency=latencies(model, genome, settings.latency_batch),
                      origin=plan["origin"], commands=plan["commands"], versions=plan["versions"],
                      failed_seeds=[{"seed": s.seed, "reason": s.failure_reason} for s in seeds if s.status != "ok"])
    return write_card(folder, fields)


def _final_state(checkpoint: tune.Checkpoint | None, earlier: tuple[str, ...]) -> dict:
    """The last training state of a seed: from this start's last checkpoint, else (a seed that had finished before
    this start, so trained no epoch in it) from the checkpoint it was continued from."""
    if checkpoint is not None:
        with checkpoint.as_directory() as folder:
            state = first_readable([folder])
    else:
        state = first_readable(earlier)
    if state is None:
        raise RetrainFailed("the final checkpoint of the best seed cannot be read; resume the retrain")
    return state


def latencies(model: torch.nn.Module, genome: Genome, batch: int) -> dict:
    """Median forward latency on the CPU (and the GPU when there is one) at batch 1 and at `batch`."""
    resolved = genome.resolved()
    devices = ["cpu", *(["cuda"] if torch.cuda.is_available() else [])]
    out = {}
    for device in devices:
        one, many = (measure_latency(model, device=device, batch=size, resolution=resolved.resolution,
                                     in_chans=resolved.in_chans) for size in (1, batch))
        name = torch.cuda.get_device_name() if device == "cuda" else f"{torch.get_num_threads()} threads"
        out[device] = {"device": name, "batch_1_ms": one, "batch": batch, "batch_ms": many,
                       "images_per_s": batch / many * 1000.0}
    return out


class SeedProgress(tune.Callback):
    """A line per seed and epoch, and one when a seed finishes."""

    def __init__(self, epochs: int, log: Log):
        self.epochs, self.log = epochs, log

    def on_trial_result(self, iteration, trials, trial, result, **info):
        seed, status = result.get("seed"), result.get("status")
        if status == "running":
            self.log(f"seed {seed} epoch {result['epoch']}/{self.epochs}: val acc {result['val_accuracy']:.4f}, "
                     f"train loss {result['train_loss']:.4f} ({result['wall_time_s']:.0f} s)")
        elif status == "ok":
            after = f", continued after epoch {result['resumed_from']}" if result["resumed_from"] else ""
            self.log(f"seed {seed} done: val acc {result['val_accuracy']:.4f}, test acc "
                     f"{result['test_accuracy']:.4f}{after}")
        elif status == "failed":
            self.log(f"seed {seed} failed: {result['failure_reason']}")
