"""The Optuna study in a real PostgreSQL database (`--optuna-storage postgresql://...`): a missing driver or a server
that cannot be reached is one line without the password; searches share one database, survive a kill (`--resume`)
and a torn connection. The server is started here, listening on loopback only (skipped, with the reason, where
PostgreSQL's binaries or psycopg are missing or the server cannot start)."""
from __future__ import annotations

import contextlib
import dataclasses
import json
import os
import pwd
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import optuna
import pandas as pd
import pytest
from conftest import search, search_settings, trained_rows
from ray import tune

from nasbench.errors import SettingError
from nasbench.search.results import trials_frame
from nasbench.search.study import check_storage, database_storage, driver_url

SERVER_USER = "postgres"  # initdb and postgres refuse to run as root
SECRET = "s3cr3t-in-the-url"


@dataclasses.dataclass(frozen=True)
class Server:
    """A PostgreSQL server of this module's own, on 127.0.0.1."""

    port: int
    password: str
    folder: Path

    def url(self, database: str, password: str | None = None) -> str:
        return f"postgresql://postgres:{password or self.password}@127.0.0.1:{self.port}/{database}"

    def execute(self, sql: str, *params) -> list[tuple]:
        """Run one statement as the superuser (autocommit, so CREATE DATABASE works)."""
        import psycopg

        with psycopg.connect(self.url("postgres"), autocommit=True) as connection:
            cursor = connection.execute(sql, params or None)
            return cursor.fetchall() if cursor.description else []

    def new_database(self, name: str) -> str:
        """An empty database's URL (plain postgresql://, as a user writes it)."""
        self.execute(f'CREATE DATABASE "{name}"')
        return self.url(name)

    def terminate_backends(self, application: str) -> int:
        """Tear the connections of an application (a URL's application_name), as a server restart or a network cut
        would; how many there were."""
        rows = self.execute("SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity WHERE "
                            "application_name = %s", application)
        return rows[0][0]


def server_binaries() -> Path | None:
    """The folder of initdb and pg_ctl: on PATH, else Debian's /usr/lib/postgresql/<newest>/bin."""
    found = shutil.which("initdb")
    versions = [p for p in Path("/usr/lib/postgresql").glob("*/bin") if p.parent.name.replace(".", "").isdigit()]
    debian = sorted(versions, key=lambda p: [int(part) for part in p.parent.name.split(".")], reverse=True)
    for folder in ([Path(found).resolve().parent] if found else []) + debian:
        if (folder / "initdb").is_file() and (folder / "pg_ctl").is_file():
            return folder
    return None


def as_server_user() -> list[str]:
    """The command prefix that runs a server binary as an unprivileged user (none unless this is root)."""
    if os.geteuid() != 0:
        return []
    try:
        pwd.getpwnam(SERVER_USER)
    except KeyError:
        pytest.skip(f"running as root, and there is no {SERVER_USER} user to run the PostgreSQL server as")
    if runuser := shutil.which("runuser"):
        return [runuser, "-u", SERVER_USER, "--"]
    pytest.skip("running as root, and runuser is missing to start the PostgreSQL server as another user")


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def last_line(text: str) -> str:
    lines = [line for line in text.strip().splitlines() if line.strip()]
    return lines[-1] if lines else "no output"


