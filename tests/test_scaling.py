"""Compound scaling: the reference rounding rules, B0..B7 and the phi ladder against timm, the `compound` grid space,
phi solved to FLOP targets, and a tiny end-to-end run of the empirical experiment through the command line."""
import dataclasses
import json
import math

import optuna
import pandas as pd
import pytest
import torch

from nasbench import build, zoo
from nasbench.cost import analytic_cost, count_params, fvcore_module_cost
from nasbench.genome import Scaling
from nasbench.scaling import scale_channels, scale_depth, scale_resolution
from nasbench.scaling.baselines import STRATEGIES, baseline
from nasbench.scaling.grid import CONSTRAINT, best_coefficients
from nasbench.scaling.phi import compound_product, scaled, solve_phi
from nasbench.scaling.static import PAPER_TABLE2, ladder_genomes, static_rows
from runners import scale
from search_spaces import get_space
from search_spaces.compound import derived_gamma

LADDER = {  # phi: (resolution, repeats per stage, params, FLOPs) of B0 under Scaling(1.2, 1.1, 1.15, phi)
    0: (224, (1, 2, 2, 3, 3, 4, 1), 5_288_548, 399_352_864),
    1: (258, (2, 3, 3, 4, 4, 5, 2), 9_109_994, 1_020_268_624),
    2: (296, (2, 3, 3, 5, 5, 6, 2), 12_255_408, 1_857_324_464),
    3: (341, (2, 4, 4, 6, 6, 7, 2), 16_350_296, 3_329_051_920),
    4: (392, (3, 5, 5, 7, 7, 9, 3), 25_916_448, 6_450_928_992),
    5: (451, (3, 5, 5, 8, 8, 10, 3), 33_726_740, 11_581_035_040),
    6: (518, (3, 6, 6, 9, 9, 12, 3), 45_464_648, 20_434_470_056),
    7: (596, (4, 8, 8, 11, 11, 15, 4), 68_741_810, 40_293_571_184),
}


# ---- rounding rules, by hand -----------------------------------------------------------------------------------------
@pytest.mark.parametrize("channels, factor, expected", [
    (32, 1.1, 32),     # 35.2 -> nearest multiple of 8 is 32, 9% down: allowed
    (40, 1.1, 48),     # 44 -> 48 (ties round up)
    (112, 1.2, 136),   # 134.4 -> 136
    (8, 1.1, 8),       # 8.8 -> 8, 9.1% down: allowed
    (8, 1.125, 16),    # 9 -> 8 would be 11% down: one step up instead
    (24, 0.5, 16),     # 12 -> 16 (ties round up)
    (16, 0.25, 8),     # 4 -> never below the divisor
    (20, 1.0, 20),     # identity leaves channels alone
])
def test_channels_round_to_multiples_of_8_never_10_percent_down(channels, factor, expected):
    assert scale_channels(channels, factor) == expected


def test_repeats_round_up_and_resolution_rounds_to_nearest():
    assert [scale_depth(d, f) for d, f in [(1, 1.1), (3, 1.2), (4, 1.0), (2, 1.5), (4, 1.8)]] == [2, 4, 4, 3, 8]
    assert [scale_resolution(224, 1.15**phi) for phi in range(4)] == [224, 258, 296, 341]


def test_resnet18_compound_phi1_by_hand():
    genome = zoo.get("resnet18")
    resolved = scaled(genome, (1.2, 1.1, 1.15), 1.0).resolved()
    assert resolved.stem[0].block.channels == 72  # 64 x 1.1 = 70.4 -> 72
    assert resolved.stem[1] == genome.stem[1]  # the max pool: nothing to scale, never repeated
    assert [(s.block.channels, s.depth, s.stride) for s in resolved.stages] == \
        [(72, 3, 1), (144, 3, 2), (280, 3, 2), (560, 3, 2)]  # 140.8 -> 144, 281.6 -> 280, 563.2 -> 560; ceil(2.4)
    assert (resolved.resolution, resolved.head.conv, resolved.scaling) == (258, 0, Scaling())


