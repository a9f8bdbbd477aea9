"""nasbench.analysis: fronts and hypervolumes against hand-computed and brute-force answers, run folders, the CLI."""
import dataclasses
import itertools
import json
import shutil
import subprocess
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from nasbench import Genome, Stage, zoo
from nasbench.analysis import (
    attribute_effects,
    compare,
    default_reference,
    edf,
    expand_genomes,
    hypervolume,
    hypervolume_of,
    hypervolume_over_trials,
    load_run,
    load_runs,
    nondominated,
    pareto_front,
    parse_objectives,
    parse_reference,
)
from nasbench.analysis.report import describe_reference, markdown_table
from nasbench.cost import analytic_cost
from runners.analyze import main as analyze_main

ROOT = Path(__file__).resolve().parents[1]
EXAMPLE = ROOT / "results" / "example"  # a committed run written before the INFEASIBLE state: FAIL "infeasible: ..."
ACC_FLOPS = {"accuracy": "max", "flops": "min"}


# ---- brute-force references ------------------------------------------------------------------------------
def brute_nondominated(points: np.ndarray) -> np.ndarray:
    return np.array([not any((q <= p).all() and (q < p).any() for q in points) for p in points], dtype=bool)


def inclusion_exclusion_hv(points: np.ndarray, ref: np.ndarray) -> float:
    points = [p for p in points if (p < ref).all()]
    total = 0.0
    for size in range(1, len(points) + 1):
        for subset in itertools.combinations(points, size):
            corner = np.max(subset, axis=0)
            total += (-1) ** (size + 1) * float(np.prod(ref - corner))
    return total


def grid_hv(points: np.ndarray, ref: np.ndarray) -> int:
    """Unit cells of the integer grid below `ref` whose lower corner some point weakly dominates."""
    cells = np.stack(np.meshgrid(*[np.arange(int(r)) for r in ref], indexing="ij"), axis=-1).reshape(-1, len(ref))
    return int(sum((points[None, :, :] <= cells[:, None, :]).all(axis=2).any(axis=1)))


# ---- Pareto fronts ---------------------------------------------------------------------------------------
def trials(rows: list[tuple]) -> pd.DataFrame:
    return pd.DataFrame(rows, columns=["name", "state", "accuracy", "flops"])


FRONT_CASE = trials([
    ("A", "COMPLETE", 0.90, 100), ("B", "COMPLETE", 0.90, 100),  # duplicates: both kept
    ("C", "COMPLETE", 0.85, 100),  # same flops as A, less accurate
    ("D", "COMPLETE", 0.95, 200), ("E", "COMPLETE", 0.95, 250),  # E: same accuracy, more flops
    ("F", "COMPLETE", 0.80, 50), ("G", "COMPLETE", 0.80, 60),
    ("H", "PRUNED", 0.99, 400),  # would be on the front, but pruned
    ("I", "FAIL", np.nan, 10),
    ("J", "COMPLETE", 0.97, 300), ("K", "COMPLETE", 0.97, 300),
])


def test_front_keeps_ties_and_only_complete_trials():
    assert pareto_front(FRONT_CASE, ACC_FLOPS)["name"].tolist() == ["A", "B", "D", "F", "J", "K"]
    every_state = pareto_front(FRONT_CASE, ACC_FLOPS, complete_only=False)
    assert every_state["name"].tolist() == ["A", "B", "D", "F", "H", "J", "K"]


def test_front_with_min_min_max_max_and_three_objectives():
    df = pd.DataFrame({"a": [1, 2, 3, 1, 2], "b": [3, 2, 1, 3, 3], "c": [5, 5, 5, 4, 9]})
    assert pareto_front(df, {"a": "min", "b": "min"}).index.tolist() == [0, 1, 2, 3]
    assert pareto_front(df, {"a": "max", "b": "max"}).index.tolist() == [2, 4]  # (2, 3) beats (2, 2) and (1, 3)
    assert pareto_front(df, {"a": "min", "b": "max"}).index.tolist() == [0, 3]
    assert pareto_front(df, {"a": "min", "b": "min", "c": "min"}).index.tolist() == [1, 2, 3]
    assert pareto_front(df, {"a": "min", "b": "min", "c": "max"}).index.tolist() == [0, 1, 2, 4]
    assert pareto_front(df, {"c": "min"}).index.tolist() == [3]


