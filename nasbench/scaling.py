"""Resolving width/depth/resolution scaling of a genome: one pure function."""
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
    return depth if factor == 1.0 else int(math.ceil(depth * factor))


def scale_resolution(resolution: int, factor: float) -> int:
    return resolution if factor == 1.0 else int(round(resolution * factor))


def scale_gene_width(gene: Gene, factor: float) -> Gene:
    """Multiply every channel (width) field of a gene."""
    changes = {}
    for name in gene.width_fields():
        value = getattr(gene, name)
        if isinstance(value, tuple):
            changes[name] = tuple(scale_channels(v, factor) for v in value)
        else:
            changes[name] = scale_channels(value, factor)
    return dataclasses.replace(gene, **changes) if changes else gene


def resolve(genome):
    """The genome with its scaling applied and reset to identity."""
    from nasbench.genome import Scaling, Stage

    scaling = genome.scaling
    if scaling.is_identity:
        return genome
    w, d = scaling.width_factor, scaling.depth_factor

    def scaled(stage: Stage, depth_scaled: bool) -> Stage:
        depth = scale_depth(stage.depth, d) if depth_scaled and stage.block.depth_scalable else stage.depth
        return Stage(scale_gene_width(stage.block, w), depth, stage.stride)

    return dataclasses.replace(
        genome,
        stem=tuple(scaled(s, False) for s in genome.stem),
        stages=tuple(scaled(s, True) for s in genome.stages),
        head=scale_gene_width(genome.head, w),
        resolution=scale_resolution(genome.resolution, scaling.resolution_factor),
        scaling=Scaling(),
    )
