"""DenseNet: the dense layer (one per repeat, so a dense block is a Stage of `dense`) and the transition layer.

Mirrors torchvision's `_DenseLayer` / `_Transition`. Concatenating after every layer gives the same tensors,
parameters and FLOPs as torchvision's single concatenation per block: each layer's BN reads all the features
before it either way.
"""
from __future__ import annotations

import dataclasses
import math
from typing import ClassVar

import torch
from torch import nn

from nasbench.blocks.base import ACTIVATIONS, NORMS, BlockGene, make_act, make_norm, register
from nasbench.blocks.tally import Shape, Tally
from nasbench.gene import GenomeError, gene_field


def _pre_act_conv(in_chans: int, out_chans: int, kernel: int, norm: str, act: str) -> list[nn.Module]:
    """norm -> act -> conv (bias exactly when there is no norm), DenseNet's pre-activation layer."""
    return [make_norm(norm, in_chans), make_act(act),
            nn.Conv2d(in_chans, out_chans, kernel, 1, kernel // 2, bias=norm == "none")]


def _pre_act_conv_cost(t: Tally, x: Shape, out_chans: int, kernel: int, norm: str, act: str) -> Shape:
    x = t.act(t.norm(x, norm), act)
    return t.conv(x, out_chans, kernel, 1, kernel // 2, 1, norm == "none")


def _keep_stride_one(path: str, stride: int, what: str) -> None:
    if stride != 1:
        raise GenomeError(f"{path}.stride", f"{stride}: {what} keeps the spatial size; downsample with a "
                                            "transition or pool stage")


class DenseLayer(nn.Module):
    """x -> cat(x, branch(x)): the layer's new `growth` feature maps appended to its input."""

    def __init__(self, branch: nn.Sequential):
        super().__init__()
        self.branch = branch

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return torch.cat([x, self.branch(x)], 1)


@register
@dataclasses.dataclass(frozen=True)
class DenseGene(BlockGene):
    """One dense layer: [BN-act-conv1x1(bn_size*growth)] -> BN-act-conv3x3(growth) [-> dropout], concatenated.

    bn_size 4 is DenseNet-BC's bottleneck (torchvision); bn_size 0 is the plain DenseNet layer. Repeating the
    block (stage depth, depth scaling) adds layers; each adds `growth` channels.
    """

    kind: ClassVar[str] = "dense"

    growth: int = gene_field(32, alias="k", min=1, width=True, doc="growth rate: channels each layer adds")
    bn_size: int = gene_field(4, alias="bn", min=0, max=64,
                              doc="bottleneck width as a multiple of growth; 0 = no 1x1 bottleneck")
    dropout: float = gene_field(0.0, alias="drop", min=0.0, max=0.95, doc="dropout on the new features")
    act: str = gene_field("relu", choices=ACTIVATIONS)
    norm: str = gene_field("batch", choices=NORMS)

    def out_chans(self, in_chans: int) -> int:
        return in_chans + self.growth

    def check(self, in_chans: int, stride: int, path: str) -> None:
        _keep_stride_one(path, stride, "a dense layer")

    def build(self, in_chans: int, stride: int) -> nn.Module:
        layers: list[nn.Module] = []
        mid = in_chans
        if self.bn_size:
            mid = self.bn_size * self.growth
            layers += _pre_act_conv(in_chans, mid, 1, self.norm, self.act)
        layers += _pre_act_conv(mid, self.growth, 3, self.norm, self.act)
        if self.dropout:
            layers.append(nn.Dropout(self.dropout))
        return DenseLayer(nn.Sequential(*layers))

    def cost(self, t: Tally, x: Shape, stride: int) -> Shape:
        y = x
        if self.bn_size:
            y = _pre_act_conv_cost(t, y, self.bn_size * self.growth, 1, self.norm, self.act)
        y = _pre_act_conv_cost(t, y, self.growth, 3, self.norm, self.act)
        return Shape(x.c + y.c, y.h, y.w)


@register
@dataclasses.dataclass(frozen=True)
class TransitionGene(BlockGene):
    """BN-act-conv1x1 to floor(compression x in) channels, then a stride x stride average pool (none at stride 1).

    DenseNet-BC: compression 0.5, stride 2 (torchvision's 2x2/2 pool).
    """

    kind: ClassVar[str] = "transition"
    depth_scalable: ClassVar[bool] = False

    compression: float = gene_field(0.5, alias="theta", min=0.0, max=1.0,
                                    doc="output channels as a fraction of the input, in (0, 1]")
    act: str = gene_field("relu", choices=ACTIVATIONS)
    norm: str = gene_field("batch", choices=NORMS)

    def check_fields(self, path: str) -> None:
        if self.compression <= 0.0:
            raise GenomeError(f"{path}.compression" if path else "compression", "must be above 0")

    def out_chans(self, in_chans: int) -> int:
        return math.floor(round(self.compression * in_chans, 9))  # 0.29 * 100 is 28.999...; mean 29

    def check(self, in_chans: int, stride: int, path: str) -> None:
        if self.out_chans(in_chans) < 1:
            raise GenomeError(f"{path}.compression", f"{self.compression} of {in_chans} channels leaves none")

    def build(self, in_chans: int, stride: int) -> nn.Module:
        layers = _pre_act_conv(in_chans, self.out_chans(in_chans), 1, self.norm, self.act)
        if stride > 1:
            layers.append(nn.AvgPool2d(stride, stride))
        return nn.Sequential(*layers)

    def cost(self, t: Tally, x: Shape, stride: int) -> Shape:
        y = _pre_act_conv_cost(t, x, self.out_chans(x.c), 1, self.norm, self.act)
        return t.pool(y, stride, stride) if stride > 1 else y