@pytest.mark.parametrize("k", [2, 3, 4])
def test_nondominated_matches_brute_force(k):
    rng = np.random.default_rng(k)
    for _ in range(40):
        points = rng.integers(0, 4, size=(rng.integers(1, 30), k)).astype(float)  # many ties and duplicates
        assert (nondominated(points) == brute_nondominated(points)).all()


def test_front_of_many_rows_is_correct():
    rng = np.random.default_rng(0)
    df = pd.DataFrame({"accuracy": rng.random(20000), "flops": rng.random(20000), "params": rng.random(20000)})
    for objectives in (ACC_FLOPS, {**ACC_FLOPS, "params": "min"}):
        front = pareto_front(df, objectives)
        points = np.c_[-df["accuracy"], df["flops"], df["params"]][:, : len(objectives)]
        mask = nondominated(points)
        # every kept row is undominated by all 20000 rows, every dropped row is dominated by some kept row
        for p in points[mask][:50]:
            assert not ((points <= p).all(axis=1) & (points < p).any(axis=1)).any()
        kept = points[mask]
        for p in points[~mask][:200]:
            assert ((kept <= p).all(axis=1) & (kept < p).any(axis=1)).any()
        assert len(front) == mask.sum()


# ---- hypervolume -----------------------------------------------------------------------------------------
def test_hypervolume_two_objectives_by_hand():
    # rectangles [flops, 500] x [0.7, accuracy] of F, A(=B), D, J(=K): 450*0.1 + 400*0.1 + 300*0.05 + 200*0.02
    assert hypervolume(FRONT_CASE, ACC_FLOPS, {"accuracy": 0.7, "flops": 500}) == pytest.approx(104.0)
    on_the_reference = trials([("L", "COMPLETE", 0.7, 10), ("M", "COMPLETE", 0.99, 500)])
    both = pd.concat([FRONT_CASE, on_the_reference], ignore_index=True)
    assert set(pareto_front(both, ACC_FLOPS)["name"]) == {"A", "B", "D", "F", "J", "K", "L", "M"}
    assert hypervolume(both, ACC_FLOPS, {"accuracy": 0.7, "flops": 500}) == pytest.approx(104.0)
    assert hypervolume(FRONT_CASE, ACC_FLOPS, {"accuracy": 0.99, "flops": 40}) == 0.0


def test_hypervolume_three_objectives_by_hand_with_max_mix():
    # boxes to (4, 4, 4): 6 + 6 + 3, pairwise overlaps 4, 1, 1, triple overlap 1 -> 10
    df = pd.DataFrame({"a": [1, 2, 3, 3], "b": [2, 1, 3, 3], "c": [3, 3, 1, 4]})
    assert hypervolume(df, {"a": "min", "b": "min", "c": "min"}, {"a": 4, "b": 4, "c": 4}) == 10.0
    flipped = df.assign(b=-df["b"])
    assert hypervolume(flipped, {"a": "min", "b": "max", "c": "min"}, {"a": 4, "b": -4, "c": 4}) == 10.0


@pytest.mark.parametrize("k", [2, 3, 4])
def test_hypervolume_matches_inclusion_exclusion(k):
    rng = np.random.default_rng(10 + k)
    for _ in range(25):
        points = rng.random((rng.integers(1, 9), k))
        points[rng.random(len(points)) < 0.2] = points[0]  # duplicates
        ref = np.full(k, 0.9)
        assert hypervolume_of(points, ref) == pytest.approx(inclusion_exclusion_hv(points, ref), abs=1e-12)


@pytest.mark.parametrize("k", [2, 3])
def test_hypervolume_matches_grid_count(k):
    rng = np.random.default_rng(20 + k)
    for _ in range(25):
        points = rng.integers(0, 7, size=(rng.integers(1, 15), k)).astype(float)
        ref = np.full(k, 6.0)
        assert hypervolume_of(points, ref) == grid_hv(points, ref)


