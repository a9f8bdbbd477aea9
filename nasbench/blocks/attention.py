"""Channel/spatial attention: the one squeeze-excitation (`SqueezeExcite`, configured by every block that uses
one), and timm's SE, ECA and CBAM modules attachable to any block's output, with their cost twins."""
from __future__ import annotations

import dataclasses
import math

from timm.layers import EcaModule, SEModule, make_divisible
from timm.layers.cbam import CbamModule
from torch import nn

from nasbench.blocks.acts import make_act
from nasbench.blocks.tally import Shape, Tally

ATTENTIONS = ("none", "se", "eca", "cbam")
GATES = ("sigmoid", "hard_sigmoid")


def se_width(channels: int, ratio: float, divisor: int = 1, round_limit: float = 0.9) -> int:
    """Squeeze width: `channels * ratio` rounded (divisor 1, at least 1), or to a multiple of `divisor` as timm's
    make_divisible does (never below `round_limit` of the exact width)."""
    if divisor == 1:
        return max(1, round(channels * ratio))
    return int(make_divisible(channels * ratio, divisor, round_limit=round_limit))


@dataclasses.dataclass(frozen=True)
class SqueezeExcite:
    """Squeeze-excitation as a plan step: spatial mean -> 1x1 conv to `reduced` (bias) -> `act` -> 1x1 conv back
    (bias) -> `gate`, multiplying the input. Built as timm's SEModule; the mean and the product are free in fvcore.

    attn="se" is SqueezeExcite(se_width(c, 1/16, 8, 0), relu, sigmoid) on a block's output (SE-ResNet); MBConv and
    depthwise-separable blocks place one after their depthwise conv, configured by their se* fields (EfficientNet:
    ratio of the input, the block's activation; MobileNetV3: 1/4 of the expanded width to a multiple of 8, ReLU,
    hard sigmoid)."""

    reduced: int
    act: str = "relu"
    gate: str = "sigmoid"

    def out_chans(self, in_chans: int) -> int:
        return in_chans

    def module(self, in_chans: int) -> nn.Module:
        return SEModule(in_chans, rd_channels=self.reduced, act_layer=lambda: make_act(self.act), gate_layer=self.gate)

    def cost(self, t: Tally, x: Shape) -> Shape:
        t.act(t.conv(Shape(x.c, 1, 1), self.reduced, 1, bias=True), self.act)
        t.conv(Shape(self.reduced, 1, 1), x.c, 1, bias=True)
        return x


def output_se(channels: int) -> SqueezeExcite:
    """attn="se": timm's SEModule defaults (1/16 of the channels, to a multiple of 8, ReLU, sigmoid)."""
    return SqueezeExcite(se_width(channels, 1 / 16, 8, round_limit=0.0))


def cbam_channels(channels: int) -> int:
    return int(make_divisible(channels / 16, 1, round_limit=0.0))


def eca_kernel(channels: int) -> int:
    t = int(abs(math.log(channels, 2) + 1) / 2)
    return max(t if t % 2 else t + 1, 3)


def make_attn(kind: str, channels: int) -> nn.Module:
    """timm's module with timm's defaults (SE 1/16 rounded to 8, ECA adaptive kernel, CBAM 1/16 + 7x7)."""
    if kind == "se":
        return output_se(channels).module(channels)
    if kind == "eca":
        return EcaModule(channels=channels)
    if kind == "cbam":
        return CbamModule(channels)
    return nn.Identity()


def attn_cost(t: Tally, x: Shape, kind: str) -> Shape:
    if kind == "se":
        output_se(x.c).cost(t, x)
    elif kind == "eca":
        t.conv1d_channels(x.c, eca_kernel(x.c))
    elif kind == "cbam":
        rd = cbam_channels(x.c)
        # the shared MLP (two bias-free 1x1 convs) runs on the avg- and the max-pooled vector
        t.add("conv 1x1", Shape(x.c, 1, 1), 2 * x.c * rd, 2 * (2 * x.c * rd), 2 * (rd + x.c))
        t.norm(t.conv(Shape(2, x.h, x.w), 1, 7), "batch")
    return x
