"""ResNets: plain / basic / bottleneck units in the five BN-act orderings, depth per stage, widening, cardinality,
attention, stem, shortcut and activation. ResNet-18..152, the CIFAR ResNets, Wide ResNets, ResNeXt, the
attention ResNets and the pre-activation variants are points of it."""
from __future__ import annotations

import math
from typing import Any

from nasbench.blocks.attention import ATTENTIONS
from nasbench.blocks.residual import ORDERS, SHORTCUTS, BasicGene, BottleneckGene
from nasbench.genome import Genome, Stage
from nasbench.head import Head
from nasbench.space import Categorical, Integer, SearchSpace
from nasbench.zoo.stems import SMALL_INPUT, STEM_KINDS, make_stem, read_stem

MAX_STAGES = 4
MAX_DEPTHS = (18, 18, 36, 8)  # units per stage: CIFAR ResNet-110 has 18 in each, ResNet-152 (3, 8, 36, 3)


class ResNetFamily(SearchSpace):
    name = "resnet_family"
    summary = ("ResNets: plain/basic/bottleneck units, five BN-act orderings, depth per stage, widening k, "
               "cardinality, SE/ECA/CBAM, stem, shortcut, activation")
    zoo_families = ("resnet",)

    def declare(self):
        specs = {
            "stem": Categorical(STEM_KINDS, "7x7/2 conv + max pool, one 3x3 conv (small inputs), or three 3x3 convs"),
            "block": Categorical(("basic", "bottleneck"), "two 3x3 convs, or 1x1-3x3-1x1 with 4x wider output"),
            "order": Categorical(ORDERS, "where BN and activation sit (He et al. 2016; full_preact = ResNet v2)"),
            "stem_norm_act": Categorical((True, False), "BN + activation on the stem's last conv",
                                         when="order is full_preact"),
            "shortcut": Categorical(SHORTCUTS, "shortcut when the shape changes; none = plain network, no skips"),
            "attn": Categorical(ATTENTIONS, "attention on every residual branch"),
            "act": Categorical(("relu", "leaky_relu", "silu", "gelu"), "activation everywhere"),
            "width": Categorical((8, 16, 32, 64), "base width: stem channels and stage-1 width, doubling per stage"),
            "k": Integer(1, 10, "widening factor on the stage widths (bottleneck: on its inner width)", log=True),
            "groups": Categorical((1, 2, 4, 8, 16, 32), "cardinality of the 3x3 conv, capped at the largest power "
                                                        "of two dividing the inner width", when="block is bottleneck"),
            "dropout": Categorical((0.0, 0.1, 0.2, 0.3), "dropout before each unit's last conv (Wide ResNet)"),
            "stages": Integer(2, MAX_STAGES, "number of stages (each after the first halves the resolution)"),
        }
        for i, high in enumerate(MAX_DEPTHS):
            specs[f"depth_{i}"] = Integer(1, high, f"units in stage {i + 1}", log=True,
                                          when=f"stages > {i}" if i >= 2 else "")
        return specs

    def build(self, trial) -> Genome:
        stem_kind = self.suggest(trial, "stem")
        block = self.suggest(trial, "block")
        order = self.suggest(trial, "order")
        stem_norm_act = self.suggest(trial, "stem_norm_act") if order == "full_preact" else True
        unit = dict(order=order, shortcut=self.suggest(trial, "shortcut"), attn=self.suggest(trial, "attn"),
                    act=self.suggest(trial, "act"))
        width, k = self.suggest(trial, "width"), self.suggest(trial, "k")
        groups = math.gcd(self.suggest(trial, "groups"), width * k) if block == "bottleneck" else 1
        unit["dropout"] = self.suggest(trial, "dropout")
        n_stages = self.suggest(trial, "stages")
        stages = []
        for i in range(n_stages):
            w = width * 2**i
            gene = (BasicGene(channels=w * k, **unit) if block == "basic"
                    else BottleneckGene(channels=4 * w, mid=w * k, groups=groups, **unit))
            stages.append(Stage(gene, self.suggest(trial, f"depth_{i}"), 1 if i == 0 else 2))
        return Genome(stages=tuple(stages), stem=make_stem(stem_kind, width, unit["act"], stem_norm_act),
                      head=Head(pre_act=order == "full_preact", act=unit["act"]), in_chans=self.in_chans,
                      resolution=self.resolution, num_classes=self.num_classes)

    def read(self, genome: Genome) -> dict[str, Any]:
        stem = read_stem(genome.stem)
        first = genome.stages[0].block
        width = stem.width
        params = {"stem": stem.kind, "block": first.kind, "order": first.order, "shortcut": first.shortcut,
                  "attn": first.attn, "act": first.act, "width": width, "dropout": first.dropout,
                  "stages": len(genome.stages), "stem_norm_act": stem.norm_act}
        if first.kind == "bottleneck":
            params.update(k=first.mid // width, groups=first.groups)
        else:
            params["k"] = first.channels // width
        params.update({f"depth_{i}": stage.depth for i, stage in enumerate(genome.stages)})
        return params

    def adapt(self, params: dict[str, Any]) -> dict[str, Any]:
        """CIFAR stem for small inputs; an ImageNet stem for CIFAR networks on large ones."""
        if self.resolution <= SMALL_INPUT:
            return {**params, "stem": "cifar"}
        return {**params, "stem": "imagenet" if params["stem"] == "cifar" else params["stem"]}
