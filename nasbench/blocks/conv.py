"""Plain layers: a conv-norm-act layer (LeNet, AlexNet incl. grouped convs, ZFNet, VGG, All-CNN) and pooling."""
from __future__ import annotations

import dataclasses
from typing import ClassVar

from torch import nn

from nasbench.blocks.base import ACTIVATIONS, NORMS, BlockGene, check_groups, make_act, make_norm, register
from nasbench.blocks.tally import Shape, Tally
from nasbench.gene import GenomeError, gene_field


@register
@dataclasses.dataclass(frozen=True)
class ConvGene(BlockGene):
    """One convolution, optionally followed by norm and activation (and, as every block, attention)."""

    kind: ClassVar[str] = "conv"

    channels: int = gene_field(64, alias="c", min=1, width=True, doc="output channels")
    kernel: int = gene_field(3, alias="k", min=1, max=31, odd=True, doc="square kernel size")
    padding: int = gene_field(-1, alias="p", min=-1, max=31, doc="zero padding; -1 = kernel // 2 ('same')")
    groups: int = gene_field(1, alias="g", min=1, doc="grouped convolution (AlexNet's two towers: 2)")
    bias: bool = gene_field(False, doc="conv bias")
    norm: str = gene_field("batch", choices=NORMS)
    act: str = gene_field("relu", choices=ACTIVATIONS + ("none",))

    def out_chans(self, in_chans: int) -> int:
        return self.channels

    def check(self, in_chans: int, stride: int, path: str) -> None:
        check_groups(f"{path}.groups", in_chans, self.groups, "input channels")
        check_groups(f"{path}.groups", self.channels, self.groups, "output channels")

    @property
    def pad(self) -> int:
        return self.kernel // 2 if self.padding < 0 else self.padding

    def build(self, in_chans: int, stride: int) -> nn.Module:
        layers = [nn.Conv2d(in_chans, self.channels, self.kernel, stride, self.pad, groups=self.groups, bias=self.bias)]
        if self.norm != "none":
            layers.append(make_norm(self.norm, self.channels))
        if self.act != "none":
            layers.append(make_act(self.act))
        return nn.Sequential(*layers)

    def cost(self, t: Tally, x: Shape, stride: int) -> Shape:
        y = t.conv(x, self.channels, self.kernel, stride, self.pad, self.groups, self.bias)
        y = t.norm(y, self.norm)
        if self.act != "none":
            y = t.act(y, self.act)
        return y


@register
@dataclasses.dataclass(frozen=True)
class PoolGene(BlockGene):
    """Max or average pooling with the stage's stride (LeNet subsampling, VGG/AlexNet max pools)."""

    kind: ClassVar[str] = "pool"
    depth_scalable: ClassVar[bool] = False

    mode: str = gene_field("max", choices=("max", "avg"))
    kernel: int = gene_field(2, alias="k", min=1, max=31, doc="window size")
    padding: int = gene_field(0, alias="p", min=0, max=15)
    ceil_mode: bool = gene_field(False, alias="ceil", doc="round output size up (Caffe-style pooling)")

    def out_chans(self, in_chans: int) -> int:
        return in_chans

    def check(self, in_chans: int, stride: int, path: str) -> None:
        if 2 * self.padding > self.kernel:
            raise GenomeError(f"{path}.padding", f"{self.padding} exceeds half the kernel {self.kernel}")

    def build(self, in_chans: int, stride: int) -> nn.Module:
        if self.mode == "max":
            return nn.MaxPool2d(self.kernel, stride, self.padding, ceil_mode=self.ceil_mode)
        return nn.AvgPool2d(self.kernel, stride, self.padding, ceil_mode=self.ceil_mode)

    def cost(self, t: Tally, x: Shape, stride: int) -> Shape:
        return t.pool(x, self.kernel, stride, self.padding, self.ceil_mode)
