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

from nasbench.blocks.base import ACTIVATIONS, NORMS, BlockGene, register
from nasbench.blocks.layers import Act, Conv, Dropout, Layer, Norm, Pool, build_layers, layers_cost
from nasbench.blocks.tally import Shape, Tally
from nasbench.gene import GenomeError, gene_field


def _pre_act_conv(out_chans: int, kernel: int, norm: str, act: str, on_block_input: bool = False) -> list[Layer]:
    """norm -> act -> conv (bias exactly when there is no norm), DenseNet's pre-activation layer.

    on_block_input: it reads the block's input, which is also concatenated to the output, so without a norm the
    activation must not work in place."""
    return [Norm(norm), Act(act, keeps_input=on_block_input and norm == "none"),
            Conv(out_chans, kernel, bias=norm == "none")]


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

    def branch_layers(self) -> tuple[Layer, ...]:
        """[pre-act 1x1 bottleneck conv] -> pre-act 3x3 conv to `growth` maps [-> dropout]."""
        layers: list[Layer] = []
        if self.bn_size:
            layers += _pre_act_conv(self.bn_size * self.growth, 1, self.norm, self.act, on_block_input=True)
        layers += _pre_act_conv(self.growth, 3, self.norm, self.act, on_block_input=not self.bn_size)
        if self.dropout:
            layers.append(Dropout(self.dropout))
        return tuple(layers)

    def build(self, in_chans: int, stride: int) -> nn.Module:
        return DenseLayer(build_layers(self.branch_layers(), in_chans))

    def cost(self, t: Tally, x: Shape, stride: int) -> Shape:
        y = layers_cost(t, x, self.branch_layers())
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

    def layers(self, in_chans: int, stride: int) -> tuple[Layer, ...]:
        """Pre-act 1x1 conv [-> stride x stride average pool]."""
        layers = _pre_act_conv(self.out_chans(in_chans), 1, self.norm, self.act)
        if stride > 1:
            layers.append(Pool("avg", stride, stride))
        return tuple(layers)

    def build(self, in_chans: int, stride: int) -> nn.Module:
        return build_layers(self.layers(in_chans, stride), in_chans)

    def cost(self, t: Tally, x: Shape, stride: int) -> Shape:
        return layers_cost(t, x, self.layers(x.c, stride))
