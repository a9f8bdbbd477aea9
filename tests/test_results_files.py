"""The run folder's files: readable by the user (umask, not 0600) and genomes/ holding exactly the current front."""
import os
import stat

import pandas as pd

from nasbench import atomic, zoo
from nasbench.search.results import COLUMNS, write_outputs


def _row(number: int, name: str, accuracy: float, flops: float) -> dict:
    genome = zoo.get(name)
    row = dict.fromkeys(COLUMNS, "")
    row.update(run_id="run", trial_id=f"t{number}", number=number, state="COMPLETE", genome=genome.to_str(),
               genome_json=genome.to_json(), key=genome.key(), accuracy=accuracy, test_accuracy=accuracy, flops=flops,
               params=1.0, latency_ms=float("nan"), epochs=1, wall_time_s=1.0, node_id="n")
    return row


def test_genomes_folder_follows_the_front_as_it_changes(tmp_path):
    objectives = {"accuracy": "max", "flops": "min"}
    first = [_row(0, "resnet20", 0.90, 4e7), _row(1, "lenet5", 0.80, 4e5)]
    front = write_outputs(tmp_path, pd.DataFrame(first), objectives)
    assert sorted(front["number"]) == [0, 1]
    assert sorted(p.name for p in (tmp_path / "genomes").iterdir()) == sorted(
        f"{zoo.get(n).key()}.json" for n in ("resnet20", "lenet5"))
    (tmp_path / "genomes" / f"{zoo.get('resnet20').key()}.pt").write_bytes(b"weights")
    # resnet32 is better and cheaper than resnet20: resnet20 leaves the front, and its files leave genomes/
    front = write_outputs(tmp_path, pd.DataFrame(first + [_row(2, "resnet32", 0.95, 3e7)]), objectives)
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
