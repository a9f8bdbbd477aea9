"""What a deck's claim measures, computed from a genome's analytic cost (nothing built): totals, the k-th weight
layer's params or output, mult-adds of the conv and FC layers, shares by layer type."""
from __future__ import annotations

import functools

import pandas as pd

from nasbench import zoo
from nasbench.blocks import Shape, Tally
from nasbench.cost import analytic_cost
from nasbench.cost_table import WEIGHT_TYPES, layer_table, type_summary
from nasbench.genome import Genome, trace_body


def genome_of(name_or_genome: str | Genome) -> Genome:
    return zoo.get(name_or_genome) if isinstance(name_or_genome, str) else name_or_genome


@functools.lru_cache(maxsize=64)
def _table(genome: Genome) -> pd.DataFrame:
    return layer_table(genome)


def table(name_or_genome: str | Genome) -> pd.DataFrame:
    return _table(genome_of(name_or_genome))


def params(name_or_genome: str | Genome) -> int:
    return analytic_cost(genome_of(name_or_genome)).params


def weight_layers(name_or_genome: str | Genome) -> pd.DataFrame:
    """The conv and fully connected layers, in order (what decks number as CONV1, FC6, ...)."""
    rows = table(name_or_genome)
    return rows[rows.type.isin(WEIGHT_TYPES)].reset_index(drop=True)


def weight_params(name_or_genome: str | Genome, index: int, bias: bool = True) -> int:
    """Params of the `index`-th weight layer (0-based); bias=False counts its weights alone, as decks often do (a
    conv's weights are its mult-adds per output position)."""
    row = weight_layers(name_or_genome).iloc[index]
    return int(row.params) if bias else int(_weights(weight_layers(name_or_genome).iloc[[index]]).sum())


def stage_outputs(name_or_genome: str | Genome) -> dict[str, Shape]:
    """Each stem and body stage's output shape ("stem[0]", "stages[3]", ...): Inception modules, VGG blocks."""
    genome = genome_of(name_or_genome).resolved()
    t, x, out = Tally(), Shape(genome.in_chans, genome.resolution, genome.resolution), {}
    for part in ("stem", "stages"):
        for i, stage in enumerate(getattr(genome, part)):
            for j in range(stage.depth):
                x = stage.block.cost_with_attn(t, x, stage.stride if j == 0 else 1)
            out[f"{part}[{i}]"] = x
    return out


def shape_text(shape: Shape, order: str = "HWC", sep: str = "x") -> str:
    """A shape in a deck's notation: order HWC ('55x55x96'), CHW ('96x55x55') or HW ('56x56')."""
    dims = {"C": shape.c, "H": shape.h, "W": shape.w}
    return sep.join(str(int(dims[axis])) for axis in order)


def stage_output(name_or_genome: str | Genome, stage: str, order: str = "HWC") -> str:
    return shape_text(stage_outputs(name_or_genome)[stage], order)


def pool_output(name_or_genome: str | Genome, index: int, order: str = "HWC") -> str:
    """The `index`-th pooling layer's output (windowed pools of the body; the head's global pool last)."""
    row = table(name_or_genome).query("type == 'pool'").iloc[index]
    return shape_text(Shape(int(row.channels), int(row.height), int(row.width)), order)


def block_weights(name_or_genome: str | Genome, block: str) -> int:
    """Weights (no biases, no BN) of the conv layers of one block, e.g. an Inception module."""
    return int(_weights(weight_layers(name_or_genome).query("block == @block")).sum())


def deck_memory(name_or_genome: str | Genome) -> int:
    """Elements of the input and of every conv, pool and FC output: what the VGG memory table adds up."""
    genome = genome_of(name_or_genome).resolved()
    rows = table(genome)
    kept = rows[rows.type.isin(WEIGHT_TYPES) | ((rows.type == "pool") & (rows.block != "head"))]
    return genome.in_chans * genome.resolution**2 + int((kept.channels * kept.height * kept.width).sum())


def weight_output(name_or_genome: str | Genome, index: int, order: str = "HWC") -> str:
    """The `index`-th weight layer's output shape as `55x55x96` (order HWC) or `96x55x55` (CHW)."""
    row = weight_layers(name_or_genome).iloc[index]
    return shape_text(Shape(int(row.channels), int(row.height), int(row.width)), order)


def weight_mult_adds(name_or_genome: str | Genome) -> int:
    """Mult-adds of the conv and FC layers (no BN, no pooling), as decks count operations."""
    return int(weight_layers(name_or_genome).flops.sum())


def body_mult_adds(genome: Genome) -> int:
    """FLOPs (mult-adds) of the genome up to its head: a module on its own."""
    t = Tally()
    trace_body(genome.resolved(), t)
    return t.flops


def weight_share(name_or_genome: str | Genome, layer_type: str, column: str = "flops") -> float:
    """A layer type's share in percent of the conv and FC layers' mult-adds ("flops") or params."""
    summary = type_summary(table(name_or_genome)).set_index("type")
    return float(summary.loc[layer_type, f"weight_{column}_share"])


def pool_elements(name_or_genome: str | Genome, index: int) -> int:
    """Elements of the `index`-th pooling layer's output (what the first FC layer reads when it follows)."""
    row = table(name_or_genome).query("type == 'pool'").iloc[index]
    return int(row.channels * row.height * row.width)


def conv_weights(genome: Genome) -> int:
    """Weights (no biases) of a genome's conv layers: their mult-adds per output position."""
    rows = weight_layers(genome)
    return int(_weights(rows[rows.type != "fully connected"]).sum())


def _weights(rows: pd.DataFrame) -> pd.Series:
    """Weights (no biases) of weight layers: a conv's mult-adds per output position, an FC layer's mult-adds."""
    return rows.flops // (rows.height * rows.width)
