"""Errors the library raises for bad settings: the message is in the library's terms, and `setting` names the
field at fault, so a command-line front end can add which flag to change."""
from __future__ import annotations

import difflib
from collections.abc import Iterable, Iterator


class SettingError(ValueError):
    """A setting (`settings.<setting>`, or the argument of that name) that cannot work as given."""

    def __init__(self, message: str, setting: str):
        super().__init__(message)
        self.setting = setting


def error_chain(error: BaseException) -> Iterator[BaseException]:
    """`error`, then what it was raised from or while handling, innermost last (what libraries wrap)."""
    seen: BaseException | None = error
    while seen is not None:
        yield seen
        seen = seen.__cause__ or seen.__context__


def did_you_mean(kind: str, name: str, known: Iterable[str], plural: str | None = None) -> str:
    """"unknown space 'resnet_famly'; did you mean resnet_family? (spaces: ...)"."""
    known = sorted(known)
    close = difflib.get_close_matches(name, known, n=1)
    hint = f"did you mean {close[0]}? " if close else ""
    return f"unknown {kind} {name!r}; {hint}({plural or kind + 's'}: {', '.join(known)})"
