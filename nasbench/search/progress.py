"""Progress lines while a search runs, and the run folder's tables refreshed after every finished trial (the plot
is drawn once, when the run ends)."""
from __future__ import annotations

import math
from pathlib import Path

from ray import tune

from nasbench.record import COMPLETE, INFEASIBLE, STATE_WORDS, state_counts, trained
from nasbench.search.results import trials_frame, write_outputs


class Progress(tune.Callback):
    """Prints `[done/total] state genome | best accuracy | front size` as trials finish."""

    def __init__(self, study, run_dir: Path, settings, log):
        self._study, self._run_dir, self._settings, self._log = study, run_dir, settings, log

    def on_trial_complete(self, iteration, trials, trial, **info):
        self._report(trial.trial_id)

    def on_trial_error(self, iteration, trials, trial, **info):
        self._report(trial.trial_id)

    def _report(self, trial_id: str) -> None:
        frame = trials_frame(self._study, self._run_dir.name)
        mine = frame[frame["trial_id"] == trial_id]
        if not len(mine):
            return
        front = write_outputs(self._run_dir, frame, self._settings.directions,
                              self._settings.ray_storage(self._run_dir), plot=False)
        last = mine.iloc[0]
        counts = state_counts(frame)
        complete = frame[frame["state"] == COMPLETE]
        best = complete["accuracy"].max() if len(complete) else math.nan
        detail = (f"acc {last['accuracy']:.3f} flops {last['flops']:.3g}" if last["state"] == COMPLETE
                  else last["failure_reason"][:60])
        over = counts[INFEASIBLE]
        self._log(f"[{trained(counts)}/{self._settings.trials}] #{last['number']} {last['state']:8s} "
                  f"{detail} | best acc {best:.3f} | front {len(front)}"
                  + (f" | {over} {STATE_WORDS[INFEASIBLE]}" if over else ""))