def test_mobilenet_v2_width_half_depth_one_and_a_half_by_hand():
    resolved = dataclasses.replace(zoo.get("mobilenet_v2"), scaling=Scaling(width=0.5, depth=1.5)).resolved()
    assert resolved.stem[0].block.channels == 16 and resolved.stem[0].depth == 1  # stems are never repeated
    assert [s.block.channels for s in resolved.stages] == [8, 16, 16, 32, 48, 80, 160]  # 24 x 0.5 = 12 -> 16
    assert [s.depth for s in resolved.stages] == [2, 3, 5, 6, 5, 5, 2]  # ceil(1.5 x (1, 2, 3, 4, 3, 3, 1))
    assert (resolved.head.conv, resolved.resolution) == (640, 224)  # the head conv is scaled too


def test_blocks_that_are_not_depth_scalable_are_never_repeated():
    genome = zoo.get("vgg11")
    pools = [i for i, s in enumerate(genome.stages) if s.block.kind == "pool"]
    resolved = scaled(genome, (2.0, 1.0, 1.0), 1.0).resolved()
    assert pools and all(resolved.stages[i].depth == 1 for i in pools)
    assert all(s.depth == 2 for i, s in enumerate(resolved.stages) if i not in pools)


# ---- static reproduction -----------------------------------------------------------------------------------------
def test_official_b0_to_b7_equal_timm_and_the_zoo_and_sit_near_table_2():
    rows = {r["name"]: r for r in static_rows(with_timm=True) if r["kind"] == "official"}
    assert list(rows) == [f"efficientnet_b{i}" for i in range(8)]
    for name, row in rows.items():
        assert row["timm_match"] and row["params"] == row["timm_params"] == analytic_cost(zoo.get(name)).params
        paper_params, paper_flops = PAPER_TABLE2[name]
        assert abs(row["params"] / paper_params - 1) < 0.03 and abs(row["flops"] / paper_flops - 1) < 0.08
    assert (rows["efficientnet_b0"]["params"], rows["efficientnet_b7"]["params"]) == (5_288_548, 66_347_960)
    assert rows["efficientnet_b7"]["resolution"] == 600 and round(rows["efficientnet_b7"]["flops_ratio"], 2) == 95.97


def test_ladder_values_and_timm_generator_at_the_same_multipliers():
    from timm.models.efficientnet import _gen_efficientnet

    for phi, genome in enumerate(ladder_genomes().values()):
        resolution, repeats, params, flops = LADDER[phi]
        resolved = genome.resolved()
        assert (resolved.resolution, tuple(s.depth for s in resolved.stages)) == (resolution, repeats)
        assert analytic_cost(genome) == (params, flops)
        with torch.device("meta"):
            reference = _gen_efficientnet("efficientnet_b0", channel_multiplier=genome.scaling.width_factor,
                                          depth_multiplier=genome.scaling.depth_factor)
        assert count_params(reference) == params


@pytest.mark.parametrize("name", ["efficientnet", "resnet", "mobilenet"])
def test_compound_scaled_baselines_analytic_cost_equals_fvcore(name):
    genome = scaled(baseline(name), STRATEGIES["compound"], 1.0).resolved()  # 18x18: odd maps 9, 5, 3 follow
    measured = fvcore_module_cost(build(genome), genome.in_chans, genome.resolution, activations=False)
    assert (measured.params, measured.flops) == analytic_cost(genome)


def test_static_json_rows_and_files(tmp_path, capsys):
    scale.main(["--static", "--format", "json", "--no-timm", "--results-dir", str(tmp_path)])
    rows = json.loads(capsys.readouterr().out)
    assert [r["name"] for r in rows] == [f"efficientnet_b{i}" for i in range(8)] + [f"ladder_phi{i}" for i in range(8)]
    phi3 = rows[11]
    assert (phi3["width"], phi3["depth"], phi3["resolution"], phi3["params"], phi3["flops"]) == \
        (1.331, 1.728, 341, 16_350_296, 3_329_051_920)
    table = pd.read_csv(tmp_path / "scaling" / "static.csv")
    assert list(table["params"]) == [r["params"] for r in rows]
    assert "| efficientnet_b4 |" in (tmp_path / "scaling" / "static.md").read_text()


