"""A run folder (or a table being built) is worked on by one process at a time: an exclusive lock held while a
search runs or resumes, or while a table is built.

The kernel releases the lock when its process ends, however it ends, so a run killed with SIGKILL never leaves a
stale lock to wait for."""
from __future__ import annotations

import contextlib
import datetime as dt
import fcntl
import os
import socket
from collections.abc import Iterator
from pathlib import Path

from nasbench.errors import SettingError

LOCK_FILE = ".run.lock"


def run_lock(run_dir: Path) -> contextlib.AbstractContextManager[None]:
    """Hold `run_dir`'s lock; SettingError naming the holder when another process holds it."""
    return exclusive(run_dir / LOCK_FILE, f"{run_dir} is being run", "resume")


def table_lock(table: Path) -> contextlib.AbstractContextManager[None]:
    """Hold the lock of the table file `table` (a hidden file beside it) while it is built."""
    return exclusive(table.with_name(f".{table.name}.lock"), f"{table} is being built", "out")


@contextlib.contextmanager
def exclusive(path: Path, busy: str, field: str) -> Iterator[None]:
    """Hold an exclusive lock on the file `path`, writing the holder into it; SettingError for `field`, saying
    "<busy> by <holder>", when another process holds it."""
    with open(path, "a+") as handle:
        try:
            fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            handle.seek(0)
            holder = handle.read().strip() or "another process"
            raise SettingError(f"{busy} by {holder}; wait for it to finish or stop it first", field) from None
        handle.seek(0)
        handle.truncate()
        started = dt.datetime.now(dt.timezone.utc).isoformat(timespec="seconds")
        handle.write(f"pid {os.getpid()} on {socket.gethostname()} since {started}\n")
        handle.flush()
        try:
            yield
        finally:
            handle.truncate(0)
