"""MobileNets: v1 (depthwise-separable convs), v2 (inverted residuals with linear bottlenecks) and v3 (hard-swish,
squeeze-excitation of the expanded width with a hard-sigmoid gate)."""
from __future__ import annotations

from nasbench.blocks.conv import ConvGene
from nasbench.blocks.mobile import DepthwiseSeparableGene, MBConvGene
from nasbench.genome import Genome, Stage
from nasbench.head import Head
from nasbench.zoo.entry import Reference, ZooEntry

FAMILY = "mobilenet"
V3_FAMILY = "mobilenet_v3"
# Howard et al. 2019, Tables 1 and 2 (timm's arch_def): kernel, expansion, channels, SE, activation, depth, stride;
# expansion 1 is the depthwise-separable first block
V3_BLOCKS = {
    "large": ((3, 1, 16, False, "relu", 1, 1), (3, 4, 24, False, "relu", 1, 2), (3, 3, 24, False, "relu", 1, 1),
              (5, 3, 40, True, "relu", 3, 2), (3, 6, 80, False, "hard_swish", 1, 2),
              (3, 2.5, 80, False, "hard_swish", 1, 1), (3, 2.3, 80, False, "hard_swish", 2, 1),
              (3, 6, 112, True, "hard_swish", 2, 1), (5, 6, 160, True, "hard_swish", 3, 2)),
    "small": ((3, 1, 16, True, "relu", 1, 2), (3, 4.5, 24, False, "relu", 1, 2), (3, 3.67, 24, False, "relu", 1, 1),
              (5, 4, 40, True, "hard_swish", 1, 2), (5, 6, 40, True, "hard_swish", 2, 1),
              (5, 3, 48, True, "hard_swish", 2, 1), (5, 6, 96, True, "hard_swish", 3, 2)),
}
V3_HEAD = {"large": (960, 1280), "small": (576, 1024)}  # last 1x1 conv, then the pooled 1x1 conv (a hidden FC)
V3_SE = dict(se=0.25, se_base="mid", se_divisor=8, se_act="relu", se_gate="hard_sigmoid")
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


def mobilenet_v3(version: str, stem_stride: int = 2) -> Genome:
    """MobileNetV3-Large / -Small (Howard et al. 2019) as timm builds them: 3x3/2 hard-swish stem to 16, the blocks
    of Tables 1-2, a 1x1 conv, global pooling, a 1x1 conv with bias (a hidden FC) and hard-swish, dropout 0.2."""
    stem = (Stage(ConvGene(channels=16, kernel=3, act="hard_swish"), 1, stem_stride),)
    stages = []
    for kernel, expansion, channels, se, act, depth, stride in V3_BLOCKS[version]:
        squeeze = V3_SE if se else {}
        gene = (DepthwiseSeparableGene(channels=channels, kernel=kernel, act=act, pw_act=False, skip=True, **squeeze)
                if expansion == 1 else MBConvGene(channels=channels, expansion=expansion, kernel=kernel, act=act,
                                                  **squeeze))
        stages.append(Stage(gene, depth, stride))
    conv, hidden = V3_HEAD[version]
    stages.append(Stage(ConvGene(channels=conv, kernel=1, act="hard_swish")))
    return Genome(stem=stem, stages=tuple(stages), head=Head(hidden=(hidden,), act="hard_swish", dropout=0.2))


def entries() -> list[ZooEntry]:
    return [
        ZooEntry("mobilenet_v1", mobilenet_v1(), Reference(
            "timm", "mobilenetv1_100", note="timm's MobileNet v1 uses ReLU6 (the paper: ReLU; same counts)"), FAMILY),
        ZooEntry("mobilenet_v2", mobilenet_v2(), Reference("torchvision", "mobilenet_v2"), FAMILY),
        ZooEntry("mobilenet_v3_large", mobilenet_v3("large"), Reference("timm", "mobilenetv3_large_100"), V3_FAMILY),
        ZooEntry("mobilenet_v3_small", mobilenet_v3("small"), Reference("timm", "mobilenetv3_small_100"), V3_FAMILY),
    ]
