"""Search objectives and their directions."""
from __future__ import annotations

OBJECTIVES = {"accuracy": "max", "flops": "min", "params": "min", "latency": "min"}
RESULT_KEYS = {"accuracy": "accuracy", "flops": "flops", "params": "params", "latency": "latency_ms"}


def parse_objectives(text: str) -> dict[str, str]:
    """'accuracy,flops' -> {'accuracy': 'max', 'flops': 'min'}; ValueError with the fix on bad input."""
    names = [n.strip() for n in text.split(",") if n.strip()]
    unknown = [n for n in names if n not in OBJECTIVES]
    if unknown:
        raise ValueError(f"unknown objective {unknown[0]!r}; choose from {', '.join(OBJECTIVES)}")
    if len(set(names)) != len(names):
        raise ValueError(f"objective listed twice in {text!r}")
    if "accuracy" not in names or len(names) < 2:
        raise ValueError("objectives must include accuracy and at least one cost (flops, params, latency)")
    return {n: OBJECTIVES[n] for n in names}
