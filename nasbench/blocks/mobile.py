"""Mobile blocks: depthwise-separable conv (MobileNet v1, EfficientNet's first stage) and MBConv (inverted residual).

Both mirror timm's `DepthwiseSeparableConv` / `InvertedResidual` (and torchvision's MobileNetV2 `InvertedResidual`)
layer for layer, squeeze-excite included (`attention.SqueezeExcite` after the depthwise conv; by default as
EfficientNet: the reduction counted from the block's input channels, the block's activation, a sigmoid gate;
the se_* fields give MobileNetV3's: 1/4 of the expanded width rounded to 8, ReLU, hard sigmoid).
"""
from __future__ import annotations

import dataclasses
from typing import ClassVar

import torch
from timm.layers import DropPath, make_divisible
from torch import nn

from nasbench.blocks.attention import GATES, SqueezeExcite, se_width
from nasbench.blocks.base import ACTIVATIONS, NORMS, BlockGene, register
from nasbench.blocks.layers import ConvNormAct, Layer, build_layers, layers_cost
from nasbench.blocks.tally import Shape, Tally
from nasbench.gene import GenomeError, gene_field


@dataclasses.dataclass(frozen=True)
class SqueezeFields:
    """How a mobile block's squeeze-excitation is sized and activated (fields added after `se`: at their defaults,
    EfficientNet's SE, and the genome keys of earlier genomes are unchanged)."""

    se_base: str = gene_field("in", choices=("in", "mid", "out"), added=True,
                              doc="se is a ratio of the block's input (EfficientNet), its expanded width (V3) or its "
                                  "output")
    se_position: str = gene_field("dw", choices=("dw", "out"), added=True,
                                  doc="the SE after the depthwise conv, or after the projection (on the output)")
    se_divisor: int = gene_field(1, min=1, max=64, added=True,
                                 doc="squeeze width rounded to a multiple of this (MobileNetV3: 8); 1: round()")
    se_act: str = gene_field("block", choices=("block", *ACTIVATIONS), added=True,
                             doc="activation inside the SE: the block's, or a given one (MobileNetV3: relu)")
    se_gate: str = gene_field("sigmoid", choices=GATES, added=True, doc="SE gate (MobileNetV3: hard_sigmoid)")

    def squeeze(self, in_chans: int, mid_chans: int, expansion: float) -> SqueezeExcite:
        """The SE of a block whose depthwise conv has `mid_chans` channels (the input's `expansion` times)."""
        se, out = self.se, self.channels  # type: ignore[attr-defined]
        if self.se_base == "in" and self.se_position == "dw":  # EfficientNet: of the input, counted on mid
            reduced = se_width(mid_chans, se / expansion, self.se_divisor)
        else:
            base = {"in": in_chans, "mid": mid_chans, "out": out}[self.se_base]
            reduced = se_width(base, se, self.se_divisor)
        act = self.act if self.se_act == "block" else self.se_act  # type: ignore[attr-defined]
        return SqueezeExcite(reduced, act, self.se_gate)

    def check_fields(self, path: str) -> None:
        shaped = ((self.se_base, self.se_position, self.se_divisor, self.se_act, self.se_gate)
                  != ("in", "dw", 1, "block", "sigmoid"))
        if shaped and not self.se:  # type: ignore[attr-defined]
            raise GenomeError(f"{path}.se" if path else "se",
                              "se_base, se_position, se_divisor, se_act and se_gate shape a squeeze-excitation: "
                              "set se > 0")


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
class DepthwiseSeparableGene(SqueezeFields, BlockGene):
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

    def branch_layers(self, in_chans: int, stride: int) -> tuple[Layer, ...]:
        """kxk depthwise conv-norm-act [-> SE] -> 1x1 pointwise conv-norm[-act]."""
        depthwise = ConvNormAct(in_chans, self.kernel, stride, groups=in_chans, norm=self.norm, act=self.act)
        layers: list[Layer] = [depthwise]
        if self.se and self.se_position == "dw":
            layers.append(self.squeeze(in_chans, in_chans, 1.0))
        layers.append(ConvNormAct(self.channels, 1, norm=self.norm, act=self.act if self.pw_act else None))
        if self.se and self.se_position == "out":
            layers.append(self.squeeze(in_chans, in_chans, 1.0))
        return tuple(layers)

    def build(self, in_chans: int, stride: int) -> nn.Module:
        branch = build_layers(self.branch_layers(in_chans, stride), in_chans)
        return MobileBlock(branch, self.has_skip(in_chans, stride), self.drop_path)

    def cost(self, t: Tally, x: Shape, stride: int) -> Shape:
        return layers_cost(t, x, self.branch_layers(x.c, stride))


@register
@dataclasses.dataclass(frozen=True)
class MBConvGene(SqueezeFields, BlockGene):
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


    def branch_layers(self, in_chans: int, stride: int) -> tuple[Layer, ...]:
        """[1x1 expand conv-norm-act] -> kxk depthwise conv-norm-act [-> SE] -> 1x1 projection conv-norm."""
        mid = self.mid_chans(in_chans)
        layers: list[Layer] = []
        if self.expansion != 1.0:
            layers.append(ConvNormAct(mid, 1, norm=self.norm, act=self.act))
        layers.append(ConvNormAct(mid, self.kernel, stride, groups=mid, norm=self.norm, act=self.act))
        if self.se and self.se_position == "dw":
            layers.append(self.squeeze(in_chans, mid, self.expansion))
        layers.append(ConvNormAct(self.channels, 1, norm=self.norm, act=None))
        if self.se and self.se_position == "out":
            layers.append(self.squeeze(in_chans, mid, self.expansion))
        return tuple(layers)

    def build(self, in_chans: int, stride: int) -> nn.Module:
        skip = stride == 1 and in_chans == self.channels
        return MobileBlock(build_layers(self.branch_layers(in_chans, stride), in_chans), skip, self.drop_path)

    def cost(self, t: Tally, x: Shape, stride: int) -> Shape:
        return layers_cost(t, x, self.branch_layers(x.c, stride))
