"""The decks' training experiments: their networks, measures, verdicts, the few-label task, the weight transfer, and
one whole run as Ray Tune trials with its resume."""
from __future__ import annotations

import json
import math
import shutil

import numpy as np
import pandas as pd
import pytest
import torch
from scipy import stats

from nasbench import zoo
from nasbench.analysis.seeds import CONTRADICTED, EXPECTATIONS, NOT_REPRODUCED, REPRODUCED, WITHIN_SPREAD, outcome
from nasbench.cost import analytic_cost
from nasbench.cost_table import layer_table
from nasbench.data import load_dataset
from nasbench.lecture.arms import Shape, Task, start_from, task_data
from nasbench.lecture.experiments import EXPERIMENTS, Claim
from nasbench.lecture.metrics import AtEpoch, EpochsTo, Final
from nasbench.lecture.trials import ExperimentSettings, arms, read_run, resume_experiment, run_experiment
from nasbench.lecture.verdict import judge
from nasbench.train import TrainConfig, evaluate
from runners import experiment as cli

DIGITS = Shape(1, 16, 10)


def weight_layers(genome) -> int:
    """Convolutions and fully connected layers, shortcut projections left out (none here: zero_pad shortcuts)."""
    table = layer_table(genome)
    return int(table["type"].isin(["conv 1x1", "conv kxk", "fully connected"]).sum())


def test_degradation_arms_have_the_paper_depths_and_plain_twins_of_equal_size():
    found = {arm.name: arm for arm in EXPERIMENTS["degradation"].arms(DIGITS)}
    assert list(found) == [f"{kind}-{n}" for kind in ("plain", "residual") for n in (20, 32, 44, 56)]
    for layers in (20, 32, 44, 56):
        plain, residual = found[f"plain-{layers}"].genome, found[f"residual-{layers}"].genome
        assert weight_layers(plain) == weight_layers(residual) == layers
        assert analytic_cost(plain).params == analytic_cost(residual).params  # zero-padded identity shortcuts
    zoo_resnet20 = zoo.get("resnet20").with_input(in_chans=1, resolution=16, num_classes=10)
    assert found["residual-20"].genome == zoo_resnet20
    assert analytic_cost(found["plain-20"].genome).params == 269_434  # the zoo's 269,722 less 2 input channels' 288


def test_all_cnn_arms_pair_up_in_parameters_as_in_the_paper():
    params = {arm.name: analytic_cost(arm.genome).params for arm in EXPERIMENTS["all_cnn"].arms(DIGITS)}
    assert params["model_c"] == params["strided_cnn_c"] == 60_514
    assert params["convpool_cnn_c"] == params["all_cnn_c"] == 86_578


def test_every_claim_names_arms_and_a_measure_of_its_experiment():
    for experiment in EXPERIMENTS.values():
        names = {arm.name for arm in experiment.arms(DIGITS)}
        for claim in experiment.claims:
            assert {claim.arm, claim.other} <= names and claim.expect in EXPECTATIONS
            assert experiment.measure(claim.measure).name == claim.measure


def test_measures_read_the_curve_and_interpolate_from_chance():
    curve = pd.DataFrame({"epoch": [1, 2, 3], "train_error": [0.5, 0.3, 0.2]})
    assert Final("train_error").of(curve) == 0.2
    assert AtEpoch("train_error", 2).of(curve) == 0.3
    assert EpochsTo("train_error", 0.25).of(curve) == pytest.approx(2.5)      # 0.3 -> 0.2, a half-way crossing
    assert EpochsTo("train_error", 0.7).of(curve) == pytest.approx(0.5)       # 0.9 at epoch 0 -> 0.5 at epoch 1
    assert EpochsTo("train_error", 0.1).of(curve) == 4.0                      # never: epochs + 1


