"""Atomic file writes: write beside the target, then rename over it, so readers never see half a file."""
from __future__ import annotations

import contextlib
import datetime as dt
import json
import os
import secrets
from collections.abc import Iterator
from pathlib import Path

import pandas as pd

from nasbench.errors import SettingError


@contextlib.contextmanager
def atomic_path(path: str | os.PathLike) -> Iterator[Path]:
    """Yield a temporary path in the target's folder; on success it replaces `path` atomically."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = _fresh_file(path)
    try:
        yield Path(tmp)
        os.replace(tmp, path)
    finally:
        if os.path.exists(tmp):
            os.unlink(tmp)


def write_text(path: str | os.PathLike, text: str) -> None:
    with atomic_path(path) as tmp:
        tmp.write_text(text)


def writable_folder(folder: str | os.PathLike) -> Path:
    """`folder`, created if missing; SettingError (setting `results_dir`) when it cannot be created or written."""
    folder = Path(folder)
    try:
        folder.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise SettingError(f"cannot create results folder {folder}: {exc.strerror or exc}; choose a writable "
                           "results folder", "results_dir") from None
    if not os.access(folder, os.W_OK):
        raise SettingError(f"results folder {folder} is not writable; choose a writable results folder",
                           "results_dir")
    return folder


def new_run_folder(parent: str | os.PathLike) -> Path:
    """A new `<parent>/<YYYYmmdd-HHMMSS>-<hex>` folder; an existing folder is never reused."""
    parent = writable_folder(parent)
    stamp = dt.datetime.now().strftime("%Y%m%d-%H%M%S")
    while True:
        folder = parent / f"{stamp}-{secrets.token_hex(3)}"
        try:
            folder.mkdir()
            return folder
        except FileExistsError:
            continue


def _fresh_file(path: Path) -> Path:
    """A new empty file beside `path`, created with the user's umask (mkstemp's 0600 would hide results)."""
    while True:
        tmp = path.parent / f".{path.name}.{secrets.token_hex(4)}{path.suffix}"
        try:
            os.close(os.open(tmp, os.O_CREAT | os.O_EXCL | os.O_WRONLY, 0o666))
            return tmp
        except FileExistsError:
            continue


def read_table(path: Path, columns: tuple[str, ...], what: str) -> pd.DataFrame:
    """The CSV table in the file `path`; ValueError naming the file when it is unreadable or lacks one of `columns`
    ("<path> is not <what>: it has no <column> column")."""
    try:
        table = pd.read_csv(path)
    except ValueError as exc:  # pandas' ParserError and EmptyDataError, bad bytes
        raise ValueError(f"{path} is not a readable table: {exc}") from None
    missing = [name for name in columns if name not in table.columns]
    if missing:
        raise ValueError(f"{path} is not {what}: it has no {missing[0]} column")
    return table


def read_json(path: Path, error: type[Exception]) -> object:
    """The JSON document in the file `path`; `error` naming the file when it is not valid JSON."""
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except (ValueError, UnicodeDecodeError) as exc:
        raise error(f"{path} is not valid JSON ({exc})") from None
