"""SqueezeNet 1.0 / 1.1 (Fire modules as data: a squeeze conv and a branch of 1x1 and 3x3 expand convs): the
version, a width multiplier, and the stem (stride 1 and padded for inputs of 32x32 and less)."""
from __future__ import annotations

import dataclasses
from typing import Any

from nasbench.gene import GenomeError
from nasbench.genome import Genome, Scaling
from nasbench.space import Categorical, SearchSpace
from nasbench.zoo.squeezenets import FAMILY, VERSIONS, squeezenet
from nasbench.zoo.stems import SMALL_INPUT

WIDTHS = (0.5, 0.75, 1.0)
STEMS = ("imagenet", "cifar")


class SqueezeNetFamily(SearchSpace):
    name = "squeezenet_family"
    summary = "SqueezeNet 1.0 / 1.1 of Fire modules: version, width multiplier, stem"
    zoo_families = (FAMILY,)

    def declare(self):
        return {"version": Categorical(tuple(VERSIONS), "SqueezeNet 1.0 (7x7 stem) or 1.1 (3x3 stem, earlier pools)"),
                "width": Categorical(WIDTHS, "width multiplier of every conv (EfficientNet's rounding to 8)"),
                "stem": Categorical(STEMS, "stride-2 unpadded stem and unpadded pools (ImageNet, where the input is "
                                           "large enough), or stride 1 and padded (small inputs)")}

    def build(self, trial) -> Genome:
        version, width = self.suggest(trial, "version"), self.suggest(trial, "width")
        try:
            return self._network(version, self.suggest(trial, "stem") == "cifar", width)
        except GenomeError:  # the ImageNet stem and pools collapse a small input: the small-input form
            return self._network(version, True, width)

    def _network(self, version: str, small_input: bool, width: float) -> Genome:
        return dataclasses.replace(squeezenet(version, small_input), in_chans=self.in_chans,
                                   resolution=self.resolution, num_classes=self.num_classes,
                                   scaling=Scaling(width=width))

    def read(self, genome: Genome) -> dict[str, Any]:
        stem = genome.stages[0]
        version = next(v for v, ((_, kernel), _) in VERSIONS.items() if kernel == stem.block.kernel)
        return {"version": version, "width": genome.scaling.width, "stem": "imagenet" if stem.stride == 2 else "cifar"}

    def adapt(self, params: dict[str, Any]) -> dict[str, Any]:
        return {**params, "stem": "cifar" if self.resolution <= SMALL_INPUT else "imagenet"}