def test_outcomes_follow_sign_and_spread():
    low, high = np.array([0.10, 0.11, 0.12]), np.array([0.20, 0.21, 0.22])
    wide = np.array([0.05, 0.25, 0.15])
    assert outcome("lower", low, high) == REPRODUCED
    assert outcome("higher", low, high) == CONTRADICTED
    assert outcome("lower", low, wide) == WITHIN_SPREAD
    assert outcome("higher", low, wide) == NOT_REPRODUCED
    assert outcome("not higher", high, low) == CONTRADICTED
    assert outcome("not higher", low, wide) == REPRODUCED
    assert outcome("not lower", low, high) == CONTRADICTED
    assert outcome("not lower", high, wide) == REPRODUCED
    assert outcome("lower", low[:1], high) == "one seed, no spread: holds"


def test_judge_reports_means_stds_ratio_and_welch_p_of_successful_runs():
    runs = pd.DataFrame({"arm": ["a"] * 3 + ["b"] * 4, "status": ["ok"] * 6 + ["failed"],
                         "m": [1.0, 2.0, 3.0, 6.0, 7.0, 8.0, 100.0]})
    row = judge(Claim("a is faster", "m", "a", "lower", "b", ratio=True), runs)
    assert (row["arm_mean"], row["arm_std"], row["other_mean"], row["other_std"]) == (2.0, 1.0, 7.0, 1.0)
    assert row["ratio"] == 3.5 and row["other_seeds"] == 3
    assert row["p_welch"] == pytest.approx(stats.ttest_ind([1, 2, 3], [6, 7, 8], equal_var=False).pvalue)
    assert row["outcome"] == REPRODUCED


def test_task_data_keeps_the_classes_relabelled_and_few_training_labels():
    data = load_dataset("distorted_digits")
    task = task_data(data, Task((5, 6, 7, 8, 9), 20))
    assert task.num_classes == 5 and task.classes == ("5", "6", "7", "8", "9")
    assert task.train.labels.bincount().tolist() == [20] * 5
    assert len(task.val) == int((data.val.labels >= 5).sum()) and len(task.test) == int((data.test.labels >= 5).sum())
    first_fives = data.train.images[data.train.labels == 5][:20]
    assert torch.equal(task.train.images[task.train.labels == 0], first_fives)


def test_start_from_loads_the_body_keeps_a_fresh_head_and_freezes():
    source, target = (arm.genome for arm in EXPERIMENTS["transfer"].arms(DIGITS)[:2])
    from nasbench import build

    trained, fresh = build(source), build(target)
    weights = {k: v + 1.0 if v.is_floating_point() else v for k, v in trained.state_dict().items()}
    head_before = {k: v.clone() for k, v in fresh.state_dict().items() if k.startswith("head.")}
    start_from(weights, True, fresh)
    state = fresh.state_dict()
    assert all(torch.equal(state[k], weights[k]) for k in state if not k.startswith("head."))
    assert all(torch.equal(state[k], v) for k, v in head_before.items())
    trainable = [name for name, p in fresh.named_parameters() if p.requires_grad]
    assert trainable and all(name.startswith("head.") for name in trainable)
    with pytest.raises(ValueError, match="lack"):
        start_from({}, False, build(target))


def test_a_frozen_body_stays_as_loaded_while_the_head_learns():
    transfer = EXPERIMENTS["transfer"].arms(DIGITS)
    data = task_data(load_dataset("distorted_digits", limit=120), transfer[1].task)
    genome = transfer[1].genome
    from nasbench import build

    weights = build(genome).state_dict()
    result = evaluate(genome, data, TrainConfig(epochs=2, batch_size=16, threads=1),
                      prepare=lambda model: start_from(weights, True, model))
    state = result.model.state_dict()
    body = [k for k, v in state.items() if not k.startswith("head.") and k.endswith("weight")]
    assert body and all(torch.equal(state[k], weights[k]) for k in body)
    head = [k for k in state if k.startswith("head.") and k.endswith("weight")]
    assert head and not any(torch.equal(state[k], weights[k]) for k in head)


