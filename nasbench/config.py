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


def settings_from_dict(cls: type, data: Any) -> Any:
    """Settings dataclass `cls` from its `dataclasses.asdict` read back from JSON (lists become tuples); ValueError
    when `data` is no object or names a setting `cls` lacks."""
    if not isinstance(data, dict):
        raise ValueError("settings are missing or not an object")
    unknown = sorted(set(data) - {field.name for field in dataclasses.fields(cls)})
    if unknown:
        raise ValueError(f"unknown settings {', '.join(unknown)}")
    return cls(**{name: tuple(value) if isinstance(value, list) else value for name, value in data.items()})
