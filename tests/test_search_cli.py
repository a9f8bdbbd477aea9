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
    (["--space", "nope"], "unknown search space 'nope'"),
    (["--objectives", "accuracy,speed"], "unknown objective 'speed'"),
    (["--objectives", "flops"], "must include accuracy"),
    (["--trials", "0"], "trials must be at least 1"),
    (["--dataset", "cifar10", "--data-dir", "/nonexistent/data"], "cifar"),
    (["--dataset", "imagenet"], "imagenet"),
    (["--sampler", "bayes"], "invalid choice"),
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
    assert not list(tmp_path.rglob("config.json")), "a rejected run must leave no run folder"


def test_gpus_on_a_cluster_without_gpus_exit_2(capsys, tmp_path):
    code, out = run_cli(capsys, "--gpus-per-trial", "1", "--results-dir", str(tmp_path))
    errors = [line for line in out.err.splitlines() if line.startswith("error:")]  # Ray logs its own warnings
    assert code == 2 and len(errors) == 1 and "has 0 GPUs" in errors[0]


def test_no_traceback_from_the_real_entry_point(tmp_path):
    env = {**os.environ, "PYTHONWARNINGS": "ignore"}
    done = subprocess.run([sys.executable, "-m", "runners.search", "--space", "nope", "--results-dir", str(tmp_path)],
                          capture_output=True, text=True, env=env, timeout=300)
    assert done.returncode == 2
    from search_spaces import list_spaces

    assert done.stderr.strip().splitlines() == [f"error: unknown search space 'nope'; spaces: {', '.join(list_spaces())}"]
