"""Inception modules: GoogLeNet's (v1) and Inception-v3's factorised A-E, as torchvision builds them.

Each gene describes its module as parallel branches of ops (`Conv`, `Fork`, and `layers.Pool`); one interpreter builds
the module and one walks the cost, so the two cannot drift apart. Every conv is torchvision's `BasicConv2d`:
conv (no bias) -> BN (eps 0.001) -> ReLU.
"""
from __future__ import annotations

import dataclasses
from typing import ClassVar, NamedTuple

import torch
from torch import nn

from nasbench.blocks.base import ACTIVATIONS, NORMS, BlockGene, conv_norm_act_cost, make_act, register
from nasbench.blocks.layers import Pool  # torchvision's avg pools count padding, PyTorch's default
from nasbench.blocks.tally import Shape, Tally, pair
from nasbench.gene import GenomeError, gene_field

BN_EPS = 1e-3  # torchvision's BasicConv2d


class Conv(NamedTuple):
    """A conv-norm-act; padding None = 'same' (kernel // 2 per axis)."""

    out: int
    kernel: int | tuple[int, int]
    stride: int = 1
    padding: int | tuple[int, int] | None = None


class Fork(NamedTuple):
    """Parallel convs on the same input, concatenated (Inception-E's 1x3 / 3x1 pairs)."""

    convs: tuple[Conv, ...]


Op = Conv | Pool | Fork
Branch = tuple[Op, ...]


def _same(kernel: int | tuple[int, int]) -> tuple[int, int]:
    kh, kw = pair(kernel)
    return kh // 2, kw // 2


def _conv_module(in_chans: int, conv: Conv, norm: str, act: str) -> nn.Sequential:
    padding = _same(conv.kernel) if conv.padding is None else conv.padding
    layers: list[nn.Module] = [nn.Conv2d(in_chans, conv.out, conv.kernel, conv.stride, padding, bias=norm == "none")]
    if norm == "batch":
        layers.append(nn.BatchNorm2d(conv.out, eps=BN_EPS))
    layers.append(make_act(act))
    return nn.Sequential(*layers)


class Concat(nn.Module):
    """Run parallel paths on one input and concatenate their outputs along channels."""

    def __init__(self, paths: list[nn.Module]):
        super().__init__()
        self.paths = nn.ModuleList(paths)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return torch.cat([path(x) for path in self.paths], 1)


def _op_module(op: Op, in_chans: int, norm: str, act: str) -> tuple[nn.Module, int]:
    if isinstance(op, Conv):
        return _conv_module(in_chans, op, norm, act), op.out
    if isinstance(op, Fork):
        return Concat([_conv_module(in_chans, c, norm, act) for c in op.convs]), sum(c.out for c in op.convs)
    return op.module(in_chans), in_chans


def build_branches(branches: tuple[Branch, ...], in_chans: int, norm: str, act: str) -> Concat:
    paths = []
    for branch in branches:
        layers, chans = [], in_chans
        for op in branch:
            module, chans = _op_module(op, chans, norm, act)
            layers.append(module)
        paths.append(nn.Sequential(*layers))
    return Concat(paths)


def branches_out_chans(branches: tuple[Branch, ...], in_chans: int) -> int:
    total = 0
    for branch in branches:
        chans = in_chans
        for op in branch:
            if isinstance(op, Conv):
                chans = op.out
            elif isinstance(op, Fork):
                chans = sum(c.out for c in op.convs)
        total += chans
    return total


def _op_cost(t: Tally, x: Shape, op: Op, norm: str, act: str) -> Shape:
    if isinstance(op, Conv):
        padding = _same(op.kernel) if op.padding is None else op.padding
        return conv_norm_act_cost(t, x, op.out, op.kernel, op.stride, padding, norm=norm, act=act)
    if isinstance(op, Fork):
        outs = [_op_cost(t, x, c, norm, act) for c in op.convs]
        return Shape(sum(y.c for y in outs), outs[0].h, outs[0].w)
    return op.cost(t, x)


def branches_cost(t: Tally, x: Shape, branches: tuple[Branch, ...], norm: str, act: str) -> Shape:
    outs = []
    for branch in branches:
        y = x
        for op in branch:
            y = _op_cost(t, y, op, norm, act)
        outs.append(y)
    return Shape(sum(y.c for y in outs), outs[0].h, outs[0].w)


