"""Regularized evolution and the REINFORCE controller: what each proposes, that their state comes from the study
(so a resumed search continues correctly), and that they keep to conditional parameters and budgets."""
import math
import pickle

import numpy as np
import optuna
import pytest
from optuna.distributions import CategoricalDistribution, FloatDistribution, IntDistribution

from nasbench.analysis.fronts import crowding_distances, nondominated_ranks
from nasbench.genome import Genome
from nasbench.search import SearchSettings
from nasbench.search.choices import option_count, option_of, other_value, value_of
from nasbench.search.controller import ReinforceSampler
from nasbench.search.evolution import RegularizedEvolutionSampler
from nasbench.search.searcher import study_searcher
from nasbench.space import ReplayTrial, inside
from search_spaces import get_space

optuna.logging.set_verbosity(optuna.logging.WARNING)
NAMES = ("a", "b", "c")
CHOICES = (0, 1, 2, 3, 4)


def flat(trial) -> float:
    return float(sum(trial.suggest_categorical(name, CHOICES) for name in NAMES))


def conditional(trial) -> float:
    if trial.suggest_categorical("kind", ("x", "y")) == "x":
        return float(trial.suggest_int("depth", 1, 9))
    return 10 * trial.suggest_float("ratio", 0.0, 1.0, step=0.25)


def run(sampler, objective, trials: int, directions=("maximize",)) -> optuna.Study:
    study = optuna.create_study(directions=list(directions), sampler=sampler)
    study.optimize(objective, n_trials=trials)
    return study


def hamming(a: dict, b: dict) -> int:
    return sum(a.get(k) != b.get(k) for k in set(a) | set(b))


# ---- the option lists both samplers use ------------------------------------------------------------------------
def test_options_of_categoricals_ints_and_floats():
    rng = np.random.RandomState(0)
    stepped, wide = FloatDistribution(1.0, 2.0, step=0.25), IntDistribution(1, 10_000, log=True)
    assert option_count(CategoricalDistribution(("x", "y"))) == 2 and option_count(stepped) == 5
    assert option_count(IntDistribution(2, 8, step=2)) == 4 and option_count(wide) == 16
    assert option_of(stepped, 1.5) == 2 and value_of(stepped, 2, rng) == 1.5
    assert inside(stepped, 1.75) and not inside(stepped, 1.6) and not inside(IntDistribution(2, 8, step=2), 3)
    for _ in range(50):  # a binned log range: every value inside the range, on the option it was drawn for
        option = rng.randint(16)
        value = value_of(wide, option, rng)
        assert 1 <= value <= 10_000 and option_of(wide, value) == option
        assert other_value(stepped, 1.5, rng) in (1.0, 1.25, 1.75, 2.0)
    assert other_value(IntDistribution(3, 3), 3, rng) == 3


# ---- regularized evolution -------------------------------------------------------------------------------------
def test_evolution_mutates_one_parameter_of_a_member_of_the_latest_population():
    study = run(RegularizedEvolutionSampler(population_size=8, tournament_size=3, seed=0), flat, 80)
    trials = study.trials
    for child in trials[8:]:
        population = trials[child.number - 8: child.number]
        assert 1 in {hamming(child.params, member.params) for member in population}, child.number
    assert max(t.value for t in trials) == 12.0  # random search's last 30 average 6.6 (seeds 0-4), evolution's 8.4
    assert np.mean([t.value for t in trials[-30:]]) > 7.5


def test_evolution_switches_conditional_parameters_on_and_off():
    study = run(RegularizedEvolutionSampler(population_size=6, tournament_size=2, seed=1), conditional, 80)
    for trial in study.trials:
        assert set(trial.params) == ({"kind", "depth"} if trial.params["kind"] == "x" else {"kind", "ratio"})
    later = study.trials[6:]
    kinds = [t.params["kind"] for t in later]
    assert {"x", "y"} <= set(kinds)
    assert max(t.value for t in later) == 10.0


def test_evolution_tournament_ranks_by_front_then_crowding():
    points = np.array([[0.0, 3.0], [1.0, 1.0], [3.0, 0.0], [2.0, 2.0], [0.9, 1.2], [4.0, 4.0]])
    assert nondominated_ranks(points).tolist() == [0, 0, 0, 1, 0, 2]
    front = points[[0, 1, 2, 4]]
    distances = crowding_distances(front)  # extremes infinite; inner points: their neighbours' normalised sides
    assert math.isinf(distances[0]) and math.isinf(distances[2])
    assert distances[1] == pytest.approx((3.0 - 0.9) / 3 + (1.2 - 0.0) / 3)
    assert distances[3] == pytest.approx((1.0 - 0.0) / 3 + (3.0 - 1.0) / 3)
    sampler = RegularizedEvolutionSampler(population_size=4, tournament_size=4, seed=0)
    study = optuna.create_study(directions=["minimize", "minimize"], sampler=sampler)
    for i, values in enumerate([[2.0, 2.0], [0.0, 3.0], [3.0, 3.0], [3.0, 0.0]]):
        study.add_trial(optuna.trial.create_trial(  # "id" has one option, so the mutation changes "b"
            params={"id": i, "b": 5}, distributions={"id": IntDistribution(i, i), "b": IntDistribution(0, 9)},
            values=values))
    assert [t.params["id"] for t in sampler.population(study)] == [0, 1, 2, 3]
    for _ in range(8):  # all four compete: the first front's extremes (ids 1 and 3) tie; either wins
        trial = study.ask()
        assert trial.suggest_int("id", 0, 9) in (1, 3) and trial.suggest_int("b", 0, 9) != 5
        study.tell(trial, state=optuna.trial.TrialState.FAIL)


