"""Zero-cost proxies on small genomes: seeded and finite, and the properties each must have; their correlation
with a table's accuracy (python -m runners.proxies)."""
import json
import math

import pytest
import torch

from nasbench.blocks.residual import BasicGene
from nasbench.cost import analytic_cost
from nasbench.data import load_dataset
from nasbench.genome import Genome, Stage
from nasbench.proxies import PROXIES, minibatch, naswot, score, synflow
from nasbench.tabular.proxy_ranking import correlations
from nasbench.zoo.stems import make_stem
from runners import proxies


def genome(width: int = 8, shortcut: str = "projection") -> Genome:
    return Genome(stages=(Stage(BasicGene(channels=width, shortcut=shortcut), 1, 2),
                          Stage(BasicGene(channels=2 * width, shortcut=shortcut), 1, 2)),
                  stem=make_stem("cifar", width), in_chans=1, resolution=16, num_classes=10)


@pytest.fixture(scope="module")
def digits():
    return load_dataset("digits")


@pytest.mark.parametrize("name", list(PROXIES))
def test_every_proxy_is_finite_and_the_same_for_the_same_seed(digits, name):
    first, again = score(name, genome(), digits, seed=1), score(name, genome(), digits, seed=1)
    assert math.isfinite(first) and first == again
    if name not in ("flops", "params"):  # another initialisation gives another score
        assert score(name, genome(), digits, seed=2) != first


def test_the_baselines_are_the_analytic_cost(digits):
    cost = analytic_cost(genome())
    assert score("flops", genome(), digits) == cost.flops and score("params", genome(), digits) == cost.params


def test_synflow_grows_with_width_and_naswot_cannot_tell_identical_images_apart(digits):
    images, labels = minibatch(digits, 0, 16)
    assert synflow(genome(16), images, labels) > synflow(genome(8), images, labels) > 0
    same = images[:1].repeat(16, 1, 1, 1)
    assert naswot(genome(), same, labels) == -math.inf < naswot(genome(), images, labels)


def test_the_minibatch_is_seeded_and_an_unknown_proxy_is_named(digits):
    a, b = minibatch(digits, 3), minibatch(digits, 3)
    assert torch.equal(a[0], b[0]) and len(a[0]) == 64 and not torch.equal(a[0], minibatch(digits, 4)[0])
    with pytest.raises(KeyError, match="unknown proxy 'synflw'; the proxies are synflow"):
        score("synflw", genome(), digits)


def test_correlations_on_hand_made_scores():
    import pandas as pd

    scores = pd.DataFrame({"val_accuracy": [0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8, 0.9, 1.0],
                           "up": range(10), "down": range(10, 0, -1),
                           "broken": [1.0, float("nan"), 3.0, 4.0, 5.0, 6.0, 7.0, 8.0, 9.0, 10.0]})
    found = correlations(scores, ["up", "down", "broken"], top=0.3, resamples=200).set_index("proxy")
    assert found.loc["up", ["spearman", "kendall"]].tolist() == pytest.approx([1.0, 1.0])
    assert found.loc["down", ["spearman", "spearman_low"]].tolist() == pytest.approx([-1.0, -1.0])
    assert found.loc["up", "members_top30"] == 3 and found.loc["up", "kendall_top30"] == pytest.approx(1.0)
    assert found.loc["broken", "members"] == 9 and found.loc["broken", "spearman"] == pytest.approx(1.0)


def test_the_command_correlates_proxies_with_the_tables_accuracy(made_up_table, capsys):
    proxies.main(["--benchmark", str(made_up_table), "--members", "12", "--proxies", "synflow,flops,params",
                  "--format", "json"])
    rows = {row["proxy"]: row for row in json.loads(capsys.readouterr().out)}
    assert set(rows) == {"synflow", "flops", "params"} and rows["flops"]["members"] == 12
    assert rows["flops"]["spearman"] > 0.5  # the made-up accuracy grows with the log of the FLOPs
    for row in rows.values():
        assert -1 <= row["spearman_low"] <= row["spearman"] <= row["spearman_high"] <= 1


@pytest.mark.parametrize("argv, message", [(["--proxies", "synflw"], "unknown proxy 'synflw'"),
                                           (["--members", "2"], "at least 3")])
def test_bad_input_is_one_line_with_exit_code_2(made_up_table, capsys, argv, message):
    with pytest.raises(SystemExit) as exit_:
        proxies.main(["--benchmark", str(made_up_table), *argv])
    assert exit_.value.code == 2 and message in capsys.readouterr().err
