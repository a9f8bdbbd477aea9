"""The batched journal of a run: the records Optuna's own backend would write, one fsync per durable step, and after
a crash (the process gone, whatever it held in memory lost) every finished and every started trial on disk."""
import json
import os
import pickle
from unittest import mock

import optuna
import pytest
from optuna.storages import JournalStorage
from optuna.storages.journal import JournalFileBackend
from optuna.trial import TrialState

from nasbench.search.journal import check_journal
from nasbench.search.journal_file import BatchedJournalStorage


def ask(study: optuna.Study) -> optuna.Trial:
    trial = study.ask()
    trial.suggest_int("depth", 1, 8)
    trial.suggest_float("width", 0.25, 2.0)
    trial.suggest_categorical("block", ["basic", "bottleneck"])
    return trial


def tell(study: optuna.Study, trial: optuna.Trial, state: TrialState = TrialState.COMPLETE) -> None:
    for name in ("key", "genome", "flops", "params", "epochs", "trial_id"):  # a record's user attributes
        trial.set_user_attr(name, f"{name}-{trial.number}")
    study.tell(trial, [0.5, float(trial.number)] if state == TrialState.COMPLETE else None, state=state)


def reopened(path) -> list:
    """The trials a fresh reader of the file sees, as comparable tuples."""
    study = optuna.load_study(study_name="s", storage=JournalStorage(JournalFileBackend(str(path))))
    return [(t.number, t.state, t.params, t.user_attrs, t.values) for t in study.trials]


@pytest.fixture
def batched(tmp_path):
    optuna.logging.set_verbosity(optuna.logging.WARNING)
    storage = BatchedJournalStorage(tmp_path / "optuna.journal")
    study = optuna.create_study(storage=storage, study_name="s", directions=["maximize", "minimize"],
                                sampler=optuna.samplers.RandomSampler(seed=0))
    return storage, study, tmp_path / "optuna.journal"


def test_the_file_holds_what_the_study_holds_with_one_fsync_per_durable_step(batched):
    storage, study, path = batched
    fsyncs = []
    real = os.fsync
    with mock.patch("os.fsync", side_effect=lambda fd: fsyncs.append(fd) or real(fd)):
        for number in range(6):
            trial = ask(study)
            storage.flush()  # the runner's flush when Tune starts a trial
            tell(study, trial, TrialState.COMPLETE if number % 3 else TrialState.FAIL)
        rejected = ask(study)  # an over-budget sample: told at once, never started
        tell(study, rejected, TrialState.FAIL)
        study.enqueue_trial({"depth": 3, "width": 1.0, "block": "basic"})
    assert len(fsyncs) == 6 * 2 + 1 + 1  # started and told; told; enqueued (Optuna's backend: 7 x 11 + 1)
    assert reopened(path) == [(t.number, t.state, t.params, t.user_attrs, t.values) for t in study.trials]
    assert len(study.trials) == 8 and check_journal(path).healthy
    records = [json.loads(line) for line in path.read_text().splitlines()]
    assert [r["op_code"] for r in records[:6]] == [0, 4, 5, 5, 5, 8]  # study, ask, params, attributes, in order


def test_a_crash_keeps_every_finished_and_started_trial_and_loses_only_a_trial_never_started(batched):
    storage, study, path = batched
    finished = ask(study)
    storage.flush()
    tell(study, finished)
    started = ask(study)
    storage.flush()
    started.set_user_attr("key", "not yet told")  # in memory only: the trial is in flight
    sampled = ask(study)  # sampled, not started: in memory only
    assert [t.state for t in study.trials] == [TrialState.COMPLETE, TrialState.RUNNING, TrialState.RUNNING]
    on_disk = reopened(path)  # what a resume after SIGKILL reads
    assert [(number, state) for number, state, *_ in on_disk] == [(0, TrialState.COMPLETE), (1, TrialState.RUNNING)]
    assert on_disk[0][3] == study.trials[0].user_attrs and on_disk[1][2] == started.params
    assert on_disk[1][3] == {} and sampled.number == 2


def test_an_enqueued_trial_and_a_trial_taken_from_the_queue_are_written_as_a_resume_needs_them(batched):
    storage, study, path = batched
    study.enqueue_trial({"depth": 2, "width": 0.5, "block": "bottleneck"})
    assert [state for _, state, *_ in reopened(path)] == [TrialState.WAITING]  # queued: on disk at once
    trial = ask(study)
    assert trial.params == {"depth": 2, "width": 0.5, "block": "bottleneck"}
    storage.flush()
    assert [state for _, state, *_ in reopened(path)] == [TrialState.RUNNING]


def test_a_failed_write_stops_the_journal_taking_records(batched):
    _, study, path = batched
    trial = ask(study)
    before = path.read_bytes()
    with mock.patch("os.fsync", side_effect=OSError(28, "No space left on device")), pytest.raises(OSError):
        tell(study, trial)
    with pytest.raises(OSError, match="an earlier write failed"):
        study.enqueue_trial({"depth": 1, "width": 1.0, "block": "basic"})
    assert path.read_bytes().startswith(before)


def test_a_pickled_storage_reopens_the_file(batched):
    storage, study, _ = batched
    tell(study, ask(study))
    copy = pickle.loads(pickle.dumps(storage))
    loaded = optuna.load_study(study_name="s", storage=copy)
    assert [t.state for t in loaded.trials] == [TrialState.COMPLETE]