# ---- the compound grid space ---------------------------------------------------------------------------------------
def test_compound_space_grid_is_feasible_and_round_trips():
    space = get_space("compound")
    grid = space.grid()
    assert grid == {"alpha": [1.0, 1.05, 1.1, 1.15, 1.2, 1.25, 1.3, 1.35, 1.4, 1.45],
                    "beta": [1.0, 1.05, 1.1, 1.15, 1.2]} and space.grid_size() == 50
    for alpha in grid["alpha"]:
        for beta in grid["beta"]:
            params = {"alpha": alpha, "beta": beta}
            genome = space.sample(optuna.trial.FixedTrial(params))
            s = genome.scaling
            assert CONSTRAINT[0] <= compound_product(s.alpha, s.beta, s.gamma) <= CONSTRAINT[1] and s.phi == 1
            assert space.encode(genome) == params
    assert (derived_gamma(1.2, 1.1), derived_gamma(1.0, 1.0), derived_gamma(1.45, 1.2)) == (1.17, 1.41, 1.0)
    paper_point = space.sample(optuna.trial.FixedTrial({"alpha": 1.2, "beta": 1.1}))
    assert paper_point.resolved().resolution == 19  # 16 x 1.17 = 18.7
    assert paper_point.scaling == Scaling(width=0.25, depth=0.5, alpha=1.2, beta=1.1, gamma=1.17, phi=1.0)


def test_best_coefficients_skip_infeasible_and_failed_trials_and_break_ties_by_flops():
    grid = pd.DataFrame([
        {"state": "COMPLETE", "alpha": 2.0, "beta": 1.2, "gamma": 1.0, "feasible": False, "accuracy": 0.99, "flops": 1},
        {"state": "FAIL", "alpha": 1.1, "beta": 1.1, "gamma": 1.24, "feasible": True, "accuracy": math.nan, "flops": 1},
        {"state": "COMPLETE", "alpha": 1.3, "beta": 1.1, "gamma": 1.13, "feasible": True, "accuracy": 0.95, "flops": 9},
        {"state": "COMPLETE", "alpha": 1.2, "beta": 1.1, "gamma": 1.17, "feasible": True, "accuracy": 0.95, "flops": 8},
        {"state": "COMPLETE", "alpha": 1.0, "beta": 1.0, "gamma": 1.41, "feasible": True, "accuracy": 0.90, "flops": 5},
    ])
    assert best_coefficients(grid) == (1.2, 1.1, 1.17)
    with pytest.raises(ValueError, match="no feasible"):
        best_coefficients(grid.iloc[:2])


# ---- the empirical experiment --------------------------------------------------------------------------------------
def test_solve_phi_lands_on_the_nearest_flop_step():
    base = baseline("resnet")  # CIFAR ResNet-20, 3 units per stage
    phi = solve_phi(base, STRATEGIES["depth"], 2.0)
    assert phi == 0.737 and [s.depth for s in scaled(base, STRATEGIES["depth"], phi).resolved().stages] == [6, 6, 6]
    just_below = scaled(base, STRATEGIES["depth"], phi - 0.001).resolved()
    assert [s.depth for s in just_below.stages] == [5, 5, 5]  # 1.70x: further from 2x than 2.05x


def test_small_baselines_use_cifar_style_strides():
    b0 = baseline("efficientnet", 1, 16, 10)
    assert [s.stride for s in b0.stem + b0.stages] == [1, 1, 1, 2, 2, 1, 2, 1]  # total stride 8 (B0: 32)
    assert b0.scaling == Scaling(width=0.25, depth=0.5) and analytic_cost(b0) == (201_888, 2_076_960)
    assert baseline("mobilenet", 3, 64, 100).stem[0].stride == 2  # large inputs keep the zoo's strides


