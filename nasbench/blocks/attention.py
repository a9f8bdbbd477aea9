"""Channel/spatial attention attachable to any block: timm's SE, ECA and CBAM modules and their cost twins."""
from __future__ import annotations

import math

from timm.layers import EcaModule, SEModule, make_divisible
from timm.layers.cbam import CbamModule
from torch import nn

from nasbench.blocks.tally import Shape, Tally

ATTENTIONS = ("none", "se", "eca", "cbam")


def se_channels(channels: int) -> int:
    return int(make_divisible(channels / 16, 8, round_limit=0.0))


def cbam_channels(channels: int) -> int:
    return int(make_divisible(channels / 16, 1, round_limit=0.0))


def eca_kernel(channels: int) -> int:
    t = int(abs(math.log(channels, 2) + 1) / 2)
    return max(t if t % 2 else t + 1, 3)


def make_attn(kind: str, channels: int) -> nn.Module:
    """timm's module with timm's defaults (SE 1/16 rounded to 8, ECA adaptive kernel, CBAM 1/16 + 7x7)."""
    if kind == "se":
        return SEModule(channels)
    if kind == "eca":
        return EcaModule(channels=channels)
    if kind == "cbam":
        return CbamModule(channels)
    return nn.Identity()


def attn_cost(t: Tally, x: Shape, kind: str) -> Shape:
    if kind == "se":
        rd = se_channels(x.c)
        t.params += 2 * x.c * rd + rd + x.c
        t.flops += 2 * x.c * rd
    elif kind == "eca":
        t.conv1d_channels(x.c, eca_kernel(x.c))
    elif kind == "cbam":
        rd = cbam_channels(x.c)
        t.params += 2 * x.c * rd
        t.flops += 2 * (2 * x.c * rd)  # the shared MLP runs on the avg- and the max-pooled vector
        t.norm(t.conv(Shape(2, x.h, x.w), 1, 7), "batch")
    return x
