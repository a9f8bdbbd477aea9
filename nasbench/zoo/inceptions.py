"""Inception family: GoogLeNet (Inception v1) and Inception-v3, as torchvision builds them (no aux heads)."""
from __future__ import annotations

from nasbench.blocks.conv import ConvGene, PoolGene
from nasbench.blocks.inception import (
    InceptionAGene,
    InceptionBGene,
    InceptionCGene,
    InceptionDGene,
    InceptionEGene,
    InceptionV1Gene,
)
from nasbench.genome import Genome, Stage
from nasbench.head import Head
from nasbench.zoo.entry import Reference, ZooEntry

FAMILY = "inception"
NO_AUX = (("aux_logits", False), ("init_weights", False))
V1_WIDTHS = ("ch1x1", "ch3x3red", "ch3x3", "ch5x5red", "ch5x5", "pool_proj")
# GoogLeNet modules 3a..5b: 1x1, 3x3 reduce, 3x3, 5x5 reduce, 5x5, pool proj (Szegedy et al. 2015, Table 1)
GOOGLENET_MODULES = {
    "3a": (64, 96, 128, 16, 32, 32), "3b": (128, 128, 192, 32, 96, 64),
    "4a": (192, 96, 208, 16, 48, 64), "4b": (160, 112, 224, 24, 64, 64), "4c": (128, 128, 256, 24, 64, 64),
    "4d": (112, 144, 288, 32, 64, 64), "4e": (256, 160, 320, 32, 128, 128),
    "5a": (256, 160, 320, 32, 128, 128), "5b": (384, 192, 384, 48, 128, 128),
}


def _max_pool(kernel: int = 3, ceil_mode: bool = True) -> Stage:
    return Stage(PoolGene(mode="max", kernel=kernel, ceil_mode=ceil_mode), 1, 2)


def googlenet(kernel5: int = 3) -> Genome:
    """torchvision's GoogLeNet; kernel5=5 gives the paper's 5x5 branch (torchvision keeps a 3x3 there)."""
    stem = (Stage(ConvGene(channels=64, kernel=7), 1, 2), _max_pool(),
            Stage(ConvGene(channels=64, kernel=1)), Stage(ConvGene(channels=192, kernel=3)), _max_pool())

    def modules(*names: str) -> list[Stage]:
        return [Stage(InceptionV1Gene(**dict(zip(V1_WIDTHS, GOOGLENET_MODULES[n])), kernel=kernel5)) for n in names]

    stages = (*modules("3a", "3b"), _max_pool(), *modules("4a", "4b", "4c", "4d", "4e"), _max_pool(kernel=2),
              *modules("5a", "5b"))
    return Genome(stem=stem, stages=stages, head=Head(dropout=0.2))


def inception_v3() -> Genome:
    """Szegedy et al. 2016 (torchvision): unpadded 3x3 stem, 3xA, B, 4xC, D, 2xE at 299x299."""
    stem = (Stage(ConvGene(channels=32, kernel=3, padding=0), 1, 2), Stage(ConvGene(channels=32, kernel=3, padding=0)),
            Stage(ConvGene(channels=64, kernel=3)), _max_pool(ceil_mode=False),
            Stage(ConvGene(channels=80, kernel=1)), Stage(ConvGene(channels=192, kernel=3, padding=0)),
            _max_pool(ceil_mode=False))
    stages = (Stage(InceptionAGene(pool_features=32)), Stage(InceptionAGene(pool_features=64), 2),
              Stage(InceptionBGene(), 1, 2),
              Stage(InceptionCGene(channels_7x7=128)), Stage(InceptionCGene(channels_7x7=160), 2),
              Stage(InceptionCGene(channels_7x7=192)),
              Stage(InceptionDGene(), 1, 2), Stage(InceptionEGene(), 2))
    return Genome(stem=stem, stages=stages, head=Head(dropout=0.5), resolution=299)


def entries() -> list[ZooEntry]:
    return [
        ZooEntry("googlenet", googlenet(), Reference(
            "torchvision", "googlenet", NO_AUX,
            note="torchvision's 3x3 '5x5' branch (pytorch/vision#906); no auxiliary classifiers; transform_input "
                 "only rescales the input and changes no count"), FAMILY),
        ZooEntry("googlenet_paper", googlenet(kernel5=5), Reference(
            "paper", citation="Szegedy et al. 2015, Going Deeper with Convolutions, Table 1",
            note="the paper's 5x5 third branch, with torchvision's BN after every conv and no auxiliary "
                 "classifiers; the paper gives no exact parameter count"), FAMILY),
        ZooEntry("inception_v3", inception_v3(), Reference("torchvision", "inception_v3", NO_AUX,
                                                           note="no auxiliary classifier"), FAMILY),
    ]
