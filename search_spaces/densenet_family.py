"""DenseNets: growth rate, layers per dense block, compression and bottleneck (DenseNet, -B, -C, -BC).

Dense blocks are separated by transitions (1x1 conv to `compression` of the channels + 2x2/2 average pool); the
stem is 2 x growth wide (ImageNet: 7x7/2 conv + max pool; CIFAR: one 3x3 conv). A transition whose pooling would
collapse the map keeps the resolution.
"""
from __future__ import annotations

from typing import Any

from nasbench.blocks.dense import DenseGene, TransitionGene
from nasbench.blocks.tally import Shape, window_out
from nasbench.genome import Genome, Stage
from nasbench.head import Head
from nasbench.space import Categorical, Integer, SearchSpace
from nasbench.zoo.stems import SMALL_INPUT, make_stem, read_stem
from search_spaces.base import advance_all

MAX_BLOCKS = 4


class DenseNetFamily(SearchSpace):
    name = "densenet_family"
    summary = "DenseNets: growth rate, layers per dense block, compression, bottleneck, stem"
    zoo_families = ("densenet",)

    def declare(self):
        specs = {
            "stem": Categorical(("imagenet", "cifar"), "7x7/2 conv-BN-act + max pool, or one 3x3 conv "
                                                       "(DenseNet-BC on CIFAR); 2 x growth channels"),
            "growth": Integer(4, 48, "growth rate k: channels each dense layer adds", log=True),
            "bn_size": Categorical((0, 2, 4), "bottleneck 1x1 conv width as a multiple of k; 0 = none (DenseNet-B: 4)"),
            "compression": Categorical((0.5, 0.75, 1.0), "transition output / input channels (DenseNet-C: 0.5)"),
            "act": Categorical(("relu", "leaky_relu", "silu", "gelu"), "activation everywhere"),
            "blocks": Integer(2, MAX_BLOCKS, "dense blocks"),
        }
        for i in range(MAX_BLOCKS):
            specs[f"layers_{i}"] = Integer(1, 48, f"dense layers in block {i + 1}", log=True,
                                           when=f"blocks > {i}" if i >= 2 else "")
        return specs

    def build(self, trial) -> Genome:
        stem_kind = self.suggest(trial, "stem")
        growth = self.suggest(trial, "growth")
        bn_size = self.suggest(trial, "bn_size")
        compression = self.suggest(trial, "compression")
        act = self.suggest(trial, "act")
        n_blocks = self.suggest(trial, "blocks")
        stem = make_stem(stem_kind, 2 * growth, act, norm_act=stem_kind != "cifar")  # CIFAR: one bare 3x3 conv
        size = advance_all(Shape(self.in_chans, self.resolution, self.resolution), stem).h
        stages = []
        for i in range(n_blocks):
            stages.append(Stage(DenseGene(growth=growth, bn_size=bn_size, act=act), self.suggest(trial, f"layers_{i}")))
            if i < n_blocks - 1:
                stride = 2 if window_out(size, 2, 2, 0) >= 1 else 1
                size = window_out(size, stride, stride, 0)
                stages.append(Stage(TransitionGene(compression=compression, act=act), 1, stride))
        return Genome(stages=tuple(stages), stem=stem, head=Head(pre_act=True, act=act), in_chans=self.in_chans,
                      resolution=self.resolution, num_classes=self.num_classes)

    def read(self, genome: Genome) -> dict[str, Any]:
        blocks = [s for s in genome.stages if s.block.kind == "dense"]
        transitions = [s.block for s in genome.stages if s.block.kind == "transition"]
        first = blocks[0].block
        params = {"stem": read_stem(genome.stem).kind, "growth": first.growth,
                  "bn_size": first.bn_size, "compression": transitions[0].compression if transitions else 0.5,
                  "act": first.act, "blocks": len(blocks)}
        params.update({f"layers_{i}": s.depth for i, s in enumerate(blocks)})
        return params

    def adapt(self, params: dict[str, Any]) -> dict[str, Any]:
        return {**params, "stem": "cifar" if self.resolution <= SMALL_INPUT else "imagenet"}
