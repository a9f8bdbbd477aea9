"""Shared command-line plumbing: one-line errors with exit code 2."""
from __future__ import annotations

import argparse
import sys
from typing import NoReturn


class UsageError(Exception):
    """Bad input from the user: printed as one line, exit code 2."""


def fail(message: str) -> NoReturn:
    print(f"error: {message}", file=sys.stderr)
    raise SystemExit(2)


def fail_from(exc: BaseException) -> NoReturn:
    """`fail` with the first line of an expected error (a KeyError's text, not its repr)."""
    message = exc.args[0] if isinstance(exc, KeyError) and exc.args else exc
    text = str(message).strip()
    fail(text.splitlines()[0] if text else type(exc).__name__)


class OneLineParser(argparse.ArgumentParser):
    """argparse whose errors are one line (no usage block), exit code 2."""

    def error(self, message: str) -> NoReturn:
        fail(f"{message} (see {self.prog} --help)")


def parser(prog: str, description: str) -> argparse.ArgumentParser:
    return OneLineParser(prog=f"python -m runners.{prog}", description=description,
                         formatter_class=argparse.ArgumentDefaultsHelpFormatter)
