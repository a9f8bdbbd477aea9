"""A run folder is run by one process at a time: an exclusive lock held while a search runs or resumes.

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


@contextlib.contextmanager
def run_lock(run_dir: Path) -> Iterator[None]:
    """Hold `run_dir`'s lock; SettingError naming the holder when another process holds it."""
    path = run_dir / LOCK_FILE
    with open(path, "a+") as handle:
        try:
            fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            handle.seek(0)
            holder = handle.read().strip() or "another process"
            raise SettingError(f"{run_dir} is being run by {holder}; wait for it to finish or stop it first",
                               "resume") from None
        handle.seek(0)
        handle.truncate()
        started = dt.datetime.now(dt.timezone.utc).isoformat(timespec="seconds")
        handle.write(f"pid {os.getpid()} on {socket.gethostname()} since {started}\n")
        handle.flush()
        try:
            yield
        finally:
            handle.truncate(0)