@dataclasses.dataclass(frozen=True)
class InceptionGene(BlockGene):
    """Fields and methods shared by every Inception module; subclasses describe their `branches`."""

    reduces: ClassVar[bool] = False  # a grid reduction (B, D) uses the stage stride; the others keep the size

    act: str = gene_field("relu", choices=ACTIVATIONS)
    norm: str = gene_field("batch", choices=NORMS)

    def branches(self, stride: int) -> tuple[Branch, ...]:
        raise NotImplementedError

    def out_chans(self, in_chans: int) -> int:
        return branches_out_chans(self.branches(1), in_chans)

    def check(self, in_chans: int, stride: int, path: str) -> None:
        if stride != 1 and not self.reduces:
            raise GenomeError(f"{path}.stride", f"{stride}: {self.kind} keeps the spatial size; downsample with a "
                                                "pool or grid-reduction stage")

    def build(self, in_chans: int, stride: int) -> nn.Module:
        return build_branches(self.branches(stride), in_chans, self.norm, self.act)

    def cost(self, t: Tally, x: Shape, stride: int) -> Shape:
        return branches_cost(t, x, self.branches(stride), self.norm, self.act)


@register
@dataclasses.dataclass(frozen=True)
class InceptionV1Gene(InceptionGene):
    """GoogLeNet: 1x1 | 1x1 -> 3x3 | 1x1 -> kxk | 3x3 max pool -> 1x1, concatenated.

    The paper's third branch is 5x5; torchvision builds it 3x3 (a known bug kept for its weights): kernel=3.
    """

    kind: ClassVar[str] = "inception"

    ch1x1: int = gene_field(64, alias="c1", min=1, width=True)
    ch3x3red: int = gene_field(96, alias="c3r", min=1, width=True)
    ch3x3: int = gene_field(128, alias="c3", min=1, width=True)
    ch5x5red: int = gene_field(16, alias="c5r", min=1, width=True)
    ch5x5: int = gene_field(32, alias="c5", min=1, width=True)
    pool_proj: int = gene_field(32, alias="cp", min=1, width=True)
    kernel: int = gene_field(5, alias="k", min=1, max=15, odd=True, doc="kernel of the '5x5' branch")

    def branches(self, stride: int) -> tuple[Branch, ...]:
        return (
            (Conv(self.ch1x1, 1),),
            (Conv(self.ch3x3red, 1), Conv(self.ch3x3, 3)),
            (Conv(self.ch5x5red, 1), Conv(self.ch5x5, self.kernel)),
            (Pool("max", 3, 1, 1, ceil_mode=True), Conv(self.pool_proj, 1)),
        )


@register
@dataclasses.dataclass(frozen=True)
class InceptionAGene(InceptionGene):
    """Inception-v3 35x35 module: 1x1 | 1x1 -> 5x5 | 1x1 -> 3x3 -> 3x3 | 3x3 avg pool -> 1x1."""

    kind: ClassVar[str] = "inception_a"

    ch1x1: int = gene_field(64, alias="c1", min=1, width=True)
    ch5x5red: int = gene_field(48, alias="c5r", min=1, width=True)
    ch5x5: int = gene_field(64, alias="c5", min=1, width=True)
    ch3x3dblred: int = gene_field(64, alias="cdr", min=1, width=True)
    ch3x3dbl: int = gene_field(96, alias="cd", min=1, width=True)
    pool_features: int = gene_field(32, alias="cp", min=1, width=True)

    def branches(self, stride: int) -> tuple[Branch, ...]:
        return (
            (Conv(self.ch1x1, 1),),
            (Conv(self.ch5x5red, 1), Conv(self.ch5x5, 5)),
            (Conv(self.ch3x3dblred, 1), Conv(self.ch3x3dbl, 3), Conv(self.ch3x3dbl, 3)),
            (Pool("avg", 3, 1, 1), Conv(self.pool_features, 1)),
        )


@register
@dataclasses.dataclass(frozen=True)
class InceptionBGene(InceptionGene):
    """Inception-v3 grid reduction 35 -> 17: 3x3/s | 1x1 -> 3x3 -> 3x3/s | 3x3/s max pool (unpadded)."""

    kind: ClassVar[str] = "inception_b"
    depth_scalable: ClassVar[bool] = False
    reduces: ClassVar[bool] = True

    ch3x3: int = gene_field(384, alias="c3", min=1, width=True)
    ch3x3dblred: int = gene_field(64, alias="cdr", min=1, width=True)
    ch3x3dbl: int = gene_field(96, alias="cd", min=1, width=True)

    def branches(self, stride: int) -> tuple[Branch, ...]:
        return (
            (Conv(self.ch3x3, 3, stride, 0),),
            (Conv(self.ch3x3dblred, 1), Conv(self.ch3x3dbl, 3), Conv(self.ch3x3dbl, 3, stride, 0)),
            (Pool("max", 3, stride),),
        )


