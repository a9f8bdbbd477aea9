"""Ray Tune's OptunaSearch, told the truth: early-stopped trials are PRUNED, failed/infeasible ones FAIL.

Every trial's record (genome, costs, epochs, failure reason, ...) is stored as Optuna user attributes, so the
study in the run folder is the single, crash-safe source of the trials table.
"""
from __future__ import annotations

import math
from typing import Any, Callable

import optuna
from optuna.trial import TrialState
from ray.tune.search import Searcher
from ray.tune.search.optuna import OptunaSearch

from nasbench.search.objectives import RESULT_KEYS

RECORD_KEYS = ("genome", "genome_json", "key", "zoo_name", "accuracy", "test_accuracy", "flops", "params",
               "latency_ms", "epoch", "wall_time_s", "status", "failure_reason", "trial_id", "node_id")


def make_sampler(name: str, seed: int, grid: dict[str, list] | None = None) -> optuna.samplers.BaseSampler:
    """Budgets reach the samplers through `trial.set_constraint`, set by the search space at sampling time;
    `grid` (parameter -> values) is the grid sampler's."""
    if name == "nsga2":
        return optuna.samplers.NSGAIISampler(seed=seed, population_size=8)
    if name == "tpe":
        return optuna.samplers.TPESampler(seed=seed, multivariate=True, n_startup_trials=8)
    if name == "random":
        return optuna.samplers.RandomSampler(seed=seed)
    if name == "gp":
        return optuna.samplers.GPSampler(seed=seed, n_startup_trials=8)
    if name == "grid":
        return AskTellGridSampler(grid, seed=seed)
    raise ValueError(f"unknown sampler {name!r}")


class AskTellGridSampler(optuna.samplers.GridSampler):
    """Optuna's GridSampler driven by ask/tell: the search stops itself after at most one trial per grid point,
    so the sampler must not call `study.stop()` (which raises outside `study.optimize`)."""

    def after_trial(self, study, trial, state, values) -> None:
        return None


def classify(result: dict | None, error: bool, epochs: int) -> tuple[TrialState, str]:
    """The Optuna state of a finished Ray trial, and why it is not COMPLETE."""
    result = result or {}
    status = result.get("status")
    if status == "failed":
        return TrialState.FAIL, result.get("failure_reason") or status
    if error:
        return TrialState.FAIL, result.get("failure_reason") or "the trial raised; see the Ray trial log"
    if status == "ok" and result.get("epoch") == epochs:
        return TrialState.COMPLETE, ""
    return TrialState.PRUNED, f"stopped early by the scheduler after {result.get('epoch', 0)} of {epochs} epochs"


class ParetoOptunaSearch(OptunaSearch):
    """Multi-objective OptunaSearch that records every trial and never leaks partial results onto the front.

    It suggests until `trials` within-budget genomes were handed out (over-budget samples are recorded as
    infeasible and sampled again without becoming Ray trials), or `max_samples` samples in all.
    """

    def __init__(self, space: Callable, objectives: dict[str, str], epochs: int, trials: int, max_samples: int,
                 describe: Callable[[dict], dict], **kwargs: Any):
        super().__init__(space=space, metric=[RESULT_KEYS[o] for o in objectives], mode=list(objectives.values()),
                         **kwargs)
        self._epochs, self._trials, self._max_samples = epochs, trials, max_samples
        self._describe = describe  # config -> record of the genome (key, costs, ...) for an over-budget sample
        self._feasible = self._sampled = 0

    def suggest(self, trial_id: str) -> dict | str | None:
        """A within-budget config; over-budget samples are told to the study as infeasible, never given to Ray."""
        while self._feasible < self._trials and self._sampled < self._max_samples:
            config = super().suggest(trial_id)
            self._sampled += 1
            if not config.get("infeasible"):
                self._feasible += 1
                return config
            self._tell(self._ot_trials.pop(trial_id), TrialState.FAIL, None,
                       {**self._describe(config), "status": "infeasible", "epoch": 0,
                        "failure_reason": config["infeasible"]})
        return Searcher.FINISHED

    @property
    def sample_cap_reached(self) -> bool:
        """True when `max_samples` samples were drawn (e.g. a budget almost nothing fits)."""
        return self._sampled >= self._max_samples

    def on_trial_complete(self, trial_id: str, result: dict | None = None, error: bool = False) -> None:
        if trial_id in self._completed_trials or trial_id not in self._ot_trials:
            return
        state, reason = classify(result, error, self._epochs)
        record = {**{k: (result or {}).get(k) for k in RECORD_KEYS}, "failure_reason": reason, "trial_id": trial_id}
        values = [result[m] for m in self.metric] if state == TrialState.COMPLETE else None
        self._tell(self._ot_trials[trial_id], state, values, record)
        self._completed_trials.add(trial_id)

    def _tell(self, ot_trial: optuna.Trial, state: TrialState, values: list | None, record: dict) -> None:
        """Store the trial's record as user attributes, then finish it in the study."""
        for key, value in record.items():
            if key in RECORD_KEYS and value is not None and not (isinstance(value, float) and math.isnan(value)):
                ot_trial.set_user_attr(key, value)
        self._ot_study.tell(ot_trial, values, state=state)

    def save(self, checkpoint_path: str) -> None:
        """Nothing to save: the persistent Optuna study in the run folder is the search's checkpoint."""

    def restore(self, checkpoint_path: str) -> None:
        """Runs resume from their Optuna study (nasbench.search.resume_search), not from Ray's searcher state."""
