"""ShuffleNet units: v1 (pointwise group convs + channel shuffle, Zhang et al. 2017) and v2 (channel split,
Ma et al. 2018, as torchvision's `InvertedResidual`)."""
from __future__ import annotations

import dataclasses
from typing import ClassVar

import torch
from torch import nn

from nasbench.blocks.base import (ACTIVATIONS, BlockGene, check_groups, conv_norm_act, conv_norm_act_cost, make_act,
                                  register)
from nasbench.blocks.tally import Shape, Tally
from nasbench.gene import GenomeError, gene_field


@register
@dataclasses.dataclass(frozen=True)
class ShuffleV1Gene(BlockGene):
    """1x1 group conv-BN-act -> channel shuffle -> kxk depthwise conv (stride)-BN -> 1x1 group conv-BN.

    Stride 1: identity add, then act. Stride > 1: the branch makes `channels - in` maps, concatenated to a 3x3 avg
    pool of the input (the shortcut), then act. The bottleneck width is `int(channels * bottleneck)` of the whole
    unit's output, as in the paper (1/4) and Megvii's reference code.
    """

    kind: ClassVar[str] = "shuffle_v1"

    channels: int = gene_field(240, alias="c", min=1, width=True, doc="output channels (concat included)")
    groups: int = gene_field(3, alias="g", min=1, doc="groups of both pointwise convs (and of the shuffle)")
    bottleneck: float = gene_field(0.25, alias="b", min=0.01, max=4.0, doc="bottleneck width / output channels")
    kernel: int = gene_field(3, alias="k", min=1, max=15, odd=True, doc="depthwise kernel size")
    group_input: bool = gene_field(True, alias="gi",
                                   doc="group the first 1x1 conv; false in the network's first unit (narrow input)")
    act: str = gene_field("relu", choices=ACTIVATIONS)

    def out_chans(self, in_chans: int) -> int:
        return self.channels

    def mid_chans(self) -> int:
        return int(self.channels * self.bottleneck)

    def branch_chans(self, in_chans: int, stride: int) -> int:
        return self.channels - in_chans if stride > 1 else self.channels

    def input_groups(self) -> int:
        return self.groups if self.group_input else 1

    def check(self, in_chans: int, stride: int, path: str) -> None:
        mid, branch = self.mid_chans(), self.branch_chans(in_chans, stride)
        if mid < 1:
            raise GenomeError(f"{path}.bottleneck",
                              f"{self.bottleneck} of {self.channels} channels leaves no bottleneck")
        if stride == 1 and self.channels != in_chans:
            raise GenomeError(f"{path}.channels", f"a stride-1 unit adds its input: channels must equal the {in_chans} "
                                                  f"input channels, not {self.channels}")
        if branch < 1:
            raise GenomeError(f"{path}.channels", f"a strided unit concatenates its {in_chans} input channels: "
                                                  f"channels must exceed them, not {self.channels}")
        check_groups(f"{path}.groups", in_chans, self.input_groups(), "input channels")
        check_groups(f"{path}.groups", mid, self.groups, "bottleneck channels")
        check_groups(f"{path}.groups", branch, self.groups, "branch output channels")

    def build(self, in_chans: int, stride: int) -> nn.Module:
        return ShuffleV1Unit(self, in_chans, stride)

    def cost(self, t: Tally, x: Shape, stride: int) -> Shape:
        mid = self.mid_chans()
        y = conv_norm_act_cost(t, x, mid, 1, groups=self.input_groups(), act=self.act)
        y = conv_norm_act_cost(t, y, mid, self.kernel, stride, groups=mid, act=None)
        y = conv_norm_act_cost(t, y, self.branch_chans(x.c, stride), 1, groups=self.groups, act=None)
        if stride > 1:
            shortcut = t.pool(x, 3, stride, 1)
            y = Shape(shortcut.c + y.c, y.h, y.w)
        return t.act(y, self.act)


