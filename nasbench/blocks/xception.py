"""Xception (Chollet 2017) as timm's legacy `Xception` builds it: the residual block of separable convs and the
separable conv-BN-act layer of the exit flow. A separable conv is a depthwise conv then a pointwise conv, with
nothing in between (timm `xception.SeparableConv2d`)."""
from __future__ import annotations

import dataclasses
from typing import ClassVar

import torch
from timm.models.xception import SeparableConv2d
from torch import nn

from nasbench.blocks.base import ACTIVATIONS, BlockGene, register
from nasbench.blocks.layers import Act, Conv, Layer, Norm, Pool, build_layers, layers_cost
from nasbench.blocks.tally import Shape, Tally
from nasbench.gene import gene_field


@dataclasses.dataclass(frozen=True)
class SeparableConv(Layer):
    """timm's `SeparableConv2d`: kxk depthwise then 1x1 pointwise conv, 'same' padding, no bias."""

    out: int
    kernel: int
    stride: int = 1

    def out_chans(self, in_chans: int) -> int:
        return self.out

    def module(self, in_chans: int) -> nn.Module:
        return SeparableConv2d(in_chans, self.out, self.kernel, self.stride, self.kernel // 2)

    def cost(self, t: Tally, x: Shape) -> Shape:
        y = t.conv(x, x.c, self.kernel, self.stride, self.kernel // 2, groups=x.c)
        return t.conv(y, self.out, 1, 1, 0)


@register
@dataclasses.dataclass(frozen=True)
class XceptionGene(BlockGene):
    """`reps` x (act -> separable kxk conv -> BN) [-> 3x3 max pool with the stride], plus a skip: identity, or a
    strided 1x1 conv-BN when the shape changes (timm `xception.Block`).

    grow_first: the first separable conv widens to `channels` (entry/middle flow); otherwise the last one does
    (exit flow). start_with_relu=false drops the first activation (the block right after the stem).
    """

    kind: ClassVar[str] = "xception"

    channels: int = gene_field(728, alias="c", min=1, width=True, doc="output channels")
    reps: int = gene_field(3, alias="r", min=1, max=16, doc="separable convs in the block")
    kernel: int = gene_field(3, alias="k", min=1, max=15, odd=True, doc="depthwise kernel size")
    start_with_relu: bool = gene_field(True, alias="swr", doc="activation before the first separable conv")
    grow_first: bool = gene_field(True, alias="gf", doc="widen in the first (true) or the last (false) conv")
    act: str = gene_field("relu", choices=ACTIVATIONS)

    def out_chans(self, in_chans: int) -> int:
        return self.channels

    def sep_chans(self, in_chans: int) -> list[tuple[int, int]]:
        """(in, out) channels of each separable conv."""
        if self.grow_first:
            return [(in_chans if i == 0 else self.channels, self.channels) for i in range(self.reps)]
        return [(in_chans, in_chans if i < self.reps - 1 else self.channels) for i in range(self.reps)]

    def has_projection(self, in_chans: int, stride: int) -> bool:
        return stride != 1 or in_chans != self.channels

    def rep_layers(self, in_chans: int, stride: int) -> tuple[Layer, ...]:
        """`reps` x ([act ->] separable conv -> BN) [-> 3x3 max pool with the stride]."""
        layers: list[Layer] = []
        for i, (_, out) in enumerate(self.sep_chans(in_chans)):
            if i > 0 or self.start_with_relu:
                layers.append(Act(self.act, keeps_input=i == 0))  # the first reads the block input, which the skip adds
            layers += [SeparableConv(out, self.kernel), Norm("batch")]
        if stride != 1:
            layers.append(Pool("max", 3, stride, 1))
        return tuple(layers)

    def skip_layers(self, in_chans: int, stride: int) -> tuple[Layer, ...]:
        """Identity (no layers), or a strided 1x1 conv-BN when the shape changes."""
        if not self.has_projection(in_chans, stride):
            return ()
        return Conv(self.channels, 1, stride, 0), Norm("batch")

    def build(self, in_chans: int, stride: int) -> nn.Module:
        return XceptionBlock(build_layers(self.rep_layers(in_chans, stride), in_chans),
                             build_layers(self.skip_layers(in_chans, stride), in_chans))

    def cost(self, t: Tally, x: Shape, stride: int) -> Shape:
        layers_cost(t, x, self.skip_layers(x.c, stride))
        return layers_cost(t, x, self.rep_layers(x.c, stride))


class XceptionBlock(nn.Module):
    """rep(x) + skip(x)."""

    def __init__(self, rep: nn.Sequential, skip: nn.Sequential):
        super().__init__()
        self.rep, self.skip = rep, skip

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.rep(x) + self.skip(x)


@register
@dataclasses.dataclass(frozen=True)
class SepConvGene(BlockGene):
    """Separable kxk conv (depthwise then pointwise, no norm between) -> BN -> act: Xception's conv3/conv4."""

    kind: ClassVar[str] = "sepconv"

    channels: int = gene_field(1536, alias="c", min=1, width=True, doc="output channels")
    kernel: int = gene_field(3, alias="k", min=1, max=15, odd=True, doc="depthwise kernel size")
    act: str = gene_field("relu", choices=ACTIVATIONS)

    def out_chans(self, in_chans: int) -> int:
        return self.channels

    def layers(self, stride: int) -> tuple[Layer, ...]:
        return SeparableConv(self.channels, self.kernel, stride), Norm("batch"), Act(self.act)

    def build(self, in_chans: int, stride: int) -> nn.Module:
        return build_layers(self.layers(stride), in_chans)

    def cost(self, t: Tally, x: Shape, stride: int) -> Shape:
        return layers_cost(t, x, self.layers(stride))
