"""Shared command-line plumbing: one-line errors with exit code 2, options whose default and help come from the
library's settings dataclasses, and "did you mean" for misspelled names."""
from __future__ import annotations

import argparse
import logging
import math
import os
import sys
from collections.abc import Iterable
from typing import Any, NoReturn

from nasbench.config import describe
from nasbench.errors import SettingError, did_you_mean

MAX_LINE = 1000  # an error line is cut here (it may quote a large input back)


class UsageError(Exception):
    """Bad input from the user: printed as one line, exit code 2."""


def fail(message: str, code: int = 2) -> NoReturn:
    """One `error:` line on stderr (cut at MAX_LINE), then exit: 2 for bad input, 1 when the run itself failed."""
    text = str(message)
    print(f"error: {text if len(text) <= MAX_LINE else text[:MAX_LINE] + ' ...'}", file=sys.stderr)
    raise SystemExit(code)


def quiet_ray() -> None:
    """The console is the runner's: Ray's progress tables and snapshot warnings off, and a failing trial (recorded
    with its reason in the trials table) printed without Ray's traceback."""
    os.environ.setdefault("RAY_AIR_NEW_OUTPUT", "0")
    os.environ.setdefault("TUNE_WARN_EXCESSIVE_EXPERIMENT_CHECKPOINT_SYNC_THRESHOLD_S", "0")  # one per trial
    for name in ("ray.tune", "ray.train"):
        logging.getLogger(name).setLevel(logging.CRITICAL)


def flag(setting: str) -> str:
    """The command-line flag of a settings field: max_flops -> --max-flops."""
    return "--" + setting.replace("_", "-")


def fail_from(exc: BaseException) -> NoReturn:
    """`fail` with the first line of an expected error (a KeyError's text, not its repr); a library `SettingError`
    gets the flag that changes the setting at fault."""
    message = exc.args[0] if isinstance(exc, KeyError) and exc.args else exc
    text = str(message).strip()
    line = text.splitlines()[0] if text else type(exc).__name__
    if isinstance(exc, SettingError) and flag(exc.setting) not in line:
        line += f" ({flag(exc.setting)})"
    fail(line)


def choice(kind: str, known: Iterable[str]):
    """An argparse type accepting one of `known`, with "did you mean" for a misspelling."""
    known = tuple(known)

    def parse(text: str) -> str:
        if text not in known:
            raise argparse.ArgumentTypeError(did_you_mean(kind, text, known))
        return text
    parse.__name__ = kind
    return parse


def add_setting(group, settings_class: type, name: str, *, help: str | None = None, **kwargs: Any) -> None:
    """An option for field `name` of `settings_class`, its default and help taken from the field."""
    default, text = describe(settings_class, name)
    if isinstance(default, tuple):  # lists are written comma-separated (argparse parses a text default with `type`)
        default = ",".join(map(str, default))
    group.add_argument(flag(name), dest=name, default=default, help=help or text, **kwargs)


def positive_float(text: str) -> float:
    """An argparse type: a finite number above zero."""
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a number") from None
    if not math.isfinite(value) or value <= 0:
        raise argparse.ArgumentTypeError(f"{text!r} must be a positive number")
    return value


def add_data_options(group, settings_class: type) -> None:
    """The dataset and training options every training command shares, from `settings_class`'s fields."""
    from nasbench.data import DATASETS

    add_setting(group, settings_class, "dataset", type=choice("dataset", DATASETS))
    add_setting(group, settings_class, "data_dir")
    add_setting(group, settings_class, "resolution", type=int)
    add_setting(group, settings_class, "limit", type=int)
    add_setting(group, settings_class, "epochs", type=int)
    add_setting(group, settings_class, "batch_size", type=int)
    add_setting(group, settings_class, "lr", type=positive_float)


def add_cluster_options(group, settings_class: type) -> None:
    """Where trials run (locally or on a Ray cluster) and with what, from `settings_class`'s fields."""
    add_setting(group, settings_class, "cpus_per_trial", type=positive_float)
    add_setting(group, settings_class, "gpus_per_trial", type=float)
    add_setting(group, settings_class, "concurrency", type=int)
    add_setting(group, settings_class, "address")
    add_setting(group, settings_class, "storage_path")
    add_setting(group, settings_class, "max_failures", type=int)


class OneLineParser(argparse.ArgumentParser):
    """argparse whose errors are one line (no usage block), exit code 2."""

    def error(self, message: str) -> NoReturn:
        fail(f"{message} (see {self.prog} --help)")


class HelpFormatter(argparse.ArgumentDefaultsHelpFormatter, argparse.RawDescriptionHelpFormatter):
    """Defaults shown after each option's help; the epilog's examples kept as written."""


def parser(prog: str, description: str) -> argparse.ArgumentParser:
    return OneLineParser(prog=f"python -m runners.{prog}", description=description, formatter_class=HelpFormatter)


def given_options(argv: list[str]) -> set[str]:
    """The long options written on the command line (`--epochs 3` and `--epochs=3` both give "--epochs")."""
    return {token.split("=", 1)[0] for token in argv if token.startswith("--")}
