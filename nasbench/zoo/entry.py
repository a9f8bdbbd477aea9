"""A zoo entry: a genome plus the reference (torchvision, timm or the paper) it reproduces."""
from __future__ import annotations

import dataclasses
import re
from typing import Any

from torch import nn

from nasbench.genome import Genome


@dataclasses.dataclass(frozen=True)
class Reference:
    """Where the exact counts come from.

    source "torchvision"/"timm": the named model built with no weights (with `kwargs`) must match params and
    fvcore FLOPs exactly; only such a match is called exact. source "paper": `stated` is the parameter count as the
    paper writes it ("0.27M", "60,000"; empty where it gives none), `counted` our count of the paper's layers worked
    out from its tables (it pins the genome; it is not an independent check); `note` lists unavoidable differences.
    """

    source: str
    model: str = ""
    kwargs: tuple[tuple[str, Any], ...] = ()
    stated: str = ""
    counted: int | None = None
    citation: str = ""
    note: str = ""

    def __post_init__(self) -> None:
        if self.stated:
            stated_figure(self.stated)  # a figure that does not read fails when the zoo is defined

    @property
    def label(self) -> str:
        if not self.model:
            return f"{self.source} ({self.citation})"
        args = ",".join(f"{k}={v}" for k, v in _flat(dict(self.kwargs)).items())
        return f"{self.source}:{self.model}" + (f"({args})" if args else "")


STATED_UNITS = {"": 1, "K": 1_000, "M": 1_000_000, "G": 1_000_000_000}


def stated_figure(text: str) -> tuple[int, int]:
    """A paper's figure ("0.27M", "1.4M", "60,000") as (value, rounding step): "0.27M" -> (270_000, 10_000);
    a plain number's trailing zeros are its step ("60,000" -> 10_000), a unit's last digit is ("60M" -> 1M)."""
    match = re.fullmatch(r"(\d+(?:,\d{3})*)(?:\.(\d+))?([KMG]?)", text)
    if not match:
        raise ValueError(f"stated figure {text!r} is not like 0.27M, 1.4M or 60,000")
    whole, decimals, unit = match.groups()
    scale = STATED_UNITS[unit]
    digits = whole.replace(",", "") + (decimals or "")
    step = scale // 10 ** len(decimals or "")
    if not decimals and not unit:
        zeros = len(digits) - len(digits.rstrip("0"))
        step *= 10 ** min(zeros, len(digits) - 1)
    return int(digits) * scale // 10 ** len(decimals or ""), step


def _flat(kwargs: dict) -> dict:
    out = {}
    for key, value in kwargs.items():
        out.update(_flat(value) if isinstance(value, dict) else {key: value})
    return out


@dataclasses.dataclass(frozen=True)
class ZooEntry:
    """An architecture of the zoo. `variant_of` names the entry a variant varies when the variant is kept only to
    check a paper's count (LeNet-5's C3 table, ResNet v1's strides): no search space adapts it."""

    name: str
    genome: Genome
    reference: Reference
    family: str
    variant_of: str = ""


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