def start_server(binaries: Path, prefix: list[str], folder: Path) -> Server:
    """initdb and pg_ctl start in `folder`: password logins over TCP on 127.0.0.1 only, the socket in `folder`."""
    server = Server(free_port(), secrets.token_hex(12), folder)
    (folder / "password").write_text(server.password)
    if prefix:
        for path in (folder, folder / "password"):
            shutil.chown(path, user=SERVER_USER)
    init = subprocess.run([*prefix, str(binaries / "initdb"), "-D", str(folder / "data"), "-U", "postgres",
                           f"--pwfile={folder / 'password'}", "--auth-host=scram-sha-256", "--auth-local=trust",
                           "-E", "UTF8", "--locale=C", "--no-sync"], capture_output=True, text=True, timeout=120)
    if init.returncode:
        pytest.skip(f"initdb failed: {last_line(init.stderr + init.stdout)}")
    options = f"-c listen_addresses=127.0.0.1 -p {server.port} -k {folder} -c fsync=off"
    start = subprocess.run([*prefix, str(binaries / "pg_ctl"), "-D", str(folder / "data"), "-l",
                            str(folder / "server.log"), "-w", "-t", "60", "-o", options, "start"],
                           capture_output=True, text=True, timeout=90)
    if start.returncode:
        log = folder / "server.log"
        pytest.skip(f"the PostgreSQL server did not start: {last_line(log.read_text() if log.is_file() else '')}")
    return server


def stop_server(binaries: Path, prefix: list[str], server: Server) -> None:
    subprocess.run([*prefix, str(binaries / "pg_ctl"), "-D", str(server.folder / "data"), "-m", "immediate",
                    "stop"], capture_output=True, timeout=60)


@pytest.fixture(scope="module")
def postgres():
    """A PostgreSQL server for this module (each test makes its own database); stopped at the end."""
    pytest.importorskip("psycopg", reason="psycopg is not installed (pip install 'nasbench[postgres]')")
    binaries = server_binaries()
    if binaries is None:
        pytest.skip("PostgreSQL's server binaries (initdb, pg_ctl) are not installed")
    prefix = as_server_user()
    folder = Path(tempfile.mkdtemp(prefix="nasbench-pg-"))  # not under pytest's root-only tmp folder
    try:
        server = start_server(binaries, prefix, folder)
        try:
            yield server
        finally:
            stop_server(binaries, prefix, server)
    finally:
        shutil.rmtree(folder, ignore_errors=True)


def cli_line(error: SettingError, capsys) -> str:
    """The line `python -m runners.search` prints for `error` (it exits with code 2)."""
    from runners.cli import fail_from

    with pytest.raises(SystemExit) as exit_info:
        fail_from(error)
    assert exit_info.value.code == 2
    return capsys.readouterr().err.strip()


def test_a_missing_driver_is_one_line_naming_the_extra(monkeypatch, capsys):
    for module in ("psycopg", "psycopg2"):  # as if neither were installed
        monkeypatch.setitem(sys.modules, module, None)
    with pytest.raises(SettingError) as error:
        check_storage(f"postgresql://nas:{SECRET}@db.example:5432/studies")
    assert error.value.setting == "optuna_storage"
    assert cli_line(error.value, capsys) == ("error: the Optuna storage postgresql://nas:***@db.example:5432/studies "
                                             "needs the psycopg driver: pip install 'nasbench[postgres]' "
                                             "(--optuna-storage)")


def test_postgresql_urls_go_to_psycopg_unless_psycopg2_is_installed(monkeypatch):
    monkeypatch.setitem(sys.modules, "psycopg2", None)  # as if it were not installed
    assert driver_url("postgresql://u:p@h/db").drivername == "postgresql+psycopg"
    assert driver_url("postgres://u:p@h/db").drivername == "postgresql+psycopg"
    assert driver_url("postgresql+psycopg2://u:p@h/db").drivername == "postgresql+psycopg2"  # named: kept
    assert driver_url("sqlite:///studies.db").drivername == "sqlite"
    with pytest.raises(SettingError, match="'nonsense' is not a database URL"):
        check_storage("nonsense")


def test_a_server_nobody_listens_at_is_one_line_without_the_password(capsys):
    pytest.importorskip("psycopg", reason="psycopg is not installed (pip install 'nasbench[postgres]')")
    port = free_port()  # closed again: nothing listens there
    with pytest.raises(SettingError) as error:
        check_storage(f"postgresql://nas:{SECRET}@127.0.0.1:{port}/studies")
    assert cli_line(error.value, capsys) == (f"error: cannot connect to the Optuna storage at 127.0.0.1:{port}/studies:"
                                             " Connection refused (--optuna-storage)")


