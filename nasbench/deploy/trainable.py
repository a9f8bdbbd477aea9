"""One seed of a retrain as a Ray Tune function trainable: a checkpoint of the whole training state after every
epoch, and a start from the newest checkpoint of that seed when there is one."""
from __future__ import annotations

import dataclasses
import json
import math
import pickle
import tempfile
from collections.abc import Iterable
from pathlib import Path

import torch
from ray import tune

from nasbench.data import load_dataset
from nasbench.deploy.recipe import train_config
from nasbench.deploy.settings import RetrainSettings
from nasbench.genome import Genome
from nasbench.train import EpochMetrics, evaluate

STATE_FILE = "state.pt"  # the trainer's state (nasbench.train.evaluate's checkpoint), torch.save'd
META_FILE = "meta.json"  # {"seed", "epoch"}: found without loading the state


@dataclasses.dataclass(frozen=True)
class SeedContext:
    """What every seed needs (shipped once through Ray's object store)."""

    settings: RetrainSettings
    genome_json: str
    resume: dict[int, tuple[str, ...]]  # seed -> its checkpoint folders to continue from, newest first


def train_seed(config: dict, context: SeedContext) -> None:
    """Ray Tune trainable: train seed `config["seed"]`, reporting each epoch with a checkpoint, then a final report
    (status, validation and test accuracy of the shipped weights). A failed training is reported, never raised."""
    seed, settings = int(config["seed"]), context.settings
    genome = Genome.from_json(context.genome_json)
    dataset = load_dataset(settings.dataset, settings.data_dir, genome.resolved().resolution, seed=settings.seed,
                           limit=settings.limit)
    restarted = tune.get_checkpoint()  # Ray's own, when it restarts this trial after its worker died
    if restarted is not None:
        with restarted.as_directory() as folder:
            state = first_readable([folder])
    else:
        state = first_readable(context.resume.get(seed, ()))

    def save(metrics: EpochMetrics, training_state: dict) -> None:
        with tempfile.TemporaryDirectory() as folder:
            torch.save(training_state, Path(folder) / STATE_FILE)
            (Path(folder) / META_FILE).write_text(json.dumps({"seed": seed, "epoch": metrics.epoch}))
            report = {k: v for k, v in metrics.to_dict().items() if v is not None}
            tune.report({"seed": seed, "status": "running", **report},
                        checkpoint=tune.Checkpoint.from_directory(folder))

    result = evaluate(genome, dataset, train_config(settings, seed), test=True, checkpoint=save, resume=state)
    tune.report({"seed": seed, "status": "ok" if result.ok else "failed", "failure_reason": result.failure_reason,
                 "epochs": result.epochs, "val_accuracy": result.val_accuracy,
                 "test_accuracy": math.nan if result.test_accuracy is None else result.test_accuracy,
                 "wall_time_s": result.history[-1].wall_time_s if result.history else 0.0,
                 "resumed_from": state["epoch"] if state else 0})


def read_state(folder: str | Path) -> dict:
    """The training state in a checkpoint folder (weights_only: never unpickles code)."""
    return torch.load(Path(folder) / STATE_FILE, map_location="cpu", weights_only=True)


def first_readable(folders: Iterable[str | Path]) -> dict | None:
    """The state of the first checkpoint folder that loads (a kill while Ray copied the newest can leave it torn),
    or None when none does."""
    for folder in folders:
        try:
            return read_state(folder)
        except (OSError, RuntimeError, EOFError, pickle.UnpicklingError):
            continue
    return None


def seed_checkpoints(root: Path, pattern: str) -> dict[int, tuple[str, ...]]:
    """Seed -> its checkpoint folders under `root` (Tune experiments matching `pattern`), newest epoch first.

    Read from the folders themselves rather than Tune's experiment state, which Tune writes at most every 10 s:
    after a kill, every checkpoint that reached the disk counts."""
    found: dict[int, list[tuple[int, str]]] = {}
    for meta in root.glob(f"{pattern}/*/checkpoint_*/{META_FILE}"):
        try:
            info = json.loads(meta.read_text())
            seed, epoch = int(info["seed"]), int(info["epoch"])
        except (OSError, ValueError, KeyError, TypeError):
            continue  # a checkpoint copied in part
        found.setdefault(seed, []).append((epoch, str(meta.parent)))
    return {seed: tuple(path for _, path in sorted(items, reverse=True)) for seed, items in found.items()}
