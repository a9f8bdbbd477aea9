"""Real searches through Ray Tune + Optuna on the embedded digits data (tiny: few trials, 1-3 epochs)."""
import json
import math
import os
import signal

import optuna
import pandas as pd
import pytest
import ray
import torch
from ray import tune
from optuna.trial import TrialState

from nasbench import Genome
from nasbench.analysis import pareto_front
from nasbench.cost import analytic_cost
from nasbench.data import load_dataset
from nasbench.search import SearchSettings, load_model, run_search
from nasbench.train import TrainConfig, measure
from nasbench.search.cluster import ClusterError, check_resources
from nasbench.search.searcher import classify, make_sampler
from search_spaces import get_space
from nasbench.search.results import COLUMNS

TIMING = ["wall_time_s", "run_id", "trial_id", "node_id"]


@pytest.fixture(scope="module", autouse=True)
def local_ray():
    """One local Ray instance for the module; the runner attaches to it instead of starting its own."""
    ray.init(num_cpus=2, include_dashboard=False, log_to_driver=False)
    yield
    ray.shutdown()


def settings(tmp_path, **overrides) -> SearchSettings:
    base = dict(space="resnet_family", trials=3, epochs=1, limit=64, results_dir=str(tmp_path), batch_size=32,
                max_flops=5e6)
    return SearchSettings(**{**base, **overrides})


