"""python -m runners.compare on a made-up table of the resnet_compact space: every file written with the numbers
the statistics give, ASHA in the in-process replay, and one line with exit code 2 for bad input."""
import json
import math

import pandas as pd
import pytest

from nasbench.errors import SettingError
from nasbench.record import COMPLETE, FILTERED, PRUNED, REPEAT, trained_rows
from nasbench.tabular import replay
from runners import compare
from search_spaces import get_space


def run_cli(capsys, *argv):
    try:
        compare.main(list(argv))
    except SystemExit as exit_:
        return exit_.code, capsys.readouterr()
    return 0, capsys.readouterr()


def test_compare_writes_the_report_tables_and_plot(made_up_table, tmp_path, capsys):
    code, out = run_cli(capsys, "--benchmark", str(made_up_table), "--samplers", "random,rea,reinforce",
                        "--seeds", "4", "--trials", "30", "--results-dir", str(tmp_path))
    assert code == 0, out.err
    folder = next(tmp_path.iterdir())
    for name in ("report.md", "summary.csv", "regret.csv", "hypervolume.png", "bands.csv", "curves.csv",
                 "runs.parquet", "config.json"):
        assert (folder / name).stat().st_size > 0, name
    summary = pd.read_csv(folder / "summary.csv", index_col="sampler")
    assert summary.index.tolist() == ["random", "rea", "reinforce"] and (summary["seeds"] == 4).all()
    assert summary["mean_rank"].sum() == pytest.approx(6.0)  # ranks 1..3 in every seed
    assert ((summary["median_hypervolume"] > 0) & (summary["median_hypervolume"] < 1)).all()
    assert math.isnan(summary.loc["random", "p_vs_random"]) and 0 < summary.loc["rea", "p_vs_random"] <= 1
    runs = pd.read_parquet(folder / "runs.parquet")
    trained = trained_rows(runs)
    assert (trained.groupby(["sampler", "seed"]).size() == 30).all() and len(trained) == 3 * 4 * 30
    curves = pd.read_csv(folder / "curves.csv")
    finals = curves.groupby(["sampler", "seed"])["hypervolume"].last()
    assert summary.loc["rea", "median_hypervolume"] == pytest.approx(finals["rea"].median())
    bands = pd.read_csv(folder / "bands.csv")
    assert set(bands["axis"]) == {"trials", "time_s"} and (bands["low"] <= bands["median"] + 1e-12).all()
    regret = pd.read_csv(folder / "regret.csv", index_col="sampler")
    assert (regret["regret_mean"] >= 0).all() and (regret["optimum_val_accuracy"] > 0.8).all()
    config = json.loads((folder / "config.json").read_text())
    assert config["samplers"] == ["random", "rea", "reinforce"] and config["max_flops"] == 2e7
    report = (folder / "report.md").read_text()
    assert "| rea |" in report and "![Anytime hypervolume](hypervolume.png)" in report
    assert "rea" in out.out and str(folder) in out.out


def test_strategies_name_their_own_scheduler_and_prefilter_and_fresh_seeds_replay(made_up_table, tmp_path, capsys):
    code, out = run_cli(capsys, "--benchmark", str(made_up_table), "--samplers", "random,random+hvi:3,tpe+moasha",
                        "--seeds", "2", "--first-seed", "5", "--trials", "20", "--results-dir", str(tmp_path))
    assert code == 0, out.err
    folder = next(tmp_path.iterdir())
    runs = pd.read_parquet(folder / "runs.parquet")
    assert set(runs["seed"]) == {5, 6} and json.loads((folder / "config.json").read_text())["first_seed"] == 5
    space = get_space("resnet_compact")
    for label, sampler, settings in [("random", "random", {}), ("random+hvi:3", "random", {"prefilter": "hvi:3"}),
                                     ("tpe+moasha", "tpe", {"scheduler": "moasha"})]:
        alone = replay(space, made_up_table, sampler, trials=20, seed=6, **settings)
        run = runs[(runs["sampler"] == label) & (runs["seed"] == 6)]
        assert run["key"].tolist() == alone["key"].tolist() and run["state"].tolist() == alone["state"].tolist()
    assert set(runs[runs["sampler"] == "random"]["state"]) == {COMPLETE}
    assert (runs[runs["sampler"] == "random+hvi:3"]["state"] == FILTERED).sum() > 0
    assert (runs[runs["sampler"] == "tpe+moasha"]["state"] == PRUNED).sum() > 0
    summary = pd.read_csv(folder / "summary.csv", index_col="sampler")
    curves = pd.read_csv(folder / "curves.csv")
    random_time = curves[curves["sampler"] == "random"].groupby("seed")["time_s"].last().median()
    reached = summary["time_to_baseline_s"].notna()
    assert reached.any() and summary.loc[reached, "time_share"].to_numpy() == pytest.approx(
        summary.loc[reached, "time_to_baseline_s"].to_numpy() / random_time)
    report = (folder / "report.md").read_text()
    assert "3 strategies x 2 seeds (5..6) x 20 trials" in report and "share of random's time |" in report
    assert "| random+hvi:3 |" in report


def test_asha_in_the_replay_stops_trials_at_the_first_rung_and_saves_their_time(made_up_table):
    fifo = replay(get_space("resnet_compact"), made_up_table, "random", trials=40, seed=0)
    asha = replay(get_space("resnet_compact"), made_up_table, "random", trials=40, seed=0, scheduler="asha")
    stopped = asha[asha["state"] == PRUNED]
    assert len(stopped) >= 5 and (stopped["epochs"] == 1).all()
    assert fifo["key"].tolist() == asha["key"].tolist()  # random sampling does not depend on the results
    assert set(fifo["state"]) == {COMPLETE} and asha["wall_time_s"].sum() < fifo["wall_time_s"].sum()