@pytest.mark.slow
def test_tiny_empirical_run_writes_its_tables_and_plot(tmp_path, capsys, monkeypatch):
    monkeypatch.setenv("OMP_NUM_THREADS", "1")  # tiny networks: one thread is fastest
    scale.main(["--empirical", "--baselines", "resnet", "--targets", "2,4", "--seeds", "1", "--epochs", "1",
                "--limit", "64", "--results-dir", str(tmp_path)])
    (run_dir,) = (tmp_path / "scaling").iterdir()
    assert {p.name for p in run_dir.iterdir()} == {"config.json", "points.csv", "runs.csv", "summary.csv", "summary.md",
                                                    "comparison.csv", "accuracy_vs_flops.png", ".run.lock"}
    points = pd.read_csv(run_dir / "points.csv")
    assert list(zip(points["strategy"], points["target"])) == [("baseline", 1.0)] + [
        (s, t) for s in ("compound", "depth", "width", "resolution") for t in (2.0, 4.0)]
    assert all(abs(math.log(r / t)) < math.log(1.15) for r, t in zip(points["flops_ratio"], points["target"]))
    assert points["flops"].iloc[0] == 10_159_744
    assert points[points["strategy"] == "resolution"]["resolution"].tolist() == [22, 32]
    runs = pd.read_csv(run_dir / "runs.csv")
    assert len(runs) == 9 and set(runs["status"]) == {"ok"} and runs["test_accuracy"].between(0, 1).all()
    summary = pd.read_csv(run_dir / "summary.csv")
    assert len(summary) == 9 and set(summary["seeds"]) == {1} and summary["test_std"].isna().all()
    assert (run_dir / "accuracy_vs_flops.png").read_bytes()[:4] == b"\x89PNG"
    assert json.loads((run_dir / "config.json").read_text())["compound"] == [1.2, 1.1, 1.15]
    comparison = pd.read_csv(run_dir / "comparison.csv")
    assert list(zip(comparison["target"], comparison["strategy"])) == [
        (t, s) for t in (2.0, 4.0) for s in ("depth", "width", "resolution")]
    assert comparison["compound_higher"].str.startswith("one seed, no spread").all()
    assert comparison.groupby("target")["best_single"].sum().tolist() == [1, 1]
    out = capsys.readouterr().out
    assert "| resnet | width | 4 |" in out and "best single dimension" in out


@pytest.mark.parametrize("argv, message", [
    (["--empirical", "--seeds", "0"], "seeds and epochs must be at least 1"),
    (["--empirical", "--grid-trials", "-1"], "grid trials must be zero (the whole grid) or positive"),
    (["--empirical", "--baselines", "vgg"], "unknown baseline 'vgg'"),
    (["--empirical", "--compound", "1.2,1.1"], "--compound takes three numbers"),
    (["--static", "--bogus"], "unrecognized arguments: --bogus"),
    (["--static", "--empirical"], "not allowed with argument"),
    (["--static", "--results-dir", "/proc/nasbench-results"], "cannot create results folder /proc/nasbench-results"),
    (["--empirical", "--results-dir", "/proc/nasbench-results"], "choose a writable results folder (--results-dir)"),
    (["--empirical", "--dataset", "cifar10", "--data-dir", "/nonexistent/data"], "cifar"),
])
def test_bad_flags_exit_2_with_one_line(argv, message, capsys):
    with pytest.raises(SystemExit) as exit_info:
        scale.main(argv)
    err = capsys.readouterr().err
    assert exit_info.value.code == 2 and message in err and len(err.strip().splitlines()) == 1


@pytest.fixture
def one_cpu_ray():
    """A local Ray instance of one CPU for the grid search to attach to: its trials run one after the other in one
    Ray worker (one worker to start, not two)."""
    import ray

    ray.init(num_cpus=1, include_dashboard=False, log_to_driver=False)
    yield
    ray.shutdown()


@pytest.mark.slow
def test_tiny_grid_search_picks_feasible_coefficients_and_scales_with_them(tmp_path, monkeypatch, one_cpu_ray):
    monkeypatch.setenv("OMP_NUM_THREADS", "1")
    scale.main(["--empirical", "--grid", "--grid-trials", "2", "--baselines", "efficientnet", "--targets", "2",
                "--seeds", "1", "--epochs", "1", "--limit", "64", "--results-dir", str(tmp_path)])
    (run_dir,) = (tmp_path / "scaling").iterdir()
    grid = pd.read_csv(run_dir / "grid.csv")
    trained = grid[grid["state"] == "COMPLETE"]
    assert len(trained) == 2 and trained["feasible"].all()
    assert trained["product"].between(*CONSTRAINT).all()
    chosen = json.loads((run_dir / "config.json").read_text())["compound"]
    assert tuple(chosen) == best_coefficients(grid)
    compound = pd.read_csv(run_dir / "points.csv").query("strategy == 'compound'").iloc[0]
    assert (compound["alpha"], compound["beta"], compound["gamma"]) == tuple(chosen)
    (search_run,) = (run_dir / "compound").iterdir()  # the Ray Tune + Optuna run folder of the grid search
    assert len(pd.read_csv(search_run / "trials.csv").query("state == 'COMPLETE'")) == 2
    assert json.loads((search_run / "config.json").read_text())["settings"]["sampler"] == "grid"
    assert len(set(zip(trained["alpha"], trained["beta"]))) == 2, "distinct grid points"