class ShuffleV1Unit(nn.Module):
    def __init__(self, gene: ShuffleV1Gene, in_chans: int, stride: int):
        super().__init__()
        mid = gene.mid_chans()
        self.branch = nn.Sequential(
            conv_norm_act(in_chans, mid, 1, groups=gene.input_groups(), act=gene.act),
            nn.ChannelShuffle(gene.groups) if gene.groups > 1 else nn.Identity(),
            conv_norm_act(mid, mid, gene.kernel, stride, groups=mid, act=None),
            conv_norm_act(mid, gene.branch_chans(in_chans, stride), 1, groups=gene.groups, act=None),
        )
        self.shortcut = nn.AvgPool2d(3, stride, 1) if stride > 1 else None
        self.act = make_act(gene.act)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        y = self.branch(x)
        y = y + x if self.shortcut is None else torch.cat((self.shortcut(x), y), 1)
        return self.act(y)


@register
@dataclasses.dataclass(frozen=True)
class ShuffleV2Gene(BlockGene):
    """ShuffleNet v2 unit (torchvision `InvertedResidual`), each branch making channels/2 maps.

    Stride 1: split the input in halves; one passes, the other goes 1x1-BN-act, kxk dw-BN, 1x1-BN-act.
    Stride > 1: both branches read the whole input; the left one is kxk dw (stride)-BN, 1x1-BN-act.
    Then concat and a channel shuffle with 2 groups.
    """

    kind: ClassVar[str] = "shuffle_v2"

    channels: int = gene_field(116, alias="c", min=2, width=True, doc="output channels (even)")
    kernel: int = gene_field(3, alias="k", min=1, max=15, odd=True, doc="depthwise kernel size")
    act: str = gene_field("relu", choices=ACTIVATIONS)

    def check_fields(self, path: str) -> None:
        if self.channels % 2:
            raise GenomeError(f"{path}.channels" if path else "channels",
                              f"{self.channels} is odd; the two branches each make half the channels")

    def out_chans(self, in_chans: int) -> int:
        return self.channels

    def check(self, in_chans: int, stride: int, path: str) -> None:
        if stride == 1 and in_chans != self.channels:
            raise GenomeError(f"{path}.channels", f"a stride-1 unit splits and re-joins its input: channels must equal "
                                                  f"the {in_chans} input channels, not {self.channels}")

    def build(self, in_chans: int, stride: int) -> nn.Module:
        return ShuffleV2Unit(self, in_chans, stride)

    def cost(self, t: Tally, x: Shape, stride: int) -> Shape:
        half = self.channels // 2
        if stride > 1:
            left = conv_norm_act_cost(t, x, x.c, self.kernel, stride, groups=x.c, act=None)
            conv_norm_act_cost(t, left, half, 1, act=self.act)
        y = conv_norm_act_cost(t, x if stride > 1 else Shape(half, x.h, x.w), half, 1, act=self.act)
        y = conv_norm_act_cost(t, y, half, self.kernel, stride, groups=half, act=None)
        y = conv_norm_act_cost(t, y, half, 1, act=self.act)
        return Shape(self.channels, y.h, y.w)


class ShuffleV2Unit(nn.Module):
    def __init__(self, gene: ShuffleV2Gene, in_chans: int, stride: int):
        super().__init__()
        half, k = gene.channels // 2, gene.kernel
        self.split = stride == 1
        self.left = nn.Identity() if self.split else nn.Sequential(
            conv_norm_act(in_chans, in_chans, k, stride, groups=in_chans, act=None),
            conv_norm_act(in_chans, half, 1, act=gene.act),
        )
        self.right = nn.Sequential(
            conv_norm_act(half if self.split else in_chans, half, 1, act=gene.act),
            conv_norm_act(half, half, k, stride, groups=half, act=None),
            conv_norm_act(half, half, 1, act=gene.act),
        )
        self.shuffle = nn.ChannelShuffle(2)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        left, right = x.chunk(2, dim=1) if self.split else (x, x)
        return self.shuffle(torch.cat((self.left(left), self.right(right)), 1))
