"""A tabular benchmark's recorded trainings as a search replays them, in plain Python: `TableIndex` (each member's
genome fields and curves, seed by seed), one seed's curve drawn per trial (`pick_curve`) and reported epoch by
epoch (`replay_reports`).

Kept out of `nasbench.tabular`, whose package imports the search (Optuna, scikit-learn, the runner): a Ray worker
that replays trials imports this and `nasbench.replay_worker` only, ~1.4 s less start-up on 2 cores."""
from __future__ import annotations

import dataclasses
import math
import random

from nasbench.genome import Genome


class TableError(ValueError):
    """A table that cannot be read, or a lookup it cannot answer."""


@dataclasses.dataclass(frozen=True)
class Curve:
    """One seed's recorded training of a member, as the replay reads it."""

    seed: int
    val_accuracy: tuple[float, ...]
    test_accuracy: tuple[float, ...]
    time_s: tuple[float, ...]
    latency_ms: float
    failure_reason: str


def final(values: tuple[float, ...] | list[float]) -> float:
    """The last epoch's value (NaN for a training that completed no epoch)."""
    return float(values[-1]) if len(values) else math.nan


@dataclasses.dataclass(frozen=True)
class TableIndex:
    """A table's members for lookups: by genome JSON, the trial record's genome fields, and by genome key, the
    recorded trainings seed by seed."""

    name: str                        # the table file's name, for messages
    space: str
    records: dict[str, dict]         # genome JSON -> genome, genome_json, key, params, flops (as tabulated)
    curves: dict[str, list[Curve]]   # genome key -> its trainings, seed by seed
    json_of_key: dict[str, str]      # genome key -> the genome JSON the table holds for it

    def find(self, genome_json: str) -> tuple[dict, list[Curve]]:
        """The record's genome fields and the trainings of the genome `Genome.to_json()` wrote; TableError naming
        it when the table lacks it."""
        found = self.records.get(genome_json)
        if found is not None:
            return found, self.curves[found["key"]]
        genome = Genome.from_json(genome_json)
        key = genome.key()
        if key in self.curves:  # the same genome, serialised by another version: its rows by key
            return self.records[self.json_of_key[key]], self.curves[key]
        text = genome.to_str()
        raise TableError(f"genome {text if len(text) <= 120 else text[:117] + '...'} (key {key}) is not in "
                         f"the table {self.name} ({len(self.curves)} members of the {self.space} space); search "
                         "that space with this table, or tabulate the genome")


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