def test_evolution_resumes_with_the_population_in_the_study():
    storage = optuna.storages.InMemoryStorage()
    first = optuna.create_study(storage=storage, study_name="s", direction="maximize",
                                sampler=RegularizedEvolutionSampler(population_size=5, tournament_size=2, seed=0))
    first.optimize(flat, n_trials=20)
    resumed = optuna.load_study(study_name="s", storage=storage,
                                sampler=RegularizedEvolutionSampler(population_size=5, tournament_size=2, seed=9))
    assert [t.number for t in resumed.sampler.population(resumed)] == [15, 16, 17, 18, 19]
    resumed.optimize(flat, n_trials=10)
    trials = resumed.trials
    for child in trials[20:]:
        assert 1 in {hamming(child.params, m.params) for m in trials[child.number - 5: child.number]}


# ---- the REINFORCE controller ----------------------------------------------------------------------------------
def rewarded_choice(trial) -> float:
    return 1.0 if trial.suggest_categorical("op", ("conv", "pool", "skip", "none")) == "skip" else 0.0


def test_controller_learns_the_rewarded_choice():
    sampler = ReinforceSampler(seed=0)
    study = run(sampler, rewarded_choice, 150)
    probabilities = sampler.policy(study).probabilities("op", CategoricalDistribution(("conv", "pool", "skip",
                                                                                       "none")))
    assert probabilities[2] > 0.7
    assert np.mean([t.params["op"] == "skip" for t in study.trials[-50:]]) > 0.6
    assert np.mean([t.params["op"] == "skip" for t in study.trials[:30]]) < 0.5


def test_controller_policy_is_a_function_of_the_study():
    sampler = ReinforceSampler(seed=3)
    study = run(sampler, conditional, 40)
    live = sampler.policy(study)
    rebuilt = ReinforceSampler(seed=11).policy(study)  # a resumed process learns the same policy from the study
    assert live.logits.keys() == rebuilt.logits.keys() and live.baseline == rebuilt.baseline
    for key, logits in live.logits.items():
        np.testing.assert_allclose(logits, rebuilt.logits[key])
    assert {key[0] for key in live.logits} == {"kind", "depth", "ratio"}


def test_controller_rewards_several_objectives_by_the_share_of_earlier_trials_beaten():
    sampler = ReinforceSampler(seed=0)
    study = run(sampler, lambda t: (t.suggest_int("w", 1, 8), t.suggest_int("w2", 1, 8)), 30,
                directions=("maximize", "minimize"))
    policy = sampler.policy(study)
    assert len(policy.complete) == 30 and 0.0 < policy.baseline < 1.0


# ---- both, in a real search space with a budget ----------------------------------------------------------------
@pytest.mark.parametrize("name", ["rea", "reinforce"])
def test_samplers_keep_to_the_budget_and_the_spaces_conditional_parameters(name):
    settings = SearchSettings(sampler=name, max_flops=3e6, trials=40, seed=0)
    space = get_space("resnet_family").for_input(1, 16, 10, max_flops=settings.flops_budget)
    storage = optuna.storages.InMemoryStorage()
    study = optuna.create_study(storage=storage, directions=["maximize", "minimize"])
    searcher = study_searcher(settings, study, storage, space, {}, 40)
    genomes = {}
    for index in range(40):
        config = searcher.suggest(f"t{index}")
        genome = genomes[config["trial_index"]] = Genome.from_json(config["genome"])
        cost = space.cost(genome)
        assert cost.flops <= 3e6
        accuracy = 0.5 + 0.4 * math.tanh(cost.flops / 1e6)
        searcher.on_trial_complete(f"t{index}", {"status": "ok", "epochs": settings.epochs, "accuracy": accuracy,
                                                 "flops": cost.flops, "params": cost.params})
    trained = [t for t in study.trials if t.state == optuna.trial.TrialState.COMPLETE]
    assert len(trained) == 40
    for trial in trained:  # each trial holds exactly the parameters the space asks for, and they give its genome
        replayed = ReplayTrial(trial.params)
        assert space.build(replayed) == genomes[trial.number] and not replayed.unused()
    pickle.loads(pickle.dumps(study.sampler))
