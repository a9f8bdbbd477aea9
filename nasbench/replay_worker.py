"""The Ray Tune trainable of a search replayed from a table (`runners.search --benchmark`). It and what it is given
(`Replay`) import only `nasbench.curves` and Ray, not `nasbench.tabular` or `nasbench.search`, so its worker
starts ~1.4 s sooner on 2 cores: at a few ms per replayed trial, start-up is most of a 200-trial replay."""
from __future__ import annotations

import dataclasses

import ray
from ray import tune
from ray.tune.result import DONE

from nasbench.curves import TableIndex, pick_curve, replay_reports


@dataclasses.dataclass(frozen=True)
class Replay:
    """What a replayed trial needs beside its config: the table's index and the search's seed, epochs, whether
    latency is an objective, and the zoo's genome keys (shipped once through Ray's object store)."""

    index: TableIndex
    seed: int
    epochs: int
    latency: bool
    zoo_keys: dict[str, str]  # genome key -> zoo member name

    def reports(self, config: dict) -> list[dict]:
        """What the search trial `config` reports: its genome looked up, one seed's curve epoch by epoch. A genome
        the table lacks is a TableError (the search is checked against the table's space before it starts)."""
        record, curves = self.index.find(config["genome"])
        record = {**record, "zoo_name": self.zoo_keys.get(record["key"], ""),
                  "node_id": ray.get_runtime_context().get_node_id()}
        curve = pick_curve(curves, self.seed, int(config.get("trial_index", 0)))
        return replay_reports(record, curve, self.epochs, self.latency)


class ReplayTrainable(tune.Trainable):
    """One report per step, epoch by epoch, the last marked done. A class rather than a function trainable: a
    reused worker keeps what it fetched once (`setup`) across trials (`reset_config`), and no thread hands over
    each report, nor is there an extra step after the last."""

    def setup(self, config: dict, replay: Replay) -> None:
        self._replay = replay
        self._reports: list[dict] | None = None

    def reset_config(self, new_config: dict) -> bool:
        self._reports = None  # looked up at the first step, so a genome outside the table fails the trial
        return True

    def step(self) -> dict:
        if self._reports is None:
            self._reports = self._replay.reports(self.config)
        report = self._reports.pop(0)
        return {**report, DONE: not self._reports}