def test_hypervolume_over_trials_equals_hypervolume_of_each_prefix():
    rng = np.random.default_rng(3)
    n = 60
    df = pd.DataFrame({"number": rng.permutation(n), "accuracy": rng.random(n), "flops": rng.random(n) * 100,
                       "params": rng.random(n), "state": rng.choice(["COMPLETE", "PRUNED", "FAIL"], n, p=[.7, .2, .1])})
    for objectives in (ACC_FLOPS, {**ACC_FLOPS, "params": "min"}):
        reference = {"accuracy": 0.1, "flops": 90.0, "params": 0.95}
        curve = hypervolume_over_trials(df, objectives, reference)
        assert curve["number"].tolist() == list(range(n)) and curve["trials"].tolist() == list(range(1, n + 1))
        ordered = df.sort_values("number")
        expected = [hypervolume(ordered.head(i), objectives, reference) for i in range(1, n + 1)]
        assert curve["hypervolume"].to_numpy() == pytest.approx(expected, abs=1e-12)
        assert (np.diff(curve["hypervolume"]) >= 0).all()


def test_default_reference_lets_every_eligible_point_count():
    reference = default_reference([FRONT_CASE], ACC_FLOPS)
    assert reference == {"accuracy": pytest.approx(0.80 - 0.1 * 0.17), "flops": pytest.approx(300 + 0.1 * 250)}


# ---- comparison, EDF, attribute effects ------------------------------------------------------------------
def test_compare_two_runs():
    a = pd.DataFrame({"run_id": "a", "state": ["COMPLETE", "COMPLETE", "PRUNED"], "accuracy": [0.9, 0.95, 0.3],
                      "flops": [100, 200, 10]})
    b = pd.DataFrame({"run_id": "b", "state": ["COMPLETE", "COMPLETE", "COMPLETE", "FAIL", "INFEASIBLE"],
                      "accuracy": [0.92, 0.94, 0.8, np.nan, np.nan], "flops": [100, 300, 50, 70, 900]})
    table = compare([a, b], ACC_FLOPS, {"accuracy": 0.5, "flops": 400})
    counts = ["trials", "complete", "pruned", "failed", "infeasible", "front_size"]
    assert table.loc["a", counts].tolist() == [3, 2, 1, 0, 0, 2]
    assert table.loc["b", counts].tolist() == [4, 3, 0, 1, 1, 3]  # trials: trained ones; over budget is not
    assert table.loc["a", "hypervolume"] == pytest.approx(300 * 0.4 + 200 * 0.05)
    assert table.loc["b", "hypervolume"] == pytest.approx(350 * 0.3 + 300 * 0.12 + 100 * 0.02)
    assert table.loc["a", "dominated_by:b"] == 0.5  # (100, .90) by (100, .92)
    assert table.loc["b", "dominated_by:a"] == pytest.approx(1 / 3)  # (300, .94) by (200, .95)
    assert table.loc["a", "best_accuracy"] == 0.95 and table.loc["b", "best_flops"] == 50
    assert compare(pd.concat([a, b]), ACC_FLOPS, {"accuracy": 0.5, "flops": 400}).equals(table)


def test_edf_of_error():
    df = pd.DataFrame({"accuracy": [0.9, 0.8, 0.8, 0.7, np.nan], "state": ["COMPLETE"] * 4 + ["FAIL"]})
    curve = edf(df, "accuracy")
    assert curve["error"].to_numpy() == pytest.approx([0.1, 0.2, 0.2, 0.3])
    assert curve["fraction"].tolist() == [0.25, 0.75, 0.75, 1.0]