@register
@dataclasses.dataclass(frozen=True)
class InceptionCGene(InceptionGene):
    """Inception-v3 17x17 module: 1x1 | 1x1 -> 1x7 -> 7x1 | 1x1 -> (7x1 -> 1x7) x2 | 3x3 avg pool -> 1x1."""

    kind: ClassVar[str] = "inception_c"

    ch1x1: int = gene_field(192, alias="c1", min=1, width=True)
    channels_7x7: int = gene_field(128, alias="c7", min=1, width=True, doc="inner width of both 7x7 branches")
    ch7x7: int = gene_field(192, alias="c7o", min=1, width=True, doc="output of the 7x7 branch")
    ch7x7dbl: int = gene_field(192, alias="c7d", min=1, width=True, doc="output of the double 7x7 branch")
    pool_features: int = gene_field(192, alias="cp", min=1, width=True)

    def branches(self, stride: int) -> tuple[Branch, ...]:
        c7 = self.channels_7x7
        return (
            (Conv(self.ch1x1, 1),),
            (Conv(c7, 1), Conv(c7, (1, 7)), Conv(self.ch7x7, (7, 1))),
            (Conv(c7, 1), Conv(c7, (7, 1)), Conv(c7, (1, 7)), Conv(c7, (7, 1)), Conv(self.ch7x7dbl, (1, 7))),
            (Pool("avg", 3, 1, 1), Conv(self.pool_features, 1)),
        )


@register
@dataclasses.dataclass(frozen=True)
class InceptionDGene(InceptionGene):
    """Inception-v3 grid reduction 17 -> 8: 1x1 -> 3x3/s | 1x1 -> 1x7 -> 7x1 -> 3x3/s | 3x3/s max pool."""

    kind: ClassVar[str] = "inception_d"
    depth_scalable: ClassVar[bool] = False
    reduces: ClassVar[bool] = True

    ch3x3red: int = gene_field(192, alias="c3r", min=1, width=True)
    ch3x3: int = gene_field(320, alias="c3", min=1, width=True)
    ch7x7x3: int = gene_field(192, alias="c7", min=1, width=True, doc="width of every conv of the 7x7x3 branch")

    def branches(self, stride: int) -> tuple[Branch, ...]:
        c7 = self.ch7x7x3
        return (
            (Conv(self.ch3x3red, 1), Conv(self.ch3x3, 3, stride, 0)),
            (Conv(c7, 1), Conv(c7, (1, 7)), Conv(c7, (7, 1)), Conv(c7, 3, stride, 0)),
            (Pool("max", 3, stride),),
        )


@register
@dataclasses.dataclass(frozen=True)
class InceptionEGene(InceptionGene):
    """Inception-v3 8x8 module: 1x1 | 1x1 -> (1x3, 3x1) | 1x1 -> 3x3 -> (1x3, 3x1) | 3x3 avg pool -> 1x1."""

    kind: ClassVar[str] = "inception_e"

    ch1x1: int = gene_field(320, alias="c1", min=1, width=True)
    ch3x3: int = gene_field(384, alias="c3", min=1, width=True, doc="width of the 1x1 and of each 1x3 / 3x1")
    ch3x3dblred: int = gene_field(448, alias="cdr", min=1, width=True)
    ch3x3dbl: int = gene_field(384, alias="cd", min=1, width=True, doc="width of the 3x3 and of each 1x3 / 3x1")
    pool_features: int = gene_field(192, alias="cp", min=1, width=True)

    def branches(self, stride: int) -> tuple[Branch, ...]:
        c3, cd = self.ch3x3, self.ch3x3dbl
        return (
            (Conv(self.ch1x1, 1),),
            (Conv(c3, 1), Fork((Conv(c3, (1, 3)), Conv(c3, (3, 1))))),
            (Conv(self.ch3x3dblred, 1), Conv(cd, 3), Fork((Conv(cd, (1, 3)), Conv(cd, (3, 1))))),
            (Pool("avg", 3, 1, 1), Conv(self.pool_features, 1)),
        )
