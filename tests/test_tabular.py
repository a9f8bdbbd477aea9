"""Tabular benchmarks end to end on a tiny space: a table built under Ray Tune, resumed and extended without
retraining, lookups refused in one line, and a search over the table through Ray Tune giving the trials of the
in-process replay."""
import dataclasses
import math
import os
import re

import pandas as pd
import pyarrow.parquet as pq
import pytest
from conftest import search_settings

from nasbench.blocks.residual import BasicGene
from nasbench.data import load_dataset
from nasbench.errors import SettingError
from nasbench.genome import Genome, Stage
from nasbench.record import COMPLETE, PRUNED, REPEAT
from nasbench.search import run_search
from nasbench.search.lock import table_lock
from nasbench.search.surrogate import MIN_TRAINED
from nasbench.space import Categorical, SearchSpace
from nasbench.tabular import Table, TableError, TableRow, replay
from nasbench.tabular.build import tabulate
from nasbench.tabular.members import grid_members
from nasbench.tabular.settings import TabulateSettings
from nasbench.tabular.table import COLUMNS, manifest_path, read_manifest, read_rows, write_rows
from nasbench.train import TrainConfig, evaluate
from nasbench.zoo.stems import make_stem

pytestmark = [pytest.mark.slow, pytest.mark.usefixtures("local_ray")]
DATA = dict(dataset="digits", resolution=8, limit=48, batch_size=16, epochs=2, concurrency=1)  # one Ray worker
COMPARED = ["number", "state", "key", "accuracy", "test_accuracy", "flops", "params", "epochs", "wall_time_s",
            "failure_reason"]


class TinySpace(SearchSpace):
    """Eight one-stage residual networks: a grid small enough to tabulate in seconds."""

    name = "tiny_tabular"
    summary = "plain or basic units, 4 or 8 channels, 1 or 2 of them"

    def declare(self):
        return {"unit": Categorical(("plain", "basic"), "skip or not"), "width": Categorical((4, 8), "channels"),
                "depth": Categorical((1, 2), "units")}

    def build(self, trial) -> Genome:
        unit, width, depth = (self.suggest(trial, name) for name in ("unit", "width", "depth"))
        gene = BasicGene(channels=width, shortcut="none" if unit == "plain" else "projection")
        return Genome(stages=(Stage(gene, depth, 2),), stem=make_stem("cifar", 4), in_chans=self.in_chans,
                      resolution=self.resolution, num_classes=self.num_classes)

    def read(self, genome: Genome) -> dict:
        block = genome.stages[0].block
        return {"unit": "plain" if block.shortcut == "none" else "basic", "width": block.channels,
                "depth": genome.stages[0].depth}


def build(path, **overrides):
    return tabulate(TabulateSettings(**{**DATA, "seeds": 2, "out": str(path), **overrides}), TinySpace(),
                    command="test", log=lambda line: None)


@pytest.fixture(scope="module")
def built(tmp_path_factory):
    path = tmp_path_factory.mktemp("tables") / "tiny.parquet"
    return build(path), path


def search_over(path, results, **overrides):
    values = {**DATA, "space": Table(path).space, "benchmark": str(path), "max_flops": None, "trials": 10,
              "sampler": "random", **overrides}
    settings = search_settings(results, **values)
    return run_search(settings, TinySpace(), log=lambda line: None)


# ---- building --------------------------------------------------------------------------------------------------
def test_a_table_holds_every_member_and_seed_with_curves_costs_and_manifest(built):
    outcome, path = built
    assert (outcome.rows, outcome.added, outcome.failed, outcome.interrupted) == (16, 16, 0, False)
    frame = pd.read_parquet(path)
    assert tuple(frame.columns) == COLUMNS and len(frame) == 16
    members = grid_members(TinySpace(in_chans=1, resolution=8, num_classes=10))
    assert set(frame["key"]) == {g.key() for g in members}
    assert sorted(frame.groupby("key")["seed"].apply(tuple).unique()) == [(0, 1)]
    for row in read_rows(path):
        genome = Genome.from_json(row.genome_json)
        assert genome.key() == row.key and genome.to_str() == row.genome
        assert (row.params, row.flops) == tuple(TinySpace().cost(genome))
        assert row.epochs == 2 and row.failure_reason == ""
        for curve in (row.val_accuracy, row.test_accuracy, row.val_loss, row.test_loss, row.train_loss, row.time_s):
            assert len(curve) == 2 and all(math.isfinite(v) for v in curve)
        assert 0 < row.time_s[0] < row.time_s[1] < row.wall_time_s and row.latency_ms > 0
    manifest = read_manifest(path)
    assert manifest_path(path) == path.with_name("tiny.manifest.json")
    assert manifest["space"] == "tiny_tabular" and manifest["seeds"] == [0, 1] and manifest["members"] == 8
    assert manifest["input"] == {"in_chans": 1, "resolution": 8, "num_classes": 10}
    assert manifest["dataset"]["train"] == 48 and manifest["settings"]["epochs"] == 2
    assert {"torch", "ray", "optuna"} <= set(manifest["versions"]) and manifest["builds"][0]["command"] == "test"
    assert manifest["wall_time_s"] > 0 and manifest["rows"] == 16