def test_attribute_effects():
    df = pd.DataFrame({
        "resolution": [32] * 6,  # constant: no effect to show
        "stages.0.block": ["basic", "basic", "basic", "bottleneck", "bottleneck", "bottleneck"],
        "stages.0.channels": [16, 16, 16, 64, 64, 64],  # splits the trials exactly like stages.0.block
        "head.dropout": [0.0, 0.2, 0.0, 0.2, 0.0, 0.2],
        "accuracy": [0.90, 0.92, 0.94, 0.80, 0.82, 0.84], "flops": [10, 10, 10, 30, 30, 30],
        "state": "COMPLETE"})
    effects = attribute_effects(df)
    assert effects["attribute"].tolist() == ["stages.0.block", "stages.0.block", "head.dropout", "head.dropout"]
    assert effects["value"].tolist() == ["basic", "bottleneck", 0.0, 0.2]
    assert effects["count"].tolist() == [3, 3, 3, 3]
    assert effects["accuracy_median"].to_numpy() == pytest.approx([0.92, 0.82, 0.90, 0.84])
    assert effects["accuracy_shift"].to_numpy() == pytest.approx([0.05, -0.05, 0.03, -0.03])  # overall median 0.87
    assert effects["accuracy_mean"].to_numpy() == pytest.approx([0.92, 0.82, 2.66 / 3, 2.56 / 3])
    assert effects["flops_ratio"].to_numpy() == pytest.approx([0.5, 1.5, 0.5, 1.5])  # overall median 20
    assert effects["effect"].to_numpy() == pytest.approx([0.1, 0.1, 0.06, 0.06])
    assert effects["also"].tolist() == ["stages.0.channels", "stages.0.channels", "", ""]


def test_markdown_table_escapes_pipes():
    text = markdown_table(pd.DataFrame({"genome": ["i=3|body:x"], "flops": [4.0e7], "accuracy": [0.912345]}))
    assert text.splitlines() == ["| genome | flops | accuracy |", "| --- | --- | --- |",
                                 "| i=3\\|body:x | 40000000 | 0.91234 |"]


def test_reference_is_explained_in_one_line():
    default = describe_reference({"accuracy": -0.0041667, "flops": 5e8}, ACC_FLOPS, given=False)
    assert default == (
        "Hypervolume reference: accuracy=-0.0041667, flops=500000000 (each objective's worst value over all runs, "
        "pushed out by 10% of its range; a negative accuracy is fine, it only has to be worse than every trial). "
        "Hypervolume: the area a front dominates up to this point; larger is better.")
    given = describe_reference({"accuracy": 0.5, "flops": 5e8, "params": 1e6}, {**ACC_FLOPS, "params": "min"}, True)
    assert given == ("Hypervolume reference: accuracy=0.5, flops=500000000, params=1000000 (as given). "
                     "Hypervolume: the volume a front dominates up to this point; larger is better.")


def test_parse_objectives_and_reference():
    assert parse_objectives("accuracy:max, flops:min") == parse_objectives("accuracy,flops") == ACC_FLOPS
    assert parse_objectives("test_accuracy:max") == {"test_accuracy": "max"}
    assert parse_reference("accuracy=0,flops=5e8") == {"accuracy": 0.0, "flops": 5e8}
    for bad in ("test_accuracy", "accuracy:up", "accuracy:min", "", "a:max,a:min"):
        with pytest.raises(ValueError):
            parse_objectives(bad)
    with pytest.raises(ValueError, match="name=number"):
        parse_reference("flops=lots")


# ---- run folders -----------------------------------------------------------------------------------------
def variant(name: str, *, dropout: float = 0.0, extra_stage: bool = False) -> Genome:
    genome = zoo.get(name)
    if extra_stage:
        last = genome.stages[-1].block
        extra = Stage(dataclasses.replace(last, channels=128), depth=1, stride=2)
        genome = dataclasses.replace(genome, stages=genome.stages + (extra,))
    return dataclasses.replace(genome, head=dataclasses.replace(genome.head, dropout=dropout))


