"""Layer specs: the steps of a block's plan, each with its module and its cost side by side.

A block lays itself out as sequences of these; `build_layers` makes the modules and `layers_cost` walks the cost,
so build and cost read one plan and an ordering rule or a constant is written once.
"""
from __future__ import annotations

import dataclasses

from torch import nn

from nasbench.blocks.attention import attn_cost, make_attn
from nasbench.blocks.base import conv_norm_act, conv_norm_act_cost, copying_act, make_act, make_norm
from nasbench.blocks.tally import Shape, Tally


@dataclasses.dataclass(frozen=True)
class Layer:
    """One step of a plan: the channels it outputs, its module and its cost."""

    def out_chans(self, in_chans: int) -> int:
        return in_chans

    def module(self, in_chans: int) -> nn.Module:
        raise NotImplementedError

    def cost(self, t: Tally, x: Shape) -> Shape:
        raise NotImplementedError


@dataclasses.dataclass(frozen=True)
class Conv(Layer):
    """A convolution (kernel: a size or (height, width)); padding None = kernel // 2 per axis ('same' for odd)."""

    out: int
    kernel: int | tuple[int, int]
    stride: int = 1
    padding: int | None = None
    groups: int = 1
    bias: bool = False

    @property
    def pad(self) -> int | tuple[int, int]:
        if self.padding is not None:
            return self.padding
        return self.kernel // 2 if isinstance(self.kernel, int) else (self.kernel[0] // 2, self.kernel[1] // 2)

    def out_chans(self, in_chans: int) -> int:
        return self.out

    def module(self, in_chans: int) -> nn.Module:
        return nn.Conv2d(in_chans, self.out, self.kernel, self.stride, self.pad, groups=self.groups, bias=self.bias)

    def cost(self, t: Tally, x: Shape) -> Shape:
        return t.conv(x, self.out, self.kernel, self.stride, self.pad, self.groups, self.bias)


@dataclasses.dataclass(frozen=True)
class ConvNormAct(Layer):
    """`conv_norm_act` as one nested step (bias exactly when there is no norm; act None = no activation)."""

    out: int
    kernel: int
    stride: int = 1
    padding: int | None = None
    groups: int = 1
    norm: str = "batch"
    act: str | None = "relu"

    def out_chans(self, in_chans: int) -> int:
        return self.out

    def module(self, in_chans: int) -> nn.Module:
        return conv_norm_act(in_chans, self.out, self.kernel, self.stride, self.padding, self.groups, self.norm,
                             self.act)

    def cost(self, t: Tally, x: Shape) -> Shape:
        return conv_norm_act_cost(t, x, self.out, self.kernel, self.stride, self.padding, self.groups, self.norm,
                                  self.act)


@dataclasses.dataclass(frozen=True)
class Norm(Layer):
    """A normalisation layer ("none" builds an identity)."""

    kind: str

    def module(self, in_chans: int) -> nn.Module:
        return make_norm(self.kind, in_chans)

    def cost(self, t: Tally, x: Shape) -> Shape:
        return t.norm(x, self.kind)


@dataclasses.dataclass(frozen=True)
class Act(Layer):
    """An activation; keeps_input: its input is read elsewhere too (a skip), so it must not act in place."""

    kind: str
    keeps_input: bool = False

    def module(self, in_chans: int) -> nn.Module:
        return copying_act(self.kind) if self.keeps_input else make_act(self.kind)

    def cost(self, t: Tally, x: Shape) -> Shape:
        return t.act(x, self.kind)


@dataclasses.dataclass(frozen=True)
class Dropout(Layer):
    rate: float

    def module(self, in_chans: int) -> nn.Module:
        return nn.Dropout(self.rate)

    def cost(self, t: Tally, x: Shape) -> Shape:
        return x


@dataclasses.dataclass(frozen=True)
class Attn(Layer):
    """SE / ECA / CBAM attention (timm's modules)."""

    kind: str

    def module(self, in_chans: int) -> nn.Module:
        return make_attn(self.kind, in_chans)

    def cost(self, t: Tally, x: Shape) -> Shape:
        return attn_cost(t, x, self.kind)


@dataclasses.dataclass(frozen=True)
class Pool(Layer):
    """Max or average pooling (count_include_pad: whether an average counts the padding, PyTorch's default)."""

    mode: str
    kernel: int
    stride: int
    padding: int = 0
    ceil_mode: bool = False
    count_include_pad: bool = True

    def module(self, in_chans: int) -> nn.Module:
        if self.mode == "max":
            return nn.MaxPool2d(self.kernel, self.stride, self.padding, ceil_mode=self.ceil_mode)
        return nn.AvgPool2d(self.kernel, self.stride, self.padding, ceil_mode=self.ceil_mode,
                            count_include_pad=self.count_include_pad)

    def cost(self, t: Tally, x: Shape) -> Shape:
        return t.pool(x, self.kernel, self.stride, self.padding, self.ceil_mode)


@dataclasses.dataclass(frozen=True)
class Identity(Layer):
    """A placeholder that keeps the module indices of a reference implementation (e.g. timm's unstrided avg-down)."""

    def module(self, in_chans: int) -> nn.Module:
        return nn.Identity()

    def cost(self, t: Tally, x: Shape) -> Shape:
        return x


def layers_out_chans(layers: tuple[Layer, ...], in_chans: int) -> int:
    for layer in layers:
        in_chans = layer.out_chans(in_chans)
    return in_chans


def build_layers(layers: tuple[Layer, ...], in_chans: int) -> nn.Sequential:
    """The modules of `layers` in order (an empty plan gives an identity)."""
    modules = []
    for layer in layers:
        modules.append(layer.module(in_chans))
        in_chans = layer.out_chans(in_chans)
    return nn.Sequential(*modules)


def layers_cost(t: Tally, x: Shape, layers: tuple[Layer, ...]) -> Shape:
    """Add the cost of `layers` to `t` and return their output shape."""
    for layer in layers:
        x = layer.cost(t, x)
    return x