def test_a_refused_login_is_one_line_without_the_password(postgres, capsys):
    with pytest.raises(SettingError) as error:
        check_storage(postgres.url("postgres", password=SECRET))
    line = cli_line(error.value, capsys)
    assert line == (f"error: cannot connect to the Optuna storage at 127.0.0.1:{postgres.port}/postgres: password "
                    'authentication failed for user "postgres" (--optuna-storage)')
    with pytest.raises(SettingError, match='database "absent" does not exist'):
        check_storage(postgres.url("absent"))


def test_resume_with_the_database_unreachable_is_one_line_and_changes_nothing(tmp_path, capsys):
    pytest.importorskip("psycopg", reason="psycopg is not installed (pip install 'nasbench[postgres]')")
    from runners.search import main

    port = free_port()
    url = f"postgresql://nas:{SECRET}@127.0.0.1:{port}/studies"
    run_dir = tmp_path / "resnet_family" / "20260101-000000-abcdef"
    run_dir.mkdir(parents=True)
    config = json.dumps({"run_id": run_dir.name, "study_name": f"nasbench-resnet_family-{run_dir.name}",
                         "optuna_storage": url, "settings": search_settings(tmp_path, optuna_storage=url).to_dict(),
                         "resumes": []})
    (run_dir / "config.json").write_text(config)
    with pytest.raises(SystemExit) as exit_info:
        main(["--resume", str(run_dir)])
    assert exit_info.value.code == 2 and (run_dir / "config.json").read_text() == config
    assert capsys.readouterr().err == (f"error: cannot connect to the Optuna storage at 127.0.0.1:{port}/studies: "
                                       "Connection refused (--optuna-storage)\n")


def test_a_database_without_the_runs_study_is_one_line_without_the_password(postgres, tmp_path):
    from nasbench.search.study import open_study

    url = postgres.new_database("empty")
    config = {"optuna_storage": url, "study_name": "nasbench-resnet_family-gone"}
    with pytest.raises(ValueError) as error:
        open_study(tmp_path, config, search_settings(tmp_path), create=False)
    assert str(error.value) == (f"the database postgresql://postgres:***@127.0.0.1:{postgres.port}/empty holds no "
                                "study named 'nasbench-resnet_family-gone' (config.json's study_name); the run's "
                                "study is missing")


def test_searches_starting_together_on_an_empty_database_all_open_it(postgres):
    """Optuna's table creation races on PostgreSQL (duplicate key in pg_type); the storage tries again."""
    url = postgres.new_database("together")
    with ThreadPoolExecutor(4) as pool:
        storages = list(pool.map(lambda _: database_storage(url), range(4)))
    names = [optuna.create_study(storage=storage).study_name for storage in storages]
    assert sorted(optuna.get_all_study_names(database_storage(url))) == sorted(names)


def study_table(run_dir: Path) -> pd.DataFrame:
    """A run's trials as its study in the database (config.json's optuna_storage) holds them."""
    config = json.loads((run_dir / "config.json").read_text())
    study = optuna.load_study(study_name=config["study_name"], storage=database_storage(config["optuna_storage"]))
    return trials_frame(study, run_dir.name)


def same_trials(table: pd.DataFrame, study: pd.DataFrame) -> bool:
    columns = ["number", "key", "trial_id", "state"]
    return table[columns].reset_index(drop=True).equals(study[columns].reset_index(drop=True))


class TearConnections(tune.Callback):
    """Terminates the connections of one application to the database at every trial start and result: between
    two of the search driver's database calls, as Tune calls back on the driver's thread."""

    def __init__(self, server: Server, application: str):
        self.server, self.application = server, application
        self.torn: list[int] = []  # connections terminated at each call

    def tear(self, **info) -> None:
        self.torn.append(self.server.terminate_backends(self.application))

    on_trial_start = on_trial_result = tear