def test_search_writes_every_file(tmp_path):
    outcome = run_search(settings(tmp_path, seed_zoo=True, trials=4, max_flops=None))
    run = outcome.run_dir
    assert run.parent == tmp_path / "resnet_family"
    config = json.loads((run / "config.json").read_text())
    assert config["settings"]["trials"] == 4 and config["settings"]["seed_zoo"] is True
    assert config["run_id"] == run.name and config["versions"]["ray"] == ray.__version__
    assert config["dataset"] == {"name": "digits", "in_chans": 1, "resolution": 16, "num_classes": 10,
                                 "train": 64, "val": 64, "test": 64}

    table = pd.read_parquet(run / "trials.parquet")
    assert list(table.columns) == COLUMNS
    csv = pd.read_csv(run / "trials.csv", keep_default_na=False)
    for column in ("number", "state", "key", "genome", "genome_json", "zoo_name", "flops", "params", "epochs"):
        assert list(csv[column]) == list(table[column]), column
    assert csv["accuracy"].tolist() == pytest.approx(table["accuracy"].tolist())
    assert len(table) == 4 and sorted(table["number"]) == [0, 1, 2, 3]
    assert set(table["state"]) == {"COMPLETE"}
    assert (table["epochs"] == 1).all() and table["accuracy"].between(0, 1).all()
    assert table["test_accuracy"].between(0, 1).all()
    for _, row in table.iterrows():
        genome = Genome.from_json(row["genome_json"])
        assert genome.key() == row["key"] and genome.to_str() == row["genome"]
        assert (row["params"], row["flops"]) == tuple(analytic_cost(genome))
    # --seed-zoo: the family's canonical members run first, labelled
    assert table.sort_values("number")["zoo_name"].iloc[0] != ""

    front = pd.read_csv(run / "pareto.csv")
    expected = pareto_front(table, {"accuracy": "max", "flops": "min"})
    assert sorted(front["key"]) == sorted(expected["key"]) and len(front) >= 1
    for key in front["key"]:
        assert Genome.from_json((run / "genomes" / f"{key}.json").read_text()).key() == key
    assert sorted(p.name for p in (run / "genomes").iterdir()) == sorted(
        [f"{k}.json" for k in front["key"]] + [f"{k}.pt" for k in front["key"]])
    # the front's trained weights load (weights_only) and reproduce the recorded validation accuracy
    dataset = load_dataset("digits", resolution=16, limit=64)
    for _, row in front.iterrows():
        model = load_model(run, row["key"])
        assert measure(model, dataset.val, TrainConfig(), torch.device("cpu"))[1] == pytest.approx(row["accuracy"])
    assert (run / "pareto.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"

    storage = optuna.storages.JournalStorage(optuna.storages.journal.JournalFileBackend(str(run / "optuna.journal")))
    study = optuna.load_study(study_name=config["study_name"], storage=storage)
    finished = [t for t in study.trials if t.state != TrialState.WAITING]
    assert [t.state for t in finished] == [TrialState.COMPLETE] * 4
    assert [t.values[1] for t in finished] == list(table.sort_values("number")["flops"])


def test_runs_never_overwrite_each_other(tmp_path):
    first = run_search(settings(tmp_path, trials=1))
    second = run_search(settings(tmp_path, trials=1))
    assert first.run_dir != second.run_dir
    assert (first.run_dir / "trials.parquet").exists() and (second.run_dir / "trials.parquet").exists()


def test_failing_trials_are_recorded_and_the_search_completes(tmp_path):
    outcome = run_search(settings(tmp_path, trials=2, lr=1e12))
    table = outcome.trials[~outcome.trials["failure_reason"].str.startswith("infeasible")]
    assert list(table["state"]) == ["FAIL", "FAIL"]
    assert table["failure_reason"].str.contains("non-finite").all()
    assert len(pd.read_csv(outcome.run_dir / "pareto.csv")) == 0


def test_over_budget_genomes_are_never_trained_and_sampled_again(tmp_path):
    budget = 2e6
    outcome = run_search(settings(tmp_path, trials=3, max_flops=budget))
    table = outcome.trials
    infeasible = table[table["failure_reason"].str.startswith("infeasible: flops")]
    trained = table.drop(infeasible.index)
    assert len(trained) == 3 and (trained["flops"] <= budget).all() and set(trained["state"]) == {"COMPLETE"}
    assert len(infeasible) >= 1, "the test needs a sample over the budget"
    assert (infeasible["flops"] > budget).all() and (infeasible["state"] == "FAIL").all()
    assert (infeasible["epochs"] == 0).all() and infeasible["accuracy"].isna().all()
    assert (infeasible["trial_id"] == "").all() and (trained["trial_id"] != "").all(), "never handed to Ray"


def test_impossible_budget_stops_after_the_sample_cap(tmp_path):
    outcome = run_search(settings(tmp_path, trials=1, max_flops=10))
    assert len(outcome.trials) == 20 and (outcome.trials["state"] == "FAIL").all()


def test_asha_stops_trials_as_pruned_and_keeps_them_off_the_front(tmp_path):
    outcome = run_search(settings(tmp_path, trials=6, epochs=3, concurrency=1, scheduler="asha"))
    table = outcome.trials
    pruned = table[table["state"] == "PRUNED"]
    assert len(pruned) >= 1, table[["number", "state", "epochs", "accuracy"]]
    assert (pruned["epochs"] < 3).all() and pruned["failure_reason"].str.contains("stopped early").all()
    assert (table.loc[table["state"] == "COMPLETE", "epochs"] == 3).all()
    assert not set(pruned["key"]) & set(outcome.front["key"])


def test_same_seed_same_table(tmp_path):
    a = run_search(settings(tmp_path / "a", concurrency=1, seed=7, trials=2)).trials.drop(columns=TIMING)
    b = run_search(settings(tmp_path / "b", concurrency=1, seed=7, trials=2)).trials.drop(columns=TIMING)
    assert (a["state"] == "COMPLETE").sum() == 2 and a["accuracy"].notna().sum() == 2
    pd.testing.assert_frame_equal(a, b)


@pytest.mark.parametrize("result, error, state", [
    ({"status": "ok", "epoch": 3}, False, TrialState.COMPLETE),
    ({"status": "running", "epoch": 1}, False, TrialState.PRUNED),
    ({"status": "ok", "epoch": 2}, False, TrialState.PRUNED),
    ({"status": "failed", "epoch": 1, "failure_reason": "non-finite loss"}, False, TrialState.FAIL),
    ({"status": "running", "epoch": 1}, True, TrialState.FAIL),
    (None, True, TrialState.FAIL),
])
def test_trial_states(result, error, state):
    assert classify(result, error, epochs=3)[0] == state


def test_gpu_request_on_a_cluster_without_gpus_is_refused():
    with pytest.raises(ClusterError, match="has 0 GPUs"):
        check_resources(SearchSettings(gpus_per_trial=0.5), {"CPU": 2.0})
    check_resources(SearchSettings(gpus_per_trial=0.5), {"CPU": 2.0, "GPU": 1.0})
    assert math.isfinite(SearchSettings().lr)


class KillWorkerOnce(tune.Callback):
    """Kills the Ray worker process of the first trial that reports an epoch (a node crash, in miniature)."""

    def __init__(self):
        self.killed = None

    def on_trial_result(self, iteration, trials, trial, result, **info):
        if self.killed is None and result.get("status") == "running":
            self.killed = trial.trial_id
            os.kill(result["pid"], signal.SIGKILL)


def test_killed_worker_is_retried_without_double_counting(tmp_path):
    killer = KillWorkerOnce()
    outcome = run_search(settings(tmp_path, trials=3, epochs=2, concurrency=1), callbacks=[killer])
    table = outcome.trials[~outcome.trials["failure_reason"].str.startswith("infeasible")]
    assert killer.killed is not None
    assert len(table) == 3 and set(table["state"]) == {"COMPLETE"} and table["number"].is_unique
    assert list(table["trial_id"]).count(killer.killed) == 1
    assert (table["epochs"] == 2).all()


def test_analyze_cli_reads_a_real_run_folder(tmp_path, capsys):
    from runners import analyze

    outcome = run_search(settings(tmp_path, trials=2))
    analyze.main([str(outcome.run_dir)])
    assert outcome.run_dir.name in capsys.readouterr().out
    assert (outcome.run_dir / "report.md").is_file()


def test_grid_sampler_visits_every_point_once_under_ask_and_tell():
    space = get_space("compound")
    study = optuna.create_study(directions=["maximize", "minimize"],
                                sampler=make_sampler("grid", 0, space.grid()))
    points = []
    for _ in range(space.grid_size()):
        trial = study.ask()
        genome = space.sample(trial)
        points.append((genome.scaling.alpha, genome.scaling.beta))
        study.tell(trial, [0.5, 1.0])  # Optuna's own GridSampler would raise here once the grid is exhausted
    assert len(set(points)) == 50 == len(points)


def test_four_objectives_shared_storages_and_a_parameter_budget(tmp_path):
    """Accuracy against FLOPs, params and measured latency with the GP sampler; the study in an SQLite database
    (as a shared PostgreSQL one would be given) and Ray's files under a separate storage path."""
    db = tmp_path / "studies.db"
    outcome = run_search(settings(tmp_path / "results", trials=2, sampler="gp", max_params=3e5,
                                  objectives=("accuracy", "flops", "params", "latency"),
                                  optuna_storage=f"sqlite:///{db}", storage_path=str(tmp_path / "ray")))
    trained = outcome.trials[outcome.trials["state"] == "COMPLETE"]
    assert len(trained) == 2 and (trained["params"] <= 3e5).all() and (trained["latency_ms"] > 0).all()
    over = outcome.trials[outcome.trials["failure_reason"].str.contains("params .* > max_params 3e\\+05")]
    assert len(over) >= 1 and (over["params"] > 3e5).all()
    config = json.loads((outcome.run_dir / "config.json").read_text())
    study = optuna.load_study(study_name=config["study_name"], storage=f"sqlite:///{db}")
    assert len(study.directions) == 4 and len(study.trials) == len(outcome.trials)
    assert not (outcome.run_dir / "optuna.journal").exists()
    assert (tmp_path / "ray" / outcome.run_dir.name).is_dir()
    front = pd.read_csv(outcome.run_dir / "pareto.csv")
    objectives = {"accuracy": "max", "flops": "min", "params": "min", "latency_ms": "min"}
    assert sorted(front["number"]) == sorted(pareto_front(outcome.trials, objectives)["number"])
