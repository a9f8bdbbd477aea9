"""Faults injected into real run folders: torn and repeated journal tails, two processes on one run, broken
configs, budgets nothing fits, a full disk. Each ends in a repaired run or one line (exit 2), never a traceback, and
never loses or repeats a trial."""
import json
import os
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import pandas as pd
import pytest
from conftest import search, search_settings, trained_rows

from nasbench.search.journal import JournalError, check_journal, repair_journal
from nasbench.search.lock import LOCK_FILE, run_lock
from runners import search as search_cli

TRIALS = 3


@pytest.fixture(scope="module")
def finished_run(tmp_path_factory, local_ray):
    """A finished run of TRIALS trials (the source every test copies before damaging it)."""
    outcome = search(search_settings(tmp_path_factory.mktemp("finished"), trials=TRIALS, concurrency=1),
                     log=lambda line: None)
    return outcome.run_dir


def copy_run(run_dir: Path, tmp_path: Path) -> Path:
    target = tmp_path / run_dir.name
    shutil.copytree(run_dir, target, ignore=shutil.ignore_patterns("ray"))
    return target


def cli(capsys, *argv) -> tuple[int, str, str]:
    try:
        search_cli.main(list(argv))
        code = 0
    except SystemExit as exit_:
        code = exit_.code
    out = capsys.readouterr()
    return code, out.out, out.err


def error_lines(err: str) -> list[str]:
    return [line for line in err.splitlines() if line.startswith("error:")]


# ---- the journal ------------------------------------------------------------------------------------------------
@pytest.mark.slow
@pytest.mark.parametrize("keep", [0.999, 0.5])
def test_a_torn_journal_is_repaired_and_the_run_continues(finished_run, tmp_path, capsys, keep):
    run = copy_run(finished_run, tmp_path)
    journal = run / "optuna.journal"
    data = journal.read_bytes()
    cut = int(len(data) * keep)
    assert data[cut - 1:cut] != b"\n", "the cut must fall inside a record"
    journal.write_bytes(data[:cut])
    code, out, err = cli(capsys, "--resume", str(run))
    assert code == 0, err
    assert f"repaired {journal}: dropped a torn last record" in out
    (backup,) = run.glob("optuna.journal.*.bak")
    assert backup.read_bytes() == data[:cut]
    assert check_journal(journal).healthy
    table = pd.read_parquet(run / "trials.parquet")
    assert len(trained_rows(table)) == TRIALS and table["number"].is_unique
    before = pd.read_parquet(finished_run / "trials.parquet").set_index("number")
    kept = table[table["trial_id"].isin(before["trial_id"])].set_index("number")
    pd.testing.assert_series_equal(kept["accuracy"], before.loc[kept.index, "accuracy"])  # nothing kept changed


@pytest.mark.slow
def test_a_repeated_journal_tail_is_recognised_and_dropped(finished_run, tmp_path, capsys):
    run = copy_run(finished_run, tmp_path)
    journal = run / "optuna.journal"
    lines = journal.read_bytes().splitlines(keepends=True)
    journal.write_bytes(b"".join(lines + lines[-15:]))
    code, out, err = cli(capsys, "--resume", str(run))
    assert code == 0, err
    assert "dropped 15 record(s) repeated at its end" in out
    assert "0 interrupted trial(s) queued again" in out and f"{TRIALS} of {TRIALS} trials finished" in out
    assert journal.read_bytes() == b"".join(lines)
    assert pd.read_parquet(run / "trials.parquet").equals(pd.read_parquet(finished_run / "trials.parquet"))


@pytest.mark.slow
def test_a_journal_lock_left_by_a_killed_writer_costs_no_wait(finished_run, tmp_path, capsys):
    """Optuna's journal lock (a symlink) outlives a writer killed mid-write and is waited out for 30 s; the run
    folder's own lock proves nobody else writes, so resume removes it."""
    run = copy_run(finished_run, tmp_path)
    os.symlink(run / "optuna.journal", run / "optuna.journal.lock")
    start = time.monotonic()
    code, out, err = cli(capsys, "--resume", str(run))
    assert code == 0 and f"{TRIALS} of {TRIALS} trials finished" in out, err
    assert time.monotonic() - start < 20 and not (run / "optuna.journal.lock").exists()


def test_damage_inside_the_journal_is_refused_naming_the_line(tmp_path):
    journal = tmp_path / "optuna.journal"
    records = [json.dumps({"op_code": 4, "trial": i}).encode() for i in range(5)]
    journal.write_bytes(b"\n".join(records[:3] + [records[1]] + records[3:]) + b"\n")
    with pytest.raises(JournalError, match="line 4 repeats line 2, and records follow that are not repeats"):
        check_journal(journal)
    journal.write_bytes(b"\n".join(records[:2] + [b'{"op_code": 4, "tri'] + records[2:]) + b"\n")
    with pytest.raises(JournalError, match="line 3 is not a JSON record"):
        repair_journal(journal)
    journal.write_bytes(b"\n".join(records) + b"\n")
    assert repair_journal(journal) is None and not list(tmp_path.glob("*.bak"))


