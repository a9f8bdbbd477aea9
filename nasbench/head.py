"""The classifier head gene and its module/cost twins."""
from __future__ import annotations

import dataclasses
from typing import ClassVar

import torch
from timm.layers.adaptive_avgmax_pool import FastAdaptiveAvgPool
from torch import nn

from nasbench.blocks.base import ACTIVATIONS, NORMS, make_act, make_norm
from nasbench.blocks.tally import Shape, Tally
from nasbench.gene import Gene, GenomeError, gene_field


@dataclasses.dataclass(frozen=True)
class Head(Gene):
    """Features -> logits.

    Order: [pre_act: norm+act] -> [conv: 1x1 conv-norm-act] -> pool -> flatten -> [dropout, linear, act]*hidden
    -> dropout -> linear(num_classes). classifier="conv" replaces the final linear by a 1x1 conv to the classes + act
    before global average pooling (NiN, All-CNN).
    """

    kind: ClassVar[str] = "head"

    classifier: str = gene_field("linear", alias="cls", choices=("linear", "conv"),
                                 doc="final classifier: FC layer, or 1x1 conv + global average pooling")
    pre_act: bool = gene_field(False, alias="pre", doc="norm + act on the incoming features (pre-activation nets)")
    conv: int = gene_field(0, min=0, width=True, doc="channels of a 1x1 conv-norm-act before pooling; 0 = none")
    pool: str = gene_field("avg", choices=("avg", "max", "mean", "flatten"),
                           doc="global pooling (mean: x.mean, torchvision ShuffleNetV2, free in fvcore) or flatten")
    pool_size: int = gene_field(1, alias="ps", min=1, max=64, doc="adaptive avg pool output size (AlexNet/VGG: 6/7)")
    hidden: tuple[int, ...] = gene_field((), alias="fc", min=1, doc="hidden FC widths (AlexNet/VGG: 4096/4096)")
    dropout: float = gene_field(0.0, alias="drop", min=0.0, max=0.95, doc="dropout before each linear layer")
    act: str = gene_field("relu", choices=ACTIVATIONS)
    norm: str = gene_field("batch", choices=NORMS)

    def check_fields(self, path: str) -> None:
        if self.classifier == "conv" and (self.hidden or self.pool != "avg" or self.pool_size != 1):
            raise GenomeError(f"{path}.classifier" if path else "classifier",
                              "a conv head ends in global average pooling: leave hidden, pool and pool_size at defaults")
        if self.pool in ("max", "mean") and self.pool_size != 1:
            raise GenomeError(f"{path}.pool_size" if path else "pool_size",
                              f"{self.pool} pooling is global: pool_size must be 1")
        if self.pool == "flatten" and self.pool_size != 1:
            raise GenomeError(f"{path}.pool_size" if path else "pool_size", "flatten keeps the map: pool_size must be 1")

    def build(self, in_chans: int, num_classes: int, in_hw: tuple[int, int]) -> nn.Module:
        return HeadModule(self, in_chans, num_classes, in_hw)

    def cost(self, t: Tally, x: Shape, num_classes: int) -> Shape:
        if self.pre_act:
            x = t.act(t.norm(x, self.norm), self.act)
        if self.conv:
            x = t.act(t.norm(t.conv(x, self.conv, 1, bias=self.norm == "none"), self.norm), self.act)
        if self.classifier == "conv":
            x = t.act(t.conv(x, num_classes, 1, bias=True), self.act)
            return t.adaptive_avg(x, 1)
        if self.pool == "avg":
            x = t.adaptive_avg(x, self.pool_size)
        elif self.pool in ("max", "mean"):
            x = Shape(x.c, 1, 1)
        features = x.numel
        for width in self.hidden:
            features = t.linear(features, width)
            t.act(Shape(width, 1, 1), self.act)
        t.linear(features, num_classes)
        return Shape(num_classes, 1, 1)


class HeadModule(nn.Module):
    def __init__(self, gene: Head, in_chans: int, num_classes: int, in_hw: tuple[int, int]):
        super().__init__()
        layers: list[nn.Module] = []
        if gene.pre_act:
            layers += [make_norm(gene.norm, in_chans), make_act(gene.act)]
        if gene.conv:
            layers += [nn.Conv2d(in_chans, gene.conv, 1, bias=gene.norm == "none"), make_norm(gene.norm, gene.conv),
                       make_act(gene.act)]
            in_chans = gene.conv
        self.features = nn.Sequential(*layers)
        if gene.classifier == "conv":
            self.pool = nn.Sequential(nn.Conv2d(in_chans, num_classes, 1), make_act(gene.act), nn.AdaptiveAvgPool2d(1))
            self.classifier = nn.Identity()
            return
        if gene.pool == "avg":
            self.pool = nn.AdaptiveAvgPool2d(gene.pool_size)
            features = in_chans * gene.pool_size**2
        elif gene.pool in ("max", "mean"):
            self.pool = nn.AdaptiveMaxPool2d(1) if gene.pool == "max" else FastAdaptiveAvgPool()
            features = in_chans
        else:
            self.pool = nn.Identity()
            features = in_chans * in_hw[0] * in_hw[1]
        fc: list[nn.Module] = []
        for width in gene.hidden:
            fc += [nn.Dropout(gene.dropout), nn.Linear(features, width), make_act(gene.act)]
            features = width
        fc += [nn.Dropout(gene.dropout), nn.Linear(features, num_classes)]
        self.classifier = nn.Sequential(*fc)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.classifier(torch.flatten(self.pool(self.features(x)), 1))
