"""The small baselines of the scaling experiments and the single-dimension strategies they are scaled by."""
from __future__ import annotations

import dataclasses
import math

from nasbench import zoo
from nasbench.genome import Genome, Scaling
from nasbench.scaling.phi import Coefficients
from nasbench.scaling.static import PAPER_COEFFICIENTS
from nasbench.zoo.stems import SMALL_INPUT

SQRT2 = round(math.sqrt(2.0), 4)
STRATEGIES: dict[str, Coefficients] = {  # per unit of phi each nominally doubles FLOPs; phi is solved per target
    "compound": PAPER_COEFFICIENTS,
    "depth": (2.0, 1.0, 1.0),
    "width": (1.0, SQRT2, 1.0),
    "resolution": (1.0, 1.0, SQRT2),
}
BASELINES: dict[str, tuple[str, float, float]] = {
    "efficientnet": ("efficientnet_b0", 0.25, 0.5),
    "resnet": ("resnet20", 1.0, 1.0),
    "mobilenet": ("mobilenet_v2", 0.35, 0.5),
}
SMALL_INPUT_STRIDE = 8  # total stride kept for them (32x32 -> 4x4, 16x16 -> 2x2)


def small_input_strides(genome: Genome, max_stride: int = SMALL_INPUT_STRIDE) -> Genome:
    """Set the earliest strides to 1 until the total stride is at most `max_stride` (CIFAR-style downsampling)."""
    parts = {"stem": list(genome.stem), "stages": list(genome.stages)}
    total = math.prod(s.stride for s in parts["stem"] + parts["stages"])
    for name in ("stem", "stages"):
        for i, stage in enumerate(parts[name]):
            if total > max_stride and stage.stride > 1:
                total //= stage.stride
                parts[name][i] = dataclasses.replace(stage, stride=1)
    return dataclasses.replace(genome, stem=tuple(parts["stem"]), stages=tuple(parts["stages"]))


def baseline(name: str, in_chans: int = 1, resolution: int = 16, num_classes: int = 10) -> Genome:
    """A small baseline from the zoo for one input: its width/depth multipliers set, CIFAR-style strides on small
    inputs. efficientnet: B0 at width 0.25, depth 0.5; resnet: CIFAR ResNet-20 as it is; mobilenet:
    MobileNetV2 at width 0.35, depth 0.5."""
    if name not in BASELINES:
        raise ValueError(f"unknown baseline {name!r}; choose from {', '.join(BASELINES)}")
    zoo_name, width, depth = BASELINES[name]
    genome = zoo.get(zoo_name).with_input(in_chans=in_chans, resolution=resolution, num_classes=num_classes)
    genome = dataclasses.replace(genome, scaling=Scaling(width=width, depth=depth))
    return small_input_strides(genome) if resolution <= SMALL_INPUT else genome
