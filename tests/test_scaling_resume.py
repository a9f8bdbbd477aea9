"""Resuming the empirical scaling experiment: an interrupted run trains exactly the missing trainings and ends as an
uninterrupted one would; a finished grid search is never repeated and an interrupted one is continued; a run folder
that cannot be resumed is one line and exit code 2."""
import json
from pathlib import Path

import pandas as pd
import pytest

from nasbench.scaling import empirical
from nasbench.scaling.empirical import EmpiricalSettings, Interrupted, resume_empirical, run_empirical
from nasbench.scaling.grid import latest_search, searched
from nasbench.search import RunOutcome
from nasbench.search.lock import run_lock
from runners import scale
from search_spaces import get_space

GRID = pd.DataFrame([  # a grid table as grid_table writes it: the second point is the best feasible one
    {"number": 0, "state": "COMPLETE", "alpha": 1.2, "beta": 1.1, "gamma": 1.17, "product": 2.0, "feasible": True,
     "accuracy": 0.9, "flops": 10, "params": 5},
    {"number": 1, "state": "COMPLETE", "alpha": 1.3, "beta": 1.05, "gamma": 1.18, "product": 1.99, "feasible": True,
     "accuracy": 0.95, "flops": 11, "params": 5},
])


def tiny(results_dir, **overrides) -> EmpiricalSettings:
    """resnet to 2x its FLOPs by each strategy (5 networks), 2 seeds of 1 epoch on 32 digits per split: 10 trainings."""
    base = dict(baselines=("resnet",), targets=(2.0,), seeds=2, epochs=1, limit=32, results_dir=str(results_dir))
    return EmpiricalSettings(**{**base, **overrides})


class Log:
    """A log callback that counts the trainings it is told of and raises KeyboardInterrupt (Ctrl-C) after the
    `stop_after`-th."""

    def __init__(self, stop_after: int | None = None):
        self.stop_after, self.trainings, self.lines = stop_after, 0, []

    def __call__(self, line: str) -> None:
        self.lines.append(line)
        if line.startswith("["):  # "[3/10] resnet ...": one line per training
            self.trainings += 1
            if self.trainings == self.stop_after:
                raise KeyboardInterrupt


def interrupted_run(settings: EmpiricalSettings, stop_after: int | None, **kwargs):
    """The run folder of `settings` stopped by Ctrl-C after `stop_after` trainings (None: before the first)."""
    with pytest.raises(Interrupted) as stop:
        run_empirical(settings, log=Log(stop_after), **kwargs)
    return stop.value.run_dir


def without_times(path) -> pd.DataFrame:
    return pd.read_csv(path).drop(columns="wall_time_s")


@pytest.fixture(scope="module", autouse=True)
def one_thread():
    """Tiny networks train fastest on one thread (and two threads crawl on a busy machine)."""
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("OMP_NUM_THREADS", "1")
        yield


@pytest.fixture(scope="module")
def whole_run(one_thread, tmp_path_factory):
    """The tiny run, uninterrupted."""
    return run_empirical(tiny(tmp_path_factory.mktemp("whole")), log=Log())


def test_interrupted_run_resumes_with_exactly_the_missing_trainings_and_ends_as_a_whole_run(tmp_path, whole_run):
    run_dir = interrupted_run(tiny(tmp_path), stop_after=2)
    first = (run_dir / "runs.csv").read_text()
    assert len(pd.read_csv(run_dir / "runs.csv")) == 2 and not (run_dir / "summary.md").exists()
    log = Log()
    outcome = resume_empirical(run_dir, log=log)
    assert log.trainings == 8 and len(outcome.runs) == 10 and log.lines[-1].startswith("[10/10]")
    assert (run_dir / "runs.csv").read_text().startswith(first)  # the two rows trained before, byte for byte
    assert (run_dir / "summary.csv").read_text() == (whole_run.run_dir / "summary.csv").read_text()
    pd.testing.assert_frame_equal(without_times(run_dir / "runs.csv"), without_times(whole_run.run_dir / "runs.csv"))
    assert (run_dir / "summary.md").read_text() == (whole_run.run_dir / "summary.md").read_text()
    assert set(pd.read_csv(run_dir / "runs.csv")["epochs"]) == {1}
    assert [r["trainings_before"] for r in json.loads((run_dir / "config.json").read_text())["resumes"]] == [2]


def test_complete_run_says_so_and_trains_nothing(whole_run, capsys):
    before = (whole_run.run_dir / "runs.csv").read_text()
    scale.main(["--empirical", "--resume", str(whole_run.run_dir)])  # returns: exit code 0
    out = capsys.readouterr().out
    assert "is complete: all 10 trainings are in its runs.csv" in out and "[1/" not in out
    assert (whole_run.run_dir / "runs.csv").read_text() == before
    assert "| resnet | width | 2 |" in out


