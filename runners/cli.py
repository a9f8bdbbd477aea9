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


class OneLineParser(argparse.ArgumentParser):
    """argparse whose errors are one line (no usage block), exit code 2."""

    def error(self, message: str) -> NoReturn:
        fail(f"{message} (see {self.prog} --help)")


def parser(prog: str, description: str) -> argparse.ArgumentParser:
    return OneLineParser(prog=f"python -m runners.{prog}", description=description,
                         formatter_class=argparse.ArgumentDefaultsHelpFormatter)
