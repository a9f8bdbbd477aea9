"""The Ray Tune trainables of tabular benchmarks: `train_member` trains one (member, seed) of a table build;
`ReplayTrainable` is a search trial that looks its genome up in a table instead of training it."""
from __future__ import annotations

import dataclasses
import math
import random
import time

import ray
from ray import tune
from ray.tune.result import DONE

from nasbench.cost import analytic_cost, measure_latency
from nasbench.data import load_dataset
from nasbench.genome import Genome
from nasbench.search.trial import TrialContext
from nasbench.tabular.settings import TabulateSettings
from nasbench.tabular.table import Curve, Table, TableRow, final
from nasbench.train import evaluate


@dataclasses.dataclass(frozen=True)
class BuildContext:
    """What every training of a table build needs (shipped once through Ray's object store)."""

    settings: TabulateSettings
    jobs: tuple[tuple[str, int], ...]  # (genome JSON, training seed); a trial's config names its job by index


def train_member(config: dict, context: BuildContext) -> None:
    """Ray Tune trainable: one member trained with one seed, its row reported once, at the end."""
    start = time.perf_counter()
    genome_json, seed = context.jobs[config["job"]]
    genome = Genome.from_json(genome_json)
    s = context.settings
    dataset = load_dataset(s.dataset, s.data_dir, genome.resolved().resolution, seed=s.seed, limit=s.limit)
    latency = measure_latency(genome, device="cpu")
    train_config = TrialContext(s.search_settings(1), {}).train_config(seed)
    result = evaluate(genome, dataset, train_config, test_each_epoch=True)
    cost, history = analytic_cost(genome), result.history
    row = TableRow(key=genome.key(), seed=seed, genome=genome.to_str(), genome_json=genome_json, flops=cost.flops,
                   params=cost.params, latency_ms=latency, val_accuracy=[m.val_accuracy for m in history],
                   val_loss=[m.val_loss for m in history], test_accuracy=[m.test_accuracy for m in history],
                   test_loss=[m.test_loss for m in history], train_loss=[m.train_loss for m in history],
                   time_s=[m.wall_time_s for m in history], wall_time_s=time.perf_counter() - start,
                   failure_reason=result.failure_reason)
    tune.report(row.to_dict())


def pick_curve(curves: list[Curve], seed: int, number: int) -> Curve:
    """The recorded training a replayed trial reads: one seed's, drawn from the search seed and the trial number
    (the same in every process, so the Ray path and the in-process replay agree)."""
    return curves[random.Random(seed * 1_000_003 + number).randrange(len(curves))]


def replay_reports(record: dict, curve: Curve, epochs: int, latency: bool) -> list[dict]:
    """What a replayed trial reports, epoch by epoch, as a trained trial would (`run_trial`): the recorded
    validation accuracy and, as simulated wall time, the recorded training time; the last report carries the
    final status ("ok", or "failed" with the recorded reason) and the test accuracy."""
    record = {**record, "latency_ms": curve.latency_ms if latency else math.nan, "test_accuracy": math.nan}
    reports = [{**record, "status": "running", "epochs": epoch, "accuracy": accuracy, "wall_time_s": elapsed}
               for epoch, (accuracy, elapsed) in enumerate(zip(curve.val_accuracy, curve.time_s), start=1)]
    last = reports.pop() if reports else {**record, "epochs": 0, "accuracy": math.nan, "wall_time_s": 0.0}
    if curve.failure_reason or len(curve.val_accuracy) < epochs:
        reason = curve.failure_reason or f"the table holds {len(curve.val_accuracy)} of {epochs} epochs"
        return reports + [{**last, "status": "failed", "failure_reason": reason}]
    return reports + [{**last, "status": "ok", "failure_reason": "", "test_accuracy": final(curve.test_accuracy)}]


def trial_reports(config: dict, context: TrialContext, table: Table) -> list[dict]:
    """What the search trial `config` reports when replayed: its genome looked up, one seed's curve epoch by epoch
    (`replay_reports`). A genome the table lacks is a TableError (the search is checked against the table's space
    before it starts)."""
    settings = context.settings
    record, curves = table.find(config["genome"])
    record = {**record, "zoo_name": context.zoo_keys.get(record["key"], ""),
              "node_id": ray.get_runtime_context().get_node_id()}
    curve = pick_curve(curves, settings.seed, int(config.get("trial_index", 0)))
    return replay_reports(record, curve, settings.epochs, "latency" in settings.objectives)


class ReplayTrainable(tune.Trainable):
    """Ray Tune trainable of a search over a table: one report per step, epoch by epoch, the last marked done.

    A class rather than a function trainable, for speed: a reused worker keeps the table it fetched from Ray's
    object store once (`setup`) across its trials (`reset_config`), and each report is one step, with no thread
    to hand it over and no extra step after the last."""

    def setup(self, config: dict, context: TrialContext, table: Table) -> None:
        self._context, self._table = context, table
        self._reports: list[dict] | None = None

    def reset_config(self, new_config: dict) -> bool:
        self._reports = None  # looked up at the first step, so a genome outside the table fails the trial
        return True

    def step(self) -> dict:
        if self._reports is None:
            self._reports = trial_reports(self.config, self._context, self._table)
        report = self._reports.pop(0)
        return {**report, DONE: not self._reports}
