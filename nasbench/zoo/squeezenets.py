"""SqueezeNet (Iandola et al. 2016) as torchvision builds it: each Fire module is data, a 1x1 squeeze conv stage and
a `branch` of 1x1 and 3x3 expand convs, concatenated."""
from __future__ import annotations

from nasbench.blocks.branch import BranchGene
from nasbench.blocks.conv import ConvGene, PoolGene
from nasbench.genome import Genome, Stage
from nasbench.head import Head
from nasbench.zoo.entry import Reference, ZooEntry

FAMILY = "squeezenet"
# version: stem (channels, kernel), then Fire modules (squeeze, expand) with "pool" where a 3x3/2 max pool stands
VERSIONS = {
    "1_0": ((96, 7), ((16, 64), (16, 64), (32, 128), "pool", (32, 128), (48, 192), (48, 192), (64, 256), "pool",
                      (64, 256))),
    "1_1": ((64, 3), ((16, 64), (16, 64), "pool", (32, 128), (32, 128), "pool", (48, 192), (48, 192), (64, 256),
                      (64, 256))),
}


def _conv(channels: int, kernel: int) -> ConvGene:
    """A conv with a bias, then ReLU (SqueezeNet has no BN)."""
    return ConvGene(channels=channels, kernel=kernel, bias=True, norm="none")


def fire(squeeze: int, expand: int) -> tuple[Stage, Stage]:
    """A Fire module: 1x1 squeeze conv, then 1x1 and 3x3 expand convs side by side, concatenated."""
    return Stage(_conv(squeeze, 1)), Stage(BranchGene(branches=((_conv(expand, 1),), (_conv(expand, 3),))))


def squeezenet(version: str = "1_0", small_input: bool = False) -> Genome:
    """torchvision's squeezenet1_0 / 1_1: stem conv, ceil-mode 3x3/2 max pools, Fire modules, a 1x1 conv to the
    classes with ReLU, global average pooling (dropout 0.5 before it, no parameters). `small_input`: the stem keeps
    the resolution (stride 1, padded) and the pools are padded, for inputs of 32x32 and less."""
    (channels, kernel), layout = VERSIONS[version]
    stem = ConvGene(channels=channels, kernel=kernel, padding=-1 if small_input else 0, bias=True, norm="none")
    stages = [Stage(stem, 1, 1 if small_input else 2)]
    for part in ("pool", *layout):
        pool = PoolGene(mode="max", kernel=3, padding=1 if small_input else 0, ceil_mode=True)
        stages += ([Stage(pool, 1, 2)] if part == "pool"
                   else list(fire(*part)))
    return Genome(stages=tuple(stages), head=Head(classifier="conv"))


def entries() -> list[ZooEntry]:
    return [ZooEntry(f"squeezenet{v}", squeezenet(v), Reference("torchvision", f"squeezenet{v}"), FAMILY)
            for v in VERSIONS]
