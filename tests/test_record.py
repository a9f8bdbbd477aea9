"""The trial record: one schema for the trials table, four states, the same words everywhere, old tables upgraded;
and the one objective syntax."""
import math

import pandas as pd
import pytest

from nasbench.objectives import as_columns, parse_objectives, search_objectives
from nasbench.record import (
    COLUMNS,
    DTYPES,
    STATES,
    TrialRecord,
    describe_counts,
    records_frame,
    state_counts,
    trained,
    trained_rows,
    upgrade,
)


def test_the_record_fields_are_the_table_columns_with_their_dtypes():
    frame = records_frame([TrialRecord(run_id="r", number=3, state="INFEASIBLE", flops=2e7, failure_reason="x")])
    assert tuple(frame.columns) == COLUMNS and dict(frame.dtypes.astype(str)) == DTYPES
    assert COLUMNS[:4] == ("run_id", "trial_id", "number", "state")
    assert frame["number"].iloc[0] == 3 and math.isnan(frame["accuracy"].iloc[0])
    assert records_frame([]).shape == (0, len(COLUMNS))


def test_a_state_outside_the_five_is_refused():
    assert STATES == ("COMPLETE", "PRUNED", "FAIL", "INFEASIBLE", "REPEAT", "FILTERED")
    with pytest.raises(ValueError, match="'DONE' is not one of COMPLETE, PRUNED, FAIL, INFEASIBLE"):
        TrialRecord(state="DONE")


def test_from_mapping_ignores_foreign_keys_and_none():
    record = TrialRecord.from_mapping({"accuracy": 0.5, "status": "ok", "epochs": None, "trial_id": "a"},
                                      trial_id="b", state="PRUNED")
    assert (record.accuracy, record.epochs, record.trial_id, record.state) == (0.5, 0, "b", "PRUNED")


def test_counts_and_their_words():
    states = ["COMPLETE"] * 22 + ["PRUNED"] * 2 + ["INFEASIBLE"] * 7 + ["REPEAT"] * 3 + ["FILTERED"] * 4
    frame = records_frame([TrialRecord(state=s) for s in states])
    counts = state_counts(frame)
    assert counts == {"COMPLETE": 22, "PRUNED": 2, "FAIL": 0, "INFEASIBLE": 7, "REPEAT": 3, "FILTERED": 4}
    assert trained(counts) == 24
    assert len(trained_rows(frame)) == 24 and set(trained_rows(frame)["state"]) == {"COMPLETE", "PRUNED"}
    assert describe_counts(counts) == ("24 trials trained: 22 complete, 2 pruned (stopped early); samples: 7 over "
                                       "budget (not trained), 3 repeats of a trained genome (not trained again), 4 "
                                       "prefiltered out by a proxy (not trained)")
    assert describe_counts({"COMPLETE": 2}) == "2 trials trained: 2 complete"


def test_tables_of_older_runs_are_upgraded():
    """Before INFEASIBLE existed, over-budget samples were FAIL with a reason starting 'infeasible: '."""
    old = pd.DataFrame({"state": ["COMPLETE", "FAIL", "FAIL"], "number": [0, 1, 2],
                        "failure_reason": [None, "infeasible: flops 3e+07 > max_flops 2e+07", "non-finite loss"]})
    new = upgrade(old)
    assert list(new["state"]) == ["COMPLETE", "INFEASIBLE", "FAIL"]
    assert list(new["failure_reason"]) == ["", "flops 3e+07 > max_flops 2e+07", "non-finite loss"]
    assert set(COLUMNS) <= set(new.columns) and list(new["genome"]) == ["", "", ""]
    assert new["snip"].isna().all() and new["synflow"].isna().all()  # columns added since: their defaults


@pytest.mark.parametrize("text, expected", [
    ("accuracy,flops", {"accuracy": "max", "flops": "min"}),
    ("accuracy:max,flops:min", {"accuracy": "max", "flops": "min"}),
    (" accuracy , params:min,latency", {"accuracy": "max", "params": "min", "latency": "min"}),
    ("test_accuracy:max,flops", {"test_accuracy": "max", "flops": "min"}),
])
def test_one_objective_syntax(text, expected):
    assert parse_objectives(text) == expected


@pytest.mark.parametrize("text, words", [
    ("accuracy,test_accuracy", "objective 'test_accuracy' needs a direction"),
    ("accuracy:min,flops", "accuracy is always maximised, not minimised"),
    ("accuracy,flops,flops", "given twice"),
    ("accuracy:up", "is not name, name:max or name:min"),
    ("", "no objectives"),
])
def test_bad_objectives_say_what_to_write(text, words):
    with pytest.raises(ValueError, match=words):
        parse_objectives(text)


def test_search_objectives_are_accuracy_and_costs():
    assert search_objectives("accuracy:max,latency") == ("accuracy", "latency")
    with pytest.raises(ValueError, match="must include accuracy"):
        search_objectives("flops,params")
    with pytest.raises(ValueError, match="unknown objective 'test_accuracy'"):
        search_objectives("accuracy,test_accuracy:max")
    assert as_columns({"accuracy": "max", "latency": "min"}) == {"accuracy": "max", "latency_ms": "min"}
