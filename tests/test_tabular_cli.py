"""The tabulate command and the search's --benchmark flag: documented flags, and one line with exit code 2 for bad
input, before anything is trained or Ray is started."""
import json

import pytest

from nasbench.tabular.members import grid_members
from nasbench.tabular.settings import TabulateSettings
from nasbench.tabular.table import FORMAT, TableRow, manifest_path, write_manifest, write_rows
from runners import search, tabulate
from search_spaces import get_space

DIGITS = {"name": "digits", "in_chans": 1, "resolution": 16, "num_classes": 10, "train": 64, "val": 64, "test": 64}


def run_cli(module, capsys, *argv):
    with pytest.raises(SystemExit) as info:
        module.main(list(argv))
    return info.value.code, capsys.readouterr()


def partial_table(path, members: int = 3, epochs: int = 2):
    """A table of the first members of resnet_compact on digits (made-up curves), as an interrupted build leaves."""
    rows = [TableRow(key=g.key(), seed=0, genome=g.to_str(), genome_json=g.to_json(), flops=1, params=1,
                     latency_ms=1.0, val_accuracy=[0.5] * epochs, val_loss=[1.0] * epochs,
                     test_accuracy=[0.5] * epochs, test_loss=[1.0] * epochs, train_loss=[1.0] * epochs,
                     time_s=[1.0] * epochs, wall_time_s=2.0)
            for g in grid_members(get_space("resnet_compact"))[:members]]
    write_rows(path, rows)
    settings = TabulateSettings(dataset="digits", epochs=epochs, limit=64, out=str(path))
    write_manifest(path, {"format": FORMAT, "space": "resnet_compact", "input": {"in_chans": 1, "resolution": 16,
                                                                                "num_classes": 10},
                          "dataset": DIGITS, "settings": settings.training(), "seeds": [0], "members": 1296,
                          "versions": {}, "builds": [], "rows": members})
    return path


def test_tabulate_help_documents_the_flags(capsys):
    code, out = run_cli(tabulate, capsys, "--help")
    assert code == 0
    for flag in ("--space", "--dataset", "--epochs", "--seeds", "--members", "--out", "--limit", "--max-flops",
                 "--cpus-per-trial", "--gpus-per-trial", "--address", "--storage-path"):
        assert flag in out.out, flag


def test_search_help_documents_the_benchmark_flag(capsys):
    code, out = run_cli(search, capsys, "--help")
    assert code == 0 and "--benchmark FILE" in out.out


@pytest.mark.parametrize("argv, words", [
    (["--members", "0"], "error: members must be at least 1 (got 0) (--members)"),
    (["--seeds", "0"], "error: seeds must be at least 1 (got 0) (--seeds)"),
    (["--space", "resnet_famly"], "error: argument --space: unknown space 'resnet_famly'; did you mean "
                                     "resnet_family?"),
    (["--space", "resnet_family", "--limit", "8"], "error: the resnet_family space has no grid, so its members cannot "
                                                   "all be trained; ask for a sample of them (--members)"),
])
def test_tabulate_bad_input_exits_2_with_one_line(capsys, argv, words):
    code, out = run_cli(tabulate, capsys, "--dataset", "digits", *argv)
    assert code == 2 and out.err.startswith(words) and out.err.count("\n") == 1


def test_tabulate_refuses_to_extend_a_table_built_otherwise(capsys, tmp_path):
    path = partial_table(tmp_path / "t.parquet")
    before = path.read_bytes(), manifest_path(path).read_text()
    code, out = run_cli(tabulate, capsys, "--dataset", "digits", "--limit", "64", "--epochs", "3", "--out", str(path))
    assert code == 2 and out.err == (f"error: {path} was built with epochs=2, not 3; extend it with the settings it "
                                     "was built with, or write another table (--out)\n")
    assert (path.read_bytes(), manifest_path(path).read_text()) == before


def test_search_over_an_incomplete_table_exits_2_before_ray_starts(capsys, tmp_path):
    path = partial_table(tmp_path / "t.parquet")
    code, out = run_cli(search, capsys, "--benchmark", str(path), "--results-dir", str(tmp_path))
    assert code == 2 and out.err.startswith("error: the table t.parquet lacks 1293 of the 1296 members of the "
                                            "resnet_compact space (e.g. key ")
    assert out.err.rstrip().endswith("finish building it with the command in its manifest, or search with a budget "
                                     "that leaves them out (--benchmark)") and out.err.count("\n") == 1
    assert not (tmp_path / "resnet_compact").exists()


@pytest.mark.parametrize("argv, words", [
    (["--epochs", "5"], "error: the table t.parquet was built with epochs=2, so a search over it has epochs=2, not 5 "
                        "(leave it out) (--epochs)"),
    (["--space", "resnet_family"], "error: the table t.parquet was built with space='resnet_compact', so a search "
                                   "over it has space='resnet_compact', not 'resnet_family' (leave it out) (--space)"),
])
def test_search_settings_other_than_the_tables_exit_2(capsys, tmp_path, argv, words):
    path = partial_table(tmp_path / "t.parquet")
    code, out = run_cli(search, capsys, "--benchmark", str(path), "--results-dir", str(tmp_path), *argv)
    assert code == 2 and out.err == words + "\n"


def test_search_over_a_missing_or_damaged_table_exits_2(capsys, tmp_path):
    code, out = run_cli(search, capsys, "--benchmark", str(tmp_path / "none.parquet"))
    assert code == 2 and out.err == (f"error: {tmp_path / 'none.parquet'} does not exist; pass a table built by "
                                     "python -m runners.tabulate\n")
    path = partial_table(tmp_path / "t.parquet")
    manifest_path(path).write_text(json.dumps({"format": 99}))
    code, out = run_cli(search, capsys, "--benchmark", str(path))
    assert code == 2 and out.err == f"error: {manifest_path(path)} is not a manifest of format 1; rebuild the table\n"
