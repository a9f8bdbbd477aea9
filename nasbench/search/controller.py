"""The lecture's NAS controller (Zoph & Le 2016) as an Optuna sampler: a policy over the search space's decisions
trained by REINFORCE with a moving-average baseline.

The policy is one softmax per decision (parameter name and its options, `nasbench.search.choices`), independent
of the others; a conditional decision is learned from the trials that made it. The policy is a pure function of
the study: every finished trial, in the order trials finished, applies one policy-gradient step
`logits += lr * (reward - baseline) * (onehot(choice) - softmax(logits))` to each decision it made, then moves the
baseline; so a resumed study continues with the policy it had. Rewards lie in [0, 1]: a COMPLETE trial's reward
scalarises the share of earlier COMPLETE trials it beats in each objective (scale-free, so FLOPs and accuracy
weigh alike) with weights drawn afresh per trial (Dirichlet(1), seeded by the trial number; one objective: weight
1); a FAIL (an over-budget sample, a diverged training) earns 0; PRUNED trials (stopped early) teach nothing.
"""
from __future__ import annotations

from typing import Any

import numpy as np
import optuna
from optuna.distributions import BaseDistribution
from optuna.trial import FrozenTrial, TrialState

from nasbench.search.choices import option_count, option_of, value_of
from nasbench.search.evolution import finished_in_order, minimised_values

LEARNING_RATE = 0.2
BASELINE_DECAY = 0.9
FINISHED = (TrialState.COMPLETE, TrialState.FAIL)


class Policy:
    """The controller's state after the trials it has learned from."""

    def __init__(self, directions: int):
        self.logits: dict[tuple[str, int], np.ndarray] = {}
        self.baseline = 0.5
        self.learned: set[int] = set()  # trial numbers
        self.complete: list[np.ndarray] = []  # minimised objective values of the COMPLETE trials learned from
        self.directions = directions

    def decision(self, name: str, distribution: BaseDistribution) -> np.ndarray:
        key = (name, option_count(distribution))
        return self.logits.setdefault(key, np.zeros(key[1]))

    def probabilities(self, name: str, distribution: BaseDistribution) -> np.ndarray:
        logits = self.decision(name, distribution)
        weights = np.exp(logits - logits.max())
        return weights / weights.sum()


def scalarised_reward(values: np.ndarray, earlier: list[np.ndarray], weights: np.ndarray) -> float:
    """The weighted share of `earlier` points (minimised) that `values` beats (ties count half), per objective."""
    if not earlier:
        return 0.5
    stacked = np.vstack(earlier)
    shares = ((stacked > values).mean(axis=0) + 0.5 * (stacked == values).mean(axis=0))
    return float(weights @ shares)


class ReinforceSampler(optuna.samplers.BaseSampler):
    """REINFORCE over independent softmax decisions, learned from the study's finished trials."""

    def __init__(self, seed: int | None = None, learning_rate: float = LEARNING_RATE,
                 baseline_decay: float = BASELINE_DECAY):
        if learning_rate <= 0 or not 0 <= baseline_decay < 1:
            raise ValueError(f"learning_rate must be > 0 and baseline_decay in [0, 1) (got {learning_rate}, "
                             f"{baseline_decay})")
        self.learning_rate, self.baseline_decay = learning_rate, baseline_decay
        self._seed = 0 if seed is None else seed
        self._rng = np.random.RandomState(seed)
        self._policy: Policy | None = None

    def reseed_rng(self) -> None:
        self._rng.seed()

    def infer_relative_search_space(self, study, trial) -> dict[str, BaseDistribution]:
        return {}

    def sample_relative(self, study, trial, search_space) -> dict[str, Any]:
        return {}

    def policy(self, study: optuna.Study) -> Policy:
        """The policy after every finished trial of `study` (learned incrementally; from scratch in a new process)."""
        if self._policy is None or self._policy.directions != len(study.directions):
            self._policy = Policy(len(study.directions))
        policy = self._policy
        for trial in finished_in_order(study, FINISHED):
            if trial.number not in policy.learned:
                self._learn(study, policy, trial)
        return policy

    def _learn(self, study: optuna.Study, policy: Policy, trial: FrozenTrial) -> None:
        policy.learned.add(trial.number)
        if trial.state == TrialState.COMPLETE:
            values = minimised_values(study, [trial])[0]
            weights = (np.random.RandomState([self._seed, trial.number]).dirichlet(np.ones(len(values)))
                       if len(values) > 1 else np.ones(1))
            reward = scalarised_reward(values, policy.complete, weights)
            policy.complete.append(values)
        else:
            reward = 0.0
        advantage = reward - policy.baseline
        for name, distribution in trial.distributions.items():
            logits = policy.decision(name, distribution)
            chosen = np.zeros(len(logits))
            chosen[option_of(distribution, trial.params[name])] = 1.0
            logits += self.learning_rate * advantage * (chosen - policy.probabilities(name, distribution))
        policy.baseline = self.baseline_decay * policy.baseline + (1 - self.baseline_decay) * reward

    def before_trial(self, study: optuna.Study, trial: FrozenTrial) -> None:
        self.policy(study)

    def sample_independent(self, study, trial, param_name: str, param_distribution: BaseDistribution) -> Any:
        policy = self._policy or self.policy(study)
        probabilities = policy.probabilities(param_name, param_distribution)
        option = int(self._rng.choice(len(probabilities), p=probabilities))
        return value_of(param_distribution, option, self._rng)
