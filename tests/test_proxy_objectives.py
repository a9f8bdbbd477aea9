"""Zero-cost proxies as search objectives: beside accuracy (test_search.py), or in place of it (a zero-cost search
trains nothing)."""
import json

import optuna
import pandas as pd
import pytest
from conftest import search, search_settings
from optuna.storages import JournalStorage
from optuna.storages.journal import JournalFileBackend

from nasbench import Genome
from nasbench.analysis import pareto_front
from nasbench.data import load_dataset
from nasbench.deploy.source import front_member
from nasbench.errors import SettingError
from nasbench.objectives import ZERO_COST, quality, search_objectives
from nasbench.proxies import score
from nasbench.search import SearchSettings


@pytest.mark.parametrize("text, expected", [
    ("snip,flops", ("snip", "flops")), ("synflow:max,params:min", ("synflow", "params")),
    ("accuracy,flops,naswot", ("accuracy", "flops", "naswot"))])
def test_a_proxy_is_a_quality_objective(text, expected):
    assert search_objectives(text) == expected


@pytest.mark.parametrize("text, message", [
    ("snip,grad_norm", "at least one cost"), ("flops,params", "accuracy \\(or a zero-cost proxy"),
    ("synflow:min,flops", "always maximised"), ("jacov,flops", "unknown objective 'jacov'")])
def test_objectives_need_a_quality_and_a_cost(text, message):
    with pytest.raises(ValueError, match=message):
        search_objectives(text)


def test_the_proxy_objectives_are_the_proxies_and_record_columns():
    from nasbench.proxies import BASELINES, PROXIES
    from nasbench.record import COLUMNS

    assert tuple(name for name in PROXIES if name not in BASELINES) == ZERO_COST
    assert set(ZERO_COST) <= set(COLUMNS)


def test_quality_is_accuracy_else_the_first_proxy():
    assert quality(("flops", "snip", "accuracy")) == "accuracy"
    assert quality(("flops", "fisher", "snip")) == "fisher"


@pytest.mark.parametrize("overrides, field, message", [
    ({"objectives": ("snip", "flops"), "scheduler": "asha"}, "scheduler", "scheduler asha stops trials by their "
     "accuracy: add accuracy to the objectives or use scheduler fifo"),
    ({"objectives": ("accuracy", "flops", "synflow"), "benchmark": "table.parquet"}, "objectives",
     "a tabular benchmark holds no zero-cost proxy scores: drop synflow"),
    ({"objectives": ("params",)}, "objectives", "objectives must include accuracy")])
def test_settings_refuse_what_a_proxy_search_cannot_do(overrides, field, message):
    with pytest.raises(SettingError, match=message) as caught:
        SearchSettings(**overrides)
    assert caught.value.setting == field


def test_a_proxy_spanning_decades_is_drawn_on_a_log_axis():
    from nasbench.analysis.plots import fronts_figure

    table = pd.DataFrame({"state": "COMPLETE", "flops": [1e5, 1e6, 1e7], "snip": [20.0, 3e4, 1e9],
                          "accuracy": [0.5, 0.7, 0.9], "run_id": "r", "zoo_name": ""})
    assert fronts_figure(table, y="snip").axes[0].get_yscale() == "log"
    assert fronts_figure(table, y="accuracy").axes[0].get_yscale() == "linear"


def test_a_zero_cost_summary_says_nothing_was_trained():
    from nasbench.record import describe_counts

    counts = {"COMPLETE": 5, "INFEASIBLE": 2}
    assert describe_counts(counts, trains=False) == ("5 trials scored at initialisation (none trained): 5 complete; "
                                                     "samples: 2 over budget (not trained)")


@pytest.mark.slow
def test_a_zero_cost_search_scores_every_trial_trains_none_and_fronts_the_proxy(tmp_path, local_ray):
    settings = search_settings(tmp_path, objectives=("snip", "flops"), trials=5, concurrency=1)
    assert not settings.trains and settings.proxies == ("snip",)
    outcome = search(settings)
    assert not outcome.trains
    table = pd.read_parquet(outcome.run_dir / "trials.parquet")
    assert len(table) >= 5 and (table["state"].isin(["COMPLETE", "INFEASIBLE"])).all()
    complete = table[table["state"] == "COMPLETE"]
    assert len(complete) == 5 and (complete["epochs"] == 0).all() and complete["accuracy"].isna().all()
    assert complete["test_accuracy"].isna().all() and complete["synflow"].isna().all()
    for _, row in complete.iterrows():  # a fresh network on the run's minibatch, on one thread as the trial was
        genome = Genome.from_json(row["genome_json"])
        data = load_dataset("digits", None, genome.resolved().resolution, seed=0, limit=64)
        assert row["snip"] == pytest.approx(score("snip", genome, data, seed=0), rel=1e-9)
    front = pareto_front(complete, {"snip": "max", "flops": "min"})
    assert sorted(outcome.front["key"]) == sorted(front["key"])
    assert (outcome.run_dir / "pareto.png").is_file() and not list((outcome.run_dir / "genomes").glob("*.pt"))
    member = front_member(outcome.run_dir, "1")  # retraining a member: rank 1 is the highest snip
    assert member.genome.key() == front.sort_values("snip")["key"].iloc[-1]
    assert member.origin["proxy"] == {"dataset": "digits", "epochs": 0, "snip": front["snip"].max()}
    config = json.loads((outcome.run_dir / "config.json").read_text())
    study = optuna.load_study(study_name=config["study_name"],
                              storage=JournalStorage(JournalFileBackend(str(outcome.run_dir / "optuna.journal"))))
    told = {t.number: t.values for t in study.trials if t.state == optuna.trial.TrialState.COMPLETE}
    for _, row in complete.iterrows():
        assert told[row["number"]] == pytest.approx([row["snip"], row["flops"]])
