"""The run's Optuna journal file, written once per trial step that must survive a crash instead of once per record.

Optuna's `JournalFileBackend` appends and fsyncs every record: a trial's ask, its parameters, each attribute of its
record and its tell are ~23 fsyncs (and lock files) for a resnet_compact trial. `BatchedJournal` keeps the records
of a trial being asked or told in memory and writes them in one append (one fsync) when the trial is finished
(`study.tell`: COMPLETE, PRUNED, FAIL, and so INFEASIBLE), when `flush()` is called (the runner does so when Tune
starts a trial, before its first training step: `nasbench.search.durable`), or with any record that is not about a
trial in progress (a study, an enqueued trial).

Durability, then: a finished trial's record is on disk, fsynced, before `tell` returns, as with Optuna's backend;
a trial Tune started is on disk before it trains, so a crash leaves it in flight and `--resume` queues it again.
What a crash can lose is the records of a trial sampled but not yet started by Tune (nor finished): it never
trained, and the resumed search samples afresh instead of queuing its genome again. A torn append (a crash
mid-write) is repaired like any torn tail (`nasbench.search.journal`): a trial whose end was torn off is left in
flight and queued again.

Records are read back from memory, not from the file, after the first read: the run folder's lock
(`nasbench.search.lock`) makes this process the journal's only writer."""
from __future__ import annotations

import json
import threading
from pathlib import Path

from optuna.storages import JournalStorage
from optuna.storages.journal import BaseJournalBackend, JournalFileBackend
from optuna.trial import TrialState

# op codes of Optuna's journal format: records about one trial, which may wait for its next durable step
CREATE_TRIAL, SET_TRIAL_PARAM, SET_TRIAL_STATE_VALUES = 4, 5, 6
TRIAL_DETAILS = {7, 8, 9}  # intermediate value, user attribute, system attribute


def deferrable(record: dict) -> bool:
    """Whether a record may wait in memory: part of a trial being asked or told, not its end, not a queued trial."""
    op = record.get("op_code")
    if op in TRIAL_DETAILS or op == SET_TRIAL_PARAM:
        return True
    if op in (CREATE_TRIAL, SET_TRIAL_STATE_VALUES):
        return TrialState(record.get("state", TrialState.RUNNING)) == TrialState.RUNNING
    return False


class BatchedJournal(BaseJournalBackend):
    """An Optuna journal file whose records are appended in batches, each batch ending at a durable step."""

    def __init__(self, path: str | Path):
        self._path = str(path)
        self._file = JournalFileBackend(self._path)  # creates the file if missing
        with open(self._path, "rb") as handle:
            self._written = handle.read().count(b"\n")  # whole records (a torn tail was repaired before opening)
        self._pending: list[str] = []  # JSON lines not yet written, in order
        self._failure: OSError | None = None
        self._lock = threading.Lock()

    def read_logs(self, log_number_from: int) -> list[dict]:
        """Records from `log_number_from` on: those in the file, then those waiting (decoded afresh each time, so
        what Optuna builds from them never aliases what will be written)."""
        with self._lock:
            written = list(self._file.read_logs(log_number_from)) if log_number_from < self._written else []
            waiting = self._pending[max(0, log_number_from - self._written):]
            return written + [json.loads(line) for line in waiting]

    def append_logs(self, logs: list[dict]) -> None:
        """Queue `logs`; write the queue when one of them is a durable step."""
        with self._lock:
            self._pending.extend(json.dumps(log, separators=(",", ":")) for log in logs)
            if not all(deferrable(log) for log in logs):
                self._write()

    def flush(self) -> None:
        """Write (and fsync) every waiting record."""
        with self._lock:
            self._write()

    def _write(self) -> None:
        if self._failure is not None:  # the file may end in a torn record: add nothing after it
            raise OSError(self._failure.errno, f"an earlier write failed ({self._failure.strerror})", self._path)
        if not self._pending:
            return
        try:
            self._file.append_logs([json.loads(line) for line in self._pending])
        except OSError as exc:
            self._failure = exc
            raise
        self._written += len(self._pending)
        self._pending = []

    def __getstate__(self) -> dict:
        return {"path": self._path}  # a copy (Ray pickles the searcher) reopens the file; it never writes here

    def __setstate__(self, state: dict) -> None:
        self.__init__(state["path"])


class BatchedJournalStorage(JournalStorage):
    """Optuna's journal storage over a `BatchedJournal`; `flush()` makes every record so far durable."""

    def __init__(self, path: str | Path):
        self.journal = BatchedJournal(path)
        super().__init__(self.journal)

    def flush(self) -> None:
        self.journal.flush()
