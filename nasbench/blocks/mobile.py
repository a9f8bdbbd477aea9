"""Mobile blocks: depthwise-separable conv (MobileNet v1, EfficientNet's first stage) and MBConv (inverted residual).

Both mirror timm's `DepthwiseSeparableConv` / `InvertedResidual` (and torchvision's MobileNetV2 `InvertedResidual`)
layer for layer, squeeze-excite included (timm's EfficientNet `SqueezeExcite`, reduction counted from the block's
input channels).
"""
from __future__ import annotations

import dataclasses
from typing import ClassVar

import torch
from timm.layers import DropPath, make_divisible
from timm.models._efficientnet_blocks import SqueezeExcite
from torch import nn

from nasbench.blocks.base import ACTIVATIONS, NORMS, BlockGene, conv_norm_act, conv_norm_act_cost, make_act, register
from nasbench.blocks.tally import Shape, Tally
from nasbench.gene import gene_field


def se_reduced(channels: int, ratio: float) -> int:
    """timm's SqueezeExcite width, `round(channels * ratio)`, kept at least 1."""
    return max(1, round(channels * ratio))


def make_se(channels: int, reduced: int, act: str) -> nn.Module:
    """timm's EfficientNet squeeze-excite (mean -> 1x1 reduce -> act -> 1x1 expand -> sigmoid gate)."""
    se = SqueezeExcite(channels, rd_channels=reduced)
    se.act1 = make_act(act)
    return se


def se_cost(t: Tally, x: Shape, reduced: int, act: str) -> Shape:
    """Cost twin of `make_se`: the spatial mean and the gating product are free in fvcore."""
    pooled = Shape(x.c, 1, 1)
    t.act(t.conv(pooled, reduced, 1, bias=True), act)
    t.conv(Shape(reduced, 1, 1), x.c, 1, bias=True)
    return x


class MobileBlock(nn.Module):
    """A branch with an optional identity skip (through drop path)."""

    def __init__(self, branch: nn.Sequential, skip: bool, drop_path: float):
        super().__init__()
        self.branch = branch
        self.skip = skip
        self.drop_path = DropPath(drop_path) if drop_path and skip else nn.Identity()

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        y = self.branch(x)
        return self.drop_path(y) + x if self.skip else y


@register
@dataclasses.dataclass(frozen=True)
class DepthwiseSeparableGene(BlockGene):
    """kxk depthwise conv-norm-act [-> SE] -> 1x1 pointwise conv-norm[-act]; identity skip when shapes allow.

    MobileNet v1 (timm `dsa`): pw_act on, no skip. EfficientNet stage 1 (timm `ds`): SE 0.25, no pw_act, skip.
    """

    kind: ClassVar[str] = "dwsep"

    channels: int = gene_field(64, alias="c", min=1, width=True, doc="output channels")
    kernel: int = gene_field(3, alias="k", min=1, max=15, odd=True, doc="depthwise kernel size")
    act: str = gene_field("relu", choices=ACTIVATIONS)
    norm: str = gene_field("batch", choices=NORMS)
    se: float = gene_field(0.0, min=0.0, max=1.0, doc="squeeze-excite ratio of the input channels; 0 = none")
    pw_act: bool = gene_field(True, alias="pwa", doc="activation after the pointwise conv (MobileNet v1)")
    skip: bool = gene_field(False, doc="identity skip when stride 1 and channels are unchanged")
    drop_path: float = gene_field(0.0, alias="dp", min=0.0, max=0.95, doc="stochastic depth rate of the skip")

    def out_chans(self, in_chans: int) -> int:
        return self.channels

    def has_skip(self, in_chans: int, stride: int) -> bool:
        return self.skip and stride == 1 and in_chans == self.channels

    def build(self, in_chans: int, stride: int) -> nn.Module:
        layers = [conv_norm_act(in_chans, in_chans, self.kernel, stride, groups=in_chans, norm=self.norm, act=self.act)]
        if self.se:
            layers.append(make_se(in_chans, se_reduced(in_chans, self.se), self.act))
        layers.append(conv_norm_act(in_chans, self.channels, 1, norm=self.norm, act=self.act if self.pw_act else None))
        return MobileBlock(nn.Sequential(*layers), self.has_skip(in_chans, stride), self.drop_path)

    def cost(self, t: Tally, x: Shape, stride: int) -> Shape:
        y = conv_norm_act_cost(t, x, x.c, self.kernel, stride, groups=x.c, norm=self.norm, act=self.act)
        if self.se:
            y = se_cost(t, y, se_reduced(x.c, self.se), self.act)
        return conv_norm_act_cost(t, y, self.channels, 1, norm=self.norm, act=self.act if self.pw_act else None)


