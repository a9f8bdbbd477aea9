"""Residual units: basic and bottleneck (groups, width), the five orderings of He et al. 2016, plain (no skip).

Orderings ("Identity Mappings in Deep Residual Networks", Fig. 4), for weight layers W1..Wn:
  original         W1-BN-act ... Wn-BN, add, act
  bn_after_add     W1-BN-act ... Wn, add, BN-act
  relu_before_add  W1-BN-act ... Wn-BN-act, add
  relu_preact      act-W1-BN ... act-Wn-BN, add
  full_preact      BN-act-W1 ... BN-act-Wn, add    (a projection shortcut reads the pre-activated input)

`ORDERINGS` writes these rules once; a gene's `plan` lays its unit out as layer sequences, which both the module
(`ResidualUnit`) and the cost walk.
"""
from __future__ import annotations

import dataclasses
from typing import ClassVar, NamedTuple

import torch
import torch.nn.functional as F
from timm.layers import DropPath
from torch import nn

from nasbench.blocks.attention import ATTENTIONS
from nasbench.blocks.base import ACTIVATIONS, NORMS, BlockGene, check_groups, register
from nasbench.blocks.layers import (
    Act,
    Attn,
    Conv,
    Dropout,
    Identity,
    Layer,
    Norm,
    Pool,
    build_layers,
    layers_cost,
    layers_out_chans,
)
from nasbench.blocks.tally import Shape, Tally
from nasbench.gene import GenomeError, gene_field

NORM_ACT = ("norm", "act")


class Ordering(NamedTuple):
    """Where one ordering puts BN ("norm") and the activation ("act") around the weight layers W1..Wn."""

    before_conv: tuple[str, ...]  # before every weight layer
    after_conv: tuple[str, ...]  # after every weight layer but the last
    after_last_conv: tuple[str, ...]
    after_add: tuple[str, ...]
    shared_pre: bool  # W1's before_conv runs once on the unit's input; a projection shortcut reads its output
    projection_norm: bool  # BN after a projection shortcut's 1x1 conv


ORDERINGS = {
    "original": Ordering((), NORM_ACT, ("norm",), ("act",), shared_pre=False, projection_norm=True),
    "bn_after_add": Ordering((), NORM_ACT, (), NORM_ACT, shared_pre=False, projection_norm=True),
    "relu_before_add": Ordering((), NORM_ACT, NORM_ACT, (), shared_pre=False, projection_norm=True),
    "relu_preact": Ordering(("act",), ("norm",), ("norm",), (), shared_pre=False, projection_norm=True),
    "full_preact": Ordering(NORM_ACT, (), (), (), shared_pre=True, projection_norm=False),
}
ORDERS = tuple(ORDERINGS)
SHORTCUTS = ("projection", "avg_down", "zero_pad", "none")


class ConvSpec(NamedTuple):
    out: int
    kernel: int
    stride: int
    groups: int


class ZeroPadShortcut(nn.Module):
    """Option A of He et al. 2015: subsample by the stride and zero-pad the new channels."""

    def __init__(self, stride: int, extra: int):
        super().__init__()
        self.stride, self.before, self.after = stride, extra // 2, extra - extra // 2

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if self.stride > 1:
            x = x[:, :, ::self.stride, ::self.stride]
        return F.pad(x, (0, 0, 0, 0, self.before, self.after))


