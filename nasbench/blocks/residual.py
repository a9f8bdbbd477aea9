"""Residual units: basic and bottleneck (groups, width), the five orderings of He et al. 2016, plain (no skip).

Orderings ("Identity Mappings in Deep Residual Networks", Fig. 4), for weight layers W1..Wn:
  original         W1-BN-act ... Wn-BN, add, act
  bn_after_add     W1-BN-act ... Wn, add, BN-act
  relu_before_add  W1-BN-act ... Wn-BN-act, add
  relu_preact      act-W1-BN ... act-Wn-BN, add
  full_preact      BN-act-W1 ... BN-act-Wn, add    (a projection shortcut reads the pre-activated input)
"""
from __future__ import annotations

import dataclasses
from typing import ClassVar, NamedTuple

import torch
import torch.nn.functional as F
from timm.layers import DropPath
from torch import nn

from nasbench.blocks.attention import ATTENTIONS, attn_cost, make_attn
from nasbench.blocks.base import (ACTIVATIONS, NORMS, BlockGene, check_groups, copying_act, make_act, make_norm,
                                   register)
from nasbench.blocks.tally import Shape, Tally
from nasbench.gene import GenomeError, gene_field

ORDERS = ("original", "bn_after_add", "relu_before_add", "relu_preact", "full_preact")
SHORTCUTS = ("projection", "avg_down", "zero_pad", "none")


class ConvSpec(NamedTuple):
    out: int
    kernel: int
    stride: int
    groups: int


@dataclasses.dataclass(frozen=True)
class ResidualGene(BlockGene):
    """Fields shared by every residual unit."""

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

    def build(self, in_chans: int, stride: int) -> nn.Module:
        return ResidualUnit(self, in_chans, stride)

    def cost(self, t: Tally, x: Shape, stride: int) -> Shape:
        bias = self.norm == "none"
        specs = self.convs(stride)
        y = x
        if self.order == "full_preact":
            y = t.act(t.norm(y, self.norm), self.act)
        for i, spec in enumerate(specs):
            last = i == len(specs) - 1
            if self.order == "full_preact" and i > 0:
                y = t.act(t.norm(y, self.norm), self.act)
            if self.order == "relu_preact":
                y = t.act(y, self.act)
            y = t.conv(y, spec.out, spec.kernel, spec.stride, None, spec.groups, bias)
            if self.order in ("original", "relu_before_add", "relu_preact") or (
                    self.order == "bn_after_add" and not last):
                y = t.norm(y, self.norm)
            if (self.order in ("original", "bn_after_add") and not last) or self.order == "relu_before_add":
                y = t.act(y, self.act)
        y = attn_cost(t, y, self.attn)
        if self.needs_projection(x.c, stride) and self.shortcut in ("projection", "avg_down"):
            if self.shortcut == "projection":
                s = t.conv(x, y.c, 1, stride, 0, 1, bias)
            else:
                s = t.conv(t.pool(x, stride, stride, 0, True) if stride > 1 else x, y.c, 1, 1, 0, 1, bias)
            if self.order != "full_preact":
                t.norm(s, self.norm)
        if self.order == "bn_after_add":
            y = t.norm(y, self.norm)
        if self.order in ("original", "bn_after_add"):
            y = t.act(y, self.act)
        return y


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
    """1x1 reduce -> kxk (grouped: ResNeXt cardinality) -> 1x1 expand; stride on the kxk conv (ResNet v1.5)."""

    kind: ClassVar[str] = "bottleneck"

    channels: int = gene_field(256, alias="c", min=1, width=True, doc="output channels")
    mid: int = gene_field(64, alias="b", min=1, width=True,
                          doc="bottleneck width (ResNet-50: c/4; Wide ResNet-50-2: c/2; ResNeXt: groups x width)")
    kernel: int = gene_field(3, alias="k", min=1, max=15, odd=True)
    groups: int = gene_field(1, alias="g", min=1, doc="cardinality of the kxk conv")

    def convs(self, stride: int) -> list[ConvSpec]:
        return [ConvSpec(self.mid, 1, 1, 1), ConvSpec(self.mid, self.kernel, stride, self.groups),
                ConvSpec(self.channels, 1, 1, 1)]


class ZeroPadShortcut(nn.Module):
    """Option A of He et al. 2015: subsample by the stride and zero-pad the new channels."""

    def __init__(self, stride: int, extra: int):
        super().__init__()
        self.stride, self.before, self.after = stride, extra // 2, extra - extra // 2

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if self.stride > 1:
            x = x[:, :, ::self.stride, ::self.stride]
        return F.pad(x, (0, 0, 0, 0, self.before, self.after))


class ResidualUnit(nn.Module):
    def __init__(self, gene: ResidualGene, in_chans: int, stride: int):
        super().__init__()
        order, norm, act = gene.order, gene.norm, gene.act
        bias = norm == "none"
        specs = gene.convs(stride)
        self.pre = nn.Sequential(make_norm(norm, in_chans), make_act(act)) if order == "full_preact" else None
        layers: list[nn.Module] = []
        prev = in_chans
        for i, spec in enumerate(specs):
            last = i == len(specs) - 1
            if order == "full_preact" and i > 0:
                layers += [make_norm(norm, prev), make_act(act)]
            if order == "relu_preact":  # the first one acts on the unit's input, which the skip still needs
                layers.append(copying_act(act) if i == 0 else make_act(act))
            if last and gene.dropout:
                layers.append(nn.Dropout(gene.dropout))
            layers.append(nn.Conv2d(prev, spec.out, spec.kernel, spec.stride, spec.kernel // 2, groups=spec.groups,
                                    bias=bias))
            if order in ("original", "relu_before_add", "relu_preact") or (order == "bn_after_add" and not last):
                layers.append(make_norm(norm, spec.out))
            if (order in ("original", "bn_after_add") and not last) or order == "relu_before_add":
                layers.append(make_act(act))
            prev = spec.out
        if gene.attn != "none":
            layers.append(make_attn(gene.attn, prev))
        self.branch = nn.Sequential(*layers)
        self.drop_path = DropPath(gene.drop_path) if gene.drop_path else nn.Identity()
        self.residual = gene.shortcut != "none"
        self.shortcut = self._shortcut(gene, in_chans, prev, stride)
        self.project_preact = order == "full_preact" and gene.needs_projection(in_chans, stride)
        post: list[nn.Module] = []
        if order == "bn_after_add":
            post.append(make_norm(norm, prev))
        if order in ("original", "bn_after_add"):
            post.append(make_act(act))
        self.post = nn.Sequential(*post)

    @staticmethod
    def _shortcut(gene: ResidualGene, in_chans: int, out_chans: int, stride: int) -> nn.Module:
        if not gene.needs_projection(in_chans, stride):
            return nn.Identity()
        if gene.shortcut == "zero_pad":
            return ZeroPadShortcut(stride, out_chans - in_chans)
        bias = gene.norm == "none"
        if gene.shortcut == "projection":
            layers = [nn.Conv2d(in_chans, out_chans, 1, stride, bias=bias)]
        else:
            pool = nn.AvgPool2d(stride, stride, ceil_mode=True, count_include_pad=False) if stride > 1 else nn.Identity()
            layers = [pool, nn.Conv2d(in_chans, out_chans, 1, bias=bias)]
        if gene.order != "full_preact":
            layers.append(make_norm(gene.norm, out_chans))
        return nn.Sequential(*layers)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        pre = self.pre(x) if self.pre is not None else x
        y = self.drop_path(self.branch(pre))
        if self.residual:
            y = y + self.shortcut(pre if self.project_preact else x)
        return self.post(y)
