"""Inception-BN, Inception-v4 and Inception-ResNet-v1/-v2 made of generic branch blocks: the version, the stem
(the paper's, or for small inputs one 3x3 conv to the first module's width), the number of A, B and C modules,
and a width multiplier (0.25 / 0.5 / 1: each keeps every residual addition's channels equal)."""
from __future__ import annotations

import dataclasses
from typing import Any

from nasbench.gene import GenomeError
from nasbench.genome import Genome, Scaling
from nasbench.space import Categorical, Integer, SearchSpace
from nasbench.zoo.inceptions import BRANCH_FAMILY, STEMS, V4_REPEATS, VERSIONS, inception_network
from nasbench.zoo.stems import SMALL_INPUT

MODULES = ("a", "b", "c")
MAX_REPEATS = {"a": 10, "b": 20, "c": 10}
WIDTHS = (0.25, 0.5, 1.0)


class InceptionBranchFamily(SearchSpace):
    name = "inception_branch_family"
    summary = ("Inception-BN / -v4 / -ResNet-v1 / -ResNet-v2 of generic branch blocks: version, stem, A/B/C module "
               "counts, width")
    zoo_families = (BRANCH_FAMILY,)

    def declare(self):
        specs = {
            "version": Categorical(VERSIONS, "Inception-v4, Inception-ResNet-v1 / -v2, or Inception-BN"),
            "stem": Categorical(STEMS, "the paper's stem (where the input is large enough for it), or one 3x3 conv "
                                       "and padded reductions (inputs of 32x32 and less)"),
            "width": Categorical(WIDTHS, "width multiplier of every conv"),
        }
        for module in MODULES:
            specs[f"repeats_{module}"] = Integer(1, MAX_REPEATS[module], f"{module.upper()} modules",
                                                 when="version is not bn")
        return specs

    def build(self, trial) -> Genome:
        version = self.suggest(trial, "version")
        stem = self.suggest(trial, "stem")
        width = self.suggest(trial, "width")
        repeats = () if version == "bn" else tuple(self.suggest(trial, f"repeats_{m}") for m in MODULES)
        try:
            return self._network(version, repeats, stem, width)
        except GenomeError:  # the paper's stem and unpadded reductions collapse a small input: the small-input form
            return self._network(version, repeats, "cifar", width)

    def _network(self, version: str, repeats: tuple[int, ...], stem: str, width: float) -> Genome:
        genome = inception_network(version, repeats, stem)
        return dataclasses.replace(genome, in_chans=self.in_chans, resolution=self.resolution,
                                   num_classes=self.num_classes, scaling=Scaling(width=width))

    def read(self, genome: Genome) -> dict[str, Any]:
        """The version whose network, with this genome's module counts, is this genome (best effort: checked)."""
        stem = "cifar" if len(genome.stem) == 1 else "imagenet"
        plain = dataclasses.replace(genome, scaling=Scaling()).with_input(in_chans=3, num_classes=1000)
        for version in VERSIONS:
            params: dict[str, Any] = {"version": version, "stem": stem, "width": genome.scaling.width}
            repeats = () if version == "bn" else _repeats(version, genome)
            params.update({f"repeats_{m}": r for m, r in zip(MODULES, repeats)})
            try:
                candidate = inception_network(version, repeats, stem)
            except ValueError:
                continue
            if candidate == plain.with_input(resolution=candidate.resolution):
                return params
        raise ValueError("it is none of Inception-BN, -v4, -ResNet-v1, -ResNet-v2")

    def adapt(self, params: dict[str, Any]) -> dict[str, Any]:
        return {**params, "stem": "cifar" if self.resolution <= SMALL_INPUT else "imagenet"}


def _repeats(version: str, genome: Genome) -> tuple[int, ...]:
    """The A, B, C module counts of a v4 / Inception-ResNet genome from its stage depths (v2 closes with one more
    C module, without ReLU, and a 1x1 conv)."""
    depths = [stage.depth for stage in genome.stages]
    if len(depths) < 5:
        return V4_REPEATS[version]
    if version != "resnet_v2":
        return depths[0], depths[2], depths[4]
    return depths[0], depths[2], (depths[4] + 1 if len(depths) == 7 else 1)