@dataclasses.dataclass(frozen=True)
class ZeroPad(Layer):
    """`ZeroPadShortcut` as a plan step."""

    stride: int
    extra: int

    def out_chans(self, in_chans: int) -> int:
        return in_chans + self.extra

    def module(self, in_chans: int) -> nn.Module:
        return ZeroPadShortcut(self.stride, self.extra)

    def cost(self, t: Tally, x: Shape) -> Shape:
        return Shape(self.out_chans(x.c), -(-x.h // self.stride), -(-x.w // self.stride))


@dataclasses.dataclass(frozen=True)
class ResidualPlan:
    """One residual unit as layer sequences: pre -> branch, plus the shortcut, added -> post."""

    pre: tuple[Layer, ...]  # on the unit's input, feeding the branch
    branch: tuple[Layer, ...]
    shortcut: tuple[Layer, ...] | None  # None: a plain unit without skip; (): identity
    shortcut_reads_pre: bool  # the shortcut reads the output of `pre` instead of the unit's input
    post: tuple[Layer, ...]  # after the addition


@dataclasses.dataclass(frozen=True)
class ResidualGene(BlockGene):
    """Fields shared by every residual unit; `plan` lays the unit out for both `build` and `cost`."""

    places_attn: ClassVar[bool] = True

    order: str = gene_field("original", alias="o", choices=ORDERS, doc="where BN/activation sit (He et al. 2016)")
    shortcut: str = gene_field("projection", alias="sc", choices=SHORTCUTS,
                               doc="when shapes change: 1x1 conv, avg-pool + 1x1 conv (ResNet-D), zero-padded "
                                   "identity (CIFAR ResNets); none = plain block without skip")
    attn: str = gene_field("none", choices=ATTENTIONS, doc="attention on the residual branch before the addition")
    act: str = gene_field("relu", choices=ACTIVATIONS)
    norm: str = gene_field("batch", choices=NORMS)
    dropout: float = gene_field(0.0, alias="drop", min=0.0, max=0.95, doc="dropout before the last conv (WRN)")
    drop_path: float = gene_field(0.0, alias="dp", min=0.0, max=0.95, doc="stochastic depth rate")

    def convs(self, stride: int) -> list[ConvSpec]:
        raise NotImplementedError

    def out_chans(self, in_chans: int) -> int:
        return self.channels  # type: ignore[attr-defined]

    def needs_projection(self, in_chans: int, stride: int) -> bool:
        return self.shortcut != "none" and (stride != 1 or in_chans != self.out_chans(in_chans))

    def check(self, in_chans: int, stride: int, path: str) -> None:
        prev = in_chans
        for spec in self.convs(stride):
            check_groups(f"{path}.groups", prev, spec.groups, "input channels of a grouped conv")
            check_groups(f"{path}.groups", spec.out, spec.groups, "output channels of a grouped conv")
            prev = spec.out
        if self.shortcut == "zero_pad" and self.out_chans(in_chans) < in_chans:
            raise GenomeError(f"{path}.shortcut", f"zero padding cannot shrink {in_chans} to "
                                                  f"{self.out_chans(in_chans)} channels; use projection")

    @property
    def conv_bias(self) -> bool:
        """Convs carry a bias exactly when there is no norm."""
        return self.norm == "none"

    def norm_act(self, names: tuple[str, ...], on_input: bool = False) -> list[Layer]:
        """The named BN / activation layers; on the unit's input (which the skip still reads) none acts in place."""
        layers: list[Layer] = []
        shared = on_input
        for name in names:
            if name == "norm":
                layers.append(Norm(self.norm))
                shared = shared and self.norm == "none"
            else:
                layers.append(Act(self.act, keeps_input=shared))
        return layers

    def pre_layers(self) -> list[Layer]:
        """W1's before_conv layers on the unit's input."""
        return self.norm_act(ORDERINGS[self.order].before_conv, on_input=True)

    def branch_layers(self, stride: int) -> list[Layer]:
        """The weight layers with BN / activation where the ordering puts them, dropout, then attention."""
        ordering = ORDERINGS[self.order]
        specs = self.convs(stride)
        layers = [] if ordering.shared_pre else self.pre_layers()
        for i, spec in enumerate(specs):
            last = i == len(specs) - 1
            if i > 0:
                layers += self.norm_act(ordering.before_conv)
            if last and self.dropout:
                layers.append(Dropout(self.dropout))
            layers.append(Conv(spec.out, spec.kernel, spec.stride, groups=spec.groups, bias=self.conv_bias))
            layers += self.norm_act(ordering.after_last_conv if last else ordering.after_conv)
        if self.attn != "none":
            layers.append(Attn(self.attn))
        return layers

    def shortcut_layers(self, in_chans: int, stride: int) -> list[Layer]:
        """Identity (no layers) while the shape holds; else zero padding, a 1x1 conv, or avg-pool + 1x1 conv."""
        if not self.needs_projection(in_chans, stride):
            return []
        out = self.out_chans(in_chans)
        if self.shortcut == "zero_pad":
            return [ZeroPad(stride, out - in_chans)]
        if self.shortcut == "projection":
            layers: list[Layer] = [Conv(out, 1, stride, bias=self.conv_bias)]
        else:
            pool = Pool("avg", stride, stride, ceil_mode=True, count_include_pad=False) if stride > 1 else Identity()
            layers = [pool, Conv(out, 1, bias=self.conv_bias)]
        if ORDERINGS[self.order].projection_norm:
            layers.append(Norm(self.norm))
        return layers

    def post_layers(self) -> list[Layer]:
        """BN / activation after the addition."""
        return self.norm_act(ORDERINGS[self.order].after_add)

    def plan(self, in_chans: int, stride: int) -> ResidualPlan:
        ordering = ORDERINGS[self.order]
        return ResidualPlan(
            pre=tuple(self.pre_layers()) if ordering.shared_pre else (),
            branch=tuple(self.branch_layers(stride)),
            shortcut=None if self.shortcut == "none" else tuple(self.shortcut_layers(in_chans, stride)),
            shortcut_reads_pre=ordering.shared_pre and self.needs_projection(in_chans, stride),
            post=tuple(self.post_layers()),
        )

    def build(self, in_chans: int, stride: int) -> nn.Module:
        return ResidualUnit(self.plan(in_chans, stride), in_chans, self.drop_path)

    def cost(self, t: Tally, x: Shape, stride: int) -> Shape:
        plan = self.plan(x.c, stride)
        pre = layers_cost(t, x, plan.pre)
        y = layers_cost(t, pre, plan.branch)
        if plan.shortcut is not None:
            layers_cost(t, pre if plan.shortcut_reads_pre else x, plan.shortcut)
        return layers_cost(t, y, plan.post)


@register
@dataclasses.dataclass(frozen=True)
class BasicGene(ResidualGene):
    """Two kxk convs (ResNet-18/34, CIFAR ResNets, Wide ResNet)."""

    kind: ClassVar[str] = "basic"

    channels: int = gene_field(64, alias="c", min=1, width=True, doc="output channels")
    kernel: int = gene_field(3, alias="k", min=1, max=15, odd=True)
    groups: int = gene_field(1, alias="g", min=1, doc="groups of both convs")

    def convs(self, stride: int) -> list[ConvSpec]:
        return [ConvSpec(self.channels, self.kernel, stride, self.groups),
                ConvSpec(self.channels, self.kernel, 1, self.groups)]


@register
@dataclasses.dataclass(frozen=True)
class BottleneckGene(ResidualGene):
    """1x1 reduce -> kxk (grouped: ResNeXt cardinality) -> 1x1 expand; stride on the kxk conv (ResNet v1.5), or on
    the first 1x1 (`stride_1x1`: the original ResNet v1 of He et al. 2015 and Caffe)."""

    kind: ClassVar[str] = "bottleneck"

    channels: int = gene_field(256, alias="c", min=1, width=True, doc="output channels")
    mid: int = gene_field(64, alias="b", min=1, width=True,
                          doc="bottleneck width (ResNet-50: c/4; Wide ResNet-50-2: c/2; ResNeXt: groups x width)")
    kernel: int = gene_field(3, alias="k", min=1, max=15, odd=True)
    groups: int = gene_field(1, alias="g", min=1, doc="cardinality of the kxk conv")
    stride_1x1: bool = gene_field(False, alias="s1", added=True,
                                  doc="stride on the first 1x1 conv (ResNet v1) instead of the kxk conv (v1.5)")

    def convs(self, stride: int) -> list[ConvSpec]:
        first, middle = (stride, 1) if self.stride_1x1 else (1, stride)
        return [ConvSpec(self.mid, 1, first, 1), ConvSpec(self.mid, self.kernel, middle, self.groups),
                ConvSpec(self.channels, 1, 1, 1)]


class ResidualUnit(nn.Module):
    """pre -> branch (through drop path) [+ shortcut] -> post, built from the gene's plan."""

    def __init__(self, plan: ResidualPlan, in_chans: int, drop_path: float):
        super().__init__()
        self.pre = build_layers(plan.pre, in_chans)
        self.branch = build_layers(plan.branch, in_chans)
        self.drop_path = DropPath(drop_path) if drop_path else nn.Identity()
        self.residual = plan.shortcut is not None
        self.shortcut = build_layers(plan.shortcut or (), in_chans)
        self.shortcut_reads_pre = plan.shortcut_reads_pre
        self.post = build_layers(plan.post, layers_out_chans(plan.branch, in_chans))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        pre = self.pre(x)
        y = self.drop_path(self.branch(pre))
        if self.residual:
            y = y + self.shortcut(pre if self.shortcut_reads_pre else x)
        return self.post(y)
