"""Xception (Chollet 2017) at 299x299, as timm's `legacy_xception` builds it."""
from __future__ import annotations

from nasbench.blocks.conv import ConvGene
from nasbench.blocks.xception import SepConvGene, XceptionGene
from nasbench.genome import Genome, Stage
from nasbench.zoo.entry import Reference, ZooEntry

FAMILY = "xception"


def xception(middle_blocks: int = 8) -> Genome:
    """Entry flow (stem + 3 strided blocks), middle flow (8 x 3 separable convs), exit flow (strided block,
    two separable conv-BN-ReLU layers), global average pool, FC."""
    stem = (Stage(ConvGene(channels=32, kernel=3, padding=0), 1, 2),
            Stage(ConvGene(channels=64, kernel=3, padding=0), 1, 1))
    stages = (
        Stage(XceptionGene(channels=128, reps=2, start_with_relu=False), 1, 2),
        Stage(XceptionGene(channels=256, reps=2), 1, 2),
        Stage(XceptionGene(channels=728, reps=2), 1, 2),
        Stage(XceptionGene(channels=728, reps=3), middle_blocks, 1),
        Stage(XceptionGene(channels=1024, reps=2, grow_first=False), 1, 2),
        Stage(SepConvGene(channels=1536), 1, 1),
        Stage(SepConvGene(channels=2048), 1, 1),
    )
    return Genome(stem=stem, stages=stages, resolution=299)


def entries() -> list[ZooEntry]:
    return [ZooEntry("xception", xception(), Reference("timm", "legacy_xception"), FAMILY)]
