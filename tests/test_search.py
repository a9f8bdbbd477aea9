"""Real searches through Ray Tune + Optuna on the embedded digits data (tiny: few trials, 1-3 epochs)."""
import json
import os
import signal

import optuna
import pandas as pd
import pytest
import ray
import torch
from conftest import search, search_settings, trained_rows
from optuna.trial import TrialState
from ray import tune

from nasbench import Genome
from nasbench.analysis import pareto_front
from nasbench.cost import analytic_cost
from nasbench.data import load_dataset
from nasbench.errors import SettingError
from nasbench.proxies import score
from nasbench.record import COLUMNS
from nasbench.search import load_model
from nasbench.train import TrainConfig, measure

TIMING = ["wall_time_s", "run_id", "trial_id", "node_id"]


pytestmark = [pytest.mark.slow, pytest.mark.usefixtures("local_ray")]
settings = search_settings


def test_search_writes_every_file_and_runners_analyze_reads_them(tmp_path, capsys):
    from runners import analyze

    outcome = search(settings(tmp_path, seed_zoo=True, trials=3, max_flops=None, concurrency=1, resolution=8))
    run = outcome.run_dir
    analyze.main([str(run)])
    assert run.name in capsys.readouterr().out and (run / "report.md").is_file()
    assert run.parent == tmp_path / "resnet_family"
    config = json.loads((run / "config.json").read_text())
    assert config["settings"]["trials"] == 3 and config["settings"]["seed_zoo"] is True
    assert config["run_id"] == run.name and config["versions"]["ray"] == ray.__version__
    assert config["dataset"] == {"name": "digits", "in_chans": 1, "resolution": 8, "num_classes": 10,
                                 "train": 64, "val": 64, "test": 64}

    table = pd.read_parquet(run / "trials.parquet")
    assert tuple(table.columns) == COLUMNS
    csv = pd.read_csv(run / "trials.csv", keep_default_na=False)
    for column in ("number", "state", "key", "genome", "genome_json", "zoo_name", "flops", "params", "epochs"):
        assert list(csv[column]) == list(table[column]), column
    assert csv["accuracy"].tolist() == pytest.approx(table["accuracy"].tolist())
    assert len(table) == 3 and sorted(table["number"]) == [0, 1, 2]
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
    dataset = load_dataset("digits", resolution=8, limit=64)
    for _, row in front.iterrows():
        model = load_model(run, row["key"])
        assert measure(model, dataset.val, TrainConfig(), torch.device("cpu"))[1] == pytest.approx(row["accuracy"])
    assert (run / "pareto.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"

    storage = optuna.storages.JournalStorage(optuna.storages.journal.JournalFileBackend(str(run / "optuna.journal")))
    study = optuna.load_study(study_name=config["study_name"], storage=storage)
    finished = [t for t in study.trials if t.state != TrialState.WAITING]
    assert [t.state for t in finished] == [TrialState.COMPLETE] * 3
    assert [t.values[1] for t in finished] == list(table.sort_values("number")["flops"])


def test_failing_trials_are_recorded_and_the_search_completes(tmp_path):
    outcome = search(settings(tmp_path, trials=2, lr=1e12, concurrency=1))
    table = trained_rows(outcome.trials)
    assert list(table["state"]) == ["FAIL", "FAIL"]
    assert table["failure_reason"].str.contains("non-finite").all()
    assert len(pd.read_csv(outcome.run_dir / "pareto.csv")) == 0


def test_over_budget_genomes_are_never_trained_and_sampled_again(tmp_path):
    budget = 2e6
    outcome = search(settings(tmp_path, trials=3, max_flops=budget, concurrency=1))
    table = outcome.trials
    infeasible = table[table["state"] == "INFEASIBLE"]
    trained = table.drop(infeasible.index)
    assert infeasible["failure_reason"].str.match(r"flops \S+ > max_flops 2e\+06").all()
    assert len(trained) == 3 and (trained["flops"] <= budget).all() and set(trained["state"]) == {"COMPLETE"}
    assert len(infeasible) >= 1, "the test needs a sample over the budget"
    assert (infeasible["flops"] > budget).all() and (infeasible["state"] == "INFEASIBLE").all()
    assert (infeasible["epochs"] == 0).all() and infeasible["accuracy"].isna().all()
    assert (infeasible["trial_id"] == "").all() and (trained["trial_id"] != "").all(), "never handed to Ray"


def test_an_impossible_budget_is_refused_before_any_run(tmp_path):
    with pytest.raises(SettingError, match="none of 200 random samples of the resnet_family space fits max_flops 10"):
        search(settings(tmp_path, trials=1, max_flops=10))
    assert not list(tmp_path.iterdir()), "refused before any run folder"


def test_asha_stops_trials_as_pruned_and_keeps_them_off_the_front(tmp_path):
    outcome = search(settings(tmp_path, trials=6, epochs=3, concurrency=1, scheduler="asha"))
    table = outcome.trials
    pruned = table[table["state"] == "PRUNED"]
    assert len(pruned) >= 1, table[["number", "state", "epochs", "accuracy"]]
    assert (pruned["epochs"] < 3).all() and pruned["failure_reason"].str.contains("stopped early").all()
    assert (table.loc[table["state"] == "COMPLETE", "epochs"] == 3).all()
    assert not set(pruned["key"]) & set(outcome.front["key"])


def test_same_seed_same_table_in_a_run_folder_of_its_own(tmp_path):
    first = search(settings(tmp_path, concurrency=1, seed=7, trials=2))
    second = search(settings(tmp_path, concurrency=1, seed=7, trials=2))
    assert first.run_dir != second.run_dir and first.run_dir.parent == second.run_dir.parent  # never overwritten
    assert (first.run_dir / "trials.parquet").exists() and (second.run_dir / "trials.parquet").exists()
    a, b = first.trials.drop(columns=TIMING), second.trials.drop(columns=TIMING)
    assert (a["state"] == "COMPLETE").sum() == 2 and a["accuracy"].notna().sum() == 2
    pd.testing.assert_frame_equal(a, b)


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
    outcome = search(settings(tmp_path, trials=2, epochs=2, concurrency=1), callbacks=[killer])
    table = trained_rows(outcome.trials)
    assert killer.killed is not None
    assert len(table) == 2 and set(table["state"]) == {"COMPLETE"} and table["number"].is_unique
    assert list(table["trial_id"]).count(killer.killed) == 1
    assert (table["epochs"] == 2).all()


def test_five_objectives_shared_storages_and_a_parameter_budget(tmp_path):
    """Accuracy and a zero-cost proxy (scored before training) against FLOPs, params and measured latency with the
    GP sampler; the study in an SQLite database (as a shared PostgreSQL one would be given) and Ray's files under a
    separate storage path."""
    db = tmp_path / "studies.db"
    outcome = search(settings(tmp_path / "results", trials=2, concurrency=1, sampler="gp", max_params=3e5,
                                  objectives=("accuracy", "flops", "params", "latency", "grad_norm"),
                                  optuna_storage=f"sqlite:///{db}", storage_path=str(tmp_path / "ray")))
    trained = outcome.trials[outcome.trials["state"] == "COMPLETE"]
    assert len(trained) == 2 and (trained["params"] <= 3e5).all() and (trained["latency_ms"] > 0).all()
    for _, row in trained.iterrows():  # on the run's seeded minibatch, one thread as in the trial
        genome = Genome.from_json(row["genome_json"])
        data = load_dataset("digits", None, genome.resolved().resolution, seed=0, limit=64)
        assert row["grad_norm"] == pytest.approx(score("grad_norm", genome, data, seed=0), rel=1e-9)
    assert trained["snip"].isna().all() and trained["accuracy"].between(0, 1).all()
    over = outcome.trials[outcome.trials["failure_reason"].str.contains("params .* > max_params 3e\\+05")]
    assert len(over) >= 1 and (over["params"] > 3e5).all()
    config = json.loads((outcome.run_dir / "config.json").read_text())
    study = optuna.load_study(study_name=config["study_name"], storage=f"sqlite:///{db}")
    assert len(study.directions) == 5 and len(study.trials) == len(outcome.trials)
    assert not (outcome.run_dir / "optuna.journal").exists()
    assert (tmp_path / "ray" / outcome.run_dir.name).is_dir()
    front = pd.read_csv(outcome.run_dir / "pareto.csv")
    objectives = {"accuracy": "max", "flops": "min", "params": "min", "latency_ms": "min", "grad_norm": "max"}
    assert sorted(front["number"]) == sorted(pareto_front(outcome.trials, objectives)["number"])
