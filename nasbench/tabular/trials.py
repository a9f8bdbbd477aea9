"""The Ray Tune trainable of a table build: `train_member` trains one (member, seed). A search trial replayed from a
table is `nasbench.replay_worker.ReplayTrainable`; `pick_curve` and `replay_reports` live in `nasbench.curves`."""
from __future__ import annotations

import dataclasses
import time

from ray import tune

from nasbench.cost import analytic_cost, measure_latency
from nasbench.curves import pick_curve as pick_curve  # where it was
from nasbench.curves import replay_reports as replay_reports  # where it was
from nasbench.data import load_dataset
from nasbench.genome import Genome
from nasbench.search.trial import TrialContext
from nasbench.tabular.settings import TabulateSettings
from nasbench.tabular.table import TableRow
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
