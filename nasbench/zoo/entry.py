"""A zoo entry: a genome plus the reference (torchvision, timm or the paper) it reproduces."""
from __future__ import annotations

import dataclasses
from typing import Any

from torch import nn

from nasbench.genome import Genome


@dataclasses.dataclass(frozen=True)
class Reference:
    """Where the exact counts come from.

    source "torchvision"/"timm": the named model built with no weights (with `kwargs`) must match params and
    fvcore FLOPs exactly. source "paper": `params` is the paper's count (None where it gives none);
    `note` lists unavoidable differences.
    """

    source: str
    model: str = ""
    kwargs: tuple[tuple[str, Any], ...] = ()
    params: int | None = None
    citation: str = ""
    note: str = ""

    @property
    def label(self) -> str:
        if not self.model:
            return f"{self.source} ({self.citation})"
        args = ",".join(f"{k}={v}" for k, v in _flat(dict(self.kwargs)).items())
        return f"{self.source}:{self.model}" + (f"({args})" if args else "")


def _flat(kwargs: dict) -> dict:
    out = {}
    for key, value in kwargs.items():
        out.update(_flat(value) if isinstance(value, dict) else {key: value})
    return out


@dataclasses.dataclass(frozen=True)
class ZooEntry:
    name: str
    genome: Genome
    reference: Reference
    family: str


def reference_model(ref: Reference) -> nn.Module:
    """Build the torchvision/timm twin with no weights."""
    kwargs = dict(ref.kwargs)
    if ref.source == "torchvision":
        import torchvision

        return torchvision.models.get_model(ref.model, weights=None, **kwargs)
    if ref.source == "timm":
        import timm

        return timm.create_model(ref.model, pretrained=False, **kwargs)
    raise ValueError(f"reference {ref.label} has no model to build")
