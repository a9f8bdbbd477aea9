"""Xception (Chollet 2017) as timm's legacy `Xception` builds it: the residual block of separable convs and the
separable conv-BN-act layer of the exit flow. A separable conv is a depthwise conv then a pointwise conv, with
nothing in between (timm `xception.SeparableConv2d`)."""
from __future__ import annotations

import dataclasses
from typing import ClassVar

import torch
from timm.models.xception import SeparableConv2d
from torch import nn

from nasbench.blocks.base import ACTIVATIONS, BlockGene, copying_act, make_act, register
from nasbench.blocks.tally import Shape, Tally
from nasbench.gene import gene_field


def separable_cost(t: Tally, x: Shape, out_chans: int, kernel: int, stride: int = 1) -> Shape:
    """Cost twin of `SeparableConv2d` ('same' padding, no bias)."""
    y = t.conv(x, x.c, kernel, stride, kernel // 2, groups=x.c)
    return t.conv(y, out_chans, 1, 1, 0)


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

    def build(self, in_chans: int, stride: int) -> nn.Module:
        return XceptionBlock(self, in_chans, stride)

    def cost(self, t: Tally, x: Shape, stride: int) -> Shape:
        y = x
        for i, (_, out) in enumerate(self.sep_chans(x.c)):
            if i > 0 or self.start_with_relu:
                y = t.act(y, self.act)
            y = t.norm(separable_cost(t, y, out, self.kernel), "batch")
        if stride != 1:
            y = t.pool(y, 3, stride, 1)
        if self.has_projection(x.c, stride):
            t.norm(t.conv(x, self.channels, 1, stride, 0), "batch")
        return y


class XceptionBlock(nn.Module):
    def __init__(self, gene: XceptionGene, in_chans: int, stride: int):
        super().__init__()
        layers: list[nn.Module] = []
        for i, (cin, cout) in enumerate(gene.sep_chans(in_chans)):
            if i > 0:
                layers.append(make_act(gene.act))
            elif gene.start_with_relu:
                layers.append(copying_act(gene.act))
            layers += [SeparableConv2d(cin, cout, gene.kernel, 1, gene.kernel // 2), nn.BatchNorm2d(cout)]
        if stride != 1:
            layers.append(nn.MaxPool2d(3, stride, 1))
        self.rep = nn.Sequential(*layers)
        self.skip: nn.Module = nn.Identity()
        if gene.has_projection(in_chans, stride):
            self.skip = nn.Sequential(nn.Conv2d(in_chans, gene.channels, 1, stride, bias=False),
                                      nn.BatchNorm2d(gene.channels))

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

    def build(self, in_chans: int, stride: int) -> nn.Module:
        return nn.Sequential(SeparableConv2d(in_chans, self.channels, self.kernel, stride, self.kernel // 2),
                             nn.BatchNorm2d(self.channels), make_act(self.act))

    def cost(self, t: Tally, x: Shape, stride: int) -> Shape:
        return t.act(t.norm(separable_cost(t, x, self.channels, self.kernel, stride), "batch"), self.act)
