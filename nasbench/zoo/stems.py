"""Stems shared by several zoo families."""
from __future__ import annotations

from nasbench.blocks.conv import ConvGene, PoolGene
from nasbench.genome import Stage


def imagenet_stem(channels: int = 64, act: str = "relu") -> tuple[Stage, ...]:
    """7x7/2 conv-BN-act + 3x3/2 max pool (ResNet, DenseNet)."""
    return (Stage(ConvGene(channels=channels, kernel=7, act=act), 1, 2),
            Stage(PoolGene(mode="max", kernel=3, padding=1), 1, 2))


def cifar_stem(channels: int = 16, norm: str = "batch", act: str = "relu") -> tuple[Stage, ...]:
    """One 3x3/1 conv for 32x32 inputs (CIFAR ResNets; WRN uses no norm/act here)."""
    return (Stage(ConvGene(channels=channels, kernel=3, norm=norm, act=act), 1, 1),)
