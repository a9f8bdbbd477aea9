"""A Ray Tune searcher that samples genomes from a persistent Optuna study (ask/tell) and records every trial in it.

Every trial's record (the fields of `nasbench.record.TrialRecord`) is stored as Optuna user attributes, so the
study in the run folder is the single, crash-safe source of the trials table. Early-stopped trials are PRUNED and
never leak onto the front; over-budget samples are INFEASIBLE and never become Ray trials.
"""
from __future__ import annotations

import dataclasses
import math
import threading
from collections.abc import Callable

import optuna
from optuna.trial import TrialState
from ray.tune.search import Searcher

from nasbench.data import load_dataset
from nasbench.genome import Genome
from nasbench.objectives import COLUMNS
from nasbench.proxies import Prefilter, parse_prefilter
from nasbench.record import COMPLETE, FAIL, FILTERED, INFEASIBLE, PRUNED, REPEAT, TrialRecord
from nasbench.search.controller import ReinforceSampler
from nasbench.search.evolution import RegularizedEvolutionSampler
from nasbench.search.results import trial_record
from nasbench.search.settings import SearchSettings
from nasbench.search.surrogate import NAME as SURROGATE
from nasbench.search.surrogate import SurrogatePrefilter, is_surrogate
from nasbench.search.trial import genome_record
from nasbench.space import SearchSpace

OPTUNA_STATES = {COMPLETE: TrialState.COMPLETE, PRUNED: TrialState.PRUNED, FAIL: TrialState.FAIL,
                 INFEASIBLE: TrialState.FAIL,  # samplers learn nothing from an over-budget sample but its constraints
                 REPEAT: TrialState.COMPLETE,  # samplers see a repeat as the result it repeats
                 FILTERED: TrialState.PRUNED}  # samplers treat a prefiltered sample as one stopped early
MAX_SAMPLES_PER_TRIAL = 20  # over-budget samples and repeats are drawn again, up to this many per sample a trial needs


def make_sampler(name: str, seed: int, grid: dict[str, list] | None = None) -> optuna.samplers.BaseSampler:
    """Budgets reach the samplers through `trial.set_constraint`, set by the search space at sampling time;
    `grid` (parameter -> values) is the grid sampler's."""
    if name == "nsga2":
        return PicklableNSGAIISampler(seed=seed, population_size=8)
    if name == "tpe":  # settings chosen on the shipped table (BENCHMARKS.md, search_quality.py)
        return optuna.samplers.TPESampler(seed=seed, multivariate=True, n_startup_trials=12, n_ei_candidates=64)
    if name == "random":
        return optuna.samplers.RandomSampler(seed=seed)
    if name == "gp":
        return optuna.samplers.GPSampler(seed=seed, n_startup_trials=8)
    if name == "grid":
        return AskTellGridSampler(grid, seed=seed)
    if name == "rea":
        return RegularizedEvolutionSampler(population_size=20, tournament_size=5, seed=seed)
    if name == "reinforce":
        return ReinforceSampler(seed=seed)
    raise ValueError(f"unknown sampler {name!r}")


class PicklableNSGAIISampler(optuna.samplers.NSGAIISampler):
    """NSGA-II that pickles (Ray Tune pickles the searcher, hence the study and its sampler): Optuna 5.1's GA
    samplers hold a thread lock without saying how to pickle it."""

    def __getstate__(self) -> dict:
        return {name: value for name, value in self.__dict__.items() if name != "_thread_lock"}

    def __setstate__(self, state: dict) -> None:
        self.__dict__.update(state, _thread_lock=threading.Lock())


class AskTellGridSampler(optuna.samplers.GridSampler):
    """Optuna's GridSampler driven by ask/tell: the search stops itself after at most one trial per grid point,
    so the sampler must not call `study.stop()` (which raises outside `study.optimize`)."""

    def after_trial(self, study, trial, state, values) -> None:
        return None


def classify(result: dict | None, error: bool, epochs: int) -> tuple[str, str]:
    """The record state of a finished Ray trial, and why it is not COMPLETE."""
    result = result or {}
    status = result.get("status")
    if status == "failed":
        return FAIL, result.get("failure_reason") or status
    if error:
        return FAIL, result.get("failure_reason") or "the trial raised; see the Ray trial log"
    if status == "ok" and result.get("epochs") == epochs:
        return COMPLETE, ""
    return PRUNED, f"stopped early by the scheduler after {result.get('epochs', 0)} of {epochs} epochs"


