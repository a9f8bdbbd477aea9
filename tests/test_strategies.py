"""The statistics of a sampler comparison, on cases computed by hand, and ASHA's stopping rule in the in-process
replay."""
import math

import numpy as np
import pandas as pd
import pytest

from nasbench.analysis.strategies import (
    anytime_hypervolume,
    best_by_validation,
    final_table,
    mean_ranks,
    median_band,
    regret_table,
    trials_to_reach,
    value_at,
    wilcoxon_p,
)
from nasbench.search.moasha import MoAshaRule, promotion_order
from nasbench.tabular.replay import AshaRule


def curve(sampler, seed, volumes, seconds=1.0):
    n = len(volumes)
    return pd.DataFrame({"sampler": sampler, "seed": seed, "trials": np.arange(1, n + 1),
                         "time_s": seconds * np.arange(1, n + 1), "hypervolume": volumes})


def test_a_median_never_reached_by_half_the_seeds_is_nan():
    curves = pd.concat([curve("random", s, [0.5]) for s in range(3)]
                       + [curve("tpe", 0, [0.6]), curve("tpe", 1, [0.1]), curve("tpe", 2, [0.2])])
    assert math.isnan(final_table(curves).loc["tpe", "trials_to_baseline"])


def test_step_curves_are_read_where_they_last_changed():
    assert value_at([1, 3, 4], [0.1, 0.5, 0.7], [0.5, 1, 2, 3, 10]).tolist() == [0.0, 0.1, 0.1, 0.5, 0.7]
    frame = curve("r", 0, [0.1, 0.2, 0.2, 0.6])
    assert trials_to_reach(frame, 0.2) == 2 and trials_to_reach(frame, 0.5) == 4
    assert math.isnan(trials_to_reach(frame, 0.7)) and trials_to_reach(frame, 0.6, "time_s") == 4.0


def test_anytime_hypervolume_counts_trained_trials_and_their_time():
    trials = pd.DataFrame({"number": [0, 1, 2, 3], "state": ["COMPLETE", "INFEASIBLE", "PRUNED", "COMPLETE"],
                           "accuracy": [0.5, np.nan, 0.9, 0.8], "flops": [10.0, 1.0, 5.0, 20.0],
                           "wall_time_s": [2.0, np.nan, 1.0, 4.0]})
    found = anytime_hypervolume(trials, {"accuracy": "max", "flops": "min"}, {"accuracy": 0.0, "flops": 30.0})
    assert found["trials"].tolist() == [1, 2, 3] and found["time_s"].tolist() == [2.0, 3.0, 7.0]
    # (30-10)*0.5 = 10; the PRUNED trial adds nothing; then (30-20)*0.8 + (30-10)*0.5... = 10*0.8 + 10*0.5 = 13
    assert found["hypervolume"].tolist() == pytest.approx([10.0, 10.0, 13.0])


def test_wilcoxon_signed_rank_p_values():
    # five positive differences: the exact two-sided p is 2 / 2**5
    assert wilcoxon_p([2, 3, 4, 5, 6], [1, 1, 1, 1, 1]) == pytest.approx(0.0625)
    assert wilcoxon_p([1, 2, 3], [1, 2, 3]) == 1.0
    # differences +1, -2, +3, +4: W- = 2, two-sided exact p = 2 * P(W <= 2) = 2 * 3/16
    assert wilcoxon_p([2, 0, 6, 8], [1, 2, 3, 4]) == pytest.approx(0.375)


def test_mean_ranks_pair_by_seed_and_share_ties():
    finals = pd.DataFrame({"a": [3.0, 3.0], "b": [1.0, 2.0], "c": [2.0, 2.0]})
    assert mean_ranks(finals).to_dict() == {"a": 1.0, "b": 2.75, "c": 2.25}


def test_median_band_of_identical_seeds_is_the_value_and_widens_with_spread():
    median, low, high = median_band(np.array([[1.0, 2.0], [1.0, 4.0], [1.0, 6.0]]))
    assert median.tolist() == [1.0, 4.0] and low[0] == high[0] == 1.0
    assert 2.0 <= low[1] <= 4.0 <= high[1] <= 6.0 and high[1] > low[1]