def write_run(folder: Path, config: dict, rows: list[tuple], front: list[int]) -> Path:
    """A run folder as runners.search writes it; rows are (number, genome, zoo_name, state, accuracy)."""
    records = []
    for number, genome, zoo_name, state, accuracy in rows:
        cost = analytic_cost(genome)
        records.append({
            "run_id": config["run_id"], "trial_id": f"t{number:05d}", "number": number, "state": state,
            "zoo_name": zoo_name, "genome": genome.to_str(), "genome_json": genome.to_json(), "key": genome.key(),
            "accuracy": accuracy, "test_accuracy": accuracy - 0.01 if number in front else np.nan,
            "flops": cost.flops, "params": cost.params, "latency_ms": np.nan,
            "epochs": 3 if state == "PRUNED" else 30, "wall_time_s": 10.0 + number,
            "failure_reason": {"FAIL": "CUDA out of memory", "PRUNED": "stopped by ASHA"}.get(state, ""),
            "node_id": "node0"})
    table = pd.DataFrame(records)
    folder.mkdir(parents=True)
    (folder / "config.json").write_text(json.dumps(config))
    table.to_parquet(folder / "trials.parquet")
    table.to_csv(folder / "trials.csv", index=False)
    table[table["number"].isin(front)].to_csv(folder / "pareto.csv", index=False)
    (folder / "genomes").mkdir()
    for genome in {row[1] for row in rows if row[0] in front}:
        (folder / "genomes" / f"{genome.key()}.json").write_text(genome.to_json(indent=2))
    return folder


def run_config(run_id: str, sampler: str, seed: int) -> dict:
    """config.json as runners.search writes it (flags under "settings")."""
    settings = {"space": "resnet_family", "dataset": "cifar10", "objectives": ["accuracy", "flops"], "trials": 8,
                "epochs": 30, "seed": seed, "sampler": sampler, "scheduler": "asha"}
    return {"run_id": run_id, "study_name": f"nasbench-resnet_family-{run_id}", "settings": settings,
            "versions": {"torch": "2.14.1"}, "created": "2026-01-01T00:00:00+00:00", "resumes": []}


@pytest.fixture(scope="module")
def runs(tmp_path_factory) -> tuple[Path, Path]:
    root = tmp_path_factory.mktemp("results") / "resnet_family"
    a = write_run(root / "run_a", run_config("run_a", "nsga2", 0), [
        (0, zoo.get("resnet20"), "resnet20", "COMPLETE", 0.91),
        (1, zoo.get("resnet32"), "resnet32", "COMPLETE", 0.92),
        (2, zoo.get("resnet44"), "resnet44", "COMPLETE", 0.925),
        (3, zoo.get("resnet56"), "resnet56", "COMPLETE", 0.93),
        (4, variant("resnet20", extra_stage=True), "", "COMPLETE", 0.915),
        (5, variant("resnet20", dropout=0.2), "", "PRUNED", 0.5),
        (6, variant("resnet32", dropout=0.2), "", "FAIL", np.nan),
        (7, variant("resnet44", dropout=0.2), "", "COMPLETE", 0.90),
    ], front=[0, 1, 2, 3, 4])
    b = write_run(root / "run_b", run_config("run_b", "random", 1), [
        (0, zoo.get("resnet20"), "resnet20", "COMPLETE", 0.905),
        (1, variant("resnet20", extra_stage=True), "", "COMPLETE", 0.90),
        (2, zoo.get("resnet56"), "resnet56", "COMPLETE", 0.935),
    ], front=[0, 2])
    return a, b


