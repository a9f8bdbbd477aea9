"""One search trial as a Ray Tune function trainable: build, cost, score the zero-cost proxies among the
objectives, train (unless accuracy is not an objective), report after every epoch."""
from __future__ import annotations

import dataclasses
import math
import tempfile
import time
from pathlib import Path

import ray
import torch
from ray import tune

from nasbench.cost import analytic_cost, measure_latency
from nasbench.data import load_dataset
from nasbench.genome import Genome
from nasbench.proxies import score
from nasbench.search.settings import SearchSettings
from nasbench.train import TrainConfig, evaluate


@dataclasses.dataclass(frozen=True)
class TrialContext:
    """What every trial needs beside its sampled genome (shipped once through Ray's object store)."""

    settings: SearchSettings
    zoo_keys: dict[str, str]  # genome key -> zoo member name

    def train_config(self, trial_seed: int) -> TrainConfig:
        s = self.settings
        return TrainConfig(epochs=s.epochs, batch_size=s.batch_size, lr=s.lr, weight_decay=s.weight_decay,
                           label_smoothing=s.label_smoothing, seed=trial_seed)


def genome_record(genome: Genome, zoo_keys: dict[str, str]) -> dict:
    """The fields of a genome's trial record known before it is trained: ids, zoo name and analytic costs."""
    cost = analytic_cost(genome)
    return {"genome": genome.to_str(), "genome_json": genome.to_json(), "key": genome.key(),
            "zoo_name": zoo_keys.get(genome.key(), ""), "params": cost.params, "flops": cost.flops}


def run_trial(config: dict, context: TrialContext) -> None:
    """Ray Tune trainable. Never raises for a failed training: it reports status and reason."""
    start = time.perf_counter()
    settings = context.settings
    genome = Genome.from_json(config["genome"])
    record = {**genome_record(genome, context.zoo_keys), "latency_ms": math.nan, "test_accuracy": math.nan,
              "node_id": ray.get_runtime_context().get_node_id()}
    # at the genome's own (resolved) resolution: resolution scaling (gamma**phi) asks for larger images
    dataset = load_dataset(settings.dataset, settings.data_dir, genome.resolved().resolution, seed=settings.seed,
                           limit=settings.limit)
    if "latency" in settings.objectives:
        record["latency_ms"] = measure_latency(genome, device="cuda" if settings.gpus_per_trial else "cpu")

    def report_untrained(status: str, reason: str = "") -> None:
        tune.report({**record, "status": status, "failure_reason": reason, "epochs": 0, "accuracy": math.nan,
                     "wall_time_s": time.perf_counter() - start})

    for proxy in settings.proxies:  # one seeded minibatch, the same for every trial of the run
        record[proxy] = score(proxy, genome, dataset, seed=settings.seed)
        if not math.isfinite(record[proxy]):
            report_untrained("failed", f"{proxy} is {record[proxy]} at initialisation (no finite score to rank)")
            return
    if not settings.trains:
        report_untrained("ok")
        return
    train_config = context.train_config(settings.seed + int(config.get("trial_index", 0)))

    def report_epoch(metrics) -> None:
        if metrics.epoch < settings.epochs:  # the last epoch is reported with the final status below
            tune.report({**record, "status": "running", "epochs": metrics.epoch, "accuracy": metrics.val_accuracy,
                         "train_loss": metrics.train_loss, "wall_time_s": time.perf_counter() - start})

    result = evaluate(genome, dataset, train_config, report_epoch, test=True)
    final = {**record, "epochs": result.epochs, "wall_time_s": time.perf_counter() - start,
             "accuracy": result.history[-1].val_accuracy if result.history else math.nan}
    if not result.ok:
        tune.report({**final, "status": "failed", "failure_reason": result.failure_reason})
        return
    final.update(status="ok", failure_reason="", test_accuracy=result.test_accuracy)
    with tempfile.TemporaryDirectory() as folder:  # the trained weights, kept for the front's members
        state = {name: tensor.detach().cpu() for name, tensor in result.model.state_dict().items()}
        torch.save(state, Path(folder) / f"{record['key']}.pt")
        tune.report(final, checkpoint=tune.Checkpoint.from_directory(folder))
