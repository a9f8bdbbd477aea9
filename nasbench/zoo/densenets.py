"""DenseNet-BC family (Huang et al. 2017): torchvision's DenseNet-121/169/201."""
from __future__ import annotations

from nasbench.blocks.dense import DenseGene, TransitionGene
from nasbench.genome import Genome, Stage
from nasbench.head import Head
from nasbench.zoo.entry import Reference, ZooEntry
from nasbench.zoo.stems import imagenet_stem

FAMILY = "densenet"
CONFIGS = {  # name: (growth rate, layers per dense block, stem channels)
    "densenet121": (32, (6, 12, 24, 16), 64),
    "densenet169": (32, (6, 12, 32, 32), 64),
    "densenet201": (32, (6, 12, 48, 32), 64),
}


def densenet_bc(growth: int, block_layers: tuple[int, ...], stem_chans: int, bn_size: int = 4,
                compression: float = 0.5) -> Genome:
    """Dense blocks of `dense` layers separated by transitions (compression, 2x2/2 avg pool); norm5 + ReLU head."""
    stages: list[Stage] = []
    for i, layers in enumerate(block_layers):
        stages.append(Stage(DenseGene(growth=growth, bn_size=bn_size), layers, 1))
        if i < len(block_layers) - 1:
            stages.append(Stage(TransitionGene(compression=compression), 1, 2))
    return Genome(stem=imagenet_stem(stem_chans), stages=tuple(stages), head=Head(pre_act=True))


def entries() -> list[ZooEntry]:
    return [ZooEntry(name, densenet_bc(*config), Reference("torchvision", name), FAMILY)
            for name, config in CONFIGS.items()]