def test_final_table_on_hand_made_runs():
    curves = pd.concat([
        curve("random", 0, [0.1, 0.4, 0.5]), curve("random", 1, [0.2, 0.3, 0.6]), curve("random", 2, [0.1, 0.2, 0.4]),
        curve("rea", 0, [0.5, 0.6, 0.7]), curve("rea", 1, [0.2, 0.6, 0.8]), curve("rea", 2, [0.3, 0.3, 0.3]),
    ])
    table = final_table(curves)
    assert table.loc["random", "median_hypervolume"] == 0.5 and table.loc["rea", "median_hypervolume"] == 0.7
    assert table.loc["rea", "mean_rank"] == pytest.approx(4 / 3)  # wins seeds 0 and 1, loses seed 2
    # random's final median is 0.5: rea reaches it at trials 1, 2 and never; random at 3, 3 and never
    assert table.loc["rea", "trials_to_baseline"] == 2.0 and table.loc["random", "trials_to_baseline"] == 3.0
    assert table.loc["rea", "time_to_baseline_s"] == 2.0
    assert table.loc["rea", "time_share"] == pytest.approx(2 / 3)  # random's runs take 3 s each
    assert table.loc["rea", "p_vs_random"] == pytest.approx(wilcoxon_p([0.7, 0.8, 0.3], [0.5, 0.6, 0.4]))
    assert math.isnan(table.loc["random", "p_vs_random"])


def test_regret_is_against_the_best_mean_validation_accuracy():
    members = pd.DataFrame({"val_accuracy": [0.9, 0.8, 0.7], "test_accuracy": [0.88, 0.81, 0.69]},
                           index=["k1", "k2", "k3"])
    runs = pd.DataFrame({"sampler": ["a", "a", "a", "a"], "seed": [0, 0, 1, 1], "number": [0, 1, 0, 1],
                         "state": ["COMPLETE"] * 4, "key": ["k3", "k2", "k1", "k3"],
                         "accuracy": [0.75, 0.82, 0.85, 0.86]})  # one seed's curve: seed 1 picks k3 (0.86)
    assert best_by_validation(runs[runs["seed"] == 0])["key"] == "k2"
    table = regret_table(runs, members)
    assert table.loc["a", "regret_mean"] == pytest.approx((0.1 + 0.2) / 2)
    assert table.loc["a", "test_accuracy_mean"] == pytest.approx((0.81 + 0.69) / 2)
    assert table.loc["a", "optimum_test_accuracy"] == 0.88


def test_asha_stops_below_the_median_of_its_rung():
    rule = AshaRule(max_t=4)
    assert list(rule.rungs) == [1, 2, 4]
    assert [rule.stops(1, {"accuracy": a}) for a in (0.5, 0.4, 0.6, 0.45)] == [False, True, False, True]
    assert rule.rungs[1] == [0.5, 0.4, 0.6, 0.45] and not rule.stops(3, {"accuracy": 0.0})


def test_moasha_promotes_by_front_then_crowding_and_keeps_cheap_weak_trials():
    rule = MoAshaRule({"accuracy": "max", "flops": "min"}, max_t=4)
    assert list(rule.rungs) == [1, 2]  # no rung at max_t: a trial there is finished anyway
    reports = [(0.5, 100), (0.4, 200), (0.3, 10), (0.6, 300), (0.35, 150), (0.2, 5), (0.45, 120)]
    stops = [rule.stops(1, {"accuracy": a, "flops": f}) for a, f in reports]
    # 1st: alone; 2nd: dominated by the 1st (rank 1 of 2); 3rd: the cheapest, an extreme of the front, so it goes on
    # (ASHA's accuracy rule would stop it: 0.3 is below the median); 4th: the most accurate, an extreme; 5th:
    # dominated by (0.5, 100); 6th: 6 points keep 3 and the front has 4, but the cheapest is an extreme (infinite
    # crowding distance); 7th: dominated by (0.5, 100)
    assert stops == [False, True, False, False, True, False, True]
    assert not rule.stops(1, {"accuracy": 1.0, "flops": 1.0}) and rule.stops(1, {"accuracy": float("nan"),
                                                                              "flops": 1.0})
    assert len(rule.rungs[1]) == 8 and not rule.stops(3, {"accuracy": 0.0, "flops": 1e9})


def test_promotion_order_is_rank_then_crowding():
    points = np.array([[0.0, 3.0], [1.0, 2.0], [3.0, 0.0], [2.0, 2.5], [1.5, 1.5]])  # minimised
    # front: rows 0, 1, 2, 4 (row 3 is dominated by row 1); its extremes 0 and 2 first, the dominated row last
    assert promotion_order(points).tolist()[:2] == [0, 2] and promotion_order(points)[-1] == 3
