"""MobileNetV3-Large and -Small (hard-swish, squeeze-excitation of the expanded width with a hard-sigmoid gate):
the version, a width multiplier, and the stem's stride (1 for inputs of 32x32 and less)."""
from __future__ import annotations

import dataclasses
from typing import Any

from nasbench.genome import Genome, Scaling
from nasbench.space import Categorical, SearchSpace
from nasbench.zoo.mobilenets import V3_BLOCKS, V3_FAMILY, mobilenet_v3
from nasbench.zoo.stems import SMALL_INPUT

STEMS = {"imagenet": 2, "cifar": 1}  # stem stride
WIDTHS = (0.5, 0.75, 1.0)


class MobileNetV3Family(SearchSpace):
    name = "mobilenet_v3_family"
    summary = "MobileNetV3-Large / -Small: version, width multiplier, stem stride"
    zoo_families = (V3_FAMILY,)

    def declare(self):
        return {"version": Categorical(tuple(V3_BLOCKS), "MobileNetV3-Large or -Small (Howard et al. 2019)"),
                "width": Categorical(WIDTHS, "width multiplier of every layer (EfficientNet's rounding to 8)"),
                "stem": Categorical(tuple(STEMS), "stem stride 2 (ImageNet) or 1 (inputs of 32x32 and less)")}

    def build(self, trial) -> Genome:
        genome = mobilenet_v3(self.suggest(trial, "version"), STEMS[self.suggest(trial, "stem")])
        return dataclasses.replace(genome, in_chans=self.in_chans, resolution=self.resolution,
                                   num_classes=self.num_classes, scaling=Scaling(width=self.suggest(trial, "width")))

    def read(self, genome: Genome) -> dict[str, Any]:
        version = "large" if len(genome.stages) == len(V3_BLOCKS["large"]) + 1 else "small"
        stem = "imagenet" if genome.stem[0].stride == 2 else "cifar"
        return {"version": version, "width": genome.scaling.width, "stem": stem}

    def adapt(self, params: dict[str, Any]) -> dict[str, Any]:
        return {**params, "stem": "cifar" if self.resolution <= SMALL_INPUT else "imagenet"}
