"""The cost-aware surrogate prefilter (`--prefilter hvi:K`): its scores on a hand-built study, its place in a
replayed search, and the settings it refuses."""
import optuna
import pytest
from optuna.distributions import IntDistribution
from optuna.trial import FrozenTrial, TrialState, create_trial

from nasbench.errors import SettingError
from nasbench.record import COMPLETE, FILTERED, REPEAT
from nasbench.search.settings import SearchSettings
from nasbench.search.surrogate import MIN_TRAINED, SurrogatePrefilter
from nasbench.tabular import replay
from search_spaces import get_space

WIDTHS = range(1, 11)
OBJECTIVES = {"accuracy": "max", "flops": "min"}


def width_study(trained: int = len(WIDTHS), repeat_of_the_best: bool = False) -> optuna.Study:
    """A study whose trained trials have one parameter, width 1..`trained`: accuracy 0.5 + 0.04 width,
    1e5 width FLOPs, width seconds of training."""
    study = optuna.create_study(directions=["maximize", "minimize"])
    for width in WIDTHS[:trained]:
        record = {"state": COMPLETE, "accuracy": 0.5 + 0.04 * width, "flops": 1e5 * width, "params": 1e3 * width,
                  "wall_time_s": float(width)}
        study.add_trial(trial_at(width, record))
    if repeat_of_the_best:  # told with the earlier trial's values, but not trained again
        study.add_trial(trial_at(trained, {"state": REPEAT, "accuracy": 0.0, "flops": 1e5, "params": 1e3,
                                           "wall_time_s": 1.0}))
    return study


def trial_at(width: int, record: dict) -> FrozenTrial:
    return create_trial(params={"width": width}, distributions={"width": IntDistribution(1, 10)},
                        values=[record["accuracy"], record["flops"]], user_attrs=record, state=TrialState.COMPLETE)


def candidate(width: int, flops: float) -> tuple:
    """A (trial, genome, record) candidate: the sampler's parameters and the costs known before training."""
    return trial_at(width, {"accuracy": 0.0, "flops": flops}), None, {"flops": flops, "params": 1e3 * width}


def test_a_candidate_predicted_to_extend_the_front_outscores_one_it_dominates():
    prefilter = SurrogatePrefilter(4, OBJECTIVES, seed=0)
    study = width_study()
    assert prefilter.samples(study) == 4
    cheap_and_accurate = candidate(10, 1e4)  # the best trial's parameters at a tenth of the cheapest trial's FLOPs
    dominated = candidate(1, 5e6)  # the worst trial's parameters at 5x the costliest trial's FLOPs
    middle = candidate(5, 4.5e5)  # a width-5 network a little cheaper than the trained one
    scores = prefilter.scores([dominated, cheap_and_accurate, middle], study)
    assert scores[0] == 0.0 and scores[1] > scores[2] > 0.0
    # the improvement of the width-10 candidate: at least the strip below the cheapest trained trial (1e5 FLOPs,
    # accuracy 0.54) from 1e4 FLOPs up, at the predicted accuracy above 0.54, per predicted second (at most 10)
    assert scores[1] >= (1e5 - 1e4) * (0.80 - 0.54) / 10 * 0.5


def test_the_reference_is_zero_accuracy_so_extending_the_cheap_end_counts_in_full():
    prefilter = SurrogatePrefilter(4, OBJECTIVES, seed=0)
    cheapest_worst = candidate(1, 1e4)  # predicted about as accurate as the worst trained (0.54), 10x cheaper
    # the strip from 1e4 to 1e5 FLOPs under its predicted accuracy (> 0.5), per predicted second (< 3)
    assert prefilter.scores([cheapest_worst], width_study())[0] >= (1e5 - 1e4) * 0.5 / 3


def test_when_nothing_is_predicted_to_improve_the_front_the_highest_predicted_accuracy_is_trained():
    prefilter = SurrogatePrefilter(4, OBJECTIVES, seed=0)
    study = width_study()
    scores = prefilter.scores([candidate(2, 5e6), candidate(9, 5e6), candidate(5, 5e6)], study)
    assert max(range(3), key=scores.__getitem__) == 1 and 0.5 < scores[1] < 0.95


def test_until_enough_trials_are_trained_one_sample_is_drawn_and_nothing_is_scored():
    prefilter = SurrogatePrefilter(4, OBJECTIVES, seed=0)
    study = width_study(trained=MIN_TRAINED - 1, repeat_of_the_best=True)  # a REPEAT is not a trained trial
    assert prefilter.samples(study) == 1
    assert prefilter.scores([candidate(1, 1e4), candidate(2, 1e4)], study) == [0.0, 0.0]
    assert prefilter.samples(width_study(trained=MIN_TRAINED)) == 4


def test_a_replayed_search_trains_the_best_scored_of_k_after_its_first_trials(made_up_table):
    space = get_space("resnet_compact")
    trials = replay(space, made_up_table, "random", trials=20, seed=1, prefilter="hvi:3")
    again = replay(space, made_up_table, "random", trials=20, seed=1, prefilter="hvi:3")
    assert trials["key"].tolist() == again["key"].tolist()  # seeded
    trained, filtered = trials[trials["state"] == COMPLETE], trials[trials["state"] == FILTERED]
    assert len(trained) == 20 and len(filtered) == 2 * (20 - MIN_TRAINED)
    assert (trials["state"].iloc[:MIN_TRAINED] == COMPLETE).all()  # the sampler's own first draws
    for _, drawn in trials.iloc[MIN_TRAINED:].groupby((trials["number"].iloc[MIN_TRAINED:] - MIN_TRAINED) // 3):
        assert (drawn["state"] == COMPLETE).sum() == 1
        reasons = drawn.loc[drawn["state"] == FILTERED, "failure_reason"]
        assert reasons.str.fullmatch(r"prefiltered out: hvi \S+, the best of 3 \S+").all()
        scores = [float(r.split()[3].rstrip(",")) for r in reasons]
        best = float(reasons.iloc[0].split()[-1])
        assert all(score <= best for score in scores)


def test_the_surrogate_needs_a_trained_objective_and_a_count():
    with pytest.raises(SettingError, match=r"^prefilter: hvi:4 predicts training results from trained trials; add "
                                           r"accuracy to the objectives"):
        SearchSettings(objectives=["synflow", "flops"], prefilter="hvi:4")
    with pytest.raises(SettingError, match=r"^prefilter: .*count of at least 2"):
        SearchSettings(prefilter="hvi:1")
    assert SearchSettings(prefilter="hvi:4").prefilter == "hvi:4"