def test_load_run_expands_genomes_and_adds_metadata(runs):
    df = load_run(runs[0])
    assert len(df) == 8
    assert df[["run_id", "space", "sampler", "seed"]].drop_duplicates().values.tolist() == [
        ["run_a", "resnet_family", "nsga2", 0]]
    assert df["stages.2.block"].tolist() == ["basic"] * 8
    assert df["stages.0.channels"].tolist() == [16] * 8
    assert df["stem.0.block"].tolist() == ["conv"] * 8
    assert df["resolution"].tolist() == [32] * 8
    assert df["head.dropout"].tolist() == [0.0] * 5 + [0.2] * 3
    assert df["head.hidden"].tolist() == [()] * 8
    assert df["stages.0.depth"].tolist() == [3, 5, 7, 9, 3, 3, 5, 7]
    assert df["stages.3.channels"].fillna(0).tolist() == [0, 0, 0, 0, 128, 0, 0, 0]
    assert df.loc[0, "flops"] == 40_931_968 and df.loc[0, "params"] == 269_722  # resnet20 on CIFAR
    assert Genome.from_json(df.loc[4, "genome_json"]) == variant("resnet20", extra_stage=True)
    assert pareto_front(df, ACC_FLOPS)["number"].tolist() == [0, 1, 2, 3, 4]
    pareto = pd.read_csv(runs[0] / "pareto.csv")
    assert sorted(pareto["number"]) == [0, 1, 2, 3, 4]
    for key in pareto["key"]:
        assert Genome.from_json((runs[0] / "genomes" / f"{key}.json").read_text()).key() == key


def test_load_run_reads_csv_when_there_is_no_parquet(runs, tmp_path):
    folder = tmp_path / "csv_only"
    folder.mkdir()
    for name in ("config.json", "trials.csv"):
        (folder / name).write_bytes((runs[0] / name).read_bytes())
    from_csv, from_parquet = load_run(folder), load_run(runs[0])
    assert from_csv["zoo_name"].tolist() == from_parquet["zoo_name"].tolist()
    assert from_csv["failure_reason"].tolist() == from_parquet["failure_reason"].tolist()
    for column in ("accuracy", "flops", "stages.0.channels", "stages.3.channels", "head.dropout"):
        assert from_csv[column].equals(from_parquet[column]), column


def test_load_runs_and_compare(runs):
    df = load_runs(runs)
    assert df.groupby("run_id").size().to_dict() == {"run_a": 8, "run_b": 3}
    table = compare(df, ACC_FLOPS)
    assert table["front_size"].to_dict() == {"run_a": 5, "run_b": 2}
    assert table.loc["run_a", "dominated_by:run_b"] == pytest.approx(0.2)  # resnet56 at 0.935 beats 0.93
    assert table.loc["run_b", "dominated_by:run_a"] == pytest.approx(0.5)  # resnet20 at 0.91 beats 0.905
    with pytest.raises(ValueError, match="more than one folder"):
        load_runs([runs[0], runs[0]])


def test_not_a_run_folder_is_a_clear_error(tmp_path, runs):
    with pytest.raises(ValueError, match="no such folder"):
        load_run(tmp_path / "missing")
    with pytest.raises(ValueError, match=r"config\.json is missing .*runners\.search"):
        load_run(tmp_path)
    (tmp_path / "config.json").write_text("{}")
    with pytest.raises(ValueError, match=r"trials\.parquet \(or trials\.csv\) is missing"):
        load_run(tmp_path)


def test_expand_genomes_leaves_missing_genomes_empty():
    texts = pd.Series([zoo.get("resnet20").to_json(), "", None, zoo.get("resnet20").to_json()])
    flat = expand_genomes(texts)
    assert flat["stages.1.stride"].tolist()[::3] == [2, 2] and flat["stages.1.stride"].isna().tolist() == [
        False, True, True, False]
    with pytest.raises(ValueError, match="not JSON"):
        expand_genomes(pd.Series(["{broken"]))


# ---- the command line ------------------------------------------------------------------------------------
def analyze(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "runners.analyze", *map(str, args)], cwd=ROOT, capture_output=True,
                          text=True, timeout=300)


def test_cli_writes_report_and_plots(runs, tmp_path):
    out = tmp_path / "report"
    result = analyze(*runs, "--out", out)
    assert result.returncode == 0, result.stderr
    assert "Pareto front of run_a (5 trials)" in result.stdout and "resnet56" in result.stdout
    assert "  run_a: 8 trials trained: 6 complete, 1 pruned (stopped early), 1 failed\n" in result.stdout
    report = (out / "report.md").read_text()
    assert "## Summary" in report and "- `run_a`: 8 trials trained: 6 complete, 1 pruned (stopped early), 1 failed\n" \
        in report and "| run_a | 5 | " in report
    assert "`dominated_by:<run>`: share of this run's front dominated by that run's front." in report
    for name in ("fronts.png", "hypervolume.png", "edf.png"):
        assert f"]({name})" in report
        assert (out / name).read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def test_cli_defaults_to_the_first_run_folder(runs, tmp_path):
    folder = tmp_path / "run_b"
    folder.mkdir()
    for name in ("config.json", "trials.parquet"):
        (folder / name).write_bytes((runs[1] / name).read_bytes())
    analyze_main([str(folder), "--objectives", "accuracy:max,params:min,flops:min"])
    assert (folder / "report.md").is_file() and (folder / "fronts.png").is_file()


