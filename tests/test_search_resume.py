"""SIGKILL the search driver mid-run, then --resume: no completed trial is lost or repeated."""
import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pandas as pd

TRIALS = 5


def _command(*args: str) -> list[str]:
    return [sys.executable, "-m", "runners.search", *args]


def _wait_for_rows(results: Path, rows: int, timeout: float) -> Path:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        for csv in results.glob("resnet_family/*/trials.csv"):
            if len(pd.read_csv(csv)) >= rows:
                return csv.parent
        time.sleep(0.5)
    raise AssertionError(f"no run reached {rows} finished trials in {timeout} s")


def _trained(frame: pd.DataFrame) -> pd.DataFrame:
    """Rows of trained trials; over-budget samples are recorded as infeasible and do not count."""
    return frame[~frame["failure_reason"].str.startswith("infeasible")]


def test_kill_and_resume_loses_and_repeats_nothing(tmp_path):
    common = ["--trials", str(TRIALS), "--epochs", "1", "--limit", "64", "--batch-size", "32", "--concurrency", "1",
              "--results-dir", str(tmp_path)]
    driver = subprocess.Popen(_command("--space", "resnet_family", *common), start_new_session=True,
                              stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        run_dir = _wait_for_rows(tmp_path, 2, timeout=300)
    finally:
        os.killpg(driver.pid, signal.SIGKILL)
        driver.wait()
    before = pd.read_csv(run_dir / "trials.csv").fillna({"failure_reason": "", "trial_id": ""})
    assert 2 <= len(before) and len(_trained(before)) < TRIALS

    resumed = subprocess.run(_command("--resume", str(run_dir)), capture_output=True, text=True, timeout=600)
    assert resumed.returncode == 0, resumed.stderr[-2000:]
    after = pd.read_parquet(run_dir / "trials.parquet")
    trained = _trained(after.fillna({"failure_reason": ""}))
    assert after["number"].is_unique and trained["trial_id"].is_unique  # over-budget samples have no Ray trial
    assert len(trained) == TRIALS and set(trained["state"]) <= {"COMPLETE", "FAIL"}  # FAIL: e.g. a NaN loss
    assert (trained["failure_reason"] != "").eq(trained["state"] == "FAIL").all()
    kept = after.set_index("number").loc[before["number"], ["key", "accuracy", "trial_id"]]
    assert list(kept["key"]) == list(before["key"]) and list(kept["trial_id"]) == list(before["trial_id"])
    pd.testing.assert_series_equal(kept["accuracy"], before["accuracy"], check_index=False, check_names=False)
    config = json.loads((run_dir / "config.json").read_text())
    (resume,) = config["resumes"]
    assert resume["finished_before"] == len(_trained(before))
    # a trial in flight at the kill is marked interrupted (not in the table) and its genome queued again
    assert not set(resume["interrupted"]) & set(after["number"])
    assert "resuming" in resumed.stdout and "Pareto front" in resumed.stdout
