"""Progress lines while a search runs, and the run folder's tables refreshed from the study while it runs (the plot
is drawn once, when the run ends).

The tables are derived from the Optuna study, which is the run's crash-safe record, and the runner writes them
once more when the search ends. While it runs they are rewritten when trials have finished since the last rewrite,
but not after every trial: at most every `OUTPUTS_EVERY_S` seconds, and at most `OUTPUTS_SHARE` of the time (a
rewrite costs ~70 ms at 200 trials and grows with the table; a replayed trial costs less). So during a run, and
after a crash, trials.parquet/csv, pareto.csv and genomes/ may lag the study by the trials of the last seconds;
`--resume` rewrites them from the study."""
from __future__ import annotations

import math
import time
from pathlib import Path

import numpy as np
from ray import tune

from nasbench.analysis.fronts import nondominated
from nasbench.objectives import as_columns, quality
from nasbench.record import COMPLETE, STATES, TrialRecord, trained, untrained_words, upgrade_record
from nasbench.search.results import finished_trials, trial_record, trials_frame, write_outputs

OUTPUTS_EVERY_S = 1.0  # tables rewritten at most this often while a search runs,
OUTPUTS_SHARE = 0.05  # and a rewrite that took t seconds waits at least t / OUTPUTS_SHARE before the next


class Tally:
    """The finished trials so far, taken in trial by trial without building a table: counts per state, the best
    quality (accuracy, or the zero-cost proxy of a search that trains nothing) and the Pareto front (the front of
    the former front and the new trials is the front of them all)."""

    def __init__(self, run_id: str, objectives: dict[str, str]):
        self._run_id, self._objectives, self.quality = run_id, as_columns(objectives), quality(objectives)
        self._seen: set[int] = set()
        self.counts = dict.fromkeys(STATES, 0)
        self.best = math.nan
        self.front: list[TrialRecord] = []

    def update(self, study) -> list[TrialRecord]:
        """Take in the trials finished since the last update; their records."""
        new = [upgrade_record(trial_record(t, self._run_id)) for t in finished_trials(study)
               if t.number not in self._seen]
        self._seen.update(r.number for r in new)
        for record in new:
            self.counts[record.state] += 1
        complete = [r for r in new if r.state == COMPLETE]
        scores = [getattr(r, self.quality) for r in complete if not math.isnan(getattr(r, self.quality))]
        if scores:
            self.best = max(scores) if math.isnan(self.best) else max(self.best, *scores)
        if complete:
            candidates = self.front + complete
            points = np.array([[getattr(r, column) * (-1.0 if direction == "max" else 1.0)
                                for column, direction in self._objectives.items()] for r in candidates], dtype=float)
            eligible = np.isfinite(points).all(axis=1)  # as `pareto_front`: COMPLETE, every objective finite
            keep = np.zeros(len(candidates), dtype=bool)
            keep[eligible] = nondominated(points[eligible])
            self.front = [r for r, kept in zip(candidates, keep) if kept]
        return new


class Progress(tune.Callback):
    """Prints `[done/total] state genome | best accuracy (or proxy) | front size` as trials finish, and rewrites the run
    folder's tables at most every `every_s` seconds (and `OUTPUTS_SHARE` of the time)."""

    def __init__(self, study, run_dir: Path, settings, log, every_s: float = OUTPUTS_EVERY_S):
        self._study, self._run_dir, self._settings, self._log = study, run_dir, settings, log
        self._tally = Tally(run_dir.name, settings.directions)
        self._every_s, self._next_write, self._due = every_s, -math.inf, False

    def on_trial_complete(self, iteration, trials, trial, **info):
        self._report(trial.trial_id)

    def on_trial_error(self, iteration, trials, trial, **info):
        self._report(trial.trial_id)

    def on_step_end(self, iteration, trials, **info):
        self._write_if_due()

    def _report(self, trial_id: str) -> None:
        new = self._tally.update(self._study)
        self._due = self._due or bool(new)
        self._write_if_due()
        last = next((r for r in new if r.trial_id == trial_id), None)
        if last is None:
            return
        counts = self._tally.counts
        name = self._tally.quality
        label, shown = ("acc", "{:.3f}") if name == "accuracy" else (name, "{:.4g}")
        detail = (f"{label} {shown.format(getattr(last, name))} flops {last.flops:.3g}" if last.state == COMPLETE
                  else last.failure_reason[:60])
        untrained = untrained_words(counts)
        self._log(f"[{trained(counts)}/{self._settings.trials}] #{last.number} {last.state:8s} "
                  f"{detail} | best {label} {shown.format(self._tally.best)} | front {len(self._tally.front)}"
                  + (f" | {untrained}" if untrained else ""))

    def _write_if_due(self) -> None:
        start = time.monotonic()
        if not self._due or start < self._next_write:
            return
        write_outputs(self._run_dir, trials_frame(self._study, self._run_dir.name), self._settings.directions,
                      self._settings.ray_storage(self._run_dir), plot=False)
        end = time.monotonic()
        self._next_write, self._due = end + max(self._every_s, (end - start) / OUTPUTS_SHARE), False
