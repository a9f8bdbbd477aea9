"""Channel selection: pass on chosen channels of the input, in the given order (LeNet-5's C3 connection table is a
`branch` of convs, each on its own selection of S2's maps). No parameters, no FLOPs."""
from __future__ import annotations

import dataclasses
from typing import ClassVar

import torch
from torch import nn

from nasbench.blocks.base import BlockGene, register
from nasbench.blocks.tally import Shape, Tally
from nasbench.gene import GenomeError, gene_field


@register
@dataclasses.dataclass(frozen=True)
class SelectGene(BlockGene):
    """The input channels at `channels` (0-based indices), in that order."""

    kind: ClassVar[str] = "select"
    depth_scalable: ClassVar[bool] = False

    channels: tuple[int, ...] = gene_field((0,), alias="ch", min=0, doc="input channel indices to pass on")

    def check_fields(self, path: str) -> None:
        if not self.channels:
            raise GenomeError(f"{path}.channels", "select at least one channel")
        if len(set(self.channels)) != len(self.channels):
            raise GenomeError(f"{path}.channels", f"{list(self.channels)} names a channel twice")

    def out_chans(self, in_chans: int) -> int:
        return len(self.channels)

    def check(self, in_chans: int, stride: int, path: str) -> None:
        if max(self.channels) >= in_chans:
            raise GenomeError(f"{path}.channels", f"channel {max(self.channels)} of an input of {in_chans} channels")
        if stride != 1:
            raise GenomeError(f"{path}.stride", "a channel selection does not stride; put the stride elsewhere")

    def build(self, in_chans: int, stride: int) -> nn.Module:
        return ChannelSelect(self.channels)

    def cost(self, t: Tally, x: Shape, stride: int) -> Shape:
        return Shape(len(self.channels), x.h, x.w)


class ChannelSelect(nn.Module):
    def __init__(self, channels: tuple[int, ...]):
        super().__init__()
        self.register_buffer("index", torch.tensor(channels, dtype=torch.long), persistent=False)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return x.index_select(1, self.index)
