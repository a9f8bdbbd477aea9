"""A compact, finite ResNet space made for tabulation: the lecture's three unit kinds (plain, basic residual,
bottleneck), each with and without squeeze-and-excitation, three stages with a few widths and depths each.

Every parameter is categorical and unconditional, so the space is a grid (`grid_size()` members, enumerated by
`nasbench.tabular.members`); every member is small enough to train in seconds on a 16x16 input."""
from __future__ import annotations

from typing import Any

from nasbench.blocks.residual import BasicGene, BottleneckGene
from nasbench.genome import Genome, Stage
from nasbench.space import Categorical, SearchSpace
from nasbench.zoo.stems import SMALL_INPUT, make_stem

UNITS = ("plain", "basic", "bottleneck")
WIDTHS = ((8, 16, 24), (16, 32, 48), (32, 64, 96))  # per stage: the 3x3 convs' channels (bottleneck: its inner width)
DEPTHS = ((1, 2), (1, 2), (1, 2))  # units per stage
STRIDES = (2, 2, 2)  # each stage halves the map: 16x16 digits are searched at 8, 4 and 2 pixels
EXPANSION = 4  # a bottleneck's output channels per inner channel (ResNet-50)


class ResNetCompact(SearchSpace):
    name = "resnet_compact"
    summary = ("plain / basic / bottleneck units with or without SE, 3 stages of 1-2 units and 3 widths each: "
               "a finite grid made for tabular benchmarks")

    def declare(self):
        specs = {
            "unit": Categorical(UNITS, "two 3x3 convs without skip (plain), with a skip (basic), or 1x1-3x3-1x1 "
                                       f"with {EXPANSION}x wider output (bottleneck)"),
            "attn": Categorical(("none", "se"), "squeeze-and-excitation on every unit's branch"),
        }
        for i, (widths, depths) in enumerate(zip(WIDTHS, DEPTHS)):
            specs[f"width_{i}"] = Categorical(widths, f"stage {i + 1} width (the stem takes stage 1's)")
            specs[f"depth_{i}"] = Categorical(depths, f"units in stage {i + 1}")
        return specs

    def build(self, trial) -> Genome:
        unit, attn = self.suggest(trial, "unit"), self.suggest(trial, "attn")
        widths, stages = [], []
        for i in range(len(WIDTHS)):
            widths.append(width := self.suggest(trial, f"width_{i}"))
            gene = (BottleneckGene(channels=EXPANSION * width, mid=width, attn=attn) if unit == "bottleneck"
                    else BasicGene(channels=width, attn=attn, shortcut="none" if unit == "plain" else "projection"))
            stages.append(Stage(gene, self.suggest(trial, f"depth_{i}"), STRIDES[i]))
        stem = make_stem("cifar" if self.resolution <= SMALL_INPUT else "imagenet", widths[0])
        return Genome(stages=tuple(stages), stem=stem, in_chans=self.in_chans, resolution=self.resolution,
                      num_classes=self.num_classes)

    def read(self, genome: Genome) -> dict[str, Any]:
        first = genome.stages[0].block
        unit = "plain" if first.kind == "basic" and first.shortcut == "none" else first.kind
        params: dict[str, Any] = {"unit": unit, "attn": first.attn}
        for i, stage in enumerate(genome.stages):
            params[f"width_{i}"] = stage.block.mid if unit == "bottleneck" else stage.block.channels
            params[f"depth_{i}"] = stage.depth
        return params
