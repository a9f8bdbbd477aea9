"""Objectives: their names, directions and trials-table columns, and the one syntax every command accepts.

`accuracy,flops` and `accuracy:max,flops:min` mean the same; a direction is needed only for a column that is not
a named objective (`test_accuracy:max`)."""
from __future__ import annotations

from collections.abc import Mapping

OBJECTIVES = {"accuracy": "max", "flops": "min", "params": "min", "latency": "min"}  # name -> direction
COLUMNS = {"accuracy": "accuracy", "flops": "flops", "params": "params", "latency": "latency_ms"}  # name -> column
DIRECTIONS = ("max", "min")


def parse_objectives(text: str) -> dict[str, str]:
    """'accuracy,flops' or 'accuracy:max,flops:min' -> {'accuracy': 'max', 'flops': 'min'}; ValueError naming the
    fix on bad input."""
    out: dict[str, str] = {}
    for part in filter(None, (p.strip() for p in str(text).split(","))):
        name, sep, direction = (s.strip() for s in part.partition(":"))
        if not sep:
            if name not in OBJECTIVES:
                raise ValueError(f"objective {name!r} needs a direction ({name}:max or {name}:min); the named "
                                 f"objectives are {', '.join(OBJECTIVES)}")
            direction = OBJECTIVES[name]
        if not name or direction not in DIRECTIONS:
            raise ValueError(f"objective {part!r} is not name, name:max or name:min")
        if name in OBJECTIVES and direction != OBJECTIVES[name]:
            raise ValueError(f"objective {name} is always {OBJECTIVES[name]}imised, not {direction}imised")
        if name in out:
            raise ValueError(f"objective {name!r} given twice in {text!r}")
        out[name] = direction
    if not out:
        raise ValueError(f"no objectives in {text!r}; e.g. accuracy,flops")
    return out


def search_objectives(text: str) -> tuple[str, ...]:
    """The objectives of a search: accuracy and one or more costs, all named objectives."""
    names = [part.partition(":")[0].strip() for part in str(text).split(",") if part.strip()]
    unknown = [name for name in names if name not in OBJECTIVES]
    if unknown:
        raise ValueError(f"unknown objective {unknown[0]!r}; a search optimises {', '.join(OBJECTIVES)}")
    parsed = parse_objectives(text)
    if "accuracy" not in parsed or len(parsed) < 2:
        raise ValueError("objectives must include accuracy and at least one cost (flops, params, latency)")
    return tuple(parsed)


def as_columns(objectives: Mapping[str, str]) -> dict[str, str]:
    """Objective names -> the trials-table columns holding them (`latency` is `latency_ms`); columns pass as is."""
    return {COLUMNS.get(name, name): direction for name, direction in objectives.items()}


def format_objectives(objectives: Mapping[str, str]) -> str:
    return ",".join(f"{name}:{direction}" for name, direction in objectives.items())
