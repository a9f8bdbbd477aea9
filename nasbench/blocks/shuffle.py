"""ShuffleNet units: v1 (pointwise group convs + channel shuffle, Zhang et al. 2017) and v2 (channel split,
Ma et al. 2018, as torchvision's `InvertedResidual`)."""
from __future__ import annotations

import dataclasses
from typing import ClassVar

import torch
from torch import nn

from nasbench.blocks.base import ACTIVATIONS, BlockGene, check_groups, make_act, register
from nasbench.blocks.layers import ConvNormAct, Layer, Pool, build_layers, layers_cost
from nasbench.blocks.tally import Shape, Tally
from nasbench.gene import GenomeError, gene_field


@dataclasses.dataclass(frozen=True)
class ChannelShuffle(Layer):
    """Interleave the channels of `groups` groups (an identity for one group)."""

    groups: int

    def module(self, in_chans: int) -> nn.Module:
        return nn.ChannelShuffle(self.groups) if self.groups > 1 else nn.Identity()

    def cost(self, t: Tally, x: Shape) -> Shape:
        return x


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

    def branch_layers(self, in_chans: int, stride: int) -> tuple[Layer, ...]:
        """1x1 group conv-BN-act -> shuffle -> kxk depthwise conv-BN -> 1x1 group conv-BN."""
        mid = self.mid_chans()
        return (ConvNormAct(mid, 1, groups=self.input_groups(), act=self.act), ChannelShuffle(self.groups),
                ConvNormAct(mid, self.kernel, stride, groups=mid, act=None),
                ConvNormAct(self.branch_chans(in_chans, stride), 1, groups=self.groups, act=None))

    def shortcut_pool(self, stride: int) -> Pool | None:
        """The strided unit's shortcut, concatenated to the branch; None: the stride-1 unit adds its input."""
        return Pool("avg", 3, stride, 1) if stride > 1 else None

    def build(self, in_chans: int, stride: int) -> nn.Module:
        return ShuffleV1Unit(self, in_chans, stride)

    def cost(self, t: Tally, x: Shape, stride: int) -> Shape:
        y = layers_cost(t, x, self.branch_layers(x.c, stride))
        pool = self.shortcut_pool(stride)
        if pool is not None:
            shortcut = pool.cost(t, x)
            y = Shape(shortcut.c + y.c, y.h, y.w)
        return t.act(y, self.act)


class ShuffleV1Unit(nn.Module):
    def __init__(self, gene: ShuffleV1Gene, in_chans: int, stride: int):
        super().__init__()
        self.branch = build_layers(gene.branch_layers(in_chans, stride), in_chans)
        pool = gene.shortcut_pool(stride)
        self.shortcut = pool.module(in_chans) if pool is not None else None
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
        if self.splits(stride) and in_chans != self.channels:
            raise GenomeError(f"{path}.channels", f"a stride-1 unit splits and re-joins its input: channels must equal "
                                                  f"the {in_chans} input channels, not {self.channels}")

    def splits(self, stride: int) -> bool:
        """Stride 1 splits the input in halves; a strided unit feeds all of it to both branches."""
        return stride == 1

    def branch_in_chans(self, in_chans: int, stride: int) -> int:
        return self.channels // 2 if self.splits(stride) else in_chans

    def left_layers(self, in_chans: int, stride: int) -> tuple[Layer, ...]:
        """kxk depthwise conv (stride)-BN -> 1x1 conv-BN-act; none (the half passes) when the unit splits."""
        if self.splits(stride):
            return ()
        return (ConvNormAct(in_chans, self.kernel, stride, groups=in_chans, act=None),
                ConvNormAct(self.channels // 2, 1, act=self.act))

    def right_layers(self, stride: int) -> tuple[Layer, ...]:
        """1x1 conv-BN-act -> kxk depthwise conv (stride)-BN -> 1x1 conv-BN-act."""
        half = self.channels // 2
        return (ConvNormAct(half, 1, act=self.act), ConvNormAct(half, self.kernel, stride, groups=half, act=None),
                ConvNormAct(half, 1, act=self.act))

    def build(self, in_chans: int, stride: int) -> nn.Module:
        return ShuffleV2Unit(self, in_chans, stride)

    def cost(self, t: Tally, x: Shape, stride: int) -> Shape:
        branch_in = Shape(self.branch_in_chans(x.c, stride), x.h, x.w)
        layers_cost(t, branch_in, self.left_layers(branch_in.c, stride))
        y = layers_cost(t, branch_in, self.right_layers(stride))
        return Shape(self.channels, y.h, y.w)


class ShuffleV2Unit(nn.Module):
    def __init__(self, gene: ShuffleV2Gene, in_chans: int, stride: int):
        super().__init__()
        self.split = gene.splits(stride)
        branch_in = gene.branch_in_chans(in_chans, stride)
        self.left = build_layers(gene.left_layers(branch_in, stride), branch_in)
        self.right = build_layers(gene.right_layers(stride), branch_in)
        self.shuffle = nn.ChannelShuffle(2)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        left, right = x.chunk(2, dim=1) if self.split else (x, x)
        return self.shuffle(torch.cat((self.left(left), self.right(right)), 1))
