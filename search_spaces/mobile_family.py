"""Mobile networks: depthwise-separable (MobileNet v1), MBConv (MobileNet v2) and ShuffleNet v1/v2 units, with
kernel, expansion, squeeze-excite and width multiplier per stage.

ShuffleNet stages always downsample and round their widths to what the units need: v2 to even counts, v1 to
multiples of 4 x groups above the stage's input.
"""
from __future__ import annotations

import math
from typing import Any

from nasbench.blocks.conv import ConvGene, PoolGene
from nasbench.blocks.mobile import DepthwiseSeparableGene, MBConvGene
from nasbench.blocks.shuffle import ShuffleV1Gene, ShuffleV2Gene
from nasbench.genome import Genome, Scaling, Stage
from nasbench.head import Head
from nasbench.space import Categorical, Integer, SearchSpace
from nasbench.zoo.stems import SMALL_INPUT

MAX_STAGES = 7
MIN_WIDTH, MAX_WIDTH = 8, 1024
BLOCKS = ("dwsep", "mbconv", "shuffle_v1", "shuffle_v2")
SHUFFLES = ("shuffle_v1", "shuffle_v2")


def _round_up(value: int, multiple: int) -> int:
    return multiple * math.ceil(value / multiple)


def shuffle_v1_width(requested: int, in_chans: int, groups: int) -> int:
    """A multiple of 4 x groups (bottleneck = width / 4 splits into the groups) above the input width."""
    return max(_round_up(requested, 4 * groups), _round_up(in_chans + 1, 4 * groups))


