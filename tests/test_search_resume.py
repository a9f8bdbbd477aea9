"""Stop the search driver mid-run (SIGKILL, or Ctrl-C: SIGINT to its process group), then --resume: no completed
trial is lost or repeated."""
import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import optuna
import pandas as pd
import pytest
from conftest import trained_rows
from optuna.storages import JournalStorage
from optuna.storages.journal import JournalFileBackend

from nasbench.search.results import trials_frame

TRIALS = 4


def _command(*args: str) -> list[str]:
    return [sys.executable, "-m", "runners.search", *args]


def _wait_for_rows(results: Path, rows: int, timeout: float) -> Path:
    """The run folder once its study holds `rows` finished trials (its tables may lag the study by seconds)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        for journal in results.glob("resnet_family/*/optuna.journal"):
            if len(_study_table(journal.parent)) >= rows:
                return journal.parent
        time.sleep(0.1)
    raise AssertionError(f"no run reached {rows} finished trials in {timeout} s")


def _study_table(run_dir: Path) -> pd.DataFrame:
    """The run's trials as its Optuna study holds them: the record `--resume` continues from."""
    config = json.loads((run_dir / "config.json").read_text())
    storage = JournalStorage(JournalFileBackend(str(run_dir / "optuna.journal")))
    return trials_frame(optuna.load_study(study_name=config["study_name"], storage=storage), run_dir.name)


@pytest.mark.slow
@pytest.mark.parametrize("stop", [signal.SIGKILL, signal.SIGINT], ids=["kill", "ctrl_c"])
def test_stop_and_resume_loses_and_repeats_nothing(tmp_path, stop):
    common = ["--trials", str(TRIALS), "--epochs", "1", "--limit", "64", "--batch-size", "32", "--concurrency", "1",
              "--results-dir", str(tmp_path)]
    driver = subprocess.Popen(_command("--space", "resnet_family", *common), start_new_session=True,
                              stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
    try:
        run_dir = _wait_for_rows(tmp_path, 2, timeout=300)
    finally:
        os.killpg(driver.pid, stop)
        stdout, _ = driver.communicate(timeout=300)
    before = _study_table(run_dir)
    snapshot = pd.read_csv(run_dir / "trials.csv")
    assert len(before) >= 2 and len(trained_rows(before)) < TRIALS
    if stop == signal.SIGINT:  # Tune stops gracefully: the folder is complete, the runner says how to go on, exit 130
        assert driver.returncode == 130 and f"continue with: python -m runners.search --resume {run_dir}" in stdout
        assert list(snapshot["number"]) == list(before["number"]) and (run_dir / "pareto.csv").is_file()
        return  # resuming from here is the same as after a kill, below, minus the race with the CSV
    assert set(snapshot["number"]) <= set(before["number"])  # the CSV may lag the study by the last trial told

    resumed = subprocess.run(_command("--resume", str(run_dir)), capture_output=True, text=True, timeout=600)
    assert resumed.returncode == 0, resumed.stderr[-2000:]
    after = pd.read_parquet(run_dir / "trials.parquet")
    trained = trained_rows(after.fillna({"failure_reason": ""}))
    assert after["number"].is_unique and trained["trial_id"].is_unique  # over-budget samples have no Ray trial
    assert len(trained) == TRIALS and set(trained["state"]) <= {"COMPLETE", "FAIL"}  # FAIL: e.g. a NaN loss
    assert (trained["failure_reason"] != "").eq(trained["state"] == "FAIL").all()
    kept = after.set_index("number").loc[before["number"], ["key", "accuracy", "trial_id"]]
    assert list(kept["key"]) == list(before["key"]) and list(kept["trial_id"]) == list(before["trial_id"])
    pd.testing.assert_series_equal(kept["accuracy"], before["accuracy"], check_index=False, check_names=False)
    config = json.loads((run_dir / "config.json").read_text())
    (resume,) = config["resumes"]
    assert resume["finished_before"] == len(trained_rows(before))
    # a trial in flight at the kill is marked interrupted (not in the table) and its genome queued again
    assert not set(resume["interrupted"]) & set(after["number"])
    assert "resuming" in resumed.stdout and "Pareto front" in resumed.stdout
