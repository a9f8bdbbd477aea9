"""The stems of the ResNet and DenseNet families, written once for the zoo and the search spaces."""
from __future__ import annotations

from typing import NamedTuple

from nasbench.blocks.conv import ConvGene, PoolGene
from nasbench.genome import Stage

SMALL_INPUT = 32  # inputs this size or smaller get CIFAR-style stems and downsampling (no early striding)


class StemLayout(NamedTuple):
    """What a stem is: its kind, its output width, and whether its last conv has BN + activation."""

    kind: str
    width: int
    norm_act: bool


def _last_conv(width: int, kernel: int, act: str, norm_act: bool) -> ConvGene:
    """The stem's output conv; norm_act=False leaves BN and activation to the network (pre-activation, DenseNet)."""
    if norm_act:
        return ConvGene(channels=width, kernel=kernel, norm="batch", act=act)
    return ConvGene(channels=width, kernel=kernel, norm="none", act="none")


def _max_pool() -> Stage:
    return Stage(PoolGene(mode="max", kernel=3, padding=1), 1, 2)


def imagenet_stem(width: int = 64, act: str = "relu", norm_act: bool = True) -> tuple[Stage, ...]:
    """7x7/2 conv + 3x3/2 max pool (ResNet, DenseNet)."""
    return Stage(_last_conv(width, 7, act, norm_act), 1, 2), _max_pool()


def cifar_stem(width: int = 16, act: str = "relu", norm_act: bool = True) -> tuple[Stage, ...]:
    """One 3x3/1 conv for 32x32 inputs (CIFAR ResNets; WRN and DenseNet-BC leave BN and activation off)."""
    return (Stage(_last_conv(width, 3, act, norm_act)),)


def deep_stem(width: int = 64, act: str = "relu", norm_act: bool = True) -> tuple[Stage, ...]:
    """Three 3x3 convs (the first /2, the first two half as wide) + 3x3/2 max pool (ResNet-C)."""
    half = max(1, width // 2)
    return (Stage(ConvGene(channels=half, kernel=3, act=act), 1, 2), Stage(ConvGene(channels=half, kernel=3, act=act)),
            Stage(_last_conv(width, 3, act, norm_act)), _max_pool())


STEM_MAKERS = {"imagenet": imagenet_stem, "cifar": cifar_stem, "deep": deep_stem}
STEM_KINDS = tuple(STEM_MAKERS)


def make_stem(kind: str, width: int, act: str = "relu", norm_act: bool = True) -> tuple[Stage, ...]:
    """The stem of one of STEM_KINDS."""
    return STEM_MAKERS[kind](width, act, norm_act)


def read_stem(stem: tuple[Stage, ...]) -> StemLayout:
    """The layout `make_stem` was given for `stem`."""
    convs = [s.block for s in stem if s.block.kind == "conv"]
    kind = "cifar" if len(stem) == 1 else ("imagenet" if len(convs) == 1 else "deep")
    return StemLayout(kind, convs[-1].channels, convs[-1].norm != "none")
