"""Objectives: their names, directions and trials-table columns, and the one syntax every command accepts.

A search maximises a quality (validation `accuracy`, or a zero-cost proxy scored at initialisation: `ZERO_COST`)
and minimises one or more costs; a search whose objectives leave accuracy out trains nothing (a zero-cost search).

`accuracy,flops` and `accuracy:max,flops:min` mean the same; a direction is needed only for a column that is not
a named objective (`test_accuracy:max`)."""
from __future__ import annotations

from collections.abc import Mapping

ZERO_COST = ("synflow", "naswot", "snip", "grad_norm", "fisher")  # the proxies of nasbench.proxies, larger is better
COSTS = {"flops": "flops", "params": "params", "latency": "latency_ms"}  # cost name -> trials-table column
QUALITIES = ("accuracy", *ZERO_COST)
OBJECTIVES = {**dict.fromkeys(QUALITIES, "max"), **dict.fromkeys(COSTS, "min")}  # name -> direction
COLUMNS = {**{name: name for name in QUALITIES}, **COSTS}  # name -> trials-table column
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
    """The objectives of a search (`search_problem` says which are not)."""
    names = [part.partition(":")[0].strip() for part in str(text).split(",") if part.strip()]
    problem = search_problem(names)
    if problem:
        raise ValueError(problem)
    return tuple(parse_objectives(text))


def search_problem(names) -> str:
    """Why `names` are not a search's objectives ('' when they are): named objectives only, at least one quality
    (accuracy or a zero-cost proxy) and at least one cost."""
    unknown = [name for name in names if name not in OBJECTIVES]
    if unknown:
        return f"unknown objective {unknown[0]!r}; a search optimises {', '.join(OBJECTIVES)}"
    if not any(name in QUALITIES for name in names) or not any(name in COSTS for name in names):
        return (f"objectives must include accuracy (or a zero-cost proxy: {', '.join(ZERO_COST)}) and at least one "
                f"cost ({', '.join(COSTS)})")
    return ""


def quality(objectives) -> str:
    """The quality a search reports as its best and plots upwards: accuracy if it is an objective, else the first
    zero-cost proxy among them."""
    return "accuracy" if "accuracy" in objectives else next(name for name in objectives if name in ZERO_COST)


def as_columns(objectives: Mapping[str, str]) -> dict[str, str]:
    """Objective names -> the trials-table columns holding them (`latency` is `latency_ms`); columns pass as is."""
    return {COLUMNS.get(name, name): direction for name, direction in objectives.items()}


def format_objectives(objectives: Mapping[str, str]) -> str:
    return ",".join(f"{name}:{direction}" for name, direction in objectives.items())
