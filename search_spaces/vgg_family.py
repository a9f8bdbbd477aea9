"""Plain CNNs: LeNet, AlexNet, ZFNet, VGG, NiN and All-CNN as stacks of stages.

A stage is `convs` identical conv (or NiN mlpconv) layers — kernel, padding, stride of the first, groups — ended by
a max or average pool, a strided last conv (All-CNN), or nothing. The head flattens the map or pools it for FC
layers, or is a 1x1 conv to the classes + global average pooling (NiN, All-CNN). A step that would collapse
the map is changed: a stage whose padding leaves nothing gets 'same' padding, a pool that would leave
nothing is dropped.
"""
from __future__ import annotations

from typing import Any

from nasbench.blocks.conv import ConvGene, PoolGene
from nasbench.blocks.nin import MlpConvGene
from nasbench.blocks.tally import window_out
from nasbench.genome import Genome, Stage
from nasbench.head import Head
from nasbench.space import Categorical, Integer, SearchSpace
from nasbench.zoo.stems import SMALL_INPUT
from search_spaces.base import merge_repeats

MAX_STAGES = 6
MAX_CONVS = 4
MAX_MLP = 2
MAX_FC = 2
SAME = -1
POOL_WINDOWS = {"2x2": (2, 0, False), "3x3": (3, 0, False), "3x3_ceil": (3, 0, True), "3x3_pad1": (3, 1, False)}
DOWNSAMPLING = ("none", "max", "avg", "stride")


def _stage_size(size: int, kernel: int, padding: int, strides: list[int]) -> int:
    """The map size after a stage's convs (< 1 when it collapses)."""
    pad = kernel // 2 if padding == SAME else padding
    for stride in strides:
        size = window_out(size, kernel, stride, pad)
        if size < 1:
            return size
    return size