def store_record(trial: optuna.Trial, record: TrialRecord) -> None:
    """The record's fields as the trial's user attributes (defaults and NaN left out; run_id and number are the
    run's and Optuna's own)."""
    defaults = TrialRecord()
    for name, value in record.__dict__.items():
        if name in ("run_id", "number") or value == getattr(defaults, name):
            continue
        if isinstance(value, float) and math.isnan(value):
            continue
        trial.set_user_attr(name, value)


class StudySearcher(Searcher):
    """Suggests genomes sampled from `study` by `space` until `trials` within-budget genomes were handed to Ray
    (over-budget samples are told to the study as INFEASIBLE and sampled again), or `max_samples` samples in all.

    Unless `allow_repeats`, a sample of a genome the study already trained to COMPLETE is not trained again: it is
    told to the study as a REPEAT carrying that trial's results (the sampler learns them once more, as from a
    retraining) and another genome is sampled. Genomes in flight, pruned or failed may be sampled and trained again.
    """

    def __init__(self, study: optuna.Study, space: SearchSpace, objectives: dict[str, str], epochs: int, trials: int,
                 max_samples: int, describe: Callable[[Genome], dict], allow_repeats: bool = False,
                 prefilter: Prefilter | SurrogatePrefilter | None = None):
        super().__init__()
        self._study, self._space, self._objectives, self._epochs = study, space, objectives, epochs
        self._trials, self._max_samples, self._describe = trials, max_samples, describe
        self._running: dict[str, optuna.Trial] = {}
        self._handed = self._sampled = 0
        self._trained = {} if allow_repeats else trained_genomes(study)
        self._allow_repeats, self._prefilter = allow_repeats, prefilter
        self.storage_error: str | None = None  # why the study could not be written; the search then stops

    def suggest(self, trial_id: str) -> dict | str | None:
        """A within-budget genome as `{"genome": <json>, "trial_index": <Optuna number>}`, or FINISHED."""
        if self._handed >= self._trials or self.storage_error:
            return Searcher.FINISHED
        found = self._new_sample() if self._prefilter is None else self._prefiltered_sample(self._prefilter)
        if found is None:
            return Searcher.FINISHED
        trial, genome = found
        self._handed += 1
        self._running[trial_id] = trial
        return {"genome": genome.to_json(), "trial_index": trial.number}

    def _new_sample(self) -> tuple[optuna.Trial, Genome] | None:
        """The next within-budget sample that is not a repeat (repeats are told as REPEAT on the way)."""
        while True:
            found = self._space.sample_within_budget(self._ask, self._reject, self._max_samples - self._sampled)
            if found is None or self.storage_error:
                return None
            trial, genome = found
            earlier = self._trained.get(genome.key())
            if earlier is None:
                return found
            self._tell(trial, dataclasses.replace(earlier[0], state=REPEAT, trial_id="", node_id="",
                                                  wall_time_s=math.nan,
                                                  failure_reason=f"repeat of trial #{earlier[0].number}"),
                       earlier[1])

    def _prefiltered_sample(self, prefilter: Prefilter | SurrogatePrefilter) -> tuple[optuna.Trial, Genome] | None:
        """The best of `prefilter.samples(study)` new samples by the prefilter's score; the others are told as
        FILTERED with their score."""
        candidates = []
        wanted = prefilter.samples(self._study)
        while len(candidates) < wanted and (found := self._new_sample()) is not None:
            candidates.append((*found, self._describe(found[1])))
        if not candidates:
            return None
        scores = prefilter.scores(candidates, self._study)
        best = max(range(len(candidates)), key=lambda i: (scores[i], -i))  # ties: the first drawn
        for index, (trial, _, record) in enumerate(candidates):
            if index != best:
                reason = (f"prefiltered out: {prefilter.name} {scores[index]:.6g}, the best of {len(candidates)} "
                          f"{scores[best]:.6g}")
                self._tell(trial, TrialRecord.from_mapping(record, state=FILTERED, failure_reason=reason))
        return candidates[best][:2]

    @property
    def sample_cap_reached(self) -> bool:
        """True when `max_samples` samples were drawn (e.g. a budget almost nothing fits)."""
        return self._sampled >= self._max_samples

    def on_trial_complete(self, trial_id: str, result: dict | None = None, error: bool = False) -> None:
        trial = self._running.pop(trial_id, None)
        if trial is None:
            return
        state, reason = classify(result, error, self._epochs)
        record = TrialRecord.from_mapping(result or {}, state=state, failure_reason=reason, trial_id=trial_id)
        values = [result[COLUMNS[o]] for o in self._objectives] if state == COMPLETE else None
        self._tell(trial, record, values)
        if values is not None and not self._allow_repeats:
            self._trained.setdefault(record.key, (dataclasses.replace(record, number=trial.number), values))

    def _ask(self) -> optuna.Trial:
        self._sampled += 1
        return self._study.ask()

    def _reject(self, trial: optuna.Trial, genome: Genome, reason: str) -> None:
        self._tell(trial, TrialRecord.from_mapping(self._describe(genome), state=INFEASIBLE, failure_reason=reason))

    def _tell(self, trial: optuna.Trial, record: TrialRecord, values: list | None = None) -> None:
        """Store the record and finish the trial in the study; a storage that fails (a lost database) stops the
        search instead of losing trials one by one: the trial stays in flight, and resume queues it again."""
        try:
            store_record(trial, record)
            self._study.tell(trial, values, state=OPTUNA_STATES[record.state])
        except (optuna.exceptions.StorageInternalError, OSError) as exc:
            self.storage_error = self.storage_error or f"{type(exc).__name__}: {str(exc).strip().splitlines()[0]}"

    def save(self, checkpoint_path: str) -> None:
        """Nothing to save: the persistent Optuna study in the run folder is the search's checkpoint."""

    def restore(self, checkpoint_path: str) -> None:
        """Runs resume from their Optuna study (nasbench.search.resume_search), not from Ray's searcher state."""


