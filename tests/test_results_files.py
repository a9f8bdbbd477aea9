"""The run folder's files: atomic, readable by the user (umask, not 0600), genomes/ holding exactly the current
front, and weights that load without unpickling code."""
import os
import pathlib
import pickle
import stat

import pandas as pd
import pytest
import torch

from nasbench import atomic, build, zoo
from nasbench.record import TrialRecord, records_frame
from nasbench.search import load_model
from nasbench.search.results import write_outputs


def _row(number: int, name: str, accuracy: float, flops: float) -> TrialRecord:
    genome = zoo.get(name)
    return TrialRecord(run_id="run", trial_id=f"t{number}", number=number, state="COMPLETE", genome=genome.to_str(),
                       genome_json=genome.to_json(), key=genome.key(), accuracy=accuracy, test_accuracy=accuracy,
                       flops=flops, params=1.0, epochs=1, wall_time_s=1.0, node_id="n")


def test_genomes_folder_follows_the_front_as_it_changes(tmp_path):
    objectives = {"accuracy": "max", "flops": "min"}
    first = [_row(0, "resnet20", 0.90, 4e7), _row(1, "lenet5", 0.80, 4e5)]
    front = write_outputs(tmp_path, records_frame(first), objectives)
    assert sorted(front["number"]) == [0, 1]
    assert sorted(p.name for p in (tmp_path / "genomes").iterdir()) == sorted(
        f"{zoo.get(n).key()}.json" for n in ("resnet20", "lenet5"))
    (tmp_path / "genomes" / f"{zoo.get('resnet20').key()}.pt").write_bytes(b"weights")
    # resnet32 is better and cheaper than resnet20: resnet20 leaves the front, and its files leave genomes/
    front = write_outputs(tmp_path, records_frame(first + [_row(2, "resnet32", 0.95, 3e7)]), objectives)
    assert sorted(front["number"]) == [1, 2]
    assert sorted(p.name for p in (tmp_path / "genomes").iterdir()) == sorted(
        f"{zoo.get(n).key()}.json" for n in ("resnet32", "lenet5"))
    assert len(pd.read_csv(tmp_path / "trials.csv")) == 3 and len(pd.read_csv(tmp_path / "pareto.csv")) == 2


def test_atomic_writes_honour_the_umask(tmp_path):
    previous = os.umask(0o022)
    try:
        atomic.write_text(tmp_path / "a.txt", "x")
    finally:
        os.umask(previous)
    assert stat.S_IMODE((tmp_path / "a.txt").stat().st_mode) == 0o644
    assert [p.name for p in tmp_path.iterdir()] == ["a.txt"]  # no temporary file left behind


def test_run_folders_are_never_reused(tmp_path):
    first, second = atomic.new_run_folder(tmp_path / "space"), atomic.new_run_folder(tmp_path / "space")
    assert first != second and first.parent == second.parent == tmp_path / "space"
    assert first.is_dir() and second.is_dir()


def test_a_failed_write_keeps_the_previous_file(tmp_path):
    target = tmp_path / "trials.csv"
    atomic.write_text(target, "complete table")
    with pytest.raises(RuntimeError), atomic.atomic_path(target) as tmp:
        tmp.write_text("half a tab")
        raise RuntimeError("killed mid-write")
    assert target.read_text() == "complete table" and [p.name for p in tmp_path.iterdir()] == ["trials.csv"]


class _Payload:
    """Unpickling this runs code: it touches a file."""

    def __init__(self, marker: pathlib.Path):
        self.marker = marker

    def __reduce__(self):
        return pathlib.Path.touch, (self.marker,)


def test_weights_load_without_running_pickled_code(tmp_path):
    genome = zoo.get("lenet5")
    folder = tmp_path / "genomes"
    folder.mkdir()
    (folder / f"{genome.key()}.json").write_text(genome.to_json())
    marker = tmp_path / "code-ran"
    torch.save({"weights": _Payload(marker)}, folder / f"{genome.key()}.pt")
    with pytest.raises(pickle.UnpicklingError):
        load_model(tmp_path, genome.key())
    assert not marker.exists()
    torch.save(build(genome).state_dict(), folder / f"{genome.key()}.pt")
    assert sum(p.numel() for p in load_model(tmp_path, genome.key()).parameters()) == 61_706


def test_an_older_run_folder_reads_back_to_todays_record(tmp_path):
    """results/example was written before the INFEASIBLE state: its journal (user attribute `epoch`, over-budget
    samples FAIL with "infeasible: ...") gives the same table as its migrated trials.parquet, and loads for analysis."""
    import json
    import shutil

    import optuna
    from optuna.storages import JournalStorage
    from optuna.storages.journal import JournalFileBackend

    from nasbench.analysis import load_run
    from nasbench.record import COLUMNS
    from nasbench.search.results import trials_frame

    run = pathlib.Path(__file__).resolve().parents[1] / "results" / "example"
    shutil.copy(run / "optuna.journal", tmp_path / "optuna.journal")
    config = json.loads((run / "config.json").read_text())
    study = optuna.load_study(study_name=config["study_name"],
                              storage=JournalStorage(JournalFileBackend(str(tmp_path / "optuna.journal"))))
    table = pd.read_parquet(run / "trials.parquet")
    pd.testing.assert_frame_equal(trials_frame(study, config["run_id"]), table)
    assert tuple(table.columns) == COLUMNS
    assert table["state"].value_counts().to_dict() == {"COMPLETE": 24, "INFEASIBLE": 7}
    assert table.loc[table["state"] == "INFEASIBLE", "failure_reason"].str.match(r"flops \S+ > max_flops 2e\+07").all()
    loaded = load_run(run)
    assert len(loaded) == 31 and loaded["state"].value_counts().to_dict() == {"COMPLETE": 24, "INFEASIBLE": 7}