@register
@dataclasses.dataclass(frozen=True)
class MBConvGene(BlockGene):
    """Inverted residual: 1x1 expand conv-norm-act (none at expansion 1) -> kxk depthwise conv-norm-act [-> SE]
    -> 1x1 linear projection conv-norm; identity skip when stride 1 and channels are unchanged.

    Expanded width is timm's `make_divisible(in * expansion, 8)` (equal to torchvision's MobileNetV2 for its
    multiple-of-8 widths); the SE width is `round(expanded * se / expansion)`, i.e. `se` of the block input as in
    EfficientNet.
    """

    kind: ClassVar[str] = "mbconv"

    channels: int = gene_field(64, alias="c", min=1, width=True, doc="output channels")
    expansion: float = gene_field(6.0, alias="e", min=0.25, max=16.0, doc="expanded width / input width")
    kernel: int = gene_field(3, alias="k", min=1, max=15, odd=True, doc="depthwise kernel size")
    se: float = gene_field(0.0, min=0.0, max=1.0, doc="squeeze-excite ratio of the input channels; 0 = none")
    act: str = gene_field("relu6", choices=ACTIVATIONS, doc="relu6 in MobileNetV2, silu in EfficientNet")
    norm: str = gene_field("batch", choices=NORMS)
    drop_path: float = gene_field(0.0, alias="dp", min=0.0, max=0.95, doc="stochastic depth rate of the skip")

    def out_chans(self, in_chans: int) -> int:
        return self.channels

    def mid_chans(self, in_chans: int) -> int:
        return in_chans if self.expansion == 1.0 else int(make_divisible(in_chans * self.expansion))

    def se_chans(self, in_chans: int) -> int:
        return se_reduced(self.mid_chans(in_chans), self.se / self.expansion)

    def build(self, in_chans: int, stride: int) -> nn.Module:
        mid = self.mid_chans(in_chans)
        layers = []
        if self.expansion != 1.0:
            layers.append(conv_norm_act(in_chans, mid, 1, norm=self.norm, act=self.act))
        layers.append(conv_norm_act(mid, mid, self.kernel, stride, groups=mid, norm=self.norm, act=self.act))
        if self.se:
            layers.append(make_se(mid, self.se_chans(in_chans), self.act))
        layers.append(conv_norm_act(mid, self.channels, 1, norm=self.norm, act=None))
        skip = stride == 1 and in_chans == self.channels
        return MobileBlock(nn.Sequential(*layers), skip, self.drop_path)

    def cost(self, t: Tally, x: Shape, stride: int) -> Shape:
        mid = self.mid_chans(x.c)
        y = x
        if self.expansion != 1.0:
            y = conv_norm_act_cost(t, y, mid, 1, norm=self.norm, act=self.act)
        y = conv_norm_act_cost(t, y, mid, self.kernel, stride, groups=mid, norm=self.norm, act=self.act)
        if self.se:
            y = se_cost(t, y, self.se_chans(x.c), self.act)
        return conv_norm_act_cost(t, y, self.channels, 1, norm=self.norm, act=None)
