"""The run's Optuna journal checked before it is appended to: a torn last record (a crash mid-write) and a repeated
tail (records written twice) are dropped, after a backup; damage elsewhere is refused, naming the line.

Optuna's journal is one JSON record per line. Appending after a torn line would glue the next record onto it and
make the whole study unreadable, and a repeated `create_trial` record would bring back trials as if in flight."""
from __future__ import annotations

import dataclasses
import datetime as dt
import json
import shutil
from pathlib import Path

from nasbench import atomic


class JournalError(ValueError):
    """A journal damaged where it cannot be repaired without losing records."""


@dataclasses.dataclass(frozen=True)
class JournalCheck:
    """What is wrong with a journal's end: bytes of a torn last record, and how many records repeat earlier ones."""

    torn_bytes: int = 0
    repeated_records: int = 0

    @property
    def healthy(self) -> bool:
        return not self.torn_bytes and not self.repeated_records


def check_journal(path: Path) -> JournalCheck:
    """Inspect a journal file; JournalError (naming the file and line) for damage that is not at its end."""
    data = path.read_bytes()
    complete, _, torn = data.rpartition(b"\n")
    if not complete and torn:  # not one whole record
        complete, torn = b"", data
    lines = complete.split(b"\n") if complete else []
    for number, line in enumerate(lines, start=1):
        try:
            record = json.loads(line)
        except ValueError:
            raise JournalError(f"{path}: line {number} is not a JSON record; the journal is damaged beyond its last "
                               "record (restore a backup)") from None
        if not isinstance(record, dict) or "op_code" not in record:
            raise JournalError(f"{path}: line {number} is not an Optuna journal record")
    return JournalCheck(torn_bytes=len(torn), repeated_records=_repeated_tail(path, lines))


def _repeated_tail(path: Path, lines: list[bytes]) -> int:
    """How many records at the end repeat earlier ones. Every record of a healthy journal is unique (each names its
    trial, or carries a start time), so a repeat elsewhere than at the end is refused."""
    first_seen: dict[bytes, int] = {}
    repeats = []
    for index, line in enumerate(lines):
        if line in first_seen:
            repeats.append(index)
        else:
            first_seen[line] = index
    if not repeats:
        return 0
    if repeats != list(range(repeats[0], len(lines))):
        first = repeats[0]
        raise JournalError(f"{path}: line {first + 1} repeats line {first_seen[lines[first]] + 1}, and records follow "
                           "that are not repeats; the journal is damaged (restore a backup)")
    return len(repeats)


def repair_journal(path: Path) -> str | None:
    """Drop a torn last record and a repeated tail, keeping the original beside it; what was done, or None."""
    found = check_journal(path)
    if found.healthy:
        return None
    backup = path.with_name(f"{path.name}.{dt.datetime.now().strftime('%Y%m%d-%H%M%S')}.bak")
    shutil.copyfile(path, backup)
    data = path.read_bytes()
    lines = data[: len(data) - found.torn_bytes].split(b"\n")[:-1]
    kept = lines[: len(lines) - found.repeated_records]
    with atomic.atomic_path(path) as tmp:
        tmp.write_bytes(b"".join(line + b"\n" for line in kept))
    done = []
    if found.torn_bytes:
        done.append(f"dropped a torn last record ({found.torn_bytes} bytes)")
    if found.repeated_records:
        done.append(f"dropped {found.repeated_records} record(s) repeated at its end")
    return f"repaired {path}: {' and '.join(done)}; the original is kept as {backup.name}"
