"""ShuffleNets: v1 (Zhang et al. 2017, pointwise group convs + channel shuffle) and v2 (Ma et al. 2018)."""
from __future__ import annotations

from nasbench.blocks.conv import ConvGene, PoolGene
from nasbench.blocks.shuffle import ShuffleV1Gene, ShuffleV2Gene
from nasbench.genome import Genome, Stage
from nasbench.head import Head
from nasbench.zoo.entry import Reference, ZooEntry

FAMILY = "shufflenet"
V1_G3_STAGES = ((240, 4), (480, 8), (960, 4))  # ShuffleNet 1x, g=3 (Table 1): output channels, units
V2_X1_STAGES = ((116, 4), (232, 8), (464, 4))  # torchvision shufflenet_v2_x1_0


def shuffle_stem(channels: int = 24) -> tuple[Stage, ...]:
    """3x3/2 conv-BN-ReLU + 3x3/2 max pool (both versions)."""
    return (Stage(ConvGene(channels=channels, kernel=3), 1, 2), Stage(PoolGene(mode="max", kernel=3, padding=1), 1, 2))


def shufflenet_v1(groups: int = 3, stages=V1_G3_STAGES) -> Genome:
    """The first unit of the network does not group its first pointwise conv (24 input channels), so stage 2 is
    written as that unit followed by the remaining ones."""
    (first_chans, first_depth), *rest = stages
    body = [Stage(ShuffleV1Gene(channels=first_chans, groups=groups, group_input=False), 1, 2),
            Stage(ShuffleV1Gene(channels=first_chans, groups=groups), first_depth - 1, 1)]
    body += [Stage(ShuffleV1Gene(channels=c, groups=groups), n, 2) for c, n in rest]
    return Genome(stem=shuffle_stem(), stages=tuple(body))


def shufflenet_v2(stages=V2_X1_STAGES, last: int = 1024) -> Genome:
    """torchvision's ShuffleNetV2: conv5 1x1 conv-BN-ReLU in the head, global mean, FC."""
    body = tuple(Stage(ShuffleV2Gene(channels=c), n, 2) for c, n in stages)
    return Genome(stem=shuffle_stem(), stages=body, head=Head(conv=last, pool="mean"))


V1_NOTE = (
    "ShuffleNet 1x (g=3) at 224: stem 3x3/2 conv 24 + 3x3/2 max pool; stages of 240/480/960 channels with 4/8/4 "
    "units, bottleneck = output/4, first unit's first 1x1 conv ungrouped; global average pool + FC 1000 (with bias; "
    "Megvii's code drops it). The paper calls its 1x models ~140 MFLOPs (multiply-adds of convs and FC; Table 1 "
    "lists 137M for g=3) and gives no parameter count. Ours: 137,460,672 conv+FC multiply-adds and 1,865,728 params "
    "(1,864,728 without the FC bias), equal to Megvii's ShuffleNetV1 code; fvcore adds 2 x numel per BatchNorm and "
    "the global pool's input: 143,505,312 FLOPs. BN and the channel-shuffle placement (after the first 1x1 conv-BN-"
    "ReLU) follow Megvii's code."
)


def entries() -> list[ZooEntry]:
    return [
        ZooEntry("shufflenet_v1_g3", shufflenet_v1(), Reference(
            "paper", citation="Zhang et al. 2017, ShuffleNet, Table 1 (1x, g=3)", note=V1_NOTE), FAMILY),
        ZooEntry("shufflenet_v2_x1_0", shufflenet_v2(), Reference("torchvision", "shufflenet_v2_x1_0"), FAMILY),
    ]
