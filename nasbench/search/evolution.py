"""Regularized (aging) evolution (Real et al. 2019) as an Optuna sampler, for define-by-run search spaces.

The population is the `population_size` most recently finished COMPLETE trials of the study (so the oldest dies
as each new one joins, and a resumed study continues with the population it had); until it is full, genomes are
drawn at random. Each new genome copies the winner of a tournament of `tournament_size` population members drawn
at random, with one of its parameters (one with more than one option) changed to another value; a parameter the
parent lacks (a conditional one its mutation switched on) is drawn at random. Winner: the best value for one
objective; for several, the lowest non-dominated rank within the population, then the largest crowding distance.
"""
from __future__ import annotations

import dataclasses
from typing import Any

import numpy as np
import optuna
from optuna.distributions import BaseDistribution
from optuna.study import StudyDirection
from optuna.trial import FrozenTrial, TrialState

from nasbench.analysis.fronts import crowding_distances, nondominated_ranks
from nasbench.search.choices import option_count, other_value
from nasbench.space import inside


@dataclasses.dataclass(frozen=True)
class Mutation:
    """The plan of one child: its parent's parameters and the one to change."""

    parent: dict[str, Any]
    changed: str


def minimised_values(study: optuna.Study, trials: list[FrozenTrial]) -> np.ndarray:
    """The trials' objective values as a (trials, objectives) matrix in which smaller is better."""
    sign = np.array([-1.0 if d == StudyDirection.MAXIMIZE else 1.0 for d in study.directions])
    return np.array([t.values for t in trials], dtype=float).reshape(len(trials), len(sign)) * sign


def finished_in_order(study: optuna.Study, states: tuple[TrialState, ...]) -> list[FrozenTrial]:
    """The study's trials in `states`, in the order they finished (ties by number): the same in a resumed process."""
    trials = study.get_trials(deepcopy=False, states=states)
    return sorted(trials, key=lambda t: (t.datetime_complete or t.datetime_start, t.number))


class RegularizedEvolutionSampler(optuna.samplers.BaseSampler):
    """Aging evolution: tournament selection from the latest `population_size` results, mutate one parameter."""

    def __init__(self, population_size: int = 20, tournament_size: int = 5, seed: int | None = None):
        if population_size < 2 or not 1 <= tournament_size <= population_size:
            raise ValueError(f"population_size must be >= 2 and tournament_size in 1..population_size (got "
                             f"{population_size}, {tournament_size})")
        self.population_size, self.tournament_size = population_size, tournament_size
        self._rng = np.random.RandomState(seed)
        self._random = optuna.samplers.RandomSampler(seed=seed)
        self._plans: dict[int, Mutation] = {}  # trial number -> its plan, from before_trial to after_trial

    def reseed_rng(self) -> None:
        self._rng.seed()
        self._random.reseed_rng()

    def infer_relative_search_space(self, study, trial) -> dict[str, BaseDistribution]:
        return {}

    def sample_relative(self, study, trial, search_space) -> dict[str, Any]:
        return {}

    def population(self, study: optuna.Study) -> list[FrozenTrial]:
        """The latest `population_size` COMPLETE trials, oldest first."""
        return finished_in_order(study, (TrialState.COMPLETE,))[-self.population_size:]

    def before_trial(self, study: optuna.Study, trial: FrozenTrial) -> None:
        population = self.population(study)
        if len(population) < self.population_size:
            return
        parent = self._tournament(study, population)
        mutable = [name for name, dist in parent.distributions.items() if option_count(dist) > 1]
        if mutable:
            self._plans[trial.number] = Mutation(dict(parent.params), mutable[self._rng.randint(len(mutable))])

    def _tournament(self, study: optuna.Study, population: list[FrozenTrial]) -> FrozenTrial:
        values = minimised_values(study, population)
        if values.shape[1] == 1:
            fitness = [(v[0],) for v in values]
        else:
            ranks, crowding = nondominated_ranks(values), np.zeros(len(population))
            for rank in np.unique(ranks):
                crowding[ranks == rank] = crowding_distances(values[ranks == rank])
            fitness = list(zip(ranks, -crowding))
        entrants = self._rng.choice(len(population), size=self.tournament_size, replace=False)
        return population[min(entrants, key=lambda i: fitness[i])]  # ties: the first drawn

    def sample_independent(self, study, trial, param_name: str, param_distribution: BaseDistribution) -> Any:
        plan = self._plans.get(trial.number)
        if plan is not None and param_name in plan.parent:
            value = plan.parent[param_name]
            if param_name == plan.changed:
                return other_value(param_distribution, value, self._rng)
            if inside(param_distribution, value):
                return value
        return self._random.sample_independent(study, trial, param_name, param_distribution)

    def after_trial(self, study, trial, state, values) -> None:
        self._plans.pop(trial.number, None)