def test_the_same_seed_trains_the_same_curve(built):
    _, path = built
    row = next(r for r in read_rows(path) if r.seed == 1)
    genome = Genome.from_json(row.genome_json)
    dataset = load_dataset("digits", resolution=8, limit=48)
    config = TrainConfig(epochs=2, batch_size=16, seed=1, threads=1)
    result = evaluate(genome, dataset, config, test_each_epoch=True)
    assert [m.val_accuracy for m in result.history] == row.val_accuracy
    assert [m.test_accuracy for m in result.history] == row.test_accuracy
    assert evaluate(genome, dataset, config).history[-1].test_accuracy is None


def test_a_rerun_trains_only_what_the_table_lacks_and_more_seeds_extend_it(built, tmp_path):
    _, source = built
    path = tmp_path / "resumed.parquet"
    rows = read_rows(source)
    write_rows(path, rows[3:])  # as if the build had been interrupted after 13 rows
    manifest_path(path).write_text(manifest_path(source).read_text())
    resumed = build(path, seeds=3)  # the 3 missing rows, and a third seed of every member
    assert (resumed.added, resumed.rows) == (3 + 8, 24)
    kept = {(r.key, r.seed): r for r in read_rows(path)}
    assert all(kept[(r.key, r.seed)] == r for r in rows[3:])  # nothing present was retrained
    assert {(r.key, r.seed) for r in rows} <= set(kept) and read_manifest(path)["seeds"] == [0, 1, 2]
    again = build(path, seeds=3)
    assert (again.added, again.rows) == (0, 24)
    assert [b["rows_added"] for b in read_manifest(path)["builds"]] == [16, 11, 0]


def test_a_table_built_under_other_settings_is_not_extended(built, tmp_path):
    _, path = built
    before = path.read_bytes()
    with pytest.raises(SettingError, match=r"was built with epochs=2, not 3; extend it with the settings it was "
                                           r"built with, or write another table$"):
        build(path, epochs=3)
    assert path.read_bytes() == before



def test_a_table_being_built_by_another_process_is_left_alone(built, tmp_path):
    _, path = built
    before = path.read_bytes()
    busy = rf"^{re.escape(str(path))} is being built by pid {os.getpid()} on "
    with table_lock(path), pytest.raises(SettingError, match=busy):
        build(path, seeds=3)  # would add a third seed to every member
    assert path.read_bytes() == before and read_manifest(path)["seeds"] == [0, 1]
    assert build(path).added == 0  # the lock is gone with its holder

# ---- lookups ---------------------------------------------------------------------------------------------------
def test_lookups_of_genomes_outside_the_table_are_one_line_errors(built, tmp_path):
    _, path = built
    table = Table(path)
    assert len(table) == 8 and table.space == "tiny_tabular" and table.epochs == 2
    member = grid_members(TinySpace(**table.input))[0]
    assert [c.seed for c in table.lookup(member)] == [0, 1]
    record, curves = table.find(member.to_json(indent=1))  # another serialisation of the member: found by key
    assert curves == table.lookup(member) and record["key"] == member.key() and record["genome"] == member.to_str()
    assert (record["params"], record["flops"]) == tuple(TinySpace().cost(member))
    stranger = dataclasses.replace(member, num_classes=7)
    with pytest.raises(TableError, match=rf"^genome i=1,r=8,n=7\|.* \(key {stranger.key()}\) is not in the table "
                                         r"tiny.parquet \(8 members of the tiny_tabular space\); search that space "
                                         r"with this table, or tabulate the genome$"):
        table.lookup(stranger)
    with pytest.raises(TableError, match=r"does not exist; pass a table built by python -m runners\.tabulate"):
        Table(tmp_path / "none.parquet")
    copy = tmp_path / "copy.parquet"
    copy.write_bytes(path.read_bytes())
    with pytest.raises(TableError, match=r"copy\.manifest\.json is missing: every table needs its manifest"):
        Table(copy)
    manifest_path(copy).write_text(manifest_path(path).read_text())
    pq.write_table(pq.read_table(path).drop_columns(["time_s"]), copy)
    with pytest.raises(TableError, match="is not a tabular benchmark: column time_s is missing"):
        Table(copy)
    copy.write_text("not parquet")
    with pytest.raises(TableError, match="is not a Parquet file"):
        Table(copy)