class VGGFamily(SearchSpace):
    name = "vgg_family"
    summary = ("plain CNNs (LeNet, AlexNet, ZFNet, VGG, NiN, All-CNN): stages of convs with kernel, convs per stage, "
               "pooling vs strided conv, FC vs global-average-pooling head")
    zoo_families = ("classic",)

    def declare(self):
        specs = {
            "stages": Integer(1, MAX_STAGES, "stages of identical conv layers"),
            "act": Categorical(("relu", "tanh", "leaky_relu", "silu"), "activation everywhere (LeNet: tanh)"),
            "bn": Categorical((False, True), "batch norm after every conv (VGG-BN)"),
            "pool_window": Categorical(tuple(POOL_WINDOWS), "window of every pooling step (stride 2): 2x2, 3x3 "
                                                            "overlapping, 3x3 ceil-mode (Caffe), 3x3 padded"),
        }
        for i in range(MAX_STAGES):
            when = f"stages > {i}" if i else ""
            specs.update({
                f"layer_{i}": Categorical(("conv", "mlpconv"), f"stage {i + 1}: conv layers or NiN mlpconv layers",
                                          when=when),
                f"width_{i}": Integer(4, 1024, f"stage {i + 1}: output channels (mlpconv: of its kxk conv)", log=True,
                                      when=when),
                f"convs_{i}": Integer(1, MAX_CONVS, f"stage {i + 1}: layers", when=when),
                f"kernel_{i}": Categorical((1, 3, 5, 7, 11), f"stage {i + 1}: kernel size", when=when),
                f"padding_{i}": Categorical((SAME, 0, 1, 2), f"stage {i + 1}: zero padding, -1 = same", when=when),
                f"down_{i}": Categorical(DOWNSAMPLING, f"stage {i + 1}: downsampling at its end (stride = the "
                                                       f"last layer has stride 2)", when=when),
                f"stride_{i}": Categorical((1, 2, 4), f"stage {i + 1}: stride of its first layer (AlexNet: 4)",
                                           when=f"{when + ' and ' if when else ''}not (down_{i} is stride and "
                                                f"convs_{i} is 1)"),
                f"groups_{i}": Categorical((1, 2), f"stage {i + 1}: grouped convs (AlexNet's two towers), "
                                                        "1 where channels are odd", when=f"layer_{i} is conv"),
                f"mlp_{i}": Integer(1, MAX_MLP, f"stage {i + 1}: 1x1 convs after the kxk conv",
                                    when=f"layer_{i} is mlpconv"),
                f"dropout_{i}": Categorical((0.0, 0.5), f"stage {i + 1}: dropout after each mlpconv",
                                            when=f"layer_{i} is mlpconv"),
            })
            for j in range(MAX_MLP):
                specs[f"mlp_width_{i}_{j}"] = Integer(4, 1024, f"stage {i + 1}: width of 1x1 conv {j + 1}", log=True,
                                                      when=f"mlp_{i} > {j}")
        specs.update({
            "head": Categorical(("flatten", "avg", "conv"), "flatten the map, adaptive average pool, or 1x1 conv "
                                                            "to the classes + global average pooling (NiN)"),
            "pool_size": Categorical((1, 6, 7), "adaptive pool output size (AlexNet 6, VGG 7)", when="head is avg"),
            "fc_layers": Integer(0, MAX_FC, "hidden FC layers", when="head is not conv"),
            "head_dropout": Categorical((0.0, 0.5), "dropout before each FC layer", when="head is not conv"),
        })
        for j in range(MAX_FC):
            specs[f"fc_width_{j}"] = Integer(16, 4096, f"width of hidden FC layer {j + 1}", log=True,
                                             when=f"fc_layers > {j}")
        return specs

    def build(self, trial) -> Genome:
        n_stages = self.suggest(trial, "stages")
        act = self.suggest(trial, "act")
        norm = "batch" if self.suggest(trial, "bn") else "none"
        pool_kernel, pool_pad, pool_ceil = POOL_WINDOWS[self.suggest(trial, "pool_window")]
        size, chans, stages = self.resolution, self.in_chans, []
        for i in range(n_stages):
            layer = self.suggest(trial, f"layer_{i}")
            width = self.suggest(trial, f"width_{i}")
            convs = self.suggest(trial, f"convs_{i}")
            kernel = self.suggest(trial, f"kernel_{i}")
            padding = self.suggest(trial, f"padding_{i}")
            down = self.suggest(trial, f"down_{i}")
            first_stride = 1 if down == "stride" and convs == 1 else self.suggest(trial, f"stride_{i}")
            strides = [first_stride] + [1] * (convs - 1)
            if down == "stride":
                strides[-1] = 2
            if layer == "conv":
                groups = self.suggest(trial, f"groups_{i}")
                groups = groups if chans % groups == 0 and width % groups == 0 else 1
                fields = dict(channels=width, kernel=kernel, groups=groups, bias=True, norm=norm, act=act)
                gene_type, out = ConvGene, width
            else:
                widths = (width,) + tuple(self.suggest(trial, f"mlp_width_{i}_{j}")
                                          for j in range(self.suggest(trial, f"mlp_{i}")))
                fields = dict(channels=widths, kernel=kernel, norm=norm, act=act,
                              dropout=self.suggest(trial, f"dropout_{i}"))
                gene_type, out = MlpConvGene, widths[-1]
            if _stage_size(size, kernel, padding, strides) < 1:
                padding = SAME
            size = _stage_size(size, kernel, padding, strides)
            gene = gene_type(padding=padding, **fields)
            if down == "stride":
                stages += ([Stage(gene, convs - 1, first_stride)] if convs > 1 else []) + [Stage(gene, 1, 2)]
            else:
                stages.append(Stage(gene, convs, first_stride))
            if down in ("max", "avg") and window_out(size, pool_kernel, 2, pool_pad, pool_ceil) >= 1:
                pool = PoolGene(mode=down, kernel=pool_kernel, padding=pool_pad, ceil_mode=pool_ceil)
                stages.append(Stage(pool, 1, 2))
                size = window_out(size, pool_kernel, 2, pool_pad, pool_ceil)
            chans = out
        return Genome(stages=merge_repeats(stages), head=self._head(trial, act), in_chans=self.in_chans,
                      resolution=self.resolution, num_classes=self.num_classes)

    def _head(self, trial, act: str) -> Head:
        kind = self.suggest(trial, "head")
        if kind == "conv":
            return Head(classifier="conv", act=act)
        pool_size = self.suggest(trial, "pool_size") if kind == "avg" else 1
        hidden = tuple(self.suggest(trial, f"fc_width_{j}") for j in range(self.suggest(trial, "fc_layers")))
        return Head(pool="flatten" if kind == "flatten" else "avg", pool_size=pool_size, hidden=hidden,
                    dropout=self.suggest(trial, "head_dropout"), act=act)

    def read(self, genome: Genome) -> dict[str, Any]:
        if genome.stem:
            raise ValueError("plain networks have no separate stem")
        params: dict[str, Any] = {}
        stages = list(merge_repeats(list(genome.stages)))
        count = 0
        while stages:
            stage = stages.pop(0)
            gene = stage.block
            if gene.kind not in ("conv", "mlpconv"):
                raise ValueError(f"a {gene.kind} stage where a stage of convs starts")
            depth = min(stage.depth, MAX_CONVS)
            if depth < stage.depth:  # a longer run of identical layers continues as the next stage
                stages.insert(0, Stage(gene, stage.depth - depth, 1))
            down = "none"
            if (stages and stages[0].block == gene and stages[0].stride == 2 and stages[0].depth == 1
                    and depth < MAX_CONVS):
                stages.pop(0)
                depth, down = depth + 1, "stride"
            if stages and stages[0].block.kind == "pool":
                pool = stages.pop(0).block
                down = pool.mode
                params["pool_window"] = next(name for name, w in POOL_WINDOWS.items()
                                             if w == (pool.kernel, pool.padding, pool.ceil_mode))
            i = count
            params.update({f"layer_{i}": gene.kind, f"convs_{i}": depth, f"kernel_{i}": gene.kernel,
                           f"padding_{i}": gene.padding, f"down_{i}": down, f"stride_{i}": stage.stride})
            if gene.kind == "conv":
                params.update({f"width_{i}": gene.channels, f"groups_{i}": gene.groups})
            else:
                params.update({f"width_{i}": gene.channels[0], f"mlp_{i}": len(gene.channels) - 1,
                               f"dropout_{i}": gene.dropout})
                params.update({f"mlp_width_{i}_{j}": w for j, w in enumerate(gene.channels[1:])})
            params.setdefault("act", gene.act)
            params.setdefault("bn", gene.norm == "batch")
            count += 1
        params.setdefault("pool_window", "2x2")
        params["stages"] = count
        head = genome.head
        params["head"] = "conv" if head.classifier == "conv" else ("flatten" if head.pool == "flatten" else "avg")
        params.update(pool_size=head.pool_size, fc_layers=len(head.hidden), head_dropout=head.dropout)
        params.update({f"fc_width_{j}": w for j, w in enumerate(head.hidden)})
        return params

    def adapt(self, params: dict[str, Any]) -> dict[str, Any]:
        """Small inputs: a strided first layer (AlexNet, ZFNet) gets stride 1 and 'same' padding."""
        if self.resolution <= SMALL_INPUT and params.get("stride_0", 1) > 1:
            return {**params, "stride_0": 1, "padding_0": SAME}
        return params
