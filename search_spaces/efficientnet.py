"""EfficientNet: the B0 block table under compound scaling (Tan & Le 2019).

A point is B0 with one of the official B0..B7 width/depth coefficients, then compound scaling by
alpha**phi (depth), beta**phi (width) and gamma**phi (resolution), all held in the genome's `Scaling`. The
unscaled input is the dataset's; with gamma > 1 and phi > 0 the resolved network expects larger images.
"""
from __future__ import annotations

import dataclasses
from typing import Any

from nasbench.genome import Genome, Scaling, Stage
from nasbench.space import Categorical, Integer, Real, SearchSpace
from nasbench.zoo.efficientnets import COEFFICIENTS, efficientnet_b0_genome
from nasbench.zoo.stems import SMALL_INPUT

VARIANTS = {name.rsplit("_", 1)[1]: (width, depth) for name, (width, depth, _) in COEFFICIENTS.items()}


class EfficientNetSpace(SearchSpace):
    name = "efficientnet"
    summary = "EfficientNet-B0's block table under compound scaling: alpha, beta, gamma, phi"
    zoo_families = ("efficientnet",)

    def declare(self):
        return {
            "variant": Categorical(tuple(VARIANTS), "official width/depth coefficients to start from "
                                                    "(b0 = 1.0/1.0 ... b7 = 2.0/3.1), at the dataset's resolution"),
            "stem_stride": Categorical((1, 2), "stride of the 3x3 stem conv (1 for small inputs)"),
            "phi": Integer(0, 2, "compound coefficient"),
            "alpha": Real(1.0, 1.4, "depth base: repeats x alpha**phi (paper: 1.2)", step=0.05, when="phi > 0"),
            "beta": Real(1.0, 1.4, "width base: channels x beta**phi (paper: 1.1)", step=0.05, when="phi > 0"),
            "gamma": Real(1.0, 1.4, "resolution base: input x gamma**phi (paper: 1.15)", step=0.05, when="phi > 0"),
        }

    def build(self, trial) -> Genome:
        width, depth = VARIANTS[self.suggest(trial, "variant")]
        stem_stride = self.suggest(trial, "stem_stride")
        phi = self.suggest(trial, "phi")
        bases = {name: self.suggest(trial, name) if phi else 1.0 for name in ("alpha", "beta", "gamma")}
        genome = efficientnet_b0_genome(Scaling(width=width, depth=depth, phi=float(phi), **bases), self.resolution)
        stem = (Stage(genome.stem[0].block, 1, stem_stride),) + genome.stem[1:]
        return dataclasses.replace(genome, stem=stem, in_chans=self.in_chans, num_classes=self.num_classes)

    def read(self, genome: Genome) -> dict[str, Any]:
        scaling = genome.scaling
        variant = next((name for name, wd in VARIANTS.items() if wd == (scaling.width, scaling.depth)), None)
        if variant is None:
            raise ValueError(f"width {scaling.width} / depth {scaling.depth} are no official EfficientNet coefficients")
        phi = int(scaling.phi) if scaling.phi.is_integer() else scaling.phi
        return {"variant": variant, "stem_stride": genome.stem[0].stride, "phi": phi, "alpha": scaling.alpha,
                "beta": scaling.beta, "gamma": scaling.gamma}

    def adapt(self, params: dict[str, Any]) -> dict[str, Any]:
        return {**params, "stem_stride": 1 if self.resolution <= SMALL_INPUT else 2}
