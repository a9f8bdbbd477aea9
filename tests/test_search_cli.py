"""The search CLI: documented flags, and one clear line with exit code 2 for every kind of bad input."""
import os
import subprocess
import sys

import pytest

from runners import search


def run_cli(capsys, *argv):
    with pytest.raises(SystemExit) as info:
        search.main(list(argv))
    return info.value.code, capsys.readouterr()


def test_help_documents_the_flags(capsys):
    code, out = run_cli(capsys, "--help")
    assert code == 0
    for flag in ("--space", "--objectives", "--trials", "--epochs", "--seed", "--dataset", "--data-dir", "--sampler",
                 "--scheduler", "--cpus-per-trial", "--gpus-per-trial", "--address", "--storage-path", "--seed-zoo",
                 "--max-flops", "--max-params", "--optuna-storage", "--results-dir", "--resume"):
        assert flag in out.out, flag


@pytest.mark.parametrize("argv, words", [
    (["--space", "nope"], "unknown space 'nope'"),
    (["--space", "resnet_famly"], "unknown space 'resnet_famly'; did you mean resnet_family?"),
    (["--sampler", "nsga"], "unknown sampler 'nsga'; did you mean nsga2?"),
    (["--objectives", "accuracy,speed"], "unknown objective 'speed'"),
    (["--objectives", "flops"], "must include accuracy"),
    (["--trials", "0"], "trials must be at least 1 (got 0) (--trials)"),
    (["--dataset", "cifar10", "--data-dir", "/nonexistent/data"], "use the data folder that holds "
                                                                   "cifar-10-batches-py/ (--data-dir)"),
    (["--dataset", "imagenet"], "unknown dataset 'imagenet'"),
    (["--sampler", "bayes"], "unknown sampler 'bayes'"),
    (["--objectives", "accuracy:min,flops"], "accuracy is always maximised"),
    (["--space", "compound", "--sampler", "grid", "--trials", "51"], "the compound grid has 50 points; ask for at "
                                                                      "most 50 trials"),
    (["--sampler", "grid"], "the resnet_family space has conditional parameters"),
    (["--max-flops", "-5"], "must be a positive number"),
    (["--resume", "/nonexistent/run"], "is not a run folder"),
    (["--resume", "/nonexistent/run", "--epochs=3"], "only --trials may change (got --epochs)"),
    (["--address", "127.0.0.1:1"], "cannot reach the Ray cluster at 127.0.0.1:1"),
    (["--results-dir", "/proc/nasbench-results"], "cannot create results folder"),
])
def test_bad_input_exits_2_with_one_line(capsys, tmp_path, argv, words):
    if "--results-dir" not in argv and "--resume" not in argv:  # --resume takes the run's own settings
        argv = argv + ["--results-dir", str(tmp_path)]
    code, out = run_cli(capsys, *argv)
    assert code == 2
    lines = [line for line in out.err.splitlines() if line.strip() and not line.startswith("usage:")]
    assert len(lines) == 1 and words in lines[0], out.err
    assert "data_dir=" not in lines[0] and "download=True" not in lines[0]
    assert not list(tmp_path.rglob("config.json")), "a rejected run must leave no run folder"


@pytest.mark.slow
def test_gpus_on_a_cluster_without_gpus_exit_2(capsys, tmp_path):
    code, out = run_cli(capsys, "--gpus-per-trial", "1", "--results-dir", str(tmp_path))
    errors = [line for line in out.err.splitlines() if line.startswith("error:")]  # Ray logs its own warnings
    assert code == 2 and len(errors) == 1 and "has 0 GPUs" in errors[0]


@pytest.mark.slow
def test_no_traceback_from_the_real_entry_point(tmp_path):
    env = {**os.environ, "PYTHONWARNINGS": "ignore"}
    done = subprocess.run([sys.executable, "-m", "runners.search", "--space", "nope", "--results-dir", str(tmp_path)],
                          capture_output=True, text=True, env=env, timeout=300)
    assert done.returncode == 2
    from search_spaces import list_spaces

    assert done.stderr.strip().splitlines() == [f"error: argument --space: unknown space 'nope'; (spaces: "
                                                f"{', '.join(list_spaces())}) (see python -m runners.search --help)"]


def test_the_summary_shows_what_differs_and_formats_numbers_alike(capsys, tmp_path):
    """Front rows show the key and the body of the genome (the stem is the same for a whole space), params and FLOPs
    as whole numbers, and the states in the record's words."""
    import types

    from nasbench import zoo
    from nasbench.record import TrialRecord, records_frame

    rows = [TrialRecord(number=i, state="COMPLETE", genome=zoo.get(name).to_str(), key=zoo.get(name).key(),
                        accuracy=acc, test_accuracy=acc, flops=flops, params=params)
            for i, (name, acc, flops, params) in enumerate([("resnet20", 0.9, 4.1e7, 5540), ("resnet56", 0.95, 1.3e8,
                                                                                            32660.0)])]
    rows.append(TrialRecord(number=2, state="INFEASIBLE", failure_reason="flops 3e+08 > max_flops 2e+08"))
    table = records_frame(rows)
    search.print_summary(types.SimpleNamespace(front=table.iloc[:2], trials=table, run_dir=tmp_path, trains=True))
    out = capsys.readouterr().out
    assert "2 trials trained: 2 complete; samples: 1 over budget (not trained)" in out
    assert " 5,540 " in out and " 32,660 " in out and "41,000,000" in out and "e+0" not in out
    assert zoo.get("resnet20").key() in out and "|...|body:" in out
    long = zoo.get("resnet56").to_str()
    assert search.shorten(long).startswith("i=3,r=32,n=10|...|body:" + long.split("|body:")[1][:40])
    assert len(search.shorten("x" * 500)) == 90


def test_flag_defaults_are_the_settings_defaults():
    """The command line takes every default from SearchSettings (and EmpiricalSettings): one source."""
    import dataclasses

    from nasbench.scaling.empirical import EmpiricalSettings
    from nasbench.search import SearchSettings
    from runners import scale

    parsed = search.settings_from(search.build_parser().parse_args([]))
    assert dataclasses.replace(parsed, results_dir="results") == SearchSettings()
    args = scale.build_parser().parse_args(["--empirical"])
    for field in dataclasses.fields(EmpiricalSettings):
        if hasattr(args, field.name) and field.name != "results_dir":
            assert getattr(args, field.name) == getattr(EmpiricalSettings(), field.name), field.name