def start_driver(url: str, results: Path, trials: int) -> subprocess.Popen:
    """`python -m runners.search` in its own process group (its own Ray instance), its study in `url`."""
    command = [sys.executable, "-m", "runners.search", "--space", "resnet_family", "--trials", str(trials),
               "--epochs", "1", "--limit", "64", "--batch-size", "32", "--concurrency", "1", "--max-flops", "5e6",
               "--optuna-storage", url, "--results-dir", str(results)]
    return subprocess.Popen(command, start_new_session=True, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                            text=True)


def first_run_with_a_row(results: Path, driver: subprocess.Popen, timeout: float) -> Path | None:
    """The run folder under `results` whose trials.csv has a row, once it has; None if the driver ends first."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline and driver.poll() is None:
        for csv in results.glob("resnet_family/*/trials.csv"):
            if len(pd.read_csv(csv)):
                return csv.parent
        time.sleep(0.2)
    return None


def kill_at_first_row(driver: subprocess.Popen, results: Path, timeout: float) -> tuple[Path, str]:
    """SIGKILL the driver's process group once a trial is in its run folder's table; the run folder, its output."""
    try:
        run_dir = first_run_with_a_row(results, driver, timeout)
    finally:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(driver.pid, signal.SIGKILL)
    output = driver.communicate(timeout=60)[0]
    assert run_dir is not None, f"the driver wrote no trial in {timeout} s: {output[-3000:]}"
    return run_dir, output


@pytest.mark.slow
def test_two_searches_share_one_database_through_a_kill_and_torn_connections(postgres, local_ray, tmp_path, capsys):
    """Two searches at once in one database: one (another process) is killed mid-run and resumed, the other's
    connections are terminated at every trial start and result; neither loses nor repeats a trial."""
    from runners.search import main

    trials = 4
    url = postgres.new_database("shared")
    driver = start_driver(url, tmp_path / "killed", trials)
    with ThreadPoolExecutor(1) as watcher:
        killed = watcher.submit(kill_at_first_row, driver, tmp_path / "killed", timeout=240)
        tear = TearConnections(postgres, application="torn")
        torn = search(search_settings(tmp_path / "torn", optuna_storage=f"{url}?application_name=torn",
                                     concurrency=1), callbacks=[tear])
        run_dir, output = killed.result()
    assert postgres.password not in output
    assert len(tear.torn) >= 6 and sum(tear.torn) >= 3  # each trial started and reported once
    assert len(trained_rows(torn.trials)) == 3 and not torn.interrupted
    assert same_trials(torn.trials, study_table(torn.run_dir))

    before = study_table(run_dir)
    assert 1 <= len(trained_rows(before)) < trials
    main(["--resume", str(run_dir)])
    output = capsys.readouterr().out
    assert "resuming" in output and postgres.password not in output
    after = pd.read_parquet(run_dir / "trials.parquet")
    trained = trained_rows(after)
    assert after["number"].is_unique and trained["trial_id"].is_unique and len(trained) == trials
    assert same_trials(after, study_table(run_dir))
    kept = after.set_index("number").loc[before["number"], ["key", "trial_id", "accuracy"]]
    assert list(kept["key"]) == list(before["key"]) and list(kept["trial_id"]) == list(before["trial_id"])
    pd.testing.assert_series_equal(kept["accuracy"], before["accuracy"], check_index=False, check_names=False)
    (resume,) = json.loads((run_dir / "config.json").read_text())["resumes"]
    assert resume["finished_before"] == len(trained_rows(before))
    assert not set(resume["interrupted"]) & set(after["number"])  # in flight at the kill: queued again, not kept

    studies = {json.loads((run / "config.json").read_text())["study_name"] for run in (run_dir, torn.run_dir)}
    assert studies == set(optuna.get_all_study_names(database_storage(url)))