def test_rows_round_trip_through_parquet(built, tmp_path):
    _, path = built
    rows = read_rows(path)
    write_rows(tmp_path / "again.parquet", reversed(rows))
    assert read_rows(tmp_path / "again.parquet") == rows and isinstance(rows[0], TableRow)


# ---- searching the table ---------------------------------------------------------------------------------------
@pytest.mark.parametrize("sampler", ["random", "nsga2"])
def test_a_search_over_the_table_through_ray_gives_the_trials_of_the_in_process_replay(built, tmp_path, sampler):
    _, path = built
    outcome = search_over(path, tmp_path, sampler=sampler, seed=5)
    in_process = replay(TinySpace(), path, sampler=sampler, trials=10, seed=5, max_flops=None)
    through_ray = outcome.trials.sort_values("number").reset_index(drop=True)
    pd.testing.assert_frame_equal(through_ray[COMPARED], in_process[COMPARED])
    trained = through_ray[through_ray["state"] == COMPLETE]  # 10 asked of 8 members: each once, then repeats
    assert set(through_ray["state"]) <= {COMPLETE, REPEAT} and len(trained) == 8 and trained["key"].is_unique
    assert len(outcome.front) >= 1
    rows = {(r.key, r.seed): r for r in read_rows(path)}
    for _, trial in trained.iterrows():  # each trial is one seed's recorded training, its time simulated
        recorded = [r for (key, _), r in rows.items() if key == trial["key"]]
        assert any((r.val_accuracy[-1], r.test_accuracy[-1], r.time_s[-1]) ==
                   (trial["accuracy"], trial["test_accuracy"], trial["wall_time_s"]) for r in recorded)


@pytest.mark.parametrize("scheduler", ["asha", "moasha"])
def test_early_stopping_prunes_on_the_recorded_curves_as_the_replay_does(built, tmp_path, scheduler):
    _, path = built
    trials = search_over(path, tmp_path, scheduler=scheduler, trials=8).trials
    assert set(trials["state"]) <= {COMPLETE, PRUNED, REPEAT} and (trials["state"] == PRUNED).any()
    assert (trials.loc[trials["state"] == PRUNED, "epochs"] == 1).all()
    in_process = replay(TinySpace(), path, sampler="random", trials=8, seed=0, max_flops=None, scheduler=scheduler)
    pd.testing.assert_frame_equal(trials.sort_values("number").reset_index(drop=True)[COMPARED], in_process[COMPARED])


@pytest.mark.parametrize("prefilter, count, filtered", [("params:2", 3, 3), ("hvi:2", MIN_TRAINED + 2, 2)])
def test_a_prefiltered_search_through_ray_gives_the_trials_of_the_in_process_replay(built, tmp_path, prefilter,
                                                                                    count, filtered):
    # hvi: the surrogate ranks the samples of the trials after the first MIN_TRAINED, fitted in the Ray driver
    _, path = built
    trials = search_over(path, tmp_path, trials=count, prefilter=prefilter).trials.sort_values("number")
    in_process = replay(TinySpace(), path, sampler="random", trials=count, seed=0, max_flops=None, prefilter=prefilter)
    pd.testing.assert_frame_equal(trials.reset_index(drop=True)[COMPARED], in_process[COMPARED])
    assert (trials["state"] == COMPLETE).sum() == count and (trials["state"] == "FILTERED").sum() >= filtered


def test_a_search_must_use_the_tables_space_data_and_training(built, tmp_path):
    _, path = built
    with pytest.raises(SettingError, match=r"the table tiny.parquet was built with epochs=2, so a search over it "
                                           r"has epochs=2, not 3 \(leave it out\)"):
        search_over(path, tmp_path, epochs=3)
    partial = tmp_path / "partial.parquet"
    write_rows(partial, read_rows(path)[:6])
    manifest_path(partial).write_text(manifest_path(path).read_text())
    with pytest.raises(SettingError, match=r"the table partial.parquet lacks 5 of the 8 members of the tiny_tabular "
                                           r"space \(e.g. key [0-9a-f]{16}\); finish building it"):
        search_over(partial, tmp_path)
    with pytest.raises(TableError, match=r"is not in the table partial\.parquet"):
        replay(TinySpace(), partial, trials=10, seed=0)
