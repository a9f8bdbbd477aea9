"""Settings dataclasses whose fields carry their help text, so front ends take defaults and help from one place."""
from __future__ import annotations

import dataclasses
from typing import Any


def setting(default: Any, help: str) -> Any:
    """A dataclass field with a default and a one-line description (read by `runners.cli.add_setting`)."""
    return dataclasses.field(default=default, metadata={"help": help})


def describe(cls: type, name: str) -> tuple[Any, str]:
    """The default and the help text of field `name` of settings class `cls`."""
    for field in dataclasses.fields(cls):
        if field.name == name:
            return field.default, field.metadata.get("help", "")
    raise KeyError(f"{cls.__name__} has no setting {name!r}")
