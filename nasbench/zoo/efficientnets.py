"""EfficientNet-B0 and its compound-scaled B1..B7 (Tan & Le 2019), expressed as B0 plus a `Scaling`."""
from __future__ import annotations

from nasbench.blocks.conv import ConvGene
from nasbench.blocks.mobile import DepthwiseSeparableGene, MBConvGene
from nasbench.genome import Genome, Scaling, Stage
from nasbench.head import Head
from nasbench.zoo.entry import Reference, ZooEntry

FAMILY = "efficientnet"
B0_STAGES = ((6, 24, 3, 2, 2), (6, 40, 5, 2, 2), (6, 80, 3, 3, 2), (6, 112, 5, 3, 1), (6, 192, 5, 4, 2),
             (6, 320, 3, 1, 1))  # expansion, channels, kernel, repeats, stride of the MBConv stages (Table 1)
# name: (width, depth, resolution) -- the official coefficients
COEFFICIENTS = {
    "efficientnet_b0": (1.0, 1.0, 224),
    "efficientnet_b1": (1.0, 1.1, 240),
    "efficientnet_b2": (1.1, 1.2, 260),
    "efficientnet_b3": (1.2, 1.4, 300),
    "efficientnet_b4": (1.4, 1.8, 380),
    "efficientnet_b5": (1.6, 2.2, 456),
    "efficientnet_b6": (1.8, 2.6, 528),
    "efficientnet_b7": (2.0, 3.1, 600),
}


def efficientnet_b0_genome(scaling: Scaling = Scaling(), resolution: int = 224, act: str = "silu",
                           se: float = 0.25) -> Genome:
    """The B0 baseline (as timm builds it) under `scaling`: the starting point of compound scaling."""
    stem = (Stage(ConvGene(channels=32, kernel=3, act=act), 1, 2),)
    first = Stage(DepthwiseSeparableGene(channels=16, kernel=3, act=act, se=se, pw_act=False, skip=True), 1, 1)
    stages = (first,) + tuple(Stage(MBConvGene(channels=c, expansion=e, kernel=k, se=se, act=act), n, s)
                              for e, c, k, n, s in B0_STAGES)
    return Genome(stem=stem, stages=stages, head=Head(conv=1280, act=act, dropout=0.2), resolution=resolution,
                  scaling=scaling)


def efficientnet_genome(name: str) -> Genome:
    """One of efficientnet_b0..b7: B0 with the official width/depth coefficients and resolution."""
    width, depth, resolution = COEFFICIENTS[name]
    return efficientnet_b0_genome(Scaling(width=width, depth=depth), resolution)


def entries() -> list[ZooEntry]:
    return [ZooEntry(name, efficientnet_genome(name), Reference("timm", name), FAMILY) for name in COEFFICIENTS]