def test_cli_on_the_example_run_reports_over_budget_samples_and_explains_the_report(tmp_path, capsys):
    folder = tmp_path / "example"
    shutil.copytree(EXAMPLE, folder, ignore=shutil.ignore_patterns("scaling*", "optuna.journal", "*.png"))
    analyze_main([str(folder), "--out", str(tmp_path / "report")])
    stdout = capsys.readouterr().out
    run_id = json.loads((folder / "config.json").read_text())["run_id"]
    counts = "24 trials trained: 24 complete; samples: 7 over budget (not trained)\n"
    reference = ("Hypervolume reference: accuracy=-0.0036111, flops=1.3575e+07 (each objective's worst value over "
                 "all runs, pushed out by 10% of its range; a negative accuracy is fine, it only has to be worse than "
                 "every trial). Hypervolume: the area a front dominates up to this point; larger is better.\n")
    assert f"Trials:\n  {run_id}: {counts}{reference}" in stdout
    report = (tmp_path / "report" / "report.md").read_text()
    assert f"- `{run_id}`: {counts}\n{reference}" in report
    assert "dominated_by" not in report  # one run: no other front to be dominated by
    effects = report[report.index("### The 10 genome attributes with the largest accuracy effect"):]
    assert "`effect` = the spread (largest minus smallest) of the attribute's accuracy shifts" in effects
    assert "26 more attributes, with smaller effects, are left out" in effects  # 36 attributes take 2-12 values
    rows = [line for line in effects.splitlines() if line.startswith("| ")][2:]  # below the header and its rule
    assert list(dict.fromkeys(line.split(" | ")[0][2:] for line in rows)) == [
        "stages.2.depth", "stages.2.mid", "stages.0.mid", "stages.0.channels", "stages.2.channels", "stages.1.depth",
        "stages.2.groups", "stages.3.channels", "stem.0.channels", "stages.0.groups"]


def test_cli_bad_folder_exits_2_with_one_line(tmp_path, capsys):
    with pytest.raises(SystemExit) as exit_info:
        analyze_main([str(tmp_path)])
    assert exit_info.value.code == 2
    assert capsys.readouterr().err.strip().splitlines() == [
        f"error: {tmp_path} is not a run folder: config.json is missing (run folders are written by "
        "python -m runners.search)"]


@pytest.mark.parametrize("args, message", [
    (["{tmp}/nowhere"], "no such folder"),
    (["{run}", "--objectives", "accuracy:up"], "is not name, name:max or name:min"),
    (["{run}", "--objectives", "latency"], "no trial has a value for latency_ms"),
    (["{run}", "--objectives", "accuracy,energy:min"], "'energy' is not a column"),
    (["{run}", "--reference", "accuracy=0"], "no value for flops"),
])
def test_cli_bad_input_exits_2_with_one_line(runs, tmp_path, capsys, args, message):
    with pytest.raises(SystemExit) as exit_info:
        analyze_main([a.format(tmp=tmp_path, run=runs[0]) for a in args])
    assert exit_info.value.code == 2
    stderr = capsys.readouterr().err
    assert message in stderr and len(stderr.strip().splitlines()) == 1