@pytest.mark.parametrize("argv, message", [
    (["--samplers", "random,nsga"], "did you mean nsga2"),
    (["--samplers", "rea,tpe"], "must include random"),
    (["--samplers", "random,grid"], "leave it out"),
    (["--seeds", "0"], "seeds must be at least 1"),
    (["--first-seed", "-1"], "first_seed must be zero or positive"),
    (["--samplers", "random,nsga+hvi:4"], "did you mean nsga2"),
    (["--samplers", "random,tpe+asha+moasha"], "names two schedulers (asha, moasha)"),
    (["--samplers", "random,random+synflo:4"], "strategy random+synflo:4: prefilter: unknown proxy 'synflo'"),
    (["--samplers", "random,tpe+asha+hvi:1"], "strategy tpe+asha+hvi:1: prefilter: 'hvi:1' needs a count"),
    (["--objectives", "accuracy"], "at least one cost"),
])
def test_bad_input_is_one_line_with_exit_code_2(made_up_table, tmp_path, capsys, argv, message):
    code, out = run_cli(capsys, "--benchmark", str(made_up_table), "--results-dir", str(tmp_path), *argv)
    assert code == 2 and message in out.err and len(out.err.strip().splitlines()) == 1
    assert not any(tmp_path.iterdir())


def test_a_missing_table_is_one_line(tmp_path, capsys):
    code, out = run_cli(capsys, "--benchmark", str(tmp_path / "none.parquet"))
    assert code == 2 and "does not exist" in out.err


def test_a_genome_trained_before_is_a_repeat_with_its_results_not_another_trial(made_up_table):
    trials = replay(get_space("resnet_compact"), made_up_table, "tpe", trials=80, seed=0)
    trained, repeats = trials[trials["state"] == COMPLETE], trials[trials["state"] == REPEAT]
    assert len(trained) == 80 and trained["key"].is_unique and len(repeats) >= 1  # tpe proposes repeats here
    first = trained.set_index("key")
    for _, repeat in repeats.iterrows():
        earlier = first.loc[repeat["key"]]
        assert repeat["failure_reason"] == f"repeat of trial #{earlier['number']}"
        assert earlier["number"] < repeat["number"]
        assert (repeat["accuracy"], repeat["flops"], repeat["trial_id"]) == (earlier["accuracy"], earlier["flops"], "")
    allowed = replay(get_space("resnet_compact"), made_up_table, "tpe", trials=80, seed=0, allow_repeats=True)
    assert REPEAT not in set(allowed["state"]) and not allowed["key"].is_unique  # the same genome trained again


def test_moasha_in_the_replay_keeps_cheap_trials_that_asha_stops(made_up_table):
    space = get_space("resnet_compact")
    asha = replay(space, made_up_table, "random", trials=60, seed=1, scheduler="asha")
    moasha = replay(space, made_up_table, "random", trials=60, seed=1, scheduler="moasha")
    assert asha["key"].tolist() == moasha["key"].tolist()  # random sampling does not depend on the results
    stopped = moasha[moasha["state"] == PRUNED]
    assert len(stopped) >= 5 and (stopped["epochs"] == 1).all()
    kept_cheap = moasha[(moasha["state"] == COMPLETE) & (asha["state"] == PRUNED)]
    assert len(kept_cheap) >= 1 and kept_cheap["flops"].median() < asha["flops"].median()


def test_a_prefilter_trains_the_best_of_k_samples_by_the_proxy_and_records_the_rest(made_up_table):
    trials = replay(get_space("resnet_compact"), made_up_table, "random", trials=20, seed=2, prefilter="params:4")
    trained, filtered = trials[trials["state"] == COMPLETE], trials[trials["state"] == FILTERED]
    assert len(trained) == 20 and len(filtered) == 3 * 20 and set(trials["state"]) == {COMPLETE, FILTERED}
    for _, drawn in trials.groupby(trials["number"] // 4):  # the 4 samples drawn together: the largest is trained
        best = drawn[drawn["state"] == COMPLETE]
        assert len(best) == 1 and best["params"].iloc[0] == drawn["params"].max()
        others = drawn[drawn["state"] == FILTERED]["failure_reason"]
        assert others.str.fullmatch(rf"prefiltered out: params \S+, the best of 4 {best['params'].iloc[0]:.6g}").all()
    plain = replay(get_space("resnet_compact"), made_up_table, "random", trials=20, seed=2)
    assert trained["params"].median() > plain["params"].median()


def test_a_prefilter_of_many_samples_still_runs_every_trial(made_up_table):
    # K samples a trial: the cap on samples drawn (20 a trial without a prefilter) grows with K
    trials = replay(get_space("resnet_compact"), made_up_table, "random", trials=20, seed=0, prefilter="params:32")
    assert (trials["state"] == COMPLETE).sum() == 20 and (trials["state"] == FILTERED).sum() == 31 * 20


@pytest.mark.parametrize("text, message", [("synflo:4", "unknown proxy 'synflo'"), ("synflow", "count of at least 2"),
                                           ("naswot:1", "count of at least 2")])
def test_a_bad_prefilter_is_one_line_naming_the_setting(made_up_table, text, message):
    with pytest.raises(SettingError, match=f"^prefilter: .*{message}"):
        replay(get_space("resnet_compact"), made_up_table, "random", trials=2, prefilter=text)
