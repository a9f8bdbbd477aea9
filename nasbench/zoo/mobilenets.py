"""MobileNets: v1 (depthwise-separable convs) and v2 (inverted residuals with linear bottlenecks)."""
from __future__ import annotations

from nasbench.blocks.conv import ConvGene
from nasbench.blocks.mobile import DepthwiseSeparableGene, MBConvGene
from nasbench.genome import Genome, Stage
from nasbench.head import Head
from nasbench.zoo.entry import Reference, ZooEntry

FAMILY = "mobilenet"
V1_STAGES = ((64, 1, 1), (128, 2, 2), (256, 2, 2), (512, 6, 2), (1024, 2, 2))  # channels, depth, stride
V2_STAGES = ((1, 16, 1, 1), (6, 24, 2, 2), (6, 32, 3, 2), (6, 64, 4, 2), (6, 96, 3, 1), (6, 160, 3, 2),
             (6, 320, 1, 1))  # expansion t, channels c, depth n, stride s (Sandler et al. 2018, Table 2)


def mobilenet_v1(act: str = "relu6") -> Genome:
    """Howard et al. 2017 as timm builds it: 3x3/2 stem, 13 depthwise-separable layers, pool, FC."""
    stem = (Stage(ConvGene(channels=32, kernel=3, act=act), 1, 2),)
    stages = tuple(Stage(DepthwiseSeparableGene(channels=c, act=act), d, s) for c, d, s in V1_STAGES)
    return Genome(stem=stem, stages=stages)


def mobilenet_v2() -> Genome:
    """Sandler et al. 2018 as torchvision builds it: ReLU6, a last 1x1 conv to 1280, dropout 0.2."""
    stem = (Stage(ConvGene(channels=32, kernel=3, act="relu6"), 1, 2),)
    stages = tuple(Stage(MBConvGene(channels=c, expansion=t, act="relu6"), n, s) for t, c, n, s in V2_STAGES)
    return Genome(stem=stem, stages=stages, head=Head(conv=1280, act="relu6", dropout=0.2))


def entries() -> list[ZooEntry]:
    return [
        ZooEntry("mobilenet_v1", mobilenet_v1(), Reference(
            "timm", "mobilenetv1_100", note="timm's MobileNet v1 uses ReLU6 (the paper: ReLU; same counts)"), FAMILY),
        ZooEntry("mobilenet_v2", mobilenet_v2(), Reference("torchvision", "mobilenet_v2"), FAMILY),
    ]
