"""A trial is on disk before it trains: the Tune callback that flushes a batched journal
(`nasbench.search.journal_file`) when Tune starts a trial, so a crash from then on leaves it in flight in the study
and `--resume` queues it again."""
from __future__ import annotations

from collections.abc import Callable

from ray import tune


class FlushOnTrialStart(tune.Callback):
    """Calls `flush` each time Tune starts a trial (its worker is ready; its first training step not yet asked)."""

    def __init__(self, flush: Callable[[], None]):
        self._flush = flush

    def on_trial_start(self, iteration, trials, trial, **info):
        self._flush()
