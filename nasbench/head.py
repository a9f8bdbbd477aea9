"""The classifier head gene and its module/cost twins."""
from __future__ import annotations

import dataclasses
from typing import ClassVar

import torch
from timm.layers.adaptive_avgmax_pool import FastAdaptiveAvgPool
from torch import nn

from nasbench.blocks.base import ACTIVATIONS, NORMS
from nasbench.blocks.layers import Act, Conv, Dropout, Layer, Norm, build_layers, layers_cost, layers_out_chans
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
                              "a conv head ends in global average pooling: leave hidden, pool and pool_size at "
                              "defaults")
        if self.pool in ("max", "mean") and self.pool_size != 1:
            raise GenomeError(f"{path}.pool_size" if path else "pool_size",
                              f"{self.pool} pooling is global: pool_size must be 1")
        if self.pool == "flatten" and self.pool_size != 1:
            raise GenomeError(f"{path}.pool_size" if path else "pool_size",
                              "flatten keeps the map: pool_size must be 1")

    def plan(self, num_classes: int) -> HeadPlan:
        """The head's layers: features, pooling, and the classifier after flattening; build and cost read it."""
        features: list[Layer] = [Norm(self.norm), Act(self.act)] if self.pre_act else []
        if self.conv:
            features += [Conv(self.conv, 1, bias=self.norm == "none"), Norm(self.norm), Act(self.act)]
        if self.classifier == "conv":
            return HeadPlan(tuple(features), (Conv(num_classes, 1, bias=True), Act(self.act), GlobalPool("avg", 1)), ())
        classifier: list[Layer] = []
        for width in self.hidden:
            classifier += [Dropout(self.dropout), Linear(width), Act(self.act)]
        classifier += [Dropout(self.dropout), Linear(num_classes)]
        return HeadPlan(tuple(features), (GlobalPool(self.pool, self.pool_size),), tuple(classifier))

    def build(self, in_chans: int, num_classes: int, in_hw: tuple[int, int]) -> nn.Module:
        return HeadModule(self.plan(num_classes), Shape(in_chans, *in_hw))

    def cost(self, t: Tally, x: Shape, num_classes: int) -> Shape:
        plan = self.plan(num_classes)
        x = layers_cost(t, layers_cost(t, x, plan.features), plan.pool)
        return layers_cost(t, Shape(x.numel, 1, 1), plan.classifier)


@dataclasses.dataclass(frozen=True)
class HeadPlan:
    features: tuple[Layer, ...]    # on the feature map
    pool: tuple[Layer, ...]        # to a vector (flattened after it)
    classifier: tuple[Layer, ...]  # on the flat vector


@dataclasses.dataclass(frozen=True)
class GlobalPool(Layer):
    """avg: adaptive average to size x size; max; mean (x.mean, torchvision ShuffleNetV2, free in fvcore); flatten."""

    mode: str
    size: int = 1

    def module(self, in_chans: int) -> nn.Module:
        if self.mode == "avg":
            return nn.AdaptiveAvgPool2d(self.size)
        return {"max": nn.AdaptiveMaxPool2d(1), "mean": FastAdaptiveAvgPool(), "flatten": nn.Identity()}[self.mode]

    def cost(self, t: Tally, x: Shape) -> Shape:
        if self.mode == "avg":
            return t.adaptive_avg(x, self.size)
        return x if self.mode == "flatten" else Shape(x.c, 1, 1)


@dataclasses.dataclass(frozen=True)
class Linear(Layer):
    """A fully connected layer on a flat vector (its Shape is (features, 1, 1))."""

    out: int

    def out_chans(self, in_chans: int) -> int:
        return self.out

    def module(self, in_chans: int) -> nn.Module:
        return nn.Linear(in_chans, self.out)

    def cost(self, t: Tally, x: Shape) -> Shape:
        return Shape(t.linear(x.numel, self.out), 1, 1)


class HeadModule(nn.Module):
    """features -> pool -> flatten -> classifier, built from a `HeadPlan`."""

    def __init__(self, plan: HeadPlan, x: Shape):
        super().__init__()
        self.features = build_layers(plan.features, x.c)
        chans = layers_out_chans(plan.features, x.c)
        self.pool = build_layers(plan.pool, chans) if len(plan.pool) > 1 else plan.pool[0].module(chans)
        pooled = layers_cost(Tally(), layers_cost(Tally(), x, plan.features), plan.pool)  # shapes only
        self.classifier = build_layers(plan.classifier, pooled.numel) if plan.classifier else nn.Identity()

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.classifier(torch.flatten(self.pool(self.features(x)), 1))