# ---- front plots -----------------------------------------------------------------------------------------
PLOT_CASE = pd.DataFrame({
    "state": ["COMPLETE"] * 5 + ["PRUNED", "COMPLETE"],
    "accuracy": [0.90, 0.80, 0.95, 0.85, 0.70, 0.99, 0.84],
    "flops": [100, 50, 200, 150, 40, 10, 160],
    "params": [10, 20, 30, 5, 40, 1, 6],  # the last row: dominated in three objectives too, by (0.85, 150, 5)
    "zoo_name": ["", "resnet20", "", "", "", "vgg11", ""],
})


def _front_line(figure):
    (ax,) = figure.axes
    (line,) = ax.lines
    return ax, line, sorted(zip(line.get_xdata(), line.get_ydata()))


def test_front_plot_draws_the_front_as_a_staircase_and_labels_zoo_members():
    from nasbench.analysis.plots import fronts_figure

    ax, line, points = _front_line(fronts_figure({"r": PLOT_CASE}))
    assert points == [(40, 0.70), (50, 0.80), (100, 0.90), (200, 0.95)]  # the pruned 0.99 stays off
    assert line.get_linestyle() == "-" and line.get_drawstyle() == "steps-post"
    assert [t.get_text() for t in ax.texts] == ["resnet20"]  # the pruned vgg11 is not an eligible point
    assert ax.get_legend().get_texts()[0].get_text() == "r (front 4)"


def test_front_plot_of_three_objectives_marks_the_3d_front_without_a_staircase():
    from nasbench.analysis.plots import fronts_figure

    objectives = {"accuracy": "max", "flops": "min", "params": "min"}
    ax, line, points = _front_line(fronts_figure({"r": PLOT_CASE}, objectives=objectives))
    # (150, 0.85) has the fewest params (5) of all, so it joins the front over three objectives
    assert points == [(40, 0.70), (50, 0.80), (100, 0.90), (150, 0.85), (200, 0.95)]
    assert line.get_linestyle() == "None" and "over accuracy, flops, params" in ax.get_title()


CHANCE_LEVEL = pd.DataFrame({"state": "COMPLETE", "accuracy": [0.10, 0.12], "flops": [120, 300], "params": [9, 9],
                             "zoo_name": ["lenet5", ""]})


def test_front_plot_scales_accuracy_to_the_front_and_draws_far_trials_at_the_bottom_edge():
    from nasbench.analysis.plots import fronts_figure

    figure = fronts_figure({"r": pd.concat([PLOT_CASE, CHANCE_LEVEL], ignore_index=True)})
    ax, _, points = _front_line(figure)
    assert points == [(40, 0.70), (50, 0.80), (100, 0.90), (200, 0.95)]
    # the front spans 0.70..0.95: the axis shows half that spread below it (0.575), padded by 5% of 0.575..0.95
    bottom, top = ax.get_ylim()
    assert (bottom, top) == pytest.approx((0.55625, 0.96875))
    assert (0.95 - 0.70) / (top - bottom) > 0.6  # the front fills most of the axis, not its top 4%
    (below,) = [c for c in ax.collections if c.get_label() == "r (2 below the axis)"]
    assert np.asarray(below.get_offsets()) == pytest.approx(np.array([[120, 0.565625], [300, 0.565625]]))  # bottom band
    faint = ax.collections[0]
    assert sorted(faint.get_offsets()[:, 1].tolist()) == pytest.approx([0.70, 0.80, 0.84, 0.85, 0.90, 0.95])
    labels = {t.get_text(): t.xy for t in ax.texts}
    assert labels.keys() == {"resnet20", "lenet5"}  # the zoo member at chance level is named at the edge
    assert labels["resnet20"] == pytest.approx((50, 0.80)) and labels["lenet5"] == pytest.approx((120, 0.565625))
    assert [t.get_text() for t in ax.get_legend().get_texts()] == ["r (front 4)", "r (2 below the axis)"]


def test_front_plot_without_far_trials_marks_nothing_below():
    from nasbench.analysis.plots import fronts_figure

    ax = fronts_figure({"r": PLOT_CASE}).axes[0]
    assert ax.get_ylim() == pytest.approx((0.6875, 0.9625))  # the lowest trial (0.70) is on the front
    assert not any("below the axis" in c.get_label() for c in ax.collections)
