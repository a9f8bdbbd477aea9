"""Plain layers: a conv-norm-act layer (LeNet, AlexNet incl. grouped convs, ZFNet, VGG, All-CNN) and pooling."""
from __future__ import annotations

import dataclasses
from typing import ClassVar

from torch import nn

from nasbench.blocks.base import ACTIVATIONS, NORMS, BlockGene, check_groups, register
from nasbench.blocks.layers import Act, Conv, Layer, Norm, Pool, build_layers, layers_cost
from nasbench.blocks.tally import Shape, Tally
from nasbench.gene import GenomeError, gene_field


@register
@dataclasses.dataclass(frozen=True)
class ConvGene(BlockGene):
    """One convolution, optionally followed by norm and activation (and, as every block, attention)."""

    kind: ClassVar[str] = "conv"

    channels: int = gene_field(64, alias="c", min=1, width=True, doc="output channels")
    kernel: int = gene_field(3, alias="k", min=1, max=31, odd=True, doc="kernel size (height when kernel_w is set)")
    kernel_w: int = gene_field(0, alias="kw", min=0, max=31, added=True,
                               doc="kernel width of a rectangular kernel (Inception's 1x7 and 7x1); 0: square")
    padding: int = gene_field(-1, alias="p", min=-1, max=31, doc="zero padding; -1 = kernel // 2 ('same')")
    groups: int = gene_field(1, alias="g", min=1, doc="grouped convolution (AlexNet's two towers: 2)")
    bias: bool = gene_field(False, doc="conv bias")
    norm: str = gene_field("batch", choices=NORMS)
    act: str = gene_field("relu", choices=ACTIVATIONS + ("none",))

    def out_chans(self, in_chans: int) -> int:
        return self.channels

    def check_fields(self, path: str) -> None:
        if self.kernel_w % 2 == 0 and self.kernel_w:
            raise GenomeError(f"{path}.kernel_w", f"{self.kernel_w} is even, must be odd (or 0: square)")

    def check(self, in_chans: int, stride: int, path: str) -> None:
        check_groups(f"{path}.groups", in_chans, self.groups, "input channels")
        check_groups(f"{path}.groups", self.channels, self.groups, "output channels")

    @property
    def window(self) -> int | tuple[int, int]:
        """The kernel: its size, or (height, width) when rectangular."""
        return (self.kernel, self.kernel_w) if self.kernel_w else self.kernel

    def layers(self, stride: int) -> tuple[Layer, ...]:
        """conv [-> norm] [-> act]."""
        pad = None if self.padding < 0 else self.padding
        layers: list[Layer] = [Conv(self.channels, self.window, stride, pad, self.groups, self.bias)]
        if self.norm != "none":
            layers.append(Norm(self.norm))
        if self.act != "none":
            layers.append(Act(self.act))
        return tuple(layers)

    def build(self, in_chans: int, stride: int) -> nn.Module:
        return build_layers(self.layers(stride), in_chans)

    def cost(self, t: Tally, x: Shape, stride: int) -> Shape:
        return layers_cost(t, x, self.layers(stride))


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

    def layer(self, stride: int) -> Pool:
        return Pool(self.mode, self.kernel, stride, self.padding, self.ceil_mode)

    def build(self, in_chans: int, stride: int) -> nn.Module:
        return self.layer(stride).module(in_chans)

    def cost(self, t: Tally, x: Shape, stride: int) -> Shape:
        return self.layer(stride).cost(t, x)
