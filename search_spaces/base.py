"""Helpers shared by the space families: feature shapes through stages, and merging repeated stages."""
from __future__ import annotations

from nasbench.blocks import Shape, Tally
from nasbench.gene import GenomeError
from nasbench.genome import Stage


def advance(x: Shape, stage: Stage) -> Shape | None:
    """The feature shape after `stage`, or None where the stage cannot take `x` (e.g. the map would collapse)."""
    t = Tally()
    try:
        for j in range(stage.depth):
            stride = stage.stride if j == 0 else 1
            stage.block.check(x.c, stride, "")
            x = stage.block.cost_with_attn(t, x, stride)
    except GenomeError:
        return None
    return x


def advance_all(x: Shape, stages) -> Shape | None:
    for stage in stages:
        x = advance(x, stage) if x is not None else None
    return x


def merge_repeats(stages: list[Stage]) -> tuple[Stage, ...]:
    """Adjacent stages of the same block where the later one keeps the resolution, written as one deeper stage
    (the same network: a stage's first block takes its stride, the others stride 1)."""
    out: list[Stage] = []
    for stage in stages:
        if out and out[-1].block == stage.block and stage.stride == 1:
            out[-1] = Stage(stage.block, out[-1].depth + stage.depth, out[-1].stride)
        else:
            out.append(stage)
    return tuple(out)