def study_searcher(settings: SearchSettings, study: optuna.Study, storage: optuna.storages.BaseStorage,
                   space: SearchSpace, zoo_keys: dict[str, str], n_trials: int) -> StudySearcher:
    """The run's `StudySearcher`: the study reopened with the run's sampler, seeded by the settings and the trials
    so far, handing out `n_trials` more genomes (the in-process replay of a table drives the same one)."""
    grid = space.grid() if settings.sampler == "grid" else None
    sampler = make_sampler(settings.sampler, settings.seed + len(study.trials), grid)
    chosen = prefilter(settings)
    max_samples = MAX_SAMPLES_PER_TRIAL * n_trials * (chosen.count if chosen else 1)  # a prefilter draws K a trial
    if grid:  # each grid point once (over-budget points count as visited), plus trials queued again on resume
        visited = {tuple(sorted(t.params.items())) for t in study.trials if t.state.is_finished()}
        queued = sum(t.state == TrialState.WAITING for t in study.trials)
        max_samples = min(max_samples, space.grid_size() - len(visited) + queued)
    sampled = optuna.load_study(study_name=study.study_name, storage=storage, sampler=sampler)
    epochs = settings.epochs if settings.trains else 0  # a zero-cost search's trials are complete untrained
    return StudySearcher(sampled, space, settings.directions, epochs, n_trials, max_samples,
                         describe=lambda genome: genome_record(genome, zoo_keys), allow_repeats=settings.allow_repeats,
                         prefilter=chosen)


def prefilter(settings: SearchSettings) -> Prefilter | SurrogatePrefilter | None:
    """The search's `--prefilter`: the surrogate (hvi:K) or a proxy scoring on a minibatch of its dataset (None
    without one)."""
    if settings.prefilter is None:
        return None
    if is_surrogate(settings.prefilter):
        return SurrogatePrefilter(parse_prefilter(settings.prefilter, (SURROGATE,))[1], settings.directions,
                                  settings.seed)
    return Prefilter(settings.prefilter, lambda: load_dataset(settings.dataset, settings.data_dir, settings.resolution,
                                                              seed=settings.seed, limit=settings.limit), settings.seed)


def trained_genomes(study: optuna.Study) -> dict[str, tuple[TrialRecord, list[float]]]:
    """Genome key -> the record and objective values of the first trial that trained it to COMPLETE."""
    found: dict[str, tuple[TrialRecord, list[float]]] = {}
    for trial in study.get_trials(deepcopy=False, states=(TrialState.COMPLETE,)):
        record = trial_record(trial, "")
        if record.state == COMPLETE and record.key:
            found.setdefault(record.key, (record, list(trial.values)))
    return found
