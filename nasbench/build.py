"""`build(genome) -> nn.Module`: a pure function of the genome."""
from __future__ import annotations

import os

import torch
from torch import nn

from nasbench.blocks import Tally
from nasbench.genome import Genome, Stage, trace, trace_body


class Network(nn.Module):
    """stem -> stages -> head, each a Sequential of the blocks the genome names."""

    def __init__(self, stem: nn.Sequential, stages: nn.Sequential, head: nn.Module):
        super().__init__()
        self.stem, self.stages, self.head = stem, stages, head

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.head(self.stages(self.stem(x)))


def _build_stage(stage: Stage, in_chans: int) -> tuple[nn.Sequential, int]:
    blocks = []
    for j in range(stage.depth):
        blocks.append(stage.block.build_with_attn(in_chans, stage.stride if j == 0 else 1))
        in_chans = stage.block.out_chans(in_chans)
    return nn.Sequential(*blocks), in_chans


class TooLargeError(ValueError):
    """A genome whose weights alone need more memory than the machine has: refused before anything is allocated."""


def physical_memory() -> int:
    """Bytes of physical memory (POSIX)."""
    return os.sysconf("SC_PHYS_PAGES") * os.sysconf("SC_PAGE_SIZE")


def check_fits(genome: Genome, memory: int | None = None) -> None:
    """TooLargeError when the genome's float32 weights exceed `memory` (default: this machine's physical memory)."""
    tally = Tally()
    trace(genome.resolved(), tally)
    needed, memory = 4 * tally.params, memory or physical_memory()
    if needed > memory:
        raise TooLargeError(f"the genome has {tally.params:,} parameters: {needed / 2**30:,.1f} GiB of float32 "
                            f"weights, more than this machine's {memory / 2**30:,.1f} GiB of memory; make it smaller")


def build(genome: Genome) -> Network:
    """Build the network of a genome, scaling resolved. The genome was validated (shapes included) on creation;
    one whose weights cannot fit in memory is refused (TooLargeError) before anything is allocated."""
    check_fits(genome)
    genome = genome.resolved()

    chans = genome.in_chans
    parts = {}
    for name in ("stem", "stages"):
        modules = []
        for stage in getattr(genome, name):
            module, chans = _build_stage(stage, chans)
            modules.append(module)
        parts[name] = nn.Sequential(*modules)
    features = trace_body(genome, Tally())
    head = genome.head.build(chans, genome.num_classes, (features.h, features.w))
    return Network(parts["stem"], parts["stages"], head)