class MobileFamily(SearchSpace):
    name = "mobile_family"
    summary = ("MobileNet v1/v2 and ShuffleNet v1/v2: block type, per-stage width, depth, stride, kernel, "
               "expansion, squeeze-excite, width multiplier, stem and head")
    zoo_families = ("mobilenet", "shufflenet")

    def declare(self):
        specs = {
            "block": Categorical(BLOCKS, "unit: depthwise-separable conv, inverted residual (MBConv), ShuffleNet "
                                         "v1 (group pointwise convs + shuffle) or v2 (channel split)"),
            "act": Categorical(("relu", "relu6", "silu", "hard_swish"), "activation everywhere"),
            "stem_width": Categorical((16, 24, 32), "channels of the 3x3 stem conv"),
            "stem_stride": Categorical((1, 2), "stride of the stem conv (1 for small inputs)"),
            "stem_pool": Categorical((False, True), "3x3/2 max pool after the stem conv (ShuffleNets)"),
            "width_mult": Categorical((0.5, 0.75, 1.0, 1.4), "width multiplier on every channel count, rounded to "
                                                             "multiples of 8", when="block is dwsep or mbconv"),
            "groups": Categorical((1, 2, 3, 4, 8), "groups of the pointwise convs (reduced to divide the stem width)",
                                  when="block is shuffle_v1"),
            "stages": Integer(1, MAX_STAGES, "stages"),
            "head_conv": Categorical((0, 1024, 1280), "channels of a 1x1 conv before pooling; 0 = none"),
            "dropout": Categorical((0.0, 0.2), "dropout before the classifier"),
        }
        for i in range(MAX_STAGES):
            when = f"stages > {i}" if i else ""
            also = f"{when} and " if when else ""
            specs.update({
                f"width_{i}": Integer(MIN_WIDTH, MAX_WIDTH, f"stage {i + 1}: output channels", log=True, when=when),
                f"depth_{i}": Integer(1, 8, f"stage {i + 1}: units", log=True, when=when),
                f"stride_{i}": Categorical((1, 2), f"stage {i + 1}: stride of its first unit",
                                           when=f"{also}block is dwsep or mbconv"),
                f"kernel_{i}": Categorical((3, 5, 7), f"stage {i + 1}: depthwise kernel", when=when),
                f"expansion_{i}": Categorical((1.0, 3.0, 4.0, 6.0), f"stage {i + 1}: MBConv expansion ratio",
                                              when=f"{also}block is mbconv"),
                f"se_{i}": Categorical((0.0, 0.25), f"stage {i + 1}: squeeze-excite ratio",
                                       when=f"{also}block is dwsep or mbconv"),
            })
        return specs

    def build(self, trial) -> Genome:
        block = self.suggest(trial, "block")
        act = self.suggest(trial, "act")
        stem_width = self.suggest(trial, "stem_width")
        stem = [Stage(ConvGene(channels=stem_width, kernel=3, act=act), 1, self.suggest(trial, "stem_stride"))]
        if self.suggest(trial, "stem_pool"):
            stem.append(Stage(PoolGene(mode="max", kernel=3, padding=1), 1, 2))
        width_mult = self.suggest(trial, "width_mult") if block not in SHUFFLES else 1.0
        groups = math.gcd(self.suggest(trial, "groups"), stem_width) if block == "shuffle_v1" else 1
        chans, stages = stem_width, []
        for i in range(self.suggest(trial, "stages")):
            width = self.suggest(trial, f"width_{i}")
            depth = self.suggest(trial, f"depth_{i}")
            stride = self.suggest(trial, f"stride_{i}") if block not in SHUFFLES else 2
            kernel = self.suggest(trial, f"kernel_{i}")
            if block == "dwsep":
                stages.append(Stage(DepthwiseSeparableGene(channels=width, kernel=kernel, act=act,
                                                           se=self.suggest(trial, f"se_{i}")), depth, stride))
            elif block == "mbconv":
                gene = MBConvGene(channels=width, expansion=self.suggest(trial, f"expansion_{i}"), kernel=kernel,
                                  se=self.suggest(trial, f"se_{i}"), act=act)
                stages.append(Stage(gene, depth, stride))
            elif block == "shuffle_v2":
                width = _round_up(width, 2)
                stages.append(Stage(ShuffleV2Gene(channels=width, kernel=kernel, act=act), depth, stride))
            else:
                width = shuffle_v1_width(width, chans, groups)
                gene = ShuffleV1Gene(channels=width, groups=groups, kernel=kernel, act=act)
                if i == 0:  # the network's first unit does not group its narrow input (Zhang et al. 2017)
                    stages.append(Stage(ShuffleV1Gene(channels=width, groups=groups, kernel=kernel, act=act,
                                                      group_input=False), 1, stride))
                    stages += [Stage(gene, depth - 1, 1)] if depth > 1 else []
                else:
                    stages.append(Stage(gene, depth, stride))
            chans = width
        head_conv = self.suggest(trial, "head_conv")
        head = Head(conv=head_conv, pool="mean" if block == "shuffle_v2" else "avg",
                    dropout=self.suggest(trial, "dropout"), act=act if head_conv else "relu")
        return Genome(stages=tuple(stages), stem=tuple(stem), head=head, in_chans=self.in_chans,
                      resolution=self.resolution, num_classes=self.num_classes, scaling=Scaling(width=width_mult))

    def read(self, genome: Genome) -> dict[str, Any]:
        stem = genome.stem[0]
        stages = list(genome.stages)
        block = stages[0].block.kind
        if block == "shuffle_v1" and len(stages) > 1 and stages[1].stride == 1:  # the first stage in two parts
            stages[:2] = [Stage(stages[1].block, stages[0].depth + stages[1].depth, stages[0].stride)]
        params: dict[str, Any] = {
            "block": block, "act": stem.block.act, "stem_width": stem.block.channels, "stem_stride": stem.stride,
            "stem_pool": len(genome.stem) > 1, "width_mult": genome.scaling.width, "stages": len(stages),
            "head_conv": genome.head.conv, "dropout": genome.head.dropout,
        }
        for i, stage in enumerate(stages):
            gene = stage.block
            width = gene.channels
            if block == "shuffle_v1":
                params["groups"] = gene.groups
                # the smallest request that rounds up to it (any request does where the input width decided it)
                width = min(MAX_WIDTH, max(MIN_WIDTH, width - 4 * gene.groups + 1))
            params.update({f"width_{i}": width, f"depth_{i}": stage.depth, f"stride_{i}": stage.stride,
                           f"kernel_{i}": gene.kernel, f"se_{i}": getattr(gene, "se", 0.0),
                           f"expansion_{i}": getattr(gene, "expansion", 1.0)})
        return params

    def adapt(self, params: dict[str, Any]) -> dict[str, Any]:
        if self.resolution <= SMALL_INPUT:
            return {**params, "stem_stride": 1, "stem_pool": False}
        return params
