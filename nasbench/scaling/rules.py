"""EfficientNet's rounding rules for scaled width, depth and resolution (the reference implementation's)."""
from __future__ import annotations

import dataclasses
import math

from timm.layers import make_divisible

from nasbench.gene import Gene

CHANNEL_DIVISOR = 8


def scale_channels(channels: int, factor: float, divisor: int = CHANNEL_DIVISOR) -> int:
    """EfficientNet's rounding: nearest multiple of `divisor`, never more than 10% below `channels * factor`."""
    if factor == 1.0 or channels == 0:
        return channels
    return int(make_divisible(channels * factor, divisor, round_limit=0.9))


def scale_depth(depth: int, factor: float) -> int:
    """Repeats are rounded up, as in the reference implementation."""
    return depth if factor == 1.0 else math.ceil(depth * factor)


def scale_resolution(resolution: int, factor: float) -> int:
    return resolution if factor == 1.0 else round(resolution * factor)


def scale_gene_width(gene: Gene, factor: float) -> Gene:
    """Multiply every channel (width) field of a gene."""
    changes = {}
    for name in gene.width_fields():
        value = getattr(gene, name)
        if hasattr(value, "scaled_width"):  # nested genes scale themselves
            changes[name] = value.scaled_width(factor)
        elif isinstance(value, tuple):
            changes[name] = tuple(scale_channels(v, factor) for v in value)
        else:
            changes[name] = scale_channels(value, factor)
    return dataclasses.replace(gene, **changes) if changes else gene