@pytest.mark.slow
def test_a_transfer_run_trains_sources_first_and_resumes_without_retraining(tmp_path, local_ray):
    settings = ExperimentSettings(experiment="transfer", seeds=1, epochs=1, limit=150, cpus_per_trial=2,
                                  results_dir=str(tmp_path))  # one trial at a time: one Ray worker to start
    first = run_experiment(settings, log=lambda line: None)
    runs = first.runs
    assert sorted(runs["arm"]) == ["fine-tune", "linear-probe", "scratch", "source"]
    assert (runs["status"] == "ok").all()
    assert runs["epochs"].tolist() == [1 if arm == "source" else 4 for arm in runs["arm"]]
    assert (first.run_dir / "weights" / "source-seed0.pt").is_file()
    curves = pd.read_csv(first.run_dir / "curves.csv")
    assert len(curves) == runs["epochs"].sum()
    assert list(first.verdicts["outcome"].str.startswith("one seed")) == [True, True]
    assert {"report.md", "curves.png", "summary.csv", "verdicts.csv"} <= {p.name for p in first.run_dir.iterdir()}

    kept = runs[runs["arm"] != "fine-tune"]
    kept.to_csv(first.run_dir / "runs.csv", index=False)
    lines: list[str] = []
    again = resume_experiment(first.run_dir, log=lines.append)
    assert [line for line in lines if line.startswith("[")] == [lines[-1]] and "fine-tune seed 0: ok" in lines[-1]
    merged = again.runs.set_index("arm").loc[kept["arm"]]
    assert merged["test_error"].tolist() == kept["test_error"].tolist()
    assert len(read_run(first.run_dir)[0]["resumes"]) == 1

    shutil.rmtree(first.run_dir / "weights")  # a committed example run has no weights: complete, nothing retrained
    lines.clear()
    resume_experiment(first.run_dir, log=lines.append)
    assert lines[-1].endswith("is complete: all 4 trainings are in its runs.csv")


@pytest.mark.parametrize("argv, message", [
    (["degredation"], "did you mean degradation?"),
    (["degradation", "--seeds", "0"], "seeds must be at least 1"),
    (["--resume", "x", "degradation"], "give no experiment"),
    ([], "name an experiment"),
    (["--resume", "/nonexistent/run"], "is not a lecture experiment's run folder"),
])
def test_bad_input_is_one_line_and_exit_code_2(argv, message, capsys):
    with pytest.raises(SystemExit) as stop:
        cli.main(argv)
    assert stop.value.code == 2
    err = capsys.readouterr().err.strip()
    assert message in err and len(err.splitlines()) == 1


def test_settings_defaults_come_from_one_place():
    parser = cli.build_parser()
    assert parser.get_default("seeds") == ExperimentSettings.seeds == 3
    assert parser.get_default("dataset") == ExperimentSettings.dataset == "distorted_digits"
    assert math.isclose(parser.get_default("cpus_per_trial"), ExperimentSettings.cpus_per_trial)
    assert [a.name for a in arms(ExperimentSettings(experiment="activations"))] == ["relu", "tanh", "sigmoid"]


def test_a_damaged_runs_table_is_named_in_one_line_and_left_as_it_is(tmp_path, capsys):
    settings = ExperimentSettings(experiment="activations", results_dir=str(tmp_path))
    (tmp_path / "config.json").write_text(json.dumps({"settings": settings.to_dict()}))
    (tmp_path / "runs.csv").write_bytes(b"\x00\xff not a table")
    with pytest.raises(SystemExit) as stop:
        cli.main(["--resume", str(tmp_path)])
    err = capsys.readouterr().err.strip()
    assert stop.value.code == 2 and len(err.splitlines()) == 1 and "runs.csv is not a readable table" in err
    assert (tmp_path / "runs.csv").read_bytes() == b"\x00\xff not a table"
