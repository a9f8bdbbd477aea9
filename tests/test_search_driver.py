"""The search driver's own work: progress lines whose counts, best accuracy and front size are those of the trials
table, taken in trial by trial; the run folder's tables rewritten at most every few seconds, not after every trial;
a replay's trials one at a time unless asked, in workers that import neither the tabular nor the search package."""
import math
import pickle
import subprocess
import sys
from unittest import mock

import optuna
import pandas as pd

from nasbench.analysis.fronts import pareto_front
from nasbench.curves import Curve, TableIndex
from nasbench.objectives import as_columns
from nasbench.record import COMPLETE, FAIL, INFEASIBLE, PRUNED, TrialRecord, state_counts
from nasbench.replay_worker import Replay
from nasbench.search import SearchSettings
from nasbench.search.cluster import concurrency
from nasbench.search.progress import Progress, Tally
from nasbench.search.results import trials_frame
from nasbench.search.searcher import OPTUNA_STATES, store_record

OBJECTIVES = {"accuracy": "max", "flops": "min"}
# (state, accuracy, flops, failure_reason): a duplicate, trials off the front, an older run's over-budget sample
TRIALS = [(COMPLETE, 0.5, 1e6, ""), (FAIL, math.nan, 2e6, "non-finite loss"), (COMPLETE, 0.7, 3e6, ""),
          (INFEASIBLE, math.nan, 9e7, "flops 9e+07 > max_flops 2e+07"), (COMPLETE, 0.7, 3e6, ""),
          (PRUNED, 0.2, 1e5, "stopped early"), (COMPLETE, 0.6, 5e6, ""), (COMPLETE, 0.3, 1e4, ""),
          (FAIL, math.nan, 8e7, "infeasible: flops 8e+07 > max_flops 2e+07"), (COMPLETE, 0.9, 4e6, "")]


def told(study: optuna.Study, index: int) -> None:
    """Tell the study TRIALS[index] as the searcher would, Ray trial id t<index>."""
    state, accuracy, flops, reason = TRIALS[index]
    trial = study.ask()
    record = TrialRecord(trial_id=f"t{index}", state=state, key=f"k{index}", genome_json="{}", accuracy=accuracy,
                         flops=flops, failure_reason=reason)
    store_record(trial, record)
    values = [accuracy, flops] if state == COMPLETE else None
    study.tell(trial, values, state=OPTUNA_STATES[state])


def test_the_tally_taken_in_trial_by_trial_is_the_trials_table(tmp_path):
    optuna.logging.set_verbosity(optuna.logging.WARNING)
    study = optuna.create_study(directions=["maximize", "minimize"])
    tally = Tally("run", OBJECTIVES)
    for group in ([0], [1], [2, 3], [4], [5], [6], [7], [8], [9]):  # [2, 3]: two trials told between updates
        for index in group:
            told(study, index)
        new = tally.update(study)
        assert [r.trial_id for r in new] == [f"t{index}" for index in group]
        frame = trials_frame(study, "run")
        assert tally.counts == state_counts(frame)
        complete = frame[frame["state"] == COMPLETE]
        expected_best = complete["accuracy"].max()
        assert (math.isnan(tally.best) and math.isnan(expected_best)) or tally.best == expected_best
        front = pareto_front(frame, as_columns(OBJECTIVES))
        assert sorted(r.number for r in tally.front) == sorted(front["number"])
    assert tally.counts[INFEASIBLE] == 2 and len(tally.front) == 5  # the legacy sample counts as over budget


def test_lines_for_every_trial_tables_at_most_every_few_seconds(tmp_path):
    study = optuna.create_study(directions=["maximize", "minimize"])
    lines = []
    settings = SearchSettings(trials=len(TRIALS))
    clock = [100.0]
    with mock.patch("nasbench.search.progress.time.monotonic", side_effect=lambda: clock[0]):
        progress = Progress(study, tmp_path, settings, lines.append, every_s=5.0)
        for index in range(3):
            told(study, index)
            progress.on_trial_complete(0, [], mock.Mock(trial_id=f"t{index}"))
            clock[0] += 1.0
        assert len(pd.read_csv(tmp_path / "trials.csv")) == 1  # the first trial at once, then not for 5 s
        clock[0] += 2.0
        progress.on_step_end(0, [])  # 5 s after the first rewrite: the tables catch up
        assert len(pd.read_csv(tmp_path / "trials.csv")) == 3 and len(pd.read_csv(tmp_path / "pareto.csv")) == 2
        progress.on_step_end(0, [])
    assert lines == ["[1/10] #0 COMPLETE acc 0.500 flops 1e+06 | best acc 0.500 | front 1",
                     "[2/10] #1 FAIL     non-finite loss | best acc 0.500 | front 1",
                     "[3/10] #2 COMPLETE acc 0.700 flops 3e+06 | best acc 0.700 | front 2"]


def test_a_replay_runs_one_trial_at_a_time_unless_asked():
    resources = {"CPU": 16.0, "GPU": 0.0}
    assert concurrency(SearchSettings(trials=200), resources) == 16
    assert concurrency(SearchSettings(trials=200, benchmark="table.parquet"), resources) == 1
    assert concurrency(SearchSettings(trials=200, benchmark="table.parquet", concurrency=4), resources) == 4


def test_a_replay_worker_imports_neither_the_tabular_nor_the_search_package():
    """What a Ray worker replaying trials unpickles (its trainable, the table's index) starts ~1.4 s sooner without
    them (Optuna, scikit-learn, the runner)."""
    code = ("import pickle, sys; import nasbench.replay_worker; pickle.loads(sys.stdin.buffer.read()); "
            "print(sorted({m.split('.')[1] for m in sys.modules if m.startswith('nasbench.')}))")
    index = TableIndex("t.parquet", "s", {"{}": {"key": "k"}}, {"k": [Curve(0, (0.5,), (0.5,), (1.0,), 1.0, "")]},
                       {"k": "{}"})
    shipped = pickle.dumps(Replay(index, seed=0, epochs=1, latency=False, zoo_keys={}))
    run = subprocess.run([sys.executable, "-c", code], input=shipped, capture_output=True, check=True)
    loaded = run.stdout.decode()
    assert "'tabular'" not in loaded and "'search'" not in loaded and "'curves'" in loaded, loaded