# ---- one process per run folder -----------------------------------------------------------------------------------
@pytest.mark.slow
def test_a_run_folder_in_use_is_refused_naming_the_holder(finished_run, tmp_path, capsys):
    run = copy_run(finished_run, tmp_path)
    with run_lock(run):
        code, out, err = cli(capsys, "--resume", str(run))
    assert code == 2 and len(error_lines(err)) == 1
    assert f"{run} is being run by pid {os.getpid()} on " in err and "wait for it to finish or stop it first" in err
    assert "resuming" not in out


@pytest.mark.slow
def test_a_killed_holder_leaves_no_lock_to_wait_for(tmp_path):
    holder = subprocess.Popen([sys.executable, "-c", "import sys, time; from pathlib import Path; "
                               "from nasbench.search.lock import run_lock\n"
                               "with run_lock(Path(sys.argv[1])):\n    print('locked', flush=True); time.sleep(60)",
                               str(tmp_path)], stdout=subprocess.PIPE, text=True)
    assert holder.stdout.readline().strip() == "locked"
    with pytest.raises(ValueError, match="is being run by pid"), run_lock(tmp_path):
        pass
    holder.send_signal(signal.SIGKILL)
    holder.wait(timeout=30)
    start = time.monotonic()
    with run_lock(tmp_path):
        assert (tmp_path / LOCK_FILE).read_text().startswith(f"pid {os.getpid()} ")
    assert time.monotonic() - start < 1.0


# ---- broken configs and inputs -------------------------------------------------------------------------------------
@pytest.mark.slow
@pytest.mark.parametrize("damage, words", [
    (lambda c: [c], "config.json is not a run's configuration: settings is missing or of the wrong type"),
    (lambda c: {**c, "settings": {**c["settings"], "epochs": "two"}}, "config.json: epochs must be an integer, "
                                                                      "got 'two'"),
    (lambda c: {k: v for k, v in c.items() if k != "study_name"}, "study_name is missing or of the wrong type"),
    (lambda c: {**c, "study_name": "another"}, "holds no study named 'another'"),
    (lambda c: {**c, "settings": {**c["settings"], "color": 1}}, "config.json: unknown settings color"),
])
def test_a_broken_config_is_one_line_naming_the_file(finished_run, tmp_path, capsys, damage, words):
    run = copy_run(finished_run, tmp_path)
    config = json.loads((run / "config.json").read_text())
    (run / "config.json").write_text(json.dumps(damage(config)))
    code, _, err = cli(capsys, "--resume", str(run))
    assert code == 2 and len(error_lines(err)) == 1 and words in err, err


@pytest.mark.slow
def test_a_missing_journal_is_named(finished_run, tmp_path, capsys):
    run = copy_run(finished_run, tmp_path)
    (run / "optuna.journal").unlink()
    code, _, err = cli(capsys, "--resume", str(run))
    assert code == 2 and f"{run / 'optuna.journal'} is missing: the run's study is gone" in err


def test_a_budget_nothing_fits_is_refused_before_any_run(tmp_path, capsys):
    code, _, err = cli(capsys, "--max-params", "10", "--results-dir", str(tmp_path))
    assert code == 2 and len(error_lines(err)) == 1, err
    assert "none of 200 random samples of the resnet_family space fits max_flops 2e+07 and max_params 10" in err
    assert err.strip().endswith("raise the budget (--max-params)") and not list(tmp_path.rglob("config.json"))


# ---- a full disk -------------------------------------------------------------------------------------------------
@pytest.fixture
def small_disk(tmp_path):
    """A 3 MB tmpfs (needs root and a kernel that allows the mount; skipped otherwise)."""
    folder = tmp_path / "small"
    folder.mkdir()
    mounted = subprocess.run(["mount", "-t", "tmpfs", "-o", "size=3m", "tmpfs", str(folder)], capture_output=True)
    if mounted.returncode:
        pytest.skip(f"cannot mount a small tmpfs here: {mounted.stderr.decode().strip()[:200]}")
    free = shutil.disk_usage(folder).free
    (folder / "filler").write_bytes(bytes(free - 400_000))  # room for the run folder, not for a trial's weights
    yield folder
    subprocess.run(["umount", str(folder)], check=False)


@pytest.mark.slow
def test_a_full_disk_stops_the_search_with_one_line(small_disk, local_ray, capsys):
    code, _, err = cli(capsys, "--trials", "2", "--epochs", "1", "--limit", "64", "--max-failures", "0",
                       "--concurrency", "1", "--results-dir", str(small_disk))
    assert code == 1, err[-2000:]
    assert "Traceback" not in err
    (line,) = error_lines(err)
    assert line.startswith("error: the search stopped: No space left on device")
    assert "then resume the run" in line