def test_finished_grid_search_is_read_back_from_grid_csv_not_repeated(tmp_path, monkeypatch):
    monkeypatch.setattr(empirical, "search_coefficients", lambda space, search: ((1.3, 1.05, 1.18), GRID))
    run_dir = interrupted_run(tiny(tmp_path, seeds=1, grid=True), stop_after=1, grid_space=get_space("compound"))
    assert (run_dir / "grid.csv").is_file()
    for name in ("search_coefficients", "resume_coefficients"):
        monkeypatch.setattr(empirical, name, lambda *args: pytest.fail("the finished grid search ran again"))
    log = Log()
    outcome = resume_empirical(run_dir, log=log, grid_space=get_space("compound"))
    assert log.trainings == 4 and "grid search: alpha=1.3 beta=1.05 gamma=1.18" in log.lines
    compound = outcome.points.query("strategy == 'compound'").iloc[0]
    assert (compound["alpha"], compound["beta"], compound["gamma"]) == (1.3, 1.05, 1.18)
    pd.testing.assert_frame_equal(outcome.grid, GRID)


def test_interrupted_grid_search_is_continued_in_its_own_run_folder(tmp_path, monkeypatch):
    def stopped_search(space, search):  # the search got as far as its config.json, then Ctrl-C
        folder = Path(search.results_dir) / space.name / "20260101-000000-abcdef"
        folder.mkdir(parents=True)
        (folder / "config.json").write_text("{}")
        raise KeyboardInterrupt

    continued = []
    monkeypatch.setattr(empirical, "search_coefficients", stopped_search)
    run_dir = interrupted_run(tiny(tmp_path, seeds=1, grid=True), stop_after=None, grid_space=get_space("compound"))
    assert not (run_dir / "grid.csv").exists() and not (run_dir / "runs.csv").exists()
    monkeypatch.setattr(empirical, "resume_coefficients",
                        lambda folder, space: continued.append(folder) or ((1.3, 1.05, 1.18), GRID))
    log = Log()
    resume_empirical(run_dir, log=log, grid_space=get_space("compound"))
    assert continued == [run_dir / "compound" / "20260101-000000-abcdef"] and log.trainings == 5
    assert (run_dir / "grid.csv").is_file()


def test_tune_ending_a_grid_search_on_ctrl_c_is_an_interrupt_and_the_newest_search_is_resumed(tmp_path):
    with pytest.raises(KeyboardInterrupt):
        searched(RunOutcome(tmp_path, pd.DataFrame(), pd.DataFrame(), interrupted=True))
    for name in ("20260101-000000-aaaaaa", "20260102-000000-bbbbbb"):
        (tmp_path / name).mkdir()
    (tmp_path / "20260101-000000-aaaaaa" / "config.json").write_text("{}")
    assert latest_search(tmp_path) == tmp_path / "20260101-000000-aaaaaa"  # the newer one never got started
    assert latest_search(tmp_path / "missing") is None


def test_a_run_being_run_is_not_resumed_twice(whole_run, capsys):
    with run_lock(whole_run.run_dir), pytest.raises(SystemExit) as exit_info:
        scale.main(["--empirical", "--resume", str(whole_run.run_dir)])
    err = capsys.readouterr().err
    assert exit_info.value.code == 2 and "is being run by pid" in err and "(--resume)" in err


def bad_folders(tmp_path) -> dict:
    """Run folders that cannot be resumed, by name."""
    def folder(name: str, config, runs: str | None = None):
        path = tmp_path / name
        path.mkdir()
        if config is not None:
            (path / "config.json").write_text(config if isinstance(config, str) else json.dumps(config))
        if runs is not None:
            (path / "runs.csv").write_text(runs)
        return path

    settings = tiny(tmp_path).to_dict()
    return {"empty": folder("empty", None), "not json": folder("not json", "{"),
            "no settings": folder("no settings", {"run_id": "x"}),
            "search run": folder("search run", {"settings": {"space": "resnet_family", "trials": 3}}),
            "bad value": folder("bad value", {"settings": {**settings, "seeds": "two"}}),
            "bad runs": folder("bad runs", {"settings": settings}, "seed,status\n0,ok\n")}


@pytest.mark.parametrize("folder, extra, message", [
    ("empty", [], "is not a scaling run folder (no config.json)"),
    ("not json", [], "is not a scaling run's configuration: Expecting property name"),
    ("no settings", [], "settings are missing or not an object"),
    ("search run", [], "unknown settings space, trials"),
    ("bad value", [], "is not a scaling run's configuration"),
    ("bad runs", [], "runs.csv is not a scaling run's table: it has no baseline column"),
    ("empty", ["--epochs", "3"], "no other option may be given (got --epochs)"),
    ("empty", ["--grid", "--seeds=2"], "(got --grid, --seeds)"),
])
def test_bad_resume_exits_2_with_one_line(folder, extra, message, tmp_path, capsys):
    run_dir = bad_folders(tmp_path)[folder]
    with pytest.raises(SystemExit) as exit_info:
        scale.main(["--empirical", "--resume", str(run_dir), *extra])
    err = capsys.readouterr().err
    assert exit_info.value.code == 2 and message in err and len(err.strip().splitlines()) == 1


def test_resume_is_for_empirical_runs_only(tmp_path, capsys):
    with pytest.raises(SystemExit) as exit_info:
        scale.main(["--static", "--resume", str(tmp_path)])
    assert exit_info.value.code == 2 and "(got --static)" in capsys.readouterr().err
