"""Network in Network's mlpconv layer (Lin et al. 2014): a kxk conv followed by 1x1 convs, each with its activation."""
from __future__ import annotations

import dataclasses
from typing import ClassVar

from torch import nn

from nasbench.blocks.base import ACTIVATIONS, NORMS, BlockGene, register
from nasbench.blocks.layers import ConvNormAct, Dropout, Layer, build_layers, layers_cost
from nasbench.blocks.tally import Shape, Tally
from nasbench.gene import GenomeError, gene_field


@register
@dataclasses.dataclass(frozen=True)
class MlpConvGene(BlockGene):
    """kxk conv (stride) -> norm -> act, then a 1x1 conv -> norm -> act per further width [-> dropout].

    Convs carry a bias exactly when norm is "none" (the paper's network has no normalisation).
    """

    kind: ClassVar[str] = "mlpconv"

    channels: tuple[int, ...] = gene_field((192, 160, 96), alias="c", min=1, width=True,
                                           doc="width of the kxk conv, then of each 1x1 conv")
    kernel: int = gene_field(5, alias="k", min=1, max=31, odd=True, doc="kernel of the first conv")
    padding: int = gene_field(-1, alias="p", min=-1, max=31, doc="padding of the first conv; -1 = kernel // 2")
    norm: str = gene_field("none", choices=NORMS)
    act: str = gene_field("relu", choices=ACTIVATIONS)
    dropout: float = gene_field(0.0, alias="drop", min=0.0, max=0.95,
                                doc="dropout on the output (the paper: 0.5 after all but the last mlpconv)")

    def check_fields(self, path: str) -> None:
        if not self.channels:
            raise GenomeError(f"{path}.channels" if path else "channels", "an mlpconv needs at least one conv width")

    @property
    def pad(self) -> int:
        return self.kernel // 2 if self.padding < 0 else self.padding

    def out_chans(self, in_chans: int) -> int:
        return self.channels[-1]

    def layers(self, stride: int) -> tuple[Layer, ...]:
        first, *rest = self.channels
        layers: list[Layer] = [ConvNormAct(first, self.kernel, stride, self.pad, norm=self.norm, act=self.act)]
        layers += [ConvNormAct(width, 1, norm=self.norm, act=self.act) for width in rest]
        if self.dropout:
            layers.append(Dropout(self.dropout))
        return tuple(layers)

    def build(self, in_chans: int, stride: int) -> nn.Module:
        return build_layers(self.layers(stride), in_chans)

    def cost(self, t: Tally, x: Shape, stride: int) -> Shape:
        return layers_cost(t, x, self.layers(stride))
